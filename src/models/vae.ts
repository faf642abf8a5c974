/**
 * Variational auto-encoder with one or two stochastic layers (thesis `003_…` ch. 3: eqs 3.11, 3.30
 * for the ELBO, 3.31 for the importance-weighted bound, 3.32–3.36 for the L-layer hierarchy;
 * Kingma & Welling 2014, Burda et al. 2016), and the variants of the course report `004_…` §4.2 as
 * configuration choices of this one family (not copies):
 *
 * - **β-VAE, KL warm-up, IWAE(k)** (§4.2.4, §4.2.6, eqs 5, 7): not model options at all, they live
 *   in the objective (`objectives/bounds.ts`, the run config's `objective` section);
 * - **denoising VAE** (§4.2.5, eq 4; Im et al. 2017): `corruption` c ∈ [0, 1). While training, the
 *   encoder sees x̃ ~ p(x̃ | x), salt-and-pepper noise (each pixel independently, with probability c,
 *   replaced by 0 or 1 with equal odds), and the reconstruction term is scored against the clean x:
 *   the log-terms are those of log p(x, z)/q(z | x̃), whose expectation is the denoising bound (4).
 *   In evaluation the encoder sees the clean x (q(z | x) is then just another proposal for the
 *   importance-sampling estimate of log p(x), so test numbers compare with the plain VAE's). c = 0 is
 *   exactly the plain VAE: no noise is drawn and the terms are identical;
 * - **conditional VAE** (§4.2.3, eq 3; Sohn et al. 2015): `conditional` = number of classes C > 0.
 *   A one-hot label is concatenated to the input of the bottom encoder, q(z₁ | x, y), and of the
 *   observation decoder, p(x | z₁, y); the prior p(z) stays N(0, I), so the bounds are bounds on
 *   log p(x | y);
 * - **convolutional VAE** (§4.2.2, appendix A.2): `arch: 'conv'`. The encoder is two 4×4, stride-2
 *   convolutions (channels `channels[0]`, `channels[1]`), each followed by batch norm and a
 *   leaky-ReLU, flattened into the dense layers `hidden[0]` and the Gaussian head of z₁; the decoder
 *   maps z₁ through the mirrored dense layers and a dense layer to a (side/4)² × channels[1] map
 *   (batch norm, ReLU), then two 4×4, stride-2 transposed convolutions (batch norm and ReLU between
 *   them) give the logits (or the Gaussian's mean and scale) of every pixel. The report's figure
 *   with the filter sizes is not in its text, so the sizes are ours: 28 → 14 → 7 and back, the usual
 *   DCGAN-style geometry. Everything else — heads, hierarchy, bounds — is shared with the MLP VAE;
 * - **Gaussian likelihood with a bounded scale** (§4.1, appendix A.1, eq 6): `likelihood: 'gaussian'`
 *   gives p(x | z₁) = N(μ, σ²) per pixel with σ = σ_min + (σ_max − σ_min)·sigmoid(a), by default
 *   σ ∈ (0.01, 1) (`xScale`). The report bounds the variance with a tanh because it grew until
 *   the gradients exploded; the sigmoid does the same job smoothly and also bounds σ from below:
 *   with the unbounded softplus(a) + 1e-4 of the latent heads, pixels that are constant in the data
 *   (MNIST's black borders) let σ → 1e-4 and log p(x | z) grow by ≈ 8 nats per pixel — a degenerate
 *   maximum that says nothing about the images. The floor caps every pixel's density at
 *   1/(σ_min √2π) (3.7 nats for σ_min = 0.01). `xScale: 'softplus'` keeps the old unbounded
 *   softplus(a) + minScale.
 *
 * Generative model p(x, z₁, z₂) = p(x | z₁) p(z₁ | z₂) p(z₂) with p(z_L) = N(0, I); inference model
 * q(z₁, z₂ | x) = q(z₁ | x) q(z₂ | z₁). Every latent conditional is a diagonal Gaussian whose σ is a
 * softplus (eq 3.29); p(x | z₁) is Bernoulli (logits) or Gaussian.
 *
 * **Training and evaluation behaviour.** Batch norm (conv only) and input corruption behave
 * differently in training. {@link Vae.mode} chooses: `'auto'` (the default) trains exactly when tfjs
 * is recording gradients (inside `tf.variableGrads`, `optimizer.minimize`, … — so the trainer's
 * steps train and every evaluation, sample or report evaluates, with no flag to pass), `'train'` and
 * `'eval'` force one behaviour.
 *
 * The model only returns log-terms ({@link LogTerms}); `objectives/` turns them into a bound.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Rng } from '../engine/rng.js';
import { ParamStore } from '../nn/params.js';
import { ACTIVATIONS, Dense, Mlp, activate } from '../nn/layers.js';
import { DEFAULT_MIN_SCALE, GaussianHead } from '../nn/heads.js';
import { BatchNorm, Conv2d, ConvTranspose2d } from '../nn/conv.js';
import { Normal, normalLogDensity } from '../dists/normal.js';
import { Bernoulli } from '../dists/bernoulli.js';
import { klDivergence, klStandardNormalPerUnit } from '../dists/kl.js';
import type { LogTerms } from '../objectives/bounds.js';

/** Bounds of the Gaussian observation scale σ = min + (max − min)·sigmoid(a). */
export const XScaleBoundsSchema = z
  .object({ min: z.number().gt(0, 'xScale.min must be > 0'), max: z.number().gt(0, 'xScale.max must be > 0') })
  .strict()
  .refine((s) => s.min < s.max, { message: 'xScale.min must be smaller than xScale.max' });

