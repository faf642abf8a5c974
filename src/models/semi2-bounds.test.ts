/**
 * The semi² model's exact enumeration of a discrete y in bound (8) and its importance weights:
 * the enumerated bound against an explicit sum over the K classes, IWAE(1) ≥ the enumerated ELBO on
 * the same draws (Jensen), IWAE(k) rising with k, and log p(x) = log Σ_y p(x, y) from the IW estimates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, setupEngine, take } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { enumeratedLabels } from '../objectives/enumerate.js';
import { Semi2ConfigSchema, Semi2Dgm } from './semi2.js';

await setupEngine();

const D = 5;
const K = 3;
const B = 6;
const make = (extra: Record<string, unknown> = {}) =>
  new Semi2Dgm(Semi2ConfigSchema.parse({ type: 'untapped', labels: 'discrete', yEstimator: 'enumerate', classes: K, latent: 2, hidden: { qy: [6], qz: [6], px: [6] }, inputDim: D, ...extra }), new Rng(5));
const x = new Rng(9).normal([B, D]);

test('enumerated bound (8) = Σ_y q(y | x)·bound (7) at y + H(q(y | x)), against an explicit sum over the classes', () => {
  const m = make();
  const got = take(m.boundUnlabelled(x, new Rng(21)));
  // the same noise: bound (7) of every (row, class) pair, class-major, then the sum by hand
  const f = take(tf.tidy(() => m.boundLabelledForward(tf.tile(x, [K, 1]), enumeratedLabels(K, B), new Rng(21))));
  const q = take(m.predict(x));
  for (let b = 0; b < B; b++) {
    let want = 0;
    for (let c = 0; c < K; c++) {
      const p = q[b * K + c];
      want += p * f[c * B + b] - p * Math.log(p);
    }
    assertClose(got[b], want, { atol: 1e-4, rtol: 1e-5, msg: `row ${b}` });
  }
  // and it is not the Concrete estimate: that one is random, this one reproduces exactly
  assert.deepEqual(take(m.boundUnlabelled(x, new Rng(21))), got);
  m.dispose();
});

test('IWAE(1) with y summed inside the weight ≥ the enumerated ELBO on the same draws; IWAE(k) rises with k', () => {
  const m = make();
  const iwae1 = take(tf.tidy(() => m.logWeights(x, 1, new Rng(4)).squeeze([0])));
  const elbo = take(m.boundUnlabelled(x, new Rng(4)));
  iwae1.forEach((v, b) => assert.ok(v >= elbo[b] - 1e-4, `row ${b}: IWAE(1) ${v} < ELBO ${elbo[b]}`));
  const mean = (k: number) => {
    const w = m.logWeights(x, k, new Rng(30 + k));
    const iw = take(tf.tidy(() => tf.sub(tf.logSumExp(w, 0), Math.log(k))));
    w.dispose();
    return iw.reduce((a, b) => a + b, 0) / B;
  };
  const m1 = mean(1);
  const m200 = mean(200);
  assert.ok(m200 > m1, `IWAE(200) ${m200} ≤ IWAE(1) ${m1}`);
  m.dispose();
});

test('log p(x) from weights that sum y equals log Σ_y p(x, y) from the labelled weights (IW 20000)', () => {
  const m = make();
  const iw = (y?: tf.Tensor, seed = 1) => take(tf.tidy(() => tf.sub(tf.logSumExp(m.logWeights(x, 20000, new Rng(seed), y), 0), Math.log(20000))));
  const px = iw();
  const pxy = Array.from({ length: K }, (_, c) => iw(tf.oneHot(tf.fill([B], c, 'int32'), K).toFloat(), 10 + c));
  for (let b = 0; b < B; b++) {
    const col = pxy.map((r) => r[b]);
    const mx = Math.max(...col);
    const lse = mx + Math.log(col.reduce((a, u) => a + Math.exp(u - mx), 0));
    assertClose(px[b], lse, { atol: 0.25, rtol: 0, msg: `row ${b}` }); // MC error of IW 20000 on an untrained model: about 0.1
  }
  m.dispose();
});

test('simplex labels: IWAE(k) of log p(x) with the proposal q(y | x) q(z | x, y) rises with k; a deterministic model has no weights', () => {
  const m = new Semi2Dgm(Semi2ConfigSchema.parse({ type: 'untapped', classes: K, latent: 2, hidden: { qy: [6], qz: [6], px: [6] }, inputDim: D }), new Rng(5));
  const iw = (k: number) => {
    const v = take(tf.tidy(() => tf.sub(tf.logSumExp(m.logWeights(x, k, new Rng(k)), 0), Math.log(k))));
    return v.reduce((a, b) => a + b, 0) / B;
  };
  assert.ok(iw(300) > iw(1), 'IWAE(300) > IWAE(1)');
  m.dispose();
  const det = new Semi2Dgm(Semi2ConfigSchema.parse({ type: 'untapped', classes: K, latent: 2, inputDim: D, variational: false }), new Rng(5));
  assert.throws(() => det.logWeights(x, 2, new Rng(1)), /deterministic model .* has no densities/);
  det.dispose();
});
