/** Concrete / Gumbel-softmax relaxation of the one-hot Categorical. */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng.js';
import { Distribution, paramShapeOf } from './distribution.js';
import { logSoftmax } from './categorical.js';

/** log((K−1)!) computed as a sum of logs (exact enough for any K used here). */
function logFactorial(m: number): number {
  let s = 0;
  for (let i = 2; i <= m; i++) s += Math.log(i);
  return s;
}

/**
 * Concrete(l, τ) (Maddison, Mnih & Teh 2017; "Gumbel-softmax", Jang, Gu & Poole 2017): a continuous
 * relaxation of Categorical(softmax(l)) on the open (K−1)-simplex; event shape `[K]` (last axis).
 *
 * Draw: y = softmax((l + g)/τ), g ~ Gumbel(0, 1) i.i.d. As τ → 0, y approaches the one-hot
 * Categorical draw argmax(l + g); argmax(y) is exactly Categorical-distributed for every τ.
 *
 * Density w.r.t. Lebesgue measure on the first K−1 coordinates (y_K = 1 − Σ_{k<K} y_k):
 *
 * log p(y) = log((K−1)!) + (K−1)·log τ + Σ_k (l_k − (τ+1)·log y_k) − K·logΣexp_k(l_k − τ·log y_k)
 *
 * No closed-form mean or entropy exists: {@link mean} and {@link entropy} throw; {@link probs} gives
 * softmax(l), the probabilities of the Categorical being relaxed (and of argmax(y)).
 */
export class Concrete extends Distribution {
  readonly batchShape: number[];
  readonly eventShape: number[];
  readonly hasRsample = true;
  readonly support = 'open simplex {y ∈ (0, 1)^K : Σ_k y_k = 1}';
  /** Logits l (not owned), shape `batchShape + [K]`. */
  readonly logits: tf.Tensor;
  /** Temperature τ > 0. */
  readonly temperature: number;

  /**
   * @param logits l, a tensor of rank ≥ 1 whose last axis (size K ≥ 1) indexes the classes.
   * @param temperature τ, a finite number > 0.
   */
  constructor(logits: tf.Tensor, temperature: number) {
    super();
    if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature <= 0) {
      throw new Error(`Concrete: temperature must be a finite number > 0, got ${String(temperature)}`);
    }
    const shape = paramShapeOf('Concrete', [['logits', logits]]);
    this.logits = logits;
    this.temperature = temperature;
    this.batchShape = shape.slice(0, -1);
    this.eventShape = shape.slice(-1);
  }

  /** softmax(l): the class probabilities of the relaxed Categorical (NOT the mean of y). Shape `batchShape + [K]`. */
  probs(): tf.Tensor {
    return tf.tidy(() => tf.exp(logSoftmax(this.logits)));
  }

  /**
   * Reparameterised draw y = softmax((l + g)/τ), g from `rng.gumbel`; computed as exp(log-softmax)
   * so that tiny components stay > 0 where float32 allows. Shape `[n?, ...batch, K]`.
   */
  override rsample(rng: Rng, n?: number): tf.Tensor {
    return this.draw(rng, n, 'rsample');
  }

  /** Same numbers as {@link rsample} (no gradient intended). Shape `[n?, ...batch, K]`. */
  sample(rng: Rng, n?: number): tf.Tensor {
    return this.draw(rng, n, 'sample');
  }

  private draw(rng: Rng, n: number | undefined, fn: string): tf.Tensor {
    const shape = this.sampleShape(n, fn);
    return tf.tidy(() => tf.exp(logSoftmax(tf.div(tf.add(this.logits, rng.gumbel(shape)), this.temperature))));
  }

  /**
   * Concrete log-density (formula in the class comment) for y on the open simplex; shape
   * `broadcast(value, batch+event)` minus the last axis. Not checked: that y sums to 1 (the density is
   * only meaningful there) and y > 0 (a zero component gives NaN/±∞).
   */
  logProb(value: tf.Tensor): tf.Tensor {
    this.checkValue(value, 'logProb');
    const k = this.eventShape[0];
    const tau = this.temperature;
    const c = logFactorial(k - 1) + (k - 1) * Math.log(tau);
    return tf.tidy(() => {
      const logY = tf.log(value);
      const a = tf.sub(this.logits, tf.mul(logY, tau));
      const s = tf.sum(tf.sub(this.logits, tf.mul(logY, tau + 1)), -1);
      return tf.add(tf.sub(s, tf.mul(tf.logSumExp(a, -1), k)), c);
    });
  }

  /** Throws: the Concrete distribution has no closed-form mean (use {@link probs} for softmax(l)). */
  mean(): tf.Tensor {
    throw new Error('Concrete has no closed-form mean; use probs() for softmax(logits) (the probabilities of the relaxed Categorical), or average rsample() draws');
  }

  /** Throws: the Concrete distribution has no closed-form entropy (estimate −E[logProb(rsample())] instead). */
  override entropy(): tf.Tensor {
    throw new Error('Concrete has no closed-form entropy; estimate it as −mean(logProb(rsample(rng, n)))');
  }
}
