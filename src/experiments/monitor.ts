/**
 * Condition monitoring with any trained model (thesis `003_…` chapter 6, appendix D): each row of a
 * sensor table classified by q(y | x) where the model has one, and scored by its ELBO; rows whose
 * ELBO falls below a threshold set from the training rows' ELBOs at a chosen false-alarm rate are
 * flagged as anomalies (`eval/anomaly.ts`). Works on a run directory of `untapped train` (every
 * model type trained on a table) and on a model directory of `untapped fit`.
 *
 * The new table is read by column name: every channel the model was trained on must be there
 * (extra columns are ignored, the label column is read when present); a `timestamp` first column
 * must hold readable times in increasing order, and must be there when the training table had one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { readTable } from '../node/data.js';
import { DataFileError, rowLocation, type Table } from '../io/table.js';
import { isMissingLabel } from '../data/sources.js';
import { anomalyThreshold, elboPerRow } from '../eval/anomaly.js';
import { argmaxRows } from '../eval/classify.js';
import { baseColumns, timeSegments, windowEnds, windowInputs } from '../data/window.js';
import type { RunnableModel } from '../models/family.js';
import { checkTableTimes, isRunDir, loadRun, loadRunData, runClassNames, runColumns, trainingParts } from './run.js';
import { concatArrays } from '../data/dataset.js';
import { fittedRunnable, loadFitted } from './fit.js';

/** Options of {@link scoreTable}. */
export interface ScoreOptions {
  /** Share of the training rows that may be flagged: the threshold is their ELBOs' f-quantile (default 0.01). */
  falseAlarm?: number;
  /** Monte Carlo draws per row of the ELBO (default 10). */
  draws?: number;
  /** At most this many training rows (a seeded subset) set the threshold (default 5000). */
  trainRows?: number;
  seed?: number;
  /**
   * Allow labels the model was not trained on (new conditions, e.g. injected faults to measure
   * detection): they are kept in {@link ScoredTable.truthNames} after the model's classes and not
   * scored for classification. Default false: such a label is an error naming its row.
   */
  newLabels?: boolean;
  /**
   * A table of normal rows the model was not trained on (e.g. held-out days) whose ELBOs set the
   * threshold instead of the training rows'. The training rows' ELBOs are optimistic — the model
   * has fitted them — so on new days more than f of the normal rows fall below their quantile;
   * rows exchangeable with the new ones give a threshold whose false-alarm rate is f (split
   * conformal). Read like the scored table (channels by name).
   */
  calibrate?: string;
}

/** A scored table. */
export interface ScoredTable {
  file: string;
  /** Row ids (the timestamps when the table has them) and the id column's name. */
  ids: string[];
  idColumn: string;
  /** Times in ms when the table has a timestamp column. */
  times?: Float64Array;
  /** The model's input columns (with a window, every channel's copies, oldest first), and the rows' inputs [n, D]. */
  columns: string[];
  /** Rows per input (1: each row alone). */
  window: number;
  x: Float32Array;
  n: number;
  /** Class probabilities (or mean compositions) [n, K] and the label names, where the model has q(y | x). */
  probs?: Float32Array;
  labelNames?: string[];
  /** Discrete labels: the predicted class per row. */
  predicted?: Int32Array;
  /** The table's own labels (indices into `truthNames`, −1 where empty), when it has the run's label column. */
  truth?: Int32Array;
  /** The model's class names, then any new label of the table (with {@link ScoreOptions.newLabels}). */
  truthNames?: string[];
  /** ELBO per row (nats), the threshold, the flags. */
  elbo: Float64Array;
  threshold: number;
  flagged: Uint8Array;
  falseAlarm: number;
  /** Rows scored for the threshold (training rows, or the calibration table's), and how many of them are below it. */
  trainRows: number;
  trainFlagged: number;
  /** Where the threshold came from: `training rows` or the calibration file. */
  thresholdFrom: string;
}

/** What scoring needs of a trained model, from a run or a fit directory. */
interface Scorer {
  model: RunnableModel;
  /** The model's input columns (windowed names with a window), and the window (1: rows alone). */
  columns: string[];
  window: number;
  /** A Bernoulli p(x | ·): inputs must lie in [0, 1] (its density is meaningless outside). */
  unitInputs: boolean;
  labelColumn?: string;
  labelNames?: string[];
  discrete: boolean;
  /** The training inputs [m, D] (labelled and unlabelled rows, not test or validation rows). */
  trainX: () => Float32Array;
  /** The training table (for its timestamp column), when there is one. */
  trainTable?: string;
}

