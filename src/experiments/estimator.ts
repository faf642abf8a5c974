/**
 * `UntappedEstimator`: the semi²-supervised model ({@link Semi2Dgm}) behind a small estimator API —
 * `fit({ labelled, unlabelled, unfeatured })`, `predict(x)`, `generate(y, z?)`, `encode(x)`,
 * `score(...)`, `save` / `load` — for users who hold their data as arrays.
 *
 * Training follows Algorithm 1 of `000_…`: each step draws one batch from every source present; the
 * unlabelled inputs (or the labelled pairs when there are none) define an epoch. Unfeatured labels
 * are paired with z drawn from p(z) once per label and redrawn each epoch (the papers' "z observed"
 * choice, bound (20)) unless `unfeaturedZ: 'latent'` asks for bound (10).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { gather } from '../data/batches.js';
import { readUtp, writeUtp } from '../node/files.js';
import { Semi2ConfigSchema, Semi2Dgm, type Semi2Config, type Semi2Weights } from '../models/semi2.js';
import * as fs from 'node:fs';
import { Trainer, type DataSource, type EvalRecord, type SelectOptions, type TrainResult } from '../train/trainer.js';
import type { ProgressOptions } from '../train/progress.js';
import { warmupBeta } from '../objectives/schedules.js';
import { labelWeight } from '../objectives/weights.js';
import { fitPpca, ppcaPosteriorMap } from '../eval/ppca.js';
import { concatArrays } from '../data/dataset.js';
import { checkInside, fromLogit, toLogit, type TargetBounds } from '../data/bounded.js';
import { applyPreprocessing, checkFittedPreprocessing, fitPreprocessing, formatPreprocessSpec, outputWidth, parsePreprocessSpec, undoPreprocessing, type FittedPreprocessing, type RowNaming, type UndoneRows } from '../data/preprocess.js';

/** Rows as nested arrays or a flat Float32Array with a row width. */
export type Rows = number[][] | { data: Float32Array; width: number };

/** The three sources (each optional, at least one needed). */
export interface Semi2Data {
  labelled?: { x: Rows; y: Rows };
  unlabelled?: { x: Rows };
  unfeatured?: { y: Rows };
}

/** Options of {@link UntappedEstimator.fit}. */
export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weights?: Partial<Semi2Weights>;
  /**
   * Epochs over which α_r (the weight of the unfeatured bound) rises linearly from 0 to its value
   * (default 0: no warm-up). It lets p(x | y, z) first learn from the inputs before the reverse bound
   * trains q(y | x) on its generated x.
   */
  alphaRWarmup?: number;
  /** `observed` (bound 20, default) or `latent` (bound 10) for the z of unfeatured labels. */
  unfeaturedZ?: 'observed' | 'latent';
  seed?: number;
  budgetSeconds?: number;
  onEpoch?: (r: EvalRecord) => void;
  /** Called with a warning of the run (a diverging loss); default: printed on stderr. All are in `lastRun.warnings` too. */
  onWarning?: (message: string) => void;
  /** Evaluate (call `evaluate`, `onEpoch`) and checkpoint every this many epochs (default 1). */
  evalEvery?: number;
  /** Metrics computed at each evaluation (e.g. a validation error). */
  evaluate?: (epoch: number) => Record<string, number>;
  /**
   * Keep the weights of the best evaluation by one of `evaluate`'s metrics, stop early after
   * `patience` evaluations without improvement, and end with the best weights (see the trainer's
   * `select`); the outcome is in {@link UntappedEstimator.lastRun}.
   */
  select?: SelectOptions;
  /** Checkpoint file written atomically at each evaluation; with `resume`, training continues from it. */
  checkpointFile?: string;
  /** Continue from `checkpointFile` when it exists (same data, options and seed). */
  resume?: boolean;
  /** Progress display (default: a bar per epoch on stderr); `{ silent: true }` for none. */
  progress?: ProgressOptions;
  /**
   * Subtract the mean input (over the labelled and unlabelled x) before training, as the reference
   * implementation does for its CRISM and LIBS data; kept with the model, so `predict`, `encode` and
   * `score` subtract it and `generate` adds it back. Default false.
   */
  center?: boolean;
  /**
   * A preprocessing chain (`data/preprocess.ts`; e.g. `'snv,sg:11:2:1,autoscale'`) fitted on the
   * labelled and unlabelled x of this fit, kept with the model ({@link UntappedEstimator.preprocessing})
   * and applied to every x the model reads; `generate` undoes its invertible end. With `center`, the
   * mean is taken of the preprocessed rows. Default: none.
   */
  preprocess?: string;
  /**
   * Real targets only: bounds lo < hi per target (`data/bounded.ts`). The networks then see
   * t = log((y − lo) / (hi − y)); predictions, draws and `generate`'s labels are in y's units, every
   * prediction inside the bounds. Kept with the model ({@link UntappedEstimator.yBounds}). Default: none.
   */
  yBounds?: TargetBounds;
}

