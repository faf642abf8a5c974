/**
 * `untapped cv`: K-fold cross-validation of the tool (`untapped fit`) and of PLS on the same folds,
 * so that the two are compared on exactly the same out-of-fold rows (issue 27, item 3).
 *
 * Folds: {@link groupFolds} over the replicate groups (`--groups G.csv` or `--group-size n`; else
 * every row its own group), seeded by `--seed`, so the replicates of a sample are always held out
 * together. For fold f, the training rows are the labelled rows of the other folds.
 *
 * - The tool is fitted on the training rows (plus `--unlabelled` rows, when given) by
 *   {@link fitData} — the same function `untapped fit` runs, with its defaults (no validation split,
 *   unfeatured labels resampled from the training rows) — into `DIR/folds/fold-<f+1>/`, and
 *   predicts the held-out rows with the mean of q(y | x). Its `--preprocess` chain is fitted inside
 *   `fit`, on the training rows (and the unlabelled rows).
 * - PLS (PLS2; PLS-DA on one-hot rows for classes) gets the preprocessing chain fitted on the fold's
 *   training rows only ({@link foldPreprocessing}) and applied to its training and held-out rows;
 *   for every component count a = 1 … A (A = min(`--pls-max`, D, n_train − 1) over the folds) it is
 *   fitted on the training rows and predicts the held-out ones. The count is chosen by the pooled
 *   RMSECV over the same folds, RMSECV(a) = √(Σ_i Σ_k (ŷ_ik(a) − y_ik)² / (n·K)), the smallest (the
 *   fewest on a tie), as {@link crossValidatePls} does — {@link crossValidatePlsPreprocessed} is
 *   that function with the chain refitted in every fold. Reported figures are those of the chosen
 *   count's out-of-fold predictions; they are therefore slightly optimistic for PLS (the count was
 *   chosen on the same rows), as usual for RMSECV.
 *
 * Figures (`eval/regression.ts`): per target RMSECV, bias, SEP and R² of the pooled out-of-fold
 * predictions; for classes the CV error rate (share of rows whose argmax is not their class).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gather } from '../data/batches.js';
import { applyPreprocessing, fitPreprocessing, parsePreprocessSpec, preprocessedWidth, type FittedPreprocessing } from '../data/preprocess.js';
import { crossValidatePls, fitPls, type PlsCrossValidation } from '../eval/pls.js';
import { foldRows, groupFolds, regressionStats, type RegressionStats } from '../eval/regression.js';
import { DataFileError, formatCsv, rowLocation } from '../io/table.js';
import { scatterPng } from '../node/chart.js';
import { makeDir, writeFileAtomic } from '../node/files.js';
import { holdsCwd, RefusedOutputError } from '../node/replace.js';
import { lockDir } from '../node/lock.js';
import { readTable } from '../node/data.js';
import { toMatrix, type Semi2Data } from './estimator.js';
import { fitData, preprocessOption, readFitInputs, type FitInputs, type LabelSpace } from './fit.js';

/** The models `cv` can compare. */
export type CvModel = 'untapped' | 'pls';

/** Options of {@link cvFiles}. */
export interface CvOptions {
  /** Labelled inputs (spectra), n × D. */
  x: string;
  /** Their labels, laid out as for `fit --y`. */
  y: string;
  /** Directory to write (`cv.md`, `cv.json`, `predictions.csv`, the chart, `folds/`). */
  out: string;
  /** Label space, as `fit --labels` (absent: detected as `fit` does). */
  labels?: LabelSpace;
  /** A file of one group value per row of `x` (rows sharing a value share a fold). */
  groups?: string;
  /** Consecutive rows of `x` form groups of this many replicates. */
  groupSize?: number;
  /** Number of folds K ≥ 2 (default 5). */
  folds?: number;
  /** Preprocessing chain (`data/preprocess.ts`), refitted on every fold's training rows. */
  preprocess?: string;
  /** Unlabelled inputs, used by the tool in every fold (never by PLS). */
  unlabelled?: string;
  /** Epochs of every fold's fit (default: `fit`'s, 2000). */
  epochs?: number;
  /** Seed of the fold assignment and of every fold's fit (default 0). */
  seed?: number;
  /** Largest number of PLS components tried (default 10). */
  plsMax?: number;
  /** Which models to cross-validate (default both). */
  models?: CvModel[];
  /** Replace an existing `out` written by `cv`. */
  force?: boolean;
  /** Progress lines (one per fold, and the fit's own lines thinned out). */
  log?: (s: string) => void;
}

