/**
 * The one run pipeline: a config of any registered model type (`models/registry.ts`) → its data
 * (MNIST via `data`, tables via `sources`) → the family's model and objective → the trainer, into a
 * run directory; and back: {@link loadRun} for evaluate, sample, predict and generate.
 *
 * Run directory layout (documented in docs/format.md):
 * - `config.json`   the validated run config, defaults and data-derived sizes filled in, source paths absolute;
 * - `checkpoint.utp` weights + optimiser state + history (+ the sources' SHA-256 and columns), rewritten atomically at every evaluation;
 * - `log.jsonl`     one JSON record per start / evaluation / resume / end / warning / divergence;
 * - `report.md`, `report.json`, `report.html`, charts, `samples.png` or `samples.csv`, `reconstructions.png` after training.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { engineInfo, type EngineInfo } from '../engine/backend.js';
import { RunConfigSchema, type RunConfig } from '../config/run.js';
import { readConfigFile } from '../node/data.js';
import { validateConfig } from '../config/validate.js';
import { loadMnist } from '../node/mnist.js';
import { binarizeInto, binarizeStatic } from '../data/binarize.js';
import { gather } from '../data/batches.js';
import { checkFinite, subsetRows, type Dataset } from '../data/dataset.js';
import { labelledSubset } from '../data/subset.js';
import { concatRows } from '../data/sources.js';
import { timeSegments, windowEnds } from '../data/window.js';
import { checkTimestamps } from '../eval/anomaly.js';
import { fingerprintFiles, loadSources } from '../node/data.js';
import { isMissingLabel } from '../data/sources.js';
import { DataFileError, rowLocation, type Table } from '../io/table.js';
import { readTable } from '../node/data.js';
import { modelFamily } from '../models/registry.js';
import type { RunnableModel } from '../models/family.js';
import { inputScaling, withInputScaling, type InputScaling } from '../models/standardize.js';
import type { ImportanceModel } from '../eval/loglik.js';
import { activeUnits, type ActiveUnits, type UnitStatsModel } from '../eval/active-units.js';
import { argmaxRows, errorRate, labelledOnly } from '../eval/classify.js';
import { warmupBeta } from '../objectives/schedules.js';
import { Trainer, type DataSource, type EvalRecord, type TrainResult } from '../train/trainer.js';
import { readUtp, writeFileAtomic, makeDir } from '../node/files.js';
import { FormatError } from '../io/format.js';
import { lockDir } from '../node/lock.js';
import { RefusedOutputError } from '../node/replace.js';
import type { ProgressOptions } from '../train/progress.js';

/** Seed of the one static binarisation of test sets, shared by every run so that numbers compare. */
export const TEST_BINARIZE_SEED = 20260101;

/** File names inside a run directory. */
export const RUN_FILES = { config: 'config.json', checkpoint: 'checkpoint.utp', log: 'log.jsonl' } as const;

/**
 * The rows a run trains and evaluates on, whatever their source (MNIST / IDX via `data`, tables via
 * `sources`). Unlabelled datasets carry y = −1.
 */
export interface RunData {
  labelled?: Dataset;
  unlabelled?: Dataset;
  /** The evaluation rows (MNIST's test set, or the `sources.test` table / fraction); absent when none was given. */
  test?: Dataset;
  /** Whether the test rows carry class labels. */
  testLabelled: boolean;
  /** Number of classes K (0 when nothing is labelled). */
  classes: number;
  /** Shape of one example ([28, 28] for MNIST, [D] for a table). */
  shape: number[];
  /** Input column names (tables), for CSV output. */
  columns: string[];
  /** Whether training batches are re-binarised every time they are drawn. */
  dynamic: boolean;
  /** Where each part came from. */
  describe: Record<string, string>;
  /** The table files read (none for MNIST), fingerprinted in the checkpoint. */
  files?: string[];
  /** Class names, when the label column holds names (class k is `classNames[k]`); saved in the checkpoint. */
  classNames?: string[];
}

/** The number of input features of the data. */
export function inputDimOf(d: RunData): number {
  return d.shape.reduce((a, b) => a * b, 1);
}

/** Source paths of a config made absolute against `baseDir` (the config file's folder). */
export function resolveSourcePaths(cfg: RunConfig, baseDir: string): RunConfig {
  const abs = (f: string) => (path.isAbsolute(f) ? f : path.resolve(baseDir, f));
  if (cfg.train.initFrom) cfg = { ...cfg, train: { ...cfg.train, initFrom: abs(cfg.train.initFrom) } };
  if (!cfg.sources) return cfg;
  const fix = <T extends Record<string, unknown>>(o: T | undefined): T | undefined => {
    if (!o) return o;
    const r: Record<string, unknown> = { ...o };
    for (const k of ['x', 'y'] as const) if (typeof r[k] === 'string') r[k] = abs(r[k] as string);
    return r as T;
  };
  const s = cfg.sources;
  return { ...cfg, sources: { ...s, ...(s.labelled ? { labelled: fix(s.labelled) } : {}), ...(s.unlabelled ? { unlabelled: fix(s.unlabelled) } : {}), ...(s.test ? { test: fix(s.test) } : {}) } } as RunConfig;
}

