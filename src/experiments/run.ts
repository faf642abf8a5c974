/**
 * A training run from a config: data → model → objective → trainer, into a run directory.
 *
 * Run directory layout (documented in docs/format.md):
 * - `config.json`   the validated run config, defaults filled in (what the run was trained with);
 * - `checkpoint.utp` weights + optimiser state + history, rewritten atomically at every evaluation;
 * - `log.jsonl`     one JSON record per start / evaluation / resume / end / divergence;
 * - `report.md`, `report.json`, `samples.png`, `reconstructions.png` after training.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { engineInfo, type EngineInfo } from '../engine/backend.js';
import { RunConfigSchema, type RunConfig } from '../config/run.js';
import { readConfigFile, validateConfig } from '../config/validate.js';
import { loadMnist } from '../data/mnist.js';
import { binarizeInto, binarizeStatic } from '../data/binarize.js';
import { gather } from '../data/batches.js';
import { checkFinite, type Dataset } from '../data/dataset.js';
import { createModel, labelsFor, type LatentModel } from '../models/registry.js';
import type { ImportanceModel } from '../eval/loglik.js';
import { bound, logWeights } from '../objectives/bounds.js';
import { warmupBeta } from '../objectives/schedules.js';
import { Trainer, type DataSource, type EvalRecord, type TrainResult } from '../train/trainer.js';
import { readUtp, writeFileAtomic, FormatError, makeDir } from '../io/format.js';
import { lockDir } from '../io/lock.js';
import type { ProgressOptions } from '../train/progress.js';

/** Seed of the one static binarisation of test sets, shared by every run so that numbers compare. */
export const TEST_BINARIZE_SEED = 20260101;

/** File names inside a run directory. */
export const RUN_FILES = { config: 'config.json', checkpoint: 'checkpoint.utp', log: 'log.jsonl' } as const;

/** The data a run trains and evaluates on. */
export interface RunData {
  train: Dataset;
  test: Dataset;
  /** Whether training batches are re-binarised every time they are drawn. */
  dynamic: boolean;
}

/** Loads the data of a config: training set (binarised as configured) and the evaluation test set. */
export function loadRunData(cfg: RunConfig, opts: { testLimit?: number } = {}): RunData {
  const dir = cfg.data.dir ? { dir: cfg.data.dir } : {};
  const testLimit = opts.testLimit ?? cfg.data.testLimit;
  let train = loadMnist('train', { ...dir, ...(cfg.data.trainLimit ? { limit: cfg.data.trainLimit } : {}) });
  let test = loadMnist('test', { ...dir, ...(testLimit ? { limit: testLimit } : {}) });
  checkFinite(train);
  checkFinite(test);
  if (cfg.data.binarize === 'static') train = binarizeStatic(train, new Rng(cfg.train.seed).fork('static-binarize'));
  if (cfg.data.binarize !== 'none') test = binarizeStatic(test, new Rng(TEST_BINARIZE_SEED));
  return { train, test, dynamic: cfg.data.binarize === 'dynamic' };
}

/**
 * A data source of inputs x (field `x`), optionally re-binarised per batch; with `withLabels`, also
 * the rows' class indices (field `y`, int32) for conditional models.
 */
export function unlabelledSource(ds: Dataset, batchSize: number, dynamic: boolean, withLabels = false): DataSource {
  const buf = new Float32Array(batchSize * ds.dim);
  const bin = new Float32Array(batchSize * ds.dim);
  return {
    name: 'unlabelled',
    size: ds.n,
    batchSize,
    batch(rows, rng) {
      const out = rows.length === batchSize ? buf : new Float32Array(rows.length * ds.dim);
      gather(ds.x, ds.dim, rows, out);
      const x = dynamic ? binarizeInto(rows.length === batchSize ? bin : new Float32Array(out.length), out, rng) : out;
      const out2: Record<string, tf.Tensor> = { x: tf.tensor2d(x, [rows.length, ds.dim]) };
      if (withLabels) out2.y = tf.tensor1d(Int32Array.from(rows, (r) => ds.y[r]), 'int32');
      return out2;
    },
  };
}

/** The test bound (ELBO, or IWAE(k) for k > 1) averaged over a dataset, in nats. */
export function datasetBound(model: LatentModel, ds: Dataset, k: number, rng: Rng, batchSize = 500): number {
  let sum = 0;
  for (let s = 0; s < ds.n; s += batchSize) {
    const b = Math.min(batchSize, ds.n - s);
    const v = tf.tidy(() => {
      const x = tf.tensor2d(ds.x.subarray(s * ds.dim, (s + b) * ds.dim), [b, ds.dim]);
      return tf.sum(bound(model.terms(x, k, rng, labelsFor(model, ds.y.subarray(s, s + b))), { kind: k > 1 ? 'iwae' : 'elbo' }));
    });
    sum += v.dataSync()[0];
    v.dispose();
  }
  return sum / ds.n;
}

/**
 * Makes the importance-weight function of a model (β = 1), for {@link iwLogLikelihood}; a
 * conditional model needs the labels passed as the estimator's `labels` option.
 */