/**
 * The papers' weights: the CRISM setting of `000_…` appendix A.2.2, (α_f, α_f^d, α_r, α_r^d) =
 * (1, 1, 0.01, 1), with the unlabelled bound training q(y | x) in full. The paper experiments use it.
 */
export const PAPER_WEIGHTS: Readonly<Semi2Weights> = Object.freeze({ alphaF: 1, alphaFd: 1, alphaR: 0.01, alphaRd: 1, yLoss: 'kl', unlabelledQy: 1, qyPrior: 0 });

/**
 * The library's default weights for inputs of `inputDim` channels (what `fit` and
 * {@link UntappedEstimator.fit} use unless told otherwise), derived in `objectives/weights.ts`:
 * (α_f, α_f^d, α_r, α_r^d) = (1, D, 1, 1), and `unlabelledQy: 0`: the unlabelled bound trains
 * p(x | y, z) and q(z | x, y) but does not pull q(y | x) towards codes that help reconstruction
 * (see {@link Semi2Weights.unlabelledQy}; the diagnosis is in `docs/semi-supervised-real.md`). Set
 * `unlabelledQy: 1` where y is the dominant factor of x (images of digits, simulated mixtures).
 * `qyPrior: 1`: a Gaussian prior N(0, 1/fan-in) on the first-layer weights of q(y | x), spread over
 * the labelled rows (see {@link Semi2Weights.qyPrior}); it keeps q(y | x) from interpolating a few
 * labelled rows of a wide table with large weights.
 * @throws if `inputDim` is not a positive integer.
 */
export function defaultWeights(inputDim: number): Semi2Weights {
  return { alphaF: 1, alphaFd: labelWeight(inputDim), alphaR: 1, alphaRd: 1, yLoss: 'kl', unlabelledQy: 0, qyPrior: 1 };
}

/** Converts {@link Rows} to a flat array, checking widths and finiteness; `what` names the source. */
export function toMatrix(rows: Rows, what: string, width?: number): { data: Float32Array; n: number; width: number } {
  if (Array.isArray(rows)) {
    if (rows.length === 0) throw new Error(`${what}: no rows`);
    const w = width ?? rows[0].length;
    const data = new Float32Array(rows.length * w);
    rows.forEach((r, i) => {
      if (r.length !== w) throw new Error(`${what}: row ${i} has ${r.length} values, expected ${w}`);
      r.forEach((v, j) => {
        if (!Number.isFinite(v)) throw new Error(`${what}: row ${i}, column ${j} is ${v}`);
        data[i * w + j] = v;
      });
    });
    return { data, n: rows.length, width: w };
  }
  const { data, width: w } = rows;
  if (width !== undefined && w !== width) throw new Error(`${what}: rows have ${w} values, expected ${width}`);
  if (data.length === 0) throw new Error(`${what}: no rows`);
  if (data.length % w !== 0) throw new Error(`${what}: ${data.length} values do not split into rows of ${w}`);
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) throw new Error(`${what}: row ${Math.floor(i / w)}, column ${i % w} is ${data[i]}`);
  return { data, n: data.length / w, width: w };
}

/** Validates label rows with the model's own check, freeing the temporary tensor. */
function checkLabels(m: Semi2Dgm, data: Float32Array, n: number, what: string): void {
  const t = tf.tensor2d(data, [n, m.config.classes]);
  try {
    m.checkY(t, what);
  } finally {
    t.dispose();
  }
}