/**
 * Loads the data of a config for its model family: MNIST (`data`; binarised as configured; for a
 * semi-supervised model `data.perClass` labelled images per class, default 10, the rest
 * unlabelled) or tables (`sources`, `data/sources.ts`; paths already absolute or relative to the
 * working directory).
 * @throws DataFileError / Error naming the file, row and column of bad data or the inconsistent source.
 */
export function loadRunData(cfg: RunConfig, opts: { testLimit?: number } = {}): RunData {
  const use = modelFamily(cfg.model.type).labelUse(cfg.model as never);
  const likelihood = (cfg.model as { likelihood?: string }).likelihood;
  if (cfg.sources) {
    const s = loadSources(cfg.sources, process.cwd(), cfg.train.seed, likelihood === 'bernoulli' ? { unitInterval: 'Bernoulli' } : {});
    let test = s.test;
    if (test && opts.testLimit !== undefined && opts.testLimit < test.n) test = subsetRows(test, Array.from({ length: opts.testLimit }, (_, i) => i), test.name);
    const base = { testLabelled: s.testLabelled, classes: s.classes, columns: s.columns, shape: [s.columns.length], dynamic: false, describe: s.describe, files: s.files, ...(test ? { test } : {}), ...(s.classNames ? { classNames: s.classNames } : {}) };
    if (use === 'none') {
      const parts = [s.labelled, s.unlabelled].filter((d): d is Dataset => d !== undefined);
      return { ...base, unlabelled: parts.length === 1 ? parts[0] : concatRows(parts, 'labelled and unlabelled rows') };
    }
    if (!s.labelled) {
      if (use === 'semi-supervised' && modelFamily(cfg.model.type).labelledOptional && s.unlabelled) return { ...base, unlabelled: s.unlabelled };
      throw new Error(`model type '${cfg.model.type}' needs labelled rows: give sources.labelled with labelColumn or y`);
    }
    if (use === 'conditional' && s.unlabelled) throw new Error(`model type '${cfg.model.type}' with conditional > 0 models p(x | y): every training row needs a label, so sources.unlabelled (or labelled.perClass, or rows with an empty label) does not apply`);
    return { ...base, labelled: s.labelled, ...(s.unlabelled ? { unlabelled: s.unlabelled } : {}) };
  }
  const data = cfg.data!;
  const dir = data.dir ? { dir: data.dir } : {};
  const testLimit = opts.testLimit ?? data.testLimit;
  let train = loadMnist('train', { ...dir, ...(data.trainLimit ? { limit: data.trainLimit } : {}) });
  let test = loadMnist('test', { ...dir, ...(testLimit ? { limit: testLimit } : {}) });
  checkFinite(train);
  checkFinite(test);
  if (data.binarize === 'static') train = binarizeStatic(train, new Rng(cfg.train.seed).fork('static-binarize'));
  if (data.binarize !== 'none') test = binarizeStatic(test, new Rng(TEST_BINARIZE_SEED));
  if (data.perClass !== undefined && use !== 'semi-supervised') throw new Error(`data.perClass applies to the semi-supervised models (m2, adgm, sdgm, cagem), not to model type '${cfg.model.type}'`);
  const base = { test, testLabelled: true, classes: train.numClasses, shape: train.shape, columns: [], dynamic: data.binarize === 'dynamic', describe: { train: train.name, test: test.name } };
  if (use === 'none') return { ...base, unlabelled: train };
  if (use === 'conditional') return { ...base, labelled: train };
  if (data.perClass === 0) {
    if (!modelFamily(cfg.model.type).labelledOptional) throw new Error(`data.perClass: 0 (no labelled image) applies to a model that trains without labels (cagem), not to model type '${cfg.model.type}'`);
    return { ...base, unlabelled: train };
  }
  const sub = labelledSubset(train, data.perClass ?? 10, new Rng(cfg.train.seed).fork('labelled'));
  return { ...base, labelled: sub.labelled, unlabelled: sub.rest };
}

/**
 * A data source of inputs x (field `x`), optionally re-binarised per batch; with `withLabels`, also
 * the rows' class indices (field `y`, int32).
 */
export function rowsSource(name: string, ds: Dataset, batchSize: number, dynamic: boolean, withLabels: boolean): DataSource {
  const bs = Math.min(batchSize, ds.n);
  const buf = new Float32Array(bs * ds.dim);
  const bin = new Float32Array(bs * ds.dim);
  return {
    name,
    size: ds.n,
    batchSize: bs,
    batch(rows, rng) {
      const out = rows.length === bs ? buf : new Float32Array(rows.length * ds.dim);
      gather(ds.x, ds.dim, rows, out);
      const x = dynamic ? binarizeInto(rows.length === bs ? bin : new Float32Array(out.length), out, rng) : out;
      const out2: Record<string, tf.Tensor> = { x: tf.tensor2d(x, [rows.length, ds.dim]) };
      if (withLabels) out2.y = tf.tensor1d(Int32Array.from(rows, (r) => ds.y[r]), 'int32');
      return out2;
    },
  };
}

