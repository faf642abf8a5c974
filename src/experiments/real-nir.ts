/**
 * `untapped experiment real-nir`: do unlabelled rows help or hurt on real measured spectra? The
 * diagnosis behind the library's default weights (`docs/semi-supervised-real.md`).
 *
 * Two public NIR sets (`data/realdata/`, see its README), with few labels, as a scientist would use
 * them:
 * - **mayonnaise**: 6 oil types; 2 labelled rows per type drawn from the set's own training rows,
 *   the other 108 training rows unlabelled; test error on its 42 test rows. Baseline: the majority
 *   class of the labelled rows (all types have 2, so the first type: 0.71 of the test rows are not it).
 * - **gasoline**: octane coded as the 2-part composition (t, 1 − t), t = (octane − 80)/12; 10
 *   labelled rows drawn from rows 1–50, the other 40 unlabelled; RMSEP in octane numbers on rows
 *   51–60. Baseline: predicting the labelled rows' mean octane.
 * Columns are standardised with the mean and sd of the training rows (labelled and unlabelled), the
 * same for every variant, so variants differ only in what the model is trained on and with which
 * weights. The labelled draw depends on the seed.
 *
 * Variants (the semi²-supervised model of `models/semi2.ts`, the `fit` network sizes):
 * - `labelled`, `semi`, `semi2`: the library's defaults (`defaultWeights`: (α_f, α_f^d, α_r, α_r^d)
 *   = (1, D, 1, 1), the unlabelled bound cut from q(y | x), and the Gaussian prior N(0, 1/fan-in) on
 *   q(y | x)'s first layer spread over the labelled rows), on the labelled rows only / plus the
 *   unlabelled rows (M2) / plus 500 unfeatured labels resampled from the labelled ones
 *   (`resampledLabels`: mixtures of two labelled compositions, or labelled classes);
 * - `paper-labelled`, `paper-semi`, `paper-semi2`: the same data with the papers' weights
 *   (`PAPER_WEIGHTS`: (1, 1, 0.01, 1), the unlabelled bound training q(y | x) in full).
 * PLS (PLS-DA for the classes) on the labelled rows is reported beside them, its number of
 * components chosen by leave-one-out on the labelled rows.
 *
 * At every tenth of training it records, on the whole labelled / unlabelled / unfeatured sets with
 * one Monte Carlo draw: the per-row bounds (7), (8), (20), the label loss (13), the norms of the
 * gradients that the unlabelled bound, the label term and the reverse bound send into the
 * parameters φ of q(y | x), each raw and as weighted in the objective, the decoder's mean σ, and the
 * error on the labelled rows and on the test rows.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { readTable } from '../node/data.js';
import { type Table } from '../io/table.js';
import { fitPls } from '../eval/pls.js';
import { writeFileAtomic, makeDir } from '../node/files.js';
import { lockDir } from '../node/lock.js';
import { lineChartPng } from '../node/chart.js';
import type { Semi2Weights } from '../models/semi2.js';
import { resampledLabels } from '../data/unfeatured.js';
import { gather } from '../data/batches.js';
import { oneHotRows } from './fit.js';
import { defaultWeights, PAPER_WEIGHTS, UntappedEstimator, type Semi2Data } from './estimator.js';
import { finishReport, fmtMeanSd, meanSd } from './stats.js';
import { semi2TermDiagnostics, type Semi2TermDiagnostics } from './diagnostics.js';

/** The data sets of the experiment. */
export const REAL_NIR_SETS = ['mayonnaise', 'gasoline'] as const;
export type RealNirSet = (typeof REAL_NIR_SETS)[number];

/** The variants of the experiment (see the module doc). */
export const REAL_NIR_VARIANTS = ['labelled', 'semi', 'semi2', 'paper-labelled', 'paper-semi', 'paper-semi2'] as const;
export type RealNirVariant = (typeof REAL_NIR_VARIANTS)[number];

