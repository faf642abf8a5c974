/** Small numeric helpers shared by distributions, objectives and models. */
import * as tf from '@tensorflow/tfjs';

/** log Σ exp(x) along `axis`, numerically stable (max-shifted). */
export function logSumExp(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.tidy(() => tf.logSumExp(x, axis));
}

/** log (1/n Σ exp(x)) along `axis`. */
export function logMeanExp(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.tidy(() => {
    const n = x.shape[axis < 0 ? x.rank + axis : axis];
    return tf.sub(tf.logSumExp(x, axis), Math.log(n));
  });
}

/** Sums over the last `n` axes (the event axes of a distribution). */
export function sumLast(x: tf.Tensor, n: number): tf.Tensor {
  if (n === 0) return x;
  const axes = Array.from({ length: n }, (_, i) => x.rank - n + i);
  return tf.sum(x, axes);
}

/** log(2π). */
export const LOG_2PI = Math.log(2 * Math.PI);
