/**
 * The semi²-supervised deep generative model of Gemp et al. (`000_…` §3, eqs 1–17, Algorithm 1,
 * appendix A.1 eq 20; `002_…` §2–3 and appendices A–B): a forward model p(y) p(z) p(x | y, z) and a
 * reverse model q(x) q(y | x) q(z | x, y) that share their networks — the recognition model of
 * each is the generative model of the other — trained from three sources at once.
 *
 * Spaces: y on the simplex (prior Dir(1), eq 1; q(y | x) the additive logistic normal, eq 17 with a
 * proper density, see `dists/flows.ts`), discrete one-hot (uniform prior; q(y | x) Concrete for
 * samples, `002_…` §2), or real, y ∈ ℝ^m (`labels: 'real'`, m = `classes` ≥ 1 target columns such
 * as an octane number; the papers have no such space — see "Real labels" below); z on the box [lo, hi]^d (uniform prior, eq 2; q(z | x, y) a Gaussian through
 * the logistic flow, `002_…` appendix A) or, with `zPrior: 'normal'`, M2's N(0, I) prior and a
 * Gaussian q(z | x, y) (so that M2 is this model with α_r = 0: `models/m2-equivalence.test.ts`);
 * x Gaussian or Bernoulli; q(x) = U(−γ, γ)^D (eq 4), a constant −D·log 2γ.
 *
 * Bounds, per example (each returned by its own method; the model runs the networks and returns
 * their log-densities — `forwardTerms`, `unlabelledTerms`, `reverseLabelledTerms`,
 * `unfeaturedTerms` — and the units of `objectives/semi2.ts` form every bound and loss from them):
 * - (7)  labelled, forward:  E_q(z|x,y)[log p(x|y,z) − log q(z|x,y) + log p(y) + log p(z)]
 * - (8)  unlabelled x:       E_q(y,z|x)[log p(x|y,z) − log q(y|x) − log q(z|x,y) + log p(y) + log p(z)]
 * - (9)  labelled, reverse:  E_p(z)[log q(y|x) + log q(z|x,y) − log p(z) + log q(x)]   (off by default)
 * - (10) unfeatured y:       E_p(z)p(x|y,z)[log q(y|x) + log q(z|x,y) − log p(z) − log p(x|y,z) + log q(x)]
 * - (20) unfeatured (y, z):  E_p(x|y,z)[log q(y|x) + log q(z|x,y) − log p(x|y,z) + log q(x)]
 * and the discriminative losses (13) L(ȳ, y), ȳ the mean of q(y | x), and (14) ‖x̄ − x‖², x̄ the
 * mean of p(x | y, z), z ~ p(z). The objective (15) J = α_f J_f − α_f^d J_f^d + α_r J_r − α_r^d J_r^d
 * is maximised; {@link Semi2Dgm.loss} returns −J with per-source batch means (`semi2Loss`).
 *
 * Choices where the papers are silent or loose (written down here, as the issue asks):
 * - x ~ p(x | y, z) in (10)/(20) is reparameterised for Gaussian x. For Bernoulli x it is a binary
 *   draw, treated as a constant, as the reference implementation does (its Bernoulli sample layer).
 *   With the mean image in its place, −log p(x̄ | y, z) would be the decoder's entropy and would
 *   push it towards blur; with a draw, that term has zero expected gradient, and the reverse bound
 *   trains q(y | x) and q(z | x, y) on generated inputs.
 * - Discrete y in (8): one Concrete sample feeds q(z | x, y) and p(x | y, z), and the y-terms
 *   E_q[log p(y) − log q(y|x)] are taken in closed form as −KL(Cat(q) ‖ Uniform) — or, with
 *   `yEstimator: 'enumerate'`, the sum over the K classes is exact (one K× batch).
 * - Importance weights ({@link Semi2Dgm.logWeights}) give IWAE(k) and the IW log-likelihood of
 *   log p(x, y) and log p(x) (y summed exactly when discrete).
 * - Observed discrete y (labelled, unfeatured): log q(y | x) is the categorical log-probability.
 * - The "mean" of the logistic normal, used for ȳ, is softmax([μ, 0]) (it has no closed-form mean).
 *
 * Real labels (`labels: 'real'`; the papers are silent, so everything here is this library's choice):
 * - p(y) = N(μ, diag σ²), μ and σ (per column, in the targets' own units) fitted on the labelled y
 *   (mean and sd with n − 1) and kept in the config as `yPrior` (so in every saved model); the
 *   estimator fits them before training when the config has none ({@link Semi2Dgm.setYPrior}).
 * - Standardisation: the networks see u = (y − μ)/σ, never y itself — q(z | x, y) and p(x | y, z)
 *   read u, and q(y | x)'s Gaussian head gives N(m(x), diag s(x)²) over u. In y's units
 *   q(y | x) = N(μ + σ m(x), diag (σ s(x))²). Every public input and output (labels given to a
 *   bound, `predict`, `sampleY`, `generate`) is in y's units; every log-density is of y (it carries
 *   the Jacobian −Σ_k log σ_k), so log p(x, y) is comparable across runs with the same targets.
 * - Bound (8): one reparameterised y ~ q(y | x), as for the simplex (log p(y) − log q(y | x) at the
 *   draw; the Jacobians cancel).
 * - Loss (13): L of a point mass y against q(y | x). KL(δ_y ‖ q) is the cross-entropy up to the
 *   (infinite) constant entropy of δ_y, so `yLoss` `kl` (the default) and `ce` both give
 *   −log N(u; m(x), diag s(x)²), in standardised units — the analogue of M2's α·log q(y | x)
 *   (thesis `003_…` eq 4.10); it trains the sd of q(y | x) as well as its mean, so `predict`'s sd
 *   is learnt. `l2` gives Σ_k (m_k(x) − u_k)² (the squared error of the standardised mean), as does
 *   the deterministic mode.
 *
 * Deterministic mode (`variational: false`), the reference implementation's non-variational
 * objective (its `M2_x` / `M2_y` "nonvar" terms, read in `imgemp/untapped`, `untapped/M12.py`): every
 * distribution collapses to its point estimate (ȳ, the median z̄ of q(z | x, y), x̄ the mean of
 * p(x | y, z)) and the bounds become reconstruction errors. Unlabelled x: ‖x̄(ȳ(x), z̄(x, ȳ)) − x‖²
 * (Bernoulli x: the cross-entropy), weighted α_f; unfeatured y: L(ȳ(x̄(y, z)), y) with z observed
 * or drawn from p(z), weighted α_r; labelled pairs: the discriminative losses (13)–(14) only (the
 * reference zeroes its supervised bounds in this mode so as not to count them twice).
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Rng } from '../engine/rng.js';
import { ParamStore, withFrozen, withGradientScale } from '../nn/params.js';
import { ACTIVATIONS, Dense, Mlp } from '../nn/layers.js';
import { applyHead, BernoulliHead, DEFAULT_MIN_SCALE, GaussianHead } from '../nn/heads.js';
import { Normal } from '../dists/normal.js';
import { Concrete } from '../dists/concrete.js';
import { BoxNormal, LogisticNormal, logGamma } from '../dists/flows.js';
import { enumerateClasses, enumeratedLabels } from '../objectives/enumerate.js';
import {
  forwardLabelledBound,
  forwardUnlabelledBound,
  inputLoss,
  predictedLoss,
  reconstructionLoss,
  reverseLabelledBound,
  semi2EnumeratedLogWeights,
  semi2LabelledLogWeights,
  semi2Loss,
  semi2PointLoss,
  semi2SampledLogWeights,
  unfeaturedBound,
  type Semi2ForwardTerms,
  type Semi2Predicted,
  type Semi2ReverseLabelledTerms,
  type Semi2UnfeaturedTerms,
  type Semi2UnlabelledTerms,
  type Semi2Weights,
} from '../objectives/semi2.js';

/** The fields of {@link Semi2ConfigSchema}, before its cross-field check (for `.omit` / `.extend`). */
export const Semi2ConfigShape = z
  .object({
    type: z.literal('untapped'),
    /** Label space: compositions on the simplex, one-hot classes, or real-valued targets ℝ^m. */
    labels: z.enum(['simplex', 'discrete', 'real']).default('simplex'),
    /** Components of y (minerals or classes, ≥ 2), or the number m ≥ 1 of real targets (`labels: 'real'`). */
    classes: z.number().int().min(1).default(3),
    /**
     * Real labels: the prior p(y) = N(mean, diag sd²), per target column in the targets' units; the
     * networks see (y − mean)/sd. Filled in by the estimator from the labelled y before training when
     * absent (see the module doc). Ignored for simplex and discrete labels.
     */
    yPrior: z.object({ mean: z.array(z.number()), sd: z.array(z.number().positive()) }).strict().optional(),
    /** Dimension of the nuisance z. */
    latent: z.number().int().min(1).default(1),
    /**
     * The prior of z and the form of q(z | x, y): `box` (default, the papers' choice, `000_…` eq 2):
     * p(z) = U(lo, hi)^d and q(z | x, y) a Gaussian through the logistic flow onto the box; `normal`:
     * p(z) = N(0, I) and q(z | x, y) a diagonal Gaussian, M2's (thesis `003_…` eqs 4.2, 4.5). With
     * `normal`, discrete labels, `yEstimator: 'enumerate'`, α_r = α_r^d = 0, `yLoss: 'ce'` and
     * α_f^d = α, the objective (15) is J^α of M2 (thesis eq 4.10) for the same networks.
     */
    zPrior: z.enum(['box', 'normal']).default('box'),
    /** The box of z: [lo, hi] in every dimension (`zPrior: 'box'`; ignored for `normal`). */
    box: z.tuple([z.number(), z.number()]).default([-1.5, 1.5]),
    /** Hidden widths of x → y, (x, y) → z and (y, z) → x (defaults: the CRISM setup, `000_…` A.2.2). */
    hidden: z
      .object({ qy: z.array(z.number().int().min(1)).default([5]), qz: z.array(z.number().int().min(1)).default([5]), px: z.array(z.number().int().min(1)).default([20]) })
      .strict()
      .default({ qy: [5], qz: [5], px: [20] }),
    activation: z.enum(ACTIVATIONS).default('tanh'),
    likelihood: z.enum(['gaussian', 'bernoulli']).default('gaussian'),
    /** Concrete temperature (discrete labels). */
    temperature: z.number().positive().default(0.5),
    /**
     * Discrete labels: how bound (8) sums over y — one reparameterised Concrete sample (`concrete`,
     * the papers' choice and the default) or exactly, by enumerating the K classes in one K× batch
     * (`enumerate`, thesis `003_…` eq 4.8 via `objectives/enumerate.ts`). Ignored for simplex labels.
     */
    yEstimator: z.enum(['concrete', 'enumerate']).default('concrete'),
    /** Half-width γ of the uniform q(x) = U(−γ, γ). */
    qxGamma: z.number().positive().default(1000),
    minScale: z.number().min(0).default(DEFAULT_MIN_SCALE),
    /**
     * false: the reference's non-variational mode, the limit of zero posterior variance and flat
     * priors, trained as a pair of autoencoders (see {@link Semi2Dgm.loss}). Default true.
     */
    variational: z.boolean().default(true),
    /**
     * 0 (default): q(y | x) reads x. k > 0: q(y | x) reads E[s | x], the posterior mean of a
     * k-component probabilistic PCA of the training inputs (labelled and unlabelled; `eval/ppca.ts`),
     * set with {@link Semi2Dgm.setQyProjection} before training and saved with the model. The other
     * networks read x.
     */
    qyComponents: z.number().int().min(0).default(0),
    inputDim: z.number().int().min(1).optional(),
  })
  .strict();