/** One model's cross-validated figures. */
export interface CvModelResult {
  /** Out-of-fold predictions, n × K row-major (targets, compositions, or class probabilities / PLS-DA scores). */
  predictions: Float32Array;
  /** Per target (real labels, compositions): the figures of the pooled out-of-fold predictions. */
  stats?: RegressionStats[];
  /** Classes: the share of rows whose predicted class (argmax) is not their class, and how many. */
  error?: { rate: number; wrong: number; n: number };
  /** Per fold (0-based index f): RMSEP per target of that fold's rows, or the error rate for classes. */
  perFold: { fold: number; rows: number; rmsep?: number[]; error?: number }[];
}

/** What {@link crossValidatePlsPreprocessed} returns: {@link PlsCrossValidation} and the chains used. */
export interface PlsCvResult extends PlsCrossValidation {
  /** The chain fitted on each fold's training rows (index f), or null without preprocessing. */
  chains: (FittedPreprocessing | null)[];
  /** Largest component count tried: min(maxComponents, D, n_train − 1) over the folds. */
  maxComponents: number;
}

/** What {@link cvData} returns. */
export interface CvResult {
  labels: LabelSpace;
  labelNames: string[];
  n: number;
  K: number;
  folds: number;
  /** Fold of every row (0-based). */
  fold: Int32Array;
  /** Number of groups in each fold. */
  foldGroups: number[];
  /** Measured labels, n × K (one-hot rows for classes). */
  y: Float32Array;
  untapped?: CvModelResult & {
    /** The chain the tool fitted in each fold (its `estimator.preprocessing`), or null. */
    chains: (FittedPreprocessing | null)[];
    /** Training seconds of every fold's fit. */
    trainSeconds: number[];
    /** Epochs of every fold's fit. */
    epochs: number;
  };
  pls?: CvModelResult & { components: number; rmsecv: number[]; maxComponents: number; chains: (FittedPreprocessing | null)[] };
  /** PLS with the count chosen inside each fold's training rows ({@link nestedCrossValidatePls}); with `pls`, when the groups are known. */
  plsNested?: CvModelResult & { components: number[] };
}

/**
 * The preprocessing chain of every fold, each fitted on that fold's training rows only (the rows of
 * the other folds), never on its held-out rows.
 * @param x n × d row-major inputs.
 * @param fold fold of every row (0 … F − 1), e.g. from {@link groupFolds}.
 * @param spec a chain as `--preprocess` takes it; empty or `none`: no chain.
 * @returns per fold f the fitted chain, or null when `spec` is empty.
 * @throws Error when the sizes disagree, a fold is empty, or a step cannot be fitted (`fitPreprocessing`).
 */
export function foldPreprocessing(x: Float32Array, n: number, d: number, fold: ArrayLike<number>, spec: string | undefined): (FittedPreprocessing | null)[] {
  if (fold.length !== n || x.length !== n * d) throw new Error(`foldPreprocessing: ${x.length} values and ${fold.length} fold indices for ${n} rows × ${d} channels`);
  const folds = Math.max(...Array.from(fold)) + 1;
  const steps = spec === undefined ? [] : parsePreprocessSpec(spec);
  return Array.from({ length: folds }, (_, f) => {
    const { train, test } = foldRows(fold, f);
    if (!test.length) throw new Error(`foldPreprocessing: fold ${f} has no rows`);
    return steps.length ? fitPreprocessing(steps, gather(x, d, train), d, { rowName: (i) => `row ${train[i]}` }) : null;
  });
}

/**
 * K-fold cross-validation of PLS2 over 1 … A components with the preprocessing chain refitted in
 * every fold: for fold f the chain is fitted on the training rows ({@link foldPreprocessing}) and
 * applied to both sides, then PLS with a components is fitted on the training rows and predicts the
 * held-out ones. The count minimising the pooled RMSECV (over all rows and the K targets; the fewest
 * on a tie) is chosen, as in {@link crossValidatePls}, to which this reduces without a chain.
 * @param x n × d inputs; `y` n × k targets (one-hot rows for PLS-DA), row-major.
 * @param fold fold of every row (0 … F − 1).
 * @param opts.maxComponents the largest count tried (default 10), capped at min(d, n_train − 1).
 * @param opts.preprocess a `--preprocess` chain; `opts.toSimplex` projects predictions onto the simplex.
 * @throws Error when the sizes disagree, a fold is empty, or too few training rows for one component.
 */