/** One seed's split of a data set, standardised. Matrices are row-major. */
export interface RealNirSplit {
  set: RealNirSet;
  labels: 'discrete' | 'simplex';
  K: number;
  D: number;
  labelled: { x: Float32Array; y: Float32Array; n: number };
  unlabelled: { x: Float32Array; n: number };
  test: { x: Float32Array; y: Float32Array; n: number };
  /** The error measure: classification error (mayonnaise) or RMSEP in octane numbers (gasoline). */
  error(pred: ArrayLike<number>, y: Float32Array, n: number): number;
  /** The error of the trivial predictor (majority class / labelled mean) on the test rows. */
  baseline: number;
  unit: string;
}

const OCTANE_LO = 80;
const OCTANE_SPAN = 12;

function readOrExplain(dir: string, file: string): Table {
  const p = path.join(dir, file);
  if (!fs.existsSync(p)) throw new Error(`real-nir: ${p} not found; --data must be a folder with the files of data/realdata/ (gasoline_nir.csv, gasoline_octane.csv, mayonnaise_nir.csv, mayonnaise_meta.csv)`);
  return readTable(p);
}

/** Standardises every matrix in place with the column mean and sd of `ref` (sd 0 → 1). */
function standardise(ref: Float32Array[], w: number, all: Float32Array[]): void {
  const mu = new Float64Array(w);
  const sd = new Float64Array(w);
  let n = 0;
  for (const m of ref) {
    for (let i = 0; i < m.length; i++) mu[i % w] += m[i];
    n += m.length / w;
  }
  for (let j = 0; j < w; j++) mu[j] /= n;
  for (const m of ref) for (let i = 0; i < m.length; i++) sd[i % w] += (m[i] - mu[i % w]) ** 2;
  for (let j = 0; j < w; j++) sd[j] = Math.sqrt(sd[j] / Math.max(1, n - 1)) || 1;
  for (const m of all) for (let i = 0; i < m.length; i++) m[i] = (m[i] - mu[i % w]) / sd[i % w];
}

/** The labelled, unlabelled and test rows of `t`, standardised with the training (labelled + unlabelled) rows. */
function splitRows(t: Table, lab: number[], unl: number[], test: number[]): { xl: Float32Array; xu: Float32Array; xt: Float32Array } {
  const [xl, xu, xt] = [lab, unl, test].map((idx) => gather(t.data, t.width, idx));
  standardise([xl, xu], t.width, [xl, xu, xt]);
  return { xl, xu, xt };
}

function shuffled(idx: number[], rng: Rng): number[] {
  const p = rng.permutation(idx.length);
  return Array.from(p, (i) => idx[i]);
}

/** Fraction of rows whose largest prediction is not the label's class. */
function classError(pred: ArrayLike<number>, y: Float32Array, n: number): number {
  const K = y.length / n;
  let wrong = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let truth = 0;
    for (let k = 1; k < K; k++) {
      if (pred[i * K + k] > pred[i * K + best]) best = k;
      if (y[i * K + k] > y[i * K + truth]) truth = k;
    }
    if (best !== truth) wrong++;
  }
  return wrong / n;
}

/** RMSEP in octane numbers from 2-part compositions (t, 1 − t). */
function octaneRmsep(pred: ArrayLike<number>, y: Float32Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += ((pred[2 * i] - y[2 * i]) * OCTANE_SPAN) ** 2;
  return Math.sqrt(s / n);
}

/**
 * The mayonnaise split of `seed`: `perType` labelled rows per oil type from the training rows, the
 * rest of the training rows unlabelled, the set's 42 test rows.
 * @throws if a file is missing or malformed (naming it).
 */