/** Checks that the box of z is [lo, hi] with lo < hi. */
export const boxIsOrdered = (c: { box: [number, number] }): boolean => c.box[1] > c.box[0];

/** Checks that simplex and discrete labels have at least 2 components (a real target may have 1). */
export const classesFitLabels = (c: { labels?: string; classes?: number }): boolean => c.labels === 'real' || c.classes === undefined || c.classes >= 2;

/** Checks that a real-label prior has one mean and one sd per target column. */
export const yPriorFitsClasses = (c: { classes?: number; yPrior?: { mean: number[]; sd: number[] } | undefined }): boolean =>
  !c.yPrior || (c.yPrior.mean.length === c.yPrior.sd.length && (c.classes === undefined || c.yPrior.mean.length === c.classes));

/** Schema of the semi²-supervised model's configuration. */
export const Semi2ConfigSchema = Semi2ConfigShape.refine(boxIsOrdered, { message: 'box must be [lo, hi] with lo < hi', path: ['box'] })
  .refine(classesFitLabels, { message: 'simplex and discrete labels need at least 2 components or classes', path: ['classes'] })
  .refine(yPriorFitsClasses, { message: 'yPrior needs one mean and one sd per target column (classes)', path: ['yPrior'] });

/** A semi²-supervised model configuration after defaults. */
export type Semi2Config = z.infer<typeof Semi2ConfigSchema>;

