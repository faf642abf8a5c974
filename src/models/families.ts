/**
 * Family adapters for the run pipeline's model contract ({@link RunnableModel}, `models/family.ts`):
 * - {@link latentFamily}: any unsupervised (or conditional) latent-variable model that returns
 *   {@link LogTerms} — the VAE family (1–2 layers, conv, conditional, denoising, β) and the AVAE;
 *   the loss is the ELBO or IWAE(k) of `objectives/bounds.ts`.
 * - {@link semiSupervisedFamily}: any semi-supervised model with a discrete y that returns the
 *   log-terms of `objectives/semi-supervised.ts` (M2, ADGM and SDGM, `models/ssl.ts`); the loss is
 *   J^α, the importance weights sum y out exactly.
 *
 * A new model of either kind is one model file plus one line in `models/registry.ts`, e.g.
 * `latentFamily('lvae', 'ladder VAE (Sønderby et al. 2016)', LvaeConfigSchema, (c, D, rng) => new Lvae({ ...c, inputDim: D }, rng))`.
 */
import * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { Rng } from '../engine/rng.js';
import type { ParamStore } from '../nn/params.js';
import { oneHot } from '../dists/categorical.js';
import { bound, iwaeFromLogWeights, logWeights, type LogTerms } from '../objectives/bounds.js';
import { semiSupervisedLogWeights, semiSupervisedObjective, unlabelledPart, type SemiSupervisedTermsModel } from '../objectives/semi-supervised.js';
import { labelWeight } from '../objectives/weights.js';
import type { DataShape, LabelUse, ModelFamily, ObjectiveSettings, RunnableModel, StepBatch } from './family.js';
import { SemiSupervisedDgm, type SslConfig } from './ssl.js';

/** What {@link latentFamily} needs of a model: log-terms, samples, parameters. */
export interface LatentTermsModel {
  readonly params: ParamStore;
  /** Log-terms for x [B, D] with k samples, [k, B] each; a conditional model takes the B class indices y. */
  terms(x: tf.Tensor, k: number, rng: Rng, y?: Int32Array | tf.Tensor): LogTerms;
  /** n draws, means of p(x | z) [n, D]; a conditional model takes n class indices. */
  sample(n: number, rng: Rng, y?: ArrayLike<number>): tf.Tensor;
  dispose(): void;
}

/** Rejects the semi-supervised objective keys for a family without q(y | x). */
function rejectSemiSupervisedKeys(type: string, o: ObjectiveSettings): void {
  if (o.alpha !== undefined) throw new Error(`objective.alpha applies to the semi-supervised models (m2, adgm, sdgm, cagem), not to model type '${type}'`);
  if (o.unlabelledQy !== undefined) throw new Error(`objective.unlabelledQy applies to the semi-supervised models (m2, adgm, sdgm, cagem), not to model type '${type}'`);
}

/**
 * A family of latent-variable models of x (or of x given a class, when `classesOf(config)` > 0) whose
 * loss is the ELBO or IWAE(k) of their log-terms.
 * @param classesOf number of classes a config conditions on (0: unsupervised).
 */