function scorer(dir: string): Scorer {
  if (isRunDir(dir)) {
    const run = loadRun(dir, { checkSources: true });
    const columns = runColumns(run.meta);
    if (!columns?.length) {
      run.model.dispose();
      throw new Error(`${dir} was trained on images (MNIST), not a table: score reads sensor tables`);
    }
    const src = run.config.sources!;
    const names = runClassNames(run.meta);
    const K = run.model.classes;
    return {
      model: run.model,
      columns,
      window: src.window ?? 1,
      unitInputs: (run.config.model as { likelihood?: string }).likelihood === 'bernoulli',
      ...(src.labelled?.labelColumn ? { labelColumn: src.labelled.labelColumn } : src.unlabelled?.labelColumn ? { labelColumn: src.unlabelled.labelColumn } : {}),
      ...(K > 0 ? { labelNames: names ?? Array.from({ length: K }, (_, k) => String(k)) } : {}),
      discrete: K > 0,
      trainX: () => concatArrays(trainingParts(loadRunData(run.config))),
      trainTable: src.labelled?.x ?? src.unlabelled?.x,
    };
  }
  if (fs.existsSync(path.join(dir, 'fit.json'))) {
    const m = loadFitted(dir);
    const inputs = m.info.inputs;
    const files = [inputs.x, inputs.unlabelled].flatMap((s) => (s && 'file' in s ? [s.file] : []));
    return {
      model: fittedRunnable(m),
      columns: m.info.channels,
      window: 1,
      unitInputs: m.estimator.model.config.likelihood === 'bernoulli',
      labelNames: m.info.labelNames,
      discrete: m.info.labels === 'discrete',
      trainX: () => concatArrays(files.map((f) => readTable(f).data)),
      trainTable: files[0],
    };
  }
  throw new Error(`${dir}: not a run directory of untapped train (config.json and checkpoint.utp) nor a model directory of untapped fit (fit.json)`);
}

/**
 * The model's inputs from `t`: its channels by name, windowed as the model was trained, and the
 * table rows they end at. @throws DataFileError naming a missing channel.
 */
function inputsOf(t: Table, s: Scorer, dir: string): { x: Float32Array; rows: Int32Array } {
  const base = baseColumns(s.columns, s.window);
  const x = channelsOf(t, base, dir, s.unitInputs);
  if (s.window === 1) return { x, rows: Int32Array.from({ length: t.n }, (_, i) => i) };
  const rows = windowEnds(timeSegments(t), s.window);
  if (rows.length === 0) throw new DataFileError(`${t.file}: no stretch of ${s.window} consecutive rows for the model's window of ${s.window}`);
  return { x: windowInputs(x, base.length, s.window, rows), rows };
}

/** The rows of `t` in the given channel order. @throws DataFileError naming a missing channel. */
function channelsOf(t: Table, columns: string[], dir: string, unit = false): Float32Array {
  const idx = columns.map((c) => {
    const j = t.columns.indexOf(c);
    if (j >= 0 && t.columns.lastIndexOf(c) !== j) throw new DataFileError(`${t.file}: two columns are named '${c}' (columns ${j + 1} and ${t.columns.lastIndexOf(c) + 1} after the id); a channel must appear once`);
    if (j < 0) throw new DataFileError(`${t.file}: no column '${c}'; the model in ${dir} was trained on ${columns.length > 8 ? `${columns.slice(0, 8).join(', ')}, …` : columns.join(', ')}`);
    return j;
  });
  const D = columns.length;
  const x = new Float32Array(t.n * D);
  for (let i = 0; i < t.n; i++) {
    for (let d = 0; d < D; d++) {
      const v = t.data[i * t.width + idx[d]];
      if (!Number.isFinite(v)) throw new DataFileError(`${rowLocation(t, i)}, column '${columns[d]}' is empty or not a number`);
      if (unit && !(v >= 0 && v <= 1)) throw new DataFileError(`${rowLocation(t, i)}, column '${columns[d]}' is ${v}, outside [0, 1], the support of the model's Bernoulli likelihood (its ELBO there means nothing)`);
      x[i * D + d] = v;
    }
  }
  return x;
}

/**
 * Scores the rows of `file` with the model in `dir` (see the module doc).
 * @throws DataFileError naming file, row and column for a missing channel, a bad timestamp, or a
 *   label the model was not trained on; Error for a directory that holds no model.
 */
