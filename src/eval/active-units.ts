/**
 * Active latent units: how many stochastic units carry information about the data.
 *
 * Main definition (thesis `003_…` appendix A fig. 4a and appendix B fig. 4, Sønderby et al. 2016):
 * a unit u is active when its KL term, averaged over a data set,
 *
 *   KL_u = E_x[ KL(q(u | ·) ‖ p(u | ·)) ],
 *
 * exceeds a threshold (default 0.01 nats). A unit whose posterior equals its prior for every x has
 * KL_u = 0: it is collapsed, the decoder gets nothing from it. For the top layer the KL is analytic
 * per unit; below it the model gives an unbiased one-sample estimate (see `Vae.klPerUnit`).
 *
 * Also reported, for comparison with Burda et al. (2016, §5.2): the activity statistic
 * A_u = Cov_x(E_q[u]), the variance over the data set of the unit's posterior mean, with the same
 * threshold (theirs is 10⁻²). Both are computed in one pass.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';

/** The default threshold of an active unit: 0.01 (nats of KL, or of Burda's variance). */
export const ACTIVE_THRESHOLD = 0.01;

/** What {@link activeUnits} needs of a model: per-unit KLs and posterior means, one tensor [B, d_l] per stochastic layer. */
export interface UnitStatsModel {
  klPerUnit(x: tf.Tensor, rng: Rng, y?: ArrayLike<number>): tf.Tensor[];
  posteriorMeans(x: tf.Tensor, y?: ArrayLike<number>): tf.Tensor[];
}

/** Options of {@link activeUnits}. */
export interface ActiveUnitsOptions {
  /** A unit is active when its statistic exceeds this (default 0.01). */
  threshold?: number;
  /** Rows per forward pass (default 500). */
  batchSize?: number;
  /** Noise of the one-sample KL estimates of lower layers (default `new Rng(0)`). */
  rng?: Rng;
  /** Class labels of the rows, for a conditional model. */
  labels?: ArrayLike<number>;
}

/** Activity of one stochastic layer. */
export interface LayerActivity {
  /** Units in the layer. */
  dim: number;
  /** KL_u per unit, nats, averaged over the rows. */
  kl: Float64Array;
  /** Burda's A_u = variance over the rows of the unit's posterior mean. */
  meanVariance: Float64Array;
  /** Units with KL_u > threshold. */
  active: number;
  /** Units with A_u > threshold. */
  activeByVariance: number;
}

/** Result of {@link activeUnits}. */
export interface ActiveUnits {
  threshold: number;
  /** Rows evaluated. */
  n: number;
  /** Bottom layer (z₁) first. */
  layers: LayerActivity[];
  /** Active units (KL definition) over all layers. */
  active: number;
  /** Active units (Burda's covariance definition) over all layers. */
  activeByVariance: number;
}

/**
 * Counts the active units of `model` on the n rows of `x` (n × dim, row-major). Accumulates in
 * double precision on the host; frees every tensor it makes.
 */
export function activeUnits(model: UnitStatsModel, x: Float32Array, dim: number, opts: ActiveUnitsOptions = {}): ActiveUnits {
  const threshold = opts.threshold ?? ACTIVE_THRESHOLD;
  if (!(threshold >= 0)) throw new Error(`activeUnits: threshold must be ≥ 0, got ${threshold}`);
  const n = Math.floor(x.length / dim);
  if (!Number.isInteger(dim) || dim < 1 || n * dim !== x.length || n === 0) throw new Error(`activeUnits: ${x.length} values do not form rows of ${dim}`);
  const batch = opts.batchSize ?? 500;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`activeUnits: batchSize must be an integer ≥ 1, got ${batch}`);
  if (opts.labels && opts.labels.length !== n) throw new Error(`activeUnits: ${opts.labels.length} labels for ${n} rows`);
  const rng = opts.rng ?? new Rng(0);
  let klSum: Float64Array[] = [];
  let mSum: Float64Array[] = [];
  let mSq: Float64Array[] = [];
  for (let s = 0; s < n; s += batch) {
    const b = Math.min(batch, n - s);
    const xb = tf.tensor2d(x.subarray(s * dim, (s + b) * dim), [b, dim]);
    const yb = opts.labels ? Array.from({ length: b }, (_, i) => opts.labels![s + i]) : undefined;
    const kls = model.klPerUnit(xb, rng, yb);
    const means = model.posteriorMeans(xb, yb);
    xb.dispose();
    if (s === 0) {
      klSum = kls.map((t) => new Float64Array(t.shape[1] ?? 1));
      mSum = means.map((t) => new Float64Array(t.shape[1] ?? 1));
      mSq = means.map((t) => new Float64Array(t.shape[1] ?? 1));
    }
    kls.forEach((t, l) => {
      const v = t.dataSync();
      const d = klSum[l].length;
      for (let i = 0; i < v.length; i++) klSum[l][i % d] += v[i];
    });
    means.forEach((t, l) => {
      const v = t.dataSync();
      const d = mSum[l].length;
      for (let i = 0; i < v.length; i++) {
        mSum[l][i % d] += v[i];
        mSq[l][i % d] += v[i] * v[i];
      }
    });
    tf.dispose([...kls, ...means]);
  }
  const layers: LayerActivity[] = klSum.map((ks, l) => {
    const kl = ks.map((v) => v / n);
    const meanVariance = mSum[l].map((v, i) => Math.max(0, mSq[l][i] / n - (v / n) ** 2));
    return {
      dim: ks.length,
      kl,
      meanVariance,
      active: kl.reduce((c, v) => c + (v > threshold ? 1 : 0), 0),
      activeByVariance: meanVariance.reduce((c, v) => c + (v > threshold ? 1 : 0), 0),
    };
  });
  return {
    threshold,
    n,
    layers,
    active: layers.reduce((c, l) => c + l.active, 0),
    activeByVariance: layers.reduce((c, l) => c + l.activeByVariance, 0),
  };
}
