/**
 * Semi-supervised deep generative models with a discrete label y: M2, ADGM and SDGM, declared once
 * as one family (thesis `003_…` §4.1–4.2 and appendix A; Kingma et al. 2014; Maaløe et al. 2016).
 *
 * - **M2** (eqs 4.1–4.11): p(y) p(z) p(x | y, z); inference q(y | x) q(z | x, y).
 * - **ADGM** (eqs 4.12–4.23, appendix A §2.3 eqs 3–9, §3 and eq 17): auxiliary a; generative
 *   p(y) p(z) p(a | z, y) p(x | z, y); inference q(a | x) q(y | a, x) q(z | a, y, x).
 *   The papers define a's generative distribution with x, p(a | z, y, x) (appendix A eq 5, thesis
 *   eq 4.21), but state p(a | z, y) for the benchmarks (appendix A §3), as the issue does; that is
 *   the default, and `auxPriorX: true` gives eq 5. With x, p(a | ·) can follow q(a | x) and the
 *   bound no longer asks a to be predictable from (z, y): on half-moons (3 labels per class, seeds
 *   0–4, 10 epochs) the ADGM then errs on 0.18, 18.8, 10.3, 0.16 and 3.4% of test points against
 *   0.06–0.13% with p(a | z, y), whose a clusters by class (appendix A fig. 2d).
 * - **SDGM**: a is a latent of the generative model, p(a | z, y) p(x | a, z, y) (the skip
 *   connection); p(a | ·) cannot see x there.
 *
 * p(y) is uniform over K classes, p(z) = N(0, I); every Gaussian conditional has σ = softplus + floor.
 * Bounds per example, with β weighting the latent (KL-like) terms for warm-up:
 *   labelled   −L(x, y) = E_q(a,z|x,y)[log p(x|·) + log p(y) + β(log p(z) + log p(a|·) − log q(a|x) − log q(z|a,y,x))]
 *   unlabelled −U(x)    = E_q(a|x)[Σ_y q(y|a,x)(log p(x|·) + log p(y) + β(log p(z) + log p(a|·) − log q(z|a,y,x))) + H(q(y|a,x)) − β log q(a|x)]
 * and the training loss J^α = mean_l L + mean_u U + α · mean_l[−log q(y|a,x)] (eq 4.10; per-batch
 * means, as the ADGM paper's half-labelled batches). The sum over y runs either exactly, as one K×
 * batch ({@link enumerateClasses}), or — `yEstimator: 'concrete'` — with one reparameterised
 * Concrete (Gumbel-softmax) sample of y at temperature τ in place of the sum, in which case the
 * y-part of the bound, E_q[log p(y)] + H(q), is taken in closed form as −KL(q(y|·) ‖ Uniform).
 * `samples` Monte Carlo draws of (a, z) per example are averaged (eq 17 of appendix A).
 *
 * The model only runs the networks: {@link SemiSupervisedDgm.labelledTerms} and
 * {@link SemiSupervisedDgm.unlabelledTerms} return the named per-row log-densities (logPx, logPy,
 * logPz, logQz, logPa, logQa, per enumerated class where y is summed) and q(y | ·)'s logits, and
 * every bound above is computed from them in `objectives/semi-supervised.ts` (with
 * `objectives/enumerate.ts` and `objectives/concrete.ts`). The same terms give IWAE(k) and the
 * importance-weighted log-likelihood ({@link SemiSupervisedDgm.iwae},
 * {@link SemiSupervisedDgm.logLikelihood}): log p(x, y) for labelled x, log p(x) with y summed
 * exactly inside each importance weight for unlabelled x.
 *
 * The unsupervised AVAE (appendix A eqs 19–20, L = 1 or 2) is `models/avae.ts`.
 *
 * Batch norm (`batchNorm`, ADGM paper §4.4) on every hidden layer: training steps normalise each
 * batch with its own statistics, evaluation and classification with running averages. Following
 * the reference code (Maaløe et al., `models/sdgmssl.py`), only the unlabelled passes move the
 * running averages; the labelled batch, the same few examples at every step, does not
 * (`withoutStatUpdates`). On MNIST-100 after one epoch, ADGM with batch norm errs on 20.9% of test
 * digits this way, on 21.4% with the averages moved by the labelled batch as well (the same
 * training: it never uses the averages), and on 19.1% with the test batch's own statistics. The
 * reference also refreshes the averages of q(z|·), p(a|·), p(x|·) in an extra pass at the soft
 * q(y | a, x); here they come from the enumerated pass over all K classes, which only generation
 * and the anomaly score use.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Rng } from '../engine/rng.js';
import { ParamStore } from '../nn/params.js';
import { labelWeight } from '../objectives/weights.js';
import { ACTIVATIONS, Dense, Mlp, repeatRows } from '../nn/layers.js';
import { withoutStatUpdates } from '../nn/conv.js';
import { applyHead, BernoulliHead, DEFAULT_MIN_SCALE, GaussianHead } from '../nn/heads.js';
import { Normal } from '../dists/normal.js';
import type { Bernoulli } from '../dists/bernoulli.js';
import { Concrete } from '../dists/concrete.js';
import { Categorical, oneHot } from '../dists/categorical.js';
import { enumerateClasses, enumeratedLabels } from '../objectives/enumerate.js';
import { iwaeFromLogWeights } from '../objectives/bounds.js';
import {
  labelledParts,
  semiSupervisedAnomalyScore,
  semiSupervisedLogLikelihood,
  semiSupervisedLogWeights,
  semiSupervisedObjective,
  unlabelledPart,
  type LabelledTerms,
  type SemiSupervisedTermsModel,
  type UnlabelledTerms,
} from '../objectives/semi-supervised.js';

/** Schema of a semi-supervised model's configuration. */
export const SslConfigSchema = z
  .object({
    type: z.enum(['m2', 'adgm', 'sdgm']),
    /** Number of classes K. */
    classes: z.number().int().min(2).default(10),
    /** Dimension of z. */
    latent: z.number().int().min(1).default(100),
    /** Dimension of the auxiliary a (ADGM, SDGM; ignored by M2). */
    auxiliary: z.number().int().min(1).default(100),
    /** Hidden widths of every network. */
    hidden: z.array(z.number().int().min(1)).default([500, 500]),
    activation: z.enum(ACTIVATIONS).default('relu'),
    likelihood: z.enum(['bernoulli', 'gaussian']).default('bernoulli'),
    minScale: z.number().min(0).default(DEFAULT_MIN_SCALE),
    /** Sum over y: exact enumeration (K× batch) or one Concrete sample. */
    yEstimator: z.enum(['enumerate', 'concrete']).default('enumerate'),
    /** Concrete temperature τ. */
    temperature: z.number().positive().default(0.5),
    /**
     * Batch norm on every hidden layer (ADGM paper §4.4 option): batch statistics in training
     * steps, running averages in evaluation and classification.
     */
    batchNorm: z.boolean().default(false),
    /**
     * ADGM only: the generative p(a | z, y, x) of appendix A eq 5 when true, the benchmarks'
     * p(a | z, y) when false or omitted. M2 has no a; the SDGM's p(a | z, y) never sees x.
     */
    auxPriorX: z.boolean().optional(),
    /** Monte Carlo samples of (a, z) per example. */
    samples: z.number().int().min(1).default(1),
    /** Input dimension; filled in from the data when omitted. */
    inputDim: z.number().int().min(1).optional(),
  })
  .strict();

