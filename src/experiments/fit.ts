/**
 * Fitting the semi²-supervised model to a user's own files: what `untapped fit`, `untapped predict`
 * and `untapped generate` do (`000_…` §2–4: compositions y from spectra x, spectra from any
 * composition, endmembers included).
 *
 * Files (layout in `io/table.ts`): `x` spectra, one row per sample; `y` compositions (simplex rows),
 * classes (one-hot rows, or one integer column) or real-valued targets (one or more columns, e.g.
 * an octane number; {@link LabelSpace}); optional `unlabelled` spectra; optional unfeatured labels,
 * from a file, `corners` (labels drawn near the corners of the simplex, as the CRISM experiment's
 * y_u), `resample` or, for real targets, `range` ({@link rangeLabels}). Everything is read and
 * checked before anything is written.
 *
 * The model directory is built in `DIR.partial/` (which holds the checkpoint while training runs)
 * and renamed to `DIR` only when complete, so an interrupted fit never leaves a half-written `DIR`;
 * `--resume` continues from the checkpoint in `DIR.partial/`.
 *
 * `DIR` holds `model.utp` (weights and model config), `fit.json` (inputs, column and label names,
 * options, z̄ of the labelled set, history), `loss.png` (the training loss per epoch), with
 * validation rows `validation.png` and the predicted-vs-measured and residual charts of the
 * validation rows, for compositions `endmembers.png` (the generated pure components beside the
 * labelled rows' mean spectrum), and `report.md` / `report.html` (`fit-report.ts`).
 *
 * Validation: labelled rows held out from training — given as files (`validationX`, `validationY`)
 * or a fraction of the labelled rows chosen by the seed, with groups of replicate rows kept on one
 * side — are scored at every evaluation (RMSEP of the compositions, or classification error and
 * cross-entropy of classes). The model keeps the weights of the best validation score, stops after
 * `patience` evaluations without improvement, and saves the best weights, not the last. At the end
 * the validation rows calibrate split-conformal prediction intervals (`eval/interval.ts`) that
 * `predict` reports; `validation.png` shows the validation curve.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../engine/rng.js';
import { writeFileAtomic, makeDir, removeStaleTemps, FileWriteError } from '../node/files.js';
import { lockDir } from '../node/lock.js';
import { checkModelDirOut, isPartialFitDir, RefusedOutputError } from '../node/replace.js';
import { checkSameNames, checkSameWidth, checkSimplexTable, checkUnitTable, DataFileError, rowLocation, type Table } from '../io/table.js';
import { readTable } from '../node/data.js';
import { lineChartPng } from '../node/chart.js';
import { Semi2ConfigSchema, type Semi2Config, type Semi2Weights } from '../models/semi2.js';
import { Semi2Runnable } from '../models/semi2-runnable.js';
import type { EvalRecord } from '../train/trainer.js';
import { gather } from '../data/batches.js';
import {
  classificationScores,
  intervalCoverage,
  intervalScores,
  intervalsFromScores,
  predictIntervals,
  predictionSets,
  rmsep,
  setCoverage,
  setScores,
  setsFromScores,
  type Coverage,
  type IntervalCalibration,
  type IntervalMethod,
  type SetCalibration,
} from '../eval/interval.js';
import { resampledLabels } from '../data/unfeatured.js';
import { compositionKl } from '../eval/composition.js';
import { confusionMatrix, formatConfusion } from '../eval/classify.js';
import { regressionStats, type RegressionStats } from '../eval/regression.js';
import { configDiff } from './run.js';
import { defaultWeights, toMatrix, UntappedEstimator, type Rows, type Semi2Data } from './estimator.js';
import { formatPreprocessSpec, MIN_RELATIVE_VARIANCE, parsePreprocessSpec, preprocessedWidth } from '../data/preprocess.js';
import { fitPpca } from '../eval/ppca.js';
import { concatArrays } from '../data/dataset.js';
import { inputScaling } from '../models/standardize.js';
import { spectralAxis } from '../data/axis.js';
import { checkInside, parseBounds, type TargetBounds } from '../data/bounded.js';
import { fitReportMarkdown, predictedVsMeasuredCharts, type ReportValidation } from './fit-report.js';
import { writeHtmlReport } from '../node/html.js';

/**
 * What `fit` uses for unfeatured labels when none are given: 500 labels resampled from the labelled
 * rows, so that the reverse bound trains q(y | x) on spectra generated between the labelled
 * compositions (`docs/semi-supervised-real.md`).
 */
export const DEFAULT_UNFEATURED = 'resample:500';

/**
 * The label spaces of `fit`: compositions on the simplex, classes, or real-valued targets (the
 * model's `labels`, `models/semi2.ts`).
 */
export type LabelSpace = 'simplex' | 'discrete' | 'real';

/**
 * The label space of a y table when `fit` is not told (`--labels` absent): `real` for one column
 * holding a value that is not an integer (it can be neither a composition nor a class), `simplex`
 * otherwise (the default, as before real targets existed).
 */
export function detectLabelSpace(y: Table): LabelSpace {
  return y.width === 1 && y.data.some((v) => !Number.isInteger(v)) ? 'real' : 'simplex';
}

/**
 * Refuses a continuous target read as compositions: a value outside [0, 1] (beyond the simplex
 * check's tolerance 1e-3) in a row that does not sum to 1 (a row that does is a composition with a
 * bad entry, left to `checkSimplexTable`'s message), or — when `--labels simplex` was given
 * (`explicit`) — one column. Throws naming the file, row, column and value, and pointing at
 * `--labels real`.
 */
export function refuseContinuousAsSimplex(y: Table, explicit: boolean): void {
  const tol = 1e-3;
  const w = y.width;
  const rowSum = (r: number) => y.data.subarray(r * w, (r + 1) * w).reduce((a, b) => a + b, 0);
  let i = y.data.findIndex((v, j) => (v < -tol || v > 1 + tol) && Math.abs(rowSum(Math.floor(j / w)) - 1) > tol);
  if (i < 0 && y.width === 1 && explicit) i = Math.max(0, y.data.findIndex((v) => !Number.isInteger(v)));
  if (i < 0) return;
  const r = Math.floor(i / y.width);
  const col = y.columns[i % y.width];
  const what = y.width === 1 ? 'one column of values' : `a value outside [0, 1]`;
  throw new DataFileError(`${rowLocation(y, r)}, column '${col}' is ${y.data[i]}: ${what} is a continuous target, not a composition (compositions have ≥ 2 columns in [0, 1] summing to 1); fit it with --labels real ("labels": "real" in the model section)${y.width === 1 ? ', or --labels discrete for integer classes' : ''}`);
}

/**
 * N unfeatured real labels drawn uniformly over the range of the labelled y (`n` rows × K targets,
 * row-major), each target's [min, max] widened by 5% of its width on either side (10% in all), so
 * that the reverse bound also trains q(y | x) on spectra generated a little beyond the labelled
 * extremes, where `generate` is asked for them. A uniform rather than the fitted Gaussian prior:
 * the edges of the range get as many labels as its middle.
 * @throws if `y` is empty or `count` is not a positive integer.
 */
export function rangeLabels(y: ArrayLike<number>, n: number, K: number, count: number, rng: Rng, bounds?: TargetBounds): number[][] {
  if (!(n >= 1) || y.length !== n * K) throw new Error(`rangeLabels: expected ${n} × ${K} labels, got ${y.length} values`);
  if (!Number.isInteger(count) || count < 1) throw new Error(`rangeLabels: count must be an integer ≥ 1, got ${count}`);
  const lo = new Array<number>(K).fill(Infinity);
  const hi = new Array<number>(K).fill(-Infinity);
  for (let i = 0; i < n * K; i++) {
    lo[i % K] = Math.min(lo[i % K], y[i]);
    hi[i % K] = Math.max(hi[i % K], y[i]);
  }
  let a = lo.map((l, k) => l - 0.05 * (hi[k] - l));
  let b = hi.map((h, k) => h + 0.05 * (h - lo[k]));
  if (bounds) {
    // bounded targets: the widened range stops short of the bounds (0.5% of their width inside), where the logit is finite
    a = a.map((v, k) => Math.max(v, bounds.lo[k] + 0.005 * (bounds.hi[k] - bounds.lo[k])));
    b = b.map((v, k) => Math.min(v, bounds.hi[k] - 0.005 * (bounds.hi[k] - bounds.lo[k])));
  }
  return Array.from({ length: count }, () => a.map((l, k) => l + (b[k] - l) * rng.next()));
}

/** Checks real targets: finite values (the file reader keeps NaN and ±Infinity as numbers). */
function checkRealTable(t: Table): void {
  const i = t.data.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) throw new DataFileError(`${rowLocation(t, Math.floor(i / t.width))}, column '${t.columns[i % t.width]}' is ${t.data[i]}: real targets must be finite numbers`);
}

/** Options of {@link fitFiles}. */
export interface FitFilesOptions {
  /** Labelled inputs (spectra). */
  x: string;
  /** Labels of the rows of `x`: compositions (simplex) or classes. */
  y: string;
  /** Unlabelled inputs. */
  unlabelled?: string;
  /**
   * Unfeatured labels: a file; `resample` / `resample:N` (N labels resampled from the labelled rows
   * that train, see `resampledLabels`; the default, with N = 500); `corners` / `corners:N` (N labels
   * near the simplex corners; default 167 per corner); for real targets `range` / `range:N` (N
   * values uniform over the labelled range widened by 5% of its width on either side, {@link rangeLabels}; default 500); or `none`.
   */
  unfeatured?: string;
  /** Output model directory. */
  out: string;
  /**
   * `simplex` (compositions), `discrete` (classes) or `real` (real-valued targets); absent: chosen
   * from the y file by {@link detectLabelSpace} (`real` for one column with a non-integer value,
   * else `simplex`).
   */
  labels?: LabelSpace;
  /** Dimension of the nuisance z (default 1, the CRISM setup). */
  latent?: number;
  /** Hidden widths (defaults: `000_…` appendix A.2.2). */
  hidden?: { qy?: number[]; qz?: number[]; px?: number[] };
  /**
   * Real targets: bounds `lo:hi` per target, comma-separated (`0:100`); the model works on the logit
   * scale of each target and every prediction lies inside (`data/bounded.ts`). Default: unbounded.
   */
  bounds?: string;
  /** Further model settings (activation, likelihood, box, temperature, …) as {@link Semi2ConfigSchema}. */
  model?: Partial<Omit<Semi2Config, 'type' | 'inputDim' | 'classes'>>;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  budgetMinutes?: number;
  /** Epochs of linear warm-up of α_r (see `FitOptions.alphaRWarmup`; default 0). */
  alphaRWarmup?: number;
  /** Weights of eq 15; `m2: true` is shorthand for α_r = 0. */
  weights?: Partial<Semi2Weights>;
  m2?: boolean;
  /** Subtract the mean input before training (kept with the model; see `FitOptions.center`). */
  center?: boolean;
  /**
   * Preprocessing chain (`data/preprocess.ts`), e.g. `snv,sg:11:2:1,center`: fitted on the training
   * rows (labelled and unlabelled, never validation rows), saved in `model.utp`, applied in
   * `predict`, `evaluate` and `score`, undone by `generate` where invertible. See {@link preprocessOption}.
   */
  preprocess?: string;
  /** Held-out labelled inputs (same channels as `x`) for validation and calibration; with `validationY`. */
  validationX?: string;
  /** Labels of the rows of `validationX` (same layout as `y`). */
  validationY?: string;
  /** Hold out this fraction (0 < f < 1) of the labelled rows — whole groups, chosen by the seed — for validation. */
  validationFraction?: number;
  /** With `validationFraction`: consecutive rows of `x` form groups of this many replicates, kept on one side. */
  groupSize?: number;
  /** With `validationFraction`: a file with one group value per row of `x`; rows sharing a value stay on one side. */
  groups?: string;
  /**
   * Stop after this many evaluations without a better validation score (0: never stop early;
   * default: 20% of the evaluations). Only with validation rows.
   */
  patience?: number;
  /** No early stop before this many epochs (default: 25% of the epochs, and at least `alphaRWarmup`). */
  minEpochs?: number;
  /** Nominal coverage of the calibrated intervals (default 0.95). */
  intervalLevel?: number;
  /** Conformal scores: `absolute` residuals (default) or residuals `scaled` by the sd of q(y | x). */
  intervalMethod?: IntervalMethod;
  /** Continue an interrupted fit from `out.partial/`. */
  resume?: boolean;
  /** Replace an existing `out`. */
  force?: boolean;
  log?: (s: string) => void;
  /** Progress bars per epoch (default off: one log line per evaluation). */
  progressBars?: boolean;
}

