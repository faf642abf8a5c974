/**
 * The model contract of the run pipeline: what `untapped train --config`, `evaluate`, `predict`,
 * `sample` and `generate` need of a model, whatever its family. A family is registered once
 * (`models/registry.ts`, one line) with its config schema and a factory; the pipeline
 * (`experiments/run.ts`) then gives it every data source, the trainer, checkpoints and resume, the
 * one save format, and every command.
 *
 * A model runs its networks and returns log-densities; the bounds and losses are computed by the
 * units of `objectives/` (ELBO / IWAE(k) in `bounds.ts`, J^α in `semi-supervised.ts`), never here.
 *
 * Label use decides which sources a family trains on and what it can answer:
 * - `none`: an unsupervised model of x (VAE, AVAE); labels, where a source has them, are used only
 *   to report on (e.g. the classes of a latent scatter);
 * - `conditional`: p(x | y) with y given for every row (the conditional VAE); every training row
 *   needs a label;
 * - `semi-supervised`: p(x, y) with y observed on labelled rows and summed out on unlabelled rows
 *   (M2, ADGM, SDGM); it classifies with q(y | x).
 */
import type * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { Rng } from '../engine/rng.js';
import type { ParamStore } from '../nn/params.js';

/** How a family uses labels (see the module doc). */
export type LabelUse = 'none' | 'conditional' | 'semi-supervised';

/** What the data tell a factory: the input width D and the number of classes K (0: no labels). */
export interface DataShape {
  inputDim: number;
  classes: number;
}

/**
 * One training step's batch. `labelled.y` holds class indices (int32 [B_l]); a conditional model
 * gets its rows as `labelled`; an unsupervised one gets every row as `unlabelled`.
 */
export interface StepBatch {
  labelled?: { x: tf.Tensor; y: tf.Tensor };
  unlabelled?: { x: tf.Tensor };
}

/**
 * The objective settings of a run (the `objective` section of a run config after defaults), as a
 * family's loss reads them. Which of them apply depends on the family; the family's
 * {@link ModelFamily.checkObjective} rejects the others.
 */
export interface ObjectiveSettings {
  /** `elbo` (thesis `003_…` eq 3.11) or `iwae` (eq 3.31). */
  bound: 'elbo' | 'iwae';
  /** Samples per example (k of IWAE). */
  samples: number;
  /** Analytic KL in the ELBO where the model has one. */
  analyticKl: boolean;
  /** Weight α of the classification term of J^α (thesis eq 4.10); default: the input width D. */
  alpha?: number;
  /** Factor in [0, 1] on the unlabelled bound's gradient into q(y | ·) (default 1: the papers' objective). */
  unlabelledQy?: number;
}

/** A trained or trainable model, as the pipeline sees it. */
export interface RunnableModel {
  readonly params: ParamStore;
  /** Input width D. */
  readonly inputDim: number;
  /** Number of classes K the model knows (0 for an unsupervised model). */
  readonly classes: number;
  /**
   * The training loss (a scalar to minimise) for one batch, at KL weight `beta` (warm-up; 1 is the
   * bound), computed by the `objectives/` units from the model's log-terms.
   */
  loss(batch: StepBatch, ctx: { rng: Rng; beta: number; objective: ObjectiveSettings }): tf.Scalar;
  /**
   * Importance log-weights [k, B] for x [B, D] whose log-mean-exp over k estimates log p(x) (y
   * summed out for a semi-supervised model) or, for a conditional model, log p(x | y) with the B
   * class indices `y` (required then). IWAE(k) and the IW log-likelihood of `eval/loglik.ts` come
   * from these.
   */
  logWeights(x: tf.Tensor, k: number, rng: Rng, y?: Int32Array): tf.Tensor;
  /**
   * The test bound per example [B], in nats: the ELBO for k = 1 (with the analytic KL where the
   * model has one; for a semi-supervised model −U(x) of thesis eq 4.8, y summed with q(y | x)) or
   * IWAE(k) for k > 1 (from {@link logWeights}). A conditional model needs the labels `y`.
   */
  bound(x: tf.Tensor, k: number, rng: Rng, y?: Int32Array): tf.Tensor;
  /** Class probabilities q(y | x), [B, K]; absent where the model has no q(y | x). */
  classify?(x: tf.Tensor): tf.Tensor;
  /**
   * n draws from the generative model, as the means of p(x | ·) [n, D]. `y` (n class indices) fixes
   * the class of each draw where the model has one (conditional, semi-supervised); otherwise it is
   * drawn from p(y).
   */
  sample(n: number, rng: Rng, y?: Int32Array): tf.Tensor;
  /**
   * n draws from the model's own joint where it has a p(y | ·) of its own (CaGeM): the means of
   * p(x | ·) [n, D] and each draw's class; absent elsewhere (the classes of unconditional draws then
   * cycle, p(y) being uniform).
   */
  sampleJoint?(n: number, rng: Rng): { x: tf.Tensor; y: Int32Array };
  /**
   * The typical input of each class: the mean of p(x | y, ·) at the prior mean of the other latent
   * variables, [n, D] for n class indices; absent where the model has no label to generate from.
   */
  generate?(y: Int32Array): tf.Tensor;
  /** The model object itself, for capabilities outside the contract (reconstructions, active units). */
  readonly instance: object;
  /** Frees the model's variables. */
  dispose(): void;
}

/** A registered model family: its config schema and a factory. */
export interface ModelFamily<C extends { type: string } = { type: string }> {
  /** The `model.type` of run configs. */
  readonly type: string;
  /** One line for `--help` and docs: what the model is, with its paper. */
  readonly description: string;
  /** The `model` section's schema (defaults filled in by parsing; `type` is a literal). */
  readonly schema: z.ZodType<C>;
  /** How the family uses labels, for a parsed config (a VAE with `conditional` > 0 is conditional). */
  labelUse(config: C): LabelUse;
  /**
   * A semi-supervised family that also trains with no labelled row (its classes are then clusters,
   * `model.classes` of them): CaGeM-0. Absent or false: a semi-supervised run needs labelled rows.
   */
  readonly labelledOptional?: boolean;
  /**
   * Rejects objective settings that do not apply to the family, naming the key (e.g. `alpha` for an
   * unsupervised model).
   * @throws Error naming the key and the family.
   */
  checkObjective(config: C, objective: ObjectiveSettings): void;
  /** Builds the model for data of the given shape. @throws Error when the config does not fit the data. */
  create(config: C, shape: DataShape, rng: Rng): RunnableModel;
}
