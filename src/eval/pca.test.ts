import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../engine/rng.js';
import { pca2 } from './pca.js';

/** n points in `dim` dimensions: offset 5, std `sd[k]` along each orthonormal direction `dirs[k]`, plus isotropic noise of std 0.01. */
function cloud(n: number, dim: number, dirs: number[][], sd: number[], seed: number): Float32Array {
  const rng = new Rng(seed);
  const noise = rng.fork('noise').fillNormal(new Float32Array(n * dim));
  const latent = rng.fork('latent').fillNormal(new Float32Array(n * dirs.length));
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) x[i * dim + j] = 5 + 0.01 * noise[i * dim + j];
    for (let k = 0; k < dirs.length; k++) {
      const a = sd[k] * latent[i * dirs.length + k];
      for (let j = 0; j < dim; j++) x[i * dim + j] += a * dirs[k][j];
    }
  }
  return x;
}

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((e) => e / n);
}

function absDot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return Math.abs(s);
}

test('pca2: recovers the two main directions of an anisotropic cloud in 2-D', () => {
  const d1 = unit([1, 1]);
  const d2 = unit([1, -1]);
  const n = 5000;
  const rng = new Rng(7);
  const z = rng.fillNormal(new Float32Array(2 * n));
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = 3 * z[2 * i];
    const b = 0.5 * z[2 * i + 1];
    x[2 * i] = 10 + a * d1[0] + b * d2[0];
    x[2 * i + 1] = -4 + a * d1[1] + b * d2[1];
  }
  const r = pca2(x, 2);
  assert.ok(absDot(r.components.subarray(0, 2), d1) > 0.999, `first component ${r.components.subarray(0, 2)}`);
  assert.ok(absDot(r.components.subarray(2, 4), d2) > 0.999, `second component ${r.components.subarray(2, 4)}`);
  assert.ok(Math.abs(r.explained[0] - 9) < 0.5, `variance ${r.explained[0]}, expected about 9`);
  assert.ok(Math.abs(r.explained[1] - 0.25) < 0.02, `variance ${r.explained[1]}, expected about 0.25`);
  assert.ok(Math.abs(r.explained[0] + r.explained[1] - r.totalVariance) < 1e-9 * r.totalVariance, 'two components explain everything in 2-D');
  assert.ok(Math.abs(r.mean[0] - 10) < 0.2 && Math.abs(r.mean[1] + 4) < 0.2);
  // Projections are centred and their variances are the explained variances.
  let m0 = 0;
  let v0 = 0;
  let v1 = 0;
  for (let i = 0; i < n; i++) {
    m0 += r.proj[2 * i] / n;
    v0 += r.proj[2 * i] ** 2 / n;
    v1 += r.proj[2 * i + 1] ** 2 / n;
  }
  assert.ok(Math.abs(m0) < 1e-3);
  assert.ok(Math.abs(v0 - r.explained[0]) < 1e-3 * r.explained[0]);
  assert.ok(Math.abs(v1 - r.explained[1]) < 1e-3 * r.explained[1]);
});

test('pca2: 100-dimensional cloud, 10000 points: directions, ordering, orthonormality, speed', () => {
  const dim = 100;
  const n = 10000;
  const g = new Rng(11);
  const d1 = unit(Array.from({ length: dim }, () => g.next() - 0.5));
  let d2 = Array.from({ length: dim }, () => g.next() - 0.5);
  const p = d2.reduce((s, v, j) => s + v * d1[j], 0);
  d2 = unit(d2.map((v, j) => v - p * d1[j]));
  const x = cloud(n, dim, [d1, d2], [2, 1], 12);
  const t0 = Date.now();
  const r = pca2(x, dim);
  const ms = Date.now() - t0;
  assert.ok(ms < 1500, `took ${ms} ms`);
  const c1 = r.components.subarray(0, dim);
  const c2 = r.components.subarray(dim, 2 * dim);
  assert.ok(absDot(c1, d1) > 0.995, `|<c1, d1>| = ${absDot(c1, d1)}`);
  assert.ok(absDot(c2, d2) > 0.99, `|<c2, d2>| = ${absDot(c2, d2)}`);
  assert.ok(Math.abs(absDot(c1, c1) - 1) < 1e-5 && Math.abs(absDot(c2, c2) - 1) < 1e-5, 'unit length');
  assert.ok(absDot(c1, c2) < 1e-5, 'orthogonal');
  assert.ok(r.explained[0] > r.explained[1], `ordered: ${r.explained}`);
  assert.ok(Math.abs(r.explained[0] - 4) < 0.4 && Math.abs(r.explained[1] - 1) < 0.1, `variances ${r.explained}`);
  assert.equal(r.proj.length, 2 * n);
  // Sign convention: each component's largest-magnitude entry is positive.
  for (const c of [c1, c2]) {
    let big = 0;
    for (let j = 0; j < dim; j++) if (Math.abs(c[j]) > Math.abs(c[big])) big = j;
    assert.ok(c[big] > 0);
  }
  // Deterministic.
  assert.deepEqual(pca2(x, dim).components, r.components);
});

test('pca2: degenerate data and bad input', () => {
  // Points on a line in 3-D: second variance 0, second component still a unit vector orthogonal to the first.
  const x = new Float32Array(3 * 50);
  for (let i = 0; i < 50; i++) {
    x[3 * i] = i;
    x[3 * i + 1] = 2 * i;
    x[3 * i + 2] = 0;
  }
  const r = pca2(x, 3);
  assert.ok(r.explained[1] < 1e-9 * r.explained[0], `${r.explained}`);
  const c1 = r.components.subarray(0, 3);
  const c2 = r.components.subarray(3, 6);
  assert.ok(absDot(c1, unit([1, 2, 0])) > 0.99999);
  assert.ok(Math.abs(absDot(c2, c2) - 1) < 1e-5);
  assert.ok(absDot(c1, c2) < 1e-5);
  // A single point: zero variance, projections zero.
  const one = pca2(Float32Array.from([1, 2, 3]), 3);
  assert.deepEqual(one.explained, [0, 0]);
  assert.deepEqual(Array.from(one.proj), [0, 0]);
  assert.throws(() => pca2(new Float32Array(6), 1), /pca2: dim must be an integer ≥ 2, got 1/);
  assert.throws(() => pca2(new Float32Array(7), 2), /7 values do not form one or more rows of 2/);
  assert.throws(() => pca2(new Float32Array(0), 2), /0 values do not form/);
  assert.throws(() => pca2(Float32Array.from([1, 2, 3, NaN]), 2), /pca2: row 1, column 1 is NaN/);
});