/** The semi²-supervised model as an estimator. */
export class UntappedEstimator {
  readonly model: Semi2Dgm;
  /** The mean input subtracted from every x (`center` in {@link FitOptions}); null when none. */
  xMean: Float32Array | null = null;
  /**
   * The fitted preprocessing chain applied to every x before {@link xMean} is subtracted
   * (`preprocess` in {@link FitOptions}; `data/preprocess.ts`); null when none.
   */
  preprocessing: FittedPreprocessing | null = null;
  /** The outcome of the last {@link fit}: epochs, why it stopped, the best evaluation with `select`. */
  lastRun: TrainResult | null = null;
  /** Bounds of real targets (`yBounds` in {@link FitOptions}): the networks see logit-scaled y; null when unbounded. */
  yBounds: TargetBounds | null = null;

  /** Labels as the networks see them: on the logit scale with {@link yBounds} (checked strictly inside), else as given. */
  private modelY(y: Rows, what: string, row: (i: number) => string = (i) => `row ${i + 1}`): Rows {
    const b = this.yBounds;
    if (!b) return y;
    const m = toMatrix(y, what, this.K);
    checkInside(b, m.data, what, row, [], "the model's bounds were set by fit --bounds (a value on a bound is infinitely far on the logit scale)");
    return { data: toLogit(b, m.data), width: this.K };
  }

  /** Rows of labels from the networks back in y's units (the inverse of {@link modelY}). */
  private unitsY(rows: number[][]): number[][] {
    const b = this.yBounds;
    if (!b) return rows;
    return rows.map((r) => fromLogit(b, r));
  }

  /**
   * A new estimator; `config` as {@link Semi2ConfigSchema} (with `inputDim`). With `qyComponents`
   * k > 0, the first {@link fit} fits q(y | x)'s input map (a k-component probabilistic PCA of the
   * labelled and unlabelled inputs); later fits keep it, and {@link save} writes it.
   */
  constructor(config: Partial<Semi2Config> & { inputDim: number }, seed = 0) {
    this.model = new Semi2Dgm(Semi2ConfigSchema.parse({ type: 'untapped', ...config }), new Rng(seed).fork('init'));
  }

  /**
   * Rows as the networks see them: preprocessed ({@link preprocessing}), then minus {@link xMean};
   * `rowName` names a row in preprocessing errors.
   */
  prepared(m: { data: Float32Array; n: number; width: number }, opts: RowNaming = {}): { data: Float32Array; n: number; width: number } {
    const f = this.preprocessing;
    return this.centred(f ? { ...m, data: applyPreprocessing(f, m.data, m.width, opts), width: outputWidth(f) } : m);
  }

  /**
   * Says where {@link generate}'s rows live: null when in the input space (the preprocessing, if
   * any, undone), else a sentence naming the steps that remain applied and why.
   */
  generatedSpace(): string | null {
    const u = this.undoneEnd();
    return u?.remaining.length ? `generated rows are in the preprocessed space of '${formatPreprocessSpec(u.remaining)}', not in the input space: ${u.reason}` : null;
  }

  /** The steps still applied to {@link generate}'s rows, as a spec (e.g. `snv` after `snv,center`), or null when they are in the input space. */
  generatedSpec(): string | null {
    const u = this.undoneEnd();
    return u?.remaining.length ? formatPreprocessSpec(u.remaining) : null;
  }

  /** What undoing the chain leaves applied (see `undoPreprocessing`), or null without a chain. */
  private undoneEnd(): UndoneRows | null {
    const f = this.preprocessing;
    return f ? undoPreprocessing(f, new Float32Array(outputWidth(f)), outputWidth(f)) : null;
  }

  /** A copy of the rows of `m` minus {@link xMean} (or `m` itself when not centring). */
  private centred(m: { data: Float32Array; n: number; width: number }): { data: Float32Array; n: number; width: number } {
    const mu = this.xMean;
    if (!mu) return m;
    const out = new Float32Array(m.data.length);
    for (let i = 0; i < m.data.length; i++) out[i] = m.data[i] - mu[i % m.width];
    return { data: out, n: m.n, width: m.width };
  }

  /** The width of x as the networks read it (`inputDim`: k after a final `pca:k`, else the channels). */
  private get D(): number {
    return this.model.config.inputDim;
  }

  /** Channels of an input row as given (before any preprocessing): the chain's input width, else `inputDim`. */
  get inputWidth(): number {
    return this.preprocessing?.width ?? this.D;
  }

