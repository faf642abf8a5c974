/**
 * Two-component principal component analysis, for 2-D pictures of latent spaces (e.g. the
 * auxiliary or latent variables of ADGM / M2 coloured by class). Plain JavaScript in double
 * precision: the covariance matrix (population: divided by n) is formed once, and its top two
 * eigenvectors are found by power iteration, the second after deflating the first.
 */
import { Rng } from '../engine/rng.js';

/** The result of {@link pca2}. */
export interface Pca2Result {
  /** The centred rows projected on the two components, `n × 2`, row-major. */
  proj: Float32Array;
  /** The two unit-length principal directions, `2 × dim`, row-major; each one's largest-magnitude entry is positive. */
  components: Float32Array;
  /** The variance along each component (the covariance's two largest eigenvalues), largest first. */
  explained: [number, number];
  /** The total variance (trace of the covariance), so `explained[i] / totalVariance` is a ratio. */
  totalVariance: number;
  /** The mean row that was subtracted, length `dim`. */
  mean: Float64Array;
}

const MAX_ITER = 20000;
const TOL = 1e-11;

/** y = C v for a symmetric dim × dim matrix C stored row-major. */
function matVec(c: Float64Array, v: Float64Array, out: Float64Array): void {
  const d = v.length;
  for (let i = 0; i < d; i++) {
    let s = 0;
    const o = i * d;
    for (let j = 0; j < d; j++) s += c[o + j] * v[j];
    out[i] = s;
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Removes from v its projection on the unit vector u. */
function orthogonalise(v: Float64Array, u: Float64Array): void {
  const p = dot(v, u);
  for (let i = 0; i < v.length; i++) v[i] -= p * u[i];
}

/** Scales v to unit length; returns false if it is (numerically) zero. */
function normalise(v: Float64Array): boolean {
  const n = Math.sqrt(dot(v, v));
  if (!(n > 1e-300)) return false;
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return true;
}

/**
 * Top eigenpair of the symmetric positive semi-definite matrix `c` by power iteration, keeping the
 * iterate orthogonal to `against` (already found, unit length). Returns eigenvalue 0 and some unit
 * vector orthogonal to `against` when `c` vanishes on that subspace.
 */
function topEigen(c: Float64Array, d: number, rng: Rng, against: Float64Array | null): { value: number; vector: Float64Array } {
  const v = new Float64Array(d);
  for (let i = 0; i < d; i++) v[i] = rng.next() - 0.5;
  if (against) orthogonalise(v, against);
  normalise(v);
  const w = new Float64Array(d);
  const fallback = Float64Array.from(v);
  for (let it = 0; it < MAX_ITER; it++) {
    matVec(c, v, w);
    if (against) orthogonalise(w, against);
    if (!normalise(w)) return { value: 0, vector: fallback };
    // The iterate may flip sign each step only for a negative eigenvalue, which a covariance lacks.
    let change = 0;
    for (let i = 0; i < d; i++) change = Math.max(change, Math.abs(w[i] - v[i]));
    v.set(w);
    if (change < TOL) break;
  }
  matVec(c, v, w);
  return { value: Math.max(0, dot(v, w)), vector: v };
}

/**
 * The top two principal components of the rows of `x` (`n × dim`, row-major; dim ≥ 2, n ≥ 1), the
 * projection of every (centred) row on them, and the variance each explains. Deterministic: the
 * power iteration starts from a fixed pseudo-random vector. Directions with equal variance are not
 * unique; any orthonormal pair spanning them may come back. Throws on NaN or ±Infinity, naming the
 * row and column.
 */
export function pca2(x: Float32Array, dim: number): Pca2Result {
  if (!Number.isInteger(dim) || dim < 2) throw new Error(`pca2: dim must be an integer ≥ 2, got ${dim}`);
  const n = x.length / dim;
  if (!Number.isInteger(n) || n < 1) throw new Error(`pca2: ${x.length} values do not form one or more rows of ${dim}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const v = x[i * dim + j];
      if (!Number.isFinite(v)) throw new Error(`pca2: row ${i}, column ${j} is ${v}`);
      mean[j] += v;
    }
  }
  for (let j = 0; j < dim; j++) mean[j] /= n;
  // Covariance, upper triangle accumulated then mirrored.
  const c = new Float64Array(dim * dim);
  const row = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) row[j] = x[i * dim + j] - mean[j];
    for (let a = 0; a < dim; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      const o = a * dim;
      for (let b = a; b < dim; b++) c[o + b] += ra * row[b];
    }
  }
  let total = 0;
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      c[a * dim + b] /= n;
      c[b * dim + a] = c[a * dim + b];
    }
    total += c[a * dim + a];
  }
  const rng = new Rng(20240601);
  const first = topEigen(c, dim, rng, null);
  // Deflation: C − λ₁ v₁ v₁ᵀ, whose top eigenpair is the second of C.
  const c2 = Float64Array.from(c);
  for (let a = 0; a < dim; a++) {
    for (let b = 0; b < dim; b++) c2[a * dim + b] -= first.value * first.vector[a] * first.vector[b];
  }
  const second = topEigen(c2, dim, rng, first.vector);
  const comps = [first.vector, second.vector];
  for (const v of comps) {
    let big = 0;
    for (let i = 1; i < dim; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
    if (v[big] < 0) for (let i = 0; i < dim; i++) v[i] = -v[i];
  }
  const components = new Float32Array(2 * dim);
  components.set(comps[0], 0);
  components.set(comps[1], dim);
  const proj = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    let p0 = 0;
    let p1 = 0;
    for (let j = 0; j < dim; j++) {
      const d = x[i * dim + j] - mean[j];
      p0 += d * comps[0][j];
      p1 += d * comps[1][j];
    }
    proj[2 * i] = p0;
    proj[2 * i + 1] = p1;
  }
  return { proj, components, explained: [first.value, second.value], totalVariance: total, mean };
}
