/**
 * The semi² objective's units (`objectives/semi2.ts`) on small hand-made tensors: every bound against
 * its formula written out in double precision (an explicit loop over K for the enumerated y), the
 * reverse bounds (9), (10), (20) below their true log-marginals in a tiny reverse model where those
 * are known in closed form (and equal to them under the exact posterior), objective (15) term by
 * term with its call order and skipping, and gradients against central finite differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { assertClose, assertNoLeak, finiteDifference, setupEngine, take } from '../testing/helpers.js';
import {
  checkSemi2Weights,
  forwardLabelledBound,
  forwardUnlabelledBound,
  inputLoss,
  labelLoss,
  reconstructionLoss,
  reverseLabelledBound,
  reverseObservedBound,
  reverseUnfeaturedBound,
  semi2EnumeratedLogWeights,
  semi2LabelledLogWeights,
  semi2Loss,
  semi2PointLoss,
  semi2SampledLogWeights,
  unfeaturedBound,
  type Semi2ForwardTerms,
  type Semi2Sources,
  type Semi2Weights,
} from './index.js';

await setupEngine();

const N = 5;
const K = 3;
const vals = (t: tf.Tensor) => Array.from(t.dataSync());
function logSoftmaxRow(l: number[]): number[] {
  const m = Math.max(...l);
  const lse = m + Math.log(l.reduce((s, v) => s + Math.exp(v - m), 0));
  return l.map((v) => v - lse);
}
/** log N(v; m, s²) in double precision. */
const logNormal = (v: number, m: number, s: number) => -0.5 * Math.log(2 * Math.PI) - Math.log(s) - (0.5 * (v - m) ** 2) / (s * s);

/** Random per-row terms of (7) with number priors. */
function forwardTerms(rng: Rng, n: number): Semi2ForwardTerms {
  return { logPx: tf.mul(rng.normal([n]), 10), logQz: rng.normal([n]), logPy: Math.log(2), logPz: -2 * Math.log(3) };
}

test('bound (7) is log p(x|y,z) − log q(z|x,y) + log p(y) + log p(z), with number or per-row priors', () => {
  const rng = new Rng(1);
  const t = forwardTerms(rng, N);
  const px = vals(t.logPx);
  const qz = vals(t.logQz);
  const got = take(forwardLabelledBound(t));
  for (let n = 0; n < N; n++) assertClose(got[n], px[n] - qz[n] + Math.log(2) - 2 * Math.log(3), { atol: 1e-5, msg: `row ${n}` });
  const py = rng.normal([N]);
  const pz = rng.normal([N]);
  const got2 = take(forwardLabelledBound({ ...t, logPy: py, logPz: pz }));
  const [pyv, pzv] = [vals(py), vals(pz)];
  for (let n = 0; n < N; n++) assertClose(got2[n], px[n] - qz[n] + pyv[n] + pzv[n], { atol: 1e-5, msg: `row ${n}` });
  assert.throws(() => forwardLabelledBound({ ...t, logQz: tf.zeros([N + 1]) }), /logQz has 6 values for 5 rows/);
  tf.dispose([t.logPx, t.logQz, py, pz]);
});

test('bound (8), sampled y: (7) at the draw − log q(y | x)', () => {
  const rng = new Rng(2);
  const t = forwardTerms(rng, N);
  const logQy = rng.normal([N]);
  const got = take(forwardUnlabelledBound({ estimator: 'sample', atSample: t, logQy }));
  const [px, qz, qy] = [vals(t.logPx), vals(t.logQz), vals(logQy)];
  for (let n = 0; n < N; n++) assertClose(got[n], px[n] - qz[n] + Math.log(2) - qy[n] - 2 * Math.log(3), { atol: 1e-5, msg: `row ${n}` });
  tf.dispose([t.logPx, t.logQz, logQy]);
});

