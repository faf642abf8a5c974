/**
 * Deep VAEs with L stochastic layers (thesis `003_…` §5.1.1 and appendix B; Sønderby et al. 2016):
 * the generative model is top-down, p(z_L) p(z_{L−1} | z_L) … p(z_1 | z_2) p(x | z_1), every
 * conditional a diagonal Gaussian from an MLP (p(x | z_1) Bernoulli or Gaussian). Two inference
 * models:
 * - `bottom-up`: the hierarchical VAE of the paper's baselines, q(z_1 | x) q(z_2 | z_1) … q(z_L | z_{L−1});
 * - `ladder` (the LVAE): a deterministic bottom-up pass d_1 = f_1(x), d_i = f_i(d_{i−1}) gives
 *   "likelihood" Gaussians N(μ̂_i, σ̂_i²); the top layer is q(z_L | x) = N(μ̂_L, σ̂_L²), and going
 *   down, q(z_i | z_{i+1}, x) is the precision-weighted merge of N(μ̂_i, σ̂_i²) with the generative
 *   model's own top-down Gaussian p(z_i | z_{i+1}) at the sampled z_{i+1} (appendix B):
 *   σ_q² = 1 / (σ̂⁻² + σ_p⁻²), μ_q = (μ̂ σ̂⁻² + μ_p σ_p⁻²) σ_q² — the inference model shares the
 *   generative path.
 *
 * The model returns log-terms (`objectives/bounds.ts`): log p(x | z_1), log p(z) = Σ_i log p(z_i | ·)
 * and log q(z | x) = Σ_i log q(z_i | ·), [k, B] each, from one draw of every layer per sample
 * (Monte Carlo in the bound; `objective.analyticKl` does not apply: the per-layer analytic KL is
 * used for the active-unit statistics, {@link Lvae.klPerUnit}). ELBO, IWAE(k), β warm-up (`objective.warmupEpochs`),
 * every source, every command and save/load come from the run pipeline (registered in
 * `models/registry.ts` with one line).
 *
 * Batch norm: `batchNorm` normalises the hidden layers of every MLP, `batchNormHeads` also the μ/σ
 * layers of every latent Gaussian (the paper normalises every layer: set both). p(x | z₁)'s head
 * stays affine.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Rng } from '../engine/rng.js';
import { ParamStore } from '../nn/params.js';
import { ACTIVATIONS, Mlp } from '../nn/layers.js';
import { applyHead, BernoulliHead, DEFAULT_MIN_SCALE, GaussianHead } from '../nn/heads.js';
import { Normal, normalLogDensity } from '../dists/normal.js';
import { klNormalNormalPerUnit, klStandardNormalPerUnit } from '../dists/kl.js';
import type { LogTerms } from '../objectives/bounds.js';

/** Schema of a deep VAE / LVAE configuration. */
export const LvaeConfigSchema = z
  .object({
    type: z.literal('lvae'),
    /** `ladder`: top-down inference with the precision-weighted merge (LVAE); `bottom-up`: the hierarchical VAE. */
    inference: z.enum(['ladder', 'bottom-up']).default('ladder'),
    /** Sizes of the stochastic layers, bottom (z_1) first (appendix B: 64, 32, 16, 8, 4). */
    latent: z.array(z.number().int().min(1)).min(1).default([64, 32, 16, 8, 4]),
    /**
     * Hidden widths, one per latent layer, bottom first (appendix B: 512, 256, 128, 64, 32): the first
     * for the networks between x and z₁ (q(z₁ | x) or d₁, and p(x | z₁)), entry i for those between
     * layers i − 1 and i, both ways (q up, p(z_{i−1} | z_i) down).
     */
    hidden: z.array(z.number().int().min(1)).min(1).default([512, 256, 128, 64, 32]),
    /** Dense layers in each MLP. */
    depth: z.number().int().min(1).default(2),
    activation: z.enum(ACTIVATIONS).default('relu'),
    likelihood: z.enum(['bernoulli', 'gaussian']).default('bernoulli'),
    /** Batch norm on the hidden layers of every MLP (training steps: batch statistics). */
    batchNorm: z.boolean().default(false),
    /** Batch norm also on the μ/σ layers of every Gaussian (appendix B: "on every layer"); off by default, so that older runs load unchanged. */
    batchNormHeads: z.boolean().default(false),
    minScale: z.number().min(0).default(DEFAULT_MIN_SCALE),
    inputDim: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((c) => c.hidden.length === c.latent.length, { message: 'hidden needs one width per stochastic layer (as many entries as latent)', path: ['hidden'] });

/** A deep VAE / LVAE configuration after defaults. */
export type LvaeConfig = z.infer<typeof LvaeConfigSchema>;

/**
 * The precision-weighted merge of two Gaussians (appendix B): the normalised product of
 * N(μ₁, σ₁²) and N(μ₂, σ₂²), σ² = 1 / (σ₁⁻² + σ₂⁻²), μ = (μ₁σ₁⁻² + μ₂σ₂⁻²) σ². Elementwise.
 */
export function precisionWeightedMerge(mu1: tf.Tensor, s1: tf.Tensor, mu2: tf.Tensor, s2: tf.Tensor): { loc: tf.Tensor; scale: tf.Tensor } {
  return tf.tidy(() => {
    const p1 = tf.reciprocal(tf.square(s1));
    const p2 = tf.reciprocal(tf.square(s2));
    const v = tf.reciprocal(tf.add(p1, p2));
    return { loc: tf.mul(tf.add(tf.mul(mu1, p1), tf.mul(mu2, p2)), v), scale: tf.sqrt(v) };
  });
}

/** A deep VAE or LVAE (see the module doc). */
export class Lvae {
  readonly params = new ParamStore();
  readonly config: LvaeConfig & { inputDim: number };
  /** Bottom-up MLPs: x → d_1 (and d_{i−1} → d_i for the ladder, z_{i−1} → h for bottom-up), with their Gaussian heads. */
  private readonly upNets: Mlp[] = [];
  private readonly upHeads: GaussianHead[] = [];
  /** Top-down generative MLPs z_{i+1} → p(z_i | z_{i+1}), i = 1 … L−1, and z_1 → p(x | z_1). */
  private readonly downNets: Mlp[] = [];
  private readonly downHeads: GaussianHead[] = [];
  private readonly pxNet: Mlp;
  private readonly pxHead: GaussianHead | BernoulliHead;

  constructor(config: LvaeConfig, rng: Rng) {
    if (config.inputDim === undefined) throw new Error('lvae: config.inputDim is required (it is filled in from the data)');
    this.config = { ...config, inputDim: config.inputDim };
    const { inputDim: D, latent, hidden, depth, activation: act, batchNorm, batchNormHeads, minScale } = this.config;
    const hbn = { batchNorm: batchNormHeads };
    const L = latent.length;
    const ps = this.params;
    const bn = { batchNorm };
    const widths = (h: number) => new Array<number>(depth).fill(h);
    for (let i = 0; i < L; i++) {
      // ladder: d_i from d_{i−1} (x for i = 0); bottom-up: q(z_i | z_{i−1}) from z_{i−1} (x for i = 0)
      const inDim = i === 0 ? D : this.config.inference === 'ladder' ? hidden[i - 1] : latent[i - 1];
      const net = new Mlp(ps, `q${i + 1}`, inDim, widths(hidden[i]), rng, act, bn);
      this.upNets.push(net);
      this.upHeads.push(new GaussianHead(ps, `q${i + 1}.z`, net.outDim, latent[i], rng, minScale, hbn));
    }
    for (let i = 0; i < L - 1; i++) {
      // the connection between z_i and z_{i+1} has the width of layer i + 1 in both directions (appendix B §3: 512 between x and z₁, then 256, 128, 64, 32)
      const net = new Mlp(ps, `p${i + 1}`, latent[i + 1], widths(hidden[i + 1]), rng, act, bn);
      this.downNets.push(net);
      this.downHeads.push(new GaussianHead(ps, `p${i + 1}.z`, net.outDim, latent[i], rng, minScale, hbn));
    }
    this.pxNet = new Mlp(ps, 'px', latent[0], widths(hidden[0]), rng, act, bn);
    this.pxHead = this.config.likelihood === 'bernoulli' ? new BernoulliHead(ps, 'px.x', this.pxNet.outDim, D, rng) : new GaussianHead(ps, 'px.x', this.pxNet.outDim, D, rng, minScale);
  }

  /** Number of stochastic layers L. */
  get layers(): number {
    return this.config.latent.length;
  }

  /** p(z_i | z_{i+1}) for the 0-based layer i < L − 1, and its parameters. */
  private prior(i: number, above: tf.Tensor): { dist: Normal; loc: tf.Tensor; scale: tf.Tensor } {
    const { loc, scale } = this.downHeads[i].params(this.downNets[i].apply(above));
    return { dist: new Normal(loc, scale), loc, scale };
  }

  /** Standard normal p(z_L). */
  private topPrior(): Normal {
    const d = this.config.latent[this.layers - 1];
    return new Normal(tf.zeros([d]), tf.ones([d]));
  }

  /**
   * The inference pass for x [N, D]: per layer (bottom first) the value z_i [N, d_i], q(z_i | ·)
   * and, below the top, p(z_i | z_{i+1}) at the chosen z_{i+1}. With `rng` every z_i is a
   * reparameterised draw; without, the mean of its q (the plug-in pass of posterior means).
   */
  private pass(x: tf.Tensor, rng: Rng | null): { z: tf.Tensor; q: Normal; p?: Normal }[] {
    const L = this.layers;
    const out: { z: tf.Tensor; q: Normal; p?: Normal }[] = new Array(L);
    const pick = (q: Normal) => (rng ? q.rsample(rng) : q.mean());
    if (this.config.inference === 'bottom-up') {
      let h = x;
      for (let i = 0; i < L; i++) {
        const q = applyHead(this.upNets[i], this.upHeads[i], [h]);
        out[i] = { z: pick(q), q };
        h = out[i].z;
      }
      for (let i = L - 2; i >= 0; i--) out[i].p = this.prior(i, out[i + 1].z).dist;
      return out;
    }
    // bottom-up pass: the likelihood Gaussians of every layer
    const up: { loc: tf.Tensor; scale: tf.Tensor }[] = [];
    let d = x;
    for (let i = 0; i < L; i++) {
      d = this.upNets[i].apply(d);
      up.push(this.upHeads[i].params(d));
    }
    // top-down: q(z_L | x), then the merge with p(z_i | z_{i+1}) at the chosen z_{i+1}
    const top = new Normal(up[L - 1].loc, up[L - 1].scale);
    out[L - 1] = { z: pick(top), q: top };
    for (let i = L - 2; i >= 0; i--) {
      const p = this.prior(i, out[i + 1].z);
      const m = precisionWeightedMerge(up[i].loc, up[i].scale, p.loc, p.scale);
      const q = new Normal(m.loc, m.scale);
      out[i] = { z: pick(q), q, p: p.dist };
    }
    return out;
  }

  /**
   * One draw of every layer for each row of x [N, D]: log q(z | x) and log p(z) [N] (sums over
   * layers), and log p(x | z_1) [N].
   */
  private draw(x: tf.Tensor, rng: Rng): { logLik: tf.Tensor; logPrior: tf.Tensor; logQ: tf.Tensor } {
    const layers = this.pass(x, rng);
    const L = this.layers;
    let logQ: tf.Tensor = tf.zeros([x.shape[0]]);
    let logPrior: tf.Tensor = this.topPrior().logProb(layers[L - 1].z);
    for (let i = 0; i < L; i++) {
      logQ = tf.add(logQ, layers[i].q.logProb(layers[i].z));
      if (i < L - 1) logPrior = tf.add(logPrior, layers[i].p!.logProb(layers[i].z));
    }
    const px = applyHead<{ logProb(x: tf.Tensor): tf.Tensor }>(this.pxNet, this.pxHead, [layers[0].z]);
    return { logLik: px.logProb(x), logPrior, logQ };
  }

  /**
   * Per-unit KL(q ‖ p) of every stochastic layer for x [B, D], one [B, d_i] tensor per layer, bottom
   * first (appendix B fig. 4): the top layer's analytic KL(q(z_L | x) ‖ N(0, 1)) per unit. Below it,
   * for the LVAE, the analytic KL(q(z_i | z_{i+1}, x) ‖ p(z_i | z_{i+1})) at a draw of z_{i+1} (both
   * Gaussians given the layer above, drawn first top-down: ≥ 0, an unbiased estimate of the
   * layer's expected KL, as the paper computes it "analytically at each layer when possible"); for
   * the bottom-up VAE, whose q(z_i | z_{i−1}) is drawn before the z_{i+1} its prior needs, the
   * one-draw estimate log q(z_i,u | ·) − log p(z_i,u | z_{i+1}) (unbiased, but a unit's mean over
   * rows can come out slightly below 0). With {@link posteriorMeans}, `eval/active-units.ts` counts
   * the active units per layer.
   */
  klPerUnit(x: tf.Tensor, rng: Rng): tf.Tensor[] {
    return tf.tidy(() => {
      const layers = this.pass(x, rng);
      const L = this.layers;
      const ladder = this.config.inference === 'ladder';
      return layers.map(({ z, q, p }, i) => {
        if (i === L - 1) return klStandardNormalPerUnit(q);
        if (ladder) return klNormalNormalPerUnit(q, p!);
        return tf.sub(normalLogDensity(z, q.mean(), q.stddev()), normalLogDensity(z, p!.mean(), p!.stddev()));
      });
    });
  }

  /** Posterior means of every layer for x [B, D], bottom first: the plug-in pass with each z_i at the mean of its q. */
  posteriorMeans(x: tf.Tensor): tf.Tensor[] {
    return tf.tidy(() => this.pass(x, null).map((l) => l.q.mean()));
  }

  /** Log-terms for x [B, D] with k samples of every layer, [k, B] each (the samples run as one k·B batch). */
  terms(x: tf.Tensor, k: number, rng: Rng): LogTerms {
    if (!Number.isInteger(k) || k < 1) throw new Error(`lvae: k must be an integer ≥ 1, got ${k}`);
    return tf.tidy(() => {
      const B = x.shape[0];
      const d = this.draw(k === 1 ? x : tf.tile(x, [k, 1]), rng); // sample-major: row j·B + b
      const r = (t: tf.Tensor) => tf.reshape(t, [k, B]);
      return { logLik: r(d.logLik), logPrior: r(d.logPrior), logQ: r(d.logQ) };
    });
  }

  /** n draws from the generative model: z_L ~ N(0, I), down through p(z_i | z_{i+1}), the mean of p(x | z_1), [n, D]. */
  sample(n: number, rng: Rng): tf.Tensor {
    return tf.tidy(() => {
      const L = this.layers;
      let zz = rng.normal([n, this.config.latent[L - 1]]);
      for (let i = L - 2; i >= 0; i--) zz = this.prior(i, zz).dist.sample(rng);
      return (applyHead<{ mean(): tf.Tensor }>(this.pxNet, this.pxHead, [zz])).mean();
    });
  }

  /** Frees the model's variables. */
  dispose(): void {
    this.params.dispose();
  }
}
