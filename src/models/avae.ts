/**
 * Auxiliary VAE (AVAE) with one or two stochastic layers (thesis `003_…` §4.2, eqs 4.12–4.17;
 * appendix A eqs 19–20; Maaløe et al. 2016).
 *
 * Generative model p(x, a, z) = p(x | z) p(z) p(a | z), p(z) = N(0, I); inference model
 * q(a, z | x) = q(a | x) q(z | a, x). The auxiliary a leaves the marginal p(x) unchanged but makes
 * q(z | x) = ∫ q(a|x) q(z|a,x) da a non-Gaussian mixture. Importance weights are
 * p(x|z) p(z) p(a|z) / (q(a|x) q(z|a,x)), so ELBO and IWAE(k) bound log p(x) and the foundation's
 * bounds, trainer and evaluation apply unchanged: `logPrior` = log p(z) + log p(a|z) and
 * `logQ` = log q(a|x) + log q(z|a,x). As the thesis notes, warm-up helps keep a active.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Rng } from '../engine/rng.js';
import { ParamStore } from '../nn/params.js';
import { ACTIVATIONS, Mlp } from '../nn/layers.js';
import { applyHead, BernoulliHead, DEFAULT_MIN_SCALE, GaussianHead } from '../nn/heads.js';
import { Normal } from '../dists/normal.js';
import type { Bernoulli } from '../dists/bernoulli.js';
import type { LogTerms } from '../objectives/bounds.js';

/** Schema of an AVAE's configuration. */
export const AvaeConfigSchema = z
  .object({
    type: z.literal('avae'),
    /** Dimension of z, or of z₁, z₂ for two stochastic layers (bottom first): 50 or [50, 25]. */
    latent: z.union([z.number().int().min(1), z.array(z.number().int().min(1)).min(1).max(2)]).default(50),
    /** Dimension of a, or of a₁, a₂; as many entries as `latent`. */
    auxiliary: z.union([z.number().int().min(1), z.array(z.number().int().min(1)).min(1).max(2)]).default(50),
    /** Hidden widths of every network. */
    hidden: z.array(z.number().int().min(1)).default([500, 500]),
    activation: z.enum(ACTIVATIONS).default('softplus'),
    likelihood: z.enum(['bernoulli', 'gaussian']).default('bernoulli'),
    minScale: z.number().min(0).default(DEFAULT_MIN_SCALE),
    /** Input dimension; filled in from the data when omitted. */
    inputDim: z.number().int().min(1).optional(),
  })
  .strict();

/** An AVAE configuration after defaults. */
export type AvaeConfig = z.infer<typeof AvaeConfigSchema>;

/** A Gaussian conditional: an MLP over the concatenated inputs and a Gaussian head. */
class Conditional {
  private readonly net: Mlp;
  private readonly head: GaussianHead;
  constructor(ps: ParamStore, name: string, inDim: number, outDim: number, hidden: number[], rng: Rng, act: AvaeConfig['activation'], minScale: number) {
    this.net = new Mlp(ps, name, inDim, hidden, rng, act);
    this.head = new GaussianHead(ps, `${name}.${name[1]}`, this.net.outDim, outDim, rng, minScale);
  }

  /** The distribution given inputs (concatenated on the last axis); temporaries are freed. */
  of(...inputs: tf.Tensor[]): Normal {
    return applyHead(this.net, this.head, inputs);
  }
}

/**
 * The auxiliary VAE with L = 1 or 2 stochastic layers (appendix A eqs 19–20):
 * inference q(a₁|x) q(z₁|a₁,x) [q(a₂|a₁,x) q(z₂|a₂,z₁)], generative p(x|z₁) p(z_L) p(a_L|z_L)
 * [p(z₁|z₂) p(a₁|z₁,z₂)].
 */
export class Avae {
  readonly params = new ParamStore();
  readonly config: AvaeConfig & { inputDim: number };
  /** Sizes of z₁[, z₂] and a₁[, a₂]. */
  readonly zDims: number[];
  readonly aDims: number[];
  private readonly qa: Conditional[] = [];
  private readonly qz: Conditional[] = [];
  private readonly pa: Conditional[] = [];
  private readonly pz1?: Conditional;
  private readonly pxNet: Mlp;
  private readonly pxHead: BernoulliHead | GaussianHead;