test('bound (8), Concrete y: the terms at ỹ − KL(q(y|x) ‖ Uniform_K) in closed form', () => {
  const rng = new Rng(3);
  const { logPx, logQz, logPz } = forwardTerms(rng, N);
  const qyLogits = tf.mul(rng.normal([N, K]), 2);
  const got = take(forwardUnlabelledBound({ estimator: 'concrete', atSample: { logPx, logQz, logPz }, qyLogits }));
  const [px, qz, l] = [vals(logPx), vals(logQz), vals(qyLogits)];
  for (let n = 0; n < N; n++) {
    const lq = logSoftmaxRow(l.slice(n * K, (n + 1) * K));
    const kl = lq.reduce((s, v) => s + Math.exp(v) * v, 0) + Math.log(K);
    assertClose(got[n], px[n] - qz[n] - kl + (logPz as number), { atol: 1e-5, msg: `row ${n}` });
  }
  // uniform q: no KL, the bound is the terms at the sample
  const flat = take(forwardUnlabelledBound({ estimator: 'concrete', atSample: { logPx, logQz, logPz }, qyLogits: tf.zeros([N, K]) }));
  for (let n = 0; n < N; n++) assertClose(flat[n], px[n] - qz[n] + (logPz as number), { atol: 1e-5 });
  assert.throws(() => forwardUnlabelledBound({ estimator: 'concrete', atSample: { logPx, logQz, logPz }, qyLogits: tf.zeros([N + 1, K]) }), /logPx has 5 values for 6 rows/);
  tf.dispose([logPx, logQz, qyLogits]);
});

test('bound (8), enumerated y: Σ_y q(y|x) [(7) at y] + H(q(y|x)), as an explicit loop over the K classes', () => {
  const rng = new Rng(4);
  const perClass = forwardTerms(rng, K * N); // class-major: row c·N + n
  const qyLogits = tf.mul(rng.normal([N, K]), 2);
  const got = take(forwardUnlabelledBound({ estimator: 'enumerate', perClass, qyLogits }));
  const [px, qz, l] = [vals(perClass.logPx), vals(perClass.logQz), vals(qyLogits)];
  for (let n = 0; n < N; n++) {
    const lq = logSoftmaxRow(l.slice(n * K, (n + 1) * K));
    let want = 0;
    for (let c = 0; c < K; c++) {
      const f = px[c * N + n] - qz[c * N + n] + Math.log(2) - 2 * Math.log(3);
      want += Math.exp(lq[c]) * (f - lq[c]);
    }
    assertClose(got[n], want, { atol: 1e-4, rtol: 1e-5, msg: `row ${n}` });
  }
  assert.throws(() => forwardUnlabelledBound({ estimator: 'enumerate', perClass, qyLogits: tf.zeros([N + 1, K]) }), /15 per-class values for 6 rows of 3 classes/);
  tf.dispose([perClass.logPx, perClass.logQz, qyLogits]);
});

test('bounds (9), (20), (10) equal their formulas; (10) = (20) − log p(z); the entropy variant drops exactly log p(x | y, z)', () => {
  const rng = new Rng(5);
  const [qy, qz, px, pz] = [rng.normal([N]), rng.normal([N]), tf.mul(rng.normal([N]), 5), rng.normal([N])];
  const [qyv, qzv, pxv, pzv] = [qy, qz, px, pz].map(vals);
  const logQx = -4 * Math.log(2000);
  const logPzBox = -2 * Math.log(3);
  const b9 = take(reverseLabelledBound({ logQy: qy, logQz: qz, logPz: logPzBox, logQx }));
  const b20 = take(reverseObservedBound({ logQy: qy, logQz: qz, logPx: px, logQx }));
  const b20n = take(reverseObservedBound({ logQy: qy, logQz: qz, logPx: px, logQx }, { entropy: false }));
  const b10 = take(reverseUnfeaturedBound({ logQy: qy, logQz: qz, logPx: px, logQx, logPz: logPzBox }));
  const b10t = take(reverseUnfeaturedBound({ logQy: qy, logQz: qz, logPx: px, logQx, logPz: pz }));
  const d10 = take(unfeaturedBound({ logQy: qy, logQz: qz, logPx: px, logQx, logPz: logPzBox }));
  const d20 = take(unfeaturedBound({ logQy: qy, logQz: qz, logPx: px, logQx }, { entropy: false }));
  for (let n = 0; n < N; n++) {
    const msg = `row ${n}`;
    assertClose(b9[n], qyv[n] + qzv[n] - logPzBox + logQx, { atol: 1e-4, msg });
    assertClose(b20[n], qyv[n] + qzv[n] - pxv[n] + logQx, { atol: 1e-4, msg });
    assertClose(b20n[n], qyv[n] + qzv[n] + logQx, { atol: 1e-4, msg });
    assertClose(b10[n], qyv[n] + qzv[n] - logPzBox - pxv[n] + logQx, { atol: 1e-4, msg });
    assertClose(b10t[n], qyv[n] + qzv[n] - pzv[n] - pxv[n] + logQx, { atol: 1e-4, msg });
    assert.equal(d10[n], b10[n], 'unfeaturedBound with log p(z) is (10)');
    assert.equal(d20[n], b20n[n], 'unfeaturedBound without log p(z) is (20)');
  }
  assert.throws(() => reverseUnfeaturedBound({ logQy: qy, logQz: qz, logPx: px, logQx }), /bound \(10\) needs log p\(z\)/);
  assert.throws(() => reverseLabelledBound({ logQy: qy, logQz: tf.zeros([2]), logPz: 0, logQx }), /logQz has 2 values for 5 rows/);
  tf.dispose([qy, qz, px, pz]);
});