export function mayonnaiseSplit(dir: string, seed: number, perType = 2): RealNirSplit {
  const nir = readOrExplain(dir, 'mayonnaise_nir.csv');
  const meta = readOrExplain(dir, 'mayonnaise_meta.csv');
  const oilCol = meta.columns.indexOf('oil_type');
  const trainCol = meta.columns.indexOf('train');
  if (oilCol < 0 || trainCol < 0) throw new Error(`${meta.file}: needs columns oil_type and train`);
  if (meta.n !== nir.n) throw new Error(`${meta.file}: ${meta.n} rows but ${nir.file} has ${nir.n}`);
  const K = 6;
  const D = nir.width;
  const oil = (r: number) => meta.data[r * meta.width + oilCol] - 1;
  const train: number[] = [];
  const test: number[] = [];
  for (let r = 0; r < meta.n; r++) (meta.data[r * meta.width + trainCol] === 1 ? train : test).push(r);
  const rng = new Rng(seed).fork('mayonnaise-split');
  const lab: number[] = [];
  for (let k = 0; k < K; k++) lab.push(...shuffled(train.filter((r) => oil(r) === k), rng).slice(0, perType));
  const unl = train.filter((r) => !lab.includes(r));
  const oneHot = (idx: number[]) => oneHotRows(idx.map(oil), K);
  const { xl, xu, xt } = splitRows(nir, lab, unl, test);
  const yt = oneHot(test);
  // the labelled classes are balanced, so the majority predictor is class 0 (the first in ties)
  const baseline = test.filter((r) => oil(r) !== 0).length / test.length;
  return { set: 'mayonnaise', labels: 'discrete', K, D, labelled: { x: xl, y: oneHot(lab), n: lab.length }, unlabelled: { x: xu, n: unl.length }, test: { x: xt, y: yt, n: test.length }, error: classError, baseline, unit: 'test error' };
}

/**
 * The gasoline split of `seed`: `nLabelled` labelled rows from rows 1–50, the other training rows
 * unlabelled, rows 51–60 for testing; octane as the composition (t, 1 − t), t = (octane − 80)/12.
 * @throws if a file is missing or malformed, or an octane number falls outside [80, 92].
 */
export function gasolineSplit(dir: string, seed: number, nLabelled = 10): RealNirSplit {
  const nir = readOrExplain(dir, 'gasoline_nir.csv');
  const oct = readOrExplain(dir, 'gasoline_octane.csv');
  if (oct.n !== nir.n || nir.n < 51) throw new Error(`${oct.file}: ${oct.n} rows for ${nir.n} spectra (need the 60 of the set)`);
  const D = nir.width;
  for (let r = 0; r < oct.n; r++) {
    const v = oct.data[r * oct.width];
    if (!(v >= OCTANE_LO && v <= OCTANE_LO + OCTANE_SPAN)) throw new Error(`${oct.file}: row ${r + 1} has octane ${v}, outside [${OCTANE_LO}, ${OCTANE_LO + OCTANE_SPAN}]`);
  }
  const order = shuffled(Array.from({ length: 50 }, (_, i) => i), new Rng(seed).fork('gasoline-split'));
  const lab = order.slice(0, nLabelled);
  const unl = order.slice(nLabelled);
  const test = Array.from({ length: nir.n - 50 }, (_, i) => 50 + i);
  const comp = (idx: number[]) => {
    const y = new Float32Array(idx.length * 2);
    idx.forEach((r, i) => {
      const t = (oct.data[r * oct.width] - OCTANE_LO) / OCTANE_SPAN;
      y[2 * i] = t;
      y[2 * i + 1] = 1 - t;
    });
    return y;
  };
  const { xl, xu, xt } = splitRows(nir, lab, unl, test);
  const yl = comp(lab);
  const yt = comp(test);
  let tMean = 0;
  for (let i = 0; i < lab.length; i++) tMean += yl[2 * i] / lab.length;
  const meanPred = new Float32Array(test.length * 2).map((_, i) => (i % 2 === 0 ? tMean : 1 - tMean));
  return { set: 'gasoline', labels: 'simplex', K: 2, D, labelled: { x: xl, y: yl, n: lab.length }, unlabelled: { x: xu, n: unl.length }, test: { x: xt, y: yt, n: test.length }, error: octaneRmsep, baseline: octaneRmsep(meanPred, yt, test.length), unit: 'RMSEP (octane)' };
}

