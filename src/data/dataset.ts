/**
 * The in-memory dataset type shared by the data loaders and the models, plus small helpers that
 * check, subset and split datasets. Everything here is plain typed arrays; no tensors.
 */
import type { Rng } from '../engine/rng.js';

/**
 * A labelled dataset held in plain typed arrays.
 *
 * - `x` holds `n` examples of `dim` features each, row-major: example `i` is
 *   `x.subarray(i * dim, (i + 1) * dim)`.
 * - `y[i]` is the class of example `i`, an integer in `0..numClasses − 1`.
 * - `shape` is the per-example shape (e.g. `[28, 28]` for MNIST); its product equals `dim`.
 *
 * Loaders may share `x` and `y` between datasets (MNIST results are cached), so treat them as
 * read-only: helpers in this module always return fresh arrays rather than writing in place.
 */
export interface Dataset {
  /** Human-readable name, used in error messages (e.g. `'mnist-train'`). */
  name: string;
  /** Features, `n × dim`, row-major. */
  x: Float32Array;
  /** Class labels, length `n`, each in `0..numClasses − 1`. */
  y: Int32Array;
  /** Number of examples. */
  n: number;
  /** Number of features per example. */
  dim: number;
  /** Shape of one example; the product of its entries equals `dim`. */
  shape: number[];
  /** Number of classes. */
  numClasses: number;
}

/**
 * Checks that a dataset's fields agree with each other (array lengths, `shape` vs `dim`, integer
 * sizes). Throws an error naming the dataset and the inconsistency; returns the dataset otherwise.
 * Labels are not range-checked here (that is a full pass; see {@link checkLabels}).
 */
export function checkDataset(ds: Dataset): Dataset {
  const who = `data '${ds.name}'`;
  if (!Number.isInteger(ds.n) || ds.n < 0) throw new Error(`${who}: n must be a non-negative integer, got ${ds.n}`);
  if (!Number.isInteger(ds.dim) || ds.dim < 1) throw new Error(`${who}: dim must be a positive integer, got ${ds.dim}`);
  if (!Number.isInteger(ds.numClasses) || ds.numClasses < 1) {
    throw new Error(`${who}: numClasses must be a positive integer, got ${ds.numClasses}`);
  }
  const prod = ds.shape.reduce((a, b) => a * b, 1);
  if (prod !== ds.dim) throw new Error(`${who}: shape [${ds.shape.join(', ')}] has ${prod} elements but dim is ${ds.dim}`);
  if (ds.x.length !== ds.n * ds.dim) {
    throw new Error(`${who}: x has ${ds.x.length} values, expected n × dim = ${ds.n} × ${ds.dim} = ${ds.n * ds.dim}`);
  }
  if (ds.y.length !== ds.n) throw new Error(`${who}: y has ${ds.y.length} labels, expected n = ${ds.n}`);
  return ds;
}

/**
 * Checks that every label is an integer in `0..numClasses − 1`; throws naming the first bad row and
 * its value. Returns the dataset.
 */
export function checkLabels(ds: Dataset): Dataset {
  const y = ds.y;
  const k = ds.numClasses;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (v < 0 || v >= k) {
      throw new Error(`data '${ds.name}': row ${i} has label ${v}, outside 0..${k - 1}`);
    }
  }
  return ds;
}

/**
 * Throws if any feature is NaN or ±Infinity, naming the first offending row and column, e.g.
 * `data 'mnist-train': row 12, column 300 is NaN`. Returns the dataset.
 */
export function checkFinite(ds: Dataset): Dataset {
  const x = ds.x;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    // v - v is 0 for finite v and NaN for NaN and ±Infinity; cheaper than Number.isFinite per element.
    if (v - v !== 0) {
      const row = Math.floor(i / ds.dim);
      const col = i - row * ds.dim;
      throw new Error(`data '${ds.name}': row ${row}, column ${col} is ${v}`);
    }
  }
  return ds;
}

/**
 * A new dataset holding the given rows of `ds`, in the given order (copied, so the result owns its
 * arrays). Indices must be integers in `0..n − 1`; repeats are allowed.
 */
export function subsetRows(ds: Dataset, indices: ArrayLike<number>, name = `${ds.name}-subset`): Dataset {
  const dim = ds.dim;
  const m = indices.length;
  const x = new Float32Array(m * dim);
  const y = new Int32Array(m);
  for (let r = 0; r < m; r++) {
    const i = indices[r];
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) {
      throw new Error(`subsetRows(data '${ds.name}'): index ${i} at position ${r} is outside 0..${ds.n - 1}`);
    }
    x.set(ds.x.subarray(i * dim, (i + 1) * dim), r * dim);
    y[r] = ds.y[i];
  }
  return { name, x, y, n: m, dim, shape: ds.shape.slice(), numClasses: ds.numClasses };
}

/** The result of {@link validationSplit}: both parts plus the original row indices of each. */
export interface ValidationSplit {
  /** The rows kept for training. */
  train: Dataset;
  /** The held-out rows. */
  val: Dataset;
  /** Original row indices of `train`, ascending. */
  trainIndices: Int32Array;
  /** Original row indices of `val`, ascending. */
  valIndices: Int32Array;
}

/**
 * Holds out `nVal` randomly chosen rows (seeded by `rng`) as a validation set. Both parts keep the
 * original relative order of their rows. `nVal` must be an integer in `0..n`.
 */
export function validationSplit(ds: Dataset, nVal: number, rng: Rng): ValidationSplit {
  if (!Number.isInteger(nVal) || nVal < 0 || nVal > ds.n) {
    throw new Error(`validationSplit(data '${ds.name}'): nVal must be an integer in 0..${ds.n}, got ${nVal}`);
  }
  const perm = rng.permutation(ds.n);
  const valIndices = perm.slice(0, nVal).sort();
  const trainIndices = perm.slice(nVal).sort();
  return {
    train: subsetRows(ds, trainIndices, `${ds.name}-train`),
    val: subsetRows(ds, valIndices, `${ds.name}-val`),
    trainIndices,
    valIndices,
  };
}

/** Row-major blocks of rows laid end to end, [Σ n_i, D] (the first block itself when there is one). */
export function concatArrays(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
