/**
 * `untapped train --config run.json` for the semi²-supervised model: a run config whose model type is
 * `untapped` names the three sources — labelled pairs, unlabelled x, unfeatured y — each from files
 * (CSV / JSON / NPY, layout in `io/table.ts`) or from MNIST splits, and writes the same model
 * directory as `untapped fit` (so `predict` and `generate` work on it).
 *
 * ```json
 * {
 *   "model": { "type": "untapped", "labels": "discrete", "classes": 10, "latent": 2, "likelihood": "bernoulli" },
 *   "sources": {
 *     "labelled":   { "mnist": { "digits": [0, 1, 2, 3, 4], "perClass": 100 } },
 *     "unlabelled": { "mnist": { "limit": 60000 } },
 *     "unfeatured": { "oneHots": 1000 }
 *   },
 *   "weights": { "alphaF": 1, "alphaFd": 10, "alphaR": 1, "alphaRd": 0.1, "yLoss": "ce", "unlabelledQy": 1 },
 *   "train": { "epochs": 10, "batchSize": 1000, "lr": 0.01, "seed": 0 }
 * }
 * ```
 * File sources: `"labelled": { "x": "x.csv", "y": "y.csv" }`, `"unlabelled": { "x": "u.npy" }`,
 * `"unfeatured": { "y": "f.csv" }`; unfeatured also `{ "corners": N }` (compositions near the
 * simplex corners), `{ "oneHots": N }` (N one-hot labels cycling through the classes),
 * `{ "resample": N }` (N labels resampled from the labelled rows that train), `{ "range": N }` (real
 * targets: N values uniform over the labelled range widened by 10%) or `"none"`. With file
 * sources and no `unfeatured`, `fit`'s default applies (`{ "resample": 500 }`). Relative paths are
 * taken from the config file's folder. Weights left out take the library's defaults
 * (`defaultWeights`: (α_f, α_f^d, α_r, α_r^d) = (1, D, 1, 1), `unlabelledQy` 0, `qyPrior` 1).
 *
 * Validation (as `fit --validation-…`): `"validation": { "x": "vx.csv", "y": "vy.csv" }` (file-labelled
 * data), or `{ "fraction": 0.2 }` held out of the labelled rows, with `"groupSize": 3` or
 * `"groups": "g.csv"` to keep replicate rows together; `train.patience`, `train.minEpochs`,
 * `train.intervalLevel` and `train.intervalMethod` as `--patience`, `--min-epochs`, `--level` and
 * `--interval-method`.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { Rng } from '../engine/rng.js';
import { loadMnist } from '../node/mnist.js';
import { labelledSubset } from '../data/subset.js';
import { subsetRows } from '../data/dataset.js';
import { parsePreprocessSpec } from '../data/preprocess.js';
import { boxIsOrdered, classesFitLabels, Semi2ConfigShape, type Semi2Weights } from '../models/semi2.js';
import { readConfigFile } from '../node/data.js';
import { fitData, oneHotRows, readFitInputs, type FitInfo, type FitInputs, type FittedModel } from './fit.js';
import type { Semi2Data } from './estimator.js';

/** The `unfeatured` source of a config as `fit`'s --unfeatured argument ('none' for one-hots, added afterwards). */
function unfeaturedArg(u: { y: string } | { corners: number } | { oneHots: number } | { resample: number } | { range: number } | 'none', rel: (f: string) => string): string {
  if (u === 'none' || 'oneHots' in u) return 'none';
  if ('y' in u) return rel(u.y);
  if ('corners' in u) return `corners:${u.corners}`;
  if ('range' in u) return `range:${u.range}`;
  return `resample:${u.resample}`;
}

const Digits = z.array(z.number().int().min(0).max(9)).min(2);

