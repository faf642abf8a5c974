/** Independent Bernoulli variables parameterised by logits. */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng.js';
import { Distribution, paramShapeOf } from './distribution.js';

/**
 * D independent Bernoulli variables per batch element, p = sigmoid(l); event = last axis of size D.
 *
 * log p(x) = Σ_d [ x_d·l_d − softplus(l_d) ]  (shape: value shape minus last axis)
 *
 * This form is stable for any logit (softplus never overflows; l = ±50 stays finite). It is also
 * accepted for non-binary x ∈ [0, 1] (e.g. grey-level pixels): there it is the negative binary
 * cross-entropy −BCE(x, p), the usual "Bernoulli likelihood" of VAEs on continuous data — note that
 * it is not a normalised density on [0, 1] (the continuous Bernoulli would add a log-normaliser).
 */
export class Bernoulli extends Distribution {
  readonly batchShape: number[];
  readonly eventShape: number[];
  readonly hasRsample = false;
  readonly support = '{0, 1}^D (logProb also evaluates the cross-entropy form for x ∈ [0, 1]^D)';
  /** Logits l = log(p / (1 − p)) (not owned), shape `batchShape + [D]`. */
  readonly logits: tf.Tensor;

  /** @param logits l, a tensor of rank ≥ 1 (last axis = event). */
  constructor(logits: tf.Tensor) {
    super();
    const shape = paramShapeOf('Bernoulli', [['logits', logits]]);
    this.logits = logits;
    this.batchShape = shape.slice(0, -1);
    this.eventShape = shape.slice(-1);
  }

  /** p = sigmoid(l): shape `batchShape + [D]`. */
  probs(): tf.Tensor {
    return tf.tidy(() => tf.sigmoid(this.logits));
  }

  /** Draws x = 1[u < sigmoid(l)], u ~ U[0, 1) from `rng.uniform`: float32 0/1 of shape `[n?, ...batch, D]`. */
  sample(rng: Rng, n?: number): tf.Tensor {
    const shape = this.sampleShape(n, 'sample');
    return tf.tidy(() => tf.cast(tf.less(rng.uniform(shape), tf.sigmoid(this.logits)), 'float32'));
  }

  /** Σ_d x_d·l_d − softplus(l_d): shape `broadcast(value, batch+event)` minus the last axis. */
  logProb(value: tf.Tensor): tf.Tensor {
    this.checkValue(value, 'logProb');
    return tf.tidy(() => tf.sum(tf.sub(tf.mul(value, this.logits), tf.softplus(this.logits)), -1));
  }

  /** E[x] = sigmoid(l): shape `batchShape + [D]`. */
  mean(): tf.Tensor {
    return this.probs();
  }

  /** H = Σ_d softplus(l_d) − l_d·sigmoid(l_d): shape `batchShape`. */
  override entropy(): tf.Tensor {
    return tf.tidy(() => tf.sum(tf.sub(tf.softplus(this.logits), tf.mul(this.logits, tf.sigmoid(this.logits))), -1));
  }
}
