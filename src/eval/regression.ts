/**
 * The figures a chemometrician reads off a calibration (Næs, Isaksson, Fearn & Davies, "A
 * user-friendly guide to multivariate calibration and classification", 2002, §13): per target, on n
 * test rows with residuals e_i = ŷ_i − y_i,
 *
 *   RMSEP = √(Σ e_i² / n)                       (root mean squared error of prediction)
 *   bias  = Σ e_i / n                           (mean residual; positive: over-predicts)
 *   SEP   = √(Σ (e_i − bias)² / (n − 1))        (standard error of prediction, bias removed)
 *   R²    = 1 − Σ e_i² / Σ (y_i − ȳ)²           (against the test rows' own mean ȳ)
 *
 * so that RMSEP² = bias² + SEP²·(n − 1)/n. On cross-validation predictions the same RMSEP is
 * called RMSECV. Folds that keep the replicates of a sample together are {@link groupFolds}.
 */
import { Rng } from '../engine/rng.js';

/** The figures of one target (see the module doc). */
export interface RegressionStats {
  n: number;
  rmsep: number;
  bias: number;
  /** NaN for n < 2. */
  sep: number;
  /** NaN when the test targets do not vary. */
  r2: number;
}

/**
 * Per-target {@link RegressionStats} of predictions `pred` against `y`, both n × k row-major.
 * @throws Error when the sizes differ, n < 1, or a value is not finite (naming row and target).
 */
export function regressionStats(pred: ArrayLike<number>, y: ArrayLike<number>, n: number, k: number): RegressionStats[] {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(k) || k < 1) throw new Error(`regressionStats: n and k must be integers ≥ 1, got ${n} and ${k}`);
  if (pred.length !== n * k || y.length !== n * k) throw new Error(`regressionStats: ${pred.length} predictions and ${y.length} targets for ${n} rows × ${k} targets`);
  const out: RegressionStats[] = [];
  for (let j = 0; j < k; j++) {
    let se = 0;
    let sum = 0;
    let ym = 0;
    for (let i = 0; i < n; i++) {
      const p = pred[i * k + j];
      const t = y[i * k + j];
      if (!Number.isFinite(p) || !Number.isFinite(t)) throw new Error(`regressionStats: row ${i + 1}, target ${j + 1} is not finite (prediction ${p}, target ${t})`);
      se += (p - t) ** 2;
      sum += p - t;
      ym += t / n;
    }
    const bias = sum / n;
    let sc = 0;
    let st = 0;
    for (let i = 0; i < n; i++) {
      sc += (pred[i * k + j] - y[i * k + j] - bias) ** 2;
      st += (y[i * k + j] - ym) ** 2;
    }
    out.push({ n, rmsep: Math.sqrt(se / n), bias, sep: n > 1 ? Math.sqrt(sc / (n - 1)) : NaN, r2: st > 0 ? 1 - se / st : NaN });
  }
  return out;
}

/**
 * Assigns each of n rows to one of `folds` folds so that rows of one group (the replicates of a
 * sample) share a fold: the groups, in a seeded random order, go one by one to the fold with the
 * fewest rows so far (ties to the lower index). Without groups every row is its own group.
 * @param groups one value per row (number or string), or the number of rows n.
 * @returns the fold index (0 … folds − 1) of every row.
 * @throws Error when folds < 2 or there are fewer groups than folds.
 */
export function groupFolds(groups: ArrayLike<number | string> | number, folds: number, seed = 0): Int32Array {
  const n = typeof groups === 'number' ? groups : groups.length;
  if (!Number.isInteger(folds) || folds < 2) throw new Error(`groupFolds: folds must be an integer ≥ 2, got ${folds}`);
  const members = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const g = typeof groups === 'number' ? String(i) : String(groups[i]);
    const m = members.get(g);
    if (m) m.push(i);
    else members.set(g, [i]);
  }
  const keys = [...members.keys()];
  if (keys.length < folds) throw new Error(`groupFolds: ${keys.length} group${keys.length === 1 ? '' : 's'} cannot fill ${folds} folds (each fold needs at least one)`);
  const order = new Rng(seed).fork('folds').permutation(keys.length);
  const sizes = new Array<number>(folds).fill(0);
  const fold = new Int32Array(n);
  for (const gi of order) {
    let f = 0;
    for (let j = 1; j < folds; j++) if (sizes[j] < sizes[f]) f = j;
    for (const i of members.get(keys[gi])!) fold[i] = f;
    sizes[f] += members.get(keys[gi])!.length;
  }
  return fold;
}

/** The row indices in and out of fold `f`. */
export function foldRows(fold: ArrayLike<number>, f: number): { train: number[]; test: number[] } {
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < fold.length; i++) (fold[i] === f ? test : train).push(i);
  return { train, test };
}