/** Schema of an `untapped`-model run config (see the module doc). */
export const Semi2RunConfigSchema = z
  .object({
    model: Semi2ConfigShape.omit({ inputDim: true })
      /** Number of classes or components; default: the labels' (a different number is an error). */
      .extend({ classes: z.number().int().min(1).optional() })
      .refine(boxIsOrdered, { message: 'box must be [lo, hi] with lo < hi', path: ['box'] })
      .refine(classesFitLabels, { message: 'simplex and discrete labels need at least 2 components or classes', path: ['classes'] }),
    sources: z
      .object({
        labelled: z.union([
          z.object({ x: z.string().min(1), y: z.string().min(1) }).strict(),
          z.object({ mnist: z.object({ digits: Digits.optional(), perClass: z.number().int().min(1).default(100), dir: z.string().optional() }).strict() }).strict(),
        ]),
        unlabelled: z
          .union([z.object({ x: z.string().min(1) }).strict(), z.object({ mnist: z.object({ limit: z.number().int().min(1).optional(), dir: z.string().optional() }).strict() }).strict()])
          .optional(),
        unfeatured: z
          .union([z.object({ y: z.string().min(1) }).strict(), z.object({ corners: z.number().int().min(1) }).strict(), z.object({ oneHots: z.number().int().min(1) }).strict(), z.object({ resample: z.number().int().min(1) }).strict(), z.object({ range: z.number().int().min(1) }).strict(), z.literal('none')])
          .optional(),
        validation: z
          .union([
            z.object({ x: z.string().min(1), y: z.string().min(1) }).strict(),
            z.object({ fraction: z.number().gt(0).lt(1), groupSize: z.number().int().min(1).optional(), groups: z.string().min(1).optional() }).strict(),
          ])
          .optional(),
      })
      .strict(),
    weights: z
      .object({
        alphaF: z.number().min(0).default(1),
        /** Default: the input width D (`labelWeight`, `objectives/weights.ts`). */
        alphaFd: z.number().min(0).optional(),
        /** Default 1 (`defaultWeights`, `objectives/weights.ts`). */
        alphaR: z.number().min(0).optional(),
        alphaRd: z.number().min(0).default(1),
        yLoss: z.enum(['kl', 'l2', 'ce']).default('kl'),
        reverseLabelled: z.boolean().default(false),
        /** Factor on the unlabelled bound's gradient into q(y | x); default 0 (cut), 1 is the papers' objective. */
        unlabelledQy: z.number().min(0).max(1).optional(),
        /** Strength c of the Gaussian prior N(0, 1/(c·fan-in)) on q(y | x)'s first layer; default 1, 0 switches it off (`fit --qy-prior`). */
        qyPrior: z.number().min(0).optional(),
      })
      .strict()
      .default({ alphaF: 1, alphaRd: 1, yLoss: 'kl', reverseLabelled: false }),
    train: z
      .object({
        epochs: z.number().int().min(1).default(100),
        batchSize: z.number().int().min(1).default(100),
        lr: z.number().gt(0).default(3e-3),
        seed: z.number().int().default(0),
        budgetMinutes: z.number().gt(0).optional(),
        alphaRWarmup: z.number().min(0).optional(),
        /** Subtract the mean input before training (kept with the model), as `fit --center`. */
        center: z.boolean().optional(),
        /** Bounds of real targets, as `fit --bounds` (`data/bounded.ts`; e.g. '0:100'). */
        bounds: z.string().optional(),
        /** Preprocessing chain, as `fit --preprocess` (`data/preprocess.ts`; e.g. 'snv,sg:11:2:1,center'). */
        preprocess: z
          .string()
          .optional()
          .superRefine((v, ctx) => {
            if (v === undefined) return;
            try {
              parsePreprocessSpec(v);
            } catch (e) {
              ctx.addIssue({ code: 'custom', message: (e as Error).message });
            }
          }),
        patience: z.number().int().min(0).optional(),
        minEpochs: z.number().int().min(0).optional(),
        intervalLevel: z.number().gt(0).lt(1).optional(),
        intervalMethod: z.enum(['absolute', 'scaled']).optional(),
      })
      .strict()
      .default({ epochs: 100, batchSize: 100, lr: 3e-3, seed: 0 }),
  })
  .strict();

/** An `untapped` run config after defaults. */
export type Semi2RunConfig = z.output<typeof Semi2RunConfigSchema>;

/** Whether a parsed JSON config is for the semi²-supervised model (model type `untapped`). */
export function isSemi2Config(json: unknown): boolean {
  const m = (json as { model?: { type?: unknown } } | null)?.model;
  return typeof m === 'object' && m !== null && m.type === 'untapped';
}

/** Reads and validates an `untapped` run config; errors name the file and key. */
export function readSemi2Config(file: string): Semi2RunConfig {
  return readConfigFile(Semi2RunConfigSchema, file);
}