  constructor(config: AvaeConfig, rng: Rng) {
    if (config.inputDim === undefined) throw new Error('avae: config.inputDim is required (it is filled in from the data)');
    this.config = { ...config, inputDim: config.inputDim };
    const { inputDim: D, hidden, activation: act, minScale } = this.config;
    this.zDims = typeof config.latent === 'number' ? [config.latent] : config.latent;
    this.aDims = typeof config.auxiliary === 'number' ? [config.auxiliary] : config.auxiliary;
    if (this.aDims.length !== this.zDims.length) throw new Error(`avae: 'auxiliary' needs one size per stochastic layer (${this.zDims.length}), got ${this.aDims.length}`);
    const [Z1, Z2] = this.zDims;
    const [A1, A2] = this.aDims;
    const ps = this.params;
    const sfx = (i: number) => (i === 0 ? '' : String(i + 1));
    this.qa.push(new Conditional(ps, 'qa', D, A1, hidden, rng, act, minScale));
    this.qz.push(new Conditional(ps, 'qz', D + A1, Z1, hidden, rng, act, minScale));
    if (this.zDims.length === 2) {
      this.qa.push(new Conditional(ps, `qa${sfx(1)}`, D + A1, A2, hidden, rng, act, minScale));
      this.qz.push(new Conditional(ps, `qz${sfx(1)}`, A2 + Z1, Z2, hidden, rng, act, minScale));
      this.pa.push(new Conditional(ps, 'pa', Z1 + Z2, A1, hidden, rng, act, minScale));
      this.pa.push(new Conditional(ps, `pa${sfx(1)}`, Z2, A2, hidden, rng, act, minScale));
      this.pz1 = new Conditional(ps, 'pz', Z2, Z1, hidden, rng, act, minScale);
    } else {
      this.pa.push(new Conditional(ps, 'pa', Z1, A1, hidden, rng, act, minScale));
    }
    const rev = [...hidden].reverse();
    this.pxNet = new Mlp(ps, 'px', Z1, rev, rng, act);
    this.pxHead = config.likelihood === 'bernoulli' ? new BernoulliHead(ps, 'px.x', this.pxNet.outDim, D, rng) : new GaussianHead(ps, 'px.x', this.pxNet.outDim, D, rng, minScale);
  }

  /** Number of stochastic layers. */
  get depth(): number {
    return this.zDims.length;
  }

  /** q(a₁ | x). */
  encodeAux(x: tf.Tensor): Normal {
    return this.qa[0].of(x);
  }

  private decode(z1: tf.Tensor): { logProb(x: tf.Tensor): tf.Tensor; mean(): tf.Tensor } {
    return applyHead<Normal | Bernoulli>(this.pxNet, this.pxHead, [z1]);
  }

  /** Log-terms for x [B, D] with k importance samples, [k, B] each. */
  terms(x: tf.Tensor, k: number, rng: Rng): LogTerms {
    if (!Number.isInteger(k) || k < 1) throw new Error(`Avae.terms: k must be an integer ≥ 1, got ${k}`);
    return tf.tidy(() => {
      const std = (d: number) => new Normal(tf.zeros([d]), tf.ones([d]));
      const xb = tf.broadcastTo(x, [k, ...x.shape]);
      const qa1 = this.qa[0].of(xb);
      const a1 = qa1.rsample(rng); // [k, B, A1]
      const qz1 = this.qz[0].of(xb, a1);
      const z1 = qz1.rsample(rng); // [k, B, Z1]
      let logQ = tf.add(qa1.logProb(a1), qz1.logProb(z1));
      let logPrior: tf.Tensor;
      if (this.depth === 1) {
        logPrior = tf.add(std(this.zDims[0]).logProb(z1), this.pa[0].of(z1).logProb(a1));
      } else {
        const qa2 = this.qa[1].of(xb, a1);
        const a2 = qa2.rsample(rng);
        const qz2 = this.qz[1].of(a2, z1);
        const z2 = qz2.rsample(rng);
        logQ = tf.add(logQ, tf.add(qa2.logProb(a2), qz2.logProb(z2)));
        logPrior = tf.addN([std(this.zDims[1]).logProb(z2), this.pa[1].of(z2).logProb(a2), this.pz1!.of(z2).logProb(z1), this.pa[0].of(z1, z2).logProb(a1)]);
      }
      return { logLik: this.decode(z1).logProb(xb), logPrior, logQ };
    });
  }

  /** n samples from the generative model (means of p(x | z₁)), [n, D]. */
  sample(n: number, rng: Rng): tf.Tensor {
    return tf.tidy(() => {
      let z1 = rng.normal([n, this.zDims[this.depth - 1]]);
      if (this.depth === 2) z1 = this.pz1!.of(z1).sample(rng);
      return this.decode(z1).mean();
    });
  }

  /** Mean of p(x | z₁) at z₁ = E[q(z₁ | E[a₁], x)], a₁ = E[q(a₁ | x)]. */
  reconstruct(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const a1 = this.qa[0].of(x).mean();
      return this.decode(this.qz[0].of(x, a1).mean()).mean();
    });
  }

  /** Frees the model's variables. */
  dispose(): void {
    this.params.dispose();
  }
}