export function importanceModel(model: LatentModel): ImportanceModel {
  return {
    logWeights: (x, k, rng, y) => {
      if ((model.numClasses ?? 0) > 0 && !y) throw new Error('importanceModel: a conditional model needs the labels (the labels option of iwLogLikelihood)');
      return tf.tidy(() => logWeights(model.terms(x, k, rng, y)));
    },
  };
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
  model: LatentModel;
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
const RUN_OUTPUTS: readonly string[] = [...Object.values(RUN_FILES), 'report.md', 'report.json', 'samples.png', 'reconstructions.png'];

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
    throw new Error(`${outDir} already holds a run (its ${RUN_FILES.checkpoint}); use --resume to continue it, or choose another --out`);
  }
  if (opts.resume && !hasCheckpoint && !fs.existsSync(cfgFile)) throw new Error(`${outDir}: nothing to resume (no ${RUN_FILES.checkpoint}); start a new run without --resume`);
  // A run stopped before its first checkpoint left only config.json (and the start of its log): a
  // fresh train takes the directory over, and --resume resumes from nothing (same config).
  const fromNothing = !hasCheckpoint && fs.existsSync(cfgFile);
  if (fromNothing && opts.resume) opts.log?.(`${outDir}: the run stopped before its first checkpoint; it starts again from the beginning`);
  if (fromNothing && !opts.resume) opts.log?.(`${outDir}: taking over a run that stopped before its first checkpoint`);
  const data = loadRunData(cfg);
  if (cfg.model.inputDim !== undefined && cfg.model.inputDim !== data.train.dim) {
    throw new Error(`model.inputDim is ${cfg.model.inputDim} but the data have ${data.train.dim} features per example`);
  }
  cfg = { ...cfg, model: { ...cfg.model, inputDim: data.train.dim } };
  if (opts.resume) {
    const saved = readConfigFile(RunConfigSchema, cfgFile);
    const a = JSON.stringify({ ...saved, train: { ...saved.train, epochs: 0 } });
    const b = JSON.stringify({ ...cfg, train: { ...cfg.train, epochs: 0 } });
    if (a !== b) throw new Error(`${outDir}: the given config differs from the run's ${RUN_FILES.config} (only train.epochs may change on --resume)`);
    if (opts.epochs === undefined) cfg = { ...cfg, train: { ...cfg.train, epochs: Math.max(cfg.train.epochs, saved.train.epochs) } };
  }
  const rng = new Rng(cfg.train.seed);
  const model = createModel(cfg.model, data.train.dim, rng.fork('init'));
  const conditional = (model.numClasses ?? 0) > 0;
  if (conditional && (model.numClasses ?? 0) < data.train.numClasses) {
    model.dispose();
    throw new Error(`model.conditional is ${model.numClasses} but the data have ${data.train.numClasses} classes`);
  }
  makeDir(outDir);
  if (fromNothing) fs.rmSync(path.join(outDir, RUN_FILES.log), { force: true }); // the stopped run's log, of no checkpoint
  writeFileAtomic(cfgFile, JSON.stringify(cfg, null, 2) + '\n');
  const obj = cfg.objective;
  const trainer = new Trainer({
    params: model.params,
    sources: [unlabelledSource(data.train, cfg.train.batchSize, data.dynamic, conditional)],
    objective: (batch, ctx) =>
      tf.tidy(() => {
        const beta = warmupBeta(ctx.epoch, obj.warmupEpochs, obj.beta);
        const b = bound(model.terms(batch.unlabelled.x, obj.samples, ctx.rng, conditional ? batch.unlabelled.y : undefined), { kind: obj.bound, beta, analyticKl: obj.analyticKl });
        return tf.neg(tf.mean(b)) as tf.Scalar;
      }),
    epochs: cfg.train.epochs,
    lr: cfg.train.lr,
    lrSchedule: cfg.train.lrSchedule,
    adam: { beta1: cfg.train.beta1, beta2: cfg.train.beta2, clipNorm: cfg.train.clipNorm },
    seed: cfg.train.seed,
    evalEvery: cfg.train.evalEvery,
    evaluate: (epoch) => {
      const k = cfg.train.evalSamples;
      // noise keyed by epoch, so a resumed run reports the numbers an uninterrupted one would
      return { [k > 1 ? `test_iwae${k}` : 'test_elbo']: datasetBound(model, data.test, k, rng.fork(`eval-${epoch}`)) };
    },
    checkpointFile: ckptFile,
    checkpointMeta: { config: cfg },
    logFile: path.join(outDir, RUN_FILES.log),
    logStart: { engine: opts.engine ?? engineInfo(), config: cfg, params: model.params.count() },
    progress: opts.progress,
    onEval: opts.onEval,
    ...(cfg.train.budgetMinutes ? { budgetSeconds: cfg.train.budgetMinutes * 60 } : {}),
  });
  try {
    if (opts.resume && hasCheckpoint) trainer.restore(ckptFile);
    const result = await trainer.run();
    return { dir: outDir, config: cfg, model, result, data };
  } finally {
    trainer.dispose();
  }
}

/** Loads a trained run directory: config and model weights (optimiser state is ignored). */
export function loadRun(dir: string): { config: RunConfig; model: LatentModel; meta: Record<string, unknown> } {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir}: no such run directory`);
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
  const model = createModel(config.model, config.model.inputDim, new Rng(0));
  const weights = new Map([...c.tensors].filter(([k]) => !k.startsWith('adam.')));
  try {
    model.params.load(weights, ckptFile);
  } catch (e) {
    model.dispose();
    throw new FormatError(ckptFile, `does not match the model in ${RUN_FILES.config}: ${(e as Error).message.replace(`${ckptFile}: `, '')}`);
  }
  return { config, model, meta: c.meta };
}
