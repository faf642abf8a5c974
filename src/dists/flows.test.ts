import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupEngine, assertClose, take } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { Normal } from './normal.js';
import { BoxNormal, LogisticNormal, dirichletLogProb, inverseLogisticFlow, logGamma, logisticFlow } from './flows.js';

await setupEngine();

test('logistic flow: log-determinant equals the log of a finite-difference Jacobian', () => {
  const lo = -1.5;
  const hi = 1.5;
  const zt = [0.3, -2.1, 4.0];
  const h = 1e-2;
  let fdLogDet = 0;
  for (let j = 0; j < 3; j++) {
    const plus = zt.slice();
    const minus = zt.slice();
    plus[j] += h;
    minus[j] -= h;
    const zp = take(logisticFlow(tf.tensor2d([plus]), lo, hi).z);
    const zm = take(logisticFlow(tf.tensor2d([minus]), lo, hi).z);
    // the map is elementwise: the Jacobian is diagonal; check the off-diagonal entries vanish too
    for (let i = 0; i < 3; i++) if (i !== j) assert.ok(Math.abs(zp[i] - zm[i]) < 1e-6);
    fdLogDet += Math.log((zp[j] - zm[j]) / (2 * h));
  }
  const { z, logDet } = logisticFlow(tf.tensor2d([zt]), lo, hi);
  assertClose(take(logDet), [fdLogDet], { atol: 2e-3 });
  // eq 16 as printed, with σ(1 − ẑ)σ(ẑ) in place of ẑ(1 − ẑ), does not match the Jacobian
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const literal = zt.reduce((acc, v) => acc + Math.log(sig(1 - sig(v))) + Math.log(sig(sig(v))), 3 * Math.log(hi - lo));
  assert.ok(Math.abs(literal - fdLogDet) > 0.5, `printed eq 16 gives ${literal}, Jacobian ${fdLogDet}`);
  const back = take(inverseLogisticFlow(z, lo, hi));
  assertClose(back, zt, { atol: 1e-3 });
  z.dispose();
  // extreme z̃ stays finite (−softplus(−z̃) − softplus(z̃) instead of log σ + log(1 − σ))
  const ext = logisticFlow(tf.tensor2d([[60, -60]]), 0, 1);
  assert.ok(take(ext.logDet).every(Number.isFinite));
  ext.z.dispose();
  assert.throws(() => inverseLogisticFlow(tf.tensor1d([0.2, 1.6]), lo, hi), /z value 1\.6\d* at flat index 1 lies outside the box \(-1\.5, 1\.5\)/);
  assert.throws(() => logisticFlow(tf.zeros([1, 1]), 1, 1), /lo < hi/);
});

test('BoxNormal density integrates to 1 over the box (2-D grid) and matches its own samples', () => {
  const q = new BoxNormal(new Normal(tf.tensor1d([0.4, -0.8]), tf.tensor1d([0.9, 0.5])), -1.5, 1.5);
  const n = 300;
  const h = 3 / n;
  const pts: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) pts.push(-1.5 + (i + 0.5) * h, -1.5 + (j + 0.5) * h);
  const lp = take(q.logProb(tf.tensor2d(pts, [n * n, 2])));
  const mass = lp.reduce((s, v) => s + Math.exp(v), 0) * h * h;
  assertClose(mass, 1, { atol: 5e-3 });
  const { z, logProb } = q.rsampleWithLogProb(new Rng(1), 50);
  assertClose(take(q.logProb(z)), take(logProb), { atol: 2e-3, rtol: 1e-3 });
  z.dispose();
});

test('logistic-normal density integrates to 1 on the 2-simplex', () => {
  const q = new LogisticNormal(new Normal(tf.tensor1d([0.3, -0.2]), tf.tensor1d([0.6, 0.8])));
  assert.equal(q.k, 3);
  const n = 400;
  const h = 1 / n;
  const pts: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n - i; j++) {
      const y1 = (i + 0.5) * h;
      const y2 = (j + 0.5) * h;
      const y3 = 1 - y1 - y2;
      if (y3 > 0) pts.push(y1, y2, y3);
    }
  }
  const lp = take(q.logProb(tf.tensor2d(pts, [pts.length / 3, 3])));
  // the simplex as (y1, y2) coordinates: area element dy1 dy2
  const mass = lp.reduce((s, v) => s + Math.exp(v), 0) * h * h;
  assertClose(mass, 1, { atol: 1e-2 });
  const y = q.rsample(new Rng(2), 10);
  assertClose(take(tf.sum(y, -1)), new Array(10).fill(1), { atol: 1e-5 });
  assert.throws(() => q.logProb(tf.ones([1, 4])), /4 components, expected 3/);
  y.dispose();
});

test('Dirichlet: Dir(1) is the constant log Γ(K); a general Dirichlet integrates to 1 on the 2-simplex', () => {
  assertClose(logGamma(5), Math.log(24), { atol: 1e-12 });
  assertClose(logGamma(0.5), 0.5 * Math.log(Math.PI), { atol: 1e-12 });
  assertClose(take(dirichletLogProb(tf.tensor2d([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]]), 1)), [Math.log(2), Math.log(2)], { atol: 1e-6 });
  const n = 400;
  const h = 1 / n;
  const pts: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n - i; j++) {
    const y1 = (i + 0.5) * h;
    const y2 = (j + 0.5) * h;
    if (1 - y1 - y2 > 0) pts.push(y1, y2, 1 - y1 - y2);
  }
  const lp = take(dirichletLogProb(tf.tensor2d(pts, [pts.length / 3, 3]), [2, 3, 1.5]));
  assertClose(lp.reduce((s, v) => s + Math.exp(v), 0) * h * h, 1, { atol: 1e-2 });
  assert.throws(() => dirichletLogProb(tf.ones([1, 3]), [1, 1]), /need 3 positive concentrations/);
});