/** The unlabelled-rows source of {@link rowsSource} (name `unlabelled`). */
export function unlabelledSource(ds: Dataset, batchSize: number, dynamic: boolean, withLabels = false): DataSource {
  return rowsSource('unlabelled', ds, batchSize, dynamic, withLabels);
}

/**
 * The test bound (ELBO, or IWAE(k) for k > 1) averaged over a dataset, in nats. A conditional
 * model is given the rows' labels.
 */
export function datasetBound(model: RunnableModel, ds: Dataset, k: number, rng: Rng, batchSize = 500): number {
  const labels = needsLabels(model);
  let sum = 0;
  for (let s = 0; s < ds.n; s += batchSize) {
    const b = Math.min(batchSize, ds.n - s);
    const v = tf.tidy(() => {
      const x = tf.tensor2d(ds.x.subarray(s * ds.dim, (s + b) * ds.dim), [b, ds.dim]);
      return tf.sum(model.bound(x, k, rng, labels ? ds.y.subarray(s, s + b) : undefined));
    });
    sum += v.dataSync()[0];
    v.dispose();
  }
  return sum / ds.n;
}

/**
 * Test error of a model's q(y | x) on the rows of `ds` that have a label (argmax of the class
 * probabilities); rows with y = −1 (an empty label cell) are predicted but not scored. `scored` is
 * how many rows were.
 */
export function datasetError(model: RunnableModel, ds: Dataset, batchSize = 1000): { error: number; predicted: Int32Array; scored: number } {
  if (!model.classify) throw new Error('the model has no q(y | x) to classify with');
  const pred = new Int32Array(ds.n);
  for (let s = 0; s < ds.n; s += batchSize) {
    const b = Math.min(batchSize, ds.n - s);
    const p = tf.tidy(() => tf.argMax(model.classify!(tf.tensor2d(ds.x.subarray(s * ds.dim, (s + b) * ds.dim), [b, ds.dim])), -1));
    pred.set(p.dataSync() as Int32Array, s);
    p.dispose();
  }
  const scored = labelledOnly(ds.y, pred);
  return { error: scored.trueY.length ? errorRate(scored.trueY, scored.predY) : NaN, predicted: pred, scored: scored.trueY.length };
}

/**
 * Makes the importance-weight function of a model (β = 1), for {@link iwLogLikelihood}; a
 * conditional model needs the labels passed as the estimator's `labels` option.
 */
export function importanceModel(model: RunnableModel): ImportanceModel {
  const labels = needsLabels(model);
  return {
    logWeights: (x, k, rng, y) => {
      if (labels && !y) throw new Error('importanceModel: a conditional model needs the labels (the labels option of iwLogLikelihood)');
      return tf.tidy(() => model.logWeights(x, k, rng, labels ? y : undefined));
    },
  };
}

/**
 * Active units per stochastic layer (`eval/active-units.ts`) of a run's model on the first `limit`
 * rows of `ds` (all by default), or null where the model exposes no per-unit statistics
 * (`klPerUnit` and `posteriorMeans`: the VAE family, the LVAE). The rows are standardised first
 * where the run standardises its inputs (the model object sees them so); a conditional model gets
 * the rows' labels.
 */
export function runActiveUnits(model: RunnableModel, ds: Dataset, rng: Rng, limit = ds.n): ActiveUnits | null {
  const inst = model.instance;
  if (!('klPerUnit' in inst && 'posteriorMeans' in inst)) return null;
  const n = Math.min(limit, ds.n);
  const raw = ds.x.subarray(0, n * ds.dim);
  const scaled = 'scale' in model ? tf.tidy(() => (model as unknown as { scale(x: tf.Tensor): tf.Tensor }).scale(tf.tensor2d(raw, [n, ds.dim])).dataSync() as Float32Array) : raw;
  return activeUnits(inst as unknown as UnitStatsModel, scaled, ds.dim, { rng, ...(needsLabels(model) ? { labels: ds.y.subarray(0, n) } : {}) });
}

/** Rows on which a run records the per-unit KL at each evaluation (the first of its evaluation rows). */
export const UNIT_KL_ROWS = 1000;

/**
 * Whether a run's test error is meaningful: the model classifies, the test rows have labels, and the
 * model was trained with labelled rows (a model trained without, CaGeM-0, finds clusters whose
 * indices need not match the classes).
 */
export function scoresClasses(model: RunnableModel, data: RunData): boolean {
  return Boolean(model.classify && data.test && data.testLabelled && data.labelled);
}

/** Whether a run's model needs each row's label for its bound (a conditional model). */
export function needsLabels(model: RunnableModel): boolean {
  return model.classes > 0 && !model.classify;
}

