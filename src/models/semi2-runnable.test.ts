/**
 * The semi² model behind the run contract (`Semi2Runnable`): the input mean is subtracted before
 * every network and added back to every generated x; bound(k = 1) ≤ IWAE(k) on average; class draws
 * and `generate` put the given class in; the training loss equals the model's −J with one-hot labels;
 * composition models refuse class indices with a clear error; nothing leaks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, setupEngine, take } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { Semi2ConfigSchema, Semi2Dgm, type Semi2Weights } from './semi2.js';
import { Semi2Runnable } from './semi2-runnable.js';

await setupEngine();

const D = 4;
const K = 3;
const B = 8;
const W: Semi2Weights = { alphaF: 1, alphaFd: 4, alphaR: 1, alphaRd: 1, yLoss: 'kl' };
const make = (labels: 'discrete' | 'simplex', seed = 5) =>
  new Semi2Dgm(Semi2ConfigSchema.parse({ type: 'untapped', labels, classes: K, latent: 2, hidden: { qy: [6], qz: [6], px: [6] }, inputDim: D }), new Rng(seed));
const xMean = Float32Array.from([10, -5, 2, 0.5]);
const x = tf.tidy(() => tf.add(new Rng(9).normal([B, D]), tf.tensor1d(xMean)));

test('the input mean is taken off before the networks and put back on generated x', () => {
  const bare = make('discrete');
  const wrapped = new Semi2Runnable(make('discrete'), { xMean, zMean: [0.1, -0.2] });
  // q(y | x) of the wrapper on x = q(y | x) of the bare model on x − mean (same initial weights)
  const centred = tf.sub(x, tf.tensor1d(xMean));
  assert.deepEqual(take(wrapped.classify(x)), take(bare.predict(centred)));
  // generate at z̄ = the bare model's mean of p(x | y, z̄) plus the input mean
  const g = take(wrapped.generate(Int32Array.from([0, 2])));
  const want = take(tf.tidy(() => tf.add(bare.generate(tf.oneHot(tf.tensor1d([0, 2], 'int32'), K).toFloat(), tf.tensor2d([[0.1, -0.2], [0.1, -0.2]])), tf.tensor1d(xMean))));
  for (let i = 0; i < g.length; i++) assertClose(g[i], want[i], { atol: 1e-5, msg: `generated value ${i}` });
  // a sample lands around the data's scale, not around 0
  const s = take(wrapped.sample(50, new Rng(3)));
  const col0 = s.filter((_, i) => i % D === 0);
  assert.ok(Math.abs(col0.reduce((a, b) => a + b, 0) / 50 - 10) < 3, 'samples of column 0 lie near its mean 10');
  centred.dispose();
  bare.dispose();
  wrapped.dispose();
});

test('bound(k = 1) ≤ IWAE(50) on average, both finite; IWAE comes from the same importance weights as the IW log-likelihood', () => {
  for (const labels of ['discrete', 'simplex'] as const) {
    const m = new Semi2Runnable(make(labels), { xMean });
    const mean = (t: tf.Tensor) => take(t).reduce((a, b) => a + b, 0) / B;
    const elbo = mean(m.bound(x, 1, new Rng(1)));
    const iwae = mean(m.bound(x, 50, new Rng(2)));
    assert.ok(Number.isFinite(elbo) && Number.isFinite(iwae), `${labels}: finite bounds`);
    assert.ok(iwae >= elbo - 0.05, `${labels}: IWAE(50) ${iwae} ≥ ELBO ${elbo}`);
    assert.deepEqual(m.logWeights(x, 3, new Rng(4)).shape, [3, B]);
    m.dispose();
  }
});

test('loss with class indices equals the model’s −J with one-hot labels; class draws carry the class; no tensor leaks', () => {
  const before = tf.memory().numTensors;
  const inner = make('discrete', 7);
  const m = new Semi2Runnable(inner, { weights: W });
  const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32');
  const got = take(m.loss({ labelled: { x, y }, unlabelled: { x } }, { rng: new Rng(11), beta: 1, objective: { bound: 'elbo', samples: 1, analyticKl: true } }));
  const oneHot = tf.tidy(() => tf.oneHot(y, K).toFloat());
  const want = take(inner.loss({ labelled: { x, y: oneHot }, unlabelled: { x } }, new Rng(11), W));
  assert.deepEqual(got, want);
  oneHot.dispose();
  y.dispose();
  // p(x | y = 2, z) for every draw: q(y | x) of a draw from class 2 is not what decides it, the draws are the model's class-2 means
  const s2 = m.sample(5, new Rng(12), new Int32Array(5).fill(2));
  assert.deepEqual(s2.shape, [5, D]);
  s2.dispose();
  assert.throws(() => m.sample(4, new Rng(12), new Int32Array(3)), /3 classes for 4 draws/);
  m.dispose();
  assert.equal(tf.memory().numTensors, before, 'every tensor freed');
});

test('a composition model refuses class indices, and a model without weights refuses to train, each saying why', () => {
  const m = new Semi2Runnable(make('simplex'));
  assert.throws(() => m.generate(Int32Array.from([0])), /takes compositions/);
  assert.throws(() => m.loss({ unlabelled: { x } }, { rng: new Rng(1), beta: 1, objective: { bound: 'elbo', samples: 1, analyticKl: true } }), /needs the weights of objective \(15\)/);
  const s = take(m.sample(6, new Rng(2)));
  assert.equal(s.length, 6 * D);
  assert.throws(() => new Semi2Runnable(make('simplex'), { xMean: new Float32Array(3) }), /xMean has 3 values for 4 inputs/);
  m.dispose();
});
