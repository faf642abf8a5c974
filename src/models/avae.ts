/**
 * Auxiliary VAE (AVAE), one stochastic layer (thesis `003_…` §4.2, eqs 4.12–4.17; appendix A eqs
 * 19–20 with L = 1; Maaløe et al. 2016).
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
import { BernoulliHead, DEFAULT_MIN_SCALE, GaussianHead } from '../nn/heads.js';
import { Normal } from '../dists/normal.js';
import type { LogTerms } from '../objectives/bounds.js';

/** Schema of an AVAE's configuration. */
export const AvaeConfigSchema = z
  .object({
    type: z.literal('avae'),
    /** Dimension of z. */
    latent: z.number().int().min(1).default(50),
    /** Dimension of a. */
    auxiliary: z.number().int().min(1).default(50),
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

function headOf(net: Mlp, head: GaussianHead, input: tf.Tensor): Normal {
  const h = net.apply(input);
  const q = head.apply(h);
  h.dispose();
  return q;
}

/** The one-layer auxiliary VAE. */
export class Avae {
  readonly params = new ParamStore();
  readonly config: AvaeConfig & { inputDim: number };
  private readonly qaNet: Mlp;
  private readonly qaHead: GaussianHead;
  private readonly qzNet: Mlp;
  private readonly qzHead: GaussianHead;
  private readonly paNet: Mlp;
  private readonly paHead: GaussianHead;
  private readonly pxNet: Mlp;
  private readonly pxHead: BernoulliHead | GaussianHead;

  constructor(config: AvaeConfig, rng: Rng) {
    if (config.inputDim === undefined) throw new Error('avae: config.inputDim is required (it is filled in from the data)');
    this.config = { ...config, inputDim: config.inputDim };
    const { inputDim: D, latent: Z, auxiliary: A, hidden, activation: act, minScale } = this.config;
    const ps = this.params;
    this.qaNet = new Mlp(ps, 'qa', D, hidden, rng, act);
    this.qaHead = new GaussianHead(ps, 'qa.a', this.qaNet.outDim, A, rng, minScale);
    this.qzNet = new Mlp(ps, 'qz', D + A, hidden, rng, act);
    this.qzHead = new GaussianHead(ps, 'qz.z', this.qzNet.outDim, Z, rng, minScale);
    this.paNet = new Mlp(ps, 'pa', Z, hidden, rng, act);
    this.paHead = new GaussianHead(ps, 'pa.a', this.paNet.outDim, A, rng, minScale);
    const rev = [...hidden].reverse();
    this.pxNet = new Mlp(ps, 'px', Z, rev, rng, act);
    this.pxHead = config.likelihood === 'bernoulli' ? new BernoulliHead(ps, 'px.x', this.pxNet.outDim, D, rng) : new GaussianHead(ps, 'px.x', this.pxNet.outDim, D, rng, minScale);
  }

  /** q(a | x). */
  encodeAux(x: tf.Tensor): Normal {
    return headOf(this.qaNet, this.qaHead, x);
  }

  private decode(zz: tf.Tensor): { logProb(x: tf.Tensor): tf.Tensor; mean(): tf.Tensor } {
    const h = this.pxNet.apply(zz);
    const p = this.pxHead.apply(h);
    h.dispose();
    return p;
  }

  /** Log-terms for x [B, D] with k importance samples, [k, B] each. */
  terms(x: tf.Tensor, k: number, rng: Rng): LogTerms {
    if (!Number.isInteger(k) || k < 1) throw new Error(`Avae.terms: k must be an integer ≥ 1, got ${k}`);
    return tf.tidy(() => {
      const qa = this.encodeAux(x);
      const a = qa.rsample(rng, k); // [k, B, A]
      const xb = tf.broadcastTo(x, [k, ...x.shape]);
      const qzh = this.qzNet.apply(tf.concat([xb, a], -1));
      const qz = this.qzHead.apply(qzh);
      const zz = qz.rsample(rng); // [k, B, Z]
      const Z = this.config.latent;
      const pa = headOf(this.paNet, this.paHead, zz);
      const logPrior = tf.add(new Normal(tf.zeros([Z]), tf.ones([Z])).logProb(zz), pa.logProb(a));
      const logQ = tf.add(qa.logProb(a), qz.logProb(zz));
      return { logLik: this.decode(zz).logProb(xb), logPrior, logQ };
    });
  }

  /** n samples from the generative model (means of p(x | z)), [n, D]. */
  sample(n: number, rng: Rng): tf.Tensor {
    return tf.tidy(() => this.decode(rng.normal([n, this.config.latent])).mean());
  }

  /** Mean of p(x | z) at z = E[q(z | E[a], x)], a = E[q(a | x)]. */
  reconstruct(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const a = this.encodeAux(x).mean();
      const qz = headOf(this.qzNet, this.qzHead, tf.concat([x, a], -1));
      return this.decode(qz.mean()).mean();
    });
  }

  /** Frees the model's variables. */
  dispose(): void {
    this.params.dispose();
  }
}