/** The split of `set` for `seed`. */
export function realNirSplit(set: RealNirSet, dir: string, seed: number): RealNirSplit {
  return set === 'mayonnaise' ? mayonnaiseSplit(dir, seed) : gasolineSplit(dir, seed);
}

/**
 * PLS (PLS-DA for classes: regression on the one-hots, largest output wins) on the labelled rows,
 * with 1 … min(10, n − 2) components chosen by leave-one-out error on them; the test error.
 */
export function plsError(s: RealNirSplit): { error: number; components: number } {
  const { x, y, n } = s.labelled;
  const maxC = Math.max(1, Math.min(10, n - 2));
  let best = { c: 1, e: Infinity };
  for (let c = 1; c <= maxC; c++) {
    const pred = new Float32Array(n * s.K);
    for (let i = 0; i < n; i++) {
      const keep = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i);
      const m = fitPls(gather(x, s.D, keep), n - 1, s.D, gather(y, s.K, keep), s.K, { components: c });
      pred.set(m.predict(x.subarray(i * s.D, (i + 1) * s.D), 1), i * s.K);
    }
    const e = s.error(pred, y, n);
    if (e < best.e - 1e-12) best = { c, e };
  }
  const m = fitPls(x, n, s.D, y, s.K, { components: best.c });
  return { error: s.error(m.predict(s.test.x, s.test.n), s.test.y, s.test.n), components: best.c };
}

/** One evaluation's diagnostics (see the module doc): errors and {@link Semi2TermDiagnostics}. */
export interface RealNirEval extends Semi2TermDiagnostics {
  epoch: number;
  /** Error on the labelled (training) rows and on the test rows, in the set's unit. */
  labelledError: number;
  testError: number;
}

/** One fit's result. */
export interface RealNirRun {
  set: RealNirSet;
  variant: RealNirVariant;
  seed: number;
  testError: number;
  labelledError: number;
  seconds: number;
  evals: RealNirEval[];
}

/** Options of {@link realNirExperiment}. */
export interface RealNirOptions {
  /** Folder with the four CSV files (default `data/realdata` of the package). */
  data: string;
  out: string;
  sets?: RealNirSet[];
  variants?: RealNirVariant[];
  /** Epochs per fit (passes over the unlabelled rows, or the labelled rows without them; default 1000). */
  epochs?: number;
  seeds?: number;
  seed?: number;
  log?: (s: string) => void;
}

/** The data part of a variant's name: `labelled`, `semi` or `semi2`. */
const base = (v: RealNirVariant): string => v.replace('paper-', '');

/** The weights of a variant for inputs of D channels. */
export function variantWeights(v: RealNirVariant, D: number): Semi2Weights {
  return v.startsWith('paper-') ? { ...PAPER_WEIGHTS } : defaultWeights(D);
}

/** Fits one variant on one split and records the diagnostics. */
export async function realNirRun(s: RealNirSplit, variant: RealNirVariant, seed: number, epochs: number): Promise<RealNirRun> {
  const data0 = base(variant);
  const est = new UntappedEstimator({ inputDim: s.D, classes: s.K, labels: s.labels, latent: 1 }, seed);
  const m = est.model;
  const w = variantWeights(variant, s.D);
  const asRows = (x: Float32Array, width: number) => ({ data: x, width });
  const unfeatured: number[][] = [];
  if (data0 === 'semi2') unfeatured.push(...resampledLabels(s.labelled.y, s.labelled.n, s.K, 500, new Rng(seed).fork('unfeatured'), s.labels));
  const data: Semi2Data = {
    labelled: { x: asRows(s.labelled.x, s.D), y: asRows(s.labelled.y, s.K) },
    ...(data0 !== 'labelled' ? { unlabelled: { x: asRows(s.unlabelled.x, s.D) } } : {}),
    ...(unfeatured.length ? { unfeatured: { y: unfeatured } } : {}),
  };
  const evals: RealNirEval[] = [];
  const predictError = (x: Float32Array, y: Float32Array, n: number) => s.error(est.predict(asRows(x, s.D)).mean.flat(), y, n);
  const xl = tf.tensor2d(s.labelled.x, [s.labelled.n, s.D]);
  const yl = tf.tensor2d(s.labelled.y, [s.labelled.n, s.K]);
  const xu = tf.tensor2d(s.unlabelled.x, [s.unlabelled.n, s.D]);
  const yf = unfeatured.length ? tf.tensor2d(unfeatured) : null;
  const t0 = performance.now();
  try {
    await est.fit(data, {
      epochs,
      seed,
      weights: w,
      evalEvery: Math.max(1, Math.round(epochs / 10)),
      progress: { silent: true },
      evaluate: (epoch) => {
        const d = semi2TermDiagnostics(m, { xl, yl, ...(data0 !== 'labelled' ? { xu } : {}), ...(yf ? { yf } : {}) }, w, new Rng(seed).fork(`diagnose-${epoch}`));
        evals.push({ epoch, labelledError: predictError(s.labelled.x, s.labelled.y, s.labelled.n), testError: predictError(s.test.x, s.test.y, s.test.n), ...d });
        return {};
      },
    });
    const last = evals.at(-1)!;
    return { set: s.set, variant, seed, testError: last.testError, labelledError: last.labelledError, seconds: (performance.now() - t0) / 1000, evals };
  } finally {
    tf.dispose([xl, yl, xu, ...(yf ? [yf] : [])]);
    est.dispose();
  }
}