/** Options of {@link trainRun}. */
export interface TrainRunOptions {
  /** Continue the run in `outDir` from its checkpoint. */
  resume?: boolean;
  /** Override `train.epochs`. */
  epochs?: number;
  progress?: ProgressOptions;
  /** Called after each evaluation with its record. */
  onEval?: (r: EvalRecord) => void;
  engine?: EngineInfo | null;
  /** Progress messages (e.g. a run taken over); none when omitted. */
  log?: (message: string) => void;
}

/** A trained run: its config, model and history. */
export interface TrainedRun {
  dir: string;
  config: RunConfig;
  model: RunnableModel;
  result: TrainResult;
  data: RunData;
}

/**
 * Trains the run described by `config` into `outDir`. A fresh run refuses a directory that already
 * holds one (nothing is written over); `resume` continues it from its checkpoint, and the config
 * must then equal the saved one (apart from `train.epochs`).
 */
export async function trainRun(config: RunConfig, outDir: string, opts: TrainRunOptions = {}): Promise<TrainedRun> {
  // one writer at a time: a second run into the same directory refuses, naming the first's pid
  const unlock = lockDir(outDir, `run directory ${outDir}`);
  try {
    return await trainRunLocked(config, outDir, opts);
  } finally {
    unlock();
  }
}

/** Files that make a directory recognisably an untapped run (what `train` writes). */
const RUN_OUTPUTS: readonly string[] = [
  ...Object.values(RUN_FILES),
  'report.md',
  'report.json',
  'report.html',
  'samples.png',
  'samples.csv',
  'reconstructions.png',
  ...['curve', 'error', 'confusion', 'units'].flatMap((c) => [`${c}.png`, `${c}.svg`, `${c}.vl.json`]),
];

/**
 * Refuses an `--out` that exists but is not a run directory: a file, or a directory holding files
 * this tool did not write (the user's own `report.md` would otherwise be replaced by the report).
 */
export function checkRunDir(outDir: string): void {
  if (!fs.existsSync(outDir)) return;
  if (!fs.statSync(outDir).isDirectory()) throw new Error(`${outDir} exists and is not a directory; choose another --out`);
  const names = fs.readdirSync(outDir).filter((n) => !/^\..*\.tmp-\d+$/.test(n));
  if (names.length === 0 || names.includes(RUN_FILES.config) || names.includes(RUN_FILES.checkpoint)) return;
  const clash = names.filter((n) => RUN_OUTPUTS.includes(n));
  const shown = (clash.length ? clash : names).slice(0, 3).join(', ');
  throw new Error(`${outDir} holds files that are not an untapped run (${shown}${names.length > 3 ? ', …' : ''})${clash.length ? ', which the run would replace' : ''}; choose a new or empty directory for --out`);
}

