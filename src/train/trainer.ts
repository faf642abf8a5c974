/**
 * The trainer: minibatch optimisation over one or more data sources, knowing nothing of the model.
 *
 * Each step draws one batch from every source (e.g. `labelled` and `unlabelled`, later `unfeatured`),
 * asks the objective for a scalar loss, and applies Adam with global-norm clipping. An epoch is one
 * pass over the first source; other sources are reshuffled each epoch and cycled as needed. All
 * randomness of epoch e comes from `Rng(seed).fork('epoch-e')`, so a run resumed from the checkpoint
 * written after epoch e repeats, bit for bit, what the uninterrupted run would have done.
 *
 * Every `evalEvery` epochs (and after the last) it evaluates, appends a JSON line to the log and
 * writes a checkpoint atomically (weights, optimiser state, history). A non-finite loss or gradient
 * stops the run with a {@link TrainingDivergedError} before anything is saved, so the last good
 * checkpoint stays on disk.
 *
 * With `select` it also keeps the best weights by one evaluation metric (e.g. a validation error):
 * a copy of the weights at the best value so far, carried in every checkpoint with the count of
 * evaluations since; after `patience` evaluations without improvement training stops early, and
 * at the end of the run the parameters hold the best weights, not the last.
 *
 * Checkpoints and the log are named by path and kept in a {@link RunStorage}: the `storage` option,
 * else the host's (the Node entry registers the file system, so in Node they are files as always);
 * a trainer given neither a checkpoint nor a log file needs no storage at all.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import type { ParamStore } from '../nn/params.js';
import { learningRate, type LrSchedule } from '../objectives/schedules.js';
import { decodeUtp, encodeUtp, type NamedArray } from '../io/format.js';
import type { RunStorage } from '../io/storage.js';
import { host } from '../engine/host.js';
import { Adam, type AdamOptions } from './adam.js';
import { Progress, type ProgressOptions } from './progress.js';

/** Name prefix of the best weights' tensors in a checkpoint. */
const BEST_PREFIX = 'best:';

/**
 * A step loss more than this many times above its best so far (by the best's magnitude, at least 1:
 * loss > best + DIVERGENCE_FACTOR · max(|best|, 1)) is reported as divergence: a warning in the log,
 * through `onWarning`, and in {@link TrainResult.warnings}.
 */
export const DIVERGENCE_FACTOR = 1e3;

/** The watch on the training loss behind the divergence warning (kept in checkpoints). */
export interface LossWatch {
  /** Lowest step loss so far, with its epoch (1-based) and global step. */
  best: { loss: number; epoch: number; step: number } | null;
  /** The first step whose loss was past the threshold, and the highest loss since. */
  first: { loss: number; epoch: number; step: number } | null;
  worst: { loss: number; epoch: number; step: number } | null;
}

/** A source of training rows (labelled pairs, unlabelled inputs, unfeatured labels, …). */
export interface DataSource {
  /** Source name, used as the key of its batch (e.g. `unlabelled`). */
  readonly name: string;
  /** Number of rows. */
  readonly size: number;
  /** Rows per step. */
  readonly batchSize: number;
  /** Tensors for the given rows; may draw from `rng` (e.g. dynamic binarisation). */
  batch(rows: Int32Array, rng: Rng): Record<string, tf.Tensor>;
}

/** What the objective sees at each step. */
export interface StepContext {
  /** Randomness for this step (reparameterisation noise, …). */
  rng: Rng;
  /** Epochs completed, fractional (e.g. 2.5 halfway through the third epoch). */
  epoch: number;
  /** Global step count (0-based). */
  step: number;
}

/** One step's batch: source name → field name → tensor. */
export type Batch = Record<string, Record<string, tf.Tensor>>;

/** The loss to minimise (a scalar tensor) for a batch. */
export type Objective = (batch: Batch, ctx: StepContext) => tf.Scalar;

/** One evaluation record, as logged. */
export interface EvalRecord {
  epoch: number;
  step: number;
  /** Mean training loss over the epochs since the previous evaluation. */
  trainLoss: number;
  /** Metrics returned by the evaluate callback. */
  metrics: Record<string, number>;
  /** What the `detail` callback returned at this evaluation (e.g. the per-unit KL of every stochastic layer); absent without one. */
  detail?: Record<string, unknown>;
  /** Learning rate at the end of the epoch. */
  lr: number;
  /** Seconds of training (not evaluation) so far, summed over resumed segments. */
  trainSeconds: number;
  time: string;
}