/**
 * A tiny reverse model with known marginals: x ∈ ℝ, q(x) = U(−γ, γ); q(y | x) = N(y; a·x, σ²);
 * q(z | x, y) = N(z; y, 1) (z does not read x). For γ ≫ |y|/a the marginals are
 *   log q(y) = −log 2γ − log a,  log q(y, z) = log q(y) + log N(z; y, 1),
 *   log q(x, y) = −log 2γ + log N(y; a x, σ²),
 * and the exact posterior of x given y (and z) is N(y/a, (σ/a)²).
 */
const G = 1000;
const A = 2;
const SIG = 0.5;
const Y = [0.3, -1.2, 2.0, 0.0];
const logQx = -Math.log(2 * G);
const LOG_QY = -Math.log(2 * G) - Math.log(A); // log q(y), the same for every |y| ≪ aγ

/** Terms of (10)/(20) for M draws per label: z from p(z) = N(0, 1) (or observed zObs), x from p(x | y, z) = N(mx(y), sx²). */
function reverseTerms(rng: Rng, M: number, mx: (y: number) => number, sx: number, zObs?: number[]) {
  const eps = take(rng.normal([2, M * Y.length]));
  const logQy: number[] = [];
  const logQz: number[] = [];
  const logPx: number[] = [];
  const logPz: number[] = [];
  for (let j = 0; j < M * Y.length; j++) {
    const b = j % Y.length;
    const y = Y[b];
    const z = zObs ? zObs[b] : eps[j];
    const x = mx(y) + sx * eps[M * Y.length + j];
    logQy.push(logNormal(y, A * x, SIG));
    logQz.push(logNormal(z, y, 1));
    logPx.push(logNormal(x, mx(y), sx));
    logPz.push(logNormal(z, 0, 1));
  }
  return { logQy: tf.tensor1d(logQy), logQz: tf.tensor1d(logQz), logPx: tf.tensor1d(logPx), logQx, logPz: tf.tensor1d(logPz) };
}
/** Per-label means of M sample-major draws. */
function perLabelMean(v: number[], M: number): number[] {
  return Y.map((_, b) => {
    let s = 0;
    for (let j = 0; j < M; j++) s += v[j * Y.length + b];
    return s / M;
  });
}

