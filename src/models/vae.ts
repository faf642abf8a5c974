/**
 * Variational auto-encoder with one or two stochastic layers (thesis `003_…` ch. 3: eqs 3.11, 3.30
 * for the ELBO, 3.31 for the importance-weighted bound, 3.32–3.36 for the L-layer hierarchy;
 * Kingma & Welling 2014, Burda et al. 2016).
 *
 * Generative model p(x, z₁, z₂) = p(x | z₁) p(z₁ | z₂) p(z₂) with p(z_L) = N(0, I); inference model
 * q(z₁, z₂ | x) = q(z₁ | x) q(z₂ | z₁). Every conditional is a diagonal Gaussian whose σ is a softplus
 * (eq 3.29); p(x | z₁) is Bernoulli (logits) or Gaussian.
 *
 * The model only returns log-terms ({@link LogTerms}); `objectives/` turns them into a bound.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Rng } from '../engine/rng.js';
import { ParamStore } from '../nn/params.js';
import { ACTIVATIONS, Mlp } from '../nn/layers.js';
import { BernoulliHead, DEFAULT_MIN_SCALE, GaussianHead } from '../nn/heads.js';
import { Normal } from '../dists/normal.js';
import { klDivergence } from '../dists/kl.js';
import type { LogTerms } from '../objectives/bounds.js';

/** Schema of a VAE's configuration (the `model` section of a run config). */
export const VaeConfigSchema = z
  .object({
    type: z.literal('vae'),
    /** Sizes of the stochastic layers, bottom (z₁) first: [20] or [100, 50]. */
    latent: z.array(z.number().int().min(1)).min(1).max(2).default([20]),
    /**
     * Hidden widths of the deterministic networks between consecutive stochastic layers, bottom
     * first: hidden[0] sits between x and z₁, hidden[1] between z₁ and z₂. The decoder mirrors them.
     */
    hidden: z.array(z.array(z.number().int().min(1))).default([[500, 500]]),
    activation: z.enum(ACTIVATIONS).default('softplus'),
    likelihood: z.enum(['bernoulli', 'gaussian']).default('bernoulli'),
    /** Floor added to every Gaussian σ (softplus(·) + minScale). */
    minScale: z.number().min(0).default(DEFAULT_MIN_SCALE),
    /** Input dimension; filled in from the data when omitted. */
    inputDim: z.number().int().min(1).optional(),
  })
  .strict();

/** A VAE configuration after defaults. */
export type VaeConfig = z.infer<typeof VaeConfigSchema>;

/** Observation model p(x | z₁). */
export type Likelihood = 'bernoulli' | 'gaussian';

/** A one- or two-stochastic-layer VAE. */
export class Vae {
  readonly params = new ParamStore();
  readonly config: VaeConfig & { inputDim: number };
  private readonly encNets: Mlp[] = [];
  private readonly encHeads: GaussianHead[] = [];
  private readonly decNets: Mlp[] = [];
  /** p(x | z₁). */
  private readonly decHeadX: BernoulliHead | GaussianHead;
  /** decHeadsZ[i − 1] gives p(z_i | z_{i+1}). */
  private readonly decHeadsZ: GaussianHead[] = [];

