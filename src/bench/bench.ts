/**
 * `untapped bench`: times training steps of reference models after warm-up, through the same
 * trainer code path as real training (batch assembly, gradients, NaN guard, clipping, Adam), with
 * native kernels on and off, and optionally a per-kernel profile of one step.
 *
 * Reference VAE step (`vae`): MLP VAE 784-500-500-50 (softplus), Bernoulli likelihood, ELBO with
 * analytic KL, batch 100, Adam — the model timed for PyTorch in `bench/reference/pytorch_vae_step.py`.
 * `m2` and `adgm`: semi-supervised steps (see {@link sslBench}); more can be added with {@link registerBench}.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { engineInfo } from '../engine/backend.js';
import { nativeActive, setNativeKernels } from '../engine/native.js';
import { Vae } from '../models/vae.js';
import { SemiSupervisedDgm, SslConfigSchema } from '../models/ssl.js';
import { bound } from '../objectives/bounds.js';
import { Trainer, type DataSource } from '../train/trainer.js';
import { gather } from '../data/batches.js';
import { oneHot } from '../dists/categorical.js';
import { KernelProfiler, profileTable, type KernelTime } from './profile.js';

/** One benchmark's result. */
export interface BenchResult {
  name: string;
  description: string;
  backend: string;
  /** Whether native kernels ran. */
  native: boolean;
  fixes: string[];
  /** Samples per step (all sources together). */
  batchSize: number;
  steps: number;
  warmup: number;
  medianMs: number;
  meanMs: number;
  p10Ms: number;
  p90Ms: number;
  samplesPerSecond: number;
  /** Peak resident memory of the process so far, MiB. */
  peakRssMiB: number;
  /** Tensors alive after the timed steps minus before (0 when nothing leaks). */
  tensorGrowth: number;
  /** Per-kernel times over the timed steps, when profiled. */
  profile?: KernelTime[];
}

/** Options of {@link runBench}. */
export interface BenchOptions {
  steps?: number;
  warmup?: number;
  seed?: number;
  /** Also time every kernel (a second pass over the same number of steps). */
  profile?: boolean;
}

/** A training step prepared for timing: `step(i)` runs step i and returns its loss. */
export interface PreparedStep {
  step(i: number): number;
  dispose(): void;
}

/** A benchmark definition. */
export interface BenchDef {
  name: string;
  description: string;
  /** Samples per step. */
  batchSize: number;
  /** Builds model, data and trainer from a seed. */
  prepare(seed: number): PreparedStep;
}

function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/** Random binary images (13% ones, like MNIST's ink), for benchmarks that need no data files. */
export function randomBinary(rng: Rng, n: number, d: number): Float32Array {
  const data = new Float32Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() < 0.13 ? 1 : 0;
  return data;
}

/** The reference VAE step. */
export const VAE_BENCH: BenchDef = {
  name: 'vae',
  description: 'MLP VAE 784-500-500-50 softplus, Bernoulli, ELBO (analytic KL), Adam, batch 100',
  batchSize: 100,
  prepare(seed) {
    const rng = new Rng(seed);
    const D = 784;
    const B = 100;
    const model = new Vae({ type: 'vae', latent: [50], hidden: [[500, 500]], activation: 'softplus', likelihood: 'bernoulli', minScale: 1e-4, inputDim: D }, rng.fork('init'));
    const data = randomBinary(rng.fork('data'), 1000, D);
    const source: DataSource = {
      name: 'unlabelled',
      size: 1000,
      batchSize: B,
      batch: (rows) => ({ x: tf.tensor2d(gather(data, D, rows), [rows.length, D]) }),
    };
    const trainer = new Trainer({
      params: model.params,
      sources: [source],
      objective: (batch, ctx) => tf.tidy(() => tf.neg(tf.mean(bound(model.terms(batch.unlabelled.x, 1, ctx.rng), { kind: 'elbo' }))) as tf.Scalar),
      epochs: 1,
      lr: 1e-3,
      seed,
    });
    const brng = rng.fork('batches');
    return {
      step: (i) => trainer.trainStep({ unlabelled: source.batch(brng.permutation(1000).subarray(0, B), brng) }, { rng: brng, epoch: 0, step: i }, 1e-3),
      dispose: () => {
        trainer.dispose();
        model.dispose();
      },
    };
  },
};

/**
 * A semi-supervised step: 100 labelled + 100 unlabelled MNIST-sized inputs, the unlabelled bound
 * enumerated over 10 classes (a 1000-row batch inside), Adam. Sizes as in semi-supervised-pytorch's
 * notebooks (z 32, a 32, hidden 256-128), so its ~54 ms (M2) and ~101 ms (ADGM) per step compare.
 */
