/**
 * The semi²-supervised deep generative model of Gemp et al. (`000_…` §3, eqs 1–17, Algorithm 1,
 * appendix A.1 eq 20; `002_…` §2–3 and appendices A–B): a forward model p(y) p(z) p(x | y, z) and a
 * reverse model q(x) q(y | x) q(z | x, y) that share their networks — the recognition model of
 * each is the generative model of the other — trained from three sources at once.
 *
 * Spaces: y on the simplex (prior Dir(1), eq 1; q(y | x) the additive logistic normal, eq 17 with a
 * proper density, see `dists/flows.ts`) or discrete one-hot (uniform prior; q(y | x) Concrete for
 * samples, `002_…` §2); z on the box [lo, hi]^d (uniform prior, eq 2; q(z | x, y) a Gaussian through
 * the logistic flow, `002_…` appendix A); x Gaussian or Bernoulli; q(x) = U(−γ, γ)^D (eq 4), a
 * constant −D·log 2γ.
 *
 * Bounds, per example (each returned by its own method):
 * - (7)  labelled, forward:  E_q(z|x,y)[log p(x|y,z) − log q(z|x,y) + log p(y) + log p(z)]
 * - (8)  unlabelled x:       E_q(y,z|x)[log p(x|y,z) − log q(y|x) − log q(z|x,y) + log p(y) + log p(z)]
 * - (9)  labelled, reverse:  E_p(z)[log q(y|x) + log q(z|x,y) − log p(z) + log q(x)]   (off by default)
 * - (10) unfeatured y:       E_p(z)p(x|y,z)[log q(y|x) + log q(z|x,y) − log p(z) − log p(x|y,z) + log q(x)]
 * - (20) unfeatured (y, z):  E_p(x|y,z)[log q(y|x) + log q(z|x,y) − log p(x|y,z) + log q(x)]
 * and the discriminative losses (13) L(ȳ, y), ȳ the mean of q(y | x), and (14) ‖x̄ − x‖², x̄ the
 * mean of p(x | y, z), z ~ p(z). The objective (15) J = α_f J_f − α_f^d J_f^d + α_r J_r − α_r^d J_r^d
 * is maximised; {@link Semi2Dgm.loss} returns −J with per-source batch means.
 *
 * Choices where the papers are silent or loose (written down here, as the issue asks):
 * - x ~ p(x | y, z) in (10)/(20) is reparameterised for Gaussian x. For Bernoulli x it is a binary
 *   draw, treated as a constant, as the reference implementation does (its Bernoulli sample layer).
 *   With the mean image in its place, −log p(x̄ | y, z) would be the decoder's entropy and would
 *   push it towards blur; with a draw, that term has zero expected gradient, and the reverse bound
 *   trains q(y | x) and q(z | x, y) on generated inputs.
 * - Discrete y in (8): one Concrete sample feeds q(z | x, y) and p(x | y, z), and the y-terms
 *   E_q[log p(y) − log q(y|x)] are taken in closed form as −KL(Cat(q) ‖ Uniform) — or, with
 *   `yEstimator: 'enumerate'`, the sum over the K classes is exact (one K× batch).
 * - Importance weights ({@link Semi2Dgm.logWeights}) give IWAE(k) and the IW log-likelihood of
 *   log p(x, y) and log p(x) (y summed exactly when discrete).
 * - Observed discrete y (labelled, unfeatured): log q(y | x) is the categorical log-probability.
 * - The "mean" of the logistic normal, used for ȳ, is softmax([μ, 0]) (it has no closed-form mean).
 *
 * Deterministic mode (`variational: false`), the reference implementation's non-variational
 * objective (its `M2_x` / `M2_y` "nonvar" terms, read in `imgemp/untapped`, `untapped/M12.py`): every
 * distribution collapses to its point estimate (ȳ, the median z̄ of q(z | x, y), x̄ the mean of
 * p(x | y, z)) and the bounds become reconstruction errors. Unlabelled x: ‖x̄(ȳ(x), z̄(x, ȳ)) − x‖²
 * (Bernoulli x: the cross-entropy), weighted α_f; unfeatured y: L(ȳ(x̄(y, z)), y) with z observed
 * or drawn from p(z), weighted α_r; labelled pairs: the discriminative losses (13)–(14) only (the
 * reference zeroes its supervised bounds in this mode so as not to count them twice).
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Rng } from '../engine/rng.js';
import { ParamStore, withFrozen, withGradientScale } from '../nn/params.js';
import { ACTIVATIONS, Dense, Mlp } from '../nn/layers.js';
import { applyHead, BernoulliHead, DEFAULT_MIN_SCALE, GaussianHead } from '../nn/heads.js';
import { Normal } from '../dists/normal.js';
import { Concrete } from '../dists/concrete.js';
import { BoxNormal, LogisticNormal, logGamma } from '../dists/flows.js';
import { enumerateClasses, enumeratedElbo, enumeratedLabels } from '../objectives/enumerate.js';

/** The fields of {@link Semi2ConfigSchema}, before its cross-field check (for `.omit` / `.extend`). */
export const Semi2ConfigShape = z
  .object({
    type: z.literal('untapped'),
    /** Label space: compositions on the simplex, or one-hot classes. */
    labels: z.enum(['simplex', 'discrete']).default('simplex'),
    /** Components of y (minerals or classes). */
    classes: z.number().int().min(2).default(3),
    /** Dimension of the nuisance z. */
    latent: z.number().int().min(1).default(1),
    /** The box of z: [lo, hi] in every dimension. */
    box: z.tuple([z.number(), z.number()]).default([-1.5, 1.5]),
    /** Hidden widths of x → y, (x, y) → z and (y, z) → x (defaults: the CRISM setup, `000_…` A.2.2). */
    hidden: z
      .object({ qy: z.array(z.number().int().min(1)).default([5]), qz: z.array(z.number().int().min(1)).default([5]), px: z.array(z.number().int().min(1)).default([20]) })
      .strict()
      .default({ qy: [5], qz: [5], px: [20] }),
    activation: z.enum(ACTIVATIONS).default('tanh'),
    likelihood: z.enum(['gaussian', 'bernoulli']).default('gaussian'),
    /** Concrete temperature (discrete labels). */
    temperature: z.number().positive().default(0.5),
    /**
     * Discrete labels: how bound (8) sums over y — one reparameterised Concrete sample (`concrete`,
     * the papers' choice and the default) or exactly, by enumerating the K classes in one K× batch
     * (`enumerate`, thesis `003_…` eq 4.8 via `objectives/enumerate.ts`). Ignored for simplex labels.
     */
    yEstimator: z.enum(['concrete', 'enumerate']).default('concrete'),
    /** Half-width γ of the uniform q(x) = U(−γ, γ). */
    qxGamma: z.number().positive().default(1000),
    minScale: z.number().min(0).default(DEFAULT_MIN_SCALE),
    /**
     * false: the reference's non-variational mode, the limit of zero posterior variance and flat
     * priors, trained as a pair of autoencoders (see {@link Semi2Dgm.loss}). Default true.
     */
    variational: z.boolean().default(true),
    /**
     * 0 (default): q(y | x) reads x. k > 0: q(y | x) reads E[s | x], the posterior mean of a
     * k-component probabilistic PCA of the training inputs (labelled and unlabelled; `eval/ppca.ts`),
     * set with {@link Semi2Dgm.setQyProjection} before training and saved with the model. The other
     * networks read x.
     */
    qyComponents: z.number().int().min(0).default(0),
    inputDim: z.number().int().min(1).optional(),
  })
  .strict();

