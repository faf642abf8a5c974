/** Class-balanced labelled subsets for semi-supervised learning. */
import type { Rng } from '../engine/rng.js';
import { type Dataset, subsetRows } from './dataset.js';

/** Options for {@link labelledSubset}. */
export interface LabelledSubsetOptions {
  /** Called with each warning as it arises (the warnings are also returned). */
  onWarning?: (message: string) => void;
}

/** The result of {@link labelledSubset}. */
export interface LabelledSubset {
  /** `perClass` examples of every class present, in original row order. */
  labelled: Dataset;
  /** All other examples, in original row order. */
  rest: Dataset;
  /** Original row indices of `labelled`, ascending. */
  indices: Int32Array;
  /** Original row indices of `rest`, ascending. */
  restIndices: Int32Array;
  /** Non-fatal problems, e.g. a class with no examples. */
  warnings: string[];
}

/**
 * Draws `perClass` examples of each class uniformly at random without replacement (seeded by
 * `rng`), giving a class-balanced labelled set and the remainder.
 *
 * Throws if a label is outside `0..numClasses − 1` (naming the row and value), or if a class has
 * some examples but fewer than `perClass` (naming the class and how many it has). A class with no
 * examples at all is skipped with a warning instead, so the labelled set then has fewer than
 * `perClass × numClasses` rows.
 */
export function labelledSubset(ds: Dataset, perClass: number, rng: Rng, opts: LabelledSubsetOptions = {}): LabelledSubset {
  const who = `labelledSubset(data '${ds.name}')`;
  if (!Number.isInteger(perClass) || perClass < 0) throw new Error(`${who}: perClass must be a non-negative integer, got ${perClass}`);
  const k = ds.numClasses;
  const counts = new Int32Array(k);
  for (let i = 0; i < ds.n; i++) {
    const c = ds.y[i];
    if (!(c >= 0 && c < k)) throw new Error(`${who}: row ${i} has label ${c}, outside 0..${k - 1}`);
    counts[c]++;
  }
  const warnings: string[] = [];
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) {
      const msg = `${who}: class ${c} has no examples; the labelled set has none of it`;
      warnings.push(msg);
      opts.onWarning?.(msg);
    } else if (counts[c] < perClass) {
      throw new Error(`${who}: asked for ${perClass} examples per class but class ${c} has only ${counts[c]}`);
    }
  }
  // Rows of each class, in order.
  const byClass: Int32Array[] = [];
  const fill = new Int32Array(k);
  for (let c = 0; c < k; c++) byClass.push(new Int32Array(counts[c]));
  for (let i = 0; i < ds.n; i++) {
    const c = ds.y[i];
    byClass[c][fill[c]++] = i;
  }
  const chosen = new Uint8Array(ds.n);
  let m = 0;
  for (let c = 0; c < k; c++) {
    const rows = byClass[c];
    if (rows.length === 0) continue;
    const perm = rng.permutation(rows.length);
    for (let j = 0; j < perClass; j++) chosen[rows[perm[j]]] = 1;
    m += perClass;
  }
  const indices = new Int32Array(m);
  const restIndices = new Int32Array(ds.n - m);
  let a = 0;
  let b = 0;
  for (let i = 0; i < ds.n; i++) {
    if (chosen[i]) indices[a++] = i;
    else restIndices[b++] = i;
  }
  return {
    labelled: subsetRows(ds, indices, `${ds.name}-labelled${perClass}`),
    rest: subsetRows(ds, restIndices, `${ds.name}-rest`),
    indices,
    restIndices,
    warnings,
  };
}