/** What `fit.json` records. */
export interface FitInfo {
  kind: 'untapped-fit';
  version: 1;
  created: string;
  channels: string[];
  labelNames: string[];
  labels: LabelSpace;
  /** The sources: files (absolute paths, rows, columns) or generated unfeatured labels. */
  inputs: Record<string, { file: string; rows: number; columns: number } | { corners: number } | { resample: number } | { range: number }>;
  options: Record<string, unknown>;
  /** Mean nuisance of the labelled (training) rows: the default z of `generate` (`000_…` eq 18). */
  zMean: number[];
  /** Per evaluation; `metrics` holds the validation scores (`val_rmsep`, with `val_rmsep_sd` for several real targets, or `val_error` and `val_ce`). */
  history: { epoch: number; trainLoss: number; trainSeconds: number; metrics?: Record<string, number> }[];
  trainSeconds: number;
  /** Why training ended: all epochs, the time budget, or the validation patience. */
  stoppedBy?: 'epochs' | 'budget' | 'patience';
  /** Validation rows and the model selection they drove; absent without validation rows. */
  validation?: FitValidation;
  /** The calibration of `predict`'s intervals (or class sets) on the validation rows; absent without them. */
  calibration?: FitCalibration;
  /** Warnings of the training run (a loss that grew by orders of magnitude: the model may be useless); absent when none. */
  warnings?: string[];
}

/** The `validation` section of `fit.json`. */
export interface FitValidation {
  /** `files` (validationX / validationY) or `fraction` (held out of the labelled rows). */
  source: 'files' | 'fraction';
  /** Validation rows. */
  rows: number;
  /** With `fraction`: the fraction, the grouping and the rows of `x` held out (0-based, and their ids when the file has them). */
  fraction?: number;
  grouping?: 'rows' | { groupSize: number } | { groupsFile: string };
  groups?: number;
  heldOut?: { index: number[]; ids?: string[] };
  /** The metric that chose the weights (lower is better), the patience in evaluations (0: off) and the epochs before early stopping may end the run. */
  metric: string;
  patience: number;
  minEpochs: number;
  /** The evaluation whose weights were saved. */
  bestEpoch: number;
  /** Validation scores of the saved weights: RMSEP overall and per component (composition units), or error and cross-entropy. */
  best: { rmsep?: number; rmsepPerComponent?: number[]; error?: number; crossEntropy?: number };
}

/** The `calibration` section of `fit.json`: split-conformal, on the validation rows of the saved weights. */
export interface FitCalibration {
  /** At the fit's level: per-component interval half-widths (compositions) or the class-probability threshold (classes). */
  at: IntervalCalibration | SetCalibration;
  /** The conformal scores, sorted: per component (|ŷ − y|, or |ŷ − y| / sd), or one list of 1 − p̂(true class); `predict --level` recalibrates from them. */
  scores: number[][];
  /** Draws of q(y | x) behind the sd of a `scaled` calibration (predict must use the same). */
  samples?: number;
}

/** A fitted model directory, loaded. */
export interface FittedModel {
  dir: string;
  info: FitInfo;
  estimator: UntappedEstimator;
}

/**
 * `n` labels near the corners of the K-simplex: corner k (in turn) mixed with a uniform point of the
 * simplex at a weight t ~ U(0, spread): y = (1 − t) e_k + t u. With spread 0.1 every label has at
 * least 0.9 of its corner's component, like the circles of `000_…` fig. 4.
 */
export function cornerLabels(K: number, n: number, rng: Rng, spread = 0.1): number[][] {
  if (!(spread >= 0 && spread <= 1)) throw new Error(`cornerLabels: spread must be in [0, 1], got ${spread}`);
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const k = i % K;
    const e = Array.from({ length: K }, () => -Math.log(rng.nextOpen()));
    const s = e.reduce((a, b) => a + b, 0);
    const t = spread * rng.next();
    out.push(e.map((v, j) => (1 - t) * (j === k ? 1 : 0) + (t * v) / s));
  }
  return out;
}

/** One-hot rows [n, K] for class indices (assumed in 0..K−1). */
export function oneHotRows(classes: ArrayLike<number>, K: number): Float32Array {
  const out = new Float32Array(classes.length * K);
  for (let i = 0; i < classes.length; i++) out[i * K + classes[i]] = 1;
  return out;
}

/** Turns a one-column integer class table into one-hot rows; checks the range 0..K−1. */
function classesToOneHot(t: Table, K: number): Float32Array {
  for (let i = 0; i < t.n; i++) {
    const c = t.data[i];
    if (!Number.isInteger(c) || c < 0 || c >= K) throw new DataFileError(`${rowLocation(t, i)}: class ${c} is outside 0..${K - 1}`);
  }
  return oneHotRows(t.data, K);
}

/**
 * Compositions accepted by {@link checkSimplexTable} (within 1e-3) made exact: entries below 0
 * clipped to 0 and each row divided by its sum, so that values written with few decimals pass the
 * model's own check (1e-4).
 */
function normaliseRows(t: Table): Float32Array {
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < t.n; i++) {
    let s = 0;
    for (let j = 0; j < t.width; j++) s += Math.max(0, t.data[i * t.width + j]);
    for (let j = 0; j < t.width; j++) out[i * t.width + j] = Math.max(0, t.data[i * t.width + j]) / s;
  }
  return out;
}

/** Checks one-hot rows: entries 0 or 1, exactly one 1. */
function checkOneHot(t: Table): void {
  for (let i = 0; i < t.n; i++) {
    let ones = 0;
    for (let j = 0; j < t.width; j++) {
      const v = t.data[i * t.width + j];
      if (v !== 0 && v !== 1) throw new DataFileError(`${rowLocation(t, i)}, column '${t.columns[j]}' is ${v}: one-hot labels must be 0 or 1`);
      ones += v;
    }
    if (ones !== 1) throw new DataFileError(`${rowLocation(t, i)}: a one-hot label needs exactly one 1, this row has ${ones}`);
  }
}

/** Whether a table's rows carry ids of their own (not `line N` / `row N`). */
function hasIds(t: Table): boolean {
  return !t.ids[0].startsWith('line ') && !t.ids[0].startsWith('row ');
}

/** Checks that the ids of `b` match those of `a` row for row, when both files have ids. */
function checkSameIds(a: Table, b: Table, what: string): void {
  if (!hasIds(a) || !hasIds(b)) return;
  const i = a.ids.findIndex((id, r) => id !== b.ids[r]);
  if (i >= 0) throw new DataFileError(`${rowLocation(b, i)}: id '${b.ids[i]}' does not match '${a.ids[i]}' at ${rowLocation(a, i)}; rows of ${what} must be in the same order`);
}

/**
 * Reads a pair of input and label files (x, y) and checks them against each other; `K` and
 * `like` (the training labels' table) given, the labels must have the same components or classes.
 */
function readPair(xFile: string, yFile: string, given: LabelSpace | undefined, known?: { K: number; y: Table }): { x: Table; y: Table; yData: Float32Array; K: number; labelNames: string[]; labels: LabelSpace } {
  const x = readTable(xFile);
  const y = readTable(yFile);
  if (x.n !== y.n) throw new DataFileError(`${yFile}: ${y.n} rows of labels for ${x.n} rows in ${xFile}; each row of x needs its label`);
  checkSameIds(x, y, 'x and y');
  const labels = given ?? detectLabelSpace(y);
  let K: number;
  let yData: Float32Array;
  let labelNames: string[];
  if (labels === 'real') {
    if (known) checkSameWidth(known.y, y, 'targets');
    checkRealTable(y);
    K = y.width;
    yData = y.data;
    labelNames = y.columns;
  } else if (labels === 'simplex') {
    refuseContinuousAsSimplex(y, given === 'simplex');
    if (y.width < 2) throw new DataFileError(`${yFile}: compositions need at least 2 columns, found ${y.width} (for class labels in one column: fit --labels discrete, or "labels": "discrete" in the model section; for a real-valued target: --labels real)`);
    if (known) checkSameWidth(known.y, y, 'components');
    checkSimplexTable(y);
    K = y.width;
    yData = normaliseRows(y);
    labelNames = y.columns;
  } else if (y.width === 1) {
    K = known?.K ?? y.data.reduce((m, v) => (v > m ? v : m), -Infinity) + 1;
    const bad = y.data.findIndex((v) => !Number.isInteger(v) || v < 0);
    if (bad >= 0) throw new DataFileError(`${rowLocation(y, bad)}: class ${y.data[bad]} is not an integer ≥ 0 (one class 0..K−1 per row)`);
    if (!Number.isInteger(K) || K < 2) throw new DataFileError(`${yFile}: one integer class per row expected (0..K−1), with at least two classes`);
    if (!known && K > y.n) {
      // more classes than rows: some class has no row; say so before allocating K of anything
      const at = y.data.indexOf(K - 1);
      throw new DataFileError(`${rowLocation(y, at)}: class ${K - 1} makes ${K} classes (0..${K - 1}), but there are only ${y.n} rows, so at least ${K - y.n} classes have no row (a typo in a class value?)`);
    }
    yData = classesToOneHot(y, K);
    if (!known) {
      // K comes from the largest class: a class with no row means 1-based labels or a typo
      const seen = new Set(Array.from(y.data));
      const empty = Array.from({ length: K }, (_, k) => k).filter((k) => !seen.has(k));
      if (empty.length) {
        const hint = empty.length === 1 && empty[0] === 0 ? ' (1-based labels? classes are counted from 0: subtract 1)' : ' (a typo in a class value?)';
        const list = empty.length > 10 ? `${empty.slice(0, 10).join(', ')} and ${empty.length - 10} more` : empty.join(', ');
        throw new DataFileError(`${yFile}: classes are 0..${K - 1} (from the largest value), but ${list} ${empty.length === 1 ? 'has' : 'have'} no rows${hint}`);
      }
    }
    labelNames = Array.from({ length: K }, (_, k) => `class ${k}`);
  } else {
    if (known && y.width !== known.K) throw new DataFileError(`${yFile}: one-hot rows of width ${y.width}, but the labels of the fit have ${known.K} classes`);
    checkOneHot(y);
    K = y.width;
    yData = y.data;
    labelNames = y.columns;
  }
  return { x, y, yData, K, labelNames, labels };
}

