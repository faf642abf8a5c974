/**
 * Column (feature) selection. The ADGM and M2 MNIST experiments drop the pixels that barely vary
 * over the training set: with the population standard deviation below 0.1 on the 60 000 training
 * images scaled to [0, 1], {@link lowVarianceColumns} finds the columns to drop and
 * {@link selectColumns} keeps the rest (apply the same column list to the test set).
 */
import type { Dataset } from './dataset.js';

/**
 * Indices (ascending) of the columns of `x` (`n × dim`, row-major) whose standard deviation over the
 * rows is below `threshold` (strictly). The standard deviation is the population one (divide by n,
 * not n − 1), computed in double precision with two passes. A column holding NaN never counts as
 * low-variance (its deviation is NaN).
 */
export function lowVarianceColumns(x: Float32Array, dim: number, threshold = 0.1): number[] {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`lowVarianceColumns: dim must be a positive integer, got ${dim}`);
  if (!(threshold >= 0) || !Number.isFinite(threshold)) {
    throw new Error(`lowVarianceColumns: threshold must be a finite number ≥ 0, got ${threshold}`);
  }
  const n = x.length / dim;
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`lowVarianceColumns: ${x.length} values do not form one or more rows of ${dim}`);
  }
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    for (let j = 0; j < dim; j++) mean[j] += x[o + j];
  }
  for (let j = 0; j < dim; j++) mean[j] /= n;
  const ss = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    for (let j = 0; j < dim; j++) {
      const d = x[o + j] - mean[j];
      ss[j] += d * d;
    }
  }
  const out: number[] = [];
  for (let j = 0; j < dim; j++) if (Math.sqrt(ss[j] / n) < threshold) out.push(j);
  return out;
}

/**
 * Indices of `0..dim − 1` that are not in `drop`, ascending: turns the result of
 * {@link lowVarianceColumns} into the list of columns to keep.
 */
export function complementColumns(drop: ArrayLike<number>, dim: number): number[] {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`complementColumns: dim must be a positive integer, got ${dim}`);
  const gone = new Uint8Array(dim);
  for (let r = 0; r < drop.length; r++) {
    const j = drop[r];
    if (!Number.isInteger(j) || j < 0 || j >= dim) {
      throw new Error(`complementColumns: column ${j} at position ${r} is outside 0..${dim - 1}`);
    }
    gone[j] = 1;
  }
  const keep: number[] = [];
  for (let j = 0; j < dim; j++) if (!gone[j]) keep.push(j);
  return keep;
}

/**
 * A new dataset holding only the columns `keep` of `ds`, in the order given (copied; labels copied
 * too). `dim` becomes `keep.length` and `shape` becomes `[keep.length]` (the image shape is gone).
 * Throws if `keep` is empty, or holds a column outside `0..dim − 1` or the same column twice,
 * naming the column and its position in `keep`.
 */
export function selectColumns(ds: Dataset, keep: ArrayLike<number>, name = `${ds.name}-cols${keep.length}`): Dataset {
  const who = `selectColumns(data '${ds.name}')`;
  const m = keep.length;
  if (m === 0) throw new Error(`${who}: no columns to keep`);
  const seen = new Int32Array(ds.dim).fill(-1);
  for (let r = 0; r < m; r++) {
    const j = keep[r];
    if (!Number.isInteger(j) || j < 0 || j >= ds.dim) throw new Error(`${who}: column ${j} at position ${r} is outside 0..${ds.dim - 1}`);
    if (seen[j] >= 0) throw new Error(`${who}: column ${j} appears twice, at positions ${seen[j]} and ${r}`);
    seen[j] = r;
  }
  if (ds.x.length !== ds.n * ds.dim) {
    throw new Error(`${who}: x has ${ds.x.length} values, expected n × dim = ${ds.n} × ${ds.dim} = ${ds.n * ds.dim}`);
  }
  const cols = Int32Array.from(keep);
  const x = new Float32Array(ds.n * m);
  for (let i = 0; i < ds.n; i++) {
    const src = i * ds.dim;
    const dst = i * m;
    for (let r = 0; r < m; r++) x[dst + r] = ds.x[src + cols[r]];
  }
  return { name, x, y: ds.y.slice(), n: ds.n, dim: m, shape: [m], numClasses: ds.numClasses };
}