export function crossValidatePlsPreprocessed(x: Float32Array, y: Float32Array, n: number, d: number, k: number, fold: ArrayLike<number>, opts: { maxComponents?: number; preprocess?: string; toSimplex?: boolean } = {}): PlsCvResult {
  if (y.length !== n * k) throw new Error(`crossValidatePlsPreprocessed: ${y.length} targets for ${n} rows × ${k}`);
  const chains = foldPreprocessing(x, n, d, fold, opts.preprocess);
  const cv = crossValidatePls(x, y, n, d, k, fold, opts.maxComponents ?? 10, {
    ...(opts.toSimplex ? { toSimplex: true } : {}),
    width: opts.preprocess ? preprocessedWidth(opts.preprocess, d) : d,
    inputs: (f, train, test) => foldInputs(x, d, chains[f], train, test),
  });
  return { ...cv, chains, maxComponents: cv.rmsecv.length };
}

/** A fold's training and held-out rows (n × d row-major `x`) as its chain leaves them (as they are without one). */
function foldInputs(x: Float32Array, d: number, chain: FittedPreprocessing | null, train: number[], test: number[]): { train: Float32Array; test: Float32Array } {
  return {
    train: chain ? applyPreprocessing(chain, gather(x, d, train), d) : gather(x, d, train),
    test: chain ? applyPreprocessing(chain, gather(x, d, test), d, { rowName: (i) => `row ${test[i]}` }) : gather(x, d, test),
  };
}

/**
 * Nested cross-validation of PLS2: for each outer fold f, the number of components is chosen by an
 * inner cross-validation on f's training rows only (their groups split into `innerFolds` folds by
 * {@link groupFolds}, the fewest-components rule of {@link crossValidatePls}), then PLS with that
 * count is fitted on all of f's training rows and predicts f's held-out rows. Unlike choosing the
 * count on the folds being scored, no held-out row influences its own prediction, so the pooled
 * figures are an honest estimate. With `preprocess`, the chain is fitted on f's training rows and
 * applied on both sides; inside the inner folds it is that chain, not refitted (only the choice of
 * the count sees it).
 * @param groups group of every row (replicates of a sample share one), length n.
 * @returns the out-of-fold predictions (n × k) and the count each outer fold's model uses (the
 *   inner choice, or fewer when the fold's data support fewer).
 * @throws Error when a fold is empty or its training rows hold fewer groups than 2.
 */
export function nestedCrossValidatePls(x: Float32Array, y: Float32Array, n: number, d: number, k: number, fold: ArrayLike<number>, groups: ArrayLike<number>, opts: { maxComponents?: number; innerFolds?: number; preprocess?: string; toSimplex?: boolean; seed?: number } = {}): { predictions: Float32Array; components: number[] } {
  if (groups.length !== n || fold.length !== n) throw new Error(`nestedCrossValidatePls: ${groups.length} groups and ${fold.length} fold indices for ${n} rows`);
  const folds = Math.max(...Array.from(fold)) + 1;
  const chains = foldPreprocessing(x, n, d, fold, opts.preprocess);
  const w = opts.preprocess ? preprocessedWidth(opts.preprocess, d) : d;
  const predictions = new Float32Array(n * k);
  const components: number[] = [];
  for (let f = 0; f < folds; f++) {
    const { train, test } = foldRows(fold, f);
    const { train: xt, test: xv } = foldInputs(x, d, chains[f], train, test);
    const yt = gather(y, k, train);
    const g = train.map((i) => groups[i]);
    const distinct = new Set(g).size;
    if (distinct < 2) throw new Error(`nestedCrossValidatePls: the training rows of fold ${f + 1} hold ${distinct} group; the inner cross-validation needs at least 2`);
    const inner = groupFolds(g, Math.min(opts.innerFolds ?? folds, distinct), opts.seed ?? 0);
    const cv = crossValidatePls(xt, yt, train.length, w, k, inner, opts.maxComponents ?? 10, { ...(opts.toSimplex ? { toSimplex: true } : {}) });
    const model = fitPls(xt, train.length, w, yt, k, { components: cv.components, ...(opts.toSimplex ? { toSimplex: true } : {}) });
    // the count the fitted model uses: fewer than chosen when the fold's data support fewer (plsComponentLimit)
    components.push(model.components);
    const p = model.predict(xv, test.length);
    test.forEach((i, r) => predictions.set(p.subarray(r * k, (r + 1) * k), i * k));
  }
  return { predictions, components };
}

/** Index of the largest of the `k` values of row i. */
function argmaxRow(p: ArrayLike<number>, i: number, k: number): number {
  let b = 0;
  for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + b]) b = j;
  return b;
}