/** A semi-supervised model configuration after defaults. */
export type SslConfig = z.infer<typeof SslConfigSchema>;

/** Weights of the training loss. */
export interface SslLossWeights {
  /**
   * Weight α of the classification term (eq 4.10). Default: the input width D
   * ({@link labelWeight}, `objectives/weights.ts`: the unlabelled bound sums D channel terms and
   * would otherwise swamp the label term). The paper experiments pass their own (0.1·N/N_l = 60 on
   * MNIST-100).
   */
  alpha?: number;
  /** Weight β of the latent terms (KL warm-up); 1 is the bound. */
  beta?: number;
  /**
   * Factor in [0, 1] on the gradient that the unlabelled bound sends into q(y | a, x) (default 1,
   * the papers' objective, where it is how unlabelled x teach the classifier). 0 cuts that feedback
   * (the unlabelled x then train the generative model and q(z | ·), q(a | x) only): the safe choice
   * where y explains little of x, as on real NIR spectra (`docs/semi-supervised-real.md`), at the
   * price of no gain for the classifier from unlabelled rows in these models.
   */
  unlabelledQy?: number;
}

/** M2, ADGM or SDGM (see the module doc). */
export class SemiSupervisedDgm implements SemiSupervisedTermsModel {
  readonly params = new ParamStore();
  readonly config: SslConfig & { inputDim: number };
  private readonly aux: boolean;
  private readonly skip: boolean;
  /** Whether p(a | ·) sees x (ADGM with `auxPriorX: true`). */
  private readonly auxX: boolean;
  private readonly qaNet?: Mlp;
  private readonly qaHead?: GaussianHead;
  private readonly paNet?: Mlp;
  private readonly paHead?: GaussianHead;
  private readonly qyNet: Mlp;
  private readonly qyHead: Dense;
  /** The weights of q(y | a, x) (the `qy` network and its logits). */
  private readonly qyVars: tf.Variable[];
  private readonly qzNet: Mlp;
  private readonly qzHead: GaussianHead;
  private readonly pxNet: Mlp;
  private readonly pxHead: BernoulliHead | GaussianHead;

