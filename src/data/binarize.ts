/**
 * Binarisation of [0, 1] intensities, for models with Bernoulli likelihoods.
 *
 * - static: each pixel drawn once, `x ~ Bernoulli(intensity)`, seeded (a fixed binary dataset);
 * - dynamic: fresh draws for every minibatch of every epoch ({@link binarizeInto});
 * - threshold: deterministic `x > t`.
 */
import type { Rng } from '../engine/rng.js';
import type { Dataset } from './dataset.js';

/**
 * Fills `out` with Bernoulli draws: `out[i] = 1` with probability `src[i]`, else 0. Values ≤ 0 (and
 * NaN) always give 0, values ≥ 1 always give 1. `out` and `src` must have the same length and may
 * be the same array. Returns `out`. Used once per minibatch for dynamic binarisation.
 */
export function binarizeInto(out: Float32Array, src: Float32Array, rng: Rng): Float32Array {
  if (out.length !== src.length) throw new Error(`binarizeInto: out has ${out.length} values but src has ${src.length}`);
  for (let i = 0; i < src.length; i++) out[i] = rng.next() < src[i] ? 1 : 0;
  return out;
}

/**
 * Static binarisation: a new dataset whose pixels are drawn once from Bernoulli(intensity), seeded
 * by `rng` (same seed → same dataset). Labels are copied.
 */
export function binarizeStatic(ds: Dataset, rng: Rng): Dataset {
  const x = binarizeInto(new Float32Array(ds.x.length), ds.x, rng);
  return { ...ds, name: `${ds.name}-binarized`, x, y: ds.y.slice(), shape: ds.shape.slice() };
}

/** Deterministic binarisation: a new dataset with pixels set to 1 where `x > threshold`, else 0. */
export function thresholdBinarize(ds: Dataset, threshold = 0.5): Dataset {
  const src = ds.x;
  const x = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) x[i] = src[i] > threshold ? 1 : 0;
  return { ...ds, name: `${ds.name}-threshold`, x, y: ds.y.slice(), shape: ds.shape.slice() };
}