  private get K(): number {
    return this.model.config.classes;
  }

  /**
   * Real labels: fits the prior p(y) = N(μ, diag σ²) on the labelled y (or, without labelled rows,
   * the unfeatured y) — per target the mean and the sd with n − 1 — and sets it on the model
   * (`Semi2Dgm.setYPrior`), so that the networks see standardised targets.
   * @throws when fewer than 2 rows or a target with a single value (sd 0).
   */
  private fitYPrior(data: Semi2Data): void {
    const src = data.labelled?.y ?? data.unfeatured?.y;
    if (!src) throw new Error('fit: real labels need labelled (or unfeatured) y to fit the prior p(y) on');
    const y = toMatrix(src, data.labelled ? 'labelled y' : 'unfeatured y', this.K);
    if (y.n < 2) throw new Error(`fit: real labels need at least 2 rows of y to fit the prior's sd, got ${y.n}`);
    const mean = new Array<number>(this.K).fill(0);
    const sd = new Array<number>(this.K).fill(0);
    for (let i = 0; i < y.data.length; i++) mean[i % this.K] += y.data[i] / y.n;
    for (let i = 0; i < y.data.length; i++) sd[i % this.K] += (y.data[i] - mean[i % this.K]) ** 2 / (y.n - 1);
    const k0 = sd.findIndex((v) => !(v > 0));
    if (k0 >= 0) throw new Error(`fit: target column ${k0} of the ${data.labelled ? 'labelled' : 'unfeatured'} y has one value only (${mean[k0]}); nothing to learn`);
    this.model.setYPrior(mean, sd.map(Math.sqrt));
  }

