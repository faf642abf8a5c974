/**
 * The cluster-aware generative model, CaGeM (thesis `003_…` §4.3 and appendix C; Maaløe, Fraccaro &
 * Winther 2017).
 *
 * Generative model (appendix C §3): p(z₂) p(y | z₂) p(z₁ | y, z₂) p(x | y, z₁), with p(z₂) = N(0, I),
 * p(y | z₂) = Cat(π_θ(z₂)) over C clusters, Gaussian p(z₁ | y, z₂) and Bernoulli (or Gaussian)
 * p(x | y, z₁). Unlike M2, y and z₂ are dependent: z₂ must carry the clustering for p(y | z₂) to use
 * it, which keeps the higher layer active.
 *
 * Inference model (appendix C §3.1), bottom-up: q(z₁ | x) q(y | z₁, x) q(z₂ | x, y, z₁) — q(z₂ | ·)
 * sees x through a skip connection (`skip`, the paper's; not essential to it).
 *
 * The ELBO F = E_q(z₁|x)[Σ_y q(y | z₁, x) E_q(z₂|x,y,z₁)[log p(x, y, z₁, z₂) − log q(y, z₁, z₂ | x)]]
 * sums y exactly. In the terms of `objectives/semi-supervised.ts` (one K× batch, class-major):
 * per class, logPx = log p(x | y, z₁), logPy = log p(y | z₂), logPz = log p(z₁ | y, z₂) + log p(z₂),
 * logQz = log q(z₂ | x, y, z₁); the class-independent log q(z₁ | x) is the `logQa` term (drawn
 * before y, outside the sum), and q(y | z₁, x) is the classifier whose logits weigh the classes.
 * Then −U(x) of those terms is F, and the enumerated importance weight
 * Σ_y p(x, y, z₁, z₂^y) / (q(z₁ | x) q(z₂^y | x, y, z₁)) is unbiased for p(x) — IWAE(k) and the
 * IW log-likelihood come from the shared machinery.
 *
 * Labelled rows (appendix C §4): the objective is I = Σ_u F − α Σ_l (H_p + H_q), where H_q is the
 * cross-entropy of q(y | x) = E_q(z₁|x)[q(y | z₁, x)] and H_p that of the cascade
 * p(y | x) ≈ Σ_ỹ q(ỹ | z₁, x) p(y | z₂^ỹ), z₂^ỹ ~ q(z₂ | x, ỹ, z₁) — one draw of z₁ (and of each
 * z₂^ỹ) per row, the log of a one-draw estimate. Their gradient reaches only the classifiers'
 * parameters θ_y (p(y | z₂)) and φ_y (q(y | z₁, x)): every other network is frozen for them
 * (`withFrozen`), so the labels shape the clustering but never the representation of x. The
 * labelled rows' x also add their bound F, y summed as for an unlabelled row (the paper's I sums F
 * over "the unlabelled" points, which in its MNIST runs are the whole training set; without this a
 * fully labelled table would never train the generative model). With no labelled rows the model
 * is CaGeM-0: C = `classes` clusters, fully unsupervised.
 *
 * Weights: with per-source batch means (`objectives/semi-supervised.ts`) the loss is
 * α·mean_l(H_q + H_p) − mean_l F − mean_u F. The paper's I, a sum over rows with
 * α = β(N_u + N_l)/N_l, corresponds to α ≈ β·N/N_u here; the run default (the input width D) and
 * the `cagem` experiment's 0.1·N/N_l (this project's MNIST-100 convention) weigh the labels more.
 * Warm-up (β) scales the Gaussian terms; y's own terms, log p(y | z₂) and H(q(y | z₁, x)), keep
 * weight 1 (as for M2, ADGM and SDGM here).
 *
 * q(y | x) for classification (`classify`) is q(y | z₁, x) at the mean of q(z₁ | x) (plug-in).
 * Batch norm (`batchNorm`) normalises every hidden layer; the labelled pass does not move the
 * running averages (as the paper: "statistics only during unlabelled inference").
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Rng } from '../engine/rng.js';
import { ParamStore, withFrozen } from '../nn/params.js';
import { ACTIVATIONS, Dense, Mlp, repeatRows } from '../nn/layers.js';
import { withoutStatUpdates } from '../nn/conv.js';
import { applyHead, BernoulliHead, DEFAULT_MIN_SCALE, GaussianHead } from '../nn/heads.js';
import { Normal, normalLogDensity } from '../dists/normal.js';
import { klStandardNormalPerUnit } from '../dists/kl.js';
import { Categorical } from '../dists/categorical.js';
import { enumeratedLabels } from '../objectives/enumerate.js';
import { unlabelledPart, type LabelledTerms, type UnlabelledTerms } from '../objectives/semi-supervised.js';
import type { SemiSupervisedModel } from './families.js';

/** Schema of a CaGeM configuration (the run's `model` section). */
export const CagemConfigSchema = z
  .object({
    type: z.literal('cagem'),
    /** Number of clusters C; default: the number of classes in the labels. Required without labelled rows (CaGeM-0). */
    classes: z.number().int().min(2).optional(),
    /** Sizes of z₁ and z₂ (appendix C §5: 64 and 32). */
    latent: z.tuple([z.number().int().min(1), z.number().int().min(1)]).default([64, 32]),
    /** Hidden widths of the networks at the z₁ level (q(z₁|x), q(y|z₁,x), p(x|y,z₁)) and at the z₂ level (q(z₂|·), p(y|z₂), p(z₁|y,z₂)); appendix C: 1024 and 512. */
    hidden: z.tuple([z.number().int().min(1), z.number().int().min(1)]).default([1024, 512]),
    /** Dense layers in each network (appendix C: 2). */
    depth: z.number().int().min(1).default(2),
    activation: z.enum(ACTIVATIONS).default('relu'),
    likelihood: z.enum(['bernoulli', 'gaussian']).default('bernoulli'),
    /** Batch norm on every hidden layer (the paper's). */
    batchNorm: z.boolean().default(false),
    /** The skip connection x → q(z₂ | x, y, z₁). */
    skip: z.boolean().default(true),
    /** Monte Carlo draws of (z₁, z₂) per example in training. */
    samples: z.number().int().min(1).default(1),
    minScale: z.number().min(0).default(DEFAULT_MIN_SCALE),
    inputDim: z.number().int().min(1).optional(),
  })
  .strict();