  constructor(config: VaeConfig, rng: Rng) {
    if (config.inputDim === undefined) throw new Error('Vae: config.inputDim is required (it is filled in from the data)');
    const L = config.latent.length;
    if (config.hidden.length !== L) {
      throw new Error(`Vae: 'hidden' must list one array of widths per stochastic layer (${L} for latent [${config.latent}]), got ${config.hidden.length}`);
    }
    this.config = { ...config, inputDim: config.inputDim };
    const dims = [config.inputDim, ...config.latent];
    const ps = this.params;
    const act = config.activation;
    for (let i = 0; i < L; i++) {
      const net = new Mlp(ps, `enc${i}`, dims[i], config.hidden[i], rng, act);
      this.encNets.push(net);
      this.encHeads.push(new GaussianHead(ps, `enc${i}.z`, net.outDim, dims[i + 1], rng, config.minScale));
    }
    for (let i = 0; i < L; i++) {
      const widths = [...config.hidden[i]].reverse();
      const net = new Mlp(ps, `dec${i}`, dims[i + 1], widths, rng, act);
      this.decNets.push(net);
      if (i > 0) this.decHeadsZ.push(new GaussianHead(ps, `dec${i}.z`, net.outDim, dims[i], rng, config.minScale));
    }
    const top = this.decNets[0].outDim;
    this.decHeadX =
      config.likelihood === 'bernoulli'
        ? new BernoulliHead(ps, 'dec0.x', top, config.inputDim, rng)
        : new GaussianHead(ps, 'dec0.x', top, config.inputDim, rng, config.minScale);
  }

  /** Number of stochastic layers. */
  get depth(): number {
    return this.config.latent.length;
  }

  /** q(z₁ | x) for x [..., D]. */
  encode(x: tf.Tensor): Normal {
    const h = this.encNets[0].apply(x);
    const q = this.encHeads[0].apply(h);
    h.dispose();
    return q;
  }

  /** p(x | z₁) for z₁ [..., d₁]: Bernoulli or Normal. */
  decode(z1: tf.Tensor): { logProb(x: tf.Tensor): tf.Tensor; mean(): tf.Tensor } {
    const h = this.decNets[0].apply(z1);
    const p = this.decHeadX.apply(h);
    h.dispose();
    return p;
  }

  /**
   * Log-terms for x [B, D] with k importance samples per example: logLik, logPrior, logQ of shape
   * [k, B]; for one stochastic layer also the analytic KL(q(z|x) ‖ N(0, I)) [B].
   * Noise comes from `rng`.
   */
  terms(x: tf.Tensor, k: number, rng: Rng): LogTerms {
    if (!Number.isInteger(k) || k < 1) throw new Error(`Vae.terms: k must be an integer ≥ 1, got ${k}`);
    return tf.tidy(() => {
      const q1 = this.encode(x);
      const z1 = q1.rsample(rng, k); // [k, B, d1]
      let logQ = q1.logProb(z1);
      let logPrior: tf.Tensor;
      let kl: tf.Tensor | undefined;
      const prior = (d: number) => new Normal(tf.zeros([d]), tf.ones([d]));
      if (this.depth === 1) {
        const p = prior(this.config.latent[0]);
        logPrior = p.logProb(z1);
        kl = klDivergence(q1, p);
      } else {
        const h2 = this.encNets[1].apply(z1);
        const q2 = this.encHeads[1].apply(h2);
        const z2 = q2.rsample(rng); // [k, B, d2]
        logQ = tf.add(logQ, q2.logProb(z2));
        const g = this.decNets[1].apply(z2);
        const p1 = this.decHeadsZ[0].apply(g);
        logPrior = tf.add(prior(this.config.latent[1]).logProb(z2), p1.logProb(z1));
      }
      const px = this.decode(z1);
      const logLik = px.logProb(x);
      return kl ? { logLik, logPrior, logQ, kl } : { logLik, logPrior, logQ };
    });
  }

  /** Draws n samples from the generative model and returns the mean of p(x | z₁), [n, D]. */
  sample(n: number, rng: Rng): tf.Tensor {
    return tf.tidy(() => {
      const top = this.config.latent[this.depth - 1];
      let z = rng.normal([n, top]);
      if (this.depth === 2) {
        const g = this.decNets[1].apply(z);
        z = this.decHeadsZ[0].apply(g).sample(rng);
      }
      return this.decode(z).mean();
    });
  }

  /** Mean of p(x | z₁) at z₁ = E[q(z₁ | x)]: a deterministic reconstruction, [B, D]. */
  reconstruct(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.decode(this.encode(x).mean()).mean());
  }

  /** Frees the model's variables. */
  dispose(): void {
    this.params.dispose();
  }
}