test('bound (20) = log q(y, z) under the exact posterior of x, below it otherwise; bound (10) = log q(y) − KL(p(z) ‖ q(z | y)) ≤ log q(y)', () => {
  const M = 20000;
  const exact = (y: number) => y / A;
  // (20), z observed, recognition p(x | y, z) = the exact posterior: every draw gives log q(y, z)
  const zObs = [0.5, -1.0, 1.7, 0.2];
  const tight = reverseTerms(new Rng(6), 1, exact, SIG / A, zObs);
  const { logPz: unused, ...t20 } = tight;
  unused.dispose();
  const b20 = take(reverseObservedBound(t20));
  Y.forEach((y, b) => assertClose(b20[b], LOG_QY + logNormal(zObs[b], y, 1), { atol: 2e-4, msg: `(20) under the exact posterior, label ${b}` }));
  tf.dispose([t20.logQy, t20.logQz, t20.logPx]);
  // a wrong recognition model: the bound drops below the marginal (by the KL to the posterior)
  const loose = reverseTerms(new Rng(7), M, (y) => y / A + 0.4, 0.6, zObs);
  const { logPz: unused2, ...l20 } = loose;
  unused2.dispose();
  const m20 = perLabelMean(take(reverseObservedBound(l20)), M);
  Y.forEach((y, b) => assert.ok(m20[b] < LOG_QY + logNormal(zObs[b], y, 1) - 0.1, `(20) ${m20[b]} not below log q(y, z) for label ${b}`));
  tf.dispose([l20.logQy, l20.logQz, l20.logPx]);
  // (10): E = log q(y) − KL(p(x, z | y) ‖ q(x, z | y)); with the exact x-posterior the gap is
  // KL(N(0, 1) ‖ N(y, 1)) = y²/2 exactly, so the Monte Carlo mean must sit at log q(y) − y²/2
  const t10 = reverseTerms(new Rng(8), M, exact, SIG / A);
  const m10 = perLabelMean(take(reverseUnfeaturedBound(t10)), M);
  Y.forEach((y, b) => {
    assertClose(m10[b], LOG_QY - (y * y) / 2, { atol: 0.06, msg: `(10) label ${b}` }); // MC s.d. of the mean: |y|/√M ≤ 0.015
    assert.ok(m10[b] <= LOG_QY + 0.03, `(10) ${m10[b]} above log q(y) ${LOG_QY}`);
  });
  tf.dispose([t10.logQy, t10.logQz, t10.logPx, t10.logPz]);
});

test('bound (9) = log q(x, y) − KL(p(z) ‖ q(z | x, y)): equal to log q(x, y) when q(z | x, y) = p(z), below it otherwise', () => {
  const M = 40000;
  const xs = [0.1, -0.5, 0.9, 0.4];
  const eps = take(new Rng(9).normal([M * Y.length]));
  const build = (m: (y: number) => number, s: number) => {
    const logQy: number[] = [];
    const logQz: number[] = [];
    const logPz: number[] = [];
    for (let j = 0; j < M * Y.length; j++) {
      const b = j % Y.length;
      const z = eps[j]; // z ~ p(z) = N(0, 1)
      logQy.push(logNormal(Y[b], A * xs[b], SIG));
      logQz.push(logNormal(z, m(Y[b]), s));
      logPz.push(logNormal(z, 0, 1));
    }
    return { logQy: tf.tensor1d(logQy), logQz: tf.tensor1d(logQz), logPz: tf.tensor1d(logPz), logQx };
  };
  const truth = Y.map((y, b) => logQx + logNormal(y, A * xs[b], SIG));
  const same = build(() => 0, 1);
  const bs = take(reverseLabelledBound(same));
  bs.forEach((v, j) => assertClose(v, truth[j % Y.length], { atol: 1e-4, msg: `draw ${j}` }));
  const other = build((y) => y, 0.7);
  const mean = perLabelMean(take(reverseLabelledBound(other)), M);
  Y.forEach((y, b) => {
    const kl = Math.log(0.7) + (1 + y * y) / (2 * 0.49) - 0.5; // KL(N(0, 1) ‖ N(y, 0.7²))
    assertClose(mean[b], truth[b] - kl, { atol: 0.08, msg: `label ${b}` }); // MC s.d. of the mean ≤ 0.03
    assert.ok(mean[b] < truth[b], `(9) ${mean[b]} not below log q(x, y) ${truth[b]}`);
  });
  tf.dispose([same.logQy, same.logQz, same.logPz as tf.Tensor, other.logQy, other.logQz, other.logPz as tf.Tensor]);
});