/** A CaGeM configuration after defaults. */
export type CagemConfig = z.infer<typeof CagemConfigSchema>;

/** A Gaussian conditional of CaGeM: an MLP over concatenated inputs (rows may repeat, `Mlp.applyParts`) and a Gaussian head. */
export class GaussianNet {
  readonly net: Mlp;
  readonly head: GaussianHead;
  constructor(ps: ParamStore, name: string, inDim: number, outDim: number, widths: number[], rng: Rng, act: CagemConfig['activation'], bn: boolean, minScale: number) {
    this.net = new Mlp(ps, name, inDim, widths, rng, act, { batchNorm: bn });
    this.head = new GaussianHead(ps, `${name}.z`, this.net.outDim, outDim, rng, minScale);
  }
  of(inputs: tf.Tensor[]): Normal {
    return applyHead(this.net, this.head, inputs);
  }
}

/** A categorical conditional of CaGeM: an MLP and a linear layer to C logits. */
export class CategoricalNet {
  readonly net: Mlp;
  readonly out: Dense;
  constructor(ps: ParamStore, name: string, inDim: number, classes: number, widths: number[], rng: Rng, act: CagemConfig['activation'], bn: boolean) {
    this.net = new Mlp(ps, name, inDim, widths, rng, act, { batchNorm: bn });
    this.out = new Dense(ps, `${name}.logits`, this.net.outDim, classes, rng);
  }
  logits(inputs: tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => this.out.apply(this.net.applyParts(inputs)));
  }
}

