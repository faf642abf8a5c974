/**
 * Partial least squares (PLS2) regression, the spectroscopists' baseline for predicting compositions
 * from spectra (the "untapped" paper, `000_…`, sec. 4.2 and tables 2–3; the reference code uses 8
 * components on centred, unscaled data).
 *
 * The NIPALS decomposition comes from the `ml-pls` package (pure JavaScript, nothing downloaded at
 * run time). We centre (and optionally scale) X and Y ourselves and pass them with `scale: false`,
 * then form the regression coefficients B = W (PᵀW)⁻¹ diag(b) Qᵀ from its weights W, loadings P,
 * inner coefficients b and Y loadings Q. We do not use `ml-pls`'s own `predict`: it multiplies by
 * P diag(b) Qᵀ, which is only right when the loadings are orthonormal and does not even reproduce an
 * exactly linear target with a full set of components; with W (PᵀW)⁻¹ the scores of new rows are
 * computed exactly as in the deflation, as in scikit-learn's `PLSRegression`.
 */
import { PLS } from 'ml-pls';
import { gather } from '../data/batches.js';
import { foldRows } from './regression.js';

/** Options of {@link fitPls}. */
export interface PlsOptions {
  /** Number of latent components (default min(8, d, n − 1)). Fewer are kept if Y is fully explained earlier. */
  components?: number;
  /** Divide each X column by its standard deviation before fitting (default false; constant columns are left as they are). */
  scale?: boolean;
  /** Project every prediction onto the simplex with {@link toSimplex} (default false). */
  toSimplex?: boolean;
  /** NIPALS convergence tolerance (default 1e-5, `ml-pls`'s default). */
  tolerance?: number;
}

/** A fitted PLS regression: y ≈ x·coefficients + intercept. */
export interface PlsModel {
  /** Number of inputs d. */
  readonly d: number;
  /** Number of outputs k. */
  readonly k: number;
  /** Number of latent components actually used. */
  readonly components: number;
  /** Regression coefficients in the original units, `d × k` row-major. */
  readonly coefficients: Float64Array;
  /** Intercept, length k. */
  readonly intercept: Float64Array;
  /** Predictions for `n` rows of `x` (`n × d`), `n × k` row-major (on the simplex if fitted with `toSimplex`). */
  predict(x: Float32Array, n: number): Float32Array;
}

/**
 * Projects each of the `n` rows of `pred` (`n × k`) onto the probability simplex the simple way:
 * negative entries are set to 0 and the row is divided by its sum; a row with no positive entry
 * becomes uniform (1/k each). Returns a new array (or writes `out` if given). The reference code
 * only divided by the row sum; clipping first keeps the result a valid composition.
 */
export function toSimplex(pred: Float32Array, n: number, k: number, out = new Float32Array(n * k)): Float32Array {
  if (pred.length !== n * k || out.length !== n * k) {
    throw new Error(`toSimplex: expected ${n} × ${k} = ${n * k} values, got ${pred.length} (out ${out.length})`);
  }
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) {
      const v = pred[i * k + j];
      s += v > 0 ? v : 0;
    }
    for (let j = 0; j < k; j++) {
      const v = pred[i * k + j];
      out[i * k + j] = s > 0 ? (v > 0 ? v / s : 0) : 1 / k;
    }
  }
  return out;
}

/**
 * Relative norm below which a Krylov direction is taken as already spanned: above the rounding of
 * float32 inputs (~1e-7, which is what whitened scores carry) and far below what measured spectra
 * give (gasoline: ≥ 4e-2 over 12 components; mayonnaise: ≥ 5e-4).
 */
export const PLS_KRYLOV_TOL = 1e-5;

/**
 * The number of PLS components the centred data support, at most `cap`: the dimension of the block
 * Krylov space span{XᵀY, (XᵀX)XᵀY, (XᵀX)²XᵀY, …}, in which every PLS weight vector lies (PLS1
 * weights span exactly K_a(XᵀX, Xᵀy)). A new direction counts when, after two rounds of
 * Gram–Schmidt against those found, more than {@link PLS_KRYLOV_TOL} of its norm remains. On
 * whitened scores (XᵀX ∝ I) it is the number of targets: one component per target already is least squares, and NIPALS on
 * the zero residual XᵀY that follows would not converge.
 */
