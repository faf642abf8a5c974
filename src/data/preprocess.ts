/**
 * Spectral preprocessing as part of the model: a chain of steps fitted on the training rows, saved
 * with the model as plain JSON, applied to every row the model reads (`predict`, `evaluate`,
 * `score`) and undone on what it generates where that is possible.
 *
 * Steps (spec tokens, comma-separated, applied left to right; `docs/fit.md` § Preprocessing):
 *
 * | token            | kind        | per row x (length D) → x'                                               | fitted           | invertible |
 * |------------------|-------------|--------------------------------------------------------------------------|------------------|------------|
 * | `snv`            | row-wise    | (x − x̄) / s, x̄ and s the row's mean and sd (n − 1)                      | nothing          | no         |
 * | `msc`            | row-wise    | (x − a) / b, x ≈ a + b·r by least squares, r the training mean spectrum | r                | no         |
 * | `sg:W:P[:d]`     | along a row | Savitzky–Golay: polynomial of order P on W channels, derivative d ∈ 0,1,2 | nothing          | no         |
 * | `center`         | per channel | x − m, m the training mean per channel                                   | m                | yes        |
 * | `autoscale`      | per channel | (x − m) / s, s the training sd per channel (n − 1)                       | m, s             | yes        |
 * | `pca:k`          | whole row   | k whitened principal-component scores ((x − m)·v_c) / s_c, c = 1 … k     | m, v_c, s_c      | onto the span |
 *
 * Each step is fitted on the training rows as the steps before it left them, so a fitted chain maps
 * any row exactly as it mapped the training rows. The usual order, and the one `docs/fit.md`
 * recommends, is scatter correction (SNV or MSC) first, then Savitzky–Golay, then centring or
 * autoscaling: the scatter corrections model each spectrum as a scaled and shifted copy of a common
 * shape, which holds for the measured spectra, not for their derivatives (a derivative has mean
 * near 0, so SNV after it divides by a noise-dominated sd); and the column-wise steps come last so
 * that the model's inputs are centred (and scaled) as it sees them and so that `generate` can undo
 * them. The chain is applied in the order given; an order other than this one is allowed (some
 * workflows take the derivative before SNV) and is the user's choice.
 *
 * `pca:k` must be the last step: it is the one step that changes the width, from D channels to k
 * scores. m is the training mean row, v_1 … v_k the k leading unit-length eigenvectors of the
 * training rows' covariance (`fitPpca` of `eval/ppca.ts`, exact Jacobi rotations) and s_c = √λ_c
 * the sd of the training scores along v_c (covariance divided by n), so every score has variance 1
 * on the training rows: directions of little variance weigh as much as the dominant ones. This is
 * what a model with a diagonal Gaussian likelihood needs when the classes differ along directions
 * of small variance (the oil types of the mayonnaise data sit beneath the designed factors;
 * `docs/fit.md`). Undoing it maps k scores to the spectrum m + Σ_c score_c·s_c·v_c: exact for
 * anything the model generates (its outputs are scores), and a spectrum in the k-dimensional span
 * of the training rows.
 *
 * Only centring, autoscaling and `pca:k` (onto its span) are invertible. SNV and MSC discard each row's offset and scale
 * (that is their purpose: the same corrected row comes from x and from 3x + 1), and a derivative
 * discards the constant (and, for d = 2, the slope); smoothing is a projection that loses the
 * high-frequency part. {@link undoPreprocessing} undoes the invertible steps at the end of the chain
 * and says which steps remain applied.
 *
 * Savitzky–Golay filtering uses the `ml-savitzky-golay` package (mljs; pure JavaScript, nothing
 * downloaded at install or run time). Its output is `(W − 1)/2` channels shorter at each end; we keep
 * the width D with its `pad: 'post', padValue: 'replicate'` option: each of the first and last
 * (W − 1)/2 channels takes the value of the nearest channel with a full window. Those edge channels
 * carry no information of their own. Derivatives are per channel step (spacing h = 1): divide by the
 * channel spacing (e.g. nm per channel) for per-unit derivatives.
 *
 * References: A. Savitzky and M. J. E. Golay, "Smoothing and differentiation of data by simplified
 * least squares procedures", Anal. Chem. 36 (1964) 1627–1639; R. J. Barnes, M. S. Dhanoa and
 * S. J. Lister, "Standard normal variate transformation and de-trending of near-infrared diffuse
 * reflectance spectra", Appl. Spectrosc. 43 (1989) 772–777; P. Geladi, D. MacDougall and H. Martens,
 * "Linearization and scatter-correction for near-infrared reflectance spectra of meat", Appl.
 * Spectrosc. 39 (1985) 491–500.
 */
