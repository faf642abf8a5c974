/**
 * `untapped bench`: times training steps of reference models after warm-up, through the same
 * trainer code path as real training (batch assembly, gradients, NaN guard, clipping, Adam).
 *
 * Reference VAE step: MLP VAE 784-500-500-50 (softplus), Bernoulli likelihood, ELBO with analytic KL,
 * batch 100, Adam — the model timed for PyTorch in `bench/reference/pytorch_vae_step.py`.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { engineInfo } from '../engine/backend.js';
import { Vae } from '../models/vae.js';
import { bound } from '../objectives/bounds.js';
import { Trainer, type DataSource } from '../train/trainer.js';
import { gather } from '../data/batches.js';

/** One benchmark's result. */
export interface BenchResult {
  name: string;
  description: string;
  backend: string;
  fixes: string[];
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
}

/** Options of {@link benchVaeStep}. */
export interface BenchOptions {
  steps?: number;
  warmup?: number;
  batchSize?: number;
  seed?: number;
}

function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/** Times the reference VAE training step. */
export function benchVaeStep(opts: BenchOptions = {}): BenchResult {
  const steps = opts.steps ?? 50;
  const warmup = opts.warmup ?? 10;
  const B = opts.batchSize ?? 100;
  const rng = new Rng(opts.seed ?? 0);
  const D = 784;
  const model = new Vae({ type: 'vae', latent: [50], hidden: [[500, 500]], activation: 'softplus', likelihood: 'bernoulli', minScale: 1e-4, inputDim: D }, rng.fork('init'));
  const data = new Float32Array(1000 * D);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() < 0.13 ? 1 : 0;
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
    seed: 0,
  });
  const times: number[] = [];
  let before = 0;
  for (let i = 0; i < warmup + steps; i++) {
    if (i === warmup) before = tf.memory().numTensors;
    const rows = rng.permutation(1000).subarray(0, B);
    const t0 = performance.now();
    trainer.trainStep({ unlabelled: source.batch(rows, rng) }, { rng, epoch: 0, step: i }, 1e-3);
    if (i >= warmup) times.push(performance.now() - t0);
  }
  const growth = tf.memory().numTensors - before;
  trainer.dispose();
  model.dispose();
  const sorted = [...times].sort((a, b) => a - b);
  const med = quantile(sorted, 0.5);
  const info = engineInfo();
  return {
    name: 'vae-step',
    description: 'MLP VAE 784-500-500-50 softplus, Bernoulli, ELBO (analytic KL), Adam',
    backend: info?.backend ?? tf.getBackend(),
    fixes: info?.fixes ?? [],
    batchSize: B,
    steps,
    warmup,
    medianMs: med,
    meanMs: times.reduce((s, t) => s + t, 0) / times.length,
    p10Ms: quantile(sorted, 0.1),
    p90Ms: quantile(sorted, 0.9),
    samplesPerSecond: (1000 * B) / med,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    tensorGrowth: growth,
  };
}
