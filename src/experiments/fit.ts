/**
 * Fitting the semi²-supervised model to a user's own files: what `untapped fit`, `untapped predict`
 * and `untapped generate` do (`000_…` §2–4: compositions y from spectra x, spectra from any
 * composition, endmembers included).
 *
 * Files (layout in `io/table.ts`): `x` spectra, one row per sample; `y` compositions (simplex rows)
 * or classes (one-hot rows, or one integer column); optional `unlabelled` spectra; optional
 * unfeatured labels, from a file or `corners` (labels drawn near the corners of the simplex, as the
 * CRISM experiment's y_u). Everything is read and checked before anything is written.
 *
 * The model directory is built in `DIR.partial/` (which holds the checkpoint while training runs)
 * and renamed to `DIR` only when complete, so an interrupted fit never leaves a half-written `DIR`;
 * `--resume` continues from the checkpoint in `DIR.partial/`.
 *
 * `DIR` holds `model.utp` (weights and model config), `fit.json` (inputs, column and label names,
 * options, z̄ of the labelled set, history) and `loss.png` (the training loss per epoch).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../engine/rng.js';
import { writeFileAtomic } from '../io/format.js';
import { checkSameWidth, checkSimplexTable, DataFileError, readTable, rowLocation, type Table } from '../io/table.js';
import { lineChartPng } from '../report/chart.js';
import type { Semi2Config, Semi2Weights } from '../models/semi2.js';
import type { EvalRecord } from '../train/trainer.js';
import { defaultWeights, UntappedEstimator, type Rows, type Semi2Data } from './estimator.js';

/** Options of {@link fitFiles}. */
export interface FitFilesOptions {
  /** Labelled inputs (spectra). */
  x: string;
  /** Labels of the rows of `x`: compositions (simplex) or classes. */
  y: string;
  /** Unlabelled inputs. */
  unlabelled?: string;
  /** Unfeatured labels: a file, or `corners` / `corners:N` (N labels near the simplex corners; default 167 per corner). */
  unfeatured?: string;
  /** Output model directory. */
  out: string;
  /** `simplex` (compositions, default) or `discrete` (classes). */
  labels?: 'simplex' | 'discrete';
  /** Dimension of the nuisance z (default 1, the CRISM setup). */
  latent?: number;
  /** Hidden widths (defaults: `000_…` appendix A.2.2). */
  hidden?: { qy?: number[]; qz?: number[]; px?: number[] };
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
  labels: 'simplex' | 'discrete';
  inputs: Record<string, { file: string; rows: number; columns: number } | { corners: number }>;
  options: Record<string, unknown>;
  /** Mean nuisance of the labelled set: the default z of `generate` (`000_…` eq 18). */
  zMean: number[];
  history: { epoch: number; trainLoss: number; trainSeconds: number }[];
  trainSeconds: number;
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

/** Reads and checks every input of a fit; throws a {@link DataFileError} naming the file and row. */
export function readFitInputs(o: FitFilesOptions): { data: Semi2Data; info: Pick<FitInfo, 'channels' | 'labelNames' | 'labels' | 'inputs'>; K: number; D: number } {
  const labels = o.labels ?? 'simplex';
  const x = readTable(o.x);
  const y = readTable(o.y);
  if (x.n !== y.n) throw new DataFileError(`${o.y}: ${y.n} rows of labels for ${x.n} rows in ${o.x}; each row of x needs its label`);
  const idsX = !x.ids[0].startsWith('line ') && !x.ids[0].startsWith('row ');
  const idsY = !y.ids[0].startsWith('line ') && !y.ids[0].startsWith('row ');
  if (idsX && idsY) {
    const i = x.ids.findIndex((id, r) => id !== y.ids[r]);
    if (i >= 0) throw new DataFileError(`${rowLocation(y, i)}: id '${y.ids[i]}' does not match '${x.ids[i]}' at ${rowLocation(x, i)}; rows of x and y must be in the same order`);
  }
  let K: number;
  let yData: Float32Array;
  let labelNames: string[];
  if (labels === 'simplex') {
    if (y.width < 2) throw new DataFileError(`${o.y}: compositions need at least 2 columns, found ${y.width}`);
    checkSimplexTable(y);
    K = y.width;
    yData = normaliseRows(y);
    labelNames = y.columns;
  } else if (y.width === 1) {
    K = Math.max(...y.data) + 1;
    if (!Number.isInteger(K) || K < 2) throw new DataFileError(`${o.y}: one integer class per row expected (0..K−1), with at least two classes`);
    yData = classesToOneHot(y, K);
    labelNames = Array.from({ length: K }, (_, k) => `class ${k}`);
  } else {
    checkOneHot(y);
    K = y.width;
    yData = y.data;
    labelNames = y.columns;
  }
  const D = x.width;
  const inputs: FitInfo['inputs'] = { x: { file: o.x, rows: x.n, columns: D }, y: { file: o.y, rows: y.n, columns: y.width } };
  const data: Semi2Data = { labelled: { x: { data: x.data, width: D }, y: { data: yData, width: K } } };
  if (o.unlabelled) {
    const u = readTable(o.unlabelled);
    checkSameWidth(x, u, 'channels');
    data.unlabelled = { x: { data: u.data, width: D } };
    inputs.unlabelled = { file: o.unlabelled, rows: u.n, columns: u.width };
  }
  if (o.unfeatured) {
    const m = /^corners(?::(\d+))?$/.exec(o.unfeatured);
    if (m) {
      if (labels !== 'simplex') throw new DataFileError(`--unfeatured ${o.unfeatured}: corners are for compositions; give a file of class labels instead`);
      const n = m[1] ? Number(m[1]) : 167 * K;
      if (n < 1) throw new DataFileError(`--unfeatured ${o.unfeatured}: need at least one label`);
      data.unfeatured = { y: cornerLabels(K, n, new Rng(o.seed ?? 0).fork('corners')) };
      inputs.unfeatured = { corners: n };
    } else {
      const f = readTable(o.unfeatured);
      let fy: Float32Array;
      if (labels === 'simplex') {
        checkSameWidth(y, f, 'components');
        checkSimplexTable(f);
        fy = normaliseRows(f);
      } else if (f.width === 1) fy = classesToOneHot(f, K);
      else {
        if (f.width !== K) throw new DataFileError(`${o.unfeatured}: one-hot rows of width ${f.width}, but the labels have ${K} classes`);
        checkOneHot(f);
        fy = f.data;
      }
      data.unfeatured = { y: { data: fy, width: K } };
      inputs.unfeatured = { file: o.unfeatured, rows: f.n, columns: f.width };
    }
  }
  return { data, info: { channels: x.columns, labelNames, labels, inputs }, K, D };
}

/** Fits the model to the files in `o` and writes the model directory `o.out` (see the module doc). */
export async function fitFiles(o: FitFilesOptions): Promise<FittedModel> {
  checkOutDir(o);
  const { data, info, K, D } = readFitInputs(o);
  return fitData(data, info, K, D, o);
}

/** Refuses to overwrite `o.out` (without `force`) and to resume without a checkpoint. */
function checkOutDir(o: { out: string; force?: boolean; resume?: boolean }): void {
  const out = path.resolve(o.out);
  if (fs.existsSync(out) && !o.force) throw new Error(`${o.out} already exists; choose another --out or pass --force to replace it`);
  if (o.resume && !fs.existsSync(path.join(`${out}.partial`, 'checkpoint.utp'))) throw new Error(`--resume: no interrupted fit at ${out}.partial (no checkpoint.utp)`);
}

/**
 * Trains on sources already in memory and writes the model directory (the part of {@link fitFiles}
 * after reading; `untapped train` with an `untapped` config uses it for MNIST splits). The labelled
 * source is required (its z̄ is the default z of `generate`).
 */
export async function fitData(data: Semi2Data, info: Pick<FitInfo, 'channels' | 'labelNames' | 'labels' | 'inputs'>, K: number, D: number, o: Omit<FitFilesOptions, 'x' | 'y'>): Promise<FittedModel> {
  checkOutDir(o);
  if (!data.labelled) throw new Error('fit: a labelled source is required');
  const log = o.log ?? (() => {});
  const out = path.resolve(o.out);
  const partial = `${out}.partial`;
  const epochs = o.epochs ?? 2000;
  const weights: Partial<Semi2Weights> = { ...defaultWeights(D), ...o.weights, ...(o.m2 ? { alphaR: 0 } : {}) };
  const options = { epochs, batchSize: o.batchSize ?? 100, lr: o.lr ?? 3e-3, seed: o.seed ?? 0, latent: o.latent ?? 1, hidden: o.hidden ?? {}, model: o.model ?? {}, weights, center: o.center ?? false, budgetMinutes: o.budgetMinutes ?? null, alphaRWarmup: o.alphaRWarmup ?? 0 };
  if (!o.resume) {
    fs.rmSync(partial, { recursive: true, force: true });
  } else {
    const prev = JSON.parse(fs.readFileSync(path.join(partial, 'options.json'), 'utf8')) as { options: unknown; inputs: unknown };
    if (JSON.stringify(prev.options) !== JSON.stringify(options) || JSON.stringify(prev.inputs) !== JSON.stringify(info.inputs)) {
      throw new Error(`--resume: the options or inputs differ from the interrupted fit in ${partial} (it had ${JSON.stringify(prev)}); rerun with the same ones, or without --resume to start over`);
    }
  }
  fs.mkdirSync(partial, { recursive: true });
  writeFileAtomic(path.join(partial, 'options.json'), JSON.stringify({ options, inputs: info.inputs }, null, 2) + '\n');
  const est = new UntappedEstimator({ ...o.model, inputDim: D, classes: K, labels: info.labels, latent: options.latent, ...(o.hidden ? { hidden: { qy: [5], qz: [5], px: [20], ...o.hidden } } : {}) }, options.seed);
  const evalEvery = Math.max(1, Math.round(epochs / 50));
  const rows = (r: Rows | undefined) => (r === undefined ? 0 : Array.isArray(r) ? r.length : r.data.length / r.width);
  log(`fit: ${rows(data.labelled.x)} labelled rows × ${D} channels, ${K} ${info.labels === 'simplex' ? 'components' : 'classes'}` + (data.unlabelled ? `, ${rows(data.unlabelled.x)} unlabelled` : '') + (data.unfeatured ? `, ${rows(data.unfeatured.y)} unfeatured labels` : '') + `; ${epochs} epochs`);
  const history: EvalRecord[] = await est.fit(data, {
    epochs,
    batchSize: options.batchSize,
    lr: options.lr,
    seed: options.seed,
    weights,
    center: options.center,
    ...(options.alphaRWarmup ? { alphaRWarmup: options.alphaRWarmup } : {}),
    evalEvery,
    checkpointFile: path.join(partial, 'checkpoint.utp'),
    resume: o.resume ?? false,
    progress: o.progressBars ? {} : { silent: true },
    ...(o.budgetMinutes ? { budgetSeconds: o.budgetMinutes * 60 } : {}),
    onEpoch: (r) => log(`epoch ${r.epoch}/${epochs}: loss ${r.trainLoss.toFixed(4)} (${r.trainSeconds.toFixed(0)} s)`),
  });
  const lab = data.labelled!;
  const z = est.encode(lab.x, lab.y);
  const zMean = Array.from({ length: options.latent }, (_, j) => z.reduce((s, r) => s + r[j], 0) / z.length);
  const full: FitInfo = {
    kind: 'untapped-fit',
    version: 1,
    created: new Date().toISOString(),
    ...info,
    options,
    zMean,
    history: history.map((r) => ({ epoch: r.epoch, trainLoss: r.trainLoss, trainSeconds: r.trainSeconds })),
    trainSeconds: history.at(-1)?.trainSeconds ?? 0,
  };
  est.save(path.join(partial, 'model.utp'));
  writeFileAtomic(path.join(partial, 'fit.json'), JSON.stringify(full, null, 2) + '\n');
  if (history.length > 1) {
    lineChartPng(path.join(partial, 'loss.png'), [{ name: 'training loss (−J of eq 15)', x: history.map((r) => r.epoch), y: history.map((r) => r.trainLoss) }], { title: 'untapped fit', xLabel: 'epoch', yLabel: 'loss' });
  }
  fs.rmSync(path.join(partial, 'checkpoint.utp'), { force: true });
  fs.rmSync(path.join(partial, 'options.json'), { force: true });
  if (fs.existsSync(out)) fs.rmSync(out, { recursive: true, force: true });
  fs.renameSync(partial, out);
  log(`fit: wrote ${o.out} (model.utp, fit.json${history.length > 1 ? ', loss.png' : ''}) after ${full.trainSeconds.toFixed(1)} s of training`);
  return { dir: out, info: full, estimator: est };
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

/** Predictions for the rows of a file: ids, the mean label and its sd over `samples` draws of q(y | x). */
export function predictFile(m: FittedModel, file: string, samples = 100, seed = 0): { ids: string[]; labelNames: string[]; mean: number[][]; sd: number[][] } {
  const t = readTable(file);
  if (t.width !== m.info.channels.length) throw new DataFileError(`${file}: ${t.width} channels per row, but the model in ${m.dir} was fitted on ${m.info.channels.length} (${m.info.inputs.x && 'file' in m.info.inputs.x ? m.info.inputs.x.file : 'x'})`);
  const p = m.estimator.predict({ data: t.data, width: t.width }, { samples, seed });
  const K = m.info.labelNames.length;
  const sd = p.mean.map((_, i) => {
    const col = Array.from({ length: K }, (_, k) => {
      const vals = p.samples!.map((s) => s[i][k]);
      const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
      return Math.sqrt(vals.reduce((a, v) => a + (v - mu) ** 2, 0) / Math.max(1, vals.length - 1));
    });
    return col;
  });
  return { ids: t.ids, labelNames: m.info.labelNames, mean: p.mean, sd };
}

/**
 * Parses labels given on the command line: `"0.2,0.5,0.3"`, several separated by `;`, where
 * `corners` stands for every pure component. Checks width and, for compositions, the simplex (tolerance 1e-3).
 */
export function parseLabelArg(arg: string, m: FittedModel): number[][] {
  const K = m.info.labelNames.length;
  return arg.split(';').flatMap((part, r) => {
    if (part.trim() === 'corners') return Array.from({ length: K }, (_, k) => Array.from({ length: K }, (_, j) => (j === k ? 1 : 0)));
    const v = part.split(',').map((s) => Number(s.trim()));
    if (v.length !== K) throw new Error(`--y label ${r + 1} ('${part}') has ${v.length} values; the model has ${K} (${m.info.labelNames.join(', ')})`);
    v.forEach((x, j) => {
      if (!Number.isFinite(x)) throw new Error(`--y label ${r + 1}, value ${j + 1} ('${part.split(',')[j]}') is not a number`);
      if (x < -1e-3) throw new Error(`--y label ${r + 1}, value ${j + 1} is ${x}: compositions must be ≥ 0`);
    });
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
  const [lo, hi] = m.estimator.model.config.box;
  zz.forEach((r, i) =>
    r.forEach((v) => {
      if (!(v > lo && v < hi)) throw new Error(`--z row ${i + 1}: ${v} is outside the box (${lo}, ${hi}) of z`);
    }),
  );
  return m.estimator.generate(y, zz);
}