import sgModule from 'ml-savitzky-golay';
import { fitPpca } from '../eval/ppca.js';

/** The package's CommonJS build puts the function on `.default`; an ES-module bundle gives it directly. */
type SavitzkyGolayFn = (data: number[], h: number, options: { windowSize: number; derivative: number; polynomial: number; pad: 'post'; padValue: 'replicate' }) => number[];
const savitzkyGolay: SavitzkyGolayFn = typeof sgModule === 'function' ? (sgModule as unknown as SavitzkyGolayFn) : (sgModule as unknown as { default: SavitzkyGolayFn }).default;

/** One step of a preprocessing chain, before fitting (see the module comment for each formula). */
export type PreprocessStep =
  | { kind: 'snv' }
  | { kind: 'msc' }
  | { kind: 'sg'; window: number; order: number; derivative: 0 | 1 | 2 }
  | { kind: 'center' }
  | { kind: 'autoscale' }
  | { kind: 'pca'; components: number };

/**
 * A fitted step: the step with what it learnt from the training rows (plain numbers, so the chain
 * survives `JSON.stringify` / `JSON.parse` unchanged).
 */
export type FittedStep =
  | { kind: 'snv' }
  | { kind: 'msc'; /** The training rows' mean spectrum r, length D. */ reference: number[] }
  | { kind: 'sg'; window: number; order: number; derivative: 0 | 1 | 2 }
  | { kind: 'center'; /** Training mean per channel, length D. */ mean: number[] }
  | { kind: 'autoscale'; /** Training mean per channel, length D. */ mean: number[]; /** Divisor per channel, length D: the training sd (n − 1), or 1 for a channel without spread. */ scale: number[] }
  | {
      kind: 'pca';
      /** Number of scores k. */
      components: number;
      /** Training mean row m, length D. */
      mean: number[];
      /** The k unit-length directions v_c, k × D row-major (each one's largest-magnitude entry positive). */
      loadings: number[];
      /** s_c = √λ_c, the training scores' sd along v_c (covariance divided by n), length k, all > 0. */
      scale: number[];
    };

/** A fitted preprocessing chain: what {@link fitPreprocessing} returns and a model saves. */
export interface FittedPreprocessing {
  kind: 'untapped-preprocessing';
  version: 1;
  /** The chain in spec form (canonical: `sg:W:P:d` always with its derivative). */
  spec: string;
  /** Row width D of the input rows (every step keeps it, except a final `pca:k`). */
  width: number;
  /** Row width after the chain: k after a final `pca:k`, else D. Absent in chains saved before `pca:k` existed (= `width`). */
  outWidth?: number;
  /** Number of training rows the chain was fitted on. */
  rows: number;
  steps: FittedStep[];
}

/** A spec string that cannot be parsed; the message names the bad token and its position. */
export class PreprocessSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PreprocessSpecError';
  }
}

/** Raised by {@link invertPreprocessing} when a step of the chain has no inverse; names the step. */
export class NotInvertibleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotInvertibleError';
  }
}