/** Checks that the box of z is [lo, hi] with lo < hi. */
export const boxIsOrdered = (c: { box: [number, number] }): boolean => c.box[1] > c.box[0];

/** Schema of the semi²-supervised model's configuration. */
export const Semi2ConfigSchema = Semi2ConfigShape.refine(boxIsOrdered, { message: 'box must be [lo, hi] with lo < hi', path: ['box'] });

/** A semi²-supervised model configuration after defaults. */
export type Semi2Config = z.infer<typeof Semi2ConfigSchema>;

/** Weights of eq 15 and the discriminative losses. */
export interface Semi2Weights {
  alphaF: number;
  alphaFd: number;
  alphaR: number;
  alphaRd: number;
  /** L of eq 13: KL(y ‖ ȳ) (the papers' choice), squared error, or cross-entropy −Σ y log ȳ. */
  yLoss?: 'kl' | 'l2' | 'ce';
  /** Include the labelled reverse bound (9) in J_r (off by default, as `002_…` appendix E.3). */
  reverseLabelled?: boolean;
  /**
   * Variant, not the papers' objective. false: the reverse bounds (9), (10), (20) hold q(y | x)
   * and q(z | x, y) fixed and train only p(x | y, z) — the generated x is pulled towards what the
   * recognition networks call y, but those networks never fit the generated x. Default true.
   */
  reverseTrainsQ?: boolean;
  /**
   * Variant, not the papers' objective. false: drop −log p(x | y, z), the decoder's entropy, from
   * (10) and (20), so the reverse bound does not reward a wide decoder where no x constrains it.
   * Default true.
   */
  reverseEntropy?: boolean;
  /**
   * Factor in [0, 1] on the gradient that the unlabelled bound (8) sends into q(y | x) (default 1,
   * the papers' objective). 0 cuts that feedback: unlabelled x then train p(x | y, z) and
   * q(z | x, y), and q(y | x) learns from the labels (and, in the semi² model, from the reverse
   * bounds on generated x) only — "cutting feedback" from a misspecified module (Plummer 2015,
   * Jacob et al. 2017). On real NIR spectra, where y explains little of x, the full pull makes
   * q(y | x) map unlabelled rows to codes that help reconstruction rather than to labels
   * (docs/semi-supervised-real.md); the library's defaults for user tables cut it
   * (`defaultWeights` in `experiments/estimator.ts`).
   */
  unlabelledQy?: number;
  /**
   * Variant, not the papers' objective. Strength c ≥ 0 of a Gaussian prior on the first-layer
   * weights W of q(y | x) (the layer that reads x, or its projection): each weight ~ N(0, 1/(c·m)),
   * m the layer's fan-in, so c = 1 is the scale the initialisation draws from (a unit-order
   * pre-activation for standardised inputs). Its log density enters J once, on the per-row scale
   * of the labelled source: J −= c·m·‖W‖² / (2 N), N = {@link qyPriorRows}. MAP estimation of q(y | x)
   * under this prior is ridge-like shrinkage; with D ≫ N labelled rows it keeps q(y | x) from
   * interpolating the labels with large weights on noise channels (docs/semi-supervised-real.md).
   * Default 0: none (a flat prior, the papers').
   */
  qyPrior?: number;
  /** N of {@link qyPrior}: the number of labelled rows (the estimator fills it in). Default 1. */
  qyPriorRows?: number;
}