test('losses (13), (14) and the deterministic reconstruction equal their formulas', () => {
  const yBar = tf.tensor2d([[0.2, 0.3, 0.5], [0.9, 0.1, 0], [0.1, 0.1, 0.8]]);
  const y = tf.tensor2d([[0.1, 0.4, 0.5], [1, 0, 0], [0, 0.5, 0.5]]);
  const [yb, yv] = [vals(yBar).map((v) => Math.min(Math.max(v, 1e-6), 1)), vals(y)];
  const kl = take(labelLoss(yBar, y));
  const l2 = take(labelLoss(yBar, y, 'l2'));
  const ce = take(labelLoss(yBar, y, 'ce'));
  for (let n = 0; n < 3; n++) {
    let [k, s, c] = [0, 0, 0];
    for (let j = 0; j < 3; j++) {
      const [a, b] = [yv[n * 3 + j], yb[n * 3 + j]];
      if (a > 0) k += a * (Math.log(a) - Math.log(b));
      s += (b - a) ** 2;
      c -= a * Math.log(b);
    }
    assertClose(kl[n], k, { atol: 1e-5, msg: `KL row ${n}` });
    assertClose(l2[n], s, { atol: 1e-6, msg: `l2 row ${n}` });
    assertClose(ce[n], c, { atol: 1e-5, msg: `ce row ${n}` });
  }
  assert.throws(() => labelLoss(yBar, tf.zeros([3, 2])), /must both be \[N, K\]/);
  assert.throws(() => labelLoss(yBar, y, 'hinge' as 'kl'), /unknown kind 'hinge'/);
  const xBar = tf.tensor2d([[0.2, 0.9], [0.5, 0.01]]);
  const x = tf.tensor2d([[0, 1], [1, 0]]);
  assertClose(take(inputLoss(xBar, x)), [0.04 + 0.01, 0.25 + 0.0001], { atol: 1e-6 });
  assertClose(take(reconstructionLoss(xBar, x, 'gaussian')), [0.05, 0.2501], { atol: 1e-6 });
  assertClose(take(reconstructionLoss(xBar, x, 'bernoulli')), [-Math.log(0.8) - Math.log(0.9), -Math.log(0.5) - Math.log(0.99)], { atol: 1e-5 });
  assert.throws(() => inputLoss(xBar, tf.zeros([2, 3])), /must both be \[N, D\]/);
  tf.dispose([yBar, y, xBar, x]);
});

test('importance log-weights: (7) folded to [k, B]; y summed by log-sum-exp over the classes; the sampled y less log q(y | x)', () => {
  const k = 2;
  const B = 3;
  const rng = new Rng(10);
  const t = forwardTerms(rng, k * B);
  const f = vals(forwardLabelledBound(t));
  const lw = semi2LabelledLogWeights(t, k);
  assert.deepEqual(lw.shape, [k, B]);
  assert.deepEqual(take(lw), f);
  const logQy = rng.normal([k * B]);
  const qy = vals(logQy);
  assertClose(take(semi2SampledLogWeights(t, logQy, k)), f.map((v, i) => v - qy[i]), { atol: 1e-5 });
  const perClass = forwardTerms(rng, K * k * B); // row c·k·B + j·B + b
  const fc = vals(forwardLabelledBound(perClass));
  const ew = semi2EnumeratedLogWeights(perClass, K, k);
  assert.deepEqual(ew.shape, [k, B]);
  const got = take(ew);
  for (let j = 0; j < k; j++) {
    for (let b = 0; b < B; b++) {
      const col = Array.from({ length: K }, (_, c) => fc[c * k * B + j * B + b]);
      const m = Math.max(...col);
      assertClose(got[j * B + b], m + Math.log(col.reduce((s, v) => s + Math.exp(v - m), 0)), { atol: 1e-4, msg: `draw ${j}, row ${b}` });
    }
  }
  assert.throws(() => semi2LabelledLogWeights(t, 4), /6 rows do not divide into 4 draws/);
  assert.throws(() => semi2EnumeratedLogWeights(perClass, 4, k), /18 rows do not divide into 4 classes/);
  assert.throws(() => semi2SampledLogWeights(t, logQy, 0), /k must be an integer ≥ 1/);
  tf.dispose([t.logPx, t.logQz, logQy, perClass.logPx, perClass.logQz]);
});