const SPEC_HELP = "steps are snv, msc, sg:W:P[:d] (window W odd ≥ 5, polynomial order 1 ≤ P < W, derivative d = 0, 1 or 2 ≤ P), center, autoscale, pca:k (k ≥ 1 whitened principal-component scores; last), comma-separated (e.g. 'snv,sg:11:2:1,center'); 'none' for no preprocessing";

/**
 * Parses a spec such as `snv,sg:11:2:1,center` (window 11, quadratic, first derivative). `sg:W:P`
 * means d = 0 (smoothing). Empty, `none` or whitespace give the empty chain. Tokens are
 * case-insensitive; spaces around them are ignored.
 * @throws PreprocessSpecError naming the token (quoted, with its 1-based position) and what is wrong.
 */
export function parsePreprocessSpec(spec: string): PreprocessStep[] {
  const s = spec.trim();
  if (s === '' || s.toLowerCase() === 'none') return [];
  const tokens = s.split(',');
  return tokens.map((raw, i) => {
    const t = raw.trim().toLowerCase();
    const at = `preprocessing spec '${spec}': step ${i + 1} ('${raw.trim()}')`;
    if (t === '') throw new PreprocessSpecError(`${at} is empty; ${SPEC_HELP}`);
    if (t === 'snv' || t === 'msc' || t === 'center' || t === 'autoscale') return { kind: t };
    if (t === 'none') throw new PreprocessSpecError(`${at}: 'none' stands alone (no preprocessing), not in a chain`);
    const parts = t.split(':');
    if (parts[0] === 'pca') {
      if (parts.length !== 2 || !/^\d+$/.test(parts[1]) || Number(parts[1]) < 1) throw new PreprocessSpecError(`${at}: principal components take pca:k with k a whole number ≥ 1 (e.g. pca:20)`);
      if (i !== tokens.length - 1) throw new PreprocessSpecError(`${at}: pca:k must be the last step (it turns the D channels into k scores, which the other steps do not apply to)`);
      return { kind: 'pca', components: Number(parts[1]) };
    }
    if (parts[0] !== 'sg') throw new PreprocessSpecError(`${at} is not a step; ${SPEC_HELP}`);
    if (parts.length < 3 || parts.length > 4) throw new PreprocessSpecError(`${at}: Savitzky–Golay takes sg:W:P or sg:W:P:d (window, polynomial order, derivative), got ${parts.length - 1} value${parts.length === 2 ? '' : 's'}`);
    const num = (v: string, what: string) => {
      if (!/^\d+$/.test(v)) throw new PreprocessSpecError(`${at}: the ${what} '${v}' is not a whole number`);
      return Number(v);
    };
    const window = num(parts[1], 'window');
    const order = num(parts[2], 'polynomial order');
    const derivative = parts.length === 4 ? num(parts[3], 'derivative') : 0;
    if (window < 5 || window % 2 === 0) throw new PreprocessSpecError(`${at}: the window must be odd and at least 5 (ml-savitzky-golay's requirement), got ${window}`);
    if (order < 1 || order >= window) throw new PreprocessSpecError(`${at}: the polynomial order must be 1 … ${window - 1} (below the window), got ${order}`);
    if (derivative > 2) throw new PreprocessSpecError(`${at}: the derivative must be 0 (smoothing), 1 or 2, got ${derivative}`);
    if (derivative > order) throw new PreprocessSpecError(`${at}: a derivative of order ${derivative} needs a polynomial of order ≥ ${derivative}, got ${order}`);
    return { kind: 'sg', window, order, derivative: derivative as 0 | 1 | 2 };
  });
}

/** The canonical spec of a chain (`sg:W:P:d` with its derivative; `none` when empty). */
export function formatPreprocessSpec(steps: readonly (PreprocessStep | FittedStep)[]): string {
  if (steps.length === 0) return 'none';
  return steps.map((s) => (s.kind === 'sg' ? `sg:${s.window}:${s.order}:${s.derivative}` : s.kind === 'pca' ? `pca:${s.components}` : s.kind)).join(',');
}