/** What {@link readFitInputs} returns. */
export interface FitInputs {
  data: Semi2Data;
  info: Pick<FitInfo, 'channels' | 'labelNames' | 'labels' | 'inputs'>;
  K: number;
  D: number;
  /** Validation rows from `validationX` / `validationY`. */
  validation?: { x: Rows; y: Rows };
  /** One group value per labelled row (from `groups`). */
  groupIds?: ArrayLike<number>;
  /** Ids of the labelled rows, when the file has them. */
  labelledIds?: string[];
}

/** Why a Bernoulli likelihood refuses inputs outside [0, 1] (the end of the error message). */
export const BERNOULLI_RANGE = "the Bernoulli likelihood (model.likelihood 'bernoulli') needs inputs in [0, 1]: scale the data (e.g. divide 8-bit values by 255) or use likelihood 'gaussian'";

/** N of `--unfeatured range:N` (default 500), checked; real targets only. */
function rangeCount(spec: string, labels: LabelSpace): number {
  const m = /^range(?::(\d+))?$/.exec(spec);
  if (!m) throw new DataFileError(`--unfeatured ${spec}: range:N needs a positive integer N`);
  if (labels !== 'real') throw new DataFileError(`--unfeatured ${spec}: a range is for real targets (--labels real); compositions take corners or resample, classes a file or resample`);
  const n = m[1] ? Number(m[1]) : 500;
  if (n < 1) throw new DataFileError(`--unfeatured ${spec}: need at least one label`);
  return n;
}

/** Reads and checks every input of a fit; throws a {@link DataFileError} naming the file and row. */
export function readFitInputs(o: FitFilesOptions): FitInputs {
  const { x, y, yData, K, labelNames, labels } = readPair(o.x, o.y, o.labels);
  const D = x.width;
  // a Bernoulli p(x | y, z) is a density only for x in [0, 1]: anything else is an error here, naming the value
  const unit = (t: Table) => {
    if (o.model?.likelihood === 'bernoulli') checkUnitTable(t, BERNOULLI_RANGE);
  };
  unit(x);
  const inputs: FitInfo['inputs'] = { x: { file: path.resolve(o.x), rows: x.n, columns: D }, y: { file: path.resolve(o.y), rows: y.n, columns: y.width } };
  const data: Semi2Data = { labelled: { x: { data: x.data, width: D }, y: { data: yData, width: K } } };
  if (o.unlabelled) {
    const u = readTable(o.unlabelled);
    checkSameWidth(x, u, 'channels');
    unit(u);
    data.unlabelled = { x: { data: u.data, width: D } };
    inputs.unlabelled = { file: path.resolve(o.unlabelled), rows: u.n, columns: u.width };
  }
  const unfeatured = o.unfeatured ?? DEFAULT_UNFEATURED;
  const resample = /^resample(?::(\d+))?$/.exec(unfeatured);
  if (!resample && /^resample(:|$)/.test(unfeatured)) throw new DataFileError(`--unfeatured ${unfeatured}: resample:N needs a positive integer N`);
  if (resample) {
    const n = resample[1] ? Number(resample[1]) : 500;
    if (n < 1) throw new DataFileError(`--unfeatured ${unfeatured}: need at least one label`);
    // drawn in fitData, from the labelled rows that remain after the validation split
    inputs.unfeatured = { resample: n };
  } else if (/^range(:|$)/.test(unfeatured)) {
    inputs.unfeatured = { range: rangeCount(unfeatured, labels) };
  } else if (unfeatured !== 'none') {
    const m = /^corners(?::(\d+))?$/.exec(unfeatured);
    if (m) {
      if (labels !== 'simplex') throw new DataFileError(`--unfeatured ${unfeatured}: corners are for compositions; give ${labels === 'real' ? "'range:N' or a file of target values" : 'a file of class labels'} instead`);
      const n = m[1] ? Number(m[1]) : 167 * K;
      if (n < 1) throw new DataFileError(`--unfeatured ${unfeatured}: need at least one label`);
      data.unfeatured = { y: cornerLabels(K, n, new Rng(o.seed ?? 0).fork('corners')) };
      inputs.unfeatured = { corners: n };
    } else {
      const f = readTable(unfeatured);
      let fy: Float32Array;
      if (labels === 'real') {
        checkSameWidth(y, f, 'targets');
        checkRealTable(f);
        fy = f.data;
      } else if (labels === 'simplex') {
        checkSameWidth(y, f, 'components');
        checkSimplexTable(f);
        fy = normaliseRows(f);
      } else if (f.width === 1) fy = classesToOneHot(f, K);
      else {
        if (f.width !== K) throw new DataFileError(`${unfeatured}: one-hot rows of width ${f.width}, but the labels have ${K} classes`);
        checkOneHot(f);
        fy = f.data;
      }
      data.unfeatured = { y: { data: fy, width: K } };
      inputs.unfeatured = { file: path.resolve(unfeatured), rows: f.n, columns: f.width };
    }
  }
  const out: FitInputs = { data, info: { channels: x.columns, labelNames, labels, inputs }, K, D };
  if (hasIds(x)) out.labelledIds = x.ids;
  if ((o.validationX === undefined) !== (o.validationY === undefined)) throw new DataFileError('validation rows need both files: --validation-x (inputs) and --validation-y (their labels)');
  if (o.validationX && o.validationY) {
    if (o.validationFraction !== undefined) throw new DataFileError('give validation rows either as files (--validation-x, --validation-y) or as --validation-fraction, not both');
    const v = readPair(o.validationX, o.validationY, labels, { K, y });
    checkSameWidth(x, v.x, 'channels');
    unit(v.x);
    out.validation = { x: { data: v.x.data, width: D }, y: { data: v.yData, width: K } };
    inputs.validationX = { file: path.resolve(o.validationX), rows: v.x.n, columns: v.x.width };
    inputs.validationY = { file: path.resolve(o.validationY), rows: v.y.n, columns: v.y.width };
  }
  if (o.groups !== undefined) {
    if (o.validationFraction === undefined) throw new DataFileError('--groups is for --validation-fraction (which rows are held out together)');
    if (o.groupSize !== undefined) throw new DataFileError('give either --groups FILE or --group-size N, not both');
    const g = readTable(o.groups);
    if (g.width !== 1) throw new DataFileError(`${o.groups}: one group value per row expected (plus an optional id column), found ${g.width} columns`);
    if (g.n !== x.n) throw new DataFileError(`${o.groups}: ${g.n} group values for ${x.n} rows in ${o.x}; each row of x needs its group`);
    checkSameIds(x, g, 'x and the groups');
    out.groupIds = g.data;
    inputs.groups = { file: path.resolve(o.groups), rows: g.n, columns: 1 };
  }
  return out;
}

/** Fits the model to the files in `o` and writes the model directory `o.out` (see the module doc). */
export async function fitFiles(o: FitFilesOptions): Promise<FittedModel> {
  // the lock first: while another fit writes --out, its .partial is not an interrupted fit (fitData takes it again, re-entrantly)
  const unlock = lockDir(o.out, `model directory ${o.out}`);
  try {
    return await fitFilesLocked(o);
  } finally {
    unlock();
  }
}

async function fitFilesLocked(o: FitFilesOptions): Promise<FittedModel> {
  checkOutDir(o, [o.x, o.y, o.unlabelled, o.unfeatured, o.validationX, o.validationY, o.groups].filter((f): f is string => f !== undefined && fs.existsSync(f)));
  // bounds are for real targets: they say which label space a y file holds
  const r = readFitInputs(o.labels === undefined && o.bounds !== undefined ? { ...o, labels: 'real' } : o);
  const { x: _x, y: _y, validationX: _vx, validationY: _vy, groups: _g, ...rest } = o;
  return fitData(r.data, r.info, r.K, r.D, {
    // the label space as read (detected when --labels was not given)
    runConfig: fitRunConfig({ ...o, labels: r.info.labels }, r.info.inputs),
    ...rest,
    ...(r.validation ? { validation: r.validation } : {}),
    ...(r.groupIds ? { groupIds: r.groupIds, groupsSource: o.groups } : {}),
    ...(r.labelledIds ? { labelledIds: r.labelledIds } : {}),
  });
}

/**
 * The `untapped train` run config (model type `untapped`, `experiments/semi2-run.ts`) equivalent to
 * `fit`'s options: `fit` is a short-hand for it, and writes it to the model directory as
 * `config.json` (`train --config DIR/config.json` trains the same model; `train --resume --out DIR`
 * reads it). Paths are absolute; the unfeatured source is the one `fit` read (`inputs.unfeatured`),
 * `"none"` when there was none; `m2` becomes α_r = 0.
 */
export function fitRunConfig(o: FitFilesOptions, inputs: FitInfo['inputs']): Record<string, unknown> {
  const abs = (f: string) => path.resolve(f);
  const u = inputs.unfeatured;
  const unfeatured = !u ? 'none' : 'file' in u ? { y: u.file } : 'corners' in u ? { corners: u.corners } : 'range' in u ? { range: u.range } : { resample: u.resample };
  const validation =
    o.validationX !== undefined && o.validationY !== undefined
      ? { x: abs(o.validationX), y: abs(o.validationY) }
      : o.validationFraction !== undefined
        ? { fraction: o.validationFraction, ...(o.groupSize !== undefined ? { groupSize: o.groupSize } : {}), ...(o.groups !== undefined ? { groups: abs(o.groups) } : {}) }
        : undefined;
  const defined = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
  return {
    model: { type: 'untapped', labels: o.labels ?? 'simplex', latent: o.latent ?? 1, ...(o.hidden ? { hidden: hiddenWith(o.hidden) } : {}), ...o.model },
    sources: defined({ labelled: { x: abs(o.x), y: abs(o.y) }, unlabelled: o.unlabelled !== undefined ? { x: abs(o.unlabelled) } : undefined, unfeatured, validation }),
    weights: { ...o.weights, ...(o.m2 ? { alphaR: 0 } : {}) },
    train: defined({
      epochs: o.epochs ?? 2000,
      batchSize: o.batchSize ?? 100,
      lr: o.lr ?? 3e-3,
      seed: o.seed ?? 0,
      budgetMinutes: o.budgetMinutes,
      alphaRWarmup: o.alphaRWarmup,
      patience: o.patience,
      minEpochs: o.minEpochs,
      intervalLevel: o.intervalLevel,
      intervalMethod: o.intervalMethod,
      center: o.center || undefined,
      preprocess: preprocessOption(o) ?? undefined,
      bounds: o.bounds,
    }),
  };
}

/** The hidden-layer widths of the three networks when `fit` is not told otherwise: q(y | x) [5], q(z | x, y) [5], p(x | y, z) [20]. */
export const DEFAULT_HIDDEN: Readonly<{ qy: readonly number[]; qz: readonly number[]; px: readonly number[] }> = Object.freeze({ qy: [5], qz: [5], px: [20] });

