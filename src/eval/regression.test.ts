import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../engine/rng.js';
import { foldRows, groupFolds, regressionStats } from './regression.js';
import { crossValidatePls } from './pls.js';

const close = (a: number, b: number, tol = 1e-12, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b}`);

test('regressionStats: RMSEP, bias, SEP and R² of a hand-computed example; RMSEP² = bias² + SEP²(n − 1)/n', () => {
  // targets 1, 2, 3, 4; predictions 1.5, 2, 2.5, 5 → residuals 0.5, 0, −0.5, 1
  const [s] = regressionStats([1.5, 2, 2.5, 5], [1, 2, 3, 4], 4, 1);
  close(s.rmsep, Math.sqrt((0.25 + 0 + 0.25 + 1) / 4), 1e-12, 'RMSEP');
  close(s.bias, 0.25, 1e-12, 'bias');
  // residuals minus bias: 0.25, −0.25, −0.75, 0.75 → squares sum 1.25, over n − 1 = 3
  close(s.sep, Math.sqrt(1.25 / 3), 1e-12, 'SEP');
  // Σ e² = 1.5, Σ (y − ȳ)² = 5
  close(s.r2, 1 - 1.5 / 5, 1e-12, 'R²');
  close(s.rmsep ** 2, s.bias ** 2 + (s.sep ** 2 * 3) / 4, 1e-12, 'decomposition');
  // two targets, row-major: the second is predicted exactly
  const two = regressionStats([1.5, 10, 2, 20, 2.5, 30, 5, 40], [1, 10, 2, 20, 3, 30, 4, 40], 4, 2);
  close(two[0].rmsep, s.rmsep);
  assert.deepEqual([two[1].rmsep, two[1].bias, two[1].sep, two[1].r2], [0, 0, 0, 1]);
  // constant targets: R² undefined; one row: SEP undefined
  assert.ok(Number.isNaN(regressionStats([1, 2], [3, 3], 2, 1)[0].r2));
  assert.ok(Number.isNaN(regressionStats([1], [3], 1, 1)[0].sep));
  assert.throws(() => regressionStats([1, NaN], [1, 2], 2, 1), /row 2, target 1 is not finite/);
  assert.throws(() => regressionStats([1, 2, 3], [1, 2], 2, 1), /3 predictions and 2 targets/);
});

test('groupFolds: replicates share a fold, folds are balanced in rows, every fold is used; too few groups is an error', () => {
  // 18 samples in triplicate
  const groups = Array.from({ length: 54 }, (_, i) => `s${Math.floor(i / 3)}`);
  const fold = groupFolds(groups, 5, 3);
  for (let i = 0; i < 54; i += 3) assert.ok(fold[i] === fold[i + 1] && fold[i] === fold[i + 2], `sample ${i / 3} split over folds`);
  const sizes = [0, 1, 2, 3, 4].map((f) => foldRows(fold, f).test.length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 3, `sizes ${sizes}`);
  assert.equal(sizes.reduce((a, b) => a + b, 0), 54);
  // seeded: same seed, same folds; another seed, others
  assert.deepEqual(groupFolds(groups, 5, 3), fold);
  assert.notDeepEqual(groupFolds(groups, 5, 4), fold);
  // no groups: every row its own
  const plain = groupFolds(10, 3);
  assert.deepEqual([0, 1, 2].map((f) => foldRows(plain, f).test.length).sort(), [3, 3, 4]);
  assert.throws(() => groupFolds(['a', 'a', 'b'], 3), /2 groups cannot fill 3 folds/);
  assert.throws(() => groupFolds(4, 1), /folds must be an integer ≥ 2/);
});

test('crossValidatePls: grouped folds do not leak replicates (on targets unrelated to x the RMSECV stays near their sd; ungrouped folds fit the duplicates); a two-factor signal chooses about 2 components', () => {
  const rng = new Rng(5);
  const S = 20;
  const d = 60;
  // each sample's spectrum and target are pure noise, measured three times (identical x, same y)
  const xs = rng.normal([S, d]).dataSync() as Float32Array;
  const ys = rng.normal([S]).dataSync() as Float32Array;
  const n = 3 * S;
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x.set(xs.subarray(Math.floor(i / 3) * d, (Math.floor(i / 3) + 1) * d), i * d);
    y[i] = ys[Math.floor(i / 3)];
  }
  let m = 0;
  for (const v of ys) m += v / S;
  let sd = 0;
  for (const v of ys) sd += (v - m) ** 2 / S;
  sd = Math.sqrt(sd);
  const groups = Array.from({ length: n }, (_, i) => Math.floor(i / 3));
  const grouped = crossValidatePls(x, y, n, d, 1, groupFolds(groups, 5, 1), 20);
  const leaky = crossValidatePls(x, y, n, d, 1, groupFolds(n, 5, 1), 20);
  assert.ok(Math.min(...grouped.rmsecv) > 0.8 * sd, `grouped RMSECV ${Math.min(...grouped.rmsecv)} against sd ${sd}`);
  assert.ok(Math.min(...leaky.rmsecv) < 0.3 * Math.min(...grouped.rmsecv), `ungrouped folds should leak: ${Math.min(...leaky.rmsecv)}`);
  // y = t1 + 0.5·t2 + noise, x from two latent factors plus noise: the minimum lies at 2 components (± 1)
  const N = 80;
  const t = rng.normal([N, 2]).dataSync() as Float32Array;
  const P = rng.normal([2, d]).dataSync() as Float32Array;
  const e = rng.normal([N, d]).dataSync() as Float32Array;
  const ey = rng.normal([N]).dataSync() as Float32Array;
  const x2 = new Float32Array(N * d);
  // (d = 60 channels here too)
  const y2 = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < d; j++) x2[i * d + j] = t[2 * i] * P[j] + t[2 * i + 1] * P[d + j] + 0.05 * e[i * d + j];
    y2[i] = t[2 * i] + 0.5 * t[2 * i + 1] + 0.05 * ey[i];
  }
  const cv = crossValidatePls(x2, y2, N, d, 1, groupFolds(N, 5, 2), 8);
  assert.ok(cv.components >= 2 && cv.components <= 3, `chose ${cv.components} components (RMSECV ${cv.rmsecv.map((v) => v.toFixed(3))})`);
  assert.ok(cv.rmsecv[1] < 0.9 * cv.rmsecv[0], `the second component matters: ${cv.rmsecv.map((v) => v.toFixed(3))}`);
  assert.equal(cv.predictions.length, N);
  assert.throws(() => crossValidatePls(x2, y2, N, d, 1, new Int32Array(N - 1), 3), /79 fold indices for 80 rows/);
});