/** The figures of out-of-fold predictions `pred` (n × k) against `y`: see {@link CvModelResult}. */
function score(pred: Float32Array, y: Float32Array, n: number, k: number, fold: Int32Array, folds: number, discrete: boolean): CvModelResult {
  const perFold: CvModelResult['perFold'] = [];
  for (let f = 0; f < folds; f++) {
    const { test } = foldRows(fold, f);
    if (discrete) perFold.push({ fold: f, rows: test.length, error: test.filter((i) => argmaxRow(pred, i, k) !== argmaxRow(y, i, k)).length / test.length });
    else perFold.push({ fold: f, rows: test.length, rmsep: regressionStats(gather(pred, k, test), gather(y, k, test), test.length, k).map((s) => s.rmsep) });
  }
  if (!discrete) return { predictions: pred, stats: regressionStats(pred, y, n, k), perFold };
  let wrong = 0;
  for (let i = 0; i < n; i++) if (argmaxRow(pred, i, k) !== argmaxRow(y, i, k)) wrong++;
  return { predictions: pred, error: { rate: wrong / n, wrong, n }, perFold };
}

/**
 * Cross-validates on inputs already read ({@link readFitInputs}): the folds, PLS on every fold, and
 * the tool fitted by {@link fitData} into `dir/folds/fold-<f+1>` for every fold (see the module doc).
 * @param r the labelled rows (n × D, labels n × K) and optional unlabelled/unfeatured sources.
 * @param fold fold of every labelled row (0 … F − 1), every fold non-empty.
 * @throws Error when a fold is empty, from PLS or the preprocessing (a row it cannot process), or
 *   from a fold's fit.
 */
export async function cvData(r: FitInputs, fold: Int32Array, o: { dir: string; models?: CvModel[]; preprocess?: string; epochs?: number; seed?: number; plsMax?: number; groups?: ArrayLike<number>; log?: (s: string) => void }): Promise<CvResult> {
  const log = o.log ?? (() => {});
  const { D, K } = r;
  const labels = r.info.labels;
  const X = toMatrix(r.data.labelled!.x, 'labelled x', D);
  const Y = toMatrix(r.data.labelled!.y, 'labelled y', K);
  const n = X.n;
  if (fold.length !== n) throw new Error(`cvData: ${fold.length} fold indices for ${n} rows`);
  const folds = Math.max(...Array.from(fold)) + 1;
  const parts = Array.from({ length: folds }, (_, f) => foldRows(fold, f));
  const empty = parts.findIndex((p) => !p.test.length);
  if (empty >= 0) throw new Error(`cvData: fold ${empty + 1} has no rows`);
  const models = o.models ?? ['untapped', 'pls'];
  const discrete = labels === 'discrete';
  const preprocess = o.preprocess === undefined ? undefined : (preprocessOption({ preprocess: o.preprocess }) ?? undefined);
  const res: CvResult = { labels, labelNames: r.info.labelNames, n, K, folds, fold, foldGroups: [], y: Y.data };

  if (models.includes('pls')) {
    const p = crossValidatePlsPreprocessed(X.data, Y.data, n, D, K, fold, { maxComponents: o.plsMax ?? 10, ...(preprocess ? { preprocess } : {}), toSimplex: labels === 'simplex' });
    res.pls = { ...score(p.predictions, Y.data, n, K, fold, folds, discrete), components: p.components, rmsecv: p.rmsecv, maxComponents: p.maxComponents, chains: p.chains };
    log(`cv: PLS${discrete ? '-DA' : ''}: ${p.components} component${p.components === 1 ? '' : 's'} chosen by the pooled RMSECV over 1–${p.maxComponents} (${p.rmsecv.map((v) => v.toPrecision(3)).join(', ')})`);
    // nested: the count chosen inside each fold's training rows (each row its own group when none are given)
    const nest = nestedCrossValidatePls(X.data, Y.data, n, D, K, fold, o.groups ?? Array.from({ length: n }, (_, i) => i), { maxComponents: o.plsMax ?? 10, ...(preprocess ? { preprocess } : {}), toSimplex: labels === 'simplex', seed: o.seed ?? 0 });
    res.plsNested = { ...score(nest.predictions, Y.data, n, K, fold, folds, discrete), components: nest.components };
    log(`cv: PLS${discrete ? '-DA' : ''}, nested: ${nest.components.join(', ')} components chosen inside folds 1–${folds}`);
  }

  if (models.includes('untapped')) {
    const pred = new Float32Array(n * K);
    const chains: (FittedPreprocessing | null)[] = [];
    const trainSeconds: number[] = [];
    const epochs = o.epochs ?? 2000;
    for (let f = 0; f < folds; f++) {
      const { train, test } = parts[f];
      const data: Semi2Data = {
        ...r.data,
        labelled: { x: { data: gather(X.data, D, train), width: D }, y: { data: gather(Y.data, K, train), width: K } },
      };
      const at = `cv: fold ${f + 1}/${folds}`;
      log(`${at}: fitting the tool on ${train.length} rows (${epochs} epochs), ${test.length} held out`);
      let epochLines = 0;
      const m = await fitData(data, r.info, K, D, {
        out: path.join(o.dir, 'folds', `fold-${f + 1}`),
        epochs,
        seed: o.seed ?? 0,
        ...(preprocess ? { preprocess } : {}),
        // the fit's own lines, thinned: its summary and every 10th evaluation (5 per fit)
        log: (s) => {
          if (!s.startsWith('epoch ') || ++epochLines % 10 === 0) log(`${at}: ${s}`);
        },
      });
      try {
        const p = m.estimator.predict({ data: gather(X.data, D, test), width: D }).mean;
        test.forEach((i, j) => pred.set(p[j], i * K));
        chains.push(m.estimator.preprocessing);
        trainSeconds.push(m.info.trainSeconds);
      } finally {
        m.estimator.dispose();
      }
      const s = score(pred, Y.data, n, K, fold, folds, discrete).perFold[f];
      const pf = res.pls?.perFold[f];
      const fmt = (v: { rmsep?: number[]; error?: number }) => (discrete ? `error ${(100 * v.error!).toFixed(1)}%` : `RMSEP ${v.rmsep!.map((x) => x.toPrecision(4)).join(', ')}`);
      log(`${at}: untapped ${fmt(s)}${pf ? `; PLS ${fmt(pf)}` : ''} on ${test.length} rows`);
    }
    res.untapped = { ...score(pred, Y.data, n, K, fold, folds, discrete), chains, trainSeconds, epochs };
  }
  return res;
}