/** The three networks' widths: those given, the others {@link DEFAULT_HIDDEN} (fresh arrays). */
export function hiddenWith(h: { qy?: number[]; qz?: number[]; px?: number[] } = {}): { qy: number[]; qz: number[]; px: number[] } {
  return { qy: [...(h.qy ?? DEFAULT_HIDDEN.qy)], qz: [...(h.qz ?? DEFAULT_HIDDEN.qz)], px: [...(h.px ?? DEFAULT_HIDDEN.px)] };
}

/**
 * Parses `fit --hidden`: `net=w1,w2,…` parts separated by `;`, net one of `qy` (q(y | x)), `qz`
 * (q(z | x, y)) and `px` (p(x | y, z)); an empty list (`px=`) means no hidden layer (a linear map
 * from the inputs to the distribution's parameters). Networks not named keep {@link DEFAULT_HIDDEN}.
 * @example parseHiddenSpec('qy=20;px=50,50') → { qy: [20], px: [50, 50] }
 * @throws Error naming the part and what is wrong (an unknown network, a width that is not a whole number ≥ 1, a network named twice).
 */
export function parseHiddenSpec(spec: string): { qy?: number[]; qz?: number[]; px?: number[] } {
  const out: { qy?: number[]; qz?: number[]; px?: number[] } = {};
  for (const raw of spec.split(';')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^(qy|qz|px)\s*=\s*(.*)$/i.exec(part);
    if (!m) throw new Error(`--hidden '${spec}': '${part}' is not net=widths with net qy, qz or px (e.g. 'qy=20;px=50,50')`);
    const net = m[1].toLowerCase() as 'qy' | 'qz' | 'px';
    if (out[net]) throw new Error(`--hidden '${spec}': ${net} is given twice`);
    const list = m[2].trim();
    out[net] = list === '' ? [] : list.split(',').map((w) => {
      const t = w.trim();
      if (!/^\d+$/.test(t) || Number(t) < 1) throw new Error(`--hidden '${spec}': ${net} width '${t}' is not a whole number ≥ 1`);
      return Number(t);
    });
  }
  if (!out.qy && !out.qz && !out.px) throw new Error(`--hidden '${spec}': names no network; give e.g. 'qy=20;px=50,50'`);
  return out;
}

/** Scores the default chain keeps at most (see {@link defaultClassPreprocess}). */
export const DEFAULT_CLASS_COMPONENTS = 15;

/**
 * The preprocessing a fit to classes uses when given neither `--preprocess` nor `--center`:
 * `pca:k`, k = min(15, D, rows − 1, the directions the rows vary along) whitened
 * principal-component scores of the training rows (labelled and unlabelled; a direction counts
 * when its variance is above {@link MIN_RELATIVE_VARIANCE} of the largest). Why: the model's
 * diagonal Gaussian p(x | y, z) over D correlated channels weighs each direction by how many
 * channels it spans, so where the classes differ along
 * directions of small variance (oil types beneath the designed factors of the mayonnaise data) the
 * class barely changes the likelihood, and the unlabelled rows cannot pull the classes apart; on
 * unit-variance scores each direction counts once. Measured on the mayonnaise data with 2 labelled
 * spectra per oil type (`docs/fit.md`): test error 69% on the raw channels, 36–60% on 10–30 scores.
 * Give `--preprocess none` for the raw channels.
 * @param rows the training rows, n × D row-major.
 * @returns the spec, or null when a projection would not help: D ≤ 15, fewer than 3 rows, or rows varying along fewer than 2 directions.
 */
export function defaultClassPreprocess(rows: Float32Array, D: number): string | null {
  const n = rows.length / D;
  const cap = Math.min(DEFAULT_CLASS_COMPONENTS, D, n - 1);
  // with D ≤ 15 channels the rows are already few directions; a projection would only rotate them
  if (cap < 2 || D <= DEFAULT_CLASS_COMPONENTS) return null;
  const ev = fitPpca(rows, D, cap).eigenvalues;
  const k = Array.from(ev).filter((l) => l > MIN_RELATIVE_VARIANCE * ev[0]).length;
  return k >= 2 ? `pca:${k}` : null;
}

/**
 * The canonical preprocessing spec of a fit (`sg:W:P:d` written out), or null for none. `center`
 * is kept as it was before chains existed (the estimator's input mean, taken after the chain), so
 * `center: true` equals a chain ending in `center`; given with a chain that already centres, it is
 * refused as redundant.
 * @throws PreprocessSpecError naming the bad token; Error for `center` with a chain holding
 *   `center` or `autoscale`.
 */
export function preprocessOption(o: { preprocess?: string; center?: boolean }): string | null {
  if (o.preprocess === undefined) return null;
  const steps = parsePreprocessSpec(o.preprocess);
  if (o.center && steps.some((s) => s.kind === 'center' || s.kind === 'autoscale' || s.kind === 'pca')) throw new Error(`--center and --preprocess '${o.preprocess}': the chain already centres its rows${steps.at(-1)?.kind === 'pca' ? ' (principal-component scores have mean 0 on the training rows)' : ''}; drop --center`);
  return steps.length ? formatPreprocessSpec(steps) : null;
}

/** The model settings of a fit with the schema's defaults filled in (those set elsewhere — labels, classes, latent, hidden — left out). */
function resolvedModelOptions(model: FitFilesOptions['model'] & object): Record<string, unknown> {
  const { type: _t, labels: _l, classes: _c, latent: _z, hidden: _h, inputDim: _d, ...rest } = Semi2ConfigSchema.parse({ type: 'untapped', ...model });
  return rest;
}

/** Options of {@link fitData}: those of {@link fitFiles} less the files, with validation rows and groups already read. */
export type FitDataOptions = Omit<FitFilesOptions, 'x' | 'y' | 'validationX' | 'validationY' | 'groups'> & {
  /** Validation rows given apart from the labelled ones. */
  validation?: { x: Rows; y: Rows };
  /** With `validationFraction`: one group value per labelled row. */
  groupIds?: ArrayLike<number>;
  /** Where `groupIds` came from (for fit.json). */
  groupsSource?: string;
  /** Ids of the labelled rows (for fit.json's list of held-out rows). */
  labelledIds?: string[];
  /**
   * The run config that reproduces this fit (`untapped train --config`, model type `untapped`;
   * source paths absolute), written to the model directory as `config.json`: with it `train
   * --resume --out DIR` needs no --config, and `train --config DIR/config.json` trains the same model.
   */
  runConfig?: unknown;
};

/**
 * Refuses to overwrite `o.out` (without `force`; with it, anything but a model directory this tool
 * wrote, the current directory and the inputs) and to resume without a checkpoint; `inputs` are the
 * files the fit reads.
 */
function checkOutDir(o: { out: string; force?: boolean; resume?: boolean }, inputs: string[]): void {
  const out = path.resolve(o.out);
  // --resume continues an interrupted fit (DIR.partial); a finished one is not extended
  if (o.resume && !fs.existsSync(path.join(`${out}.partial`, 'checkpoint.utp')) && fs.existsSync(path.join(out, 'fit.json'))) {
    let epochs = '';
    try {
      const h = (JSON.parse(fs.readFileSync(path.join(out, 'fit.json'), 'utf8')) as FitInfo).history;
      epochs = h.length ? ` (${h.at(-1)!.epoch} epochs)` : '';
    } catch {
      // an unreadable fit.json: the message goes without the epochs
    }
    throw new RefusedOutputError(`${o.out} holds a finished fit${epochs}; --resume continues only an interrupted one (${o.out}.partial). To train for longer, train or fit again into a new --out (or --force to replace this one)`);
  }
  checkModelDirOut(o.out, o.force, inputs);
  const partial = `${out}.partial`;
  if (fs.existsSync(partial) && !isPartialFitDir(partial)) {
    throw new RefusedOutputError(`${o.out}.partial holds files that an unfinished fit does not write (${fs.readdirSync(partial).slice(0, 3).join(', ')}); move them away or choose another --out`);
  }
  if (o.resume && !fs.existsSync(path.join(partial, 'checkpoint.utp'))) throw new Error(`--resume: no interrupted fit at ${out}.partial (no checkpoint.utp)`);
  if (!o.resume && !o.force && fs.existsSync(path.join(partial, 'checkpoint.utp'))) {
    throw new RefusedOutputError(`${o.out}.partial holds an interrupted fit; pass --resume to continue it, or --force to start over (its checkpoint is then deleted)`);
  }
}

/**
 * Splits `n` rows into training and validation rows: whole groups (each row its own group unless
 * `groups` gives a value per row), round(fraction · groups) of them (at least one, and at least one
 * left for training) chosen by `rng`. Row indices come back in ascending order.
 */
export function splitValidation(n: number, fraction: number, rng: Rng, groups?: ArrayLike<number>): { train: number[]; validation: number[]; groups: number } {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`the validation fraction must be in (0, 1), got ${fraction}`);
  if (groups && groups.length !== n) throw new Error(`splitValidation: ${groups.length} group values for ${n} rows`);
  const key = (i: number) => (groups ? groups[i] : i);
  const index = new Map<number, number>();
  const of = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = key(i);
    if (!index.has(k)) index.set(k, index.size);
    of[i] = index.get(k)!;
  }
  const G = index.size;
  if (G < 2) throw new Error(`cannot hold out a fraction of ${G} group${G === 1 ? '' : 's'} of rows: at least 2 are needed (one to train on, one to validate)`);
  const nVal = Math.min(G - 1, Math.max(1, Math.round(fraction * G)));
  const held = new Uint8Array(G);
  const perm = rng.permutation(G);
  for (let i = 0; i < nVal; i++) held[perm[i]] = 1;
  const train: number[] = [];
  const validation: number[] = [];
  for (let i = 0; i < n; i++) (held[of[i]] ? validation : train).push(i);
  return { train, validation, groups: G };
}

/** Rows of a flat matrix as nested arrays. */
function nested(m: { data: Float32Array; n: number; width: number }): number[][] {
  return Array.from({ length: m.n }, (_, i) => Array.from(m.data.subarray(i * m.width, (i + 1) * m.width)));
}

/** Index of the largest value of each row. */
function argmaxOf(rows: number[][]): number[] {
  return rows.map((r) => r.reduce((b, v, k) => (v > r[b] ? k : b), 0));
}

/** Per row and component, the sd over draws [S][n][K] (n − 1 in the denominator). */
function sdOverDraws(draws: number[][][], n: number, K: number): number[][] {
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: K }, (_, k) => {
      const vals = draws.map((s) => s[i][k]);
      const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
      return Math.sqrt(vals.reduce((a, v) => a + (v - mu) ** 2, 0) / Math.max(1, vals.length - 1));
    }),
  );
}

/** Draws of q(y | x) behind `predict`'s sd and a `scaled` calibration. */
const CALIBRATION_SAMPLES = 100;

/**
 * Trains on sources already in memory and writes the model directory (the part of {@link fitFiles}
 * after reading; `untapped train` with an `untapped` config uses it for MNIST splits). The labelled
 * source is required (its z̄ is the default z of `generate`).
 */
export async function fitData(data: Semi2Data, info: Pick<FitInfo, 'channels' | 'labelNames' | 'labels' | 'inputs'>, K: number, D: number, o: FitDataOptions): Promise<FittedModel> {
  // one writer at a time for --out and its .partial: a second fit refuses, naming the first's pid
  const unlock = lockDir(o.out, `model directory ${o.out}`);
  try {
    return await fitDataLocked(data, info, K, D, o);
  } finally {
    unlock();
  }
}

