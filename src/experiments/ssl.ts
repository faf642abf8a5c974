/**
 * Semi-supervised training runs: a labelled source and an unlabelled source drawn together in every
 * step (the ADGM paper's "half of every batch is the labelled set"), test error evaluated each
 * epoch, and the half-moons experiment of the ADGM paper (appendix A §4.2 of `003_…`).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import type { Dataset } from '../data/dataset.js';
import { gather } from '../data/batches.js';
import { moonsSplits } from '../data/moons.js';
import { labelledSubset } from '../data/subset.js';
import { SemiSupervisedDgm, SslConfigSchema, type SslConfig } from '../models/ssl.js';
import { Trainer, type DataSource, type EvalRecord } from '../train/trainer.js';
import { warmupBeta } from '../objectives/schedules.js';

/** Options of {@link trainSsl}. */
export interface SslRunOptions {
  model: Partial<SslConfig> & { type: SslConfig['type'] };
  labelled: Dataset;
  unlabelled: Dataset;
  test: Dataset;
  epochs: number;
  /** Stop after this many seconds of training (checked per epoch). */
  budgetSeconds?: number;
  lr?: number;
  /** Classification weight α; default 0.1 · N_unlabelled / N_labelled (Kingma et al.'s 0.1·N, per batch mean). */
  alpha?: number;
  /** Epochs of linear KL warm-up (0: none). */
  warmupEpochs?: number;
  batchSize?: { labelled: number; unlabelled: number };
  seed?: number;
  onEval?: (r: EvalRecord) => void;
}

/** Result of {@link trainSsl}. */
export interface SslRunResult {
  model: SemiSupervisedDgm;
  history: EvalRecord[];
  alpha: number;
  seconds: number;
}

function oneHot(labels: Int32Array, K: number): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), K), 'float32'));
}

/** Test error of `model` on `ds` (q(y|x) at the mean of q(a|x)), in [0, 1]. */
export function testError(model: SemiSupervisedDgm, ds: Dataset, chunk = 2000): number {
  let wrong = 0;
  for (let s = 0; s < ds.n; s += chunk) {
    const n = Math.min(chunk, ds.n - s);
    const pred = tf.tidy(() => tf.argMax(model.classify(tf.tensor2d(ds.x.subarray(s * ds.dim, (s + n) * ds.dim), [n, ds.dim])), -1).dataSync());
    for (let i = 0; i < n; i++) if (pred[i] !== ds.y[s + i]) wrong++;
  }
  return wrong / ds.n;
}

/** Trains an M2 / ADGM / SDGM on a labelled and an unlabelled set, reporting test error each epoch. */
export async function trainSsl(o: SslRunOptions): Promise<SslRunResult> {
  const seed = o.seed ?? 0;
  const rng = new Rng(seed);
  const K = o.test.numClasses;
  const D = o.test.dim;
  const config = SslConfigSchema.parse({ classes: K, ...o.model, inputDim: D });
  const model = new SemiSupervisedDgm(config, rng.fork('init'));
  const alpha = o.alpha ?? (0.1 * o.unlabelled.n) / o.labelled.n;
  const bs = o.batchSize ?? { labelled: Math.min(100, o.labelled.n), unlabelled: 100 };
  const lab = o.labelled;
  const unl = o.unlabelled;
  const sources: DataSource[] = [
    { name: 'unlabelled', size: unl.n, batchSize: Math.min(bs.unlabelled, unl.n), batch: (rows) => ({ x: tf.tensor2d(gather(unl.x, D, rows), [rows.length, D]) }) },
    {
      name: 'labelled',
      size: lab.n,
      batchSize: Math.min(bs.labelled, lab.n),
      batch: (rows) => ({ x: tf.tensor2d(gather(lab.x, D, rows), [rows.length, D]), y: oneHot(Int32Array.from(rows, (r) => lab.y[r]), K) }),
    },
  ];
  const warm = o.warmupEpochs ?? 0;
  const trainer = new Trainer({
    params: model.params,
    sources,
    objective: (batch, ctx) => {
      const beta = warmupBeta(ctx.epoch, warm);
      return model.loss({ labelled: { x: batch.labelled.x, y: batch.labelled.y }, unlabelled: { x: batch.unlabelled.x } }, ctx.rng, { alpha, beta });
    },
    epochs: o.epochs,
    lr: o.lr ?? 3e-4,
    seed,
    evaluate: () => ({ testError: testError(model, o.test) }),
    onEval: o.onEval,
    ...(o.budgetSeconds ? { budgetSeconds: o.budgetSeconds } : {}),
  });
  const t0 = performance.now();
  const res = await trainer.run();
  trainer.dispose();
  return { model, history: res.history, alpha, seconds: (performance.now() - t0) / 1000 };
}

/** Options of {@link moonsExperiment}. */
export interface MoonsExperimentOptions {
  type?: 'adgm' | 'sdgm' | 'm2';
  epochs?: number;
  budgetSeconds?: number;
  labelsPerClass?: number;
  noise?: number;
  seed?: number;
  onEval?: (r: EvalRecord) => void;
}

/**
 * The half-moons experiment (appendix A §4.2): 1e4 training points with 3 labels per class, 1e4
 * test points, two hidden layers of 100 units, dim(a) = dim(z) = 10, Gaussian p(x | ·), Adam 3e-4,
 * batches of 100 unlabelled points beside the whole labelled set.
 */
export async function moonsExperiment(o: MoonsExperimentOptions = {}): Promise<SslRunResult & { test: Dataset }> {
  const seed = o.seed ?? 0;
  const { train, test } = moonsSplits({ train: 10000, test: 10000, noise: o.noise ?? 0.1, seed });
  const { labelled } = labelledSubset(train, o.labelsPerClass ?? 3, new Rng(seed).fork('labels'));
  const run = await trainSsl({
    model: { type: o.type ?? 'adgm', hidden: [100, 100], latent: 10, auxiliary: 10, activation: 'relu', likelihood: 'gaussian' },
    labelled,
    unlabelled: train,
    test,
    epochs: o.epochs ?? 10,
    budgetSeconds: o.budgetSeconds,
    seed,
    onEval: o.onEval,
  });
  return { ...run, test };
}