/** Whether `dir` is a directory `untapped cv` wrote (its `cv.json`, finished or not). */
export function isCvDir(dir: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, 'cv.json'), 'utf8')) as { kind?: unknown }).kind === 'untapped-cv';
  } catch {
    return false;
  }
}

/**
 * Refuses an output directory: the current directory (or above), one holding an input, and an
 * existing path without `force` — with it, anything but a directory `cv` wrote.
 * @throws RefusedOutputError naming `--out` and why.
 */
function checkCvOut(out: string, force: boolean | undefined, inputs: string[]): void {
  if (holdsCwd(out)) throw new RefusedOutputError(`--out ${out} is the current directory or holds it; give a new directory name`);
  for (const i of inputs) {
    const rel = path.relative(path.resolve(out), path.resolve(i));
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) throw new RefusedOutputError(`--out ${out} is or holds an input of this command (${i}); give a new directory name`);
  }
  if (!fs.existsSync(out)) return;
  if (!force) throw new RefusedOutputError(`--out ${out} already exists; choose another --out or pass --force to replace it`);
  if (!fs.statSync(out).isDirectory() || !isCvDir(out)) throw new RefusedOutputError(`--out ${out} is not a directory written by \`untapped cv\` (no cv.json of one); --force replaces only those: choose another --out`);
}

/** The group value of every row: from `--groups`, from `--group-size`, or each row its own. */
function readGroups(o: CvOptions, n: number, xIds: string[] | undefined): { groups: number[]; source: string } {
  if (o.groups !== undefined && o.groupSize !== undefined) throw new DataFileError('give either --groups FILE or --group-size N, not both');
  if (o.groupSize !== undefined) {
    if (!Number.isInteger(o.groupSize) || o.groupSize < 1) throw new DataFileError(`--group-size must be a positive integer, got ${o.groupSize}`);
    if (n % o.groupSize !== 0) throw new DataFileError(`--group-size ${o.groupSize}: the ${n} rows of ${o.x} do not split into whole groups of ${o.groupSize} consecutive replicates`);
    return { groups: Array.from({ length: n }, (_, i) => Math.floor(i / o.groupSize!)), source: `--group-size ${o.groupSize}` };
  }
  if (o.groups !== undefined) {
    const g = readTable(o.groups);
    if (g.width !== 1) throw new DataFileError(`${o.groups}: one group value per row expected (plus an optional id column), found ${g.width} columns`);
    if (g.n !== n) throw new DataFileError(`${o.groups}: ${g.n} group values for ${n} rows in ${o.x}; each row of --x needs its group`);
    if (xIds && g.idColumn !== undefined) {
      const i = g.ids.findIndex((id, r) => id !== xIds[r]);
      if (i >= 0) throw new DataFileError(`${rowLocation(g, i)}: id '${g.ids[i]}' does not match '${xIds[i]}' of row ${i + 1} of ${o.x}; the groups must be in the order of --x`);
    }
    return { groups: Array.from(g.data), source: `--groups ${o.groups}` };
  }
  return { groups: Array.from({ length: n }, (_, i) => i), source: 'rows' };
}