export function plsComponentLimit(xc: number[][], yc: number[][], cap: number): number {
  const n = xc.length;
  const d = n ? xc[0].length : 0;
  const k = n ? yc[0].length : 0;
  const basis: Float64Array[] = [];
  const xtv = (v: ArrayLike<number>, out: Float64Array) => {
    // out = Xᵀ v for v of length n
    out.fill(0);
    for (let i = 0; i < n; i++) {
      const vi = v[i];
      if (vi === 0) continue;
      const r = xc[i];
      for (let j = 0; j < d; j++) out[j] += r[j] * vi;
    }
    return out;
  };
  let block: Float64Array[] = Array.from({ length: k }, (_, c) => xtv(Float64Array.from(yc, (r) => r[c]), new Float64Array(d)));
  while (basis.length < cap) {
    const added: Float64Array[] = [];
    for (const v of block) {
      let n0 = 0;
      for (let j = 0; j < d; j++) n0 += v[j] * v[j];
      n0 = Math.sqrt(n0);
      if (!(n0 > 0)) continue;
      for (let round = 0; round < 2; round++) {
        for (const b of basis) {
          let p = 0;
          for (let j = 0; j < d; j++) p += b[j] * v[j];
          for (let j = 0; j < d; j++) v[j] -= p * b[j];
        }
      }
      let n1 = 0;
      for (let j = 0; j < d; j++) n1 += v[j] * v[j];
      n1 = Math.sqrt(n1);
      if (n1 > PLS_KRYLOV_TOL * n0) {
        for (let j = 0; j < d; j++) v[j] /= n1;
        basis.push(v);
        added.push(v);
        if (basis.length >= cap) break;
      }
    }
    if (!added.length) break;
    // the next block: (XᵀX) v for every new direction
    block = added.map((v) => {
      const xv = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let sum = 0;
        const r = xc[i];
        for (let j = 0; j < d; j++) sum += r[j] * v[j];
        xv[i] = sum;
      }
      return xtv(xv, new Float64Array(d));
    });
  }
  return basis.length;
}

/** Solves A X = B for square `a` (m × m) and `b` (m × r), both row-major arrays of rows; partial pivoting. */
function solve(a: number[][], b: number[][]): number[][] {
  const m = a.length;
  const A = a.map((r) => r.slice());
  const B = b.map((r) => r.slice());
  for (let col = 0; col < m; col++) {
    let piv = col;
    for (let r = col + 1; r < m; r++) if (Math.abs(A[r][col]) > Math.abs(A[piv][col])) piv = r;
    if (Math.abs(A[piv][col]) < 1e-300) throw new Error('fitPls: singular PᵀW (degenerate components)');
    [A[col], A[piv]] = [A[piv], A[col]];
    [B[col], B[piv]] = [B[piv], B[col]];
    for (let r = 0; r < m; r++) {
      if (r === col) continue;
      const f = A[r][col] / A[col][col];
      if (f === 0) continue;
      for (let c = col; c < m; c++) A[r][c] -= f * A[col][c];
      for (let c = 0; c < B[r].length; c++) B[r][c] -= f * B[col][c];
    }
  }
  return B.map((row, i) => row.map((v) => v / A[i][i]));
}

/**
 * Fits a PLS2 regression of `y` (`n × k`) on `x` (`n × d`), both row-major. X and Y are centred
 * (X optionally scaled), the components come from `ml-pls`'s NIPALS, and the returned model predicts
 * with the coefficients in the original units (module comment). Throws on inconsistent sizes, a
 * non-finite value or a bad option.
 */