async function fitDataLocked(data: Semi2Data, info: Pick<FitInfo, 'channels' | 'labelNames' | 'labels' | 'inputs'>, K: number, D: number, o: FitDataOptions): Promise<FittedModel> {
  checkOutDir(
    o,
    Object.values(info.inputs).flatMap((s) => (s && 'file' in s && fs.existsSync(s.file) ? [s.file] : [])),
  );
  if (!data.labelled) throw new Error('fit: a labelled source is required');
  const log = o.log ?? (() => {});
  const out = path.resolve(o.out);
  const partial = `${out}.partial`;
  const epochs = o.epochs ?? 2000;
  const evalEvery = Math.max(1, Math.round(epochs / 50));
  const evaluations = Math.ceil(epochs / evalEvery);

  // validation settings, checked before anything is written
  const fraction = o.validationFraction;
  if (fraction !== undefined && !(fraction > 0 && fraction < 1)) throw new Error(`--validation-fraction must be in (0, 1), got ${fraction}`);
  if (fraction !== undefined && o.validation) throw new Error('give validation rows either as files or as a fraction of the labelled rows, not both');
  if (o.groupSize !== undefined && (!Number.isInteger(o.groupSize) || o.groupSize < 1)) throw new Error(`--group-size must be a positive integer, got ${o.groupSize}`);
  if ((o.groupSize !== undefined || o.groupIds) && fraction === undefined) throw new Error('--group-size and --groups choose which rows --validation-fraction holds out together; give --validation-fraction too');
  if (o.groupSize !== undefined && o.groupIds) throw new Error('give either --groups FILE or --group-size N, not both');
  const hasValidation = fraction !== undefined || o.validation !== undefined;
  if (o.patience !== undefined && (!Number.isInteger(o.patience) || o.patience < 0)) throw new Error(`--patience must be a non-negative integer (evaluations; 0 = never stop early), got ${o.patience}`);
  if (o.patience !== undefined && !hasValidation) throw new Error('--patience counts evaluations without a better validation score: give validation rows (--validation-fraction, or --validation-x and --validation-y)');
  const level = o.intervalLevel ?? 0.95;
  if (!(level > 0 && level < 1)) throw new Error(`--level must be in (0, 1), got ${level}`);
  const method: IntervalMethod = o.intervalMethod ?? 'absolute';
  if (method !== 'absolute' && method !== 'scaled') throw new Error(`--interval-method must be 'absolute' or 'scaled', got '${String(method)}'`);
  if (method === 'scaled' && info.labels === 'discrete') throw new Error("--interval-method scaled is for compositions; classes get conformal prediction sets");
  if (method === 'scaled' && o.model?.variational === false) throw new Error('--interval-method scaled needs the sd of q(y | x), which a deterministic model does not have (it is 0); use absolute');
  const patience = hasValidation ? (o.patience ?? Math.max(1, Math.round(0.2 * evaluations))) : 0;
  if (o.minEpochs !== undefined && (!Number.isInteger(o.minEpochs) || o.minEpochs < 0)) throw new Error(`--min-epochs must be a non-negative integer, got ${o.minEpochs}`);
  if (o.minEpochs !== undefined && !hasValidation) throw new Error('--min-epochs delays the early stop by validation score: give validation rows (--validation-fraction, or --validation-x and --validation-y)');
  const minEpochs = hasValidation ? (o.minEpochs ?? Math.max(Math.round(0.25 * epochs), Math.ceil(o.alphaRWarmup ?? 0))) : 0;
  const givenPreprocess = preprocessOption(o);
  // bounded real targets: every labelled (and validation) value strictly inside, checked before anything is written
  let yBounds: TargetBounds | undefined;
  if (o.bounds !== undefined) {
    if (info.labels !== 'real') throw new Error(`--bounds is for real targets (--labels real); these labels are ${info.labels === 'simplex' ? 'compositions (on the simplex already)' : 'classes'}`);
    yBounds = parseBounds(o.bounds, K, info.labelNames);
    const yFile = 'file' in (info.inputs.y ?? {}) ? (info.inputs.y as { file: string }).file : 'labelled y';
    checkInside(yBounds, toMatrix(data.labelled.y, 'labelled y', K).data, yFile, (i) => `data row ${i + 1}${o.labelledIds ? ` (id '${o.labelledIds[i]}')` : ''}`, info.labelNames);
    if (o.validation) checkInside(yBounds, toMatrix(o.validation.y, 'validation y', K).data, 'validation y', (i) => `data row ${i + 1}`, info.labelNames);
    const uf = info.inputs.unfeatured;
    if (data.unfeatured && uf && 'file' in uf) checkInside(yBounds, toMatrix(data.unfeatured.y, 'unfeatured y', K).data, uf.file, (i) => `data row ${i + 1}`, info.labelNames);
  }

  // the split: validation rows held out of the labelled source
  const labX = toMatrix(data.labelled.x, 'labelled x', D);
  const labY = toMatrix(data.labelled.y, 'labelled y', K);
  let train = data;
  let valid: { x: { data: Float32Array; n: number; width: number }; y: { data: Float32Array; n: number; width: number } } | null = null;
  let validationInfo: Omit<FitValidation, 'metric' | 'patience' | 'minEpochs' | 'bestEpoch' | 'best'> | null = null;
  if (fraction !== undefined) {
    let groups = o.groupIds;
    if (o.groupSize !== undefined) {
      if (labX.n % o.groupSize !== 0) throw new DataFileError(`--group-size ${o.groupSize}: the ${labX.n} labelled rows${'file' in (info.inputs.x ?? {}) ? ` of ${(info.inputs.x as { file: string }).file}` : ''} do not split into whole groups of ${o.groupSize} consecutive replicates`);
      const gs = o.groupSize;
      groups = Array.from({ length: labX.n }, (_, i) => Math.floor(i / gs));
    }
    const sp = splitValidation(labX.n, fraction, new Rng(o.seed ?? 0).fork('validation'), groups);
    const take = (m: { data: Float32Array; width: number }, rows: number[]) => ({ data: gather(m.data, m.width, rows), n: rows.length, width: m.width });
    valid = { x: take(labX, sp.validation), y: take(labY, sp.validation) };
    const tx = take(labX, sp.train);
    const ty = take(labY, sp.train);
    train = { ...data, labelled: { x: { data: tx.data, width: D }, y: { data: ty.data, width: K } } };
    // what the held-out rows leave must still be trainable: classes each with a training row, or 2 rows for a prior's sd
    const left = sp.train.length;
    if (info.labels === 'discrete') {
      const present = new Set<number>();
      for (let i = 0; i < left; i++) for (let c = 0; c < K; c++) if (ty.data[i * K + c] === 1) present.add(c);
      const missing = info.labelNames.filter((_, c) => !present.has(c));
      if (missing.length) throw new Error(`--validation-fraction ${fraction}: holding out ${sp.validation.length} of the ${labX.n} labelled rows leaves ${left} to train on${left < K ? `, fewer than the ${K} classes` : ''}; no training row would be left for ${missing.slice(0, 6).map((c) => `'${c}'`).join(', ')}${missing.length > 6 ? ', …' : ''}: use a smaller fraction or give --validation-x/--validation-y`);
    } else if (left < 2) throw new Error(`--validation-fraction ${fraction}: holding out ${sp.validation.length} of the ${labX.n} labelled rows leaves ${left} to train on; at least 2 are needed: use a smaller fraction`);
    validationInfo = {
      source: 'fraction',
      rows: sp.validation.length,
      fraction,
      grouping: o.groupSize !== undefined ? { groupSize: o.groupSize } : o.groupIds ? { groupsFile: o.groupsSource ?? 'groups' } : 'rows',
      groups: sp.groups,
      heldOut: { index: sp.validation, ...(o.labelledIds ? { ids: sp.validation.map((i) => o.labelledIds![i]) } : {}) },
    };
  } else if (o.validation) {
    valid = { x: toMatrix(o.validation.x, 'validation x', D), y: toMatrix(o.validation.y, 'validation y', K) };
    if (valid.x.n !== valid.y.n) throw new Error(`validation: ${valid.x.n} rows of x but ${valid.y.n} rows of y`);
    validationInfo = { source: 'files', rows: valid.x.n };
  }

  // classes: without --preprocess or --center, the networks read whitened principal-component scores of the training rows
  // (labelled rows that train, and unlabelled rows; never validation rows; see defaultClassPreprocess)
  const rows = (r: Rows | undefined) => (r === undefined ? 0 : Array.isArray(r) ? r.length : r.data.length / r.width);
  const trainInputs = () => concatArrays([toMatrix(train.labelled!.x, 'labelled x', D).data, ...(train.unlabelled ? [toMatrix(train.unlabelled.x, 'unlabelled x', D).data] : [])]);
  const preprocess = givenPreprocess ?? (info.labels === 'discrete' && o.preprocess === undefined && !o.center ? defaultClassPreprocess(trainInputs(), D) : null);
  /** The width the networks read: k after a final pca:k, else the channels. */
  const Dm = preprocess ? preprocessedWidth(preprocess, D) : D;
  if (preprocess && parsePreprocessSpec(preprocess).at(-1)?.kind === 'pca') {
    // pca:k: at most min(D, training rows − 1) components, refused before anything is written
    const rowsTrain = rows(train.labelled!.x) + rows(train.unlabelled?.x);
    if (Dm > Math.min(D, rowsTrain - 1)) throw new Error(`--preprocess ${preprocess}: ${rowsTrain} training rows (labelled${train.unlabelled ? ' and unlabelled' : ''}${valid ? ', validation rows left out' : ''}) of ${D} channels have at most ${Math.min(D, rowsTrain - 1)} principal components; use pca:k with k ≤ ${Math.min(D, rowsTrain - 1)}`);
  }
  const weights: Partial<Semi2Weights> = { reverseLabelled: false, ...defaultWeights(Dm), ...o.weights, ...(o.m2 ? { alphaR: 0 } : {}) };
  const resampleN = info.inputs.unfeatured && 'resample' in info.inputs.unfeatured ? info.inputs.unfeatured.resample : 0;
  if (resampleN > 0 && weights.alphaR !== 0) {
    const ty = toMatrix(train.labelled!.y, 'labelled y', K);
    train = { ...train, unfeatured: { y: resampledLabels(ty.data, ty.n, K, resampleN, new Rng(o.seed ?? 0).fork('resample'), info.labels) } };
  }
  const rangeN = info.inputs.unfeatured && 'range' in info.inputs.unfeatured ? info.inputs.unfeatured.range : 0;
  if (rangeN > 0 && weights.alphaR !== 0) {
    const ty = toMatrix(train.labelled!.y, 'labelled y', K);
    train = { ...train, unfeatured: { y: rangeLabels(ty.data, ty.n, K, rangeN, new Rng(o.seed ?? 0).fork('range'), yBounds) } };
  }
  const options = {
    epochs,
    batchSize: o.batchSize ?? 100,
    lr: o.lr ?? 3e-3,
    seed: o.seed ?? 0,
    latent: o.latent ?? 1,
    // resolved, so that a fit and the train run of its config.json record the same options (resume compares them)
    hidden: hiddenWith(o.hidden),
    model: resolvedModelOptions(o.model ?? {}),
    weights,
    center: o.center ?? false,
    ...(preprocess ? { preprocess } : {}),
    ...(o.bounds !== undefined ? { bounds: o.bounds } : {}),
    budgetMinutes: o.budgetMinutes ?? null,
    alphaRWarmup: o.alphaRWarmup ?? 0,
    validationFraction: fraction ?? null,
    groupSize: o.groupSize ?? null,
    patience: hasValidation ? patience : null,
    minEpochs: hasValidation ? minEpochs : null,
    intervalLevel: level,
    intervalMethod: method,
  };
  if (!o.resume) {
    fs.rmSync(partial, { recursive: true, force: true });
  } else {
    const prev = JSON.parse(fs.readFileSync(path.join(partial, 'options.json'), 'utf8')) as { options: unknown; inputs: unknown };
    const diff = [...configDiff(prev.options, options), ...configDiff(prev.inputs, info.inputs).map((k) => `inputs.${k}`)];
    if (diff.length) {
      const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));
      const at = (o: unknown, k: string) => k.split('.').reduce<unknown>((a, part) => (a && typeof a === 'object' ? (a as Record<string, unknown>)[part] : undefined), o);
      const parts = diff.slice(0, 4).map((k) => (k.startsWith('inputs.') ? `${k}: ${show(at(prev.inputs, k.slice(7)))} then, ${show(at(info.inputs, k.slice(7)))} now` : `${k}: ${show(at(prev.options, k))} then, ${show(at(options, k))} now`));
      throw new Error(`--resume: the interrupted fit in ${partial} had other options or inputs (${parts.join('; ')}${diff.length > 4 ? `; and ${diff.length - 4} more` : ''}); rerun with the same ones, or without --resume (and with --force) to start over`);
    }
  }
  makeDir(partial);
  writeFileAtomic(path.join(partial, 'options.json'), JSON.stringify({ options, inputs: info.inputs }, null, 2) + '\n');
  if (o.runConfig !== undefined) writeFileAtomic(path.join(partial, 'config.json'), JSON.stringify(o.runConfig, null, 2) + '\n');
  const est = new UntappedEstimator({ ...o.model, inputDim: Dm, classes: K, labels: info.labels, latent: options.latent, ...(o.hidden ? { hidden: hiddenWith(o.hidden) } : {}) }, options.seed);
  log(
    `fit: ${rows(train.labelled!.x)} labelled rows × ${D} channels, ${K} ${{ simplex: 'components', discrete: 'classes', real: K === 1 ? 'real target' : 'real targets' }[info.labels]}` +
      (train.unlabelled ? `, ${rows(train.unlabelled.x)} unlabelled` : '') +
      (train.unfeatured ? `, ${rows(train.unfeatured.y)} unfeatured labels` : '') +
      (valid ? `, ${valid.x.n} validation rows${validationInfo?.grouping && validationInfo.grouping !== 'rows' ? ` (${validationInfo.groups} groups kept whole)` : ''}` : '') +
      (preprocess ? `; preprocessing ${preprocess}${o.preprocess === undefined ? ` (the default for classes: ${Dm} whitened principal-component scores; --preprocess none for the raw channels)` : ''}` : '') +
      (o.center ? '; the mean spectrum subtracted (--center)' : '') +
      (yBounds ? `; bounds ${yBounds.lo.map((l, k) => `${l}:${yBounds!.hi[k]}`).join(', ')} (logit scale)` : '') +
      `; ${epochs} epochs` +
      (valid ? `, evaluated every ${evalEvery === 1 ? 'epoch' : `${evalEvery} epochs`}; ${patience ? `early stop after ${patience} evaluations without improvement, not before epoch ${minEpochs}` : 'no early stop'}` : ''),
  );

  // validation scores of the current weights (deterministic: the mean of q(y | x)); RMSEP for compositions and real targets
  const simplex = info.labels !== 'discrete';
  const validY = valid ? nested(valid.y) : [];
  const validClasses = argmaxOf(validY);
  // several real targets are in their own units: the weights are chosen by their RMSEPs relative to each target's
  // sd over the labelled training rows, pooled (a target in large units would otherwise decide alone)
  const pooledReal = info.labels === 'real' && K > 1;
  const targetSd = pooledReal ? inputScaling([toMatrix(train.labelled!.y, 'labelled y', K).data], K).sd : [];
  const scoreValidation = (): Record<string, number> => {
    const p = est.predict({ data: valid!.x.data, width: D }).mean;
    if (simplex) {
      const r = rmsep(p, validY);
      return { val_rmsep: r.overall, ...(pooledReal ? { val_rmsep_sd: Math.sqrt(r.perComponent.reduce((a, v, k) => a + (v / targetSd[k]) ** 2, 0) / K) } : {}) };
    }
    const c = classificationScores(p, validClasses);
    return { val_error: c.error, val_ce: c.crossEntropy };
  };
  const metric = pooledReal ? 'val_rmsep_sd' : simplex ? 'val_rmsep' : 'val_ce';
  const say = (r: EvalRecord) => {
    const v = Object.entries(r.metrics)
      .map(([k, x]) => `, ${k} ${x.toFixed(4)}`)
      .join('');
    return `epoch ${r.epoch}/${epochs}: loss ${r.trainLoss.toFixed(4)}${v} (${r.trainSeconds.toFixed(0)} s)`;
  };

  if (o.resume) log(`fit: resuming the interrupted fit from its last checkpoint (${path.join(o.out + '.partial', 'checkpoint.utp')})`);
  const history: EvalRecord[] = await est.fit(train, {
    epochs,
    batchSize: options.batchSize,
    lr: options.lr,
    seed: options.seed,
    weights,
    center: options.center,
    ...(preprocess ? { preprocess } : {}),
    ...(yBounds ? { yBounds } : {}),
    ...(options.alphaRWarmup ? { alphaRWarmup: options.alphaRWarmup } : {}),
    evalEvery,
    checkpointFile: path.join(partial, 'checkpoint.utp'),
    resume: o.resume ?? false,
    progress: o.progressBars ? {} : { silent: true },
    ...(o.budgetMinutes ? { budgetSeconds: o.budgetMinutes * 60 } : {}),
    ...(valid ? { evaluate: scoreValidation, select: { metric, mode: 'min' as const, patience, minEpochs } } : {}),
    onEpoch: (r) => log(say(r)),
    onWarning: (m) => log(`fit: warning: ${m}`),
  });
  const runResult = est.lastRun;
  const stoppedBy = runResult?.stoppedBy ?? 'epochs';

  // the saved weights are the best by validation: score them, calibrate the intervals on the same rows
  let validation: FitValidation | undefined;
  let calibration: FitCalibration | undefined;
  if (valid && validationInfo && runResult?.best) {
    const pred = est.predict({ data: valid.x.data, width: D }, method === 'scaled' ? { samples: CALIBRATION_SAMPLES, seed: 0 } : {});
    let best: FitValidation['best'];
    if (simplex) {
      const r = rmsep(pred.mean, validY);
      best = { rmsep: r.overall, rmsepPerComponent: r.perComponent };
      const sd = pred.samples ? sdOverDraws(pred.samples, valid.x.n, K) : undefined;
      const scores = intervalScores(pred.mean, validY, { method, ...(sd ? { sd } : {}) }).map((c) => c.sort((a, b) => a - b));
      calibration = { at: intervalsFromScores(scores, level, method), scores, ...(method === 'scaled' ? { samples: CALIBRATION_SAMPLES } : {}) };
    } else {
      const c = classificationScores(pred.mean, validClasses);
      best = { error: c.error, crossEntropy: c.crossEntropy };
      const scores = setScores(pred.mean, validClasses).sort((a, b) => a - b);
      calibration = { at: setsFromScores(scores, level), scores: [scores] };
    }
    validation = { ...validationInfo, metric, patience, minEpochs, bestEpoch: runResult.best.epoch, best };
  }

  const lab = train.labelled!;
  const z = est.encode(lab.x, lab.y);
  const zMean = Array.from({ length: options.latent }, (_, j) => z.reduce((s, r) => s + r[j], 0) / z.length);
  const full: FitInfo = {
    kind: 'untapped-fit',
    version: 1,
    created: new Date().toISOString(),
    ...info,
    options,
    zMean,
    history: history.map((r) => ({ epoch: r.epoch, trainLoss: r.trainLoss, trainSeconds: r.trainSeconds, ...(Object.keys(r.metrics).length ? { metrics: r.metrics } : {}) })),
    trainSeconds: history.at(-1)?.trainSeconds ?? 0,
    stoppedBy,
    ...(validation ? { validation } : {}),
    ...(calibration ? { calibration } : {}),
    ...(runResult?.warnings.length ? { warnings: runResult.warnings } : {}),
  };
  est.save(path.join(partial, 'model.utp'));
  writeFileAtomic(path.join(partial, 'fit.json'), JSON.stringify(full, null, 2) + '\n');
  const files = [...(o.runConfig !== undefined ? ['config.json'] : []), 'model.utp', 'fit.json'];
  if (history.length > 1) {
    lineChartPng(path.join(partial, 'loss.png'), [{ name: 'training loss (−J of eq 15)', x: history.map((r) => r.epoch), y: history.map((r) => r.trainLoss) }], { title: 'untapped fit', xLabel: 'epoch', yLabel: 'loss' });
    files.push('loss.png');
    if (validation) {
      const name = pooledReal ? "validation RMSEP / each target's sd, pooled" : simplex ? 'validation RMSEP' : 'validation cross-entropy';
      const series = [{ name, x: history.map((r) => r.epoch), y: history.map((r) => r.metrics[metric]) }];
      if (!simplex) series.push({ name: 'validation error', x: history.map((r) => r.epoch), y: history.map((r) => r.metrics.val_error) });
      const bestValue = history.find((r) => r.epoch === validation!.bestEpoch)!.metrics[metric];
      lineChartPng(path.join(partial, 'validation.png'), series, { title: `validation (saved: epoch ${validation.bestEpoch}; stopped by ${stoppedBy})`, xLabel: 'epoch', yLabel: pooledReal ? "RMSEP in units of each target's training sd" : simplex ? `RMSEP (${info.labels === 'real' ? "the target's units" : 'composition units'})` : 'cross-entropy (nats) / error (share)', hLines: [{ y: bestValue, label: `best ${bestValue.toPrecision(3)} at epoch ${validation.bestEpoch}` }] });
      files.push('validation.png');
    }
  }
  // a diverged fit has nothing worth drawing (its z̄ may even sit on the box's edge)
  if (info.labels === 'simplex' && !runResult?.warnings.length) {
    // the endmembers (each pure component, z at the labelled rows' mean) beside the labelled rows' mean spectrum, in one space
    const corners = Array.from({ length: K }, (_, k) => Array.from({ length: K }, (_, j) => (j === k ? 1 : 0)));
    const ends = est.generate(corners, corners.map(() => zMean.slice()));
    const seen = est.inGeneratedSpace(train.labelled!.x);
    const W = ends[0].length;
    const mean = Array.from({ length: W }, (_, j) => seen.reduce((a, r) => a + r[j], 0) / seen.length);
    const axis = spectralAxis(info.channels);
    const xs = axis ? axis.values : mean.map((_, j) => j);
    const space = est.generatedSpace();
    lineChartPng(
      path.join(partial, 'endmembers.png'),
      [...ends.map((e, k) => ({ name: `endmember ${info.labelNames[k]}`, x: xs, y: e })), { name: `mean of the ${seen.length} labelled rows`, x: xs, y: mean }],
      { title: 'endmembers (z = z̄) and the mean labelled spectrum', xLabel: axis?.title ?? 'channel', yLabel: space ? `value after '${est.generatedSpec()}' (preprocessed space)` : 'value', points: false },
    );
    files.push('endmembers.png');
  }
  // the report: what was fitted on what, the curves and, with validation rows, the figures of the saved weights on them
  let reportValidation: ReportValidation | null = null;
  if (valid && !runResult?.warnings.length) {
    reportValidation = { predicted: est.predict({ data: valid.x.data, width: D }).mean, measured: validY };
    if (info.labels !== 'discrete' && K <= 10) {
      predictedVsMeasuredCharts(path.join(partial, 'validation-pv.png'), reportValidation.predicted, reportValidation.measured, info.labelNames, info.labels === 'real', `${valid.x.n} validation rows, saved weights`);
      files.push('validation-pv.png', 'validation-pv-residuals.png');
    }
  }
  const md = fitReportMarkdown(o.out, full, reportValidation, files, calibration ? describeCalibration(calibration.at, info.labelNames, info.labels === 'simplex') : undefined);
  writeFileAtomic(path.join(partial, 'report.md'), md);
  writeHtmlReport(partial, md, { title: `untapped fit: ${path.basename(out)}` });
  files.push('report.md', 'report.html');
  fs.rmSync(path.join(partial, 'checkpoint.utp'), { force: true });
  fs.rmSync(path.join(partial, 'options.json'), { force: true });
  removeStaleTemps(partial);
  if (fs.existsSync(out)) fs.rmSync(out, { recursive: true, force: true });
  try {
    fs.renameSync(partial, out);
  } catch (e) {
    throw new FileWriteError(o.out, e);
  }
  if (validation) {
    const b = validation.best;
    log(
      `fit: saved the weights of epoch ${validation.bestEpoch} (of ${runResult!.epochs}; stopped by ${stoppedBy}): validation ` +
        (simplex ? `RMSEP ${b.rmsep!.toFixed(4)} (per component ${b.rmsepPerComponent!.map((v) => v.toFixed(4)).join(', ')})` : `error ${(100 * b.error!).toFixed(2)}%, cross-entropy ${b.crossEntropy!.toFixed(4)}`) +
        ` on ${validation.rows} rows`,
    );
    if (calibration) log(`fit: ${describeCalibration(calibration.at, info.labelNames, info.labels === 'simplex')}`);
  }
  log(`fit: wrote ${o.out} (${files.join(', ')}) after ${full.trainSeconds.toFixed(1)} s of training`);
  if (full.warnings) log(`fit: warning: ${full.warnings.length === 1 ? 'the training loss diverged' : `${full.warnings.length} warnings`} (see 'warnings' in ${path.join(o.out, 'fit.json')}); the saved model may be useless`);
  return { dir: out, info: full, estimator: est };
}