/** The cluster-aware generative model (see the module doc). */
export class Cagem implements SemiSupervisedModel {
  readonly params = new ParamStore();
  readonly config: CagemConfig & { inputDim: number; classes: number; yEstimator: 'enumerate' };
  /** q(z₁ | x), q(y | z₁, x), q(z₂ | x, y, z₁): the inference networks. */
  readonly qz1: GaussianNet;
  readonly qy: CategoricalNet;
  readonly qz2: GaussianNet;
  /** p(y | z₂), p(z₁ | y, z₂): the generative networks above x. */
  readonly py: CategoricalNet;
  readonly pz1: GaussianNet;
  private readonly pxNet: Mlp;
  private readonly pxHead: BernoulliHead | GaussianHead;
  private readonly qyVars: tf.Variable[];
  /** Every variable but θ_y and φ_y (those of p(y | z₂) and q(y | z₁, x)): frozen for the labelled cross-entropies. */
  private readonly otherVars: tf.Variable[];

  constructor(config: CagemConfig & { inputDim: number; classes: number }, rng: Rng) {
    if (!(Number.isInteger(config.classes) && config.classes >= 2)) throw new Error(`cagem: classes must be an integer ≥ 2, got ${config.classes}`);
    this.config = { ...config, yEstimator: 'enumerate' };
    const { inputDim: D, classes: C, latent: [Z1, Z2], hidden: [H1, H2], depth, activation: act, batchNorm: bn, minScale } = this.config;
    const ps = this.params;
    const w = (h: number) => new Array<number>(depth).fill(h);
    this.qz1 = new GaussianNet(ps, 'qz1', D, Z1, w(H1), rng, act, bn, minScale);
    this.qy = new CategoricalNet(ps, 'qy', Z1 + D, C, w(H1), rng, act, bn);
    this.qz2 = new GaussianNet(ps, 'qz2', Z1 + C + (this.config.skip ? D : 0), Z2, w(H2), rng, act, bn, minScale);
    this.py = new CategoricalNet(ps, 'py', Z2, C, w(H2), rng, act, bn);
    this.pz1 = new GaussianNet(ps, 'pz1', Z2 + C, Z1, w(H2), rng, act, bn, minScale);
    this.pxNet = new Mlp(ps, 'px', Z1 + C, w(H1), rng, act, { batchNorm: bn });
    this.pxHead = this.config.likelihood === 'bernoulli' ? new BernoulliHead(ps, 'px.x', this.pxNet.outDim, D, rng) : new GaussianHead(ps, 'px.x', this.pxNet.outDim, D, rng, minScale);
    const isClassifier = (n: string) => n.startsWith('qy.') || n.startsWith('py.');
    this.otherVars = ps.entries().filter(([n]) => !isClassifier(n)).map(([, v]) => v);
    this.qyVars = ps.entries().filter(([n]) => n.startsWith('qy.')).map(([, v]) => v);
  }

  /** The variables of q(y | z₁, x) (φ_y), for the objective's `unlabelledQy` gradient scale. */
  get qyVariables(): readonly tf.Variable[] {
    return this.qyVars;
  }

  /** Log-density of x [M, D] under p(x | y, z₁) for one-hot y [M, C] and z₁ [M, Z₁] (rows of z₁ may repeat). */
  logPx(x: tf.Tensor, z1: tf.Tensor, y: tf.Tensor): tf.Tensor {
    return tf.tidy(() => applyHead<{ logProb(x: tf.Tensor): tf.Tensor }>(this.pxNet, this.pxHead, [z1, y]).logProb(x));
  }

  private checkSamples(fn: string, S: number): void {
    if (!Number.isInteger(S) || S < 1) throw new Error(`cagem.${fn}: samples must be an integer ≥ 1, got ${S}`);
  }

  /** x [B, ...] repeated S times, sample-major. */
  private repeat(x: tf.Tensor, S: number): tf.Tensor {
    return S === 1 ? x : tf.tile(x, [S, ...x.shape.slice(1).map(() => 1)]);
  }

