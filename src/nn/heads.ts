/**
 * Stochastic heads: a linear map from features to the parameters of a distribution.
 *
 * Gaussian scale follows the thesis (`003_…` eq 3.29): σ = softplus(W h + b) + σ_min. The floor
 * σ_min (default 1e-4) keeps log σ finite when softplus underflows; it is part of the model, so the
 * density is exactly that of N(μ, σ) with the floored σ.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng.js';
import { Dense, type Mlp } from './layers.js';
import type { ParamStore } from './params.js';
import { BatchNorm } from './conv.js';
import { Normal } from '../dists/normal.js';
import { Bernoulli } from '../dists/bernoulli.js';

/** Default lower bound on a Gaussian head's standard deviation. */
export const DEFAULT_MIN_SCALE = 1e-4;

/**
 * Features → diagonal Normal(μ, σ) over `dim` variables, one matrix product for both μ and σ. With
 * `batchNorm`, the 2·dim linear outputs (μ and σ's pre-activation) are batch-normalised before σ's
 * softplus — the LVAE's batch norm on the μ/σ layers (thesis `003_…` appendix B §3) — with batch
 * statistics while tfjs records gradients (training steps), the running averages otherwise.
 */
export class GaussianHead {
  private readonly dense: Dense;
  private readonly norm?: BatchNorm;

  constructor(store: ParamStore, name: string, inDim: number, readonly dim: number, rng: Rng, readonly minScale = DEFAULT_MIN_SCALE, opts: { batchNorm?: boolean } = {}) {
    if (!(minScale >= 0)) throw new Error(`GaussianHead '${name}': minScale must be ≥ 0, got ${minScale}`);
    this.dense = new Dense(store, name, inDim, 2 * dim, rng, 'linear');
    if (opts.batchNorm) this.norm = new BatchNorm(store, `${name}.bn`, 2 * dim);
  }

  /** Distribution parameters for features h [..., inDim]: loc and scale, each [..., dim]. */
  params(h: tf.Tensor): { loc: tf.Tensor; scale: tf.Tensor } {
    return tf.tidy(() => {
      const lin = this.dense.apply(h);
      const out = this.norm ? this.norm.apply(lin, tf.engine().isTapeOn()) : lin;
      const [loc, raw] = tf.split(out, 2, -1);
      const scale = this.minScale > 0 ? tf.add(tf.softplus(raw), this.minScale) : tf.softplus(raw);
      return { loc, scale };
    });
  }

  /** The distribution for features h. The caller owns (and disposes) its tensors. */
  apply(h: tf.Tensor): Normal {
    const { loc, scale } = this.params(h);
    return new Normal(loc, scale);
  }
}

/** Features → Bernoulli(logits) over `dim` variables. */
export class BernoulliHead {
  private readonly dense: Dense;

  constructor(store: ParamStore, name: string, inDim: number, readonly dim: number, rng: Rng) {
    this.dense = new Dense(store, name, inDim, dim, rng, 'linear');
  }

  /** Logits for features h [..., inDim] → [..., dim]. */
  logits(h: tf.Tensor): tf.Tensor {
    return this.dense.apply(h);
  }

  /** The distribution for features h. */
  apply(h: tf.Tensor): Bernoulli {
    return new Bernoulli(this.logits(h));
  }
}

/**
 * A conditional distribution: `head` applied to `net` of the inputs concatenated on the last axis.
 * The concatenation and the hidden features are freed, so it is safe outside a tidy.
 */
export function applyHead<T>(net: Mlp, head: { apply(h: tf.Tensor): T }, inputs: tf.Tensor[]): T {
  const h = net.applyParts(inputs);
  const out = head.apply(h);
  // a network without hidden layers hands back its (only) input itself: that is the caller's
  if (!inputs.includes(h)) h.dispose();
  return out;
}
