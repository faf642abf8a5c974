/**
 * Marginalising a discrete variable y ∈ {0, …, K−1} exactly, by enumeration (thesis `003_…` §4.1
 * eqs 4.7–4.8, §4.2 eq 4.20; ADGM paper, appendix A eq 17).
 *
 * **Layout (the K× batch).** A model evaluates every (example, class) pair in one forward pass: the
 * N per-example rows are paired with each class, class-major — row k·N + n holds example n with
 * class k ({@link enumerateClasses}, {@link enumeratedLabels}). Networks may take the N per-example
 * inputs unrepeated next to the K·N labels (`Mlp.applyParts` in `nn/layers.ts`), so x is multiplied
 * by its weights once per example, not once per class (thesis §4.2, concluding remarks). Per-row
 * results of shape [K·N] are folded back to [N, K] by {@link perClass}.
 *
 * **Objectives.** Given the per-class values f(y) of a bound's integrand, [K·N] class-major:
 * - {@link enumeratedElbo}: Σ_y q(y) f(y) + H(q), the exact expectation over y of f(y) − log q(y)
 *   (the unlabelled bound U of eq 4.8 / 4.20, with f = the labelled integrand of eq 4.9 / 4.22);
 * - {@link enumeratedLogMarginal}: log Σ_y exp f(y), the exact sum over y inside an importance
 *   weight (log p(x) = log Σ_y p(x, y)), for IWAE(k) and the IW log-likelihood.
 */
import * as tf from '@tensorflow/tfjs';
import { Categorical, oneHot } from '../dists/categorical.js';

/** The result of {@link enumerateClasses}. */
export interface Enumerated {
  /** One-hot labels [K·B, K], class-major. */
  y: tf.Tensor2D;
  /** Each input tensor repeated K times along its first axis, [K·B, ...]. */
  tiled: tf.Tensor[];
}

/**
 * Pairs each of the B rows of `tensors` (first axis B) with every class 0..K−1 (class-major).
 * @throws Error when K is not an integer ≥ 1, no tensor is given, or the first axes differ.
 */
export function enumerateClasses(K: number, tensors: tf.Tensor[]): Enumerated {
  if (!Number.isInteger(K) || K < 1) throw new Error(`enumerateClasses: K must be an integer ≥ 1, got ${K}`);
  if (tensors.length === 0) throw new Error('enumerateClasses: at least one tensor is needed (for the batch size)');
  const B = tensors[0].shape[0];
  for (const t of tensors) if (t.shape[0] !== B) throw new Error(`enumerateClasses: first axes differ (${B} and ${t.shape[0]})`);
  return tf.tidy(() => {
    const y = enumeratedLabels(K, B);
    const tiled = tensors.map((t) => tf.tile(t, [K, ...t.shape.slice(1).map(() => 1)]));
    return { y, tiled };
  });
}

/**
 * The one-hot labels [K·B, K] of {@link enumerateClasses} alone, class-major: for networks that
 * take the B per-example rows unrepeated (`Mlp.applyParts` in `nn/layers.ts`).
 * @throws Error when K is not an integer ≥ 1.
 */
export function enumeratedLabels(K: number, B: number): tf.Tensor2D {
  if (!Number.isInteger(K) || K < 1) throw new Error(`enumeratedLabels: K must be an integer ≥ 1, got ${K}`);
  return tf.tidy(() => oneHot(tf.reshape(tf.tile(tf.reshape(tf.range(0, K, 1, 'int32'), [K, 1]), [1, B]), [K * B]), K) as tf.Tensor2D);
}

/**
 * Folds class-major per-row values [K·B] (or [K·B, 1]) into [B, K].
 * @throws Error when the number of values is not a multiple of K.
 */
export function perClass(values: tf.Tensor, K: number): tf.Tensor2D {
  const n = values.size;
  if (n % K !== 0) throw new Error(`perClass: ${n} values do not divide into ${K} classes`);
  return tf.tidy(() => tf.transpose(tf.reshape(values, [K, n / K])) as tf.Tensor2D);
}

/** Checks that `f` holds K·N class-major values for the N rows of logits [N, K]; returns [N, K]. */
function foldFor(fn: string, f: tf.Tensor, N: number, K: number): tf.Tensor2D {
  if (f.size !== K * N) throw new Error(`${fn}: ${f.size} per-class values for ${N} rows of ${K} classes (want ${K * N}, class-major)`);
  return perClass(f, K);
}

/**
 * The exact expectation over a discrete y of a bound's integrand, with q(y)'s entropy:
 *
 *   Σ_y q(y | ·) f(y) + H(q(y | ·))  =  E_q(y|·)[f(y) − log q(y | ·)]
 *
 * — the unlabelled bound U(x) of thesis eq 4.8 (M2) and eq 4.20 (ADGM/SDGM), where f(y) is the
 * (β-weighted) labelled integrand of eq 4.9 / 4.22 for class y. q(y | ·) = softmax(`qyLogits`),
 * its log-probabilities from {@link Categorical.logProbs}; computed as the right-hand side.
 *
 * @param qyLogits logits of q(y | ·), [N, K].
 * @param f per-class values, [K·N] class-major (row k·N + n: example n, class k), as the K× batch
 *   gives them; or already folded, [N, K].
 * @returns [N], in nats.
 * @throws Error when `qyLogits` is not [N, K] or `f` does not hold K·N values.
 */
export function enumeratedElbo(qyLogits: tf.Tensor, f: tf.Tensor): tf.Tensor {
  if (qyLogits.rank !== 2) throw new Error(`enumeratedElbo: q(y) logits must be [N, K], got [${qyLogits.shape}]`);
  const [N, K] = qyLogits.shape;
  return tf.tidy(() => {
    const fk = f.rank === 2 && f.shape[0] === N && f.shape[1] === K ? f : foldFor('enumeratedElbo', f, N, K);
    // E_q[f − log q] with one log-softmax (q's probabilities and entropy each would take their own)
    const logQ = new Categorical(qyLogits).logProbs();
    return tf.sum(tf.mul(tf.exp(logQ), tf.sub(fk, logQ)), -1);
  });
}

/**
 * The exact sum over a discrete y inside an importance weight: log Σ_y exp f(y), computed stably
 * (log-sum-exp). With f(y) = log p(x, y, z_y, …) − log q(z_y, … | x, y), one draw per class, this
 * is the log of an unbiased estimate of p(x) = Σ_y p(x, y) that needs no q(y | ·) (the sum replaces
 * sampling y); averaged over k draws it gives IWAE(k) ({@link iwaeFromLogWeights}).
 *
 * @param f per-class values [K·N] class-major, or folded [N, K] (then `K` must equal f.shape[1]).
 * @param K number of classes.
 * @returns [N].
 * @throws Error when K is not an integer ≥ 1 or `f` does not hold a multiple of K values.
 */
export function enumeratedLogMarginal(f: tf.Tensor, K: number): tf.Tensor {
  if (!Number.isInteger(K) || K < 1) throw new Error(`enumeratedLogMarginal: K must be an integer ≥ 1, got ${K}`);
  return tf.tidy(() => tf.logSumExp(f.rank === 2 && f.shape[1] === K ? f : perClass(f, K), -1));
}