/** Weights of eq 15 and the discriminative losses (defined with the objective, `objectives/semi2.ts`). */
export type { Semi2Weights } from '../objectives/semi2.js';

/** One training batch from the three sources (each optional). */
export interface Semi2Batch {
  labelled?: { x: tf.Tensor; y: tf.Tensor };
  unlabelled?: { x: tf.Tensor };
  /** Unfeatured labels; with `z`, bound (20) (z observed), otherwise (10). */
  unfeatured?: { y: tf.Tensor; z?: tf.Tensor };
}

const EPS = 1e-6;

/** A binary draw from Bernoulli(probs) as a new constant tensor (no path back to `probs`). */
function constantDraw(probs: tf.Tensor, rng: Rng): tf.Tensor {
  const u = rng.uniform(probs.shape);
  const bits = tf.tidy(() => tf.cast(tf.less(u, probs), 'float32').dataSync() as Float32Array);
  u.dispose();
  return tf.tensor(bits, probs.shape, 'float32');
}

/** The semi²-supervised model (see the module doc). */
export class Semi2Dgm {
  readonly params = new ParamStore();
  readonly config: Semi2Config & { inputDim: number };
  private readonly qyNet: Mlp;
  private readonly qyGauss?: GaussianHead;
  private readonly qyLogits?: Dense;
  /** q(u | x) over standardised real labels u = (y − μ)/σ (real labels). */
  private readonly qyReal?: GaussianHead;
  /** μ and σ of the real labels' prior, [K] each (real labels; null until set). */
  private yStd: { mu: tf.Tensor1D; sigma: tf.Tensor1D } | null = null;
  private readonly qzNet: Mlp;
  private readonly qzHead: GaussianHead;
  private readonly pxNet: Mlp;
  private readonly pxHead: GaussianHead | BernoulliHead;
  /** The weights of q(y | x) and q(z | x, y) (fixed once the networks are built). */
  private readonly qVars: tf.Variable[];
  /** The weights of q(y | x) alone. */
  private readonly qyVars: tf.Variable[];
  /** The first-layer weights of q(y | x) (those that read its input) and their fan-in, for {@link Semi2Weights.qyPrior}. */
  private readonly qyFirstW: tf.Variable;
  private readonly qyFanIn: number;
  /** x ↦ (x − mean) P, the input of q(y | x) when `qyComponents` > 0 (constants, not trained). */
  private qyProj: { mean: tf.Tensor1D; P: tf.Tensor2D } | null = null;

  constructor(config: Semi2Config, rng: Rng) {
    if (config.inputDim === undefined) throw new Error('untapped model: config.inputDim is required (it is filled in from the data)');
    this.config = { ...config, inputDim: config.inputDim };
    const { inputDim: D, classes: K, latent: Z, hidden, activation: act, minScale } = this.config;
    const ps = this.params;
    const kq = this.config.qyComponents ?? 0;
    if (kq > D) throw new Error(`untapped model: qyComponents ${kq} exceeds the input width ${D}`);
    this.qyNet = new Mlp(ps, 'qy', kq > 0 ? kq : D, hidden.qy, rng, act);
    if (config.labels === 'simplex') this.qyGauss = new GaussianHead(ps, 'qy.u', this.qyNet.outDim, K - 1, rng, minScale);
    else if (config.labels === 'real') this.qyReal = new GaussianHead(ps, 'qy.y', this.qyNet.outDim, K, rng, minScale);
    else this.qyLogits = new Dense(ps, 'qy.logits', this.qyNet.outDim, K, rng, 'linear');
    this.qzNet = new Mlp(ps, 'qz', D + K, hidden.qz, rng, act);
    this.qzHead = new GaussianHead(ps, 'qz.zt', this.qzNet.outDim, Z, rng, minScale);
    this.pxNet = new Mlp(ps, 'px', K + Z, hidden.px, rng, act);
    this.pxHead = config.likelihood === 'gaussian' ? new GaussianHead(ps, 'px.x', this.pxNet.outDim, D, rng, minScale) : new BernoulliHead(ps, 'px.x', this.pxNet.outDim, D, rng);
    this.qVars = ps.entries().flatMap(([name, v]) => (name.startsWith('qy.') || name.startsWith('qz.') ? [v] : []));
    this.qyVars = ps.entries().flatMap(([name, v]) => (name.startsWith('qy.') ? [v] : []));
    this.qyFanIn = this.qyNet.inDim;
    this.qyFirstW = hidden.qy.length ? this.qyNet.layers[0].W : ps.get({ simplex: 'qy.u.W', real: 'qy.y.W', discrete: 'qy.logits.W' }[config.labels]);
    if (config.labels === 'real' && config.yPrior) this.setYPrior(config.yPrior.mean, config.yPrior.sd);
  }

