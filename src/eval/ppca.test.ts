import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../engine/rng.js';
import { fitPpca, ppcaPosteriorMap, symmetricEigen } from './ppca.js';

/** n rows of width dim: Gaussian with a random covariance of decaying scales, offset 3. */
function rows(n: number, dim: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const mix = rng.fork('mix').fillNormal(new Float32Array(dim * dim));
  const z = rng.fork('z').fillNormal(new Float32Array(n * dim));
  const x = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < dim; a++) {
      let s = 3;
      for (let b = 0; b < dim; b++) s += z[i * dim + b] * mix[b * dim + a] * 2 ** -b;
      x[i * dim + a] = s;
    }
  }
  return x;
}

/** The population covariance (divided by n) and mean of the rows. */
function covariance(x: Float64Array, dim: number): { cov: Float64Array; mean: Float64Array } {
  const n = x.length / dim;
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += x[i * dim + j] / n;
  const cov = new Float64Array(dim * dim);
  for (let i = 0; i < n; i++) for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) cov[a * dim + b] += ((x[i * dim + a] - mean[a]) * (x[i * dim + b] - mean[b])) / n;
  return { cov, mean };
}

/** Solves the small dense system A s = r (Gaussian elimination with partial pivoting). */
function solve(A: number[][], r: number[]): number[] {
  const m = r.length;
  const a = A.map((row, i) => [...row, r[i]]);
  for (let c = 0; c < m; c++) {
    let p = c;
    for (let i = c + 1; i < m; i++) if (Math.abs(a[i][c]) > Math.abs(a[p][c])) p = i;
    [a[c], a[p]] = [a[p], a[c]];
    for (let i = 0; i < m; i++) {
      if (i === c) continue;
      const f = a[i][c] / a[c][c];
      for (let j = c; j <= m; j++) a[i][j] -= f * a[c][j];
    }
  }
  return a.map((row, i) => row[m] / row[i]);
}

test('symmetricEigen: A v = λ v, orthonormal vectors, descending values, exact on a diagonal matrix', () => {
  const m = 7;
  const rng = new Rng(3);
  const b = rng.fillNormal(new Float32Array(m * m));
  const a = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) a[i * m + j] = b[i * m + j] + b[j * m + i];
  const { values, vectors } = symmetricEigen(a, m);
  for (let c = 0; c < m; c++) {
    if (c > 0) assert.ok(values[c] <= values[c - 1]);
    for (let i = 0; i < m; i++) {
      let av = 0;
      for (let j = 0; j < m; j++) av += a[i * m + j] * vectors[j * m + c];
      assert.ok(Math.abs(av - values[c] * vectors[i * m + c]) < 1e-10, `A v ≠ λ v at (${i}, ${c})`);
    }
    for (let d = 0; d < m; d++) {
      let dot = 0;
      for (let i = 0; i < m; i++) dot += vectors[i * m + c] * vectors[i * m + d];
      assert.ok(Math.abs(dot - (c === d ? 1 : 0)) < 1e-12);
    }
  }
  // the trace is the sum of the eigenvalues
  let tr = 0;
  for (let i = 0; i < m; i++) tr += a[i * m + i];
  assert.ok(Math.abs(values.reduce((s, v) => s + v, 0) - tr) < 1e-10);
  assert.deepEqual(Array.from(symmetricEigen(Float64Array.from([1, 0, 0, 0, 5, 0, 0, 0, 3]), 3).values), [5, 3, 1]);
});

test('fitPpca: eigenpairs of the covariance, σ² the mean of the rest, the same from the Gram matrix (n < D) and the covariance (n ≥ D)', () => {
  for (const [n, dim] of [
    [40, 6],
    [6, 9],
  ]) {
    const x = rows(n, dim, n + dim);
    const { cov, mean } = covariance(x, dim);
    const full = symmetricEigen(cov, dim);
    const k = 3;
    const p = fitPpca(x, dim, k);
    for (let j = 0; j < dim; j++) assert.ok(Math.abs(p.mean[j] - mean[j]) < 1e-12);
    let total = 0;
    for (let j = 0; j < dim; j++) total += cov[j * dim + j];
    assert.ok(Math.abs(p.totalVariance - total) < 1e-9 * total);
    for (let c = 0; c < k; c++) {
      assert.ok(Math.abs(p.eigenvalues[c] - full.values[c]) < 1e-9 * full.values[0], `λ_${c}: ${p.eigenvalues[c]} against ${full.values[c]} (n ${n}, D ${dim})`);
      // S u = λ u for the returned component
      for (let a = 0; a < dim; a++) {
        let su = 0;
        for (let b = 0; b < dim; b++) su += cov[a * dim + b] * p.components[c * dim + b];
        assert.ok(Math.abs(su - p.eigenvalues[c] * p.components[c * dim + a]) < 1e-9 * full.values[0]);
      }
    }
    let rest = 0;
    for (let c = k; c < dim; c++) rest += Math.max(0, full.values[c]);
    assert.ok(Math.abs(p.noiseVariance - rest / (dim - k)) < 1e-9 * total, `σ² ${p.noiseVariance} against ${rest / (dim - k)}`);
  }
});

test('ppcaPosteriorMap: equals M⁻¹ Wᵀ (x − μ) with W = U (Λ − σ² I)^½ and M = Wᵀ W + σ² I, solved directly', () => {
  const n = 30;
  const dim = 8;
  const k = 3;
  const x = rows(n, dim, 11);
  const p = fitPpca(x, dim, k);
  const P = ppcaPosteriorMap(p);
  const W = Array.from({ length: dim }, (_, j) => Array.from({ length: k }, (_, c) => p.components[c * dim + j] * Math.sqrt(p.eigenvalues[c] - p.noiseVariance)));
  const M = Array.from({ length: k }, (_, a) => Array.from({ length: k }, (_, b) => W.reduce((s, row) => s + row[a] * row[b], 0) + (a === b ? p.noiseVariance : 0)));
  for (const i of [0, 7, 29]) {
    const d = Array.from({ length: dim }, (_, j) => x[i * dim + j] - p.mean[j] + 0.5 * j);
    const wtx = Array.from({ length: k }, (_, c) => W.reduce((s, row, j) => s + row[c] * d[j], 0));
    const want = solve(M, wtx);
    for (let c = 0; c < k; c++) {
      const got = d.reduce((s, v, j) => s + v * P[j * k + c], 0);
      assert.ok(Math.abs(got - want[c]) < 1e-9 * (1 + Math.abs(want[c])), `row ${i}, component ${c}: ${got} against ${want[c]}`);
    }
  }
  // on the training rows the posterior means have variance (λ − σ²) / λ, below 1
  for (let c = 0; c < k; c++) {
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let j = 0; j < dim; j++) v += (x[i * dim + j] - p.mean[j]) * P[j * k + c];
      s2 += (v * v) / n;
    }
    assert.ok(Math.abs(s2 - (p.eigenvalues[c] - p.noiseVariance) / p.eigenvalues[c]) < 1e-9);
  }
});

test('fitPpca: rejects a bad k, shape or value', () => {
  const x = rows(5, 4, 1);
  assert.throws(() => fitPpca(x, 4, 0), /k must be an integer in \[1, 4\]/);
  assert.throws(() => fitPpca(x, 4, 5), /k must be/);
  assert.throws(() => fitPpca(x.subarray(0, 7), 4, 1), /do not form rows/);
  const bad = Float64Array.from(x);
  bad[6] = NaN;
  assert.throws(() => fitPpca(bad, 4, 2), /row 1, column 2 is NaN/);
});