/** A number for the report: 4 significant digits, `–` for NaN. */
function num(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '–' : Number(v.toPrecision(4)).toString();
}

/** The markdown report (`cv.md`). */
function markdown(res: CvResult, meta: Record<string, unknown> & { x: string; y: string; grouping: string; epochs: number; seed: number; preprocess: string | null }): string {
  const L: string[] = [];
  const discrete = res.labels === 'discrete';
  L.push(`# Cross-validation: ${res.folds} folds`, '');
  L.push(`- data: ${meta.x} (${res.n} rows), labels ${meta.y} (${res.labels}: ${res.labelNames.join(', ')})`);
  L.push(`- folds: ${res.folds}, groups kept whole by ${meta.grouping}; seed ${meta.seed}; rows per fold ${res.foldGroups.map((_, f) => foldRows(res.fold, f).test.length).join(', ')} (groups ${res.foldGroups.join(', ')})`);
  const toolChain = res.untapped?.chains.find((c) => c !== null)?.spec;
  L.push(`- preprocessing: ${meta.preprocess === null ? (toolChain ? `none for PLS; the tool took fit's default ${toolChain}, fitted in every fold on its training rows` : 'none') : `${meta.preprocess}, refitted on every fold's training rows`}`);
  if (res.untapped) L.push(`- untapped: \`fit\` defaults, ${res.untapped.epochs} epochs per fold (${res.untapped.trainSeconds.map((s) => s.toFixed(0)).join(', ')} s of training)`);
  if (res.pls) L.push(`- PLS${discrete ? '-DA' : ''}: ${res.pls.components} component${res.pls.components === 1 ? '' : 's'}, chosen by the pooled RMSECV over 1–${res.pls.maxComponents} on the same folds (slightly optimistic: the count is chosen on the rows it is scored on)`);
  if (res.plsNested) L.push(`- PLS${discrete ? '-DA' : ''} (nested): the count chosen by an inner cross-validation on each fold's training rows alone (${res.plsNested.components.join(', ')} in folds 1–${res.folds}): an honest estimate`);
  L.push('');
  const models = [...(res.untapped ? [['untapped', res.untapped] as const] : []), ...(res.pls ? [[discrete ? 'PLS-DA' : 'PLS', res.pls] as const] : []), ...(res.plsNested ? [[discrete ? 'PLS-DA (nested)' : 'PLS (nested)', res.plsNested] as const] : [])];
  if (discrete) {
    L.push('| model | CV error rate | wrong / rows |', '| --- | --- | --- |');
    for (const [name, m] of models) L.push(`| ${name} | ${(100 * m.error!.rate).toFixed(2)}% | ${m.error!.wrong} / ${m.error!.n} |`);
  } else {
    L.push('| target | model | RMSECV | bias | SEP | R² |', '| --- | --- | --- | --- | --- | --- |');
    res.labelNames.forEach((t, k) => {
      for (const [name, m] of models) {
        const s = m.stats![k];
        L.push(`| ${t} | ${name} | ${num(s.rmsep)} | ${num(s.bias)} | ${num(s.sep)} | ${num(s.r2)} |`);
      }
    });
  }
  L.push('', '## Per fold', '');
  L.push(`| fold | rows | ${models.map(([name]) => `${name} ${discrete ? 'error' : 'RMSEP'}`).join(' | ')} |`, `| --- | --- |${models.map(() => ' --- |').join('')}`);
  for (let f = 0; f < res.folds; f++) {
    const cells = models.map(([, m]) => (discrete ? `${(100 * m.perFold[f].error!).toFixed(1)}%` : m.perFold[f].rmsep!.map(num).join(', ')));
    L.push(`| ${f + 1} | ${models[0][1].perFold[f].rows} | ${cells.join(' | ')} |`);
  }
  if (res.pls) L.push('', `PLS RMSECV by number of components (pooled over the targets): ${res.pls.rmsecv.map((v, a) => `${a + 1}: ${num(v)}`).join(', ')}.`);
  L.push('', `${discrete ? 'The CV error rate is the share of rows whose predicted class is wrong' : 'RMSECV, bias and SEP are in the units of the labels; bias = mean(predicted − measured)'}. Files: \`predictions.csv\` (row id, fold, measured, each model), \`cv.json\`${res.untapped ? ', the models of every fold in `folds/`' : ''}.`);
  return L.join('\n') + '\n';
}