  /**
   * Sets the prior of real labels, p(y) = N(mean, diag sd²) (one value per target column, in the
   * targets' units), by which the networks' label inputs and outputs are standardised; kept in
   * `config.yPrior` (so saved with the model). Set it before training: the networks learn on its scale.
   * @throws for a model without real labels, wrong lengths, non-finite means or sds ≤ 0.
   */
  setYPrior(mean: ArrayLike<number>, sd: ArrayLike<number>): void {
    const K = this.config.classes;
    if (this.config.labels !== 'real') throw new Error(`setYPrior: this model has ${this.config.labels} labels; a Gaussian prior is for real labels`);
    if (mean.length !== K || sd.length !== K) throw new Error(`setYPrior: need ${K} means and ${K} sds (one per target column), got ${mean.length} and ${sd.length}`);
    for (let k = 0; k < K; k++) {
      if (!Number.isFinite(mean[k])) throw new Error(`setYPrior: the mean of target ${k} is ${mean[k]}`);
      if (!(sd[k] > 0 && Number.isFinite(sd[k]))) throw new Error(`setYPrior: the sd of target ${k} is ${sd[k]}; it must be a finite number > 0 (a target with one distinct value cannot be learnt)`);
    }
    this.yStd?.mu.dispose();
    this.yStd?.sigma.dispose();
    this.yStd = { mu: tf.tensor1d(Float32Array.from(mean)), sigma: tf.tensor1d(Float32Array.from(sd)) };
    this.config.yPrior = { mean: Array.from(mean), sd: Array.from(sd) };
  }

  /** μ and σ of the real labels' prior (tensors owned by the model). @throws when not set. */
  private yScale(): { mu: tf.Tensor1D; sigma: tf.Tensor1D } {
    if (!this.yStd) throw new Error("untapped model: real labels need the prior's mean and sd (config.yPrior, or setYPrior; the estimator fits them on the labelled y)");
    return this.yStd;
  }

  /** What the networks read of labels y [N, K]: y itself, or u = (y − μ)/σ for real labels. */
  private netY(y: tf.Tensor): tf.Tensor {
    if (this.config.labels !== 'real') return y;
    const { mu, sigma } = this.yScale();
    return tf.tidy(() => tf.div(tf.sub(y, mu), sigma));
  }

  // ---- the shared networks --------------------------------------------------------------------

  /**
   * Sets the input map of q(y | x), x ↦ (x − mean) P, for a model with `qyComponents` = k > 0:
   * `mean` of length D, `P` D × k row-major (e.g. `ppcaPosteriorMap` of `eval/ppca.ts`). Replaces
   * any earlier map.
   * @throws on wrong lengths or non-finite values, or when the model has `qyComponents` = 0.
   */
  setQyProjection(mean: ArrayLike<number>, P: ArrayLike<number>): void {
    const { inputDim: D, qyComponents: k } = this.config;
    if (!k) throw new Error('setQyProjection: this model has qyComponents = 0 (q(y | x) reads x)');
    if (mean.length !== D || P.length !== D * k) throw new Error(`setQyProjection: need a mean of ${D} and a ${D} × ${k} map, got ${mean.length} and ${P.length} values`);
    for (const a of [mean, P]) for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw new Error(`setQyProjection: value ${i} is ${a[i]}`);
    this.qyProj?.mean.dispose();
    this.qyProj?.P.dispose();
    this.qyProj = { mean: tf.tensor1d(Float32Array.from(mean)), P: tf.tensor2d(Float32Array.from(P), [D, k]) };
  }

  /** The input map of q(y | x) (copies), or null when q(y | x) reads x. */
  qyProjection(): { mean: Float32Array; P: Float32Array } | null {
    if (!this.qyProj) return null;
    return { mean: Float32Array.from(this.qyProj.mean.dataSync()), P: Float32Array.from(this.qyProj.P.dataSync()) };
  }

  /** What q(y | x) reads: x, or (x − mean) P with the projection. */
  private qyIn(x: tf.Tensor): tf.Tensor {
    if (!this.config.qyComponents) return x;
    if (!this.qyProj) throw new Error('untapped model: qyComponents > 0 but no projection set (setQyProjection; the estimator sets it when fitting)');
    const { mean, P } = this.qyProj;
    return tf.tidy(() => tf.matMul(tf.sub(x, mean), P));
  }

  /** q(y | x) as a logistic normal (simplex labels). */
  private qySimplex(x: tf.Tensor): LogisticNormal {
    return new LogisticNormal(applyHead(this.qyNet, this.qyGauss!, [this.qyIn(x)]));
  }

  /** q(u | x) over standardised labels u = (y − μ)/σ (real labels): N(m(x), diag s(x)²). */
  private qyStandard(x: tf.Tensor): Normal {
    return applyHead(this.qyNet, this.qyReal!, [this.qyIn(x)]);
  }

  /** q(y | x) in the targets' units (real labels): N(μ + σ m(x), diag (σ s(x))²). */
  private qyRealOf(x: tf.Tensor): Normal {
    const { mu, sigma } = this.yScale();
    const q = this.qyStandard(x);
    return new Normal(tf.add(mu, tf.mul(sigma, q.loc)), tf.mul(sigma, q.stddev()));
  }

  /** q(y | x) with a reparameterised sampler: the logistic normal (simplex) or the Gaussian (real). */
  private qyContinuous(x: tf.Tensor): { rsample(rng: Rng, n?: number): tf.Tensor; logProb(y: tf.Tensor): tf.Tensor } {
    if (this.config.labels === 'real') return this.qyRealOf(x);
    const q = this.qySimplex(x);
    return { rsample: (rng, n) => q.rsample(rng, n), logProb: (y) => q.logProb(tf.clipByValue(y, EPS, 1)) };
  }

  /**
   * ȳ beside y for loss (13), as `objectives/semi2.ts` {@link Semi2Predicted} wants them: the mean of
   * q(y | x) and y for simplex and discrete labels; for real labels both standardised, with the sd
   * of q(u | x) (left out in the deterministic mode, whose loss is then the squared error).
   */
  private predictedOf(x: tf.Tensor, y: tf.Tensor): Semi2Predicted {
    if (this.config.labels !== 'real') return { yBar: this.predict(x), y };
    const q = this.qyStandard(x);
    return { yBar: q.loc, y: this.netY(y), real: this.config.variational ? { sd: q.stddev() } : {} };
  }

