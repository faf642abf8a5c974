import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { assertClose, assertNoLeak, setupEngine, take } from '../testing/helpers.js';
import {
  classificationLoss,
  concreteElbo,
  enumeratedElbo,
  enumeratedLogMarginal,
  enumeratedLogWeights,
  iwaeFromLogWeights,
  klToUniform,
  labelledBound,
  labelledLogWeights,
  sampleMean,
  semiSupervisedLoss,
  sslLogWeight,
  unlabelledBound,
  type SslLogTerms,
} from './index.js';

await setupEngine();

/** Plain-number helpers (double precision) for the hand-written formulas. */
function logSoftmaxRow(l: number[]): number[] {
  const m = Math.max(...l);
  const lse = m + Math.log(l.reduce((s, v) => s + Math.exp(v - m), 0));
  return l.map((v) => v - lse);
}
function logSumExp(v: number[]): number {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0));
}
function rows(t: tf.Tensor): number[][] {
  const [n, k] = t.shape;
  const v = Array.from(t.dataSync());
  return Array.from({ length: n }, (_, i) => v.slice(i * k!, (i + 1) * k!));
}
const vals = (t: tf.Tensor) => Array.from(t.dataSync());

const N = 5;
const K = 4;

test('enumeratedElbo is Σ_y q(y) f(y) + H(q), written as an explicit loop over the K classes, from class-major or folded f', () => {
  const rng = new Rng(1);
  const logits = tf.mul(rng.normal([N, K]), 2);
  const f = tf.mul(rng.normal([K * N]), 5); // class-major: row k·N + n
  const got = take(enumeratedElbo(logits, f));
  const fv = vals(f);
  rows(logits).forEach((l, n) => {
    const lq = logSoftmaxRow(l);
    let want = 0;
    for (let k = 0; k < K; k++) want += Math.exp(lq[k]) * (fv[k * N + n] - lq[k]);
    assertClose(got[n], want, { atol: 1e-5, rtol: 1e-5, msg: `row ${n}` });
  });
  const folded = tf.transpose(tf.reshape(f, [K, N]));
  assertClose(take(enumeratedElbo(logits, folded)), got, { atol: 1e-6 });
  // a constant f gives f + H(q) ≤ f + log K, with equality for a uniform q
  const flat = take(enumeratedElbo(tf.zeros([N, K]), tf.fill([K * N], 3)));
  assertClose(flat, new Array(N).fill(3 + Math.log(K)), { atol: 1e-5 });
  assert.throws(() => enumeratedElbo(logits, tf.zeros([K * N + 1])), /per-class values/);
  assert.throws(() => enumeratedElbo(tf.zeros([K]), f), /\[N, K\]/);
  tf.dispose([logits, f, folded]);
});

test('enumeratedLogMarginal is log Σ_y exp f(y), stable for spread values', () => {
  const f = tf.tensor1d([1, -2, 3, 0.5, -1000, -1001]); // K = 3, N = 2, class-major
  const got = take(enumeratedLogMarginal(f, 3));
  assertClose(got, [logSumExp([1, 3, -1000]), logSumExp([-2, 0.5, -1001])], { atol: 1e-5 });
  assert.throws(() => enumeratedLogMarginal(f, 4), /do not divide/);
  assert.throws(() => enumeratedLogMarginal(f, 0), /integer ≥ 1/);
  f.dispose();
});

test('Concrete: closed-form KL(q ‖ Uniform) equals Σ q log q + log K; with a given p(y) it is the Categorical KL', () => {
  const rng = new Rng(2);
  const logits = tf.mul(rng.normal([N, K]), 3);
  const got = take(klToUniform(logits));
  const pl = [0.3, -1, 2, 0];
  rows(logits).forEach((l, n) => {
    const lq = logSoftmaxRow(l);
    const want = lq.reduce((s, v) => s + Math.exp(v) * v, 0) + Math.log(K);
    assertClose(got[n], want, { atol: 1e-5, rtol: 1e-5 });
    assert.ok(got[n] >= -1e-6);
  });
  assertClose(take(klToUniform(tf.fill([2, K], 7))), [0, 0], { atol: 1e-6 });
  const f = rng.normal([N]);
  const fv = vals(f);
  const withUniform = take(concreteElbo(logits, f));
  withUniform.forEach((u, n) => assertClose(u, fv[n] - got[n], { atol: 1e-5 }));
  const py = tf.tensor1d(pl);
  const withPrior = take(concreteElbo(logits, f, py));
  const lp = logSoftmaxRow(pl);
  rows(logits).forEach((l, n) => {
    const lq = logSoftmaxRow(l);
    const kl = lq.reduce((s, v, k) => s + Math.exp(v) * (v - lp[k]), 0);
    assertClose(withPrior[n], fv[n] - kl, { atol: 1e-5, rtol: 1e-5 });
  });
  assert.throws(() => concreteElbo(logits, tf.zeros([N + 1])), /values of f/);
  tf.dispose([logits, f, py]);
});

