/** Categorical distribution over K classes with one-hot values. */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng.js';
import { Distribution, assertTensor, fmtShape, paramShapeOf } from './distribution.js';

/** log softmax(l) along the last axis, stable (max-shifted log-sum-exp). Shape unchanged. */
export function logSoftmax(logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(logits, tf.logSumExp(logits, -1, true)));
}

/**
 * Categorical(softmax(l)) over K classes; values are ONE-HOT vectors, so event shape = `[K]` (the
 * last axis of `logits`).
 *
 * log p(y) = Σ_k y_k · log softmax(l)_k  (shape: value shape minus last axis)
 *
 * Samples are one-hot float32 vectors drawn by Gumbel-max: argmax_k(l_k + g_k), g ~ Gumbel(0, 1).
 */
export class Categorical extends Distribution {
  readonly batchShape: number[];
  readonly eventShape: number[];
  readonly hasRsample = false;
  readonly support = 'one-hot vectors in {0, 1}^K';
  /** Unnormalised log-probabilities l (not owned), shape `batchShape + [K]`. */
  readonly logits: tf.Tensor;

  /** @param logits l, a tensor of rank ≥ 1 whose last axis (size K ≥ 1) indexes the classes. */
  constructor(logits: tf.Tensor) {
    super();
    const shape = paramShapeOf('Categorical', [['logits', logits]]);
    this.logits = logits;
    this.batchShape = shape.slice(0, -1);
    this.eventShape = shape.slice(-1);
  }

  /** Number of classes K. */
  get numClasses(): number {
    return this.eventShape[0];
  }

  /** π = softmax(l): shape `batchShape + [K]`. */
  probs(): tf.Tensor {
    return tf.tidy(() => tf.exp(logSoftmax(this.logits)));
  }

  /** log π = log softmax(l): shape `batchShape + [K]`. */
  logProbs(): tf.Tensor {
    return logSoftmax(this.logits);
  }

  /** One-hot draws by Gumbel-max (g from `rng.gumbel`): float32 of shape `[n?, ...batch, K]`. */
  sample(rng: Rng, n?: number): tf.Tensor {
    const shape = this.sampleShape(n, 'sample');
    return tf.tidy(() => {
      const idx = tf.argMax(tf.add(this.logits, rng.gumbel(shape)), -1);
      return oneHot(idx, this.numClasses);
    });
  }

  /** Σ_k y_k·log softmax(l)_k for one-hot (or soft) y: shape `broadcast(value, batch+event)` minus the last axis. */
  logProb(value: tf.Tensor): tf.Tensor {
    this.checkValue(value, 'logProb');
    return tf.tidy(() => tf.sum(tf.mul(value, logSoftmax(this.logits)), -1));
  }

  /**
   * log π_label for integer class labels (convenience for `logProb(oneHot(labels))`).
   * @param labels int32 tensor of shape broadcastable with `batchShape` (e.g. `[B]`, or `[n, B]`),
   *   values in [0, K). @returns shape `broadcast(labels.shape, batchShape)`.
   */
  logProbIndex(labels: tf.Tensor): tf.Tensor {
    assertTensor(labels, 'Categorical.logProbIndex: labels');
    if (labels.dtype !== 'int32') throw new Error(`Categorical.logProbIndex: labels must be int32, got ${labels.dtype} of shape ${fmtShape(labels.shape)}`);
    return tf.tidy(() => this.logProb(oneHot(labels, this.numClasses)));
  }

  /** E[y] = softmax(l): shape `batchShape + [K]`. */
  mean(): tf.Tensor {
    return this.probs();
  }

  /** H = −Σ_k π_k log π_k: shape `batchShape`. */
  override entropy(): tf.Tensor {
    return tf.tidy(() => {
      const lp = logSoftmax(this.logits);
      return tf.neg(tf.sum(tf.mul(tf.exp(lp), lp), -1));
    });
  }
}

/**
 * Float32 one-hot rows [..., K] for integer labels (a tensor, or plain numbers). Built as int32 and
 * then cast: tfjs-backend-wasm 4.22 writes int bit patterns into a float32 `oneHot`.
 */
export function oneHot(labels: tf.Tensor | ArrayLike<number>, k: number): tf.Tensor {
  return tf.tidy(() => {
    const idx = labels instanceof tf.Tensor ? tf.cast(labels, 'int32') : tf.tensor1d(Array.from(labels), 'int32');
    return tf.cast(tf.oneHot(idx as tf.Tensor1D, k), 'float32');
  });
}