async function trainRunLocked(config: RunConfig, outDir: string, opts: TrainRunOptions): Promise<TrainedRun> {
  const cfgFile = path.join(outDir, RUN_FILES.config);
  const ckptFile = path.join(outDir, RUN_FILES.checkpoint);
  let cfg: RunConfig = structuredClone(config);
  if (opts.epochs !== undefined) cfg.train.epochs = opts.epochs;
  checkRunDir(outDir);
  const hasCheckpoint = fs.existsSync(ckptFile);
  if (!opts.resume && hasCheckpoint) {
    throw new RefusedOutputError(`${outDir} already holds a run (its ${RUN_FILES.checkpoint}); use --resume to continue it, or choose another --out`);
  }
  if (opts.resume && !hasCheckpoint && !fs.existsSync(cfgFile)) throw new Error(`${outDir}: nothing to resume (no ${RUN_FILES.checkpoint}); start a new run without --resume`);
  // A run stopped before its first checkpoint left only config.json (and the start of its log): a
  // fresh train takes the directory over, and --resume resumes from nothing (same config).
  const fromNothing = !hasCheckpoint && fs.existsSync(cfgFile);
  if (fromNothing && opts.resume) opts.log?.(`${outDir}: the run stopped before its first checkpoint; it starts again from the beginning`);
  if (fromNothing && !opts.resume) opts.log?.(`${outDir}: taking over a run that stopped before its first checkpoint`);
  const family = modelFamily(cfg.model.type);
  family.checkObjective(cfg.model as never, cfg.objective);
  const data = loadRunData(cfg);
  const D = inputDimOf(data);
  if (cfg.model.inputDim !== undefined && cfg.model.inputDim !== D) {
    throw new Error(`model.inputDim is ${cfg.model.inputDim} but the data have ${D} features per example`);
  }
  const use = family.labelUse(cfg.model as never);
  // filled in from the data, then re-parsed so that the key order is the schema's (resume compares JSON)
  // classes from the labels where there are labelled rows; without them (CaGeM-0) model.classes must say
  const classes = (cfg.model as { classes?: number }).classes ?? (data.labelled ? data.classes : 0);
  const filled = { ...cfg, model: { ...cfg.model, inputDim: D, ...(use === 'semi-supervised' && classes > 0 ? { classes } : {}) } };
  cfg = validateConfig(RunConfigSchema, filled, 'run config');
  if (opts.resume) {
    const saved = readConfigFile(RunConfigSchema, cfgFile);
    const a = JSON.stringify({ ...saved, train: { ...saved.train, epochs: 0 } });
    const b = JSON.stringify({ ...cfg, train: { ...cfg.train, epochs: 0 } });
    if (a !== b) throw new Error(`${outDir}: the given config differs from the run's ${RUN_FILES.config} at ${configDiff(JSON.parse(a), JSON.parse(b)).join(', ')} (only train.epochs may change on --resume)`);
    if (opts.epochs === undefined) cfg = { ...cfg, train: { ...cfg.train, epochs: Math.max(cfg.train.epochs, saved.train.epochs) } };
    // fewer epochs than the checkpoint has done would leave nothing to train (and config.json would under-state the run)
    const done = hasCheckpoint ? (readUtp(ckptFile).meta.trainer as { epoch?: number } | undefined)?.epoch : undefined;
    if (done !== undefined && opts.epochs !== undefined && opts.epochs < done) {
      throw new Error(`${outDir}: the run has already trained ${done} epochs; --epochs ${opts.epochs} is fewer (give more than ${done} to train on, or leave --epochs out)`);
    }
  }
  const rng = new Rng(cfg.train.seed);
  const scaling = cfg.sources?.standardize ? trainingScaling(cfg, data) : undefined;
  if (cfg.sources && !scaling) warnOfScales(cfg, data, opts.log);
  const inner = family.create(cfg.model as never, { inputDim: D, classes: data.labelled ? data.classes : 0 }, rng.fork('init'));
  const model = scaling ? withInputScaling(inner, scaling) : inner;
  makeDir(outDir);
  if (fromNothing) fs.rmSync(path.join(outDir, RUN_FILES.log), { force: true }); // the stopped run's log, of no checkpoint
  writeFileAtomic(cfgFile, JSON.stringify(cfg, null, 2) + '\n');
  const obj = cfg.objective;
  const bs = cfg.train.batchSize;
  // the first source sets the epoch: unlabelled rows where the model has them, else the labelled rows
  const sources: DataSource[] = [];
  if (data.unlabelled) sources.push(rowsSource('unlabelled', data.unlabelled, bs, data.dynamic, false));
  if (data.labelled) sources.push(rowsSource('labelled', data.labelled, bs, data.dynamic, true));
  const evalData = data.test ?? data.labelled ?? data.unlabelled!;
  const evalName = data.test ? 'test' : 'train';
  const trainer = new Trainer({
    params: model.params,
    sources,
    objective: (batch, ctx) => {
      const beta = warmupBeta(ctx.epoch, obj.warmupEpochs, obj.beta);
      return model.loss(
        { ...(batch.labelled ? { labelled: { x: batch.labelled.x, y: batch.labelled.y } } : {}), ...(batch.unlabelled ? { unlabelled: { x: batch.unlabelled.x } } : {}) },
        { rng: ctx.rng, beta, objective: obj },
      );
    },
    epochs: cfg.train.epochs,
    lr: cfg.train.lr,
    lrSchedule: cfg.train.lrSchedule,
    adam: { beta1: cfg.train.beta1, beta2: cfg.train.beta2, clipNorm: cfg.train.clipNorm },
    seed: cfg.train.seed,
    evalEvery: cfg.train.evalEvery,
    evaluate: (epoch) => {
      const k = cfg.train.evalSamples;
      // noise keyed by epoch, so a resumed run reports the numbers an uninterrupted one would
      const out: Record<string, number> = { [k > 1 ? `${evalName}_iwae${k}` : `${evalName}_elbo`]: datasetBound(model, evalData, k, rng.fork(`eval-${epoch}`)) };
      if (scoresClasses(model, data)) out.test_error = datasetError(model, data.test!).error;
      return out;
    },
    // the per-unit KL of every stochastic layer (appendix B fig. 4: active units over training), where the model has it
    detail: (epoch) => {
      const u = runActiveUnits(model, evalData, rng.fork(`units-${epoch}`), UNIT_KL_ROWS);
      return u ? { unitKl: u.layers.map((l) => Array.from(l.kl, (v) => +v.toPrecision(4))) } : {};
    },
    checkpointFile: ckptFile,
    // the sources' fingerprints and columns: evaluate/predict check that the data are still the run's
    checkpointMeta: { config: cfg, ...(data.files?.length ? { sources: fingerprintFiles(data.files), columns: data.columns } : {}), ...(data.classNames ? { classNames: data.classNames } : {}), ...(scaling ? { scaling } : {}) },
    logFile: path.join(outDir, RUN_FILES.log),
    logStart: { engine: opts.engine ?? engineInfo(), config: cfg, params: model.params.count(), data: data.describe },
    progress: opts.progress,
    onEval: opts.onEval,
    ...(cfg.train.budgetMinutes ? { budgetSeconds: cfg.train.budgetMinutes * 60 } : {}),
  });
  try {
    if (opts.resume && hasCheckpoint) trainer.restore(ckptFile);
    else if (cfg.train.initFrom) initWeights(model, cfg, cfg.train.initFrom);
    const result = await trainer.run();
    return { dir: outDir, config: cfg, model, result, data };
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    trainer.dispose();
  }
}

