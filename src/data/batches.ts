/** Minibatch helpers: seeded epoch shuffles and row gathering into reusable buffers. */
import type { Rng } from '../engine/rng.js';

/** Options for {@link epochBatches}. */
export interface EpochBatchOptions {
  /** Skip the final batch if it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
}

/** Number of batches {@link epochBatches} yields for `n` examples. */
export function numBatches(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/**
 * Yields the row indices of one epoch's minibatches: a seeded random permutation of `0..n − 1`
 * cut into consecutive batches of `batchSize` (the last one smaller unless `dropLast`). Each
 * yielded array is a view into the epoch's permutation; copy it if you keep it past the epoch.
 */
export function* epochBatches(n: number, batchSize: number, rng: Rng, opts: EpochBatchOptions = {}): Generator<Int32Array> {
  if (!Number.isInteger(n) || n < 0) throw new Error(`epochBatches: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`epochBatches: batchSize must be a positive integer, got ${batchSize}`);
  const perm = rng.permutation(n);
  const end = opts.dropLast ? n - (n % batchSize) : n;
  for (let s = 0; s < end; s += batchSize) yield perm.subarray(s, Math.min(s + batchSize, end));
}

/**
 * Copies rows `indices` of the row-major matrix `x` (rows of `dim` values) into `out` (allocated if
 * not given; must hold at least `indices.length × dim` values). Returns the filled part of `out`
 * (a view of exactly `indices.length × dim` values).
 */
export function gather(x: Float32Array, dim: number, indices: ArrayLike<number>, out?: Float32Array): Float32Array {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`gather: dim must be a positive integer, got ${dim}`);
  const m = indices.length;
  const need = m * dim;
  const dst = out ?? new Float32Array(need);
  if (dst.length < need) throw new Error(`gather: out holds ${dst.length} values, need ${m} rows × ${dim} = ${need}`);
  const rows = x.length / dim;
  for (let r = 0; r < m; r++) {
    const i = indices[r];
    if (!(i >= 0 && i < rows) || !Number.isInteger(i)) throw new Error(`gather: index ${i} at position ${r} is outside 0..${rows - 1}`);
    dst.set(x.subarray(i * dim, i * dim + dim), r * dim);
  }
  return dst.length === need ? dst : dst.subarray(0, need);
}

/** Gathers `indices` of an integer label array into `out` (allocated if not given). */
export function gatherLabels(y: Int32Array, indices: ArrayLike<number>, out?: Int32Array): Int32Array {
  const m = indices.length;
  const dst = out ?? new Int32Array(m);
  if (dst.length < m) throw new Error(`gatherLabels: out holds ${dst.length} labels, need ${m}`);
  for (let r = 0; r < m; r++) {
    const i = indices[r];
    if (!(i >= 0 && i < y.length) || !Number.isInteger(i)) throw new Error(`gatherLabels: index ${i} at position ${r} is outside 0..${y.length - 1}`);
    dst[r] = y[i];
  }
  return dst.length === m ? dst : dst.subarray(0, m);
}
