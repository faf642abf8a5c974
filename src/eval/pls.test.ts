import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../engine/rng.js';
import { compositionKl, fitPls, toSimplex } from './index.js';

/** n × d inputs and y = xW + b (noise-free). */
function linearToy(n: number, d: number, k: number, seed: number) {
  const rng = new Rng(seed);
  const x = rng.fillNormal(new Float32Array(n * d));
  const w = rng.fillNormal(new Float32Array(d * k));
  const b = [0.3, -1.2, 2.5, 0.7].slice(0, k);
  const y = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < k; o++) {
      let s = b[o];
      for (let j = 0; j < d; j++) s += x[i * d + j] * w[j * k + o];
      y[i * k + o] = s;
    }
  }
  return { x, y, w, b };
}

test('fitPls: recovers an exactly linear map (full components) to 1e-4, on training and new rows', () => {
  const d = 8;
  const k = 3;
  const { x, y, w, b } = linearToy(60, d, k, 1);
  const m = fitPls(x, 60, d, y, k, { components: d });
  assert.equal(m.components, d);
  const pred = m.predict(x, 60);
  for (let i = 0; i < y.length; i++) assert.ok(Math.abs(pred[i] - y[i]) < 1e-4, `train ${i}: ${pred[i]} vs ${y[i]}`);
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(m.coefficients[i] - w[i]) < 1e-4);
  for (let o = 0; o < k; o++) assert.ok(Math.abs(m.intercept[o] - b[o]) < 1e-4);
  const fresh = linearToy(20, d, k, 2).x;
  const pf = m.predict(fresh, 20);
  for (let i = 0; i < 20; i++) {
    for (let o = 0; o < k; o++) {
      let s = b[o];
      for (let j = 0; j < d; j++) s += fresh[i * d + j] * w[j * k + o];
      assert.ok(Math.abs(pf[i * k + o] - s) < 1e-4, `new row ${i}`);
    }
  }
  // Scaling the inputs does not change an exact fit.
  const ms = fitPls(x, 60, d, y, k, { components: d, scale: true });
  const ps = ms.predict(fresh, 20);
  for (let i = 0; i < ps.length; i++) assert.ok(Math.abs(ps[i] - pf[i]) < 1e-4);
});

test('fitPls: one component matches the hand-computed PLS1 fit; more components fit better', () => {
  // One component, one output: w ∝ Xcᵀyc, t = Xc w, ŷ = ȳ + t (tᵀyc)/(tᵀt).
  const n = 50;
  const d = 5;
  const rng = new Rng(3);
  const x = rng.fillNormal(new Float32Array(n * d));
  const y = rng.fillNormal(new Float32Array(n));
  const mx = new Float64Array(d);
  let my = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) mx[j] += x[i * d + j] / n;
    my += y[i] / n;
  }
  const w = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) w[j] += (x[i * d + j] - mx[j]) * (y[i] - my);
  const t = new Float64Array(n);
  let tt = 0;
  let ty = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) t[i] += (x[i * d + j] - mx[j]) * w[j];
    tt += t[i] * t[i];
    ty += t[i] * (y[i] - my);
  }
  const p1 = fitPls(x, n, d, y, 1, { components: 1 }).predict(x, n);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(p1[i] - (my + (t[i] * ty) / tt)) < 1e-4, `row ${i}`);
  const toy = linearToy(60, 8, 3, 4);
  const sse = (c: number) => {
    const p = fitPls(toy.x, 60, 8, toy.y, 3, { components: c }).predict(toy.x, 60);
    return p.reduce((s, v, i) => s + (v - toy.y[i]) ** 2, 0);
  };
  assert.ok(sse(2) > sse(5) && sse(5) > sse(8));
  assert.ok(sse(2) > 1e-2);
});