/**
 * Loads the weights of the run in `dir` (`train.initFrom`) into a fresh model: a fine-tuning stage.
 * The source run must be of the same model type, and its parameters must have the same names and
 * shapes; its optimiser state and best-weights copy are not taken.
 * @throws Error naming the directory and the first mismatch.
 */
function initWeights(model: RunnableModel, cfg: RunConfig, dir: string): void {
  const file = path.join(dir, RUN_FILES.checkpoint);
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new Error(`train.initFrom: ${dir} is a file; give the run directory that holds it`);
  if (!fs.existsSync(file)) throw new Error(`train.initFrom: ${dir} holds no ${RUN_FILES.checkpoint} (give a run directory that train wrote)`);
  const c = readUtp(file);
  const type = ((c.meta.user as { config?: RunConfig } | undefined)?.config?.model as { type?: string } | undefined)?.type;
  if (type !== cfg.model.type) throw new Error(`train.initFrom: ${dir} is a run of model type '${type ?? '?'}', this config's is '${cfg.model.type}'`);
  const weights = new Map([...c.tensors].filter(([k]) => !k.startsWith('adam.') && !k.startsWith('best:')));
  try {
    model.params.load(weights, file);
  } catch (e) {
    throw new Error(`train.initFrom: the weights of ${dir} do not fit this model section: ${(e as Error).message.replace(`${file}: `, '')}`);
  }
}

/**
 * The input scaling of `sources.standardize`: each channel's mean and sd over the training rows.
 * @throws Error for a Bernoulli likelihood (its inputs must stay in [0, 1]).
 */
function trainingScaling(cfg: RunConfig, data: RunData): InputScaling {
  if ((cfg.model as { likelihood?: string }).likelihood === 'bernoulli') throw new Error('sources.standardize: a Bernoulli likelihood needs its inputs in [0, 1]; standardise with "likelihood": "gaussian"');
  return inputScaling(trainingParts(data), inputDimOf(data), data.columns);
}

/** The inputs a run trains on (labelled and unlabelled rows, not test rows), one block per source. */
export function trainingParts(data: RunData): Float32Array[] {
  return [data.labelled?.x, data.unlabelled?.x].filter((p): p is Float32Array => p !== undefined);
}

/**
 * Says so when a table's channels differ in scale by more than a factor of 100 (amperes beside
 * volts, W/m² beside °C) and the run does not standardise them: a Gaussian p(x | ·) then fits the
 * largest channel and little else.
 */
function warnOfScales(cfg: RunConfig, data: RunData, log?: (s: string) => void): void {
  if (!log || (cfg.model as { likelihood?: string }).likelihood === 'bernoulli') return;
  const parts = trainingParts(data);
  if (!parts.length) return;
  const s = inputScaling(parts, inputDimOf(data), data.columns);
  const scale = s.sd.map((v, d) => Math.max(v, Math.abs(s.mean[d])));
  const hi = scale.indexOf(Math.max(...scale));
  const lo = scale.indexOf(Math.min(...scale));
  if (scale[hi] > 100 * scale[lo]) {
    log(`warning: the input channels differ in scale by ${(scale[hi] / scale[lo]).toPrecision(2)}× ('${data.columns[hi] ?? hi}' against '${data.columns[lo] ?? lo}'); the model may fit the largest and little else: consider "standardize": true in sources`);
  }
}

/** The data shape a saved config was trained on: its input width and class count. */
function shapeOfConfig(m: RunConfig['model']): { inputDim: number; classes: number } {
  const c = m as { inputDim?: number; classes?: number; conditional?: number };
  return { inputDim: c.inputDim ?? 0, classes: c.classes ?? c.conditional ?? 0 };
}

/**
 * Loads a trained run directory: config and model weights (optimiser state is ignored). With
 * `checkSources`, the run's table files must be unchanged ({@link checkRunSources}).
 */