/** Builds the sources of a config (files relative to `baseDir`). */
export function loadSemi2Sources(cfg: Semi2RunConfig, baseDir: string): FitInputs {
  const rel = (f: string) => (path.isAbsolute(f) ? f : path.join(baseDir, f));
  const src = cfg.sources;
  const labels = cfg.model.labels ?? 'simplex';
  const v = src.validation;
  if (v && 'fraction' in v && v.groupSize !== undefined && v.groups !== undefined) throw new Error('sources.validation: give either groupSize or groups, not both');
  if ('x' in src.labelled) {
    const r = readFitInputs({
      x: rel(src.labelled.x),
      y: rel(src.labelled.y),
      out: '',
      labels,
      ...(cfg.model.likelihood ? { model: { likelihood: cfg.model.likelihood } } : {}),
      ...(src.unlabelled && 'x' in src.unlabelled ? { unlabelled: rel(src.unlabelled.x) } : {}),
      ...(src.unfeatured ? { unfeatured: unfeaturedArg(src.unfeatured, rel) } : {}),
      ...(v && 'x' in v ? { validationX: rel(v.x), validationY: rel(v.y) } : {}),
      ...(v && 'fraction' in v ? { validationFraction: v.fraction, ...(v.groups ? { groups: rel(v.groups) } : {}) } : {}),
      seed: cfg.train.seed,
    });
    if (src.unlabelled && 'mnist' in src.unlabelled) throw new Error('sources: file-labelled data cannot be mixed with MNIST unlabelled data');
    if (src.unfeatured && src.unfeatured !== 'none' && 'oneHots' in src.unfeatured) addOneHots(r.data, r.info, r.K, src.unfeatured.oneHots);
    return r;
  }
  // MNIST splits: discrete labels over the chosen digits' label space (10 classes)
  if (labels !== 'discrete') throw new Error("sources.labelled.mnist needs model.labels 'discrete'");
  if (v && 'x' in v) throw new Error('sources.validation: validation files need file-labelled data; with MNIST use { "fraction": f }');
  if (v && 'fraction' in v && v.groups) throw new Error('sources.validation.groups: a groups file needs file-labelled data; with MNIST use groupSize or no grouping');
  const K = cfg.model.classes ?? 10;
  if (K !== 10) throw new Error(`sources.labelled.mnist: model.classes must be 10 (one per digit), got ${K}`);
  const m = src.labelled.mnist;
  const train = loadMnist('train', m.dir ? { dir: m.dir } : {});
  const digits = m.digits ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const keep = Array.from(train.y).flatMap((c, i) => (digits.includes(c) ? [i] : []));
  const pool = subsetRows(train, keep, 'mnist-digits');
  const sub = labelledSubset(pool, m.perClass, new Rng(cfg.train.seed).fork('labelled'));
  const lab = sub.labelled;
  const data: Semi2Data = { labelled: { x: { data: lab.x, width: lab.dim }, y: { data: oneHotRows(lab.y, K), width: K } } };
  const inputs: FitInfo['inputs'] = { x: { file: `mnist:train digits ${digits.join(',')}, ${m.perClass} per class`, rows: lab.n, columns: lab.dim } };
  if (src.unlabelled) {
    if (!('mnist' in src.unlabelled)) throw new Error('sources: MNIST-labelled data needs MNIST unlabelled data (or none)');
    const u = loadMnist('train', { ...(src.unlabelled.mnist.dir ? { dir: src.unlabelled.mnist.dir } : {}), ...(src.unlabelled.mnist.limit ? { limit: src.unlabelled.mnist.limit } : {}) });
    data.unlabelled = { x: { data: u.x, width: u.dim } };
    inputs.unlabelled = { file: 'mnist:train', rows: u.n, columns: u.dim };
  }
  const info = { channels: Array.from({ length: lab.dim }, (_, j) => `px${j}`), labelNames: Array.from({ length: K }, (_, k) => `digit ${k}`), labels, inputs };
  if (src.unfeatured && src.unfeatured !== 'none') {
    if ('oneHots' in src.unfeatured) addOneHots(data, info, K, src.unfeatured.oneHots);
    else if ('resample' in src.unfeatured) info.inputs.unfeatured = { resample: src.unfeatured.resample };
    else if ('corners' in src.unfeatured) throw new Error("sources.unfeatured.corners is for compositions; use { \"oneHots\": N } with discrete labels");
    else throw new Error('sources: unfeatured labels from a file need file-labelled data');
  }
  return { data, info, K, D: lab.dim };
}