/** Fixed terms for every source of eq 15, as plain numbers for the hand-written J. */
function allSources(rng: Rng) {
  const f = forwardTerms(rng, 4);
  const r = { logQy: rng.normal([4]), logQz: rng.normal([4]), logPz: -1.5, logQx: -20 };
  const yBar = tf.tensor2d([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]]);
  const y = tf.tensor2d([[0.1, 0.4, 0.5], [0.5, 0.25, 0.25], [0, 1, 0], [0.2, 0.2, 0.6]]);
  const xBar = rng.normal([4, 6]);
  const x = rng.normal([4, 6]);
  const u = { estimator: 'sample' as const, atSample: forwardTerms(rng, 6), logQy: rng.normal([6]) };
  const uf = { logQy: rng.normal([3]), logQz: rng.normal([3]), logPx: rng.normal([3]), logQx: -20, logPz: -1.5 };
  const W = rng.normal([6, 5]);
  const calls: string[] = [];
  const sources: Semi2Sources = {
    labelled: {
      forward: () => (calls.push('7'), f),
      predicted: () => (calls.push('13'), { yBar, y }),
      reverse: () => (calls.push('9'), r),
      generated: () => (calls.push('14'), { xBar, x }),
    },
    unlabelled: () => (calls.push('8'), u),
    unfeatured: () => (calls.push('10'), uf),
    qyFirstLayer: { W, fanIn: 6 },
  };
  const mean = (t: tf.Tensor) => {
    const v = take(t);
    return v.reduce((s, a) => s + a, 0) / v.length;
  };
  const parts = {
    b7: mean(forwardLabelledBound(f)),
    b8: mean(forwardUnlabelledBound(u)),
    b9: mean(reverseLabelledBound(r)),
    b10: mean(reverseUnfeaturedBound(uf)),
    b10n: mean(reverseUnfeaturedBound(uf, { entropy: false })),
    l13: mean(labelLoss(yBar, y, 'ce')),
    l14: mean(inputLoss(xBar, x)),
    w2: vals(W).reduce((s, a) => s + a * a, 0),
  };
  const dispose = () => tf.dispose([f.logPx, f.logQz, r.logQy, r.logQz, yBar, y, xBar, x, u.atSample.logPx, u.atSample.logQz, u.logQy, uf.logQy, uf.logQz, uf.logPx, W]);
  return { sources, calls, parts, dispose };
}

test('objective (15): −J term by term, in its order; weight-0 terms and (9) without reverseLabelled are never called', () => {
  const s = allSources(new Rng(11));
  const w: Semi2Weights = { alphaF: 1.5, alphaFd: 2, alphaR: 0.5, alphaRd: 0.7, yLoss: 'ce', reverseLabelled: true, qyPrior: 0.8, qyPriorRows: 10 };
  const p = s.parts;
  const J = 1.5 * (p.b7 + p.b8) - 2 * p.l13 + 0.5 * (p.b9 + p.b10) - 0.7 * p.l14 - (0.8 * 6 * p.w2) / (2 * 10);
  assertClose(take(semi2Loss(s.sources, w)), -J, { atol: 2e-4, rtol: 1e-5 });
  assert.deepEqual(s.calls, ['7', '13', '9', '14', '8', '10']);
  s.calls.length = 0;
  const w2: Semi2Weights = { alphaF: 1, alphaFd: 0, alphaR: 0.5, alphaRd: 0, reverseEntropy: false };
  assertClose(take(semi2Loss(s.sources, w2)), -(p.b7 + p.b8 + 0.5 * p.b10n), { atol: 2e-4, rtol: 1e-5 });
  assert.deepEqual(s.calls, ['7', '8', '10'], 'α = 0 and reverseLabelled off: those sources are not called');
  s.calls.length = 0;
  assert.ok(take(semi2Loss({}, { ...w, qyPrior: 0 }))[0] === 0, 'no source: J = 0');
  assert.throws(() => semi2Loss({ labelled: s.sources.labelled }, { ...w, qyPrior: 1 }), /qyPrior > 0 needs the first layer/);
  s.dispose();
});