/** One training batch from the three sources (each optional). */
export interface Semi2Batch {
  labelled?: { x: tf.Tensor; y: tf.Tensor };
  unlabelled?: { x: tf.Tensor };
  /** Unfeatured labels; with `z`, bound (20) (z observed), otherwise (10). */
  unfeatured?: { y: tf.Tensor; z?: tf.Tensor };
}

const EPS = 1e-6;

/** A binary draw from Bernoulli(probs) as a new constant tensor (no path back to `probs`). */
function constantDraw(probs: tf.Tensor, rng: Rng): tf.Tensor {
  const u = rng.uniform(probs.shape);
  const bits = tf.tidy(() => tf.cast(tf.less(u, probs), 'float32').dataSync() as Float32Array);
  u.dispose();
  return tf.tensor(bits, probs.shape, 'float32');
}

/** The semi²-supervised model (see the module doc). */
export class Semi2Dgm {
  readonly params = new ParamStore();
  readonly config: Semi2Config & { inputDim: number };
  private readonly qyNet: Mlp;
  private readonly qyGauss?: GaussianHead;
  private readonly qyLogits?: Dense;
  private readonly qzNet: Mlp;
  private readonly qzHead: GaussianHead;
  private readonly pxNet: Mlp;
  private readonly pxHead: GaussianHead | BernoulliHead;
  /** The weights of q(y | x) and q(z | x, y) (fixed once the networks are built). */
  private readonly qVars: tf.Variable[];
  /** The weights of q(y | x) alone. */
  private readonly qyVars: tf.Variable[];
  /** The first-layer weights of q(y | x) (those that read its input) and their fan-in, for {@link Semi2Weights.qyPrior}. */
  private readonly qyFirstW: tf.Variable;
  private readonly qyFanIn: number;
  /** x ↦ (x − mean) P, the input of q(y | x) when `qyComponents` > 0 (constants, not trained). */
  private qyProj: { mean: tf.Tensor1D; P: tf.Tensor2D } | null = null;

