/**
 * Exact summation over a discrete label y ∈ {0..K−1} run as one K× batch (thesis `003_…` §4.2,
 * concluding remarks; ADGM paper eq 17): every per-example tensor is repeated K times, class-major —
 * row k·B + b holds example b paired with class k — so one forward pass evaluates every (x, y) pair.
 * {@link perClass} folds the [K·B] results back to [B, K].
 */
import * as tf from '@tensorflow/tfjs';
import { oneHot } from '../dists/categorical.js';

/** The result of {@link enumerateClasses}. */
export interface Enumerated {
  /** One-hot labels [K·B, K], class-major. */
  y: tf.Tensor2D;
  /** Each input tensor repeated K times along its first axis, [K·B, ...]. */
  tiled: tf.Tensor[];
}

/** Pairs each of the B rows of `tensors` (first axis B) with every class 0..K−1 (class-major). */
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
 */
export function enumeratedLabels(K: number, B: number): tf.Tensor2D {
  if (!Number.isInteger(K) || K < 1) throw new Error(`enumeratedLabels: K must be an integer ≥ 1, got ${K}`);
  return tf.tidy(() => oneHot(tf.reshape(tf.tile(tf.reshape(tf.range(0, K, 1, 'int32'), [K, 1]), [1, B]), [K * B]), K) as tf.Tensor2D);
}

/** Folds class-major per-row values [K·B] (or [K·B, 1]) into [B, K]. */
export function perClass(values: tf.Tensor, K: number): tf.Tensor2D {
  const n = values.size;
  if (n % K !== 0) throw new Error(`perClass: ${n} values do not divide into ${K} classes`);
  return tf.tidy(() => tf.transpose(tf.reshape(values, [K, n / K])) as tf.Tensor2D);
}