  constructor(config: SslConfig, rng: Rng) {
    if (config.inputDim === undefined) throw new Error(`${config.type}: config.inputDim is required (it is filled in from the data)`);
    if (config.auxPriorX !== undefined && config.type !== 'adgm') throw new Error(`${config.type}: auxPriorX applies to the ADGM only (the SDGM's p(a | z, y) cannot see x)`);
    const auxPriorX = config.type === 'adgm' ? config.auxPriorX ?? false : undefined;
    this.config = { ...config, inputDim: config.inputDim, auxPriorX };
    const { inputDim: D, classes: K, latent: Z, auxiliary: A, hidden, activation: act, minScale } = this.config;
    this.aux = config.type !== 'm2';
    this.skip = config.type === 'sdgm';
    this.auxX = auxPriorX === true;
    const ps = this.params;
    const a = this.aux ? A : 0;
    const bn = { batchNorm: this.config.batchNorm };
    if (this.aux) {
      this.qaNet = new Mlp(ps, 'qa', D, hidden, rng, act, bn);
      this.qaHead = new GaussianHead(ps, 'qa.a', this.qaNet.outDim, A, rng, minScale);
      this.paNet = new Mlp(ps, 'pa', Z + K + (this.auxX ? D : 0), hidden, rng, act, bn);
      this.paHead = new GaussianHead(ps, 'pa.a', this.paNet.outDim, A, rng, minScale);
    }
    this.qyNet = new Mlp(ps, 'qy', D + a, hidden, rng, act, bn);
    this.qyHead = new Dense(ps, 'qy.logits', this.qyNet.outDim, K, rng, 'linear');
    this.qyVars = ps.entries().flatMap(([name, v]) => (name.startsWith('qy.') ? [v] : []));
    this.qzNet = new Mlp(ps, 'qz', D + K + a, hidden, rng, act, bn);
    this.qzHead = new GaussianHead(ps, 'qz.z', this.qzNet.outDim, Z, rng, minScale);
    this.pxNet = new Mlp(ps, 'px', Z + K + (this.skip ? A : 0), hidden, rng, act, bn);
    this.pxHead = config.likelihood === 'bernoulli' ? new BernoulliHead(ps, 'px.x', this.pxNet.outDim, D, rng) : new GaussianHead(ps, 'px.x', this.pxNet.outDim, D, rng, minScale);
  }