  /**
   * Given x [N, D], a draw z₁ [N, Z₁] and one-hot y [M, C] (M = N, or K·N class-major): draws
   * z₂ ~ q(z₂ | x, y, z₁) and returns the per-row terms [M] (see the module doc).
   */
  private given(x: tf.Tensor, z1: tf.Tensor, y: tf.Tensor, rng: Rng): { logPx: tf.Tensor; logPy: tf.Tensor; logPz: tf.Tensor; logQz: tf.Tensor } {
    const M = y.shape[0];
    const qz2 = this.qz2.of(this.config.skip ? [z1, y, x] : [z1, y]);
    const z2 = qz2.rsample(rng);
    const Z2 = this.config.latent[1];
    const logPz2 = new Normal(tf.zeros([Z2]), tf.ones([Z2])).logProb(z2);
    const logPy = new Categorical(this.py.logits([z2])).logProb(y);
    const logPz1 = this.pz1.of([z2, y]).logProb(repeatRows(z1, M));
    return { logPx: this.logPx(repeatRows(x, M), z1, y), logPy, logPz: tf.add(logPz1, logPz2), logQz: qz2.logProb(z2) };
  }

  /**
   * The labelled log-terms for x [B, D] and one-hot y [B, C], S draws of (z₁, z₂) per example,
   * [S·B] each, sample-major; `logQa` holds log q(z₁ | x) and `qyLogits` the logits of q(y | z₁, x).
   * Their importance weight is p(x, y, z₁, z₂) / (q(z₁ | x) q(z₂ | x, y, z₁)), for log p(x, y).
   */
  labelledTerms(x: tf.Tensor, y: tf.Tensor, rng: Rng, samples = this.config.samples): LabelledTerms {
    this.checkY(y, x.shape[0]);
    this.checkSamples('labelledTerms', samples);
    return withoutStatUpdates(() =>
      tf.tidy(() => {
        const xs = this.repeat(x, samples);
        const ys = samples === 1 ? tf.clone(y) : this.repeat(y, samples);
        const q1 = this.qz1.of([xs]);
        const z1 = q1.rsample(rng);
        return { ...this.given(xs, z1, ys, rng), logQa: q1.logProb(z1), y: ys, qyLogits: this.qy.logits([z1, xs]) };
      }),
    );
  }

  /**
   * The unlabelled log-terms for x [B, D], S draws per example (N = S·B rows, sample-major): the
   * logits of q(y | z₁, x) [N, C], log q(z₁ | x) [N] as `logQa`, and the terms of every cluster
   * [C·N] class-major (one C× batch; `estimator` must be `enumerate`).
   * @throws Error for the Concrete estimator (CaGeM sums y exactly, as the paper).
   */
  unlabelledTerms(x: tf.Tensor, rng: Rng, samples = this.config.samples, estimator: 'enumerate' | 'concrete' = 'enumerate'): UnlabelledTerms {
    if (estimator !== 'enumerate') throw new Error('cagem sums y exactly (enumeration); the Concrete estimator is not offered');
    this.checkSamples('unlabelledTerms', samples);
    return tf.tidy(() => {
      const xs = this.repeat(x, samples);
      const q1 = this.qz1.of([xs]);
      const z1 = q1.rsample(rng);
      const y = enumeratedLabels(this.config.classes, xs.shape[0]);
      return { estimator: 'enumerate' as const, perClass: this.given(xs, z1, y, rng), logQa: q1.logProb(z1), qyLogits: this.qy.logits([z1, xs]) };
    });
  }

