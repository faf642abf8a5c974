/**
 * Unfeatured labels made from the labelled ones: the y of `000_…` eq 15's reverse bounds (10)/(20)
 * when the user has no compositions of their own. Resampled labels stay where the labelled rows
 * are, so the spectra that p(x | y, z) generates for them are interpolations, not extrapolations
 * (the corners of the simplex are far outside most real data: octane 80 or 92 for gasoline whose
 * samples lie in 83–90).
 */
import type { Rng } from '../engine/rng.js';

/**
 * `count` labels resampled from the `n` labelled rows `y` (`n × K`, row-major).
 * - `simplex` and `real`: y = λ·y_i + (1 − λ)·y_j for two labelled rows i, j drawn uniformly and
 *   λ ~ U(0, 1): points of the segments between labelled compositions (or real targets), inside
 *   their convex hull.
 * - `discrete`: the one-hot of a labelled row drawn uniformly (the labelled class frequencies).
 * @returns `count` rows of K values.
 * @throws if `y` is empty, its length is not n·K, or `count` is not a positive integer.
 */
export function resampledLabels(y: ArrayLike<number>, n: number, K: number, count: number, rng: Rng, labels: 'simplex' | 'discrete' | 'real'): number[][] {
  if (!(n >= 1) || y.length !== n * K) throw new Error(`resampledLabels: expected ${n} × ${K} labels, got ${y.length} values`);
  if (!Number.isInteger(count) || count < 1) throw new Error(`resampledLabels: count must be an integer ≥ 1, got ${count}`);
  const row = (i: number) => Array.from({ length: K }, (_, k) => y[i * K + k]);
  const out: number[][] = [];
  for (let c = 0; c < count; c++) {
    const a = row(rng.int(n));
    if (labels === 'discrete') {
      out.push(a);
      continue;
    }
    const b = row(rng.int(n));
    const l = rng.next();
    out.push(a.map((v, k) => l * v + (1 - l) * b[k]));
  }
  return out;
}