  /** The variables of q(y | a, x), for the objective's `unlabelledQy` gradient scale. */
  get qyVariables(): readonly tf.Variable[] {
    return this.qyVars;
  }

  /** Number of classes. */
  get classes(): number {
    return this.config.classes;
  }

  /** q(a | x) (ADGM/SDGM only). */
  encodeAux(x: tf.Tensor): Normal {
    if (!this.aux) throw new Error(`${this.config.type} has no auxiliary variable`);
    return applyHead(this.qaNet!, this.qaHead!, [x]);
  }

  /** Logits of q(y | x) (M2) or q(y | a, x). */
  classLogits(x: tf.Tensor, a?: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => this.qyHead.apply(this.qyNet.apply(a ? tf.concat([x, a], -1) : x)) as tf.Tensor2D);
  }

  /** q(z | x, y) (M2) or q(z | a, y, x). */
  encode(x: tf.Tensor, y: tf.Tensor, a?: tf.Tensor): Normal {
    return applyHead(this.qzNet, this.qzHead, a ? [x, y, a] : [x, y]);
  }

  /** Mean of p(x | z, y) (or p(x | a, z, y) for SDGM, where `a` is required). */
  decodeMean(zz: tf.Tensor, y: tf.Tensor, a?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.pxDist(zz, y, a).mean());
  }

  /** log p(x | z, y) (or p(x | a, z, y) for SDGM) per row. */
  logPx(x: tf.Tensor, zz: tf.Tensor, y: tf.Tensor, a?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.pxDist(zz, y, a).logProb(x));
  }

  private pxDist(zz: tf.Tensor, y: tf.Tensor, a?: tf.Tensor): { logProb(x: tf.Tensor): tf.Tensor; mean(): tf.Tensor } {
    if (this.skip && !a) throw new Error('sdgm: the decoder p(x | a, z, y) needs a');
    return applyHead<Normal | Bernoulli>(this.pxNet, this.pxHead, this.skip ? [zz, y, a!] : [zz, y]);
  }

  /** p(a | z, y) (SDGM, and the ADGM by default; `x` is then ignored) or p(a | z, y, x) (ADGM with `auxPriorX: true`). */
  auxPrior(zz: tf.Tensor, y: tf.Tensor, x?: tf.Tensor): Normal {
    if (!this.aux) throw new Error(`${this.config.type} has no auxiliary variable`);
    if (!this.auxX) return applyHead(this.paNet!, this.paHead!, [zz, y]);
    if (!x) throw new Error('adgm: p(a | z, y, x) needs x');
    return applyHead(this.paNet!, this.paHead!, [zz, y, x]);
  }

  /** a ~ q(a|x) and log q(a|x) per row, or nulls for M2. */
  private drawAux(x: tf.Tensor, rng: Rng): { a?: tf.Tensor; logQa?: tf.Tensor } {
    if (!this.aux) return {};
    const qa = this.encodeAux(x);
    const a = qa.rsample(rng);
    return { a, logQa: qa.logProb(a) };
  }

  /** p(z) = N(0, I). */
  private zPrior(): Normal {
    const Z = this.config.latent;
    return new Normal(tf.zeros([Z]), tf.ones([Z]));
  }

  /** log p(y) per row for labels y [N, K] under the uniform p(y) = Cat(1/K) (eq 4.3). */
  private logPy(y: tf.Tensor): tf.Tensor {
    return new Categorical(tf.zeros([this.config.classes])).logProb(y);
  }

  /**
   * Given rows (x, y, a): draws z ~ q(z|·) and returns log p(x|·), log p(z), log q(z|·) and, with
   * a, log p(a|·), each [N] for y's N rows. x and a may hold the B examples once against y's K·B
   * class-major rows: the networks take them unrepeated (Mlp.applyParts), the densities' arguments
   * are repeated to K·B.
   */
  private core(x: tf.Tensor, y: tf.Tensor, a: tf.Tensor | undefined, rng: Rng): { logPx: tf.Tensor; logPz: tf.Tensor; logQz: tf.Tensor; logPa?: tf.Tensor } {
    const rows = y.shape[0];
    const qz = this.encode(x, y, a);
    const zz = qz.rsample(rng);
    const logPz = this.zPrior().logProb(zz);
    const logQz = qz.logProb(zz);
    const logPa = a ? this.auxPrior(zz, y, x).logProb(repeatRows(a, rows)) : undefined;
    const logPx = this.logPx(repeatRows(x, rows), zz, y, a);
    return logPa ? { logPx, logPz, logQz, logPa } : { logPx, logPz, logQz };
  }

  /** x [B, ...] repeated S times, sample-major [S·B, ...]. */
  private repeat(x: tf.Tensor, S: number): tf.Tensor {
    return S === 1 ? x : tf.tile(x, [S, ...x.shape.slice(1).map(() => 1)]);
  }

  private checkSamples(fn: string, S: number): void {
    if (!Number.isInteger(S) || S < 1) throw new Error(`${this.config.type}.${fn}: samples must be an integer ≥ 1, got ${S}`);
  }

  /**
   * The labelled log-terms for x [B, D] and one-hot y [B, K], with S Monte Carlo draws of (a, z)
   * per example (default `config.samples`): logPx, logPy, logPz, logQz (and logPa, logQa for
   * ADGM/SDGM), each [S·B] sample-major, the tiled labels y [S·B, K] and q(y | ·)'s logits
   * [S·B, K]. Batch norm normalises the labelled batch with its own statistics but does not move
   * the running averages (see the module doc).
   * @throws Error when y is not one-hot [B, K] or S is not an integer ≥ 1.
   */
  labelledTerms(x: tf.Tensor, y: tf.Tensor, rng: Rng, samples = this.config.samples): LabelledTerms {
    this.checkY(y, x.shape[0]);
    this.checkSamples('labelledTerms', samples);
    return withoutStatUpdates(() => tf.tidy(() => {
      const xs = this.repeat(x, samples);
      const ys = samples === 1 ? tf.clone(y) : this.repeat(y, samples); // returned: never the caller's tensor
      const { a, logQa } = this.drawAux(xs, rng);
      const terms = this.core(xs, ys, a, rng);
      const out: LabelledTerms = { ...terms, logPy: this.logPy(ys), y: ys, qyLogits: this.classLogits(xs, a) };
      if (logQa) out.logQa = logQa;
      return out;
    }));
  }

  /**
   * The unlabelled log-terms for x [B, D] with S Monte Carlo draws per example (default
   * `config.samples`), N = S·B rows, sample-major: q(y | ·)'s logits [N, K], log q(a | x) [N]
   * (ADGM/SDGM), and either (`enumerate`) logPx, logPy, logPz, logQz, logPa of every class, [K·N]
   * class-major, from one K× batch, or (`concrete`) those at one Concrete sample ỹ, [N], without
   * logPy. The estimator defaults to `config.yEstimator`.
   * @throws Error when S is not an integer ≥ 1.
   */
  unlabelledTerms(x: tf.Tensor, rng: Rng, samples = this.config.samples, estimator: SslConfig['yEstimator'] = this.config.yEstimator): UnlabelledTerms {
    this.checkSamples('unlabelledTerms', samples);
    return tf.tidy(() => {
      const xs = this.repeat(x, samples);
      const { a, logQa } = this.drawAux(xs, rng);
      const qyLogits = this.classLogits(xs, a);
      let out: UnlabelledTerms;
      if (estimator === 'enumerate') {
        const y = enumeratedLabels(this.config.classes, xs.shape[0]);
        out = { estimator, perClass: { ...this.core(xs, y, a, rng), logPy: this.logPy(y) }, qyLogits };
      } else {
        const ysoft = new Concrete(qyLogits, this.config.temperature).rsample(rng);
        out = { estimator, atSample: this.core(xs, ysoft, a, rng), qyLogits };
      }
      if (logQa) out.logQa = logQa;
      return out;
    });
  }

  /**
   * Labelled bound −L(x, y) per example [B] and the classification cross-entropy −log q(y | a, x)
   * per example [B], for x [B, D] and one-hot y [B, K] (`objectives/semi-supervised.ts`).
   */
  labelled(x: tf.Tensor, y: tf.Tensor, rng: Rng, beta = 1): { bound: tf.Tensor; crossEntropy: tf.Tensor } {
    return labelledParts(this, x, y, rng, beta);
  }

  /** Unlabelled bound −U(x) per example [B], for x [B, D] (`objectives/semi-supervised.ts`). */
  unlabelled(x: tf.Tensor, rng: Rng, beta = 1): tf.Tensor {
    return unlabelledPart(this, x, rng, beta);
  }

  /**
   * Training loss J^α for a labelled batch (x_l [B_l, D], y_l one-hot [B_l, K]) and an unlabelled
   * batch x_u [B_u, D]: mean_l L + mean_u U + α · mean_l CE (a scalar; either batch may be absent;
   * {@link semiSupervisedLoss}).
   */
  loss(batch: { labelled?: { x: tf.Tensor; y: tf.Tensor }; unlabelled?: { x: tf.Tensor } }, rng: Rng, w: SslLossWeights): tf.Scalar {
    return semiSupervisedObjective(this, batch, rng, { alpha: w.alpha ?? labelWeight(this.config.inputDim), ...(w.unlabelledQy !== undefined ? { unlabelledQy: w.unlabelledQy } : {}), ...(w.beta !== undefined ? { beta: w.beta } : {}) });
  }

  /**
   * Importance log-weights [k, B] for x [B, D]: of log p(x, y) when the labels `y` are given (B
   * class indices, or one-hot rows [B, K]), log w = log p(x, y, z, a) − log q(z, a | x, y); of
   * log p(x) otherwise, with y summed exactly inside each weight (`enumeratedLogWeights`). The
   * sum over y is exact whatever `config.yEstimator` says. Fits `eval/loglik.ts`'s
   * `ImportanceModel`. The unlabelled case runs K·k·B rows through the networks at once.
   * @throws Error when k is not an integer ≥ 1 or y does not fit x.
   */
  logWeights(x: tf.Tensor, k: number, rng: Rng, y?: Int32Array | tf.Tensor): tf.Tensor {
    return tf.tidy(() => semiSupervisedLogWeights(this, x, k, rng, y === undefined ? undefined : this.oneHotOf(y)));
  }

  /**
   * IWAE(k) per example [B] (Burda et al. 2015; thesis eq 3.31): a bound on log p(x, y) when the
   * labels `y` are given, on log p(x) (y summed exactly) otherwise; IWAE(1) is the labelled bound
   * −L at β = 1, and for unlabelled x lies above −U of the same draws. Differentiable.
   * @throws Error as {@link logWeights}.
   */
  iwae(x: tf.Tensor, k: number, rng: Rng, y?: Int32Array | tf.Tensor): tf.Tensor {
    return tf.tidy(() => iwaeFromLogWeights(this.logWeights(x, k, rng, y)));
  }

  /**
   * Importance-weighted estimate of the log-likelihood per example [B] with k samples:
   * log p(x, y) for labelled rows (`y`: B class indices or one-hot rows [B, K]), log p(x) with y
   * summed exactly when `y` is undefined. The k samples go through the networks in chunks of at
   * most `maxRows` rows (K·chunk·B for unlabelled x; default 20000) whose log-sum-exps are
   * combined, so memory stays bounded for k in the thousands. Equals {@link iwae} (the same draws)
   * up to round-off; no gradient intended.
   * @throws Error when k is not an integer ≥ 1 or y does not fit x.
   */
  logLikelihood(x: tf.Tensor, y: Int32Array | tf.Tensor | undefined, k: number, rng: Rng, maxRows = 20000): tf.Tensor {
    const yOne = y === undefined ? undefined : this.oneHotOf(y);
    try {
      return semiSupervisedLogLikelihood(this, x, yOne, k, rng, maxRows);
    } finally {
      if (yOne !== y) yOne?.dispose();
    }
  }

  /** One-hot rows [B, K] of class indices (a tensor is taken as it is). */
  private oneHotOf(y: Int32Array | tf.Tensor): tf.Tensor {
    return y instanceof tf.Tensor ? y : oneHot(y, this.config.classes);
  }

  /**
   * Class probabilities [B, K]. ADGM/SDGM: q(y | a, x) at a = E[q(a | x)], or averaged over
   * `samples` draws of a when `rng` is given.
   */
  classify(x: tf.Tensor, rng?: Rng, samples = 10): tf.Tensor2D {
    return tf.tidy(() => {
      if (!this.aux) return tf.softmax(this.classLogits(x)) as tf.Tensor2D;
      const qa = this.encodeAux(x);
      if (!rng) return tf.softmax(this.classLogits(x, qa.mean())) as tf.Tensor2D;
      const draws = Array.from({ length: samples }, () => tf.softmax(this.classLogits(x, qa.sample(rng))));
      return tf.div(tf.addN(draws), samples) as tf.Tensor2D;
    });
  }

  /**
   * Anomaly score per example [B]: −U(x), the negative unlabelled bound (an upper bound on
   * −log p(x) in nats), averaged over `draws` Monte Carlo draws. Higher means less like the
   * training data (the ELBO-based detector of thesis ch. 6).
   */
  anomalyScore(x: tf.Tensor, rng: Rng, draws = 10): tf.Tensor {
    return semiSupervisedAnomalyScore(this, x, rng, draws);
  }

  /**
   * n draws of the means of p(x | ·) for one-hot y [n, K]: z ~ p(z) = N(0, I) and, for the SDGM, a ~
   * p(a | z, y) (p(x | a, z, y) needs it), [n, D].
   */
  samplePrior(y: tf.Tensor, rng: Rng): tf.Tensor {
    return tf.tidy(() => {
      const zz = rng.normal([y.shape[0], this.config.latent]);
      return this.decodeMean(zz, y, this.skip ? this.auxPrior(zz, y).sample(rng) : undefined);
    });
  }

  /** The typical input of each one-hot y [n, K]: the mean of p(x | ·) at z = 0 (and, SDGM, a at the mean of p(a | z, y)), [n, D]. */
  typical(y: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const zz = tf.zeros([y.shape[0], this.config.latent]);
      return this.decodeMean(zz, y, this.skip ? this.auxPrior(zz, y).mean() : undefined);
    });
  }

  /**
   * Analogies (appendix A fig. 3a): each x [B, D] encoded to the mean of q(z | ·) under its most
   * probable class, then decoded with every class; returns [K, B, D] means of p(x | ·).
   */
  analogies(x: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => {
      const K = this.config.classes;
      const B = x.shape[0];
      const a = this.aux ? this.encodeAux(x).mean() : undefined;
      const probs = tf.softmax(this.classLogits(x, a));
      const yHat = oneHot(tf.argMax(probs, -1), K);
      const zz = this.encode(x, yHat, a).mean();
      const { y, tiled } = enumerateClasses(K, a ? [zz, a] : [zz]);
      const aDec = this.skip ? tiled[1] : undefined;
      return tf.reshape(this.decodeMean(tiled[0], y, aDec), [K, B, this.config.inputDim]) as tf.Tensor3D;
    });
  }

  private checkY(y: tf.Tensor, B: number): void {
    const K = this.config.classes;
    if (y.rank !== 2 || y.shape[1] !== K || y.shape[0] !== B) throw new Error(`labels must be one-hot [${B}, ${K}], got [${y.shape}]`);
  }

  /** Frees the model's variables. */
  dispose(): void {
    this.params.dispose();
  }
}
