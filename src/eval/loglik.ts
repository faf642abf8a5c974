/**
 * Importance-weighted estimate of the marginal log-likelihood (Burda et al. 2016; thesis `003_…`
 * eq 3.31 with many samples):  log p(x) ≈ log (1/k) Σ_j p(x, z_j) / q(z_j | x),  z_j ~ q(z | x).
 * The estimate is a lower bound in expectation and tightens as k grows; papers report k = 5000.
 *
 * Memory stays bounded for any k: examples are processed a few at a time and their k samples in
 * chunks, and the chunks' log-sum-exps are combined in double precision on the host.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng.js';
import { Progress, type ProgressOptions } from '../train/progress.js';

/** A model that can give importance log-weights log p(x, z) − log q(z | x), [k, B]. */
export interface ImportanceModel {
  /** log w = log p(x, z) − log q(z | x) [k, B] for x [B, D] (given the rows' labels `y` when {@link IwOptions.labels} are). */
  logWeights(x: tf.Tensor, k: number, rng: Rng, y?: Int32Array): tf.Tensor;
}

/** Options of {@link iwLogLikelihood}. */
export interface IwOptions {
  /** Importance samples per example (e.g. 5000). */
  k: number;
  rng: Rng;
  /** At most this many (sample × example) rows go through the network at once (default 10000). */
  maxRows?: number;
  progress?: ProgressOptions;
  /** Class index of each row, passed on to {@link ImportanceModel.logWeights} (conditional models). */
  labels?: Int32Array;
}

/** Result of {@link iwLogLikelihood}: per-example estimates and their mean and standard error. */
export interface IwResult {
  mean: number;
  stderr: number;
  k: number;
  n: number;
  perExample: Float64Array;
}

/**
 * Estimates log p(x) for each of the n rows of `x` (n × dim, row-major) with k importance samples.
 */
export function iwLogLikelihood(model: ImportanceModel, x: Float32Array, dim: number, opts: IwOptions): IwResult {
  const k = opts.k;
  if (!Number.isInteger(k) || k < 1) throw new Error(`importance samples k must be an integer ≥ 1, got ${k}`);
  const n = Math.floor(x.length / dim);
  if (n * dim !== x.length || n === 0) throw new Error(`iwLogLikelihood: ${x.length} values do not form rows of ${dim}`);
  if (opts.labels && opts.labels.length < n) throw new Error(`iwLogLikelihood: ${opts.labels.length} labels for ${n} rows`);
  const maxRows = opts.maxRows ?? 10000;
  const B = Math.max(1, Math.min(n, Math.floor(maxRows / k)));
  const chunk = Math.max(1, Math.min(k, Math.floor(maxRows / B)));
  const out = new Float64Array(n);
  const bar = new Progress(`log-likelihood (IW ${k})`, n, { plainEvery: 0.1, ...opts.progress });
  for (let start = 0; start < n; start += B) {
    const b = Math.min(B, n - start);
    const xb = tf.tensor2d(x.subarray(start * dim, (start + b) * dim), [b, dim]);
    const acc = new Float64Array(b).fill(-Infinity);
    for (let done = 0; done < k; done += chunk) {
      const c = Math.min(chunk, k - done);
      const y = opts.labels?.subarray(start, start + b);
      const lse = tf.tidy(() => tf.logSumExp(model.logWeights(xb, c, opts.rng, y), 0));
      const v = lse.dataSync();
      lse.dispose();
      for (let i = 0; i < b; i++) acc[i] = logAddExp(acc[i], v[i]);
    }
    xb.dispose();
    for (let i = 0; i < b; i++) out[start + i] = acc[i] - Math.log(k);
    bar.tick(b);
  }
  bar.finish();
  let mean = 0;
  for (const v of out) mean += v / n;
  let ss = 0;
  for (const v of out) ss += (v - mean) ** 2;
  const stderr = n > 1 ? Math.sqrt(ss / (n - 1) / n) : 0;
  return { mean, stderr, k, n, perExample: out };
}

/** log(eᵃ + eᵇ) in double precision. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}