  /** Trains on the given sources; returns the per-epoch records. */
  async fit(data: Semi2Data, opts: FitOptions = {}): Promise<EvalRecord[]> {
    const bs = opts.batchSize ?? 100;
    if (opts.yBounds) {
      if (this.model.config.labels !== 'real') throw new Error(`fit: bounds are for real targets, not ${this.model.config.labels} labels`);
      if (opts.yBounds.lo.length !== this.K || opts.yBounds.hi.length !== this.K) throw new Error(`fit: ${opts.yBounds.lo.length} bounds for ${this.K} targets`);
    }
    this.yBounds = opts.yBounds ?? null;
    if (this.yBounds) {
      // from here on the labels are on the logit scale
      data = {
        ...data,
        ...(data.labelled ? { labelled: { ...data.labelled, y: this.modelY(data.labelled.y, 'labelled y') } } : {}),
        ...(data.unfeatured ? { unfeatured: { ...data.unfeatured, y: this.modelY(data.unfeatured.y, 'unfeatured y') } } : {}),
      };
    }
    const sources: DataSource[] = [];
    // each input matrix is converted (and checked) once; the mean for centring comes from the raw rows.
    // A chain ending in pca:k reads rows of any width (the same for labelled and unlabelled x) and gives k = inputDim
    const steps = opts.preprocess !== undefined ? parsePreprocessSpec(opts.preprocess) : [];
    const last = steps.at(-1);
    const anyWidth = last?.kind === 'pca';
    if (last?.kind === 'pca' && last.components !== this.D) throw new Error(`fit: the preprocessing '${opts.preprocess}' gives ${last.components} scores, but the model reads ${this.D} inputs (inputDim)`);
    let rawL = data.labelled ? toMatrix(data.labelled.x, 'labelled x', anyWidth ? undefined : this.D) : undefined;
    let rawU = data.unlabelled ? toMatrix(data.unlabelled.x, 'unlabelled x', anyWidth ? rawL?.width : this.D) : undefined;
    const rawWidth = rawL?.width ?? rawU?.width ?? this.D;
    this.preprocessing = null;
    if (steps.length > 0) {
      // fitted on the training inputs (labelled, then unlabelled rows); from here on the rows are as the chain leaves them
      const nL = rawL?.n ?? 0;
      const name = { rowName: (i: number) => (i < nL ? `labelled x row ${i}` : `unlabelled x row ${i - nL}`) };
      const parts = [rawL, rawU].filter((p) => p !== undefined);
      if (parts.length) {
        const f = fitPreprocessing(steps, concatArrays(parts.map((p) => p.data)), rawWidth, name);
        this.preprocessing = f;
        const w = outputWidth(f);
        if (rawL) rawL = { ...rawL, data: applyPreprocessing(f, rawL.data, rawWidth, name), width: w };
        if (rawU) rawU = { ...rawU, data: applyPreprocessing(f, rawU.data, rawWidth, { rowName: (i) => `unlabelled x row ${i}` }), width: w };
      }
    }
    if (this.model.config.likelihood === 'bernoulli') {
      // a Bernoulli p(x | y, z) is a density only on [0, 1]; outside it the bound is meaningless (and can be positive)
      for (const [what, r] of [['labelled x', rawL], ['unlabelled x', rawU]] as const) {
        if (!r) continue;
        const i = r.data.findIndex((v) => !(v >= 0 && v <= 1));
        if (i >= 0) throw new Error(`${what}: row ${Math.floor(i / r.width)}, column ${i % r.width} is ${r.data[i]}${this.preprocessing ? ` after the preprocessing '${this.preprocessing.spec}'` : ''}: the Bernoulli likelihood needs inputs in [0, 1]; scale the data or use likelihood 'gaussian'`);
      }
    }
    if (opts.center) {
      const mu = new Float64Array(this.D);
      let n = 0;
      for (const p of [rawL, rawU]) {
        if (!p) continue;
        for (let i = 0; i < p.data.length; i++) mu[i % this.D] += p.data[i];
        n += p.n;
      }
      this.xMean = n > 0 ? Float32Array.from(mu, (v) => v / n) : null;
    } else this.xMean = null;
    const m = this.model;
    const kq = m.config.qyComponents;
    if (kq > 0 && !m.qyProjection()) {
      // q(y | x)'s input map: a PPCA of every input row the model sees (labelled and unlabelled), as it sees them
      const parts = [rawL, rawU].filter((p) => p !== undefined).map((p) => this.centred(p));
      const nAll = parts.reduce((s, p) => s + p.n, 0);
      if (nAll < kq) throw new Error(`fit: qyComponents ${kq} needs at least ${kq} input rows (labelled + unlabelled), got ${nAll}`);
      const all = new Float32Array(nAll * this.D);
      let off = 0;
      for (const p of parts) {
        all.set(p.data, off);
        off += p.data.length;
      }
      const pp = fitPpca(all, this.D, kq);
      m.setQyProjection(pp.mean, ppcaPosteriorMap(pp));
    }
    if (rawU) {
      const u = this.centred(rawU);
      sources.push({ name: 'unlabelled', size: u.n, batchSize: Math.min(bs, u.n), batch: (rows) => ({ x: tf.tensor2d(gather(u.data, this.D, rows), [rows.length, this.D]) }) });
    }
    if (m.config.labels === 'real' && !m.config.yPrior) this.fitYPrior(data);
    if (data.labelled && rawL) {
      const x = this.centred(rawL);
      const y = toMatrix(data.labelled.y, 'labelled y', this.K);
      if (x.n !== y.n) throw new Error(`labelled: ${x.n} rows of x but ${y.n} rows of y`);
      checkLabels(m, y.data, y.n, 'labelled y');
      sources.push({
        name: 'labelled',
        size: x.n,
        batchSize: Math.min(bs, x.n),
        batch: (rows) => ({ x: tf.tensor2d(gather(x.data, this.D, rows), [rows.length, this.D]), y: tf.tensor2d(gather(y.data, this.K, rows), [rows.length, this.K]) }),
      });
    }
    if (data.unfeatured) {
      const y = toMatrix(data.unfeatured.y, 'unfeatured y', this.K);
      checkLabels(m, y.data, y.n, 'unfeatured y');
      const observed = (opts.unfeaturedZ ?? 'observed') === 'observed';
      const d = m.config.latent;
      let zRng: Rng | null = null;
      let zAll: Float32Array = new Float32Array(0);
      sources.push({
        name: 'unfeatured',
        size: y.n,
        batchSize: Math.min(bs, y.n),
        batch: (rows, rng) => {
          const out: Record<string, tf.Tensor> = { y: tf.tensor2d(gather(y.data, this.K, rows), [rows.length, this.K]) };
          if (observed) {
            // one z per unfeatured label, redrawn when a new epoch's generator arrives
            if (rng !== zRng) {
              zAll = m.fillPriorZ(rng.fork('unfeatured-z'), y.n);
              zRng = rng;
            }
            out.z = tf.tensor2d(gather(zAll, d, rows), [rows.length, d]);
          }
          return out;
        },
      });
    }
    if (sources.length === 0) throw new Error('fit: give at least one of labelled, unlabelled, unfeatured');
    // the prior on q(y | x)'s first layer is spread over the labelled rows (or, without labels, the rows of an epoch)
    const priorRows = rawL?.n ?? sources[0].size;
    const w: Semi2Weights = { ...defaultWeights(this.D), qyPriorRows: priorRows, ...opts.weights };
    const trainer = new Trainer({
      params: m.params,
      sources,
      objective: (batch, ctx) =>
        m.loss(
          {
            ...(batch.labelled ? { labelled: { x: batch.labelled.x, y: batch.labelled.y } } : {}),
            ...(batch.unlabelled ? { unlabelled: { x: batch.unlabelled.x } } : {}),
            ...(batch.unfeatured ? { unfeatured: { y: batch.unfeatured.y, ...(batch.unfeatured.z ? { z: batch.unfeatured.z } : {}) } } : {}),
          },
          ctx.rng,
          opts.alphaRWarmup ? { ...w, alphaR: warmupBeta(ctx.epoch, opts.alphaRWarmup, w.alphaR) } : w,
        ),
      epochs: opts.epochs ?? 100,
      lr: opts.lr ?? 3e-3,
      seed: opts.seed ?? 0,
      adam: { clipNorm: 10 },
      onEval: opts.onEpoch,
      ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
      evalEvery: opts.evalEvery ?? 1,
      ...(opts.evaluate ? { evaluate: opts.evaluate } : {}),
      ...(opts.select ? { select: opts.select } : {}),
      ...(opts.checkpointFile ? { checkpointFile: opts.checkpointFile } : {}),
      ...(opts.progress ? { progress: opts.progress } : {}),
      ...(opts.budgetSeconds ? { budgetSeconds: opts.budgetSeconds } : {}),
    });
    if (opts.resume && opts.checkpointFile && fs.existsSync(opts.checkpointFile)) trainer.restore(opts.checkpointFile);
    try {
      const r = await trainer.run();
      this.lastRun = r;
      return r.history;
    } finally {
      trainer.dispose();
    }
  }