export function fitPls(x: Float32Array, n: number, d: number, y: Float32Array, k: number, opts: PlsOptions = {}): PlsModel {
  const who = 'fitPls';
  for (const [name, v] of [
    ['n', n],
    ['d', d],
    ['k', k],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${who}: ${name} must be a positive integer, got ${v}`);
  }
  if (n < 2) throw new Error(`${who}: need at least 2 rows, got ${n}`);
  if (x.length !== n * d) throw new Error(`${who}: x has ${x.length} values, expected n × d = ${n} × ${d} = ${n * d}`);
  if (y.length !== n * k) throw new Error(`${who}: y has ${y.length} values, expected n × k = ${n} × ${k} = ${n * k}`);
  const maxComp = Math.min(d, n - 1);
  const a = opts.components ?? Math.min(8, maxComp);
  if (!Number.isInteger(a) || a < 1 || a > maxComp) {
    throw new Error(`${who}: components must be an integer in 1..${maxComp} (min(d, n − 1)), got ${a}`);
  }
  const tolerance = opts.tolerance ?? 1e-5;
  if (!(tolerance > 0)) throw new Error(`${who}: tolerance must be positive, got ${tolerance}`);
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new Error(`${who}: x has a non-finite value at ${i}`);
  for (let i = 0; i < y.length; i++) if (!Number.isFinite(y[i])) throw new Error(`${who}: y has a non-finite value at ${i}`);

  const meanX = new Float64Array(d);
  const meanY = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) meanX[j] += x[i * d + j] / n;
    for (let j = 0; j < k; j++) meanY[j] += y[i * k + j] / n;
  }
  const scaleX = new Float64Array(d).fill(1);
  if (opts.scale) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += (x[i * d + j] - meanX[j]) ** 2;
      const sd = Math.sqrt(s / (n - 1));
      if (sd > 0) scaleX[j] = sd;
    }
  }
  const xc: number[][] = [];
  const yc: number[][] = [];
  let yss = 0;
  for (let i = 0; i < n; i++) {
    const xr = new Array<number>(d);
    for (let j = 0; j < d; j++) xr[j] = (x[i * d + j] - meanX[j]) / scaleX[j];
    const yr = new Array<number>(k);
    for (let j = 0; j < k; j++) {
      yr[j] = y[i * k + j] - meanY[j];
      yss += yr[j] * yr[j];
    }
    xc.push(xr);
    yc.push(yr);
  }

  const coefficients = new Float64Array(d * k);
  let used = 0;
  // no more components than the Krylov space of the data holds: past it NIPALS (ml-pls) divides by ~0 and may never converge
  const limit = Math.sqrt(yss) > tolerance ? Math.min(a, plsComponentLimit(xc, yc, a)) : 0;
  if (limit > 0) {
    const pls = new PLS({ latentVectors: limit, scale: false, tolerance }, {});
    pls.train(xc, yc);
    const W = pls.W!.to2DArray(); // d × a'
    const P = pls.P!.to2DArray(); // d × a'
    const Q = pls.Q!.to2DArray(); // k × a'
    const Bd = pls.B!.to2DArray(); // a' × a', diagonal
    used = W[0].length;
    // PᵀW (a' × a'), then R = W (PᵀW)⁻¹ via Rᵀ = solve((PᵀW)ᵀ, Wᵀ).
    const ptw: number[][] = [];
    for (let r = 0; r < used; r++) {
      const row = new Array<number>(used).fill(0);
      for (let c = 0; c < used; c++) for (let j = 0; j < d; j++) row[c] += P[j][r] * W[j][c];
      ptw.push(row);
    }
    const ptwT = ptw[0].map((_, c) => ptw.map((row) => row[c]));
    const Wt = Array.from({ length: used }, (_, c) => W.map((row) => row[c]));
    const Rt = solve(ptwT, Wt); // a' × d
    // coefficients[j][o] = Σ_c R[j][c] b_c Q[o][c], then undo the X scaling.
    for (let j = 0; j < d; j++) {
      for (let o = 0; o < k; o++) {
        let s = 0;
        for (let c = 0; c < used; c++) s += Rt[c][j] * Bd[c][c] * Q[o][c];
        coefficients[j * k + o] = s / scaleX[j];
      }
    }
  }
  const intercept = new Float64Array(k);
  for (let o = 0; o < k; o++) {
    let s = meanY[o];
    for (let j = 0; j < d; j++) s -= meanX[j] * coefficients[j * k + o];
    intercept[o] = s;
  }
  const simplex = opts.toSimplex ?? false;

  return {
    d,
    k,
    components: used,
    coefficients,
    intercept,
    predict(xs: Float32Array, m: number): Float32Array {
      if (!Number.isInteger(m) || m < 0 || xs.length !== m * d) {
        throw new Error(`PlsModel.predict: x has ${xs.length} values, expected ${m} × ${d} = ${m * d}`);
      }
      const out = new Float32Array(m * k);
      const acc = new Float64Array(k);
      for (let i = 0; i < m; i++) {
        acc.set(intercept);
        for (let j = 0; j < d; j++) {
          const v = xs[i * d + j];
          if (v === 0) continue;
          for (let o = 0; o < k; o++) acc[o] += v * coefficients[j * k + o];
        }
        for (let o = 0; o < k; o++) out[i * k + o] = acc[o];
      }
      return simplex ? toSimplex(out, m, k, out) : out;
    },
  };
}

/** What {@link crossValidatePls} returns. */
export interface PlsCrossValidation {
  /** RMSECV (mean over the k targets) for 1, 2, … components: index a − 1. */
  rmsecv: number[];
  /** Components with the lowest RMSECV (the fewest on a tie). */
  components: number;
  /** Out-of-fold predictions at `components`, n × k row-major. */
  predictions: Float32Array;
}

/**
 * K-fold cross-validation of PLS2 over 1 … `maxComponents` components: for each fold (`fold[i]`, the
 * fold of row i, e.g. from `eval/regression.ts` `groupFolds`) the model is fitted on the other
 * folds' rows only — its centring (and scaling) included, so nothing of the held-out rows leaks into
 * it — and predicts the fold's rows. The number of components is capped per fold at min(d, n_train − 1).
 * @throws Error when the sizes disagree or a fold is empty.
 */
export function crossValidatePls(
  x: Float32Array,
  y: Float32Array,
  n: number,
  d: number,
  k: number,
  fold: ArrayLike<number>,
  maxComponents = 10,
  opts: {
    scale?: boolean;
    /** Project predictions onto the simplex (compositions). */
    toSimplex?: boolean;
    /** The inputs of fold f as the model sees them (e.g. a preprocessing chain fitted on `train` only); default: the rows as they are. */
    inputs?: (f: number, train: number[], test: number[]) => { train: Float32Array; test: Float32Array };
    /** The width of the rows `inputs` returns, when it is not d (a chain ending in `pca:k` gives k). */
    width?: number;
  } = {},
): PlsCrossValidation {
  const w = opts.width ?? d;
  if (fold.length !== n) throw new Error(`crossValidatePls: ${fold.length} fold indices for ${n} rows`);
  const folds = Math.max(...Array.from(fold)) + 1;
  const parts = Array.from({ length: folds }, (_, f) => {
    const p = foldRows(fold, f);
    if (!p.test.length) throw new Error(`crossValidatePls: fold ${f} has no rows`);
    return p;
  });
  const cap = Math.min(maxComponents, ...parts.map((p) => Math.min(w, p.train.length - 1)));
  if (cap < 1) throw new Error('crossValidatePls: too few rows per fold for one component');
  const preds = Array.from({ length: cap }, () => new Float32Array(n * k));
  for (const [f, { test, train }] of parts.entries()) {
    const given = opts.inputs?.(f, train, test);
    const xt = given?.train ?? gather(x, d, train);
    const yt = gather(y, k, train);
    const xv = given?.test ?? gather(x, d, test);
    for (let a = 1; a <= cap; a++) {
      const p = fitPls(xt, train.length, w, yt, k, { components: a, ...(opts.scale ? { scale: true } : {}), ...(opts.toSimplex ? { toSimplex: true } : {}) }).predict(xv, test.length);
      test.forEach((i, r) => preds[a - 1].set(p.subarray(r * k, (r + 1) * k), i * k));
    }
  }
  const rmsecv = preds.map((p) => {
    let s = 0;
    for (let i = 0; i < n * k; i++) s += (p[i] - y[i]) ** 2;
    return Math.sqrt(s / (n * k));
  });
  let best = 0;
  // a tie (within a relative 1e-6: counts past what the data support give the same model) goes to the fewest
  for (let a = 1; a < cap; a++) if (rmsecv[a] < rmsecv[best] * (1 - 1e-6)) best = a;
  return { rmsecv, components: best + 1, predictions: preds[best] };
}