/** Model selection by an evaluation metric: see {@link TrainerOptions.select}. */
export interface SelectOptions {
  /** Name of a metric returned by `evaluate`. */
  metric: string;
  /** Whether lower (`min`) or higher (`max`) values are better. */
  mode: 'min' | 'max';
  /** Stop after this many evaluations in a row without a strict improvement; 0 or absent: never stop early. */
  patience?: number;
  /**
   * Never stop early before this many epochs (default 0): a curve that starts flat, or whose first
   * evaluation is low by chance, gets time to move before patience can end the run.
   */
  minEpochs?: number;
  /** Load the best weights into the parameters when the run ends (default true). */
  restoreBest?: boolean;
}

/** The state of model selection: the best evaluation so far and the evaluations since. */
export interface SelectState {
  metric: string;
  mode: 'min' | 'max';
  /** Epoch of the best evaluation (null before the first). */
  bestEpoch: number | null;
  bestValue: number | null;
  /** Evaluations since the best one. */
  sinceBest: number;
}

/** Options of {@link Trainer}. */
export interface TrainerOptions {
  params: ParamStore;
  objective: Objective;
  sources: DataSource[];
  epochs: number;
  lr: number;
  lrSchedule?: LrSchedule;
  adam?: AdamOptions;
  seed: number;
  /** Evaluate and checkpoint every this many epochs (the last epoch always). */
  evalEvery?: number;
  evaluate?: (epoch: number) => Promise<Record<string, number>> | Record<string, number>;
  /**
   * Called after `evaluate` at each evaluation; what it returns (JSON-serialisable: arrays, not typed
   * arrays) is kept as the record's `detail`, in the history, the checkpoint and the log. For
   * numbers that are not single metrics, such as the per-unit KL of every layer (appendix B fig. 4).
   */
  detail?: (epoch: number) => Record<string, unknown>;
  /** Where to write checkpoints; none when omitted. */
  checkpointFile?: string;
  /** Extra metadata stored in every checkpoint (e.g. the run config). */
  checkpointMeta?: Record<string, unknown>;
  /** JSONL log file; records are appended. */
  logFile?: string;
  /**
   * Where `checkpointFile` and `logFile` are kept; default: the host's storage (the file system
   * under the Node entry). Needed only with one of them.
   */
  storage?: RunStorage;
  /** Extra fields for the log's `start` record (e.g. engine info). */
  logStart?: Record<string, unknown>;
  progress?: ProgressOptions;
  /** Called after each evaluation. */
  onEval?: (r: EvalRecord) => void;
  /**
   * Called with a warning (a loss that grew by orders of magnitude: see {@link DIVERGENCE_FACTOR});
   * default: printed on stderr as `untapped: warning: …`.
   */
  onWarning?: (message: string) => void;
  /** Stop after this many seconds of training (checked at the end of each epoch, which is then evaluated and checkpointed). */
  budgetSeconds?: number;
  /**
   * Keep the weights of the best evaluation by `metric` (in memory and in every checkpoint), stop
   * after `patience` evaluations without improvement, and end the run with the best weights loaded.
   */
  select?: SelectOptions;
}

/** Raised when the loss or the gradients become NaN or infinite. */
export class TrainingDivergedError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}

/** What {@link Trainer.run} returns. */
export interface TrainResult {
  epochs: number;
  steps: number;
  history: EvalRecord[];
  /** Why training ended: all epochs done, the time budget spent, or `select.patience` evaluations without improvement. */
  stoppedBy: 'epochs' | 'budget' | 'patience';
  /** With `select`: the best evaluation (whose weights the parameters hold unless `restoreBest` is false). */
  best?: { metric: string; epoch: number; value: number };
  /** Warnings of the run (over resumed segments): a loss that grew by orders of magnitude; empty when none. */
  warnings: string[];
  /** The loss watch behind the divergence warning (`first` is null when the loss never diverged). */
  lossWatch: LossWatch;
}