function checkRows(rows: Float32Array | Float64Array, D: number, what: string): number {
  if (!(Number.isInteger(D) && D > 0)) throw new Error(`${what}: the row width must be a positive integer, got ${D}`);
  if (rows.length % D !== 0) throw new Error(`${what}: ${rows.length} values do not split into rows of ${D}`);
  return rows.length / D;
}

/** Row mean and sd (n − 1 denominator) of `x[off … off + D)`. */
function rowMoments(x: Float64Array, off: number, D: number): { mean: number; sd: number } {
  let m = 0;
  for (let j = 0; j < D; j++) m += x[off + j];
  m /= D;
  let ss = 0;
  for (let j = 0; j < D; j++) ss += (x[off + j] - m) ** 2;
  return { mean: m, sd: D > 1 ? Math.sqrt(ss / (D - 1)) : 0 };
}

/** Mean per channel of n rows. */
function channelMeans(x: Float64Array, n: number, D: number): number[] {
  const m = new Array<number>(D).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) m[j] += x[i * D + j];
  return m.map((v) => v / n);
}

/** How a row is named in errors: by default `row i` (0-based); a caller may name file and line. */
export interface RowNaming {
  /** The name of row i (0-based) in error messages, e.g. `x.csv: line 5 (id 's3')`. */
  rowName?: (i: number) => string;
}

/** Applies one fitted step to n rows in place (Float64 working copy); `what` names the caller for errors. */
function applyStep(step: FittedStep, x: Float64Array, n: number, D: number, what: string, name: (i: number) => string): void {
  switch (step.kind) {
    case 'snv':
      for (let i = 0; i < n; i++) {
        const { mean, sd } = rowMoments(x, i * D, D);
        if (!(sd > 0)) throw new Error(`${what}: snv: ${name(i)} is constant (sd 0), so it has no shape to normalise`);
        for (let j = 0; j < D; j++) x[i * D + j] = (x[i * D + j] - mean) / sd;
      }
      return;
    case 'msc': {
      const r = step.reference;
      let rm = 0;
      for (let j = 0; j < D; j++) rm += r[j];
      rm /= D;
      let rr = 0;
      for (let j = 0; j < D; j++) rr += (r[j] - rm) ** 2;
      for (let i = 0; i < n; i++) {
        const o = i * D;
        let xm = 0;
        for (let j = 0; j < D; j++) xm += x[o + j];
        xm /= D;
        let xr = 0;
        for (let j = 0; j < D; j++) xr += (x[o + j] - xm) * (r[j] - rm);
        const b = xr / rr;
        const a = xm - b * rm;
        if (!(b > 0)) throw new Error(`${what}: msc: ${name(i)} is not a positive multiple of the reference spectrum (least-squares slope b = ${b.toPrecision(3)}), so it cannot be corrected by (x − a) / b`);
        for (let j = 0; j < D; j++) x[o + j] = (x[o + j] - a) / b;
      }
      return;
    }
    case 'sg': {
      if (step.window > D) throw new Error(`${what}: sg:${step.window}:${step.order}:${step.derivative}: the window of ${step.window} channels is wider than the ${D} channels of a row`);
      const opts = { windowSize: step.window, derivative: step.derivative, polynomial: step.order, pad: 'post' as const, padValue: 'replicate' as const };
      for (let i = 0; i < n; i++) {
        const row = Array.from(x.subarray(i * D, (i + 1) * D));
        const out = savitzkyGolay(row, 1, opts);
        if (out.length !== D) throw new Error(`${what}: sg: ml-savitzky-golay returned ${out.length} values for a row of ${D}`);
        for (let j = 0; j < D; j++) x[i * D + j] = out[j];
      }
      return;
    }
    case 'center':
      for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) x[i * D + j] -= step.mean[j];
      return;
    case 'autoscale':
      for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) x[i * D + j] = (x[i * D + j] - step.mean[j]) / step.scale[j];
      return;
    case 'pca':
      throw new Error(`${what}: pca changes the row width; it is applied by pcaScores`);
  }
}