/**
 * Reads the inputs, checks them (before anything is written), cross-validates ({@link cvData}) and
 * writes `out`: `cv.md`, `cv.json`, `predictions.csv` (id, fold 1-based, measured, then each
 * model's prediction per target; for classes the class indices), `predicted-vs-measured.png` (with
 * `.svg` and `.vl.json`; real targets and compositions, at most 5 targets) and `folds/fold-<f>/`
 * (the tool's model of each fold).
 * @throws DataFileError for a bad file (naming it and the row), a groups file whose row count
 *   differs from `x`, fewer groups than folds; Error for folds < 2 or an unknown model;
 *   RefusedOutputError for an `out` that exists without `force`.
 */
export async function cvFiles(o: CvOptions): Promise<CvResult> {
  const folds = o.folds ?? 5;
  if (!Number.isInteger(folds) || folds < 2) throw new Error(`--folds must be an integer ≥ 2, got ${folds}`);
  const models = o.models ?? ['untapped', 'pls'];
  const bad = models.find((m) => m !== 'untapped' && m !== 'pls');
  if (bad !== undefined || !models.length) throw new Error(`--models: '${bad ?? ''}' is not a model; give a comma-separated list of untapped and pls`);
  if (o.plsMax !== undefined && (!Number.isInteger(o.plsMax) || o.plsMax < 1)) throw new Error(`--pls-max must be a positive integer, got ${o.plsMax}`);
  const preprocess = preprocessOption({ ...(o.preprocess !== undefined ? { preprocess: o.preprocess } : {}) });
  const inputs = [o.x, o.y, o.groups, o.unlabelled].filter((f): f is string => f !== undefined);
  checkCvOut(o.out, o.force, inputs);
  const r = readFitInputs({ x: o.x, y: o.y, out: o.out, ...(o.labels ? { labels: o.labels } : {}), ...(o.unlabelled ? { unlabelled: o.unlabelled } : {}) });
  const n = toMatrix(r.data.labelled!.x, 'x', r.D).n;
  const { groups, source } = readGroups(o, n, r.labelledIds);
  const G = new Set(groups).size;
  if (G < folds) throw new DataFileError(`--folds ${folds}: only ${G} group${G === 1 ? '' : 's'} of rows (${source === 'rows' ? `the ${n} rows of ${o.x}` : source}); each fold needs at least one: use --folds ${G} or fewer`);
  const seed = o.seed ?? 0;
  const fold = groupFolds(groups, folds, seed);
  // one writer at a time for --out (a second cv into it refuses, naming the first's pid)
  const unlock = lockDir(o.out, `cv directory ${o.out}`);
  try {
    return await cvLocked(o, r, fold, groups, source, preprocess, models);
  } finally {
    unlock();
  }
}