/** Default bounds of the Gaussian observation scale (data in [0, 1]). */
export const DEFAULT_X_SCALE = { min: 0.01, max: 1 } as const;

/** Schema of a VAE's configuration (the `model` section of a run config). */
export const VaeConfigSchema = z
  .object({
    type: z.literal('vae'),
    /** Sizes of the stochastic layers, bottom (z₁) first: [20] or [100, 50]. */
    latent: z.array(z.number().int().min(1)).min(1).max(2).default([20]),
    /**
     * Hidden widths of the deterministic networks between consecutive stochastic layers, bottom
     * first: hidden[0] sits between x and z₁, hidden[1] between z₁ and z₂. The decoder mirrors them.
     * With `arch: 'conv'`, hidden[0] sits between the flattened convolutional features and z₁.
     */
    hidden: z.array(z.array(z.number().int().min(1))).default([[500, 500]]),
    activation: z.enum(ACTIVATIONS).default('softplus'),
    likelihood: z.enum(['bernoulli', 'gaussian']).default('bernoulli'),
    /** Floor added to every latent Gaussian σ (softplus(·) + minScale). */
    minScale: z.number().min(0).default(DEFAULT_MIN_SCALE),
    /**
     * Scale of a Gaussian p(x | z₁): bounds {min, max} for σ = min + (max − min)·sigmoid(·), or
     * 'softplus' for the unbounded softplus(·) + minScale. Ignored for the Bernoulli likelihood.
     */
    xScale: z.union([z.literal('softplus'), XScaleBoundsSchema]).default({ ...DEFAULT_X_SCALE }),
    /** Denoising VAE: probability that salt-and-pepper noise replaces an input pixel while training. */
    corruption: z
      .number()
      .min(0, 'corruption must lie in [0, 1): it is the probability that salt-and-pepper noise replaces a pixel')
      .lt(1, 'corruption must lie in [0, 1): it is the probability that salt-and-pepper noise replaces a pixel')
      .default(0),
    /** Conditional VAE: number of classes of the one-hot label given to encoder and decoder (0: off). */
    conditional: z.number().int().min(0, 'conditional is a number of classes, ≥ 0 (0: not conditional)').default(0),
    /** `mlp`: dense networks; `conv`: two (transposed) convolutions with batch norm on square images. */
    arch: z.enum(['mlp', 'conv']).default('mlp'),
    /** Channels of the two convolutions of `arch: 'conv'` (the decoder mirrors them). */
    channels: z.array(z.number().int().min(1)).length(2).default([32, 64]),
    /** Input dimension; filled in from the data when omitted. */
    inputDim: z.number().int().min(1).optional(),
  })
  .strict();

/** A VAE configuration after defaults. */
export type VaeConfig = z.infer<typeof VaeConfigSchema>;

/** A VAE configuration as written by hand, before defaults (what {@link VaeConfigSchema} parses). */
export type VaeConfigInput = z.input<typeof VaeConfigSchema>;