/** Runs the experiment; writes `results.json`, `report.md` and the curve PNGs to `out`. */
export async function realNirExperiment(o: RealNirOptions): Promise<{ runs: RealNirRun[]; files: string[] }> {
  const log = o.log ?? (() => {});
  const sets = o.sets ?? [...REAL_NIR_SETS];
  const variants = o.variants ?? [...REAL_NIR_VARIANTS];
  const epochs = o.epochs ?? 1000;
  const seeds = Array.from({ length: o.seeds ?? 5 }, (_, i) => (o.seed ?? 0) + i);
  makeDir(o.out);
  lockDir(o.out, `output directory ${o.out}`); // held until the process ends: a second run into it refuses
  const runs: RealNirRun[] = [];
  const pls: Record<string, { seed: number; error: number; components: number }[]> = {};
  const baselines: Record<string, number[]> = {};
  for (const set of sets) {
    pls[set] = [];
    baselines[set] = [];
    for (const seed of seeds) {
      const split = realNirSplit(set, o.data, seed);
      baselines[set].push(split.baseline);
      pls[set].push({ seed, ...plsError(split) });
      for (const v of variants) {
        const r = await realNirRun(split, v, seed, epochs);
        runs.push(r);
        log(`${set} ${v} seed ${seed}: ${split.unit} ${r.testError.toFixed(3)} (labelled rows ${r.labelledError.toFixed(3)}), ${r.seconds.toFixed(1)} s`);
      }
    }
  }
  const results: RealNirResults = { epochs, seeds, sets, variants, baselines, pls, runs };
  writeFileAtomic(path.join(o.out, 'results.json'), JSON.stringify(results, null, 1));
  return { runs, files: writeRealNirReport(o.out, results, log) };
}

/** What `results.json` holds. */
export interface RealNirResults {
  epochs: number;
  seeds: number[];
  sets: RealNirSet[];
  variants: RealNirVariant[];
  /** Per set, the trivial predictor's error per seed. */
  baselines: Record<string, number[]>;
  pls: Record<string, { seed: number; error: number; components: number }[]>;
  runs: RealNirRun[];
}

/** Median of the finite values of `v` (NaN when there are none). */
function median(v: number[]): number {
  const f = v.filter(Number.isFinite).sort((a, b) => a - b);
  if (f.length === 0) return NaN;
  return f.length % 2 ? f[(f.length - 1) / 2] : (f[f.length / 2 - 1] + f[f.length / 2]) / 2;
}

/**
 * Writes `report.md` and the curve PNGs for `results` into `out` (also from a saved
 * `results.json`); returns the files written.
 */