/** The k whitened scores of n rows of width D under a fitted `pca:k` step, n × k. */
function pcaScores(step: Extract<FittedStep, { kind: 'pca' }>, x: Float64Array, n: number, D: number): Float64Array {
  const k = step.components;
  const out = new Float64Array(n * k);
  const c = new Float64Array(D);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < D; j++) c[j] = x[i * D + j] - step.mean[j];
    for (let a = 0; a < k; a++) {
      let sum = 0;
      const o = a * D;
      for (let j = 0; j < D; j++) sum += c[j] * step.loadings[o + j];
      out[i * k + a] = sum / step.scale[a];
    }
  }
  return out;
}

/** Rows of k scores back to rows of width D: m + Σ_c score_c·s_c·v_c, n × D. */
function pcaUnscores(step: Extract<FittedStep, { kind: 'pca' }>, s: Float64Array, n: number, D: number): Float64Array<ArrayBuffer> {
  const k = step.components;
  const out = new Float64Array(n * D);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < D; j++) out[i * D + j] = step.mean[j];
    for (let a = 0; a < k; a++) {
      const w = s[i * k + a] * step.scale[a];
      const o = a * D;
      for (let j = 0; j < D; j++) out[i * D + j] += w * step.loadings[o + j];
    }
  }
  return out;
}

/** Fits one step on n rows (as the steps before left them). */
function fitStep(step: PreprocessStep, x: Float64Array, n: number, D: number): FittedStep {
  switch (step.kind) {
    case 'snv':
    case 'sg':
      return { ...step };
    case 'msc': {
      const reference = channelMeans(x, n, D);
      const { sd } = rowMoments(Float64Array.from(reference), 0, D);
      if (!(sd > 0)) throw new Error('fitPreprocessing: msc: the mean training spectrum is constant, so there is no reference shape to regress rows on');
      return { kind: 'msc', reference };
    }
    case 'center':
      return { kind: 'center', mean: channelMeans(x, n, D) };
    case 'autoscale': {
      if (n < 2) throw new Error(`fitPreprocessing: autoscale needs at least 2 training rows for a standard deviation, got ${n}`);
      const mean = channelMeans(x, n, D);
      const sd = new Array<number>(D).fill(0);
      for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) sd[j] += (x[i * D + j] - mean[j]) ** 2;
      for (let j = 0; j < D; j++) sd[j] = Math.sqrt(sd[j] / (n - 1));
      // a channel with no spread (relative to the widest) would be divided by ~0: it is centred, not scaled
      const top = Math.max(...sd);
      return { kind: 'autoscale', mean, scale: sd.map((s) => (s > 1e-6 * top ? s : 1)) };
    }
    case 'pca': {
      const k = step.components;
      if (k > Math.min(n - 1, D)) throw new Error(`fitPreprocessing: pca:${k}: ${n} training rows of ${D} channels have at most ${Math.min(n - 1, D)} principal components; use pca:k with k ≤ ${Math.min(n - 1, D)}`);
      const p = fitPpca(x, D, k);
      const top = p.eigenvalues[0];
      const flat = Array.from(p.eigenvalues).findIndex((l) => !(l > MIN_RELATIVE_VARIANCE * top));
      if (!(top > 0) || flat >= 0) throw new Error(`fitPreprocessing: pca:${k}: the training rows vary along only ${Math.max(flat, 0)} directions; use pca:k with k ≤ ${Math.max(flat, 0)}`);
      return { kind: 'pca', components: k, mean: Array.from(p.mean), loadings: Array.from(p.components), scale: Array.from(p.eigenvalues, Math.sqrt) };
    }
  }
}

