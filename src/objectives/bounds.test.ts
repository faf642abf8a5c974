import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { assertClose, setupEngine, take } from '../testing/helpers.js';
import { bound, iwaeFromLogWeights, elboFromLogWeights, logWeights, warmupBeta, learningRate } from './index.js';

await setupEngine();

function jsLogMeanExp(v: number[]): number {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0) / v.length);
}

test('IWAE and ELBO from log-weights match their closed forms, and IWAE ≥ ELBO', () => {
  const rng = new Rng(3);
  const k = 7;
  const B = 5;
  const w = rng.normal([k, B]);
  const lw = Array.from(w.dataSync());
  const iw = take(iwaeFromLogWeights(w));
  const el = take(elboFromLogWeights(w));
  for (let b = 0; b < B; b++) {
    const col = Array.from({ length: k }, (_, j) => lw[j * B + b] * 1);
    assertClose(iw[b], jsLogMeanExp(col), { atol: 1e-5 });
    assertClose(el[b], col.reduce((s, x) => s + x, 0) / k, { atol: 1e-5 });
    assert.ok(iw[b] >= el[b] - 1e-6, `IWAE ${iw[b]} < ELBO ${el[b]}`);
  }
  // very spread log-weights stay finite (stable log-sum-exp)
  const big = tf.tensor2d([[-1000], [-1001]]);
  assertClose(take(iwaeFromLogWeights(big)), jsLogMeanExp([-1000, -1001]), { atol: 1e-3 });
  tf.dispose([w, big]);
});

test('β weights the prior/posterior terms linearly; β = 1 is the plain bound', () => {
  const rng = new Rng(4);
  const t = { logLik: rng.normal([3, 4]), logPrior: rng.normal([3, 4]), logQ: rng.normal([3, 4]) };
  const ll = Array.from(t.logLik.dataSync());
  const lp = Array.from(t.logPrior.dataSync());
  const lq = Array.from(t.logQ.dataSync());
  for (const beta of [0, 0.5, 1, 4]) {
    const e = take(bound(t, { kind: 'elbo', beta }));
    for (let b = 0; b < 4; b++) {
      let s = 0;
      for (let j = 0; j < 3; j++) s += (ll[j * 4 + b] + beta * (lp[j * 4 + b] - lq[j * 4 + b])) / 3;
      assertClose(e[b], s, { atol: 1e-5 });
    }
  }
  assert.deepEqual(take(bound(t, { kind: 'iwae' })), take(bound(t, { kind: 'iwae', beta: 1 })));
  assertClose(take(bound(t, { kind: 'elbo' })), take(elboFromLogWeights(logWeights(t))), { atol: 1e-6 });
  // analytic KL replaces logPrior − logQ in the ELBO
  const kl = tf.tensor1d([1, 2, 3, 4]);
  const withKl = take(bound({ ...t, kl }, { kind: 'elbo', beta: 2 }));
  for (let b = 0; b < 4; b++) assertClose(withKl[b], (ll[b] + ll[4 + b] + ll[8 + b]) / 3 - 2 * (b + 1), { atol: 1e-5 });
  assert.throws(() => bound(t, { kind: 'elbo', beta: -1 }), /beta must be ≥ 0/);
  tf.dispose([t.logLik, t.logPrior, t.logQ, kl]);
});

test('KL warm-up is linear from 0 to the target; learning-rate schedules', () => {
  assert.equal(warmupBeta(0, 10), 0);
  assert.equal(warmupBeta(5, 10), 0.5);
  assert.equal(warmupBeta(20, 10), 1);
  assert.equal(warmupBeta(3, 0, 4), 4);
  assert.equal(warmupBeta(2.5, 5, 2), 1);
  assert.equal(learningRate(1e-3, { kind: 'constant' }, 7, 10), 1e-3);
  assertClose(learningRate(1, { kind: 'exponential', gamma: 0.5 }, 3, 10), 0.125);
  assertClose(learningRate(1, { kind: 'cosine', min: 0 }, 5, 10), 0.5);
  assertClose(learningRate(1, { kind: 'cosine', min: 0.1 }, 10, 10), 0.1);
  assertClose(learningRate(1, { kind: 'step', every: 2, gamma: 0.1 }, 4.5, 10), 0.01);
});