test('toSimplex: clips negatives and renormalises; fitPls option applies it', () => {
  const p = toSimplex(new Float32Array([0.5, -0.1, 1.5, -1, -2, -3, 0.2, 0.2, 0.6]), 3, 3);
  const want = [0.25, 0, 0.75, 1 / 3, 1 / 3, 1 / 3, 0.2, 0.2, 0.6];
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(p[i] - want[i]) < 1e-6, `${i}: ${p[i]}`);
  // Compositions: predictions land on the simplex and the KL is small for a near-linear problem.
  const n = 200;
  const d = 6;
  const rng = new Rng(5);
  const y = new Float32Array(n * 3);
  const x = new Float32Array(n * d);
  const mix = rng.fillNormal(new Float32Array(3 * d));
  for (let i = 0; i < n; i++) {
    const a = rng.next();
    const b = rng.next() * (1 - a);
    const row = [a, b, 1 - a - b];
    for (let o = 0; o < 3; o++) y[i * 3 + o] = row[o];
    for (let j = 0; j < d; j++) x[i * d + j] = row[0] * mix[j] + row[1] * mix[d + j] + row[2] * mix[2 * d + j];
  }
  const m = fitPls(x, n, d, y, 3, { toSimplex: true, components: 3 });
  const pred = m.predict(x, n);
  for (let i = 0; i < n; i++) {
    const s = pred[3 * i] + pred[3 * i + 1] + pred[3 * i + 2];
    assert.ok(Math.abs(s - 1) < 1e-5 && pred[3 * i] >= 0 && pred[3 * i + 1] >= 0 && pred[3 * i + 2] >= 0);
  }
  assert.ok(compositionKl(y, pred, n, 3) < 1e-3);
});

test('fitPls: bad inputs are clear errors; a constant target predicts its mean', () => {
  const x = new Float32Array([1, 2, 3, 4, 5, 6]);
  assert.throws(() => fitPls(x, 3, 3, new Float32Array(3), 1), /x has 6 values, expected n × d = 3 × 3 = 9/);
  assert.throws(() => fitPls(x, 3, 2, new Float32Array(2), 1), /y has 2 values, expected n × k = 3 × 1 = 3/);
  assert.throws(() => fitPls(x, 3, 2, new Float32Array(3), 1, { components: 3 }), /components must be an integer in 1\.\.2/);
  assert.throws(() => fitPls(new Float32Array([1, NaN, 3, 4, 5, 6]), 3, 2, new Float32Array(3), 1), /non-finite value at 1/);
  const m = fitPls(x, 3, 2, new Float32Array([2, 2, 2]), 1);
  assert.equal(m.components, 0);
  assert.deepEqual(Array.from(m.predict(new Float32Array([9, 9]), 1)), [2]);
  assert.throws(() => m.predict(new Float32Array(3), 1), /PlsModel.predict: x has 3 values, expected 1 × 2 = 2/);
});

test('PLS on whitened scores: one component per target is least squares; more are not fitted (NIPALS would not converge)', async () => {
  const { plsComponentLimit } = await import('./pls.js');
  const { fitPreprocessing, applyPreprocessing } = await import('../data/preprocess.js');
  const rng = new Rng(4);
  const n = 30;
  const D = 12;
  const raw = Float32Array.from({ length: n * D }, (_, i) => Math.sin(0.7 * (i % D) * (1 + Math.floor(i / D) / 9)) + 0.3 * rng.next());
  const y = Float32Array.from({ length: n }, (_, i) => raw[i * D + 2] - 2 * raw[i * D + 7] + 0.05 * rng.next());
  const z = applyPreprocessing(fitPreprocessing('pca:6', raw, D), raw, D);
  const rows = (a: Float32Array, w: number) => Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * w, (i + 1) * w)));
  const centre = (r: number[][]) => r.map((row) => row.map((v, j) => v - r.reduce((s, q) => s + q[j], 0) / r.length));
  // whitened scores: XᵀX ∝ I, so the Krylov space of Xᵀy is one direction
  assert.equal(plsComponentLimit(centre(rows(z, 6)), centre(rows(y, 1)), 6), 1);
  // raw channels: the space grows to the cap
  assert.equal(plsComponentLimit(centre(rows(raw, D)), centre(rows(y, 1)), 6), 6);
  // asking for 5 components on the scores fits 1, which equals least squares on the 6 scores
  const m = fitPls(z, n, 6, y, 1, { components: 5 });
  assert.equal(m.components, 1);
  const zc = centre(rows(z, 6));
  const yc = centre(rows(y, 1)).map((r) => r[0]);
  // whitened (columns orthogonal, equal norm): the least-squares coefficients are Zᵀy / ZᵀZ per column
  for (let j = 0; j < 6; j++) {
    const zz = zc.reduce((s, r) => s + r[j] * r[j], 0);
    const zy = zc.reduce((s, r, i) => s + r[j] * yc[i], 0);
    assert.ok(Math.abs(m.coefficients[j] - zy / zz) < 1e-3 * Math.max(1, Math.abs(zy / zz)), `coefficient ${j}: ${m.coefficients[j]} vs ${zy / zz}`);
  }
});
