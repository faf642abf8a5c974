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
 * Only centring and autoscaling are invertible. SNV and MSC discard each row's offset and scale
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

/** The package's CommonJS build puts the function on `.default`; an ES-module bundle gives it directly. */
type SavitzkyGolayFn = (data: number[], h: number, options: { windowSize: number; derivative: number; polynomial: number; pad: 'post'; padValue: 'replicate' }) => number[];
const savitzkyGolay: SavitzkyGolayFn = typeof sgModule === 'function' ? (sgModule as unknown as SavitzkyGolayFn) : (sgModule as unknown as { default: SavitzkyGolayFn }).default;

/** One step of a preprocessing chain, before fitting (see the module comment for each formula). */
export type PreprocessStep =
  | { kind: 'snv' }
  | { kind: 'msc' }
  | { kind: 'sg'; window: number; order: number; derivative: 0 | 1 | 2 }
  | { kind: 'center' }
  | { kind: 'autoscale' };

/**
 * A fitted step: the step with what it learnt from the training rows (plain numbers, so the chain
 * survives `JSON.stringify` / `JSON.parse` unchanged).
 */
export type FittedStep =
  | { kind: 'snv' }
  | { kind: 'msc'; /** The training rows' mean spectrum r, length D. */ reference: number[] }
  | { kind: 'sg'; window: number; order: number; derivative: 0 | 1 | 2 }
  | { kind: 'center'; /** Training mean per channel, length D. */ mean: number[] }
  | { kind: 'autoscale'; /** Training mean per channel, length D. */ mean: number[]; /** Divisor per channel, length D: the training sd (n − 1), or 1 for a channel without spread. */ scale: number[] };

/** A fitted preprocessing chain: what {@link fitPreprocessing} returns and a model saves. */
export interface FittedPreprocessing {
  kind: 'untapped-preprocessing';
  version: 1;
  /** The chain in spec form (canonical: `sg:W:P:d` always with its derivative). */
  spec: string;
  /** Row width D, the same before and after every step. */
  width: number;
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

const SPEC_HELP = "steps are snv, msc, sg:W:P[:d] (window W odd ≥ 5, polynomial order 1 ≤ P < W, derivative d = 0, 1 or 2 ≤ P), center, autoscale, comma-separated (e.g. 'snv,sg:11:2:1,center'); 'none' for no preprocessing";

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
  return steps.map((s) => (s.kind === 'sg' ? `sg:${s.window}:${s.order}:${s.derivative}` : s.kind)).join(',');
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
  }
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
  }
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
    applyStep(f, x, n, D, `fitPreprocessing (training rows, step '${formatPreprocessSpec([s])}')`, name);
    fitted.push(f);
  }
  return { kind: 'untapped-preprocessing', version: 1, spec: formatPreprocessSpec(steps), width: D, rows: n, steps: fitted };
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
 * @returns new rows, n × D (the width does not change).
 * @throws Error when D differs from the fitted width, a value is not finite, a row is constant
 *   (SNV) or not a positive multiple of the MSC reference — naming the row (0-based).
 */
export function applyPreprocessing(f: FittedPreprocessing, rows: Float32Array | Float64Array, D: number, opts: RowNaming = {}): Float32Array {
  checkWidth(f, D, 'applyPreprocessing');
  const n = checkRows(rows, D, 'applyPreprocessing');
  const name = opts.rowName ?? ((i: number) => `row ${i}`);
  checkFinite(rows, D, 'applyPreprocessing', name);
  const x = Float64Array.from(rows);
  for (const s of f.steps) applyStep(s, x, n, D, `preprocessing '${f.spec}'`, name);
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
      return null;
  }
}

/**
 * Maps preprocessed rows back to the input space: x = x'·s + m for autoscale, x' + m for centre,
 * in reverse order.
 * @throws NotInvertibleError when the chain holds a step without an inverse (SNV, MSC,
 *   Savitzky–Golay), naming the step and why; Error when D differs from the fitted width.
 */
export function invertPreprocessing(f: FittedPreprocessing, rows: Float32Array | Float64Array, D: number): Float32Array {
  const u = undoPreprocessing(f, rows, D);
  if (u.remaining.length) throw new NotInvertibleError(`invertPreprocessing: the preprocessing '${f.spec}' cannot be undone: ${u.reason}`);
  return u.rows;
}

/** What {@link undoPreprocessing} returns. */
export interface UndoneRows {
  /** The rows with the invertible steps at the end of the chain undone, n × D. */
  rows: Float32Array;
  /** The steps still applied to `rows` (a prefix of the chain; empty when `rows` are in the input space). */
  remaining: FittedStep[];
  /** Why the remaining steps could not be undone (null when none remain). */
  reason: string | null;
}

/**
 * Undoes as much of the chain as can be undone: the trailing centre / autoscale steps, in reverse
 * order, stopping at the last step without an inverse. `remaining` says which steps still apply to
 * the result (e.g. after `snv,sg:11:2:1,autoscale`, the rows are in the space of `snv,sg:11:2:1`).
 * @throws Error when D differs from the fitted width or the rows do not split into rows of D.
 */
export function undoPreprocessing(f: FittedPreprocessing, rows: Float32Array | Float64Array, D: number): UndoneRows {
  checkWidth(f, D, 'undoPreprocessing');
  const n = checkRows(rows, D, 'undoPreprocessing');
  const x = Float64Array.from(rows);
  let k = f.steps.length;
  while (k > 0 && whyNotInvertible(f.steps[k - 1]) === null) {
    const s = f.steps[--k];
    if (s.kind === 'center') for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) x[i * D + j] += s.mean[j];
    else if (s.kind === 'autoscale') for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) x[i * D + j] = x[i * D + j] * s.scale[j] + s.mean[j];
  }
  const remaining = f.steps.slice(0, k);
  const reasons = remaining.map(whyNotInvertible).filter((r): r is string => r !== null);
  return { rows: Float32Array.from(x), remaining, reason: reasons.length ? reasons.join('; ') : null };
}

/** Whether every step of the chain can be undone (only centre and autoscale can). */
export function isInvertible(f: FittedPreprocessing): boolean {
  return f.steps.every((s) => whyNotInvertible(s) === null);
}

/**
 * Checks that a value read back (e.g. from a saved model) is a fitted chain of width D with
 * well-formed steps.
 * @throws Error naming `what` and the first malformed field.
 */
export function checkFittedPreprocessing(v: unknown, D: number, what: string): FittedPreprocessing {
  const f = v as FittedPreprocessing;
  const bad = (msg: string): never => {
    throw new Error(`${what}: preprocessing: ${msg}`);
  };
  if (!f || typeof f !== 'object' || f.kind !== 'untapped-preprocessing') bad('not a fitted preprocessing chain');
  if (f.version !== 1) bad(`version ${String(f.version)} is not known (1)`);
  if (f.width !== D) bad(`fitted on rows of ${f.width} channels, the model has ${D}`);
  if (!Array.isArray(f.steps)) bad('no steps');
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
    } else if (s.kind === 'sg') parsePreprocessSpec(formatPreprocessSpec([s]));
    else if (s.kind !== 'snv') bad(`step ${i + 1} has an unknown kind '${String((s as { kind: unknown }).kind)}'`);
  });
  return f;
}