/** Adds N one-hot unfeatured labels cycling through the K classes. */
function addOneHots(data: Semi2Data, info: { inputs: FitInfo['inputs'] }, K: number, n: number): void {
  data.unfeatured = { y: Array.from({ length: n }, (_, i) => Array.from({ length: K }, (_, k) => (k === i % K ? 1 : 0))) };
  info.inputs.unfeatured = { corners: n };
}

/** The config with every file source's path made absolute (from `baseDir`), as the model directory keeps it. */
export function absoluteSemi2Paths(cfg: Semi2RunConfig, baseDir: string): Semi2RunConfig {
  const abs = (f: string) => path.resolve(baseDir, f);
  const s = cfg.sources;
  const v = s.validation;
  return {
    ...cfg,
    sources: {
      ...s,
      labelled: 'x' in s.labelled ? { x: abs(s.labelled.x), y: abs(s.labelled.y) } : s.labelled,
      ...(s.unlabelled ? { unlabelled: 'x' in s.unlabelled ? { x: abs(s.unlabelled.x) } : s.unlabelled } : {}),
      ...(s.unfeatured && s.unfeatured !== 'none' && 'y' in s.unfeatured ? { unfeatured: { y: abs(s.unfeatured.y) } } : {}),
      ...(v ? { validation: 'x' in v ? { x: abs(v.x), y: abs(v.y) } : { ...v, ...(v.groups ? { groups: abs(v.groups) } : {}) } } : {}),
    },
  };
}

/**
 * Trains an `untapped` run config into `out` (a model directory as written by `untapped fit`, with
 * the config, its paths absolute, as `config.json`).
 */
export async function trainSemi2(cfg: Semi2RunConfig, configFile: string, out: string, opts: { resume?: boolean; epochs?: number; log?: (s: string) => void; force?: boolean } = {}): Promise<FittedModel> {
  const { data, info, K, D, validation, groupIds, labelledIds } = loadSemi2Sources(cfg, path.dirname(path.resolve(configFile)));
  if (cfg.model.classes !== undefined && cfg.model.classes !== K) throw new Error(`${configFile}: model.classes is ${cfg.model.classes} but the labels have ${K} ${cfg.model.labels === 'discrete' ? 'classes' : 'components'} (leave model.classes out to take the labels')`);
  const v = cfg.sources.validation;
  const { type: _type, labels: _labels, classes: _classes, latent, hidden, ...model } = cfg.model;
  const w: Partial<Semi2Weights> = cfg.weights;
  return fitData(data, info, K, D, {
    runConfig: absoluteSemi2Paths(opts.epochs ? { ...cfg, train: { ...cfg.train, epochs: opts.epochs } } : cfg, path.dirname(path.resolve(configFile))),
    out,
    latent,
    hidden,
    model,
    weights: w,
    epochs: opts.epochs ?? cfg.train.epochs,
    batchSize: cfg.train.batchSize,
    lr: cfg.train.lr,
    seed: cfg.train.seed,
    ...(cfg.train.budgetMinutes ? { budgetMinutes: cfg.train.budgetMinutes } : {}),
    ...(cfg.train.alphaRWarmup ? { alphaRWarmup: cfg.train.alphaRWarmup } : {}),
    ...(cfg.train.center ? { center: true } : {}),
    ...(cfg.train.preprocess !== undefined ? { preprocess: cfg.train.preprocess } : {}),
    ...(cfg.train.bounds !== undefined ? { bounds: cfg.train.bounds } : {}),
    ...(validation ? { validation } : {}),
    ...(v && 'fraction' in v ? { validationFraction: v.fraction, ...(v.groupSize !== undefined ? { groupSize: v.groupSize } : {}) } : {}),
    ...(groupIds ? { groupIds, groupsSource: v && 'fraction' in v && v.groups ? v.groups : 'groups' } : {}),
    ...(labelledIds ? { labelledIds } : {}),
    ...(cfg.train.patience !== undefined ? { patience: cfg.train.patience } : {}),
    ...(cfg.train.minEpochs !== undefined ? { minEpochs: cfg.train.minEpochs } : {}),
    ...(cfg.train.intervalLevel !== undefined ? { intervalLevel: cfg.train.intervalLevel } : {}),
    ...(cfg.train.intervalMethod !== undefined ? { intervalMethod: cfg.train.intervalMethod } : {}),
    resume: opts.resume ?? false,
    force: opts.force ?? false,
    // a bar per epoch on a terminal; in a log file, a line per evaluation (as fit)
    progressBars: Boolean(process.stderr.isTTY),
    ...(opts.log ? { log: opts.log } : {}),
  });
}