  /**
   * Predicted labels for x: the mean ȳ [n, K] and, when `samples` > 0, draws [samples, n, K];
   * `rowName` names a row in preprocessing errors. A deterministic model (`variational: false`) has
   * no posterior spread: its draws all equal ȳ.
   */
  predict(x: Rows, opts: { samples?: number; seed?: number } & RowNaming = {}): { mean: number[][]; samples?: number[][][] } {
    const X = this.prepared(toMatrix(x, 'x', this.inputWidth), opts.rowName ? { rowName: opts.rowName } : {});
    return tf.tidy(() => {
      const xt = tf.tensor2d(X.data, [X.n, this.D]);
      // bounded targets: the mean on the logit scale maps to the median of q(y | x) in y's units
      const mean = this.unitsY(this.model.predict(xt).arraySync() as number[][]);
      if (!opts.samples) return { mean };
      if (!this.model.config.variational) return { mean, samples: Array.from({ length: opts.samples }, () => mean.map((r) => [...r])) };
      const s = (this.model.sampleY(xt, opts.samples, new Rng(opts.seed ?? 0)).arraySync() as number[][][]).map((d) => this.unitsY(d));
      return { mean, samples: s };
    });
  }

  /**
   * Generated inputs (means of p(x | y, z)) for labels y; z defaults to the centre of p(z) (the box's
   * middle, or 0). With {@link preprocessing}, its invertible end (centre, autoscale) is undone; rows
   * of a chain with SNV, MSC or Savitzky–Golay stay in the space those steps leave
   * ({@link generatedSpace} says which).
   */
  generate(y: Rows, z?: Rows): number[][] {
    const Y = toMatrix(this.modelY(y, 'generate --y', (i) => `label ${i + 1}`), 'y', this.K);
    const d = this.model.config.latent;
    const Z = z ? toMatrix(z, 'z', d) : { data: new Float32Array(Y.n * d).fill(this.model.zCentre()), n: Y.n, width: d };
    if (Z.n !== Y.n) throw new Error(`generate: ${Y.n} labels but ${Z.n} rows of z`);
    const mu = this.xMean;
    return tf.tidy(() => {
      let g = this.model.generate(tf.tensor2d(Y.data, [Y.n, this.K]), tf.tensor2d(Z.data, [Z.n, d]));
      if (mu) g = tf.add(g, tf.tensor1d(mu));
      const f = this.preprocessing;
      if (!f) return g.arraySync() as number[][];
      const back = undoPreprocessing(f, g.dataSync() as Float32Array, this.D).rows;
      const W = f.width;
      return Array.from({ length: Y.n }, (_, i) => Array.from(back.subarray(i * W, (i + 1) * W)));
    });
  }

