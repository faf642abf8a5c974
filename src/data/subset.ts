/** Class-balanced labelled subsets for semi-supervised learning. */
import type { Rng } from '../engine/rng.js';
import { type Dataset, subsetRows } from './dataset.js';

/**
 * Checks that every entry of `y` is an integer in `0..numClasses − 1`. Throws on the first bad entry,
 * naming `source` (e.g. a file name or a dataset), the row and the value, e.g.
 * `labels.csv: row 12 has label 10, outside 0..9`. Returns `y`.
 *
 * (`checkLabels` in `dataset.ts` does the same check for a whole {@link Dataset}.)
 */
export function checkLabelArray<T extends ArrayLike<number>>(y: T, numClasses: number, source: string): T {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new Error(`${source}: the number of classes must be a positive integer, got ${numClasses}`);
  }
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (!Number.isInteger(v)) throw new Error(`${source}: row ${i} has label ${v}, which is not an integer`);
    if (v < 0 || v >= numClasses) throw new Error(`${source}: row ${i} has label ${v}, outside 0..${numClasses - 1}`);
  }
  return y;
}

/**
 * Counts the examples of each class in `y` (labels checked with {@link checkLabelArray} first).
 * Returns an array of length `numClasses`.
 */
export function classCounts(y: ArrayLike<number>, numClasses: number, source: string): Int32Array {
  checkLabelArray(y, numClasses, source);
  const counts = new Int32Array(numClasses);
  for (let i = 0; i < y.length; i++) counts[y[i]]++;
  return counts;
}

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
 * Throws if a label is outside `0..numClasses − 1` or not an integer (naming the row and value), or
 * if a class has some examples but fewer than `perClass` (naming the class, how many were asked for
 * and how many it has). A class with no examples at all is skipped with a warning instead, so the
 * labelled set then has fewer than `perClass × numClasses` rows. Warnings are both returned in
 * `warnings` and, as each arises, passed to `opts.onWarning` when given; nothing is printed.
 */
export function labelledSubset(ds: Dataset, perClass: number, rng: Rng, opts: LabelledSubsetOptions = {}): LabelledSubset {
  const who = `labelledSubset(data '${ds.name}')`;
  if (!Number.isInteger(perClass) || perClass < 0) throw new Error(`${who}: perClass must be a non-negative integer, got ${perClass}`);
  const k = ds.numClasses;
  if (ds.y.length !== ds.n) throw new Error(`${who}: y has ${ds.y.length} labels, expected n = ${ds.n}`);
  const counts = classCounts(ds.y, k, who);
  const warnings: string[] = [];
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) {
      const msg = `${who}: class ${c} has no examples; the labelled set has none of it`;
      warnings.push(msg);
      opts.onWarning?.(msg);
    } else if (counts[c] < perClass) {
      throw new Error(`${who}: asked for ${perClass} examples per class but class ${c} has only ${counts[c]} (of ${ds.n} rows)`);
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