export function latentFamily<C extends { type: string }>(
  type: string,
  description: string,
  schema: z.ZodType<C>,
  build: (config: C, inputDim: number, rng: Rng) => LatentTermsModel,
  classesOf: (config: C) => number = () => 0,
): ModelFamily<C> {
  return {
    type,
    description,
    schema,
    labelUse: (c): LabelUse => (classesOf(c) > 0 ? 'conditional' : 'none'),
    checkObjective: (_c, o) => rejectSemiSupervisedKeys(type, o),
    create(config, shape: DataShape, rng): RunnableModel {
      const K = classesOf(config);
      if (K > 0 && shape.classes > K) throw new Error(`model.conditional is ${K} but the data have ${shape.classes} classes`);
      const m = build(config, shape.inputDim, rng);
      return {
        params: m.params,
        inputDim: shape.inputDim,
        classes: K,
        loss(batch: StepBatch, ctx) {
          const o = ctx.objective;
          return tf.tidy(() => {
            const x = K > 0 ? batch.labelled?.x : batch.unlabelled?.x;
            if (!x) throw new Error(`${type}: the batch has no ${K > 0 ? 'labelled' : 'unlabelled'} rows`);
            const t = m.terms(x, o.samples, ctx.rng, K > 0 ? batch.labelled!.y : undefined);
            return tf.neg(tf.mean(bound(t, { kind: o.bound, beta: ctx.beta, analyticKl: o.analyticKl }))) as tf.Scalar;
          });
        },
        logWeights(x, k, rng, y) {
          if (K > 0 && !y) throw new Error(`${type}: a conditional model needs the labels y for its importance weights`);
          return tf.tidy(() => logWeights(m.terms(x, k, rng, K > 0 ? y : undefined)));
        },
        bound(x, k, rng, y) {
          if (K > 0 && !y) throw new Error(`${type}: a conditional model needs the labels y for its bound`);
          return tf.tidy(() => bound(m.terms(x, k, rng, K > 0 ? y : undefined), { kind: k > 1 ? 'iwae' : 'elbo' }));
        },
        instance: m,
        sample: (n, rng, y) => m.sample(n, rng, K > 0 ? y : undefined),
        dispose: () => m.dispose(),
      };
    },
  };
}

/**
 * What {@link semiSupervisedFamily} needs of a model beyond its log-terms
 * ({@link SemiSupervisedTermsModel}, `objectives/semi-supervised.ts`): parameters, q(y | x), and
 * the means of p(x | ·) for given classes.
 */
export interface SemiSupervisedModel extends SemiSupervisedTermsModel {
  readonly params: ParamStore;
  /** Class probabilities q(y | x), [B, K]. */
  classify(x: tf.Tensor): tf.Tensor;
  /** n draws of the means of p(x | y, ·) for one-hot y [n, K], the other latent variables from their priors, [n, D]. */
  samplePrior(y: tf.Tensor, rng: Rng): tf.Tensor;
  /** The typical input of each one-hot y [n, K]: the mean of p(x | y, ·) at the prior means of the other latent variables, [n, D]. */
  typical(y: tf.Tensor): tf.Tensor;
  /** Optional: n draws from the model's own joint, y from its p(y | ·) (CaGeM's p(y | z₂)): the means of p(x | ·) [n, D] and the one-hot y [n, K]; without it, unlabelled draws cycle through the classes (p(y) uniform). */
  sampleJoint?(n: number, rng: Rng): { x: tf.Tensor; y: tf.Tensor };
  dispose(): void;
}

/** Options of {@link semiSupervisedFamily}. */
export interface SemiSupervisedFamilyOptions {
  /** The model also trains with no labelled row, `model.classes` clusters (see {@link ModelFamily.labelledOptional}). */
  labelledOptional?: boolean;
}

/**
 * A family of semi-supervised models with a discrete y: trained with J^α
 * (`objectives/semi-supervised.ts`: y summed exactly or with a Concrete sample, as the model's
 * `yEstimator` says), evaluated with IWAE(k) of log p(x) (y summed exactly in each weight),
 * classified with q(y | x). M2, ADGM and SDGM (`models/ssl.ts`) are registered with it; a new model
 * writes its log-terms ({@link SemiSupervisedModel}) and one line in `models/registry.ts`.
 * @param build the model for a parsed config, the data's input width D and K classes.
 */