  /**
   * The labelled rows' loss per example [B], H_q + H_p (appendix C §4, the cross-entropies of the
   * two classifiers) for x [B, D] and one-hot y [B, C], S = `config.samples` draws averaged. Only
   * θ_y and φ_y receive its gradient; the labelled batch does not move batch-norm averages.
   */
  labelledLoss(x: tf.Tensor, y: tf.Tensor, rng: Rng): tf.Tensor {
    this.checkY(y, x.shape[0]);
    const S = this.config.samples;
    return withoutStatUpdates(() =>
      withFrozen(this.otherVars, () =>
        tf.tidy(() => {
          const C = this.config.classes;
          const B = x.shape[0];
          const xs = this.repeat(x, S);
          const ys = this.repeat(y, S);
          const z1 = this.qz1.of([xs]).rsample(rng);
          const qyLogits = this.qy.logits([z1, xs]);
          const hq = tf.neg(new Categorical(qyLogits).logProb(ys));
          // the cascade: z₂ for every ỹ, then log Σ_ỹ q(ỹ | z₁, x) p(y | z₂^ỹ)
          const yAll = enumeratedLabels(C, xs.shape[0]);
          const z2 = this.qz2.of(this.config.skip ? [z1, yAll, xs] : [z1, yAll]).rsample(rng);
          const logPyGivenZ2 = new Categorical(this.py.logits([z2])).logProb(repeatRows(ys, C * xs.shape[0])); // [C·N]
          const logQy = tf.logSoftmax(qyLogits); // [N, C]
          const joint = tf.add(logQy, tf.transpose(tf.reshape(logPyGivenZ2, [C, xs.shape[0]])));
          const hp = tf.neg(tf.logSumExp(joint, 1));
          const per = tf.add(hq, hp);
          return S === 1 ? per : tf.mean(tf.reshape(per, [S, B]), 0);
        }),
      ),
    );
  }

  /**
   * The labelled rows' parts of the objective (see the module doc): F(x) per example [B], y summed
   * as for an unlabelled row, and the cross-entropies {@link labelledLoss} per example [B]. Neither
   * moves the batch-norm averages (the same few rows at every step).
   */
  labelledObjective(x: tf.Tensor, y: tf.Tensor, rng: Rng, beta: number): { bound: tf.Tensor; crossEntropy: tf.Tensor } {
    return withoutStatUpdates(() => ({ bound: unlabelledPart(this, x, rng, beta), crossEntropy: this.labelledLoss(x, y, rng) }));
  }