test('deterministic objective: the discriminative losses and the reconstruction errors, weighted by (15)', () => {
  const s = allSources(new Rng(12));
  const p = s.parts;
  const l = s.sources.labelled!;
  const xu = { ...l.generated(), likelihood: 'gaussian' as const };
  const yf = l.predicted();
  const calls: string[] = [];
  const w: Semi2Weights = { alphaF: 1.5, alphaFd: 2, alphaR: 0.5, alphaRd: 0.7, yLoss: 'ce', qyPrior: 0.8, qyPriorRows: 10 };
  const got = take(
    semi2PointLoss(
      {
        labelled: { predicted: () => (calls.push('13'), l.predicted()), generated: () => (calls.push('14'), l.generated()) },
        unlabelled: () => (calls.push('x'), xu),
        unfeatured: () => (calls.push('y'), yf),
        qyFirstLayer: s.sources.qyFirstLayer,
      },
      w,
    ),
  );
  // x̄ vs x for the unlabelled source and ȳ vs y for the unfeatured one reuse (14) and (13)'s values
  assertClose(got, 2 * p.l13 + 0.7 * p.l14 + 1.5 * p.l14 + 0.5 * p.l13 + (0.8 * 6 * p.w2) / (2 * 10), { atol: 2e-4, rtol: 1e-5 });
  assert.deepEqual(calls, ['13', '14', 'x', 'y']);
  s.dispose();
});

test('weights are checked before any source is called', () => {
  const base: Semi2Weights = { alphaF: 1, alphaFd: 1, alphaR: 1, alphaRd: 1 };
  assert.throws(() => checkSemi2Weights({ ...base, alphaR: -1 }), /alphaR must be ≥ 0, got -1/);
  assert.throws(() => checkSemi2Weights({ ...base, alphaFd: Number.NaN }), /alphaFd must be ≥ 0/);
  assert.throws(() => checkSemi2Weights({ ...base, unlabelledQy: 1.5 }), /unlabelledQy must be in \[0, 1\]/);
  assert.throws(() => checkSemi2Weights({ ...base, qyPrior: -1 }), /qyPrior must be ≥ 0/);
  assert.throws(() => checkSemi2Weights({ ...base, qyPriorRows: 0 }), /qyPriorRows must be ≥ 1/);
  let called = false;
  const src = { unlabelled: () => ((called = true), { estimator: 'sample' as const, atSample: { logPx: tf.zeros([1]), logQz: tf.zeros([1]), logPy: 0, logPz: 0 }, logQy: tf.zeros([1]) }) };
  assert.throws(() => semi2Loss(src, { ...base, alphaF: -1 }), /alphaF must be ≥ 0/);
  assert.throws(() => semi2PointLoss({}, { ...base, alphaRd: -2 }), /alphaRd must be ≥ 0/);
  assert.equal(called, false);
});