  /**
   * Rows as {@link generate} would give them: preprocessed and centred as the networks see them,
   * then mapped back as generated rows are (the input mean added, the invertible end of the chain
   * undone). Without preprocessing, or with a chain that can be undone entirely, these are the rows
   * themselves (after `pca:k`: their projection onto the components' span); after SNV, MSC or
   * Savitzky–Golay, the rows in the space those steps leave, where the generated rows are too.
   * @returns n rows of the input width.
   */
  inGeneratedSpace(x: Rows): number[][] {
    const X = this.prepared(toMatrix(x, 'x', this.inputWidth));
    const mu = this.xMean;
    const data = mu ? X.data.map((v, i) => v + mu[i % X.width]) : X.data;
    const f = this.preprocessing;
    const back = f ? undoPreprocessing(f, data, X.width).rows : data;
    const W = this.inputWidth;
    return Array.from({ length: X.n }, (_, i) => Array.from(back.subarray(i * W, (i + 1) * W)));
  }

  /** Nuisances of x: the median of q(z | x, y) with y = ȳ (or the given labels), [n, d]. */
  encode(x: Rows, y?: Rows): number[][] {
    const X = this.prepared(toMatrix(x, 'x', this.inputWidth));
    return tf.tidy(() => {
      const xt = tf.tensor2d(X.data, [X.n, this.D]);
      const yt = y ? tf.tensor2d(toMatrix(this.modelY(y, 'y'), 'y', this.K).data, [X.n, this.K]) : this.model.predict(xt);
      return this.model.encodeMedian(xt, yt).arraySync() as number[][];
    });
  }

  /**
   * Mean per-source bounds (nats per example) on the given data, one Monte Carlo draw each. A
   * deterministic model (`variational: false`) has no bounds: it reports minus its per-source
   * losses instead (labelled: L(ȳ, y); unlabelled: the x reconstruction error; unfeatured: the y
   * reconstruction error), higher again being better.
   */
  score(data: Semi2Data, seed = 0): { labelled?: number; unlabelled?: number; unfeatured?: number } {
    const rng = new Rng(seed);
    const out: { labelled?: number; unlabelled?: number; unfeatured?: number } = {};
    if (!this.model.config.variational) {
      tf.tidy(() => {
        const mean = (t: tf.Tensor) => -tf.mean(t).dataSync()[0];
        if (data.labelled) {
          const X = this.prepared(toMatrix(data.labelled.x, 'labelled x', this.inputWidth));
          const Y = toMatrix(this.modelY(data.labelled.y, 'labelled y'), 'labelled y', this.K);
          out.labelled = mean(this.model.lossY(tf.tensor2d(X.data, [X.n, this.D]), tf.tensor2d(Y.data, [Y.n, this.K])));
        }
        if (data.unlabelled) {
          const X = this.prepared(toMatrix(data.unlabelled.x, 'unlabelled x', this.inputWidth));
          out.unlabelled = mean(this.model.reconstructionX(tf.tensor2d(X.data, [X.n, this.D])));
        }
        if (data.unfeatured) {
          const Y = toMatrix(this.modelY(data.unfeatured.y, 'unfeatured y'), 'unfeatured y', this.K);
          out.unfeatured = mean(this.model.reconstructionY(tf.tensor2d(Y.data, [Y.n, this.K]), rng));
        }
      });
      return out;
    }
    tf.tidy(() => {
      if (data.labelled) {
        const X = this.prepared(toMatrix(data.labelled.x, 'labelled x', this.inputWidth));
        const Y = toMatrix(this.modelY(data.labelled.y, 'labelled y'), 'labelled y', this.K);
        out.labelled = tf.mean(this.model.boundLabelledForward(tf.tensor2d(X.data, [X.n, this.D]), tf.tensor2d(Y.data, [Y.n, this.K]), rng)).dataSync()[0];
      }
      if (data.unlabelled) {
        const X = this.prepared(toMatrix(data.unlabelled.x, 'unlabelled x', this.inputWidth));
        out.unlabelled = tf.mean(this.model.boundUnlabelled(tf.tensor2d(X.data, [X.n, this.D]), rng)).dataSync()[0];
      }
      if (data.unfeatured) {
        const Y = toMatrix(this.modelY(data.unfeatured.y, 'unfeatured y'), 'unfeatured y', this.K);
        out.unfeatured = tf.mean(this.model.boundUnfeatured(tf.tensor2d(Y.data, [Y.n, this.K]), rng)).dataSync()[0];
      }
    });
    return out;
  }

