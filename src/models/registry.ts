/**
 * Model registry: config `type` → constructor. New model families register here instead of growing
 * `if (type === …)` chains in the CLI.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng.js';
import type { ParamStore } from '../nn/params.js';
import type { LogTerms } from '../objectives/bounds.js';
import { Vae, type VaeConfig } from './vae.js';
import { Avae, type AvaeConfig } from './avae.js';

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