export function writeRealNirReport(out: string, results: RealNirResults, log: (s: string) => void = () => {}): string[] {
  const { epochs, seeds, sets, variants, baselines, pls, runs } = results;
  const files: string[] = [];
  const fmt = (v: number[]) => (v.length ? fmtMeanSd(v) : '—');
  const weighted = (e: RealNirEval) => (e.gradUnlabelledWeighted === null ? NaN : e.gradUnlabelledWeighted / e.gradLabelWeighted);
  let md = `# Real NIR spectra with few labels (${epochs} epochs, seeds ${seeds[0]}–${seeds.at(-1)})\n\n`;
  md +=
    'Mean ± sd over seeds; errors on the test rows at the end of training; "labelled rows" is the error on the training labels themselves. ' +
    'Gradient ratio: ‖∇_φ unlabelled bound‖ / ‖∇_φ label term‖ over the parameters φ of q(y | x), both as weighted in the objective, the median over the evaluations during training, pooled over seeds (0 where the unlabelled bound is cut from q(y | x); — without unlabelled rows).\n\n';
  for (const set of sets) {
    const unit = set === 'mayonnaise' ? 'test error' : 'RMSEP (octane)';
    md += `## ${set}\n\n| model | ${unit} | labelled rows | gradient ratio U / label |\n|---|---|---|---|\n`;
    md += `| predicting the ${set === 'mayonnaise' ? 'majority class' : 'labelled mean'} | ${fmt(baselines[set])} | | |\n`;
    md += `| PLS${set === 'mayonnaise' ? '-DA' : ''} (LOO components) | ${fmt(pls[set].map((p) => p.error))} | | |\n`;
    for (const v of variants) {
      const rs = runs.filter((r) => r.set === set && r.variant === v);
      const evs = rs.flatMap((r) => r.evals);
      const w = median(evs.map(weighted));
      const txt = (x: number) => (Number.isNaN(x) ? '—' : x.toPrecision(2));
      md += `| ${v} | ${fmt(rs.map((r) => r.testError))} | ${fmt(rs.map((r) => r.labelledError))} | ${txt(w)} |\n`;
    }
    md += '\n';
    const curve = (pick: (e: RealNirEval) => number | null) =>
      variants.map((v) => {
        const rs = runs.filter((r) => r.set === set && r.variant === v);
        const ep = rs[0]?.evals.map((e) => e.epoch) ?? [];
        return { name: v, x: ep, y: ep.map((_, i) => meanSd(rs.map((r) => pick(r.evals[i]) ?? NaN)).mean) };
      });
    const f1 = path.join(out, `${set}-test-error.png`);
    lineChartPng(f1, curve((e) => e.testError), { title: `${set}: ${unit} on the test rows (mean over seeds)`, xLabel: 'epoch', yLabel: unit, hLines: [{ y: meanSd(baselines[set]).mean, label: 'trivial predictor' }] });
    const f2 = path.join(out, `${set}-labelled-error.png`);
    lineChartPng(f2, curve((e) => e.labelledError), { title: `${set}: error on the labelled rows (mean over seeds)`, xLabel: 'epoch', yLabel: unit });
    const f3 = path.join(out, `${set}-gradient-ratio.png`);
    const ratios = curve((e) => Math.log10(weighted(e))).filter((c) => c.y.some(Number.isFinite));
    files.push(f1, f2);
    md += `![test error](${set}-test-error.png) ![labelled rows](${set}-labelled-error.png)`;
    if (ratios.length === 0) {
      // every variant cuts the unlabelled bound from q(y | x) or has no unlabelled rows: no ratio to draw
      md += ' (no gradient-ratio chart: no variant here lets the unlabelled bound train q(y | x))\n\n';
      continue;
    }
    lineChartPng(f3, ratios, { title: `${set}: log10 |grad U| / |grad label| on q(y|x)`, xLabel: 'epoch', yLabel: 'log10 ratio', hLines: [{ y: 0, label: 'equal' }] });
    files.push(f3);
    md += ` ![gradient ratio](${set}-gradient-ratio.png)\n\n`;
  }
  return finishReport(out, md, files, log);
}