/**
 * A principal direction whose variance is at most this share of the largest carries nothing but
 * rounding: `pca:k` refuses to whiten it (it would blow rounding up to unit variance).
 */
export const MIN_RELATIVE_VARIANCE = 1e-8;

/** The width of rows after a chain of rows of width D: k after a final `pca:k`, else D. */
export function preprocessedWidth(steps: string | readonly (PreprocessStep | FittedStep)[], D: number): number {
  const list = typeof steps === 'string' ? parsePreprocessSpec(steps) : steps;
  const last = list.at(-1);
  return last?.kind === 'pca' ? last.components : D;
}

/** The row width after a fitted chain (k after `pca:k`, else its input width). */
export function outputWidth(f: FittedPreprocessing): number {
  return f.outWidth ?? f.width;
}

/**
 * Fits a chain on the training rows: each step learns its parameters from the rows as the steps
 * before it left them (MSC its reference spectrum, centre its means, autoscale its means and sds).
 * @param spec a spec string (see {@link parsePreprocessSpec}) or parsed steps.
 * @param rows the n training rows, row-major, n × D (any units; the output is in the units each step gives).
 * @param D channels per row.
 * @param opts.rowName names a row in errors (default `row i`, 0-based).
 * @returns a plain-JSON {@link FittedPreprocessing}.
 * @throws PreprocessSpecError for a bad spec; Error when there are no rows, D does not divide the
 *   rows, a value is not finite (naming row and column), the SG window is wider than D, a row is
 *   constant under SNV or not a positive multiple of the reference under MSC (naming the row),
 *   or autoscale has fewer than 2 rows.
 */
export function fitPreprocessing(spec: string | readonly PreprocessStep[], rows: Float32Array | Float64Array, D: number, opts: RowNaming = {}): FittedPreprocessing {
  const steps = typeof spec === 'string' ? parsePreprocessSpec(spec) : [...spec];
  const n = checkRows(rows, D, 'fitPreprocessing');
  if (n === 0) throw new Error('fitPreprocessing: no training rows');
  const name = opts.rowName ?? ((i: number) => `row ${i}`);
  checkFinite(rows, D, 'fitPreprocessing', name);
  const x = Float64Array.from(rows);
  const fitted: FittedStep[] = [];
  for (const s of steps) {
    const f = fitStep(s, x, n, D);
    // a final pca is fitted on the rows as the steps before it left them, and has nothing after it to apply to
    if (f.kind !== 'pca') applyStep(f, x, n, D, `fitPreprocessing (training rows, step '${formatPreprocessSpec([s])}')`, name);
    fitted.push(f);
  }
  return { kind: 'untapped-preprocessing', version: 1, spec: formatPreprocessSpec(steps), width: D, outWidth: preprocessedWidth(fitted, D), rows: n, steps: fitted };
}

function checkFinite(rows: ArrayLike<number>, D: number, what: string, name: (i: number) => string): void {
  for (let k = 0; k < rows.length; k++) if (!Number.isFinite(rows[k])) throw new Error(`${what}: ${name(Math.floor(k / D))}, column ${k % D} is ${rows[k]}`);
}

function checkWidth(f: FittedPreprocessing, D: number, what: string): void {
  if (D !== f.width) throw new Error(`${what}: rows of ${D} channels, but the preprocessing '${f.spec}' was fitted on rows of ${f.width}`);
}

/**
 * Applies a fitted chain to rows (any rows: training, validation, new).
 * @param rows n × D row-major.
 * @param opts.rowName names a row in errors (default `row i`, 0-based).
 * @returns new rows, n × D (n × k after a final `pca:k`; {@link outputWidth}).
 * @throws Error when D differs from the fitted width, a value is not finite, a row is constant
 *   (SNV) or not a positive multiple of the MSC reference — naming the row (0-based).
 */