/** A percentage for messages and column names: 95, 97.5. */
function pct(level: number): string {
  return String(+(100 * level).toFixed(2));
}

/** One line saying what a calibration gives and how it was made (`clipped`: intervals clipped to [0, 1], as for compositions). */
export function describeCalibration(c: IntervalCalibration | SetCalibration, labelNames: string[], clipped = true): string {
  const maxLevel = `${pct(c.n / (c.n + 1))}%`;
  if (c.kind === 'split-conformal-set') {
    if (c.threshold === null) return `${c.n} validation rows are too few for ${pct(c.level)}% class sets (need ≥ ${c.minRows}; at most ${maxLevel} with ${c.n}): no calibrated sets`;
    return `${pct(c.level)}% class sets: every class with probability ≥ ${c.threshold.toPrecision(3)} (split-conformal on ${c.n} validation rows, score 1 − p̂ of the true class)`;
  }
  if (c.quantile.some((q) => q === null)) return `${c.n} validation rows are too few for ${pct(c.level)}% intervals (need ≥ ${c.minRows}; at most ${maxLevel} with ${c.n}): no calibrated intervals`;
  const half = c.quantile.map((q, k) => `${labelNames[k]} ${c.method === 'scaled' ? `${q!.toPrecision(3)}·sd` : `±${q!.toPrecision(3)}`}`).join(', ');
  return `${pct(c.level)}% intervals per component: ${half} (split-conformal on ${c.n} validation rows, ${c.method === 'scaled' ? 'residuals scaled by the sd of q(y | x)' : 'absolute residuals'}${clipped ? '; clipped to [0, 1]' : ''})`;
}