/** Minibatch trainer with Adam, schedules, evaluation, checkpoints, resume and NaN guard. */
export class Trainer {
  private readonly adam: Adam;
  private readonly vars: { name: string; variable: tf.Variable }[];
  private epochsDone = 0;
  private steps = 0;
  private trainSeconds = 0;
  private history: EvalRecord[] = [];
  private sel: SelectState | null = null;
  private bestWeights: Map<string, NamedArray> | null = null;
  private watch: LossWatch = { best: null, first: null, worst: null };
  private warnings: string[] = [];

  constructor(private readonly o: TrainerOptions) {
    if (!(o.epochs >= 0) || !Number.isInteger(o.epochs)) throw new Error(`epochs must be a non-negative integer, got ${o.epochs}`);
    if (!(o.lr > 0)) throw new Error(`learning rate must be > 0, got ${o.lr}`);
    if (o.sources.length === 0) throw new Error('the trainer needs at least one data source');
    for (const s of o.sources) {
      if (!(s.size > 0)) throw new Error(`data source '${s.name}' is empty`);
      if (!(s.batchSize >= 1)) throw new Error(`data source '${s.name}': batch size must be ≥ 1`);
    }
    if (o.select) {
      const p = o.select.patience ?? 0;
      if (!(p >= 0) || !Number.isInteger(p)) throw new Error(`select.patience must be a non-negative integer, got ${p}`);
      const me = o.select.minEpochs ?? 0;
      if (!(me >= 0) || !Number.isInteger(me)) throw new Error(`select.minEpochs must be a non-negative integer, got ${me}`);
      if (!o.select.metric) throw new Error('select.metric must name a metric of the evaluation');
      if (o.select.mode !== 'min' && o.select.mode !== 'max') throw new Error(`select.mode must be 'min' or 'max', got '${String(o.select.mode)}'`);
      this.sel = { metric: o.select.metric, mode: o.select.mode, bestEpoch: null, bestValue: null, sinceBest: 0 };
    }
    if ((o.checkpointFile || o.logFile) && !(o.storage ?? host().storage)) {
      throw new Error(`${o.checkpointFile ?? o.logFile}: no storage for the trainer's ${o.checkpointFile ? 'checkpoint' : 'log'}; pass the storage option (e.g. memoryStorage()) or run under the Node entry, untapped/node, which stores files`);
    }
    this.vars = o.params.entries().map(([name, variable]) => ({ name, variable }));
    this.adam = new Adam(this.vars, o.adam);
  }

  /** Steps in one epoch: full batches of the first source (at least one). */
  get stepsPerEpoch(): number {
    const s = this.o.sources[0];
    return Math.max(1, Math.floor(s.size / s.batchSize));
  }

  /** Epochs completed (after {@link restore}, those of the checkpoint). */
  get epoch(): number {
    return this.epochsDone;
  }

  /**
   * Restores weights, optimiser state and history from a checkpoint written by this trainer.
   * @returns the checkpoint's metadata (`checkpointMeta` as saved) for the caller to compare.
   */
  restore(file: string): Record<string, unknown> {
    const c = decodeUtp(this.storage().read(file), file);
    if (c.kind !== 'checkpoint') throw new Error(`${file}: expected a checkpoint, found '${c.kind}'`);
    const params = new Map<string, NamedArray>();
    const opt = new Map<string, NamedArray>();
    const best = new Map<string, NamedArray>();
    for (const [k, v] of c.tensors) {
      if (k.startsWith(BEST_PREFIX)) best.set(k.slice(BEST_PREFIX.length), v);
      else (k.startsWith('adam.') ? opt : params).set(k, v);
    }
    const tr = c.meta.trainer as { epoch: number; step: number; adamT: number; trainSeconds: number; history: EvalRecord[]; seed: number; select?: SelectState; lossWatch?: LossWatch; warnings?: string[] };
    if (tr.seed !== this.o.seed) throw new Error(`${file}: the checkpoint was trained with seed ${tr.seed}, this run has seed ${this.o.seed}; resuming would not repeat the run`);
    const want = this.sel;
    const had = tr.select ?? null;
    if ((want === null) !== (had === null) || (want && had && (want.metric !== had.metric || want.mode !== had.mode))) {
      const say = (s: SelectState | null) => (s ? `selection by ${s.mode} '${s.metric}'` : 'no model selection');
      throw new Error(`${file}: the checkpoint was trained with ${say(had)}, this run has ${say(want)}; resuming would not repeat the run`);
    }
    this.o.params.load(params, file);
    this.adam.load(tr.adamT, opt, file);
    if (had) {
      this.sel = { ...had };
      if (had.bestEpoch !== null) {
        for (const [name, v] of this.o.params.entries()) {
          const w = best.get(name);
          if (!w || w.data.length !== v.size) throw new Error(`${file}: the best weights lack parameter '${name}' or have another size`);
        }
        this.bestWeights = best;
      }
    }
    this.epochsDone = tr.epoch;
    this.steps = tr.step;
    this.trainSeconds = tr.trainSeconds;
    this.history = tr.history;
    this.watch = tr.lossWatch ?? { best: null, first: null, worst: null };
    this.warnings = tr.warnings ?? [];
    this.log({ type: 'resume', epoch: tr.epoch, step: tr.step, file });
    return (c.meta.user as Record<string, unknown>) ?? {};
  }