export function semiSupervisedFamily<C extends { type: string }>(
  type: string,
  description: string,
  schema: z.ZodType<C>,
  build: (config: C, shape: { inputDim: number; classes: number }, rng: Rng) => SemiSupervisedModel,
  opts: SemiSupervisedFamilyOptions = {},
): ModelFamily<C> {
  const optional = opts.labelledOptional ?? false;
  return {
    type,
    description,
    schema,
    labelUse: () => 'semi-supervised',
    labelledOptional: optional,
    checkObjective(_c, o) {
      if (o.bound !== 'elbo') throw new Error(`objective.bound: ${type} trains with J^α built on the ELBO (thesis eq 4.10); 'iwae' is for evaluation (evaluate --iw)`);
      if (o.samples !== 1) throw new Error(`objective.samples: ${type} takes its Monte Carlo samples from model.samples`);
    },
    create(config, shape: DataShape, rng): RunnableModel {
      const c = config as unknown as { classes?: number };
      if (optional && shape.classes === 0 && c.classes === undefined) throw new Error(`model.classes: ${type} without labelled rows needs the number of clusters (e.g. "classes": 10)`);
      if (shape.classes < 2 && !(optional && shape.classes === 0)) throw new Error(`${type} needs labels with at least 2 classes; the labelled source has ${shape.classes}`);
      if (c.classes !== undefined && c.classes < shape.classes) throw new Error(`model.classes is ${c.classes} but the labels have ${shape.classes} classes`);
      const K = c.classes ?? shape.classes;
      const m = build(config, { inputDim: shape.inputDim, classes: K }, rng);
      return {
        params: m.params,
        inputDim: shape.inputDim,
        classes: K,
        loss(batch: StepBatch, ctx) {
          return tf.tidy(() => {
            const lab = batch.labelled ? { x: batch.labelled.x, y: oneHot(batch.labelled.y, K) } : undefined;
            return semiSupervisedObjective(m, { ...(lab ? { labelled: lab } : {}), ...(batch.unlabelled ? { unlabelled: batch.unlabelled } : {}) }, ctx.rng, {
              alpha: ctx.objective.alpha ?? labelWeight(shape.inputDim),
              ...(ctx.objective.unlabelledQy !== undefined ? { unlabelledQy: ctx.objective.unlabelledQy } : {}),
              beta: ctx.beta,
            });
          });
        },
        logWeights: (x, k, rng, y) => tf.tidy(() => semiSupervisedLogWeights(m, x, k, rng, y ? oneHot(y, K) : undefined)),
        bound: (x, k, rng) => tf.tidy(() => (k > 1 ? iwaeFromLogWeights(semiSupervisedLogWeights(m, x, k, rng)) : unlabelledPart(m, x, rng))),
        instance: m,
        classify: (x) => m.classify(x),
        ...(m.sampleJoint
          ? {
              sampleJoint: (n: number, rng: Rng) => {
                const j = m.sampleJoint!(n, rng);
                const y = tf.tidy(() => tf.argMax(j.y, -1));
                const labels = Int32Array.from(y.dataSync());
                tf.dispose([j.y, y]);
                return { x: j.x, y: labels };
              },
            }
          : {}),
        sample(n, rng, y) {
          if (!y && m.sampleJoint) {
            const j = m.sampleJoint(n, rng);
            j.y.dispose();
            return j.x;
          }
          const labels = y ?? Int32Array.from({ length: n }, (_, i) => i % K);
          if (labels.length !== n) throw new Error(`${type}.sample: ${labels.length} labels for ${n} draws`);
          return tf.tidy(() => m.samplePrior(oneHot(labels, K), rng));
        },
        generate: (y) => tf.tidy(() => m.typical(oneHot(y, K))),
        dispose: () => m.dispose(),
      };
    },
  };
}

/** The M2 / ADGM / SDGM model of `models/ssl.ts` for a parsed `model` section (`classes` filled in from the data). */
export function buildSsl(config: Omit<SslConfig, 'classes'> & { classes?: number }, shape: { inputDim: number; classes: number }, rng: Rng): SemiSupervisedDgm {
  return new SemiSupervisedDgm({ ...config, classes: shape.classes, inputDim: shape.inputDim }, rng);
}