/** Loads a directory written by {@link fitFiles}. */
export function loadFitted(dir: string): FittedModel {
  const infoFile = path.join(dir, 'fit.json');
  if (!fs.existsSync(infoFile)) {
    const hint = fs.existsSync(`${dir}.partial`) ? ` (${dir}.partial holds an unfinished fit: rerun \`untapped fit\` with --resume)` : '';
    throw new Error(`${dir}: not a model directory written by \`untapped fit\` (no fit.json)${hint}`);
  }
  const info = JSON.parse(fs.readFileSync(infoFile, 'utf8')) as FitInfo;
  if (info.kind !== 'untapped-fit') throw new Error(`${infoFile}: not written by \`untapped fit\``);
  return { dir, info, estimator: UntappedEstimator.load(path.join(dir, 'model.utp')) };
}

/**
 * A fitted model behind the run contract (`models/family.ts`), for the commands that work on every
 * run (`evaluate`'s IW log-likelihood, `sample`): the estimator's model with its input mean, the
 * labelled rows' mean nuisance z̄ and the weights it was fitted with. Disposing it frees the
 * estimator's model.
 */
export function fittedRunnable(m: FittedModel): Semi2Runnable {
  const w = (m.info.options as { weights?: Partial<Semi2Weights> }).weights;
  // the default α_f^d is the width the networks read (k after pca:k), as in the fit
  return new Semi2Runnable(m.estimator.model, { xMean: m.estimator.xMean, preprocessing: m.estimator.preprocessing, zMean: m.info.zMean, weights: { ...defaultWeights(m.estimator.model.config.inputDim), ...w } });
}

/** The rows `keep` of a table (their ids, lines and values), for evaluating on a subset. */
export function tableRows(t: Table, keep: number[]): Table {
  const data = new Float32Array(keep.length * t.width);
  keep.forEach((r, i) => data.set(t.data.subarray(r * t.width, (r + 1) * t.width), i * t.width));
  return { ...t, ids: keep.map((r) => t.ids[r]), lines: keep.map((r) => t.lines[r]), data, n: keep.length };
}

/** What {@link predictFile} returns. */
export interface FilePrediction {
  ids: string[];
  labelNames: string[];
  /** Mean of q(y | x): compositions, or class probabilities. */
  mean: number[][];
  /** Sd over the draws of q(y | x) (the model's own spread; not calibrated). */
  sd: number[][];
  /** The calibration behind `interval` / `sets` at the requested level; absent when the fit had no validation rows. */
  calibration?: IntervalCalibration | SetCalibration;
  /** Compositions: calibrated intervals per row and component, clipped to [0, 1]; absent when uncalibrated or too few validation rows for the level. */
  interval?: { lower: number[][]; upper: number[][] };
  /** Classes: the conformal prediction set per row (1 = in the set); absent as `interval` is. */
  sets?: number[][];
  /** What the intervals are and how they were calibrated — or why there are none. */
  note: string;
  /** Classes (discrete labels): the predicted class of each row, the argmax of the mean. */
  predicted?: number[];
}

/**
 * Predictions for the rows of a file: ids, the mean label, its sd over `samples` draws of
 * q(y | x), and — when the fit had validation rows — split-conformal intervals (compositions) or
 * prediction sets (classes) at `opts.level` (default: the fit's level), recalibrated from the
 * stored scores when the level differs.
 */
export function predictFile(m: FittedModel, file: string, samples = 100, seed = 0, opts: { level?: number } = {}): FilePrediction {
  return predictTable(m, readTable(file), samples, seed, opts);
}

/** {@link predictFile} for a table already read (`t.file` names it in messages). */
export function predictTable(m: FittedModel, t: Table, samples = 100, seed = 0, opts: { level?: number } = {}): FilePrediction {
  const file = t.file;
  if (t.width !== m.info.channels.length) throw new DataFileError(`${file}: ${t.width} channels per row, but the model in ${m.dir} was fitted on ${m.info.channels.length} (${m.info.inputs.x && 'file' in m.info.inputs.x ? m.info.inputs.x.file : 'x'})`);
  checkSameNames(m.info.channels, t, `the model ${m.dir} (fitted on ${m.info.inputs.x && 'file' in m.info.inputs.x ? m.info.inputs.x.file : 'x'})`);
  const p = m.estimator.predict({ data: t.data, width: t.width }, { samples, seed, rowName: (i) => rowLocation(t, i) });
  const K = m.info.labelNames.length;
  const sd = sdOverDraws(p.samples!, p.mean.length, K);
  const out: FilePrediction = { ids: t.ids, labelNames: m.info.labelNames, mean: p.mean, sd, note: '', ...(m.info.labels === 'discrete' ? { predicted: p.mean.map((r) => r.indexOf(Math.max(...r))) } : {}) };
  // a model saved from a diverging fit says so first in every note
  const warn = m.info.warnings?.length ? `WARNING: ${m.dir} was saved from a fit whose loss diverged, its predictions may be useless (${m.info.warnings[0]}). ` : '';
  const cal = m.info.calibration;
  if (opts.level !== undefined && !(opts.level > 0 && opts.level < 1)) throw new Error(`--level must be in (0, 1), got ${opts.level}`);
  if (!cal) {
    out.note =
      warn +
      `no calibrated ${m.info.labels === 'discrete' ? 'prediction sets' : 'intervals'}: ${m.dir} was fitted without validation rows (fit --validation-fraction, or --validation-x and --validation-y). ` +
      `The sd columns are the spread of q(y | x) over ${samples} draws, not a calibrated uncertainty.`;
    return out;
  }
  const level = opts.level ?? cal.at.level;
  if (cal.at.kind === 'split-conformal') {
    const c = level === cal.at.level ? cal.at : intervalsFromScores(cal.scores, level, cal.at.method);
    out.calibration = c;
    out.note = warn + describeCalibration(c, m.info.labelNames, m.info.labels === 'simplex');
    if (c.quantile.every((q) => q !== null)) {
      out.interval = predictIntervals(c, p.mean, { sd, ...(m.info.labels === 'simplex' ? { clip: [0, 1] as [number, number] } : {}) });
      if (c.method === 'scaled' && cal.samples !== undefined && cal.samples !== samples) out.note += `; calibrated with the sd of ${cal.samples} draws, predicted with ${samples}`;
    }
  } else {
    const c = level === cal.at.level ? cal.at : setsFromScores(cal.scores[0], level);
    out.calibration = c;
    out.note = warn + describeCalibration(c, m.info.labelNames);
    if (c.threshold !== null) out.sets = predictionSets(c, p.mean);
  }
  return out;
}