/** Options added with the variants; a config built by hand may leave them out (they take their defaults). */
type VariantKeys = 'xScale' | 'corruption' | 'conditional' | 'arch' | 'channels';

/** What the {@link Vae} constructor accepts: a {@link VaeConfig} whose variant options may be left out. */
export type VaeModelConfig = Omit<VaeConfig, VariantKeys> & Partial<Pick<VaeConfig, VariantKeys>>;

/** Observation model p(x | z₁). */
export type Likelihood = 'bernoulli' | 'gaussian';

/** Training/evaluation behaviour of batch norm and input corruption; see {@link Vae.mode}. */
export type VaeMode = 'auto' | 'train' | 'eval';

/** Labels for a conditional VAE: class indices (an array, or an int tensor [B]) or one-hot rows [B, C]. */
export type LabelInput = tf.Tensor | ArrayLike<number>;

/** Kernel, stride and padding of every (transposed) convolution of the conv architecture. */
const CONV = { kernel: 4, stride: 2, pad: 1 } as const;

/** The convolutional parts of `arch: 'conv'`. */
interface ConvParts {
  side: number;
  enc: { c0: Conv2d; bn0: BatchNorm; c1: Conv2d; bn1: BatchNorm; features: number };
  dec: { fc: Dense; bnFc: BatchNorm; d0: ConvTranspose2d; bn2: BatchNorm; out: ConvTranspose2d };
}

/** Side of a square image with `dim` pixels whose side is a multiple of 4, or an error saying why not. */
export function convImageSide(dim: number): number {
  const side = Math.round(Math.sqrt(dim));
  if (side * side !== dim) {
    throw new Error(`Vae: arch 'conv' needs square single-channel images (e.g. 28×28 MNIST, inputDim 784); inputDim ${dim} is not a perfect square`);
  }
  if (side % 4 !== 0) {
    throw new Error(`Vae: arch 'conv' halves the image twice, so the side must be a multiple of 4 (e.g. 28×28 MNIST, inputDim 784); got ${side}×${side}`);
  }
  return side;
}

/** A one- or two-stochastic-layer VAE, with the denoising, conditional and convolutional options. */
export class Vae {
  readonly params = new ParamStore();
  readonly config: VaeConfig & { inputDim: number };
  /**
   * When batch norm uses batch statistics (and updates its running averages) and the encoder's input
   * is corrupted: `'auto'` exactly while gradients are being recorded, `'train'` always, `'eval'`
   * never.
   */
  mode: VaeMode = 'auto';
  private readonly encNets: Mlp[] = [];
  private readonly encHeads: GaussianHead[] = [];
  private readonly decNets: Mlp[] = [];
  /** Features of p(x | z₁) → its parameters (MLP architecture). */
  private readonly decOutX: Dense | null = null;
  /** decHeadsZ[i − 1] gives p(z_i | z_{i+1}). */
  private readonly decHeadsZ: GaussianHead[] = [];
  private readonly conv: ConvParts | null = null;