test('gradients of the enumerated bound (8) and of −J match central finite differences', () => {
  const rng = new Rng(13);
  // enumerated (8): gradient in q(y)'s logits and in the per-class log p(x | y, z)
  const logits = tf.variable(tf.mul(rng.normal([N, K]), 1.5));
  const logPx = tf.variable(rng.normal([K * N]));
  const logQz = rng.normal([K * N]);
  const f = () => tf.tidy(() => tf.sum(forwardUnlabelledBound({ estimator: 'enumerate', perClass: { logPx, logQz, logPy: -Math.log(K), logPz: -1 }, qyLogits: logits })) as tf.Scalar);
  const { value, grads } = tf.variableGrads(f, [logits, logPx]);
  value.dispose();
  for (const v of [logits, logPx]) {
    const g = vals(grads[v.name]);
    for (let i = 0; i < g.length; i++) assertClose(finiteDifference(v, i, 1e-2, f), g[i], { atol: 2e-3, rtol: 1e-2, msg: `${v.name}[${i}]` });
  }
  // −J with every source, its terms depending on one parameter vector θ through smooth maps
  const theta = tf.variable(rng.normal([4]));
  const yb = tf.tensor2d([[0.2, 0.3, 0.5], [0.5, 0.3, 0.2]]);
  const yl = tf.tensor2d([[0.1, 0.4, 0.5], [0.6, 0.2, 0.2]]);
  const x = tf.tensor2d([[0.3, -0.2], [1, 0.5]]);
  const th = (i: number) => tf.slice(theta, i, 1);
  const sources: Semi2Sources = {
    labelled: {
      forward: () => ({ logPx: tf.mul(tf.tensor1d([1, 2]), tf.sin(th(0))), logQz: tf.square(th(1)).tile([2]), logPy: Math.log(2), logPz: -1 }),
      predicted: () => ({ yBar: tf.softmax(tf.add(tf.log(yb), tf.mul(tf.tensor2d([[1, 0, -1], [0, 1, 0]]), th(2)))), y: yl }),
      reverse: () => ({ logQy: tf.tanh(tf.mul(th(3), tf.tensor1d([1, -1]))), logQz: tf.mul(th(0), th(1)).tile([2]), logPz: -1, logQx: -5 }),
      generated: () => ({ xBar: tf.mul(tf.tensor2d([[1, 2], [0.5, -1]]), th(3)), x }),
    },
    unlabelled: () => ({
      estimator: 'concrete',
      atSample: { logPx: tf.cos(tf.mul(th(2), tf.tensor1d([1, 2, 3]))), logQz: tf.square(th(0)).tile([3]), logPz: -1 },
      qyLogits: tf.mul(tf.tensor2d([[1, 0, 2], [0, 1, 0], [-1, 1, 0]]), th(1)),
    }),
    unfeatured: () => ({ logQy: tf.sin(th(3)).tile([2]), logQz: tf.mul(th(2), tf.tensor1d([1, 3])), logPx: tf.square(th(1)).tile([2]), logQx: -5 }),
  };
  const w: Semi2Weights = { alphaF: 1, alphaFd: 2, alphaR: 0.5, alphaRd: 0.7, reverseLabelled: true };
  const loss = () => semi2Loss(sources, w);
  const gj = tf.variableGrads(loss, [theta]);
  const gv = vals(gj.grads[theta.name]);
  for (let i = 0; i < 4; i++) assertClose(finiteDifference(theta, i, 1e-2, loss), gv[i], { atol: 2e-3, rtol: 1e-2, msg: `θ[${i}]` });
  tf.dispose([gj.value, ...Object.values(gj.grads), ...Object.values(grads), logits, logPx, logQz, theta, yb, yl, x]);
});

test('the semi² units leave no tensors behind', async () => {
  const s = allSources(new Rng(14));
  const rng = new Rng(15);
  const perClass = forwardTerms(rng, K * N);
  const qyLogits = rng.normal([N, K]);
  const [half, one, tiled] = [tf.fill([2, 2], 0.5), tf.ones([2, 2]), tf.tile(qyLogits, [K, 1])];
  await assertNoLeak(() => {
    tf.dispose([
      semi2Loss(s.sources, { alphaF: 1, alphaFd: 1, alphaR: 1, alphaRd: 1, reverseLabelled: true, qyPrior: 1 }),
      semi2PointLoss({ labelled: { predicted: s.sources.labelled!.predicted, generated: s.sources.labelled!.generated } }, { alphaF: 1, alphaFd: 1, alphaR: 1, alphaRd: 1 }),
      forwardUnlabelledBound({ estimator: 'enumerate', perClass, qyLogits }),
      forwardUnlabelledBound({ estimator: 'concrete', atSample: perClass, qyLogits: tiled }),
      semi2EnumeratedLogWeights(perClass, K, 1),
      reconstructionLoss(half, one, 'bernoulli'),
    ]);
  });
  tf.dispose([perClass.logPx, perClass.logQz, qyLogits, half, one, tiled]);
  s.dispose();
});
