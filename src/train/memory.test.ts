/**
 * Memory is given back: building a model and an optimiser, training a few steps through the
 * {@link Trainer} and disposing both leaves `tf.memory().numTensors` (and bytes) where they were.
 * Anything that trains several models in one process (multi-seed experiments, a web page) relies on it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { bound } from '../objectives/bounds.js';
import { Vae, VaeConfigSchema } from '../models/vae.js';
import { Avae, AvaeConfigSchema } from '../models/avae.js';
import { SemiSupervisedDgm, SslConfigSchema } from '../models/ssl.js';
import { Semi2Dgm, Semi2ConfigSchema } from '../models/semi2.js';
import type { ParamStore } from '../nn/params.js';
import { Adam } from './adam.js';
import { Trainer, type Batch, type DataSource, type StepContext } from './trainer.js';

await setupEngine();

const D = 5;
const K = 2;
const N = 8;
const X = Float32Array.from({ length: N * D }, (_, i) => ((i * 7) % 10) / 10);
const source = (name: string, width: number, field: string, data: Float32Array): DataSource => ({
  name,
  size: N,
  batchSize: 4,
  batch: (rows) => ({ [field]: tf.tensor2d(Array.from(rows).flatMap((r) => Array.from(data.subarray(r * width, (r + 1) * width))), [rows.length, width]) }),
});
const Y = Float32Array.from({ length: N * K }, (_, i) => ((i >> 1) % 2 === i % 2 ? 1 : 0));
const labelled: DataSource = {
  name: 'labelled',
  size: N,
  batchSize: 4,
  batch: (rows) => ({ ...source('l', D, 'x', X).batch(rows, new Rng(0)), ...source('l', K, 'y', Y).batch(rows, new Rng(0)) }),
};

const usage = () => ({ tensors: tf.memory().numTensors, bytes: tf.memory().numBytes });

async function cycle(make: () => { params: ParamStore; dispose(): void; loss: (b: Batch, ctx: StepContext) => tf.Scalar; sources: DataSource[] }): Promise<void> {
  const before = usage();
  for (let c = 0; c < 3; c++) {
    const m = make();
    const trainer = new Trainer({ params: m.params, objective: (b, ctx) => tf.tidy(() => m.loss(b, ctx)), sources: m.sources, epochs: 2, lr: 0.01, seed: c, progress: { silent: true } });
    const r = await trainer.run();
    assert.ok(Number.isFinite(r.history[0].trainLoss));
    trainer.dispose();
    m.dispose();
    assert.deepEqual(usage(), before, `after cycle ${c + 1}`);
  }
}

test('Adam: dispose frees both moment tensors of every weight', () => {
  const before = usage();
  const z = tf.zeros([300, 300]);
  const w = tf.variable(z);
  z.dispose();
  const mid = usage();
  const adam = new Adam([{ name: 'w', variable: w }]);
  const g = tf.ones([300, 300]);
  adam.apply([g], 0.1);
  g.dispose();
  adam.dispose();
  assert.deepEqual(usage(), mid, 'the optimiser gave back everything it made');
  w.dispose();
  assert.deepEqual(usage(), before);
});

test('Vae: train → dispose gives every tensor back', async () => {
  await cycle(() => {
    const m = new Vae(VaeConfigSchema.parse({ type: 'vae', latent: [2], hidden: [[6]], inputDim: D }), new Rng(1));
    return { params: m.params, dispose: () => m.dispose(), sources: [source('unlabelled', D, 'x', X)], loss: (b, ctx) => tf.neg(tf.mean(bound(m.terms(b.unlabelled.x, 1, ctx.rng), { kind: 'elbo' }))) as tf.Scalar };
  });
});

test('Vae, convolutional with batch norm: train → dispose gives every tensor back', async () => {
  const X64 = Float32Array.from({ length: N * 64 }, (_, i) => ((i * 5) % 10) / 10);
  await cycle(() => {
    const m = new Vae(VaeConfigSchema.parse({ type: 'vae', arch: 'conv', channels: [2, 3], latent: [2], hidden: [[]], inputDim: 64, activation: 'tanh' }), new Rng(1));
    return { params: m.params, dispose: () => m.dispose(), sources: [source('unlabelled', 64, 'x', X64)], loss: (b, ctx) => tf.neg(tf.mean(bound(m.terms(b.unlabelled.x, 1, ctx.rng), { kind: 'elbo' }))) as tf.Scalar };
  });
});

test('Avae: train → dispose gives every tensor back', async () => {
  await cycle(() => {
    const m = new Avae(AvaeConfigSchema.parse({ type: 'avae', latent: 2, auxiliary: 2, hidden: [6], inputDim: D }), new Rng(1));
    return { params: m.params, dispose: () => m.dispose(), sources: [source('unlabelled', D, 'x', X)], loss: (b, ctx) => tf.neg(tf.mean(bound(m.terms(b.unlabelled.x, 1, ctx.rng), { kind: 'elbo' }))) as tf.Scalar };
  });
});

for (const type of ['m2', 'adgm', 'sdgm'] as const) {
  test(`SemiSupervisedDgm ${type}: train → dispose gives every tensor back`, async () => {
    await cycle(() => {
      const m = new SemiSupervisedDgm(SslConfigSchema.parse({ type, classes: K, latent: 2, auxiliary: 2, hidden: [6], inputDim: D }), new Rng(1));
      return {
        params: m.params,
        dispose: () => m.dispose(),
        sources: [source('unlabelled', D, 'x', X), labelled],
        loss: (b, ctx) => m.loss({ labelled: { x: b.labelled.x, y: b.labelled.y }, unlabelled: { x: b.unlabelled.x } }, ctx.rng, {}),
      };
    });
  });
}

test('Semi2Dgm: train → dispose gives every tensor back', async () => {
  await cycle(() => {
    const m = new Semi2Dgm(Semi2ConfigSchema.parse({ type: 'untapped', classes: K, latent: 1, hidden: { qy: [6], qz: [6], px: [6] }, inputDim: D }), new Rng(1));
    return {
      params: m.params,
      dispose: () => m.dispose(),
      sources: [source('unlabelled', D, 'x', X), labelled, source('unfeatured', K, 'y', Y)],
      loss: (b, ctx) => m.loss({ labelled: { x: b.labelled.x, y: b.labelled.y }, unlabelled: { x: b.unlabelled.x }, unfeatured: { y: b.unfeatured.y } }, ctx.rng, { alphaF: 1, alphaFd: 1, alphaR: 0.01, alphaRd: 1 }),
    };
  });
});

test('Adam: a variable without a gradient (null) is left unchanged, and so are its moments', () => {
  const a = tf.variable(tf.tensor1d([1, 2]));
  const b = tf.variable(tf.tensor1d([3, 4]));
  const adam = new Adam([
    { name: 'a', variable: a },
    { name: 'b', variable: b },
  ], { clipNorm: 1 });
  const g = tf.tensor1d([1, 1]);
  assert.ok(Math.abs(adam.gradNorm([g, null]) - Math.SQRT2) < 1e-6);
  adam.apply([g, null], 0.1);
  adam.apply([null, null], 0.1);
  assert.notDeepEqual(Array.from(a.dataSync()), [1, 2]);
  assert.deepEqual(Array.from(b.dataSync()), [3, 4]);
  const st = adam.state().tensors;
  assert.deepEqual(Array.from(st.get('adam.m.b')!.data), [0, 0]);
  assert.deepEqual(Array.from(st.get('adam.v.b')!.data), [0, 0]);
  tf.dispose([g, a, b]);
  adam.dispose();
});
