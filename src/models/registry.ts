/**
 * Model registry: config `type` → family (`models/family.ts`: schema + factory of a
 * {@link RunnableModel}). A new model is one model file plus one `registerFamily` line below; the
 * run pipeline (`experiments/run.ts`), the run-config schema and every command find it here.
 *
 * {@link createModel} / {@link LatentModel} are the older, narrower registry of unsupervised models
 * that the MNIST quick start and reports still use.
 */
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Rng } from '../engine/rng.js';
import type { ParamStore } from '../nn/params.js';
import type { LogTerms } from '../objectives/bounds.js';
import { Vae, VaeConfigSchema, type VaeConfig } from './vae.js';
import { Avae, AvaeConfigSchema, type AvaeConfig } from './avae.js';
import { SslConfigSchema } from './ssl.js';
import type { ModelFamily } from './family.js';
import { buildSsl, latentFamily, semiSupervisedFamily } from './families.js';
import { Lvae, LvaeConfigSchema } from './lvae.js';
import { Cagem, CagemConfigSchema } from './cagem.js';

/** What the run machinery needs of an unsupervised latent-variable model. */
export interface LatentModel {
  readonly params: ParamStore;
  /**
   * Log-terms for x [B, D] with k samples, [k, B] each. A conditional model (`numClasses` > 0)
   * needs the B class indices `y` (an array or an int32 tensor); other models take none.
   */
  terms(x: tf.Tensor, k: number, rng: Rng, y?: Int32Array | tf.Tensor): LogTerms;
  /** Number of label classes a conditional model is given (0 or absent: unconditional). */
  readonly numClasses?: number;
  /** n samples from the generative model (means of p(x|z)), [n, D]. */
  sample(n: number, rng: Rng): tf.Tensor;
  /** Deterministic reconstruction of x, [B, D] (a conditional model needs the labels `y`). */
  reconstruct(x: tf.Tensor, y?: Int32Array): tf.Tensor;
  dispose(): void;
}

/** The labels a model needs with x: `labels` when the model is conditional, else undefined. */
export function labelsFor(model: LatentModel, labels: Int32Array): Int32Array | undefined {
  return (model.numClasses ?? 0) > 0 ? labels : undefined;
}

/** Model configs known to the registry. */
export type ModelConfig = VaeConfig | AvaeConfig;

type Factory = (config: ModelConfig, inputDim: number, rng: Rng) => LatentModel;

const registry = new Map<string, Factory>([
  ['vae', (c, inputDim, rng) => new Vae({ ...(c as VaeConfig), inputDim }, rng)],
  ['avae', (c, inputDim, rng) => new Avae({ ...(c as AvaeConfig), inputDim }, rng)],
]);

/** Registers a model family under `type`. */
export function registerModel(type: string, factory: Factory): void {
  registry.set(type, factory);
}

/** Builds the model described by `config` for inputs of `inputDim` features. */
export function createModel(config: ModelConfig, inputDim: number, rng: Rng): LatentModel {
  const f = registry.get(config.type);
  if (!f) throw new Error(`unknown model type '${config.type}'; registered: ${[...registry.keys()].join(', ')}`);
  return f(config, inputDim, rng);
}

/** The SSL family's `model` section for one type: `classes` is filled in from the labels when omitted. */
function sslRunSchema<T extends 'm2' | 'adgm' | 'sdgm'>(type: T) {
  return SslConfigSchema.extend({
    type: z.literal(type),
    /** Number of classes K; default: the number of classes in the labels. */
    classes: z.number().int().min(2).optional(),
  }).strict();
}

/** `model` section of an M2, ADGM or SDGM run. */
export type SslRunModelConfig = z.output<ReturnType<typeof sslRunSchema>>;

const families = new Map<string, ModelFamily>();

/**
 * Registers a model family for the run pipeline (`untapped train --config`, every command).
 * @throws Error when the type is already registered.
 */
export function registerFamily<C extends { type: string }>(f: ModelFamily<C>): void {
  if (families.has(f.type)) throw new Error(`model type '${f.type}' is already registered`);
  families.set(f.type, f as unknown as ModelFamily);
  for (const l of listeners) l();
}

const listeners: (() => void)[] = [];

/** Calls `f` after every registration (the run-config schema rebuilds its model section this way). */
export function onRegister(f: () => void): void {
  listeners.push(f);
}

// ---- the registered families: one line each ----
registerFamily(latentFamily('vae', 'VAE (Kingma & Welling 2014; thesis 003 ch. 3): 1–2 stochastic layers, MLP or conv, β, denoising, conditional', VaeConfigSchema, (c, D, rng) => new Vae({ ...c, inputDim: D }, rng), (c) => c.conditional));
registerFamily(latentFamily('avae', 'auxiliary VAE (Maaløe et al. 2016, appendix A eqs 19–20)', AvaeConfigSchema, (c, D, rng) => new Avae({ ...c, inputDim: D }, rng)));
registerFamily(latentFamily('lvae', 'deep VAE with L stochastic layers (thesis 003 §5.1.1, appendix B): LVAE top-down inference with the precision-weighted merge, or bottom-up', LvaeConfigSchema, (c, D, rng) => new Lvae({ ...c, inputDim: D }, rng)));
registerFamily(semiSupervisedFamily('m2', 'M2 (Kingma et al. 2014; thesis 003 §4.1): p(y)p(z)p(x|y,z), q(y|x)q(z|x,y)', sslRunSchema('m2'), buildSsl));
registerFamily(semiSupervisedFamily('adgm', 'auxiliary deep generative model (Maaløe et al. 2016; thesis 003 §4.2)', sslRunSchema('adgm'), buildSsl));
registerFamily(semiSupervisedFamily('sdgm', 'skip deep generative model (Maaløe et al. 2016)', sslRunSchema('sdgm'), buildSsl));
registerFamily(semiSupervisedFamily('cagem', 'cluster-aware generative model, CaGeM (Maaløe et al. 2017; thesis 003 §4.3, appendix C): p(z2)p(y|z2)p(z1|y,z2)p(x|y,z1), C clusters, 0 or more labels', CagemConfigSchema, (c, s, rng) => new Cagem({ ...c, ...s }, rng), { labelledOptional: true }));

/** A parsed `model` section of any built-in type. */
export type RunModelConfig = VaeConfig | AvaeConfig | SslRunModelConfig;

/** The registered families' `model` schemas (each a `z.object` whose `type` is a literal), in registration order. */
export function familySchemas(): z.ZodType[] {
  return [...families.values()].map((f) => f.schema);
}

/** The registered model types, in registration order. */
export function familyTypes(): string[] {
  return [...families.keys()];
}

/**
 * The family of a model type.
 * @throws Error naming the registered types when `type` is not one of them.
 */
export function modelFamily(type: string): ModelFamily {
  const f = families.get(type);
  if (!f) throw new Error(`unknown model type '${type}'; registered: ${familyTypes().join(', ')}${type === 'untapped' ? " (the untapped model trains through its own config: see docs/fit.md)" : ''}`);
  return f;
}