export function loadRun(dir: string, opts: { checkSources?: boolean } = {}): { config: RunConfig; model: RunnableModel; meta: Record<string, unknown> } {
  if (!fs.existsSync(dir)) throw new Error(`${dir}: no such run directory`);
  if (!fs.statSync(dir).isDirectory()) throw new Error(`${dir} is a file, not a run directory (give the directory that train or fit wrote)`);
  const cfgFile = path.join(dir, RUN_FILES.config);
  const ckptFile = path.join(dir, RUN_FILES.checkpoint);
  if (!fs.existsSync(cfgFile)) throw new Error(`${dir}: not a run directory (no ${RUN_FILES.config})`);
  if (!fs.existsSync(ckptFile)) throw new Error(`${dir}: the run has no ${RUN_FILES.checkpoint} yet (it has not finished an evaluation)`);
  const config = readConfigFile(RunConfigSchema, cfgFile);
  const c = readUtp(ckptFile);
  const saved = (c.meta.user as { config?: unknown } | undefined)?.config;
  // Left out of the comparison: inputDim (a wrong one is caught below by the parameter shapes) and
  // train.epochs (a resume with more epochs rewrites config.json before its first checkpoint).
  const norm = (c: RunConfig) => JSON.stringify({ ...c, model: { ...c.model, inputDim: undefined }, train: { ...c.train, epochs: 0 } });
  if (saved !== undefined && norm(validateConfig(RunConfigSchema, saved, ckptFile)) !== norm(config)) {
    throw new FormatError(ckptFile, `was written by a different config than ${cfgFile}`);
  }
  if (config.model.inputDim === undefined) throw new FormatError(cfgFile, 'model.inputDim is missing (it is written by `untapped train`)');
  // commands that re-read the sources (evaluate, sample, generate) refuse changed data before any model is built
  if (opts.checkSources) checkRunSources(dir, c.meta);
  let model = modelFamily(config.model.type).create(config.model as never, shapeOfConfig(config.model), new Rng(0));
  if (config.sources?.standardize) {
    const scaling = (c.meta.user as { scaling?: InputScaling } | undefined)?.scaling;
    try {
      if (!scaling) throw new Error('the input scaling of sources.standardize is missing');
      model = withInputScaling(model, scaling);
    } catch (e) {
      model.dispose();
      throw new FormatError(ckptFile, (e as Error).message);
    }
  }
  const weights = new Map([...c.tensors].filter(([k]) => !k.startsWith('adam.')));
  try {
    model.params.load(weights, ckptFile);
  } catch (e) {
    model.dispose();
    throw new FormatError(ckptFile, `does not match the model in ${RUN_FILES.config}: ${(e as Error).message.replace(`${ckptFile}: `, '')}`);
  }
  return { config, model, meta: c.meta };
}

/** Whether `dir` holds a run written by {@link trainRun} (its `config.json`). */
export function isRunDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, RUN_FILES.config)) && fs.existsSync(path.join(dir, RUN_FILES.checkpoint));
}

/** Class probabilities of a run's q(y | x) for the rows of a table. */
export interface RunPrediction {
  ids: string[];
  /** The name of the table's id column (`id`, `timestamp`, …; `id` when it has none). */
  idColumn: string;
  /** Probabilities, n × K row-major. */
  probs: Float32Array;
  classes: number;
  /** Predicted class (argmax) per row. */
  predicted: Int32Array;
  /** The run's class names (class k is `classNames[k]`), when it was trained on named classes. */
  classNames?: string[];
  /** The rows' labels when the table has the run's label column (−1 where the cell is empty), how many rows have one, and the error on those. */
  truth?: { y: Int32Array; scored: number; error: number };
}

/**
 * Predicts the class probabilities q(y | x) [n, K] of a trained run for the rows of `file` (the
 * run's input columns, in the same order; the run's label column, when the file has it, is taken as
 * the truth and scored).
 * @throws Error when the model has no q(y | x) or the file's columns differ from the run's.
 */
/**
 * Checks the timestamps of a new table the way the model's training table had them: when the
 * training table's first column is `timestamp`, the new table needs one too; a timestamp column must
 * be readable and strictly increasing (`checkTimestamps`).
 * @returns the times in ms, or undefined for a table without timestamps.
 * @throws DataFileError naming the file, and the row of a missing, unreadable, repeated or
 *   out-of-order time.
 */
export function checkTableTimes(t: Table, trainTable: string | undefined, labelColumn?: string): Float64Array | undefined {
  const col = t.idColumn ?? '';
  if (col.toLowerCase() === 'timestamp') {
    try {
      return checkTimestamps(t.ids, (i) => rowLocation(t, i), col);
    } catch (e) {
      throw new DataFileError((e as Error).message);
    }
  }
  if (trainTable && readTable(trainTable, labelColumn ? { missing: [labelColumn], text: [labelColumn] } : {}).idColumn?.toLowerCase() === 'timestamp') {
    throw new DataFileError(`${t.file}: no timestamp column (the first column must be 'timestamp', as in the training table ${trainTable})`);
  }
  return undefined;
}