function randomTerms(rng: Rng, n: number, aux: boolean): Required<SslLogTerms> | SslLogTerms {
  const t: SslLogTerms = { logPx: tf.mul(rng.normal([n]), 10), logPy: tf.fill([n], -Math.log(K)), logPz: rng.normal([n]), logQz: rng.normal([n]) };
  if (aux) {
    t.logPa = rng.normal([n]);
    t.logQa = rng.normal([n]);
  }
  return t;
}

test('the labelled bound is log p(x|·) + log p(y) + β(log p(z) − log q(z|·) + log p(a|·) − log q(a|x)); the classification loss is −log q(y|·)', () => {
  const rng = new Rng(3);
  for (const aux of [false, true]) {
    const t = randomTerms(rng, N, aux);
    const v = Object.fromEntries(Object.entries(t).map(([k, x]) => [k, vals(x)]));
    for (const beta of [0, 0.3, 1]) {
      const got = take(labelledBound(t, beta));
      for (let n = 0; n < N; n++) {
        const lat = v.logPz[n] - v.logQz[n] + (aux ? v.logPa[n] - v.logQa[n] : 0);
        assertClose(got[n], v.logPx[n] + v.logPy[n] + beta * lat, { atol: 1e-4, rtol: 1e-6 });
      }
    }
    assertClose(take(sslLogWeight(t)), take(labelledBound(t, 1)), { atol: 0 });
    assert.throws(() => labelledBound(t, -1), /beta must be ≥ 0/);
    tf.dispose(Object.values(t));
  }
  const logits = tf.tensor2d([[1, 2, 0, -1], [0, 0, 0, 0]]);
  const y = tf.tensor2d([[0, 1, 0, 0], [0, 0, 0, 1]]);
  assertClose(take(classificationLoss(logits, y)), [-logSoftmaxRow([1, 2, 0, -1])[1], Math.log(K)], { atol: 1e-6 });
  assert.throws(() => classificationLoss(logits, tf.zeros([2, 3])), /must both be \[N, K\]/);
  tf.dispose([logits, y]);
});

test('the unlabelled bound: enumerated (explicit loop) and Concrete, with −β log q(a|x) outside the sum over y', () => {
  const rng = new Rng(4);
  const beta = 0.6;
  const perClassTerms = randomTerms(rng, K * N, true);
  const { logQa: _unused, ...perClass } = perClassTerms;
  _unused?.dispose();
  const logQa = rng.normal([N]);
  const qyLogits = rng.normal([N, K]);
  const got = take(unlabelledBound({ estimator: 'enumerate', perClass, logQa, qyLogits }, beta));
  const v = Object.fromEntries(Object.entries(perClass).map(([k, x]) => [k, vals(x!)]));
  const qa = vals(logQa);
  rows(qyLogits).forEach((l, n) => {
    const lq = logSoftmaxRow(l);
    let want = -beta * qa[n];
    for (let k = 0; k < K; k++) {
      const i = k * N + n;
      const f = v.logPx[i] + v.logPy[i] + beta * (v.logPz[i] - v.logQz[i] + v.logPa[i]);
      want += Math.exp(lq[k]) * (f - lq[k]);
    }
    assertClose(got[n], want, { atol: 1e-4, rtol: 1e-5, msg: `row ${n}` });
  });
  // Concrete: f(ỹ) without log p(y), minus KL(q ‖ Uniform), minus β log q(a|x)
  const atSample = { logPx: rng.normal([N]), logPz: rng.normal([N]), logQz: rng.normal([N]), logPa: rng.normal([N]) };
  const c = take(unlabelledBound({ estimator: 'concrete', atSample, logQa, qyLogits }, beta));
  const s = Object.fromEntries(Object.entries(atSample).map(([k, x]) => [k, vals(x)]));
  rows(qyLogits).forEach((l, n) => {
    const lq = logSoftmaxRow(l);
    const kl = lq.reduce((acc, w) => acc + Math.exp(w) * w, 0) + Math.log(K);
    assertClose(c[n], s.logPx[n] + beta * (s.logPz[n] - s.logQz[n] + s.logPa[n]) - kl - beta * qa[n], { atol: 1e-5, rtol: 1e-5 });
  });
  assert.throws(() => unlabelledBound({ estimator: 'concrete', atSample, qyLogits }, Number.NaN), /beta must be ≥ 0/);
  tf.dispose([...Object.values(perClass), ...Object.values(atSample), logQa, qyLogits]);
});