  /** The evaluation history so far (after {@link restore}, the checkpoint's); a copy. */
  historySoFar(): EvalRecord[] {
    return [...this.history];
  }

  /** The state of model selection (null without `select`); a copy. */
  selection(): SelectState | null {
    return this.sel ? { ...this.sel } : null;
  }

  /** Whether `select.patience` evaluations in a row have passed without improvement (and `select.minEpochs` epochs are done). */
  private patienceSpent(): boolean {
    const p = this.o.select?.patience ?? 0;
    return this.sel !== null && p > 0 && this.sel.bestEpoch !== null && this.sel.sinceBest >= p && this.epochsDone >= (this.o.select?.minEpochs ?? 0);
  }

  /** Updates the selection state with one evaluation's metrics; copies the weights on improvement. */
  private updateSelection(metrics: Record<string, number>): void {
    const s = this.sel;
    if (!s) return;
    const v = metrics[s.metric];
    if (v === undefined) throw new Error(`select: the evaluation after epoch ${this.epochsDone} returned no metric '${s.metric}' (it returned: ${Object.keys(metrics).join(', ') || 'none'})`);
    const better = s.bestValue === null || (s.mode === 'min' ? v < s.bestValue : v > s.bestValue);
    if (better) {
      s.bestEpoch = this.epochsDone;
      s.bestValue = v;
      s.sinceBest = 0;
      this.bestWeights = this.o.params.snapshot();
    } else s.sinceBest += 1;
  }