/** Column names of a prediction's CSV: means, sds, then the interval bounds or set memberships. */
export function predictionColumns(p: FilePrediction): { columns: string[]; rows: number[][] } {
  const lvl = p.calibration ? pct(p.calibration.level) : '';
  const columns = [...p.labelNames, ...p.labelNames.map((n) => `${n}_sd`)];
  if (p.interval) columns.push(...p.labelNames.flatMap((n) => [`${n}_lo${lvl}`, `${n}_hi${lvl}`]));
  if (p.sets) columns.push(...p.labelNames.map((n) => `${n}_in${lvl}set`));
  if (p.predicted) columns.push('class');
  const rows = p.mean.map((r, i) => [
    ...r,
    ...p.sd[i],
    ...(p.interval ? r.flatMap((_, k) => [p.interval!.lower[i][k], p.interval!.upper[i][k]]) : []),
    ...(p.sets ? p.sets[i] : []),
    ...(p.predicted ? [p.predicted[i]] : []),
  ]);
  return { columns, rows };
}

/** Measures of predictions against known labels: see {@link scorePrediction}. */
export interface PredictionScores {
  n: number;
  /** Compositions and real targets: RMSEP in composition (or the targets') units. */
  rmsep?: { overall: number; perComponent: number[] };
  /** Compositions and real targets, per target: RMSEP, bias, SEP and R² (`eval/regression.ts`). */
  perTarget?: RegressionStats[];
  /** Classes: the confusion matrix (rows: true class, columns: predicted). */
  confusion?: number[][];
  /** Compositions: mean KL(true ‖ predicted) in nats (the papers' tables 2–4; `eval/composition.ts`). */
  kl?: number;
  /** Classes: error (share) and cross-entropy (nats). */
  error?: number;
  crossEntropy?: number;
  /** Compositions with calibrated intervals: their coverage. */
  coverage?: Coverage;
  /** Classes with calibrated sets: share of rows whose class is in the set, and the mean set size. */
  setCoverage?: { coverage: number; meanSize: number };
  /** Nominal level of the intervals or sets. */
  level?: number;
}

/**
 * Scores predictions against the labels in `yFile` (same layout as `fit --y`, one row per predicted
 * row, ids matching when both files have them): RMSEP or error and cross-entropy, and the coverage
 * of the calibrated intervals or sets.
 */
export function scorePrediction(m: FittedModel, p: FilePrediction, yFile: string): PredictionScores {
  return scoreTable(m, p, readTable(yFile));
}

/** {@link scorePrediction} against a label table already read (`y.file` names it in messages). */
export function scoreTable(m: FittedModel, p: FilePrediction, y: Table): PredictionScores {
  const yFile = y.file;
  if (y.n !== p.ids.length) throw new DataFileError(`${yFile}: ${y.n} rows of labels for ${p.ids.length} predicted rows; each predicted row needs its label`);
  const idsP = !p.ids[0].startsWith('line ') && !p.ids[0].startsWith('row ');
  if (idsP && hasIds(y)) {
    const i = y.ids.findIndex((id, r) => id !== p.ids[r]);
    if (i >= 0) throw new DataFileError(`${rowLocation(y, i)}: id '${y.ids[i]}' does not match the predicted row's id '${p.ids[i]}'; rows must be in the same order`);
  }
  const K = m.info.labelNames.length;
  const out: PredictionScores = { n: y.n, ...(p.calibration ? { level: p.calibration.level } : {}) };
  if (m.info.labels === 'real') {
    if (y.width !== K) throw new DataFileError(`${yFile}: ${y.width} targets per row, but the model has ${K} (${m.info.labelNames.join(', ')})`);
    checkRealTable(y);
    const yy = nested({ data: y.data, n: y.n, width: K });
    out.rmsep = rmsep(p.mean, yy);
    out.perTarget = regressionStats(p.mean.flat(), yy.flat(), y.n, K);
    if (p.interval) out.coverage = intervalCoverage(p.interval.lower, p.interval.upper, yy);
  } else if (m.info.labels === 'simplex') {
    if (y.width !== K) throw new DataFileError(`${yFile}: ${y.width} components per row, but the model has ${K} (${m.info.labelNames.join(', ')})`);
    checkSimplexTable(y);
    const yy = nested({ data: normaliseRows(y), n: y.n, width: K });
    out.rmsep = rmsep(p.mean, yy);
    out.perTarget = regressionStats(p.mean.flat(), yy.flat(), y.n, K);
    out.kl = compositionKl(yy.flat(), p.mean.flat(), y.n, K);
    if (p.interval) out.coverage = intervalCoverage(p.interval.lower, p.interval.upper, yy);
  } else {
    let oh: Float32Array;
    if (y.width === 1) oh = classesToOneHot(y, K);
    else {
      if (y.width !== K) throw new DataFileError(`${yFile}: one-hot rows of width ${y.width}, but the model has ${K} classes`);
      checkOneHot(y);
      oh = y.data;
    }
    const cls = argmaxOf(nested({ data: oh, n: y.n, width: K }));
    const c = classificationScores(p.mean, cls);
    out.error = c.error;
    out.crossEntropy = c.crossEntropy;
    out.confusion = confusionMatrix(cls, argmaxOf(p.mean), K);
    if (p.sets) {
      const sc = setCoverage(p.sets, cls);
      out.setCoverage = { coverage: sc.coverage, meanSize: sc.meanSize };
    }
  }
  return out;
}

/** Human-readable lines for {@link PredictionScores}. */
export function describeScores(sc: PredictionScores, labelNames: string[], yFile: string): string[] {
  const out: string[] = [];
  const lvl = sc.level !== undefined ? `${pct(sc.level)}%` : '';
  if (sc.rmsep) out.push(`RMSEP against ${yFile} (${sc.n} rows): ${sc.rmsep.overall.toFixed(4)}; per ${sc.kl !== undefined ? 'component' : 'target'} ${sc.rmsep.perComponent.map((v, k) => `${labelNames[k]} ${v.toFixed(4)}`).join(', ')}${sc.kl !== undefined ? `; KL(true ‖ predicted) ${sc.kl.toFixed(4)} nats per row` : ''}`);
  if (sc.perTarget) {
    sc.perTarget.forEach((t, k) => out.push(`${labelNames[k]}: RMSEP ${t.rmsep.toPrecision(4)}, bias ${t.bias.toPrecision(3)}, SEP ${Number.isNaN(t.sep) ? 'n/a' : t.sep.toPrecision(4)}, R² ${Number.isNaN(t.r2) ? 'n/a (the targets do not vary)' : t.r2.toFixed(3)}`));
  }
  if (sc.error !== undefined) out.push(`against ${yFile} (${sc.n} rows): error ${(100 * sc.error).toFixed(2)}%, cross-entropy ${sc.crossEntropy!.toFixed(4)} nats`);
  if (sc.confusion) out.push(`confusion matrix (rows: true, columns: predicted; ${labelNames.join(', ')}):`, ...formatConfusion(sc.confusion).split('\n'));
  if (sc.coverage) {
    const c = sc.coverage;
    out.push(`coverage of the ${lvl} intervals: ${(100 * c.overall).toFixed(1)}% of row-components (per component ${c.perComponent.map((v, k) => `${labelNames[k]} ${(100 * v).toFixed(1)}%`).join(', ')}; rows with every component inside ${(100 * c.rowsAllInside).toFixed(1)}%); mean width ${c.meanWidth.map((v) => v.toFixed(4)).join(', ')}`);
  } else if (sc.setCoverage) {
    out.push(`coverage of the ${lvl} class sets: ${(100 * sc.setCoverage.coverage).toFixed(1)}% of rows; mean set size ${sc.setCoverage.meanSize.toFixed(2)}`);
  } else out.push('no calibrated intervals or sets to measure the coverage of');
  return out;
}

/**
 * Parses labels given on the command line: `"0.2,0.5,0.3"`, several separated by `;`, where
 * `corners` stands for every pure component; for real targets one value per target (`"92"`,
 * `"88;92"`). Checks width and, for compositions, the simplex (tolerance 1e-3).
 */
export function parseLabelArg(arg: string, m: FittedModel): number[][] {
  const K = m.info.labelNames.length;
  return arg.split(';').flatMap((part, r) => {
    const unit = (k: number) => Array.from({ length: K }, (_, j) => (j === k ? 1 : 0));
    if (part.trim() === 'corners') {
      if (m.info.labels === 'real') throw new Error(`--y label ${r + 1}: 'corners' is for compositions; give ${K} value${K === 1 ? '' : 's'} (${m.info.labelNames.join(', ')})`);
      return Array.from({ length: K }, (_, k) => unit(k));
    }
    const cells = part.split(',');
    // discrete labels: one cell is a class, by index (0-based) or by name
    if (m.info.labels === 'discrete' && cells.length === 1 && K > 1) {
      const c = part.trim();
      const byName = m.info.labelNames.indexOf(c);
      if (byName >= 0) return [unit(byName)];
      if (/^\d+$/.test(c) && Number(c) < K) return [unit(Number(c))];
      throw new Error(`--y label ${r + 1} ('${part}') is not a class: give an index 0–${K - 1}, a name (${m.info.labelNames.join(', ')}) or a one-hot row of ${K} comma-separated values (one 1, the rest 0)`);
    }
    // Number('') is 0: an empty value ('1,') would silently read as 0
    cells.forEach((c, j) => {
      if (c.trim() === '') throw new Error(`--y label ${r + 1}, value ${j + 1} is empty ('${part}')`);
    });
    const v = cells.map((s) => Number(s.trim()));
    if (v.length !== K) throw new Error(`--y label ${r + 1} ('${part}') has ${v.length} values; the model has ${K} (${m.info.labelNames.join(', ')})`);
    v.forEach((x, j) => {
      if (!Number.isFinite(x)) throw new Error(`--y label ${r + 1}, value ${j + 1} ('${part.split(',')[j]}') is not a number`);
    });
    // real targets: any finite values, one per target column
    if (m.info.labels === 'real') return [v];
    v.forEach((x, j) => {
      if (x < -1e-3) throw new Error(`--y label ${r + 1}, value ${j + 1} is ${x}: compositions must be ≥ 0`);
    });
    if (m.info.labels === 'discrete' && !(v.every((x) => x === 0 || x === 1) && v.filter((x) => x === 1).length === 1)) throw new Error(`--y label ${r + 1} ('${part}') is not a class: with discrete labels give one-hot values, an index 0–${K - 1} or a name (${m.info.labelNames.join(', ')})`);
    const s = v.reduce((a, b) => a + b, 0);
    if (m.info.labels === 'simplex' && Math.abs(s - 1) > 1e-3) throw new Error(`--y label ${r + 1} ('${part}') sums to ${+s.toFixed(6)}, not 1 (tolerance 1e-3)`);
    return [v];
  });
}

/** Generated inputs (means of p(x | y, z)) for labels; z defaults to z̄ of the labelled set. */
export function generateFromFit(m: FittedModel, y: number[][], z?: number[][]): number[][] {
  const d = m.info.zMean.length;
  const zz = z ?? y.map(() => m.info.zMean.slice());
  zz.forEach((r, i) => {
    if (r.length !== d) throw new Error(`--z row ${i + 1} has ${r.length} values; the model's z has ${d}`);
  });
  zz.forEach((r, i) =>
    r.forEach((v) => {
      const why = m.estimator.model.outsideSupport(v);
      if (why) throw new Error(`--z row ${i + 1}: ${v} is ${why}`);
    }),
  );
  return m.estimator.generate(y, zz);
}