function sslBench(type: 'm2' | 'adgm'): BenchDef {
  return {
    name: type,
    description: `${type === 'm2' ? 'M2' : 'ADGM'} 784-[256,128]-z32${type === 'adgm' ? '-a32' : ''}, 10 classes enumerated, 100 labelled + 100 unlabelled, Bernoulli, Adam`,
    batchSize: 200,
    prepare(seed) {
      const rng = new Rng(seed);
      const D = 784;
      const K = 10;
      const model = new SemiSupervisedDgm(SslConfigSchema.parse({ type, classes: K, latent: 32, auxiliary: 32, hidden: [256, 128], activation: 'relu', inputDim: D }), rng.fork('init'));
      const data = randomBinary(rng.fork('data'), 1000, D);
      const labels = Int32Array.from({ length: 1000 }, (_, i) => i % K);
      const labelled: DataSource = {
        name: 'labelled',
        size: 1000,
        batchSize: 100,
        batch: (rows) => ({
          x: tf.tensor2d(gather(data, D, rows), [rows.length, D]),
          y: oneHot(Array.from(rows, (r) => labels[r]), K),
        }),
      };
      const unlabelled: DataSource = { name: 'unlabelled', size: 1000, batchSize: 100, batch: (rows) => ({ x: tf.tensor2d(gather(data, D, rows), [rows.length, D]) }) };
      const trainer = new Trainer({
        params: model.params,
        sources: [labelled, unlabelled],
        objective: (batch, ctx) => model.loss({ labelled: { x: batch.labelled.x, y: batch.labelled.y }, unlabelled: { x: batch.unlabelled.x } }, ctx.rng, { alpha: 1 }),
        epochs: 1,
        lr: 1e-3,
        seed,
      });
      const brng = rng.fork('batches');
      return {
        step: (i) => {
          const pick = () => brng.permutation(1000).subarray(0, 100);
          return trainer.trainStep({ labelled: labelled.batch(pick(), brng), unlabelled: unlabelled.batch(pick(), brng) }, { rng: brng, epoch: 0, step: i }, 1e-3);
        },
        dispose: () => {
          trainer.dispose();
          model.dispose();
        },
      };
    },
  };
}

const registry = new Map<string, BenchDef>([VAE_BENCH, sslBench('m2'), sslBench('adgm')].map((b) => [b.name, b]));

/** Adds a benchmark to `untapped bench`. */
export function registerBench(def: BenchDef): void {
  registry.set(def.name, def);
}

/** Names of the registered benchmarks. */
export function benchNames(): string[] {
  return [...registry.keys()];
}

/** The benchmark called `name`, or an error listing the valid names. */
export function getBench(name: string): BenchDef {
  const b = registry.get(name);
  if (!b) throw new Error(`unknown benchmark '${name}'; valid: ${benchNames().join(', ')}`);
  return b;
}

function timeSteps(prep: PreparedStep, from: number, count: number): number[] {
  const times: number[] = [];
  for (let i = from; i < from + count; i++) {
    const t0 = performance.now();
    prep.step(i);
    times.push(performance.now() - t0);
  }
  return times;
}

/** Times `def` with native kernels as they are now (switch them with `setNativeKernels`). */
export function runBench(def: BenchDef, opts: BenchOptions = {}): BenchResult {
  const steps = opts.steps ?? 50;
  const warmup = opts.warmup ?? 10;
  const prep = def.prepare(opts.seed ?? 0);
  timeSteps(prep, 0, warmup);
  const before = tf.memory().numTensors;
  const times = timeSteps(prep, warmup, steps);
  const growth = tf.memory().numTensors - before;
  let profile: KernelTime[] | undefined;
  if (opts.profile) {
    const p = new KernelProfiler(tf.getBackend());
    p.install();
    try {
      timeSteps(prep, warmup + steps, steps);
    } finally {
      p.uninstall();
    }
    profile = p.report();
  }
  prep.dispose();
  const sorted = [...times].sort((a, b) => a - b);
  const med = quantile(sorted, 0.5);
  const info = engineInfo();
  return {
    name: def.name,
    description: def.description,
    backend: info?.backend ?? tf.getBackend(),
    native: nativeActive(),
    fixes: info?.fixes ?? [],
    batchSize: def.batchSize,
    steps,
    warmup,
    medianMs: med,
    meanMs: times.reduce((s, t) => s + t, 0) / times.length,
    p10Ms: quantile(sorted, 0.1),
    p90Ms: quantile(sorted, 0.9),
    samplesPerSecond: (1000 * def.batchSize) / med,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    tensorGrowth: growth,
    ...(profile ? { profile } : {}),
  };
}

/** A benchmark's profile as a Markdown table. */
export function benchProfileTable(r: BenchResult, top = 20): string {
  if (!r.profile) return '';
  return profileTable(r.profile, r.meanMs, r.steps, top);
}

/** Result of {@link compareNativeLosses}. */
export interface LossComparison {
  name: string;
  steps: number;
  /** Largest |native − plain| / |plain| over the steps. */
  maxRelDiff: number;
  firstLoss: number;
  lastLoss: number;
}

/**
 * Trains `def` for `steps` steps from the same seed with native kernels off and then on, and
 * returns the largest relative difference between the two loss sequences.
 */
export function compareNativeLosses(def: BenchDef, steps = 100, seed = 0): LossComparison {
  const run = (on: boolean): number[] => {
    setNativeKernels(on);
    const prep = def.prepare(seed);
    try {
      return Array.from({ length: steps }, (_, i) => prep.step(i));
    } finally {
      prep.dispose();
      setNativeKernels(true);
    }
  };
  const plain = run(false);
  const native = run(true);
  let maxRelDiff = 0;
  for (let i = 0; i < steps; i++) maxRelDiff = Math.max(maxRelDiff, Math.abs(native[i] - plain[i]) / Math.abs(plain[i]));
  return { name: def.name, steps, maxRelDiff, firstLoss: plain[0], lastLoss: plain[steps - 1] };
}