  /** Runs until `epochs` epochs are done (or the time budget or `select.patience` is spent). */
  async run(): Promise<TrainResult> {
    const o = this.o;
    const schedule = o.lrSchedule ?? { kind: 'constant' };
    const evalEvery = o.evalEvery ?? 1;
    const root = new Rng(o.seed);
    const spe = this.stepsPerEpoch;
    if (this.steps === 0) this.log({ type: 'start', time: new Date().toISOString(), seed: o.seed, epochs: o.epochs, stepsPerEpoch: spe, ...o.logStart });
    let lossSum = 0;
    let lossCount = 0;
    let stoppedBy: TrainResult['stoppedBy'] = 'epochs';
    while (this.epochsDone < o.epochs) {
      if (this.patienceSpent()) {
        stoppedBy = 'patience';
        break;
      }
      const e = this.epochsDone;
      const erng = root.fork(`epoch-${e}`);
      const orders = o.sources.map((s) => ({ s, perm: erng.permutation(s.size), pos: 0 }));
      const bar = new Progress(`epoch ${e + 1}/${o.epochs}`, spe, o.progress);
      const t0 = performance.now();
      let lr = o.lr;
      for (let i = 0; i < spe; i++) {
        lr = learningRate(o.lr, schedule, e + i / spe, o.epochs);
        const loss = this.step(orders, erng, { epoch: e + i / spe, step: this.steps }, lr, i);
        this.watchLoss(loss, e + 1, this.steps - 1, lr);
        lossSum += loss;
        lossCount += 1;
        bar.tick(1, `loss ${(lossSum / lossCount).toFixed(3)}`);
      }
      bar.finish();
      this.trainSeconds += (performance.now() - t0) / 1000;
      this.epochsDone = e + 1;
      const outOfBudget = o.budgetSeconds !== undefined && this.trainSeconds >= o.budgetSeconds;
      if (this.epochsDone % evalEvery === 0 || this.epochsDone === o.epochs || outOfBudget) {
        const metrics = o.evaluate ? await o.evaluate(this.epochsDone) : {};
        for (const [k, v] of Object.entries(metrics)) {
          if (!Number.isFinite(v)) throw new TrainingDivergedError(`evaluation metric '${k}' is ${v} after epoch ${this.epochsDone}; the checkpoint of epoch ${this.history.at(-1)?.epoch ?? 0} is kept`, { metric: k, value: v });
        }
        const detail = o.detail?.(this.epochsDone);
        const rec: EvalRecord = { epoch: this.epochsDone, step: this.steps, trainLoss: lossSum / Math.max(1, lossCount), metrics, ...(detail && Object.keys(detail).length ? { detail } : {}), lr, trainSeconds: this.trainSeconds, time: new Date().toISOString() };
        lossSum = 0;
        lossCount = 0;
        this.history.push(rec);
        this.updateSelection(metrics);
        this.checkpoint(); // before the log line, so the log never shows an epoch the checkpoint lacks
        this.log({ type: 'eval', ...rec, ...(this.sel ? { select: { ...this.sel } } : {}) });
        o.onEval?.(rec);
      }
      if (outOfBudget) {
        stoppedBy = 'budget';
        break;
      }
    }
    if (stoppedBy === 'epochs' && this.patienceSpent()) stoppedBy = 'patience'; // patience ran out at the last evaluation
    const s = this.sel;
    const best = s && s.bestEpoch !== null && s.bestValue !== null ? { metric: s.metric, epoch: s.bestEpoch, value: s.bestValue } : undefined;
    if (best && this.bestWeights && o.select?.restoreBest !== false) this.o.params.load(this.bestWeights, 'best weights');
    this.log({ type: 'end', epoch: this.epochsDone, step: this.steps, stoppedBy, trainSeconds: this.trainSeconds, ...(best ? { best } : {}), ...(this.warnings.length ? { warnings: this.warnings } : {}) });
    return { epochs: this.epochsDone, steps: this.steps, history: this.history, stoppedBy, ...(best ? { best } : {}), warnings: [...this.warnings], lossWatch: structuredClone(this.watch) };
  }

  /** The warnings so far (after {@link restore}, including the checkpoint's); a copy. */
  warningsSoFar(): string[] {
    return [...this.warnings];
  }

  /** Follows the step loss; the first time it exceeds its best by orders of magnitude, warns. */
  private watchLoss(loss: number, epoch: number, step: number, lr: number): void {
    const w = this.watch;
    const at = { loss, epoch, step };
    if (!w.best || loss < w.best.loss) w.best = at;
    const b = w.best;
    if (loss <= b.loss + DIVERGENCE_FACTOR * Math.max(Math.abs(b.loss), 1)) return;
    if (!w.worst || loss > w.worst.loss) w.worst = at;
    if (w.first) return;
    w.first = at;
    const msg =
      `the training loss is diverging: ${loss.toPrecision(3)} at epoch ${epoch} (global step ${step}), more than ${DIVERGENCE_FACTOR}× above its best, ` +
      `${b.loss.toPrecision(3)} at epoch ${b.epoch} (step ${b.step}); learning rate ${lr}. The weights may be useless: ` +
      'try a lower learning rate, gradient clipping (clipNorm), KL warm-up, or check the data for extreme values.';
    this.warnings.push(msg);
    this.log({ type: 'warning', kind: 'divergence', epoch, step, loss, best: b, lr, message: msg });
    if (this.o.onWarning) this.o.onWarning(msg);
    else host().stderr.write(`untapped: warning: ${msg}\n`);
  }

  private step(orders: { s: DataSource; perm: Int32Array; pos: number }[], erng: Rng, ctx: { epoch: number; step: number }, lr: number, indexInEpoch: number): number {
    const batch: Batch = {};
    for (const ord of orders) {
      const bs = Math.min(ord.s.batchSize, ord.s.size);
      if (ord.pos + bs > ord.s.size) {
        ord.perm = erng.permutation(ord.s.size);
        ord.pos = 0;
      }
      batch[ord.s.name] = ord.s.batch(ord.perm.subarray(ord.pos, ord.pos + bs), erng);
      ord.pos += bs;
    }
    return this.trainStep(batch, { rng: erng, ...ctx }, lr, indexInEpoch);
  }

