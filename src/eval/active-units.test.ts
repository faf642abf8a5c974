import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { assertClose, setupEngine } from '../testing/helpers.js';
import { Vae, VaeConfigSchema } from '../models/vae.js';
import { activeUnits } from './active-units.js';

await setupEngine();

/** Makes unit j of a Gaussian head's output exactly N(0, 1) whatever its input (a collapsed unit). */
function collapse(m: Vae, head: string, j: number, d: number, minScale = 1e-4): void {
  const W = m.params.get(`${head}.W`);
  const b = m.params.get(`${head}.b`);
  const w = W.arraySync() as number[][];
  for (const row of w) row[j] = row[d + j] = 0;
  W.assign(tf.tensor2d(w));
  const bv = Array.from(b.dataSync());
  bv[j] = 0;
  bv[d + j] = Math.log(Math.expm1(1 - minScale)); // softplus⁻¹(1 − minScale): σ = 1
  b.assign(tf.tensor1d(bv));
}

const rng = new Rng(1);
const X = Float32Array.from({ length: 300 * 6 }, () => (rng.next() < 0.5 ? 1 : 0));

test('active units: per-unit KL averaged over the data, collapsed units inactive under both definitions', () => {
  const m = new Vae(VaeConfigSchema.parse({ type: 'vae', latent: [4], hidden: [[8]], inputDim: 6, activation: 'tanh' }), new Rng(2));
  // make units 0 and 2 strongly data-dependent, collapse unit 3
  const W = m.params.get('enc0.z.W');
  W.assign(tf.tidy(() => tf.mul(W, tf.tensor1d([4, 1, 4, 1, 1, 1, 1, 1]))));
  collapse(m, 'enc0.z', 3, 4);
  const before = tf.memory().numTensors;
  const a = activeUnits(m, X, 6, { batchSize: 128 });
  assert.equal(tf.memory().numTensors, before, 'no tensor leak');
  assert.equal(a.n, 300);
  assert.equal(a.layers.length, 1);
  const l = a.layers[0];
  assert.equal(l.dim, 4);
  // by hand: mean over rows of ½(μ² + σ² − 1) − log σ
  const [mu, sd] = tf.tidy(() => {
    const q = m.encode(tf.tensor2d(X, [300, 6]));
    return [q.mean().arraySync() as number[][], q.stddev().arraySync() as number[][]];
  });
  const hand = [0, 1, 2, 3].map((j) => mu.reduce((s, r, i) => s + 0.5 * (r[j] ** 2 + sd[i][j] ** 2 - 1) - Math.log(sd[i][j]), 0) / 300);
  const handVar = [0, 1, 2, 3].map((j) => {
    const mean = mu.reduce((s, r) => s + r[j], 0) / 300;
    return mu.reduce((s, r) => s + (r[j] - mean) ** 2, 0) / 300;
  });
  assertClose(Array.from(l.kl), hand, { atol: 1e-5, rtol: 1e-4, msg: 'KL per unit' });
  assertClose(Array.from(l.meanVariance), handVar, { atol: 1e-6, rtol: 1e-4, msg: 'variance of the posterior mean' });
  assert.ok(Math.abs(l.kl[3]) < 1e-4 && l.meanVariance[3] < 1e-8, `collapsed unit: KL ${l.kl[3]}, variance ${l.meanVariance[3]}`);
  assert.ok(l.kl[0] > 0.01 && l.kl[2] > 0.01, `scaled-up units are active: ${Array.from(l.kl)}`);
  const expected = hand.filter((v) => v > 0.01).length;
  assert.equal(l.active, expected);
  assert.equal(a.active, expected);
  assert.ok(a.active <= 3);
  assert.equal(activeUnits(m, X, 6, { threshold: 1e9 }).active, 0, 'threshold applies');
  m.dispose();
});

test('active units: two stochastic layers give one entry per layer; a collapsed top unit is inactive', () => {
  const m = new Vae(VaeConfigSchema.parse({ type: 'vae', latent: [3, 2], hidden: [[8], [5]], inputDim: 6, activation: 'tanh' }), new Rng(3));
  collapse(m, 'enc1.z', 1, 2);
  const a = activeUnits(m, X, 6, { rng: new Rng(4) });
  assert.deepEqual(a.layers.map((l) => l.dim), [3, 2]);
  assert.ok(a.layers[1].kl[1] < 1e-4, `top unit 1 collapsed: ${a.layers[1].kl[1]}`);
  assert.ok(a.layers[1].kl[0] >= 0, 'analytic KL is non-negative');
  assert.equal(a.active, a.layers[0].active + a.layers[1].active);
  m.dispose();
});

test('active units: conditional models take labels; bad input is refused', () => {
  const m = new Vae(VaeConfigSchema.parse({ type: 'vae', latent: [2], hidden: [[4]], inputDim: 6, conditional: 3 }), new Rng(5));
  const labels = Array.from({ length: 300 }, (_, i) => i % 3);
  assert.equal(activeUnits(m, X, 6, { labels }).layers[0].dim, 2);
  assert.throws(() => activeUnits(m, X, 6), /conditional VAE/);
  assert.throws(() => activeUnits(m, X, 6, { labels: [0, 1] }), /2 labels for 300 rows/);
  assert.throws(() => activeUnits(m, X, 7), /do not form rows of 7/);
  assert.throws(() => activeUnits(m, X, 6, { labels, threshold: -1 }), /threshold must be ≥ 0/);
  m.dispose();
});