export function applyPreprocessing(f: FittedPreprocessing, rows: Float32Array | Float64Array, D: number, opts: RowNaming = {}): Float32Array {
  checkWidth(f, D, 'applyPreprocessing');
  const n = checkRows(rows, D, 'applyPreprocessing');
  const name = opts.rowName ?? ((i: number) => `row ${i}`);
  checkFinite(rows, D, 'applyPreprocessing', name);
  const x = Float64Array.from(rows);
  for (const s of f.steps) {
    if (s.kind === 'pca') return Float32Array.from(pcaScores(s, x, n, D));
    applyStep(s, x, n, D, `preprocessing '${f.spec}'`, name);
  }
  return Float32Array.from(x);
}

/** Why a step cannot be undone, or null when it can. */
function whyNotInvertible(s: FittedStep): string | null {
  switch (s.kind) {
    case 'snv':
      return "snv removes each row's mean and scale, which are not kept";
    case 'msc':
      return "msc removes each row's offset a and scale b, which are not kept";
    case 'sg':
      return s.derivative > 0 ? `sg:${s.window}:${s.order}:${s.derivative} is a derivative, which loses the constant${s.derivative === 2 ? ' and the slope' : ''} of each row` : `sg:${s.window}:${s.order}:0 smooths, which loses what it removes (and the edge channels)`;
    case 'center':
    case 'autoscale':
    case 'pca':
      return null;
  }
}

/**
 * Maps preprocessed rows back to the input space: m + Σ score·s·v for `pca:k` (rows of k scores to
 * rows of D, in the span of the components), x = x'·s + m for autoscale, x' + m for centre, in
 * reverse order.
 * @param rows n × {@link outputWidth} row-major.
 * @param D the chain's output width (checked against the fitted one).
 * @throws NotInvertibleError when the chain holds a step without an inverse (SNV, MSC,
 *   Savitzky–Golay), naming the step and why; Error when D differs from the fitted width.
 */
export function invertPreprocessing(f: FittedPreprocessing, rows: Float32Array | Float64Array, width: number): Float32Array {
  const u = undoPreprocessing(f, rows, width);
  if (u.remaining.length) throw new NotInvertibleError(`invertPreprocessing: the preprocessing '${f.spec}' cannot be undone: ${u.reason}`);
  return u.rows;
}

/** What {@link undoPreprocessing} returns. */
export interface UndoneRows {
  /** The rows with the invertible steps at the end of the chain undone, n × D (the input width). */
  rows: Float32Array;
  /** The steps still applied to `rows` (a prefix of the chain; empty when `rows` are in the input space). */
  remaining: FittedStep[];
  /** Why the remaining steps could not be undone (null when none remain). */
  reason: string | null;
}

/**
 * Undoes as much of the chain as can be undone: a final `pca:k` (scores to the spectrum in the
 * components' span), then the trailing centre / autoscale steps, in reverse order, stopping at the
 * last step without an inverse. `remaining` says which steps still apply to the result (e.g. after
 * `snv,sg:11:2:1,autoscale`, the rows are in the space of `snv,sg:11:2:1`).
 * @param rows n × `width` row-major, `width` the chain's output width ({@link outputWidth}).
 * @throws Error when `width` differs from the chain's output width or the rows do not split into rows of it.
 */
export function undoPreprocessing(f: FittedPreprocessing, rows: Float32Array | Float64Array, width: number): UndoneRows {
  if (width !== outputWidth(f)) throw new Error(`undoPreprocessing: rows of ${width} values, but the preprocessing '${f.spec}' gives rows of ${outputWidth(f)}`);
  const n = checkRows(rows, width, 'undoPreprocessing');
  const D = f.width;
  let x = Float64Array.from(rows);
  let k = f.steps.length;
  const last = f.steps.at(-1);
  if (last?.kind === 'pca') {
    x = pcaUnscores(last, x, n, D);
    k--;
  }
  while (k > 0 && whyNotInvertible(f.steps[k - 1]) === null) {
    const s = f.steps[--k];
    if (s.kind === 'center') for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) x[i * D + j] += s.mean[j];
    else if (s.kind === 'autoscale') for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) x[i * D + j] = x[i * D + j] * s.scale[j] + s.mean[j];
  }
  const remaining = f.steps.slice(0, k);
  const reasons = remaining.map(whyNotInvertible).filter((r): r is string => r !== null);
  return { rows: Float32Array.from(x), remaining, reason: reasons.length ? reasons.join('; ') : null };
}