  constructor(config: VaeModelConfig, rng: Rng) {
    if (config.inputDim === undefined) throw new Error('Vae: config.inputDim is required (it is filled in from the data)');
    const L = config.latent.length;
    if (config.hidden.length !== L) {
      throw new Error(`Vae: 'hidden' must list one array of widths per stochastic layer (${L} for latent [${config.latent}]), got ${config.hidden.length}`);
    }
    const corruption = config.corruption ?? 0;
    if (!(corruption >= 0 && corruption < 1)) throw new Error(`Vae: corruption must lie in [0, 1) (the probability that salt-and-pepper noise replaces a pixel), got ${corruption}`);
    const C = config.conditional ?? 0;
    if (!Number.isInteger(C) || C < 0) throw new Error(`Vae: conditional must be a number of classes (an integer ≥ 0), got ${C}`);
    const xScale = config.xScale ?? { ...DEFAULT_X_SCALE };
    if (xScale !== 'softplus' && !(xScale.min > 0 && xScale.min < xScale.max)) {
      throw new Error(`Vae: xScale needs 0 < min < max, got min ${xScale.min}, max ${xScale.max}`);
    }
    const arch = config.arch ?? 'mlp';
    const channels = config.channels ?? [32, 64];
    this.config = { ...config, inputDim: config.inputDim, corruption, conditional: C, xScale, arch, channels };
    const D = config.inputDim;
    const dims = [D, ...config.latent];
    const ps = this.params;
    const act = config.activation;
    const xParams = config.likelihood === 'gaussian' ? 2 : 1;
    if (arch === 'conv') {
      const side = convImageSide(D);
      const [c1, c2] = channels;
      const q = side / 4;
      const c0 = new Conv2d(ps, 'enc0.conv0', 1, c1, rng, { ...CONV, bias: false });
      const bn0 = new BatchNorm(ps, 'enc0.bn0', c1);
      const cc1 = new Conv2d(ps, 'enc0.conv1', c1, c2, rng, { ...CONV, bias: false });
      const bn1 = new BatchNorm(ps, 'enc0.bn1', c2);
      const features = q * q * c2;
      const net = new Mlp(ps, 'enc0', features + C, config.hidden[0], rng, act);
      this.encNets.push(net);
      this.encHeads.push(new GaussianHead(ps, 'enc0.z', net.outDim, dims[1], rng, config.minScale));
      if (L > 1) this.pushUpper(rng);
      const dnet = new Mlp(ps, 'dec0', dims[1] + C, [...config.hidden[0]].reverse(), rng, act);
      this.decNets.unshift(dnet);
      const fc = new Dense(ps, 'dec0.fc', dnet.outDim, features, rng, 'linear');
      const bnFc = new BatchNorm(ps, 'dec0.bnFc', c2);
      const d0 = new ConvTranspose2d(ps, 'dec0.deconv0', c2, c1, rng, { ...CONV, bias: false });
      const bn2 = new BatchNorm(ps, 'dec0.bn2', c1);
      const out = new ConvTranspose2d(ps, 'dec0.x', c1, xParams, rng, { ...CONV });
      this.conv = { side, enc: { c0, bn0, c1: cc1, bn1, features }, dec: { fc, bnFc, d0, bn2, out } };
    } else {
      // creation order as before the variants, so a seed gives the same weights as it always did
      for (let i = 0; i < L; i++) {
        const net = new Mlp(ps, `enc${i}`, dims[i] + (i === 0 ? C : 0), config.hidden[i], rng, act);
        this.encNets.push(net);
        this.encHeads.push(new GaussianHead(ps, `enc${i}.z`, net.outDim, dims[i + 1], rng, config.minScale));
      }
      for (let i = 0; i < L; i++) {
        const widths = [...config.hidden[i]].reverse();
        const net = new Mlp(ps, `dec${i}`, dims[i + 1] + (i === 0 ? C : 0), widths, rng, act);
        this.decNets.push(net);
        if (i > 0) this.decHeadsZ.push(new GaussianHead(ps, `dec${i}.z`, net.outDim, dims[i], rng, config.minScale));
      }
      this.decOutX = new Dense(ps, 'dec0.x', this.decNets[0].outDim, xParams * D, rng, 'linear');
    }
  }

  /** The z₁ ↔ z₂ networks of a two-layer hierarchy (conv architecture; the MLP builds them in order). */
  private pushUpper(rng: Rng): void {
    const c = this.config;
    const net = new Mlp(this.params, 'enc1', c.latent[0], c.hidden[1], rng, c.activation);
    this.encNets.push(net);
    this.encHeads.push(new GaussianHead(this.params, 'enc1.z', net.outDim, c.latent[1], rng, c.minScale));
    const dnet = new Mlp(this.params, 'dec1', c.latent[1], [...c.hidden[1]].reverse(), rng, c.activation);
    this.decNets.push(dnet);
    this.decHeadsZ.push(new GaussianHead(this.params, 'dec1.z', dnet.outDim, c.latent[0], rng, c.minScale));
  }

  /** Number of stochastic layers. */
  get depth(): number {
    return this.config.latent.length;
  }

  /** Number of classes of a conditional VAE (0 when not conditional). */
  get numClasses(): number {
    return this.config.conditional;
  }

  /** Whether batch norm and corruption behave as in training right now (see {@link mode}). */
  get training(): boolean {
    return this.mode === 'train' || (this.mode === 'auto' && tf.engine().isTapeOn());
  }