  /** Logits of q(y | x) (discrete labels). */
  private qyLogitsOf(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.qyLogits!.apply(this.qyNet.apply(this.qyIn(x))));
  }

  /** log q(y | x) of observed labels y [B, K]. */
  logQy(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (this.config.labels === 'simplex') return this.qySimplex(x).logProb(tf.clipByValue(y, EPS, 1));
      if (this.config.labels === 'real') return this.qyRealOf(x).logProb(y);
      return tf.sum(tf.mul(y, tf.logSoftmax(this.qyLogitsOf(x))), -1);
    });
  }

  /** ȳ, the mean of q(y | x) (softmax([μ, 0]) for the logistic normal; μ + σ m(x) for real labels, in their units), [B, K]. */
  predict(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (this.config.labels === 'discrete') return tf.softmax(this.qyLogitsOf(x));
      if (this.config.labels === 'real') return this.qyRealOf(x).mean();
      const mu = applyHead(this.qyNet, this.qyGauss!, [this.qyIn(x)]).mean();
      return tf.softmax(tf.concat([mu, tf.zeros([mu.shape[0], 1])], -1));
    });
  }

  /** `n` draws of y ~ q(y | x) (Concrete draws for discrete labels; real labels in their units), [n, B, K]. */
  sampleY(x: tf.Tensor, n: number, rng: Rng): tf.Tensor {
    return tf.tidy(() => {
      if (this.config.labels !== 'discrete') return this.qyContinuous(x).rsample(rng, n);
      const logits = this.qyLogitsOf(x);
      return tf.stack(Array.from({ length: n }, () => new Concrete(logits, this.config.temperature).rsample(rng)));
    });
  }

  /** The median of q(z | x, y), [B, d]: the flow applied to the Gaussian's mean (box), or the mean (normal). */
  encodeMedian(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const q = this.qz(x, y);
      if (q instanceof Normal) return q.mean();
      const [lo, hi] = this.config.box;
      return tf.add(tf.mul(tf.sigmoid(q.base.mean()), hi - lo), lo);
    });
  }

  /** q(z | x, y): a Gaussian through the logistic flow onto the box (`zPrior: 'box'`), or a diagonal Gaussian (`normal`). */
  qz(x: tf.Tensor, y: tf.Tensor): BoxNormal | Normal {
    const base = applyHead(this.qzNet, this.qzHead, [x, this.netY(y)]);
    return this.config.zPrior === 'normal' ? base : new BoxNormal(base, this.config.box[0], this.config.box[1]);
  }

  /** One reparameterised z ~ q(z | x, y) per row and log q(z | x, y) of it. */
  private drawZ(x: tf.Tensor, y: tf.Tensor, rng: Rng): { z: tf.Tensor; logProb: tf.Tensor } {
    const q = this.qz(x, y);
    if (q instanceof BoxNormal) return q.rsampleWithLogProb(rng);
    const zz = q.rsample(rng);
    return { z: zz, logProb: q.logProb(zz) };
  }

  /** The centre of p(z): the middle of the box, or 0 (normal); where `generate` puts z by default. */
  zCentre(): number {
    return this.config.zPrior === 'normal' ? 0 : (this.config.box[0] + this.config.box[1]) / 2;
  }

  /**
   * n·d draws from p(z) as numbers (row-major [n, d]): for the box, kept a hair inside it (the flow's
   * inverse is infinite on the edge); for the normal prior, standard normal draws.
   */
  fillPriorZ(rng: Rng, n: number): Float32Array {
    const out = new Float32Array(n * this.config.latent);
    if (this.config.zPrior === 'normal') return rng.fillNormal(out);
    const [lo, hi] = this.config.box;
    const margin = (hi - lo) * 1e-4;
    return rng.fillUniform(out, lo + margin, hi - margin);
  }

  /** z kept where q(z | x, y) has a finite density: clipped a hair inside the box, or as it is (normal). */
  private inside(zz: tf.Tensor): tf.Tensor {
    return this.config.zPrior === 'normal' ? zz : tf.clipByValue(zz, this.config.box[0] + EPS, this.config.box[1] - EPS);
  }

  /** p(x | y, z). */
  px(y: tf.Tensor, zz: tf.Tensor): { logProb(x: tf.Tensor): tf.Tensor; mean(): tf.Tensor; rsample?: (rng: Rng) => tf.Tensor } {
    return applyHead<unknown>(this.pxNet, this.pxHead, [this.netY(y), zz]) as { logProb(x: tf.Tensor): tf.Tensor; mean(): tf.Tensor; rsample?: (rng: Rng) => tf.Tensor };
  }

  /** Mean of p(x | y, z): the generated spectrum or image for labels y [B, K] and nuisances z [B, d]. */
  generate(y: tf.Tensor, zz: tf.Tensor): tf.Tensor {
    this.checkY(y, 'generate: y');
    this.checkZ(zz, 'generate: z');
    return tf.tidy(() => this.px(y, zz).mean());
  }

  /**
   * log p(y): log Γ(K) for Dir(1), −log K for the uniform categorical.
   * @throws Error for real labels, whose log p(y) depends on y ({@link logPy}).
   */
  logPriorY(): number {
    const K = this.config.classes;
    if (this.config.labels === 'real') throw new Error('logPriorY: the Gaussian prior of real labels is not constant; use logPy(y)');
    return this.config.labels === 'simplex' ? logGamma(K) : -Math.log(K);
  }

  /**
   * log p(y) per row of labels y [N, K]: the constant of Dir(1) or the uniform categorical, or for
   * real labels log N(y; μ, diag σ²) = −½ Σ_k [((y_k − μ_k)/σ_k)² + log 2π] − Σ_k log σ_k, [N].
   */
  logPy(y: tf.Tensor): number | tf.Tensor {
    if (this.config.labels !== 'real') return this.logPriorY();
    const { mu, sigma } = this.yScale();
    return tf.tidy(() => new Normal(mu, sigma).logProb(y));
  }

  /** n draws y ~ p(y) (real labels: N(μ, diag σ²) in the targets' units), [n, K]. @throws for other labels. */
  samplePriorY(n: number, rng: Rng): tf.Tensor {
    if (this.config.labels !== 'real') throw new Error('samplePriorY: drawing from p(y) is implemented for real labels');
    const { mu, sigma } = this.yScale();
    return tf.tidy(() => tf.add(mu, tf.mul(sigma, rng.normal([n, this.config.classes]))));
  }

  /**
   * log p(z) = −d·log(hi − lo) on the box (a constant).
   * @throws Error for `zPrior: 'normal'`, whose log p(z) depends on z ({@link logPz}).
   */
  logPriorZ(): number {
    if (this.config.zPrior === 'normal') throw new Error('logPriorZ: the normal prior of z is not constant; use logPz(z)');
    const [lo, hi] = this.config.box;
    return -this.config.latent * Math.log(hi - lo);
  }

  /** log p(z) per row of z [N, d]: the constant of the box, or log N(z; 0, I) [N] (normal). */
  logPz(zz: tf.Tensor): number | tf.Tensor {
    if (this.config.zPrior !== 'normal') return this.logPriorZ();
    return tf.tidy(() => new Normal(tf.zeros([this.config.latent]), tf.ones([this.config.latent])).logProb(zz));
  }

  /** log q(x) = −D·log 2γ. */
  logQx(): number {
    return -this.config.inputDim * Math.log(2 * this.config.qxGamma);
  }

  /** z ~ p(z), [n, d]: U(lo, hi)^d (box) or N(0, I) (normal). */
  samplePriorZ(n: number, rng: Rng): tf.Tensor {
    if (this.config.zPrior === 'normal') return rng.normal([n, this.config.latent]);
    const [lo, hi] = this.config.box;
    return rng.uniform([n, this.config.latent], lo, hi);
  }

  // ---- log-terms (the networks run here; objectives/semi2.ts forms the bounds) -----------------

  /**
   * The terms of bound (7) for pairs x [N, D], y [N, K]: one z ~ q(z | x, y) per row, log q(z | x, y)
   * of it, log p(x | y, z), and the constant priors log p(y), log p(z). Labels are not checked
   * here (the bound methods check them).
   */
  forwardTerms(x: tf.Tensor, y: tf.Tensor, rng: Rng): Semi2ForwardTerms {
    return tf.tidy(() => {
      const { z: zz, logProb: logQz } = this.drawZ(x, y, rng);
      return { logPx: this.px(y, zz).logProb(x), logQz, logPy: this.logPy(y), logPz: this.logPz(zz) };
    });
  }

  /**
   * The terms of bound (8) for x [N, D], by label space and estimator: simplex labels, one
   * reparameterised y ~ q(y | x) and log q(y | x) of it (`sample`); discrete labels, one Concrete
   * ỹ and q's logits (`concrete`), or the terms of (7) for all K classes, one K× batch (`enumerate`).
   */
  unlabelledTerms(x: tf.Tensor, rng: Rng): Semi2UnlabelledTerms {
    return tf.tidy(() => {
      if (this.config.labels === 'discrete' && this.config.yEstimator === 'enumerate') {
        const { y: yk, tiled } = enumerateClasses(this.config.classes, [x]);
        const qyLogits = this.qyLogitsOf(x);
        return { estimator: 'enumerate' as const, qyLogits, perClass: this.forwardTerms(tiled[0], yk, rng) };
      }
      if (this.config.labels !== 'discrete') {
        const q = this.qyContinuous(x);
        const y = q.rsample(rng);
        const logQy = q.logProb(y);
        return { estimator: 'sample' as const, logQy, atSample: this.forwardTerms(x, y, rng) };
      }
      const qyLogits = this.qyLogitsOf(x);
      const y = new Concrete(qyLogits, this.config.temperature).rsample(rng);
      const { logPx, logQz, logPz } = this.forwardTerms(x, y, rng);
      return { estimator: 'concrete' as const, qyLogits, atSample: { logPx, logQz, logPz } };
    });
  }

  /**
   * The terms of bound (9) for pairs x [N, D], y [N, K]: one z ~ p(z) per row (clipped inside the
   * box), log q(y | x), log q(z | x, y) at that z, and the constants log p(z), log q(x).
   */
  reverseLabelledTerms(x: tf.Tensor, y: tf.Tensor, rng: Rng): Semi2ReverseLabelledTerms {
    return tf.tidy(() => {
      const zz = this.inside(this.samplePriorZ(x.shape[0], rng));
      return { logQy: this.logQy(x, y), logQz: this.qz(x, y).logProb(zz), logPz: this.logPz(zz), logQx: this.logQx() };
    });
  }

  /**
   * The terms of bound (20) for labels y [N, K] with observed z [N, d], or of bound (10) with
   * z ~ p(z) (then with log p(z)): one x ~ p(x | y, z) per row — reparameterised (Gaussian) or a
   * constant binary draw (Bernoulli) — log q(y | x), log q(z | x, y) (z clipped inside the box),
   * log p(x | y, z) and log q(x). Inputs are not checked here (the bound methods check them).
   */
  unfeaturedTerms(y: tf.Tensor, rng: Rng, zObserved?: tf.Tensor): Semi2UnfeaturedTerms {
    return tf.tidy(() => {
      const zz = zObserved ?? this.samplePriorZ(y.shape[0], rng);
      const p = this.px(y, zz);
      const x = this.config.likelihood === 'gaussian' ? (p as unknown as Normal).rsample(rng) : constantDraw(p.mean(), rng);
      const logQy = this.logQy(x, y);
      const logQz = this.qz(x, y).logProb(this.inside(zz));
      const terms = { logQy, logQz, logPx: p.logProb(x), logQx: this.logQx() };
      return zObserved ? terms : { ...terms, logPz: this.logPz(this.inside(zz)) };
    });
  }

  // ---- bounds (each from its objectives/semi2.ts unit) ----------------------------------------

  /** Bound (7) per example [B] (`forwardLabelledBound`). */
  boundLabelledForward(x: tf.Tensor, y: tf.Tensor, rng: Rng): tf.Tensor {
    this.checkY(y, 'labelled y');
    return tf.tidy(() => forwardLabelledBound(this.forwardTerms(x, y, rng)));
  }

  /**
   * Bound (8) per example [B] (`forwardUnlabelledBound`). Discrete labels with `yEstimator:
   * 'enumerate'`: the exact Σ_y q(y | x) [bound (7) at y] + H(q(y | x)) over the K classes.
   */
  boundUnlabelled(x: tf.Tensor, rng: Rng): tf.Tensor {
    return tf.tidy(() => forwardUnlabelledBound(this.unlabelledTerms(x, rng)));
  }

  /**
   * Importance log-weights [k, B] for x [B, D] (Burda et al. 2015; thesis `003_…` eq 3.31); their
   * log-mean-exp over k is IWAE(k), and with k large the log-likelihood:
   * - labels `y` [B, K] given: of log p(x, y), log w = log p(x | y, z) + log p(y) + log p(z) − log q(z | x, y);
   * - discrete labels, none given: of log p(x), y summed exactly inside each weight,
   *   log w = log Σ_y p(x, y, z_y) / q(z_y | x, y) (z drawn per class);
   * - simplex or real labels, none given: of log p(x) with the proposal q(y | x) q(z | x, y),
   *   log w = log p(x | y, z) + log p(y) + log p(z) − log q(y | x) − log q(z | x, y).
   * (`semi2LabelledLogWeights`, `semi2EnumeratedLogWeights`, `semi2SampledLogWeights`.)
   * @throws Error for a deterministic model (no densities) or k not an integer ≥ 1.
   */
  logWeights(x: tf.Tensor, k: number, rng: Rng, y?: tf.Tensor): tf.Tensor {
    if (!this.config.variational) throw new Error('a deterministic model (variational: false) has no densities to importance-weight');
    if (!Number.isInteger(k) || k < 1) throw new Error(`logWeights: k must be an integer ≥ 1, got ${k}`);
    return tf.tidy(() => {
      const xk = tf.tile(x, [k, 1]); // sample-major: row j·B + b
      if (y !== undefined) {
        this.checkY(y, 'labels');
        return semi2LabelledLogWeights(this.forwardTerms(xk, tf.tile(y, [k, 1]), rng), k);
      }
      if (this.config.labels === 'discrete') {
        const K = this.config.classes;
        // [K·k·B] class-major, each class's rows sample-major
        return semi2EnumeratedLogWeights(this.forwardTerms(tf.tile(xk, [K, 1]), enumeratedLabels(K, k * x.shape[0]), rng), K, k);
      }
      const q = this.qyContinuous(xk);
      const yy = q.rsample(rng);
      const logQy = q.logProb(yy);
      return semi2SampledLogWeights(this.forwardTerms(xk, yy, rng), logQy, k);
    });
  }

  /** Bound (9) per example [B]: z ~ p(z) (`reverseLabelledBound`). */
  boundLabelledReverse(x: tf.Tensor, y: tf.Tensor, rng: Rng): tf.Tensor {
    this.checkY(y, 'labelled y');
    return tf.tidy(() => reverseLabelledBound(this.reverseLabelledTerms(x, y, rng)));
  }

  /**
   * Bound (20) per example [B] when `z` is given (z observed, the papers' experimental choice),
   * else bound (10) with z ~ p(z) (`unfeaturedBound`). x ~ p(x | y, z) is reparameterised (Gaussian)
   * or a constant binary draw (Bernoulli). `entropy = false` leaves out −log p(x | y, z) (a variant,
   * see {@link Semi2Weights.reverseEntropy}).
   */
  boundUnfeatured(y: tf.Tensor, rng: Rng, zObserved?: tf.Tensor, entropy = true): tf.Tensor {
    this.checkY(y, 'unfeatured y');
    if (zObserved) this.checkZ(zObserved, 'unfeatured z');
    return tf.tidy(() => unfeaturedBound(this.unfeaturedTerms(y, rng, zObserved), { entropy }));
  }

  /** Discriminative loss (13) per example [B]: L(ȳ, y) (`predictedLoss`; for real labels see the module doc). */
  lossY(x: tf.Tensor, y: tf.Tensor, kind: 'kl' | 'l2' | 'ce' = 'kl'): tf.Tensor {
    this.checkY(y, 'labelled y');
    return tf.tidy(() => predictedLoss(this.predictedOf(x, y), kind));
  }

  /** x̄, the mean of p(x | y, z) at z ~ p(z), [B, D]: the input of loss (14). */
  private generatePrior(y: tf.Tensor, rng: Rng): tf.Tensor {
    return tf.tidy(() => this.px(y, this.samplePriorZ(y.shape[0], rng)).mean());
  }

  /** Discriminative loss (14) per example [B]: ‖x̄ − x‖², x̄ the mean of p(x | y, z), z ~ p(z) (`inputLoss`). */
  lossX(x: tf.Tensor, y: tf.Tensor, rng: Rng): tf.Tensor {
    return tf.tidy(() => inputLoss(this.generatePrior(y, rng), x));
  }

  /** Deterministic mode: x̄ of x → ȳ → z̄ → x̄ (ȳ the mean of q(y | x), z̄ the median of q(z | x, ȳ)), [B, D]. */
  private reconstruct(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const yb = this.predict(x);
      return this.px(yb, this.encodeMedian(x, yb)).mean();
    });
  }

  /**
   * Deterministic mode's loss of unlabelled x per example [B]: x → ȳ → z̄ → x̄, scored by the
   * squared error (Gaussian x) or the cross-entropy (Bernoulli x) (`reconstructionLoss`).
   */
  reconstructionX(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => reconstructionLoss(this.reconstruct(x), x, this.config.likelihood));
  }

  /**
   * Deterministic mode's loss of unfeatured labels per example [B]: (y, z) → x̄ → ȳ, scored by
   * L(ȳ, y) of (13); z observed when given, else drawn from p(z).
   */
  reconstructionY(y: tf.Tensor, rng: Rng, zObserved?: tf.Tensor, kind: 'kl' | 'l2' | 'ce' = 'kl'): tf.Tensor {
    this.checkY(y, 'unfeatured y');
    if (zObserved) this.checkZ(zObserved, 'unfeatured z');
    return tf.tidy(() => this.lossY(this.px(y, zObserved ?? this.samplePriorZ(y.shape[0], rng)).mean(), y, kind));
  }

  /**
   * −J of eq 15 with per-source batch means (`semi2Loss`); sources absent from the batch contribute
   * nothing. This method only names the sources: each runs the networks on its part of the batch
   * and returns log-terms; `unlabelledQy` and `reverseTrainsQ` scale the gradient reaching q while
   * those terms are computed. In deterministic mode (`variational: false`) the point estimates go
   * to `semi2PointLoss` instead (see the module doc).
   */
  loss(batch: Semi2Batch, rng: Rng, w: Semi2Weights): tf.Scalar {
    const qyFirstLayer = { W: this.qyFirstW, fanIn: this.qyFanIn };
    const lab = batch.labelled;
    const unl = batch.unlabelled;
    const unf = batch.unfeatured;
    const predicted = (x: tf.Tensor, y: tf.Tensor) => {
      this.checkY(y, 'labelled y');
      return this.predictedOf(x, y);
    };
    if (!this.config.variational) {
      return semi2PointLoss(
        {
          qyFirstLayer,
          labelled: lab && { predicted: () => predicted(lab.x, lab.y), generated: () => ({ xBar: this.generatePrior(lab.y, rng), x: lab.x }) },
          unlabelled: unl && (() => ({ xBar: this.reconstruct(unl.x), x: unl.x, likelihood: this.config.likelihood })),
          unfeatured:
            unf &&
            (() => {
              this.checkY(unf.y, 'unfeatured y');
              if (unf.z) this.checkZ(unf.z, 'unfeatured z');
              const xBar = this.px(unf.y, unf.z ?? this.samplePriorZ(unf.y.shape[0], rng)).mean();
              return this.predictedOf(xBar, unf.y);
            }),
        },
        w,
      );
    }
    return semi2Loss(
      {
        qyFirstLayer,
        labelled: lab && {
          forward: () => {
            this.checkY(lab.y, 'labelled y');
            return this.forwardTerms(lab.x, lab.y, rng);
          },
          predicted: () => predicted(lab.x, lab.y),
          reverse: () =>
            this.reverse(w, () => {
              this.checkY(lab.y, 'labelled y');
              return this.reverseLabelledTerms(lab.x, lab.y, rng);
            }),
          generated: () => ({ xBar: this.generatePrior(lab.y, rng), x: lab.x }),
        },
        unlabelled: unl && (() => withGradientScale(this.qyVars, w.unlabelledQy ?? 1, () => this.unlabelledTerms(unl.x, rng))),
        unfeatured:
          unf &&
          (() =>
            this.reverse(w, () => {
              this.checkY(unf.y, 'unfeatured y');
              if (unf.z) this.checkZ(unf.z, 'unfeatured z');
              return this.unfeaturedTerms(unf.y, rng, unf.z);
            })),
      },
      w,
    );
  }

  /** Computes reverse-bound terms, with the recognition networks held fixed when the weights ask for it. */
  private reverse<T>(w: Semi2Weights, term: () => T): T {
    return w.reverseTrainsQ === false ? withFrozen(this.qVars, term) : term();
  }

  // ---- validation -----------------------------------------------------------------------------

  /**
   * Checks labels: width K; simplex rows non-negative and summing to 1 within 1e-4; discrete rows
   * one-hot; real labels finite. Errors name the row (and `what`, e.g. a file name).
   */
  checkY(y: tf.Tensor, what: string): void {
    const K = this.config.classes;
    if (y.rank !== 2 || y.shape[1] !== K) throw new Error(`${what}: labels must have ${K} columns, got shape [${y.shape}]`);
    const v = y.dataSync();
    if (this.config.labels === 'real') {
      const i = v.findIndex((e) => !Number.isFinite(e));
      if (i >= 0) throw new Error(`${what}: row ${Math.floor(i / K)}, column ${i % K} is ${v[i]}; real labels must be finite numbers`);
      return;
    }
    for (let r = 0; r < y.shape[0]; r++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const e = v[r * K + k];
        if (!(e >= 0)) throw new Error(`${what}: row ${r}, column ${k} is ${e}; labels must be non-negative`);
        if (this.config.labels === 'discrete' && e !== 0 && e !== 1) throw new Error(`${what}: row ${r} is not one-hot (column ${k} is ${e})`);
        s += e;
      }
      if (Math.abs(s - 1) > 1e-4) throw new Error(`${what}: row ${r} sums to ${s}, not 1 (tolerance 1e-4)`);
    }
  }

  /** Checks that z has d columns and lies in the support of p(z) (inside the box, or finite), naming the row. */
  checkZ(zz: tf.Tensor, what: string): void {
    const d = this.config.latent;
    if (zz.rank !== 2 || zz.shape[1] !== d) throw new Error(`${what}: z must have ${d} columns, got shape [${zz.shape}]`);
    const v = zz.dataSync();
    for (let i = 0; i < v.length; i++) {
      const why = this.outsideSupport(v[i]);
      if (why) throw new Error(`${what}: row ${Math.floor(i / d)}, column ${i % d} is ${v[i]}, ${why}`);
    }
  }

  /** Why a value of z lies outside the support of p(z) (outside the box, or not finite), or null. */
  outsideSupport(v: number): string | null {
    if (this.config.zPrior === 'normal') return Number.isFinite(v) ? null : 'not a finite number';
    const [lo, hi] = this.config.box;
    return v > lo && v < hi ? null : `outside the box (${lo}, ${hi})`;
  }

  /** Frees the model's variables. */
  dispose(): void {
    this.params.dispose();
    this.qyProj?.mean.dispose();
    this.qyProj?.P.dispose();
    this.qyProj = null;
    this.yStd?.mu.dispose();
    this.yStd?.sigma.dispose();
    this.yStd = null;
  }
}