  /** Cluster probabilities q(y | x) [B, C]: q(y | z₁, x) at z₁ = E[q(z₁ | x)]. */
  classify(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.softmax(this.qy.logits([this.qz1.of([x]).mean(), x])));
  }

  /**
   * The generative model's classifier p(y | x) ≈ Σ_ỹ q(ỹ | z₁, x) p(y | z₂^ỹ) at the posterior means
   * (z₁ = E[q(z₁ | x)], z₂^ỹ = E[q(z₂ | x, ỹ, z₁)]), [B, C]: the cascade of appendix C §4.
   */
  classifyGenerative(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const C = this.config.classes;
      const B = x.shape[0];
      const z1 = this.qz1.of([x]).mean();
      const qy = tf.softmax(this.qy.logits([z1, x])); // [B, C]
      const yAll = enumeratedLabels(C, B);
      const z2 = this.qz2.of(this.config.skip ? [z1, yAll, x] : [z1, yAll]).mean();
      return this.overClasses(tf.softmax(this.py.logits([z2])), qy); // Σ_ỹ q(ỹ | z₁, x) p(y | z₂^ỹ)
    });
  }

  /** Per-class values [C·B, d] class-major, weighted by q(y | ·) [B, C] and summed over the classes: [B, d]. */
  private overClasses(v: tf.Tensor, qy: tf.Tensor): tf.Tensor {
    const [B, C] = qy.shape as [number, number];
    return tf.sum(tf.mul(tf.reshape(v, [C, B, v.shape[1]!]), tf.expandDims(tf.transpose(qy), 2)), 0);
  }

  /**
   * Per-unit KL(q ‖ p) of z₁ and z₂ for x [B, D], [[B, Z₁], [B, Z₂]], y summed with q(y | z₁, x)
   * (for `eval/active-units.ts`, appendix B fig. 4): z₂'s analytic KL(q(z₂ | x, y, z₁) ‖ N(0, 1)) per
   * unit; z₁'s one-draw estimate log q(z₁,u | x) − log p(z₁,u | y, z₂) (unbiased per unit).
   */
  klPerUnit(x: tf.Tensor, rng: Rng): tf.Tensor[] {
    return tf.tidy(() => {
      const C = this.config.classes;
      const B = x.shape[0];
      const q1 = this.qz1.of([x]);
      const z1 = q1.rsample(rng);
      const qy = tf.softmax(this.qy.logits([z1, x]));
      const yAll = enumeratedLabels(C, B);
      const q2 = this.qz2.of(this.config.skip ? [z1, yAll, x] : [z1, yAll]);
      const z2 = q2.rsample(rng);
      const p1 = this.pz1.of([z2, yAll]);
      const z1t = tf.tile(z1, [C, 1]);
      const kl1 = tf.sub(normalLogDensity(z1, q1.mean(), q1.stddev()), this.overClasses(normalLogDensity(z1t, p1.mean(), p1.stddev()), qy));
      return [kl1, this.overClasses(klStandardNormalPerUnit(q2), qy)];
    });
  }

  /** Posterior means of z₁ and z₂ for x [B, D]: E[q(z₁ | x)], and Σ_y q(y | z₁, x) E[q(z₂ | x, y, z₁)] at that z₁. */
  posteriorMeans(x: tf.Tensor): tf.Tensor[] {
    return tf.tidy(() => {
      const C = this.config.classes;
      const z1 = this.qz1.of([x]).mean();
      const qy = tf.softmax(this.qy.logits([z1, x]));
      const yAll = enumeratedLabels(C, x.shape[0]);
      return [z1, this.overClasses(this.qz2.of(this.config.skip ? [z1, yAll, x] : [z1, yAll]).mean(), qy)];
    });
  }

  /** Means of p(x | y, z₁) for one-hot y [n, C] and z₁ [n, Z₁]. */
  private decodeMean(z1: tf.Tensor, y: tf.Tensor): tf.Tensor {
    return applyHead<{ mean(): tf.Tensor }>(this.pxNet, this.pxHead, [z1, y]).mean();
  }

  /** n class-conditional draws for one-hot y [n, C]: z₂ ~ p(z₂), z₁ ~ p(z₁ | y, z₂), the mean of p(x | y, z₁), [n, D]. */
  samplePrior(y: tf.Tensor, rng: Rng): tf.Tensor {
    return tf.tidy(() => {
      const z2 = rng.normal([y.shape[0], this.config.latent[1]]);
      return this.decodeMean(this.pz1.of([z2, y]).sample(rng), y);
    });
  }

  /** n draws from the model itself: z₂ ~ p(z₂), y ~ p(y | z₂), z₁ ~ p(z₁ | y, z₂); the means of p(x | y, z₁) [n, D] and the one-hot y [n, C]. */
  sampleJoint(n: number, rng: Rng): { x: tf.Tensor; y: tf.Tensor } {
    return tf.tidy(() => {
      const z2 = rng.normal([n, this.config.latent[1]]);
      const y = new Categorical(this.py.logits([z2])).sample(rng);
      return { x: this.decodeMean(this.pz1.of([z2, y]).sample(rng), y), y };
    });
  }

  /** The typical input of each one-hot y [n, C]: the mean of p(x | y, z₁) at z₁ = E[p(z₁ | y, z₂ = 0)], [n, D]. */
  typical(y: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.decodeMean(this.pz1.of([tf.zeros([y.shape[0], this.config.latent[1]]), y]).mean(), y));
  }

  private checkY(y: tf.Tensor, B: number): void {
    const C = this.config.classes;
    if (y.rank !== 2 || y.shape[1] !== C || y.shape[0] !== B) throw new Error(`cagem: labels must be one-hot [${B}, ${C}], got [${y.shape}]`);
  }

  /** Frees the model's variables. */
  dispose(): void {
    this.params.dispose();
  }
}