  /**
   * One-hot labels [B, C] from `y` (class indices or one-hot rows), checked against the model:
   * null for an unconditional model (which refuses labels), an error naming the problem otherwise.
   */
  private oneHot(y: LabelInput | undefined, B: number, who: string): tf.Tensor | null {
    const C = this.config.conditional;
    if (C === 0) {
      if (y !== undefined) throw new Error(`${who}: labels were given, but this VAE is not conditional (config.conditional is 0)`);
      return null;
    }
    if (y === undefined) {
      throw new Error(`${who}: this is a conditional VAE (conditional: ${C} classes); pass the labels y, as ${B} class indices in 0..${C - 1} or a [${B}, ${C}] one-hot tensor`);
    }
    if (!(y instanceof tf.Tensor) || y.rank === 1) {
      const idx = y instanceof tf.Tensor ? y.dataSync() : y;
      if (idx.length !== B) throw new Error(`${who}: ${idx.length} labels for a batch of ${B}`);
      for (let i = 0; i < idx.length; i++) {
        const v = idx[i];
        if (!Number.isInteger(v) || v < 0 || v >= C) throw new Error(`${who}: label ${i} is ${v}; labels must be class indices in 0..${C - 1}`);
      }
      return tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from(idx), 'int32'), C).toFloat());
    }
    if (y.rank !== 2 || y.shape[1] !== C) {
      throw new Error(`${who}: labels have shape [${y.shape}]; expected ${B} class indices or one-hot rows of width ${C} (the number of classes)`);
    }
    if (y.shape[0] !== B) throw new Error(`${who}: ${y.shape[0]} label rows for a batch of ${B}`);
    const v = y.dataSync();
    for (let i = 0; i < v.length; i++) {
      if (!(v[i] >= 0 && v[i] <= 1)) throw new Error(`${who}: one-hot label entry [${Math.floor(i / C)}, ${i % C}] is ${v[i]}, outside [0, 1]`);
    }
    return tf.cast(y, 'float32');
  }

  /** Salt-and-pepper noise: each value replaced, with probability `corruption`, by 0 or 1 (even odds). */
  private corrupt(x: tf.Tensor, rng: Rng): tf.Tensor {
    const c = this.config.corruption;
    const keep = new Float32Array(x.size);
    const salt = new Float32Array(x.size);
    for (let i = 0; i < keep.length; i++) {
      if (rng.next() < c) salt[i] = rng.next() < 0.5 ? 1 : 0;
      else keep[i] = 1;
    }
    return tf.tidy(() => tf.add(tf.mul(x, tf.tensor(keep, x.shape)), tf.tensor(salt, x.shape)));
  }

  /** q(z₁ | x, y) for x [..., D] and one-hot y [..., C] (or null). */
  private encodeWith(x: tf.Tensor, y: tf.Tensor | null, training: boolean): Normal {
    const h = tf.tidy(() => {
      let feats = x;
      const cv = this.conv;
      if (cv) {
        const lead = x.shape.slice(0, -1);
        const img = tf.reshape(x, [-1, cv.side, cv.side, 1]);
        const e = cv.enc;
        const h1 = activate(e.bn0.apply(e.c0.apply(img), training), 'leaky-relu');
        const h2 = activate(e.bn1.apply(e.c1.apply(h1), training), 'leaky-relu');
        feats = tf.reshape(h2, [...lead, e.features]);
      }
      const inp = y ? tf.concat([feats, tf.broadcastTo(y, [...feats.shape.slice(0, -1), this.config.conditional])], -1) : feats;
      return this.encNets[0].apply(inp);
    });
    const q = this.encHeads[0].apply(h);
    h.dispose();
    return q;
  }

  /** Parameters of p(x | z₁, y) for z₁ [..., d₁]: logits [..., D], or loc and raw scale [..., 2D]. */
  private decodeRaw(z1: tf.Tensor, y: tf.Tensor | null, training: boolean): tf.Tensor {
    return tf.tidy(() => {
      const inp = y ? tf.concat([z1, tf.broadcastTo(y, [...z1.shape.slice(0, -1), this.config.conditional])], -1) : z1;
      const h = this.decNets[0].apply(inp);
      const cv = this.conv;
      if (!cv) return this.decOutX!.apply(h);
      const lead = h.shape.slice(0, -1);
      const d = cv.dec;
      const q = cv.side / 4;
      const c2 = this.config.channels[1];
      const f = tf.reshape(d.fc.apply(tf.reshape(h, [-1, h.shape[h.rank - 1]])), [-1, q, q, c2]);
      const g1 = tf.relu(d.bnFc.apply(f, training));
      const g2 = tf.relu(d.bn2.apply(d.d0.apply(g1), training));
      const out = d.out.apply(g2); // [N, side, side, 1 or 2]
      const D = this.config.inputDim;
      const flat = out.shape[3] === 1 ? tf.reshape(out, [-1, D]) : tf.reshape(tf.transpose(out, [0, 3, 1, 2]), [-1, out.shape[3] * D]);
      return tf.reshape(flat, [...lead, flat.shape[1] as number]);
    });
  }

  /** The observation distribution from decoder outputs (the caller owns its tensors). */
  private observation(raw: tf.Tensor): Bernoulli | Normal {
    if (this.config.likelihood === 'bernoulli') return new Bernoulli(raw);
    const [loc, a] = tf.split(raw, 2, -1);
    raw.dispose();
    const s = this.config.xScale;
    const scale = tf.tidy(() => {
      if (s === 'softplus') return this.config.minScale > 0 ? tf.add(tf.softplus(a), this.config.minScale) : tf.softplus(a);
      return tf.add(tf.mul(tf.sigmoid(a), s.max - s.min), s.min);
    });
    a.dispose();
    return new Normal(loc, scale);
  }

  /** q(z₁ | x) (q(z₁ | x, y) for a conditional VAE) for x [..., D]. */
  encode(x: tf.Tensor, y?: LabelInput): Normal {
    const yOne = this.oneHot(y, x.rank > 1 ? x.shape[x.rank - 2] : 1, 'Vae.encode');
    try {
      return this.encodeWith(x, yOne, this.training);
    } finally {
      yOne?.dispose();
    }
  }

  /** p(x | z₁) (p(x | z₁, y) for a conditional VAE) for z₁ [..., d₁]: Bernoulli or Normal. */
  decode(z1: tf.Tensor, y?: LabelInput): { logProb(x: tf.Tensor): tf.Tensor; mean(): tf.Tensor } {
    const yOne = this.oneHot(y, z1.rank > 1 ? z1.shape[z1.rank - 2] : 1, 'Vae.decode');
    try {
      return this.observation(this.decodeRaw(z1, yOne, this.training));
    } finally {
      yOne?.dispose();
    }
  }

  /**
   * Log-terms for x [B, D] with k importance samples per example: logLik, logPrior, logQ of shape
   * [k, B]; for one stochastic layer also the analytic KL(q(z|x) ‖ N(0, I)) [B]. Noise comes from
   * `rng`. A conditional VAE needs the labels `y` (B class indices or one-hot rows [B, C]); logLik
   * is then log p(x | z₁, y). With `corruption` > 0 and training behaviour (see {@link mode}), the
   * encoder sees the corrupted x̃ and logLik scores the clean x (`004_…` eq 4).
   */
  terms(x: tf.Tensor, k: number, rng: Rng, y?: LabelInput): LogTerms {
    if (!Number.isInteger(k) || k < 1) throw new Error(`Vae.terms: k must be an integer ≥ 1, got ${k}`);
    const D = this.config.inputDim;
    if (x.rank !== 2 || x.shape[1] !== D) throw new Error(`Vae.terms: x must be [B, ${D}], got shape [${x.shape}]`);
    const B = x.shape[0];
    return tf.tidy(() => {
      const training = this.training;
      const yOne = this.oneHot(y, B, 'Vae.terms');
      const xIn = training && this.config.corruption > 0 ? this.corrupt(x, rng.fork('corruption')) : x;
      const q1 = this.encodeWith(xIn, yOne, training);
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
      const px = this.observation(this.decodeRaw(z1, yOne, training));
      const logLik = px.logProb(x);
      return kl ? { logLik, logPrior, logQ, kl } : { logLik, logPrior, logQ };
    });
  }

  /**
   * Draws n samples from the generative model and returns the mean of p(x | z₁), [n, D]. For a
   * conditional VAE, `label` fixes the class: one index for all n, or n indices; without it the
   * labels run through the classes in turn (0, 1, …, C − 1, 0, …), an even draw from p(y).
   */
  sample(n: number, rng: Rng, label?: number | ArrayLike<number>): tf.Tensor {
    if (!Number.isInteger(n) || n < 1) throw new Error(`Vae.sample: n must be an integer ≥ 1, got ${n}`);
    const C = this.config.conditional;
    if (C === 0 && label !== undefined) throw new Error('Vae.sample: a label was given, but this VAE is not conditional (config.conditional is 0)');
    let labels: ArrayLike<number> | undefined;
    if (C > 0) {
      if (label === undefined) labels = Array.from({ length: n }, (_, i) => i % C);
      else if (typeof label === 'number') labels = new Array<number>(n).fill(label);
      else labels = label;
    }
    return tf.tidy(() => {
      const yOne = this.oneHot(labels, n, 'Vae.sample');
      const top = this.config.latent[this.depth - 1];
      let z = rng.normal([n, top]);
      if (this.depth === 2) {
        const g = this.decNets[1].apply(z);
        z = this.decHeadsZ[0].apply(g).sample(rng);
      }
      return this.observation(this.decodeRaw(z, yOne, this.training)).mean();
    });
  }

  /** Mean of p(x | z₁) at z₁ = E[q(z₁ | x)]: a deterministic reconstruction, [B, D] (labels y for a conditional VAE). */
  reconstruct(x: tf.Tensor, y?: LabelInput): tf.Tensor {
    return tf.tidy(() => {
      const B = x.rank > 1 ? x.shape[x.rank - 2] : 1;
      const yOne = this.oneHot(y, B, 'Vae.reconstruct');
      const training = this.training;
      return this.observation(this.decodeRaw(this.encodeWith(x, yOne, training).mean(), yOne, training)).mean();
    });
  }

  /**
   * Per-unit KL(q ‖ p) of every stochastic layer for x [B, D], one [B, d_l] tensor per layer
   * (thesis `003_…` appendix A fig. 4a, appendix B fig. 4). Top layer: the analytic
   * KL(q(z_L | ·) ‖ N(0, 1)) per unit; with two layers the bottom one is the one-sample estimate
   * log q(z₁ᵢ | x) − log p(z₁ᵢ | z₂) at z₁ ~ q(z₁ | x), z₂ ~ q(z₂ | z₁) (unbiased for the per-unit
   * term of the bound; averaging over a data set removes most of its noise), and the top layer's KL
   * is taken at that z₁.
   */
  klPerUnit(x: tf.Tensor, rng: Rng, y?: LabelInput): tf.Tensor[] {
    return tf.tidy(() => {
      const B = x.shape[0];
      const q1 = this.encodeWith(x, this.oneHot(y, B, 'Vae.klPerUnit'), this.training);
      if (this.depth === 1) return [klStandardNormalPerUnit(q1)];
      const z1 = q1.sample(rng);
      const q2 = this.encHeads[1].apply(this.encNets[1].apply(z1));
      const z2 = q2.sample(rng);
      const p1 = this.decHeadsZ[0].apply(this.decNets[1].apply(z2));
      const kl1 = tf.sub(normalLogDensity(z1, q1.mean(), q1.stddev()), normalLogDensity(z1, p1.mean(), p1.stddev()));
      return [kl1, klStandardNormalPerUnit(q2)];
    });
  }

  /**
   * Posterior means of every stochastic layer for x [B, D], one [B, d_l] tensor per layer: E[q(z₁ | x)]
   * and, with two layers, E[q(z₂ | z₁)] at z₁ = E[q(z₁ | x)] (a plug-in for E_q[z₂]). Used for
   * Burda et al.'s activity statistic Cov_x(E_q[u]).
   */
  posteriorMeans(x: tf.Tensor, y?: LabelInput): tf.Tensor[] {
    return tf.tidy(() => {
      const m1 = this.encodeWith(x, this.oneHot(y, x.shape[0], 'Vae.posteriorMeans'), this.training).mean();
      if (this.depth === 1) return [m1];
      return [m1, this.encHeads[1].apply(this.encNets[1].apply(m1)).mean()];
    });
  }

  /** Frees the model's variables. */
  dispose(): void {
    this.params.dispose();
  }
}