  /**
   * One optimisation step on a prepared batch (whose tensors it disposes): gradients of the
   * objective, the NaN/Inf guard, clipping and the Adam update. Returns the loss. Public so that
   * `untapped bench` times exactly the training path.
   */
  trainStep(batch: Batch, ctx: StepContext, lr: number, indexInEpoch = 0): number {
    const varList = this.vars.map((v) => v.variable);
    const { value, grads } = tf.variableGrads(() => this.o.objective(batch, ctx), varList);
    // null: the loss does not depend on this parameter in this step (Adam leaves it unchanged)
    const gradList: (tf.Tensor | null)[] = this.vars.map((v) => grads[v.variable.name] ?? null);
    const loss = value.dataSync()[0];
    const norm = this.adam.gradNorm(gradList);
    const release = () => {
      tf.dispose([value, ...gradList.filter((g): g is tf.Tensor => g !== null)]);
      for (const b of Object.values(batch)) tf.dispose(Object.values(b));
    };
    if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
      const bad = this.vars.filter((_, i) => gradList[i] !== null && !tf.tidy(() => tf.all(tf.isFinite(gradList[i]!)).dataSync()[0])).map((v) => v.name);
      release();
      const last = this.history.at(-1);
      const details = { epoch: this.epochsDone + 1, stepInEpoch: indexInEpoch, step: this.steps, loss, gradNorm: norm, lr, nonFiniteGradients: bad, lastCheckpointEpoch: last?.epoch ?? null };
      this.log({ type: 'diverged', ...details });
      throw new TrainingDivergedError(
        `training diverged: loss ${loss}, gradient norm ${norm} at epoch ${details.epoch}, step ${indexInEpoch + 1} of ${this.stepsPerEpoch} (global step ${this.steps}), learning rate ${lr}. ` +
          (bad.length ? `Non-finite gradients in: ${bad.slice(0, 8).join(', ')}${bad.length > 8 ? ` and ${bad.length - 8} more` : ''}. ` : '') +
          (last ? `The checkpoint of epoch ${last.epoch} is kept (resume with --resume). ` : 'No checkpoint had been written yet. ') +
          'Try a lower learning rate, gradient clipping (clipNorm), KL warm-up, or check the data for extreme values.',
        details,
      );
    }
    this.adam.apply(gradList, lr, norm);
    release();
    this.steps += 1;
    return loss;
  }

  private checkpoint(): void {
    const file = this.o.checkpointFile;
    if (!file) return;
    const snap = this.o.params.snapshot();
    for (const [name, t] of snap) {
      for (let i = 0; i < t.data.length; i++) {
        if (!Number.isFinite(t.data[i])) throw new TrainingDivergedError(`parameter '${name}' holds ${t.data[i]} at index ${i} after epoch ${this.epochsDone}; not saving it over the last good checkpoint`, { parameter: name });
      }
    }
    const st = this.adam.state();
    const tensors = new Map<string, NamedArray>([...snap, ...st.tensors]);
    if (this.bestWeights) for (const [k, v] of this.bestWeights) tensors.set(BEST_PREFIX + k, v);
    this.storage().write(file, encodeUtp({
      kind: 'checkpoint',
      meta: {
        user: this.o.checkpointMeta ?? {},
        trainer: {
          epoch: this.epochsDone,
          step: this.steps,
          adamT: st.t,
          trainSeconds: this.trainSeconds,
          history: this.history,
          seed: this.o.seed,
          ...(this.sel ? { select: this.sel } : {}),
          lossWatch: this.watch,
          ...(this.warnings.length ? { warnings: this.warnings } : {}),
        },
      },
      tensors,
    }));
  }

  /** The storage of checkpoints and the log: the option's, else the host's. */
  private storage(): RunStorage {
    const s = this.o.storage ?? host().storage;
    if (!s) throw new Error('the trainer has no storage for its files (pass the storage option)');
    return s;
  }

  private log(rec: Record<string, unknown>): void {
    if (!this.o.logFile) return;
    this.storage().append(this.o.logFile, JSON.stringify(rec) + '\n');
  }

  /** Frees the optimiser state (the model's parameters belong to the caller). */
  dispose(): void {
    this.adam.dispose();
  }
}