  constructor(config: Semi2Config, rng: Rng) {
    if (config.inputDim === undefined) throw new Error('untapped model: config.inputDim is required (it is filled in from the data)');
    this.config = { ...config, inputDim: config.inputDim };
    const { inputDim: D, classes: K, latent: Z, hidden, activation: act, minScale } = this.config;
    const ps = this.params;
    const kq = this.config.qyComponents ?? 0;
    if (kq > D) throw new Error(`untapped model: qyComponents ${kq} exceeds the input width ${D}`);
    this.qyNet = new Mlp(ps, 'qy', kq > 0 ? kq : D, hidden.qy, rng, act);
    if (config.labels === 'simplex') this.qyGauss = new GaussianHead(ps, 'qy.u', this.qyNet.outDim, K - 1, rng, minScale);
    else this.qyLogits = new Dense(ps, 'qy.logits', this.qyNet.outDim, K, rng, 'linear');
    this.qzNet = new Mlp(ps, 'qz', D + K, hidden.qz, rng, act);
    this.qzHead = new GaussianHead(ps, 'qz.zt', this.qzNet.outDim, Z, rng, minScale);
    this.pxNet = new Mlp(ps, 'px', K + Z, hidden.px, rng, act);
    this.pxHead = config.likelihood === 'gaussian' ? new GaussianHead(ps, 'px.x', this.pxNet.outDim, D, rng, minScale) : new BernoulliHead(ps, 'px.x', this.pxNet.outDim, D, rng);
    this.qVars = ps.entries().flatMap(([name, v]) => (name.startsWith('qy.') || name.startsWith('qz.') ? [v] : []));
    this.qyVars = ps.entries().flatMap(([name, v]) => (name.startsWith('qy.') ? [v] : []));
    this.qyFanIn = this.qyNet.inDim;
    this.qyFirstW = hidden.qy.length ? this.qyNet.layers[0].W : ps.get(config.labels === 'simplex' ? 'qy.u.W' : 'qy.logits.W');
  }

  // ---- the shared networks --------------------------------------------------------------------

  /**
   * Sets the input map of q(y | x), x ↦ (x − mean) P, for a model with `qyComponents` = k > 0:
   * `mean` of length D, `P` D × k row-major (e.g. `ppcaPosteriorMap` of `eval/ppca.ts`). Replaces
   * any earlier map.
   * @throws on wrong lengths or non-finite values, or when the model has `qyComponents` = 0.
   */
  setQyProjection(mean: ArrayLike<number>, P: ArrayLike<number>): void {
    const { inputDim: D, qyComponents: k } = this.config;
    if (!k) throw new Error('setQyProjection: this model has qyComponents = 0 (q(y | x) reads x)');
    if (mean.length !== D || P.length !== D * k) throw new Error(`setQyProjection: need a mean of ${D} and a ${D} × ${k} map, got ${mean.length} and ${P.length} values`);
    for (const a of [mean, P]) for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw new Error(`setQyProjection: value ${i} is ${a[i]}`);
    this.qyProj?.mean.dispose();
    this.qyProj?.P.dispose();
    this.qyProj = { mean: tf.tensor1d(Float32Array.from(mean)), P: tf.tensor2d(Float32Array.from(P), [D, k]) };
  }

  /** The input map of q(y | x) (copies), or null when q(y | x) reads x. */
  qyProjection(): { mean: Float32Array; P: Float32Array } | null {
    if (!this.qyProj) return null;
    return { mean: Float32Array.from(this.qyProj.mean.dataSync()), P: Float32Array.from(this.qyProj.P.dataSync()) };
  }

  /** What q(y | x) reads: x, or (x − mean) P with the projection. */
  private qyIn(x: tf.Tensor): tf.Tensor {
    if (!this.config.qyComponents) return x;
    if (!this.qyProj) throw new Error('untapped model: qyComponents > 0 but no projection set (setQyProjection; the estimator sets it when fitting)');
    const { mean, P } = this.qyProj;
    return tf.tidy(() => tf.matMul(tf.sub(x, mean), P));
  }

  /** q(y | x) as a logistic normal (simplex labels). */
  private qySimplex(x: tf.Tensor): LogisticNormal {
    return new LogisticNormal(applyHead(this.qyNet, this.qyGauss!, [this.qyIn(x)]));
  }