test('J^α = −mean_l bound + α·mean_l cross-entropy − mean_u bound; the Monte Carlo mean folds S draws sample-major', () => {
  const bound = tf.tensor1d([-10, -12]);
  const crossEntropy = tf.tensor1d([1, 3]);
  const unlabelled = tf.tensor1d([-20, -22, -24]);
  assertClose(take(semiSupervisedLoss({ labelled: { bound, crossEntropy }, unlabelled }, 0.5)), 11 + 0.5 * 2 + 22, { atol: 1e-5 });
  assertClose(take(semiSupervisedLoss({ unlabelled }, 100)), 22, { atol: 1e-5 });
  assertClose(take(semiSupervisedLoss({}, 1)), 0);
  assert.throws(() => semiSupervisedLoss({ unlabelled }, -1), /alpha must be ≥ 0/);
  const v = tf.tensor1d([1, 2, 3, 5, 7, 9]); // S = 2, B = 3
  assertClose(take(sampleMean(v, 2)), [3, 4.5, 6]);
  assert.equal(sampleMean(v, 1), v);
  assert.throws(() => sampleMean(v, 4), /do not divide/);
  tf.dispose([bound, crossEntropy, unlabelled, v]);
});

test('importance log-weights: labelled [k, B] with β = 1; unlabelled log Σ_y exp(·) − log q(a|x); IWAE(1) of them lies above the enumerated bound', () => {
  const rng = new Rng(5);
  const k = 3;
  const B = 2;
  const t = randomTerms(rng, k * B, true);
  const lw = labelledLogWeights(t, k);
  assert.deepEqual(lw.shape, [k, B]);
  assertClose(take(lw), take(sslLogWeight(t)), { atol: 0 });
  assert.throws(() => labelledLogWeights(t, 4), /do not divide/);
  tf.dispose(Object.values(t));

  const { logQa: q0, ...perClass } = randomTerms(rng, K * k * B, true);
  q0?.dispose();
  const logQa = rng.normal([k * B]);
  const ew = enumeratedLogWeights({ perClass, logQa }, K, k);
  assert.deepEqual(ew.shape, [k, B]);
  const v = Object.fromEntries(Object.entries(perClass).map(([name, x]) => [name, vals(x!)]));
  const qa = vals(logQa);
  const got = take(ew);
  for (let r = 0; r < k * B; r++) {
    const f = Array.from({ length: K }, (_, c) => {
      const i = c * k * B + r;
      return v.logPx[i] + v.logPy[i] + v.logPz[i] - v.logQz[i] + v.logPa[i];
    });
    assertClose(got[r], logSumExp(f) - qa[r], { atol: 1e-4, rtol: 1e-6 });
  }
  // with k = 1 and any q(y|·), log Σ_y exp f − log q(a) ≥ Σ_y q f + H(q) − log q(a) (Jensen)
  // one row's K classes (rows c·k·B of the class-major layout), its log q(a|x)
  const oneRow = Object.fromEntries(Object.entries(perClass).map(([name, x]) => [name, tf.gather(x!, Array.from({ length: K }, (_, c) => c * k * B))])) as typeof perClass;
  const oneQa = tf.slice(logQa, 0, 1);
  const iw1 = take(iwaeFromLogWeights(enumeratedLogWeights({ perClass: oneRow, logQa: oneQa }, K, 1)));
  for (const logits of [[0, 0, 0, 0], [3, -1, 0.5, 2], [-5, 5, 0, 0]]) {
    const qy = tf.tensor2d([logits]);
    const u = take(unlabelledBound({ estimator: 'enumerate', perClass: oneRow, logQa: oneQa, qyLogits: qy }));
    assert.ok(iw1[0] >= u[0] - 1e-4, `IWAE(1) ${iw1[0]} < enumerated bound ${u[0]} for q(y) logits ${logits}`);
    qy.dispose();
  }
  tf.dispose([...Object.values(perClass), ...Object.values(oneRow), logQa, oneQa]);
});

test('the objectives leave no tensors behind', async () => {
  const rng = new Rng(6);
  const { logQa: q0, ...perClass } = randomTerms(rng, K * N, true);
  q0?.dispose();
  const logQa = rng.normal([N]);
  const qyLogits = rng.normal([N, K]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0], 'int32'), K);
  await assertNoLeak(() => {
    tf.dispose([
      unlabelledBound({ estimator: 'enumerate', perClass, logQa, qyLogits }, 0.5),
      unlabelledBound({ estimator: 'concrete', atSample: { logPx: logQa, logPz: logQa, logQz: logQa }, logQa, qyLogits }, 0.5),
      enumeratedLogWeights({ perClass, logQa }, K, 1),
      classificationLoss(qyLogits, y),
      klToUniform(qyLogits),
      semiSupervisedLoss({ labelled: { bound: logQa, crossEntropy: logQa }, unlabelled: logQa }, 2),
    ]);
  });
  tf.dispose([...Object.values(perClass), logQa, qyLogits, y]);
});