  /**
   * Writes weights and configuration atomically: a `.utp` file of kind `untapped-estimator` whose
   * header `meta` holds `config`, `xMean` (when centring), `preprocessing` (the fitted chain, plain
   * JSON, when there is one) and `qyProjection` (when q(y | x) reads
   * components: `mean`, length D, and `map`, D × k row-major), and whose tensors are the weights.
   */
  save(file: string): void {
    const proj = this.model.qyProjection();
    if (this.model.config.qyComponents > 0 && !proj) throw new Error(`save: q(y | x)'s input map is not fitted yet (fit the estimator first)`);
    writeUtp(file, {
      kind: 'untapped-estimator',
      meta: { config: this.model.config, ...(this.xMean ? { xMean: Array.from(this.xMean) } : {}), ...(this.preprocessing ? { preprocessing: this.preprocessing } : {}), ...(this.yBounds ? { yBounds: this.yBounds } : {}), ...(proj ? { qyProjection: { mean: Array.from(proj.mean), map: Array.from(proj.P) } } : {}) },
      tensors: this.model.params.snapshot(),
    });
  }

  /** Loads an estimator written by {@link save}; errors name the file. */
  static load(file: string): UntappedEstimator {
    const c = readUtp(file);
    if (c.kind !== 'untapped-estimator') throw new Error(`${file}: holds a '${c.kind}', not an untapped estimator`);
    const meta = c.meta as { config: Semi2Config & { inputDim: number }; xMean?: number[]; preprocessing?: unknown; yBounds?: TargetBounds; qyProjection?: { mean: number[]; map: number[] } };
    // files written before q(y | x) could read a projection have no qyComponents: x itself
    const est = new UntappedEstimator(meta.config);
    if (est.model.config.qyComponents > 0) {
      if (!meta.qyProjection) throw new Error(`${file}: the model's q(y | x) reads ${est.model.config.qyComponents} components but the file has no qyProjection`);
      try {
        est.model.setQyProjection(meta.qyProjection.mean, meta.qyProjection.map);
      } catch (e) {
        throw new Error(`${file}: ${(e as Error).message}`);
      }
    }
    if (meta.xMean) {
      if (meta.xMean.length !== meta.config.inputDim) throw new Error(`${file}: xMean has ${meta.xMean.length} values for ${meta.config.inputDim} inputs`);
      est.xMean = Float32Array.from(meta.xMean);
    }
    if (meta.preprocessing !== undefined) est.preprocessing = checkFittedPreprocessing(meta.preprocessing, meta.config.inputDim, file);
    if (meta.yBounds !== undefined) {
      const b = meta.yBounds;
      const K = est.model.config.classes;
      const ok = (a: unknown) => Array.isArray(a) && a.length === K && a.every((v) => typeof v === 'number' && Number.isFinite(v));
      if (est.model.config.labels !== 'real' || !ok(b.lo) || !ok(b.hi) || b.lo.some((v, k) => !(v < b.hi[k]))) throw new Error(`${file}: yBounds must be ${K} pairs lo < hi of finite numbers, for real targets`);
      est.yBounds = { lo: [...b.lo], hi: [...b.hi] };
    }
    est.model.params.load(c.tensors, file);
    return est;
  }

  /** Frees the model. */
  dispose(): void {
    this.model.dispose();
  }
}