export function predictRun(run: { config: RunConfig; model: RunnableModel; meta?: Record<string, unknown> }, file: string): RunPrediction {
  const { config, model } = run;
  if (!model.classify) throw new Error(`model type ${config.model.type} has no q(y | x) to predict with; predict needs m2, adgm, sdgm, cagem, or a model written by untapped fit`);
  const labelColumn = config.sources?.labelled?.labelColumn;
  const t = readTable(file, labelColumn !== undefined ? { missing: [labelColumn], text: [labelColumn] } : {});
  const names = run.meta ? runClassNames(run.meta) : undefined;
  const hasLabel = labelColumn !== undefined && t.columns.includes(labelColumn);
  const bernoulli = (config.model as { likelihood?: string }).likelihood === 'bernoulli';
  const w = config.sources?.window ?? 1;
  // windows need the rows in time order, as the training table had them
  if (w > 1) checkTableTimes(t, config.sources?.labelled?.x ?? config.sources?.unlabelled?.x, labelColumn);
  const s = loadSources({ unlabelled: { x: file, ...(hasLabel ? { labelColumn } : {}) }, ...(w > 1 ? { window: w } : {}) }, process.cwd(), 0, bernoulli ? { unitInterval: 'Bernoulli' } : {});
  // with windows, each output row is the window ending at a row of the table
  const rowOf = w > 1 ? windowEnds(timeSegments(t), w) : Int32Array.from({ length: t.n }, (_, i) => i);
  const D = model.inputDim;
  if (s.columns.length !== D) throw new DataFileError(`${file}: ${s.columns.length} input columns, but the model was trained on ${D}${labelColumn ? ` (label column '${labelColumn}' ${hasLabel ? 'removed' : 'not present'})` : ''}`);
  const trained = run.meta ? runColumns(run.meta) : undefined;
  if (trained && trained.length === D) {
    const j = s.columns.findIndex((c, k) => c !== trained[k] && !/^c\d+$/.test(c));
    if (j >= 0) throw new DataFileError(`${file}: input column ${j + 1} is '${s.columns[j]}' but the run was trained with '${trained[j]}' there; the columns must be the training table's, in the same order`);
  }
  const x = s.unlabelled!.x;
  const n = rowOf.length;
  const K = model.classes;
  const probs = new Float32Array(n * K);
  for (let s0 = 0; s0 < n; s0 += 1000) {
    const b = Math.min(1000, n - s0);
    const p = tf.tidy(() => model.classify!(tf.tensor2d(x.subarray(s0 * D, (s0 + b) * D), [b, D])));
    probs.set(p.dataSync() as Float32Array, s0 * K);
    p.dispose();
  }
  const predicted = argmaxRows(probs, K);
  let truth: RunPrediction['truth'];
  if (hasLabel) {
    const j = t.columns.indexOf(labelColumn!);
    // rows with an empty label cell are predicted, not scored
    const y = Int32Array.from(rowOf, (i) => {
      if (names) {
        // class names: the run's, in its order
        const c = t.text![labelColumn!][i];
        if (isMissingLabel(c)) return -1;
        const k = names.indexOf(c);
        if (k < 0) throw new DataFileError(`${rowLocation(t, i)}, column '${labelColumn}' is '${c}', not a class of this model (${names.join(', ')})`);
        return k;
      }
      const v = t.data[i * t.width + j];
      if (Number.isNaN(v)) {
        const c = t.text?.[labelColumn!]?.[i] ?? '';
        if (!isMissingLabel(c)) throw new DataFileError(`${rowLocation(t, i)}, column '${labelColumn}' is '${c}', not a class of this model (0…${K - 1})`);
        return -1;
      }
      if (!Number.isInteger(v) || v < 0 || v >= K) throw new DataFileError(`${rowLocation(t, i)}, column '${labelColumn}' is ${v}, not a class of this model (0…${K - 1})`);
      return v;
    });
    const scored = labelledOnly(y, predicted);
    if (scored.trueY.length > 0) truth = { y, scored: scored.trueY.length, error: errorRate(scored.trueY, scored.predY) };
  }
  return { ids: Array.from(rowOf, (i) => t.ids[i]), idColumn: t.idColumn ?? 'id', probs, classes: K, predicted, ...(names ? { classNames: names } : {}), ...(truth ? { truth } : {}) };
}

/** The key paths (a.b.c) where two parsed configs differ. */
export function configDiff(a: unknown, b: unknown, at = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) || Array.isArray(b)) return [at || '(top level)'];
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return [...new Set([...Object.keys(ra), ...Object.keys(rb)])].flatMap((k) => configDiff(ra[k], rb[k], at ? `${at}.${k}` : k));
}

/**
 * Checks that the table files a run was trained on are unchanged (their SHA-256 as stored in the
 * checkpoint): evaluate and sample re-read them to rebuild the test split.
 * @throws Error naming the changed file.
 */
export function checkRunSources(dir: string, meta: Record<string, unknown>): void {
  const saved = (meta.user as { sources?: Record<string, string> } | undefined)?.sources;
  if (!saved) return;
  const now = fingerprintFiles(Object.keys(saved).filter((f) => fs.existsSync(f)));
  for (const [f, h] of Object.entries(saved)) {
    if (!(f in now)) throw new Error(`${dir} was trained on ${f}, which is gone; its test rows cannot be rebuilt (restore the file)`);
    if (now[f] !== h) throw new Error(`${f} has changed since ${dir} was trained (SHA-256 differs): its test split would not be the run's; restore the file or train again`);
  }
}

/** The class names a run was trained on (a label column of names), as stored in its checkpoint. */
export function runClassNames(meta: Record<string, unknown>): string[] | undefined {
  return (meta.user as { classNames?: string[] } | undefined)?.classNames;
}

/** The input columns a run was trained on (tables), as stored in its checkpoint. */
export function runColumns(meta: Record<string, unknown>): string[] | undefined {
  return (meta.user as { columns?: string[] } | undefined)?.columns;
}