/** Whether every step of the chain can be undone (centre, autoscale and `pca:k`, onto its span). */
export function isInvertible(f: FittedPreprocessing): boolean {
  return f.steps.every((s) => whyNotInvertible(s) === null);
}

/**
 * Checks that a value read back (e.g. from a saved model) is a fitted chain of width D with
 * well-formed steps.
 * @throws Error naming `what` and the first malformed field.
 */
export function checkFittedPreprocessing(v: unknown, outWidth: number, what: string): FittedPreprocessing {
  const f = v as FittedPreprocessing;
  const bad = (msg: string): never => {
    throw new Error(`${what}: preprocessing: ${msg}`);
  };
  if (!f || typeof f !== 'object' || f.kind !== 'untapped-preprocessing') bad('not a fitted preprocessing chain');
  if (f.version !== 1) bad(`version ${String(f.version)} is not known (1)`);
  if (!Array.isArray(f.steps)) bad('no steps');
  if (!(Number.isInteger(f.width) && f.width > 0)) bad(`the input width ${String(f.width)} is not a positive integer`);
  const D = f.width;
  const last = f.steps.at(-1);
  const k = last?.kind === 'pca' ? last.components : D;
  if (k !== outWidth) bad(last?.kind === 'pca' ? `gives ${k} scores, the model reads ${outWidth}` : `fitted on rows of ${f.width} channels, the model has ${outWidth}`);
  if ((f.outWidth ?? D) !== k) bad(`the output width ${String(f.outWidth)} is not that of its steps (${k})`);
  const vec = (a: unknown, name: string) => {
    if (!Array.isArray(a) || a.length !== D || !a.every((x) => typeof x === 'number' && Number.isFinite(x))) bad(`${name} must be ${D} finite numbers`);
  };
  f.steps.forEach((s, i) => {
    if (s.kind === 'msc') vec(s.reference, `step ${i + 1} (msc) reference`);
    else if (s.kind === 'center') vec(s.mean, `step ${i + 1} (center) mean`);
    else if (s.kind === 'autoscale') {
      vec(s.mean, `step ${i + 1} (autoscale) mean`);
      vec(s.scale, `step ${i + 1} (autoscale) scale`);
      if (!s.scale.every((x) => x > 0)) bad(`step ${i + 1} (autoscale) scale must be > 0`);
    } else if (s.kind === 'pca') {
      if (i !== f.steps.length - 1) bad(`step ${i + 1} (pca) is not the last`);
      if (!(Number.isInteger(s.components) && s.components >= 1)) bad(`step ${i + 1} (pca) components must be a whole number ≥ 1`);
      vec(s.mean, `step ${i + 1} (pca) mean`);
      const L = s.loadings;
      if (!Array.isArray(L) || L.length !== s.components * D || !L.every((x) => typeof x === 'number' && Number.isFinite(x))) bad(`step ${i + 1} (pca) loadings must be ${s.components} × ${D} finite numbers`);
      if (!Array.isArray(s.scale) || s.scale.length !== s.components || !s.scale.every((x) => typeof x === 'number' && x > 0 && Number.isFinite(x))) bad(`step ${i + 1} (pca) scale must be ${s.components} finite numbers > 0`);
    } else if (s.kind === 'sg') parsePreprocessSpec(formatPreprocessSpec([s]));
    else if (s.kind !== 'snv') bad(`step ${i + 1} has an unknown kind '${String((s as { kind: unknown }).kind)}'`);
  });
  return f;
}