  /** Logits of q(y | x) (discrete labels). */
  private qyLogitsOf(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.qyLogits!.apply(this.qyNet.apply(this.qyIn(x))));
  }

  /** log q(y | x) of observed labels y [B, K]. */
  logQy(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (this.config.labels === 'simplex') return this.qySimplex(x).logProb(tf.clipByValue(y, EPS, 1));
      return tf.sum(tf.mul(y, tf.logSoftmax(this.qyLogitsOf(x))), -1);
    });
  }

  /** ȳ, the mean of q(y | x) (softmax([μ, 0]) for the logistic normal), [B, K]. */
  predict(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (this.config.labels === 'discrete') return tf.softmax(this.qyLogitsOf(x));
      const mu = applyHead(this.qyNet, this.qyGauss!, [this.qyIn(x)]).mean();
      return tf.softmax(tf.concat([mu, tf.zeros([mu.shape[0], 1])], -1));
    });
  }

  /** `n` draws of y ~ q(y | x) (Concrete draws for discrete labels), [n, B, K]. */
  sampleY(x: tf.Tensor, n: number, rng: Rng): tf.Tensor {
    return tf.tidy(() => {
      if (this.config.labels === 'simplex') return this.qySimplex(x).rsample(rng, n);
      const logits = this.qyLogitsOf(x);
      return tf.stack(Array.from({ length: n }, () => new Concrete(logits, this.config.temperature).rsample(rng)));
    });
  }

  /** The median of q(z | x, y): the flow applied to the Gaussian's mean, [B, d]. */
  encodeMedian(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const q = this.qz(x, y);
      const [lo, hi] = this.config.box;
      return tf.add(tf.mul(tf.sigmoid(q.base.mean()), hi - lo), lo);
    });
  }

  /** q(z | x, y), a Gaussian through the logistic flow onto the box. */
  qz(x: tf.Tensor, y: tf.Tensor): BoxNormal {
    return new BoxNormal(applyHead(this.qzNet, this.qzHead, [x, y]), this.config.box[0], this.config.box[1]);
  }

  /** p(x | y, z). */
  px(y: tf.Tensor, zz: tf.Tensor): { logProb(x: tf.Tensor): tf.Tensor; mean(): tf.Tensor; rsample?: (rng: Rng) => tf.Tensor } {
    return applyHead<unknown>(this.pxNet, this.pxHead, [y, zz]) as { logProb(x: tf.Tensor): tf.Tensor; mean(): tf.Tensor; rsample?: (rng: Rng) => tf.Tensor };
  }

  /** Mean of p(x | y, z): the generated spectrum or image for labels y [B, K] and nuisances z [B, d]. */
  generate(y: tf.Tensor, zz: tf.Tensor): tf.Tensor {
    this.checkY(y, 'generate: y');
    this.checkZ(zz, 'generate: z');
    return tf.tidy(() => this.px(y, zz).mean());
  }

  /** log p(y): log Γ(K) for Dir(1), −log K for the uniform categorical. */
  logPriorY(): number {
    const K = this.config.classes;
    return this.config.labels === 'simplex' ? logGamma(K) : -Math.log(K);
  }

  /** log p(z) = −d·log(hi − lo) on the box. */
  logPriorZ(): number {
    const [lo, hi] = this.config.box;
    return -this.config.latent * Math.log(hi - lo);
  }

  /** log q(x) = −D·log 2γ. */
  logQx(): number {
    return -this.config.inputDim * Math.log(2 * this.config.qxGamma);
  }

  /** z ~ p(z) = U(lo, hi)^d, [n, d]. */
  samplePriorZ(n: number, rng: Rng): tf.Tensor {
    const [lo, hi] = this.config.box;
    return rng.uniform([n, this.config.latent], lo, hi);
  }

  // ---- bounds ---------------------------------------------------------------------------------

  /** Bound (7) per example [B]. */
  boundLabelledForward(x: tf.Tensor, y: tf.Tensor, rng: Rng): tf.Tensor {
    this.checkY(y, 'labelled y');
    return tf.tidy(() => {
      const { z: zz, logProb: logQz } = this.qz(x, y).rsampleWithLogProb(rng);
      return tf.add(tf.sub(this.px(y, zz).logProb(x), logQz), this.logPriorY() + this.logPriorZ());
    });
  }

  /**
   * Bound (8) per example [B]. Discrete labels with `yEstimator: 'enumerate'`: the exact
   * Σ_y q(y | x) [bound (7) at y] + H(q(y | x)) over the K classes (`enumeratedElbo`).
   */
  boundUnlabelled(x: tf.Tensor, rng: Rng): tf.Tensor {
    return tf.tidy(() => {
      if (this.config.labels === 'discrete' && this.config.yEstimator === 'enumerate') {
        const { y: yk, tiled } = enumerateClasses(this.config.classes, [x]);
        return enumeratedElbo(this.qyLogitsOf(x), this.boundLabelledForward(tiled[0], yk, rng));
      }
      let y: tf.Tensor;
      let yTerms: tf.Tensor; // E_q[log p(y) − log q(y|x)] for this sample
      if (this.config.labels === 'simplex') {
        const q = this.qySimplex(x);
        y = q.rsample(rng);
        yTerms = tf.sub(this.logPriorY(), q.logProb(tf.clipByValue(y, EPS, 1)));
      } else {
        const logits = this.qyLogitsOf(x);
        y = new Concrete(logits, this.config.temperature).rsample(rng);
        const logq = tf.logSoftmax(logits);
        yTerms = tf.neg(tf.add(tf.sum(tf.mul(tf.exp(logq), logq), -1), Math.log(this.config.classes)));
      }
      const { z: zz, logProb: logQz } = this.qz(x, y).rsampleWithLogProb(rng);
      return tf.add(tf.add(tf.sub(this.px(y, zz).logProb(x), logQz), yTerms), this.logPriorZ());
    });
  }

  /**
   * Importance log-weights [k, B] for x [B, D] (Burda et al. 2015; thesis `003_…` eq 3.31); their
   * log-mean-exp over k is IWAE(k), and with k large the log-likelihood:
   * - labels `y` [B, K] given: of log p(x, y), log w = log p(x | y, z) + log p(y) + log p(z) − log q(z | x, y);
   * - discrete labels, none given: of log p(x), y summed exactly inside each weight,
   *   log w = log Σ_y p(x, y, z_y) / q(z_y | x, y) (z drawn per class);
   * - simplex labels, none given: of log p(x) with the proposal q(y | x) q(z | x, y),
   *   log w = log p(x | y, z) + log p(y) + log p(z) − log q(y | x) − log q(z | x, y).
   * @throws Error for a deterministic model (no densities) or k not an integer ≥ 1.
   */
  logWeights(x: tf.Tensor, k: number, rng: Rng, y?: tf.Tensor): tf.Tensor {
    if (!this.config.variational) throw new Error('a deterministic model (variational: false) has no densities to importance-weight');
    if (!Number.isInteger(k) || k < 1) throw new Error(`logWeights: k must be an integer ≥ 1, got ${k}`);
    const B = x.shape[0];
    return tf.tidy(() => {
      const xk = tf.tile(x, [k, 1]); // sample-major: row j·B + b
      if (y !== undefined) {
        this.checkY(y, 'labels');
        return tf.reshape(this.boundLabelledForward(xk, tf.tile(y, [k, 1]), rng), [k, B]);
      }
      if (this.config.labels === 'discrete') {
        const K = this.config.classes;
        // [K·k·B] class-major, each class's rows sample-major: fold to [K, k, B] and sum over y
        const f = this.boundLabelledForward(tf.tile(xk, [K, 1]), enumeratedLabels(K, k * B), rng);
        return tf.logSumExp(tf.reshape(f, [K, k, B]), 0);
      }
      const q = this.qySimplex(xk);
      const yy = q.rsample(rng);
      const logQy = q.logProb(tf.clipByValue(yy, EPS, 1));
      return tf.reshape(tf.sub(this.boundLabelledForward(xk, yy, rng), logQy), [k, B]);
    });
  }

  /** Bound (9) per example [B]: z ~ p(z). */
  boundLabelledReverse(x: tf.Tensor, y: tf.Tensor, rng: Rng): tf.Tensor {
    this.checkY(y, 'labelled y');
    return tf.tidy(() => {
      const zz = tf.clipByValue(this.samplePriorZ(x.shape[0], rng), this.config.box[0] + EPS, this.config.box[1] - EPS);
      return tf.add(tf.add(this.logQy(x, y), this.qz(x, y).logProb(zz)), this.logQx() - this.logPriorZ());
    });
  }

  /**
   * Bound (20) per example [B] when `z` is given (z observed, the papers' experimental choice),
   * else bound (10) with z ~ p(z). x ~ p(x | y, z) is reparameterised (Gaussian) or a constant
   * binary draw (Bernoulli). `entropy = false` leaves out −log p(x | y, z) (a variant, see
   * {@link Semi2Weights.reverseEntropy}).
   */
  boundUnfeatured(y: tf.Tensor, rng: Rng, zObserved?: tf.Tensor, entropy = true): tf.Tensor {
    this.checkY(y, 'unfeatured y');
    if (zObserved) this.checkZ(zObserved, 'unfeatured z');
    return tf.tidy(() => {
      const zz = zObserved ?? this.samplePriorZ(y.shape[0], rng);
      const p = this.px(y, zz);
      const x = this.config.likelihood === 'gaussian' ? (p as unknown as Normal).rsample(rng) : constantDraw(p.mean(), rng);
      let b = tf.add(tf.add(this.logQy(x, y), this.qz(x, y).logProb(tf.clipByValue(zz, this.config.box[0] + EPS, this.config.box[1] - EPS))), this.logQx());
      if (entropy) b = tf.sub(b, p.logProb(x));
      if (!zObserved) b = tf.sub(b, this.logPriorZ());
      return b;
    });
  }

  /** Discriminative loss (13) per example [B]: L(ȳ, y). */
  lossY(x: tf.Tensor, y: tf.Tensor, kind: 'kl' | 'l2' | 'ce' = 'kl'): tf.Tensor {
    this.checkY(y, 'labelled y');
    return tf.tidy(() => {
      const yb = tf.clipByValue(this.predict(x), EPS, 1);
      if (kind === 'l2') return tf.sum(tf.square(tf.sub(yb, y)), -1);
      if (kind === 'ce') return tf.neg(tf.sum(tf.mul(y, tf.log(yb)), -1));
      return tf.sum(tf.mul(y, tf.sub(tf.log(tf.clipByValue(y, EPS, 1)), tf.log(yb))), -1); // KL(y ‖ ȳ)
    });
  }

  /** Discriminative loss (14) per example [B]: ‖x̄ − x‖², x̄ the mean of p(x | y, z), z ~ p(z). */
  lossX(x: tf.Tensor, y: tf.Tensor, rng: Rng): tf.Tensor {
    return tf.tidy(() => tf.sum(tf.square(tf.sub(this.px(y, this.samplePriorZ(x.shape[0], rng)).mean(), x)), -1));
  }

  /**
   * Deterministic mode's loss of unlabelled x per example [B]: x → ȳ → z̄ → x̄, scored by the
   * squared error (Gaussian x) or the cross-entropy (Bernoulli x).
   */
  reconstructionX(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const yb = this.predict(x);
      const xb = this.px(yb, this.encodeMedian(x, yb)).mean();
      if (this.config.likelihood === 'gaussian') return tf.sum(tf.square(tf.sub(xb, x)), -1);
      const p = tf.clipByValue(xb, EPS, 1 - EPS);
      return tf.neg(tf.sum(tf.add(tf.mul(x, tf.log(p)), tf.mul(tf.sub(1, x), tf.log(tf.sub(1, p)))), -1));
    });
  }

  /**
   * Deterministic mode's loss of unfeatured labels per example [B]: (y, z) → x̄ → ȳ, scored by
   * L(ȳ, y) of (13); z observed when given, else drawn from p(z).
   */
  reconstructionY(y: tf.Tensor, rng: Rng, zObserved?: tf.Tensor, kind: 'kl' | 'l2' | 'ce' = 'kl'): tf.Tensor {
    this.checkY(y, 'unfeatured y');
    if (zObserved) this.checkZ(zObserved, 'unfeatured z');
    return tf.tidy(() => this.lossY(this.px(y, zObserved ?? this.samplePriorZ(y.shape[0], rng)).mean(), y, kind));
  }

  /**
   * −J of eq 15 with per-source batch means; sources absent from the batch contribute nothing. In
   * deterministic mode (`variational: false`) the bounds are replaced by {@link reconstructionX}
   * and {@link reconstructionY} (see the module doc).
   */
  loss(batch: Semi2Batch, rng: Rng, w: Semi2Weights): tf.Scalar {
    for (const [k, v] of Object.entries({ alphaF: w.alphaF, alphaFd: w.alphaFd, alphaR: w.alphaR, alphaRd: w.alphaRd })) {
      if (!(v >= 0)) throw new Error(`${k} must be ≥ 0, got ${v}`);
    }
    const u = w.unlabelledQy ?? 1;
    if (!(u >= 0 && u <= 1)) throw new Error(`unlabelledQy must be in [0, 1], got ${u}`);
    if (!((w.qyPrior ?? 0) >= 0)) throw new Error(`qyPrior must be ≥ 0, got ${w.qyPrior}`);
    if (!((w.qyPriorRows ?? 1) >= 1)) throw new Error(`qyPriorRows must be ≥ 1, got ${w.qyPriorRows}`);
    return tf.tidy(() => {
      let j: tf.Tensor = tf.scalar(0);
      // terms with weight 0 are not computed at all (so they draw no noise)
      const add = (weight: number, term: () => tf.Tensor) => {
        if (weight !== 0) j = tf.add(j, tf.mul(tf.mean(term()), weight));
      };
      // the prior on q(y | x)'s first layer: once per step, on the labelled source's per-row scale
      const prior = w.qyPrior ?? 0;
      if (prior > 0) add(-(prior * this.qyFanIn) / (2 * (w.qyPriorRows ?? 1)), () => tf.sum(tf.square(this.qyFirstW)));
      if (!this.config.variational) {
        if (batch.labelled) {
          const { x, y } = batch.labelled;
          add(-w.alphaFd, () => this.lossY(x, y, w.yLoss ?? 'kl'));
          add(-w.alphaRd, () => this.lossX(x, y, rng));
        }
        if (batch.unlabelled) add(-w.alphaF, () => this.reconstructionX(batch.unlabelled!.x));
        if (batch.unfeatured) add(-w.alphaR, () => this.reconstructionY(batch.unfeatured!.y, rng, batch.unfeatured!.z, w.yLoss ?? 'kl'));
        return tf.neg(j) as tf.Scalar;
      }
      if (batch.labelled) {
        const { x, y } = batch.labelled;
        add(w.alphaF, () => this.boundLabelledForward(x, y, rng));
        add(-w.alphaFd, () => this.lossY(x, y, w.yLoss ?? 'kl'));
        if (w.reverseLabelled) add(w.alphaR, () => this.reverse(w, () => this.boundLabelledReverse(x, y, rng)));
        add(-w.alphaRd, () => this.lossX(x, y, rng));
      }
      if (batch.unlabelled) add(w.alphaF, () => withGradientScale(this.qyVars, w.unlabelledQy ?? 1, () => this.boundUnlabelled(batch.unlabelled!.x, rng)));
      if (batch.unfeatured) add(w.alphaR, () => this.reverse(w, () => this.boundUnfeatured(batch.unfeatured!.y, rng, batch.unfeatured!.z, w.reverseEntropy ?? true)));
      return tf.neg(j) as tf.Scalar;
    });
  }

  /** Computes a reverse-bound term, with the recognition networks held fixed when the weights ask for it. */
  private reverse(w: Semi2Weights, term: () => tf.Tensor): tf.Tensor {
    return w.reverseTrainsQ === false ? withFrozen(this.qVars, term) : term();
  }

  // ---- validation -----------------------------------------------------------------------------

  /**
   * Checks labels: width K; simplex rows non-negative and summing to 1 within 1e-4; discrete rows
   * one-hot. Errors name the row (and `what`, e.g. a file name).
   */
  checkY(y: tf.Tensor, what: string): void {
    const K = this.config.classes;
    if (y.rank !== 2 || y.shape[1] !== K) throw new Error(`${what}: labels must have ${K} columns, got shape [${y.shape}]`);
    const v = y.dataSync();
    for (let r = 0; r < y.shape[0]; r++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const e = v[r * K + k];
        if (!(e >= 0)) throw new Error(`${what}: row ${r}, column ${k} is ${e}; labels must be non-negative`);
        if (this.config.labels === 'discrete' && e !== 0 && e !== 1) throw new Error(`${what}: row ${r} is not one-hot (column ${k} is ${e})`);
        s += e;
      }
      if (Math.abs(s - 1) > 1e-4) throw new Error(`${what}: row ${r} sums to ${s}, not 1 (tolerance 1e-4)`);
    }
  }

  /** Checks that z lies inside the box, naming the row. */
  checkZ(zz: tf.Tensor, what: string): void {
    const [lo, hi] = this.config.box;
    const d = this.config.latent;
    if (zz.rank !== 2 || zz.shape[1] !== d) throw new Error(`${what}: z must have ${d} columns, got shape [${zz.shape}]`);
    const v = zz.dataSync();
    for (let i = 0; i < v.length; i++) {
      if (!(v[i] > lo && v[i] < hi)) throw new Error(`${what}: row ${Math.floor(i / d)}, column ${i % d} is ${v[i]}, outside the box (${lo}, ${hi})`);
    }
  }

  /** Frees the model's variables. */
  dispose(): void {
    this.params.dispose();
    this.qyProj?.mean.dispose();
    this.qyProj?.P.dispose();
    this.qyProj = null;
  }
}