export function scoreTable(dir: string, file: string, o: ScoreOptions = {}): ScoredTable {
  const falseAlarm = o.falseAlarm ?? 0.01;
  if (!(falseAlarm >= 0 && falseAlarm < 1)) throw new Error(`the false-alarm rate must be in [0, 1), got ${falseAlarm}`);
  const s = scorer(dir);
  try {
    const lc = s.labelColumn;
    const t = readTable(file, lc ? { missing: [lc], text: [lc] } : {});
    const { x, rows } = inputsOf(t, s, dir);
    const n = rows.length;
    const idColumn = t.idColumn ?? 'id';
    const all = checkTableTimes(t, s.trainTable, lc);
    const times = all ? Float64Array.from(rows, (i) => all[i]) : undefined;
    // the table's own labels, by the run's class names
    let truth: Int32Array | undefined;
    const truthNames = [...(s.labelNames ?? [])];
    if (lc && t.columns.includes(lc) && s.labelNames) {
      const cells = t.text![lc];
      truth = Int32Array.from(rows, (i) => {
        const c = cells[i];
        if (isMissingLabel(c)) return -1;
        let k = truthNames.indexOf(c);
        if (k < 0 && !o.newLabels) throw new DataFileError(`${rowLocation(t, i)}, column '${lc}' is '${c}', a condition the model was not trained on (${s.labelNames!.join(', ')}); score --new-labels reports such rows apart`);
        if (k < 0) k = truthNames.push(c) - 1;
        return k;
      });
    }
    const D = s.columns.length;
    const K = s.model.classes;
    let probs: Float32Array | undefined;
    if (s.model.classify && K > 0) {
      probs = new Float32Array(n * K);
      for (let a = 0; a < n; a += 1000) {
        const b = Math.min(1000, n - a);
        const p = tf.tidy(() => s.model.classify!(tf.tensor2d(x.subarray(a * D, (a + b) * D), [b, D])));
        probs.set(p.dataSync() as Float32Array, a * K);
        p.dispose();
      }
    }
    const rng = new Rng(o.seed ?? 0);
    const draws = o.draws ?? 10;
    const elbo = elboPerRow(s.model, x, rng.fork('rows'), { draws });
    // the threshold from the training rows (a seeded subset when there are many), or from a calibration table
    let trainX: Float32Array;
    if (o.calibrate) {
      const c = readTable(o.calibrate, lc ? { missing: [lc], text: [lc] } : {});
      checkTableTimes(c, s.trainTable, lc);
      // calibration rows are normal rows: a condition the model never saw does not belong there
      if (lc && c.columns.includes(lc) && s.labelNames) {
        c.text![lc].forEach((v, i) => {
          if (!isMissingLabel(v) && !s.labelNames!.includes(v)) throw new DataFileError(`${rowLocation(c, i)}, column '${lc}' is '${v}', a condition the model was not trained on; --calibrate takes normal rows (${s.labelNames!.join(', ')})`);
        });
      }
      trainX = inputsOf(c, s, dir).x;
    } else trainX = s.trainX();
    const m = trainX.length / D;
    const cap = o.trainRows ?? 5000;
    if (m > cap) {
      const pick = rng.fork('train-rows').permutation(m).subarray(0, cap);
      const sub = new Float32Array(cap * D);
      pick.forEach((r, i) => sub.set(trainX.subarray(r * D, (r + 1) * D), i * D));
      trainX = sub;
    }
    if (falseAlarm > 0 && Math.floor(falseAlarm * (trainX.length / D)) < 1) {
      throw new Error(`${trainX.length / D} ${o.calibrate ? `rows in ${o.calibrate}` : 'training rows'} are too few for a false-alarm rate of ${falseAlarm}: its quantile would flag none of them (give at least ${Math.ceil(1 / falseAlarm)} rows${o.calibrate ? '' : ', or raise --train-rows'})`);
    }
    const trainElbo = elboPerRow(s.model, trainX, rng.fork('train'), { draws });
    const threshold = anomalyThreshold(trainElbo, falseAlarm);
    const flagged = Uint8Array.from(elbo, (e) => (e < threshold ? 1 : 0));
    return {
      file,
      ids: Array.from(rows, (i) => t.ids[i]),
      idColumn,
      ...(times ? { times } : {}),
      columns: s.columns,
      window: s.window,
      x,
      n,
      ...(probs ? { probs, labelNames: s.labelNames ?? Array.from({ length: K }, (_, k) => String(k)) } : {}),
      ...(probs && s.discrete ? { predicted: argmaxRows(probs, K) } : {}),
      ...(truth ? { truth, truthNames } : {}),
      elbo,
      threshold,
      flagged,
      falseAlarm,
      trainRows: trainElbo.length,
      trainFlagged: trainElbo.filter((e) => e < threshold).length,
      thresholdFrom: o.calibrate ?? 'training rows',
    };
  } finally {
    s.model.dispose();
  }
}