async function cvLocked(o: CvOptions, r: FitInputs, fold: Int32Array, groups: number[], source: string, preprocess: string | null, models: CvModel[]): Promise<CvResult> {
  const folds = Math.max(...Array.from(fold)) + 1;
  const n = fold.length;
  const seed = o.seed ?? 0;
  if (preprocess) {
    // pca:k: each fold's training rows must hold k components (checked before anything is written)
    const k = preprocessedWidth(preprocess, r.D);
    // PLS's chain is fitted on a fold's training rows alone (the tool's adds the unlabelled rows): the stricter bound
    const fewest = Math.min(...Array.from({ length: folds }, (_, f) => foldRows(fold, f).train.length));
    const cap = Math.min(r.D, fewest - 1);
    if (parsePreprocessSpec(preprocess).at(-1)?.kind === 'pca' && k > cap) throw new Error(`--preprocess ${preprocess}: the smallest fold's training rows (${fewest}) of ${r.D} channels have at most ${cap} principal components; use pca:k with k ≤ ${cap}`);
  }

  // the output directory: marked as cv's before the folds' models go into it, so --force can replace an interrupted run
  if (fs.existsSync(o.out)) fs.rmSync(o.out, { recursive: true, force: true });
  makeDir(o.out);
  const meta = {
    x: path.resolve(o.x),
    y: path.resolve(o.y),
    ...(o.unlabelled ? { unlabelled: path.resolve(o.unlabelled) } : {}),
    grouping: source === 'rows' ? 'rows (each row its own group)' : source.startsWith('--groups') ? `--groups ${path.resolve(o.groups!)}` : source,
    seed,
    epochs: o.epochs ?? 2000,
    preprocess,
  };
  writeFileAtomic(path.join(o.out, 'cv.json'), JSON.stringify({ kind: 'untapped-cv', version: 1, status: 'running', ...meta }, null, 2) + '\n');

  const res = await cvData(r, fold, { dir: o.out, models, groups, ...(preprocess ? { preprocess } : {}), ...(o.epochs !== undefined ? { epochs: o.epochs } : {}), seed, ...(o.plsMax !== undefined ? { plsMax: o.plsMax } : {}), ...(o.log ? { log: o.log } : {}) });
  res.foldGroups = Array.from({ length: folds }, (_, f) => new Set(foldRows(fold, f).test.map((i) => groups[i])).size);

  // predictions.csv: id, fold, measured, then each model
  const K = r.K;
  const discrete = res.labels === 'discrete';
  const ids = r.labelledIds ?? Array.from({ length: n }, (_, i) => `row ${i + 1}`);
  const names = discrete ? ['class'] : res.labelNames;
  const ms = [...(res.untapped ? [['untapped', res.untapped.predictions] as const] : []), ...(res.pls ? [['pls', res.pls.predictions] as const] : []), ...(res.plsNested ? [['pls_nested', res.plsNested.predictions] as const] : [])];
  const columns = ['fold', ...names.map((t) => `measured_${t}`), ...ms.flatMap(([m]) => names.map((t) => `${m}_${t}`))];
  const rows = Array.from({ length: n }, (_, i) => [
    fold[i] + 1,
    ...(discrete ? [argmaxRow(res.y, i, K)] : Array.from(res.y.subarray(i * K, (i + 1) * K))),
    ...ms.flatMap(([, p]) => (discrete ? [argmaxRow(p, i, K)] : Array.from(p.subarray(i * K, (i + 1) * K)))),
  ]);
  writeFileAtomic(path.join(o.out, 'predictions.csv'), formatCsv(columns, rows, ids, 6));

  // predicted against measured, one colour per model and target, with the 1:1 line
  const files = ['cv.md', 'cv.json', 'predictions.csv'];
  if (!discrete && K * ms.length <= 10) {
    const pts: number[] = [];
    const cls: number[] = [];
    const classNames: string[] = [];
    ms.forEach(([m, p], mi) =>
      res.labelNames.forEach((t, k) => {
        const c = mi * K + k;
        classNames[c] = `${{ pls: 'PLS', pls_nested: 'PLS (nested)', untapped: 'untapped' }[m]}${K > 1 ? ` ${t}` : ''}`;
        for (let i = 0; i < n; i++) {
          pts.push(res.y[i * K + k], p[i * K + k]);
          cls.push(c);
        }
      }),
    );
    scatterPng(path.join(o.out, 'predicted-vs-measured.png'), pts, cls, { title: `out-of-fold predictions, ${folds}-fold CV (${n} rows of ${path.basename(o.x)})`, xLabel: `measured${K === 1 ? ` ${res.labelNames[0]}` : ''}`, yLabel: 'predicted (out of fold)', classNames, diagonal: true });
    files.push('predicted-vs-measured.png');
  }

  const figures = (m: CvModelResult | undefined) => m && (discrete ? { error: m.error } : { perTarget: Object.fromEntries(res.labelNames.map((t, k) => [t, m.stats![k]])) });
  const json = {
    kind: 'untapped-cv',
    version: 1,
    status: 'done',
    created: new Date().toISOString(),
    ...meta,
    labels: res.labels,
    labelNames: res.labelNames,
    rows: n,
    folds,
    fold: Array.from(fold, (f) => f + 1),
    foldRows: Array.from({ length: folds }, (_, f) => foldRows(fold, f).test.length),
    foldGroups: res.foldGroups,
    ...(res.untapped ? { untapped: { epochs: res.untapped.epochs, trainSeconds: res.untapped.trainSeconds, preprocessPerFold: res.untapped.chains.map((c) => c?.spec ?? null), ...figures(res.untapped), perFold: res.untapped.perFold.map((p) => ({ ...p, fold: p.fold + 1 })) } } : {}),
    ...(res.pls ? { pls: { components: res.pls.components, maxComponents: res.pls.maxComponents, rmsecvByComponents: res.pls.rmsecv, ...figures(res.pls), perFold: res.pls.perFold.map((p) => ({ ...p, fold: p.fold + 1 })) } } : {}),
    ...(res.plsNested ? { plsNested: { componentsPerFold: res.plsNested.components, ...figures(res.plsNested), perFold: res.plsNested.perFold.map((p) => ({ ...p, fold: p.fold + 1 })) } } : {}),
  };
  writeFileAtomic(path.join(o.out, 'cv.md'), markdown(res, meta));
  writeFileAtomic(path.join(o.out, 'cv.json'), JSON.stringify(json, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
  o.log?.(`cv: wrote ${o.out} (${files.join(', ')}${res.untapped ? ', folds/' : ''})`);
  return res;
}
