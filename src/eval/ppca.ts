/**
 * Probabilistic principal component analysis (Tipping & Bishop 1999), fitted in closed form: the
 * linear-Gaussian latent variable model x = W s + μ + ε, s ~ N(0, I_k), ε ~ N(0, σ² I_D). Its
 * maximum-likelihood solution is
 * - μ the mean row;
 * - σ² the mean of the D − k smallest eigenvalues of the covariance S (divided by n);
 * - W = U_k (Λ_k − σ² I)^{1/2}, U_k and Λ_k the k leading eigenvectors and eigenvalues of S;
 * and the posterior of s given x is Gaussian with mean M⁻¹ Wᵀ (x − μ), M = Wᵀ W + σ² I = Λ_k, so
 * E[s | x] = Λ_k⁻¹ (Λ_k − σ² I)^{1/2} U_kᵀ (x − μ): each score on a leading direction scaled by
 * √(λ_i − σ²) / λ_i. This is the linear-Gaussian "M1" of Kingma et al. (2014) with a closed-form
 * fit; `models/semi2.ts` can feed its posterior mean to q(y | x) (`qyComponents`).
 *
 * Plain JavaScript in double precision. The eigenvectors come from the smaller of the D × D
 * covariance and the n × n Gram matrix of the centred rows (cyclic Jacobi rotations, exact to
 * rounding), so wide tables with few rows (spectra) cost O(n³ + n² D).
 */

/** The result of {@link fitPpca}. */
export interface Ppca {
  /** Input width D. */
  dim: number;
  /** Number of components k. */
  k: number;
  /** The mean row μ, length D. */
  mean: Float64Array;
  /** The k leading unit-length eigenvectors of the covariance, k × D row-major; each one's largest-magnitude entry is positive. */
  components: Float64Array;
  /** The k leading eigenvalues λ_1 ≥ … ≥ λ_k of the covariance (divided by n). */
  eigenvalues: Float64Array;
  /** The maximum-likelihood noise variance σ²: the mean of the other D − k eigenvalues (0 when k = D). */
  noiseVariance: number;
  /** The trace of the covariance. */
  totalVariance: number;
}

/** Sweeps of {@link symmetricEigen} at most (it converges quadratically, in well under 30). */
const MAX_SWEEPS = 60;

/**
 * Eigen-decomposition of the symmetric m × m matrix `a` (row-major, not modified) by cyclic Jacobi
 * rotations. Returns the eigenvalues in descending order and the eigenvectors as the columns of
 * `vectors` (m × m row-major: vectors[i * m + j] is entry i of eigenvector j).
 */
export function symmetricEigen(a: Float64Array, m: number): { values: Float64Array; vectors: Float64Array } {
  if (a.length !== m * m) throw new Error(`symmetricEigen: ${a.length} values for a ${m} × ${m} matrix`);
  const A = Float64Array.from(a);
  const V = new Float64Array(m * m);
  for (let i = 0; i < m; i++) V[i * m + i] = 1;
  let scale = 0;
  for (let i = 0; i < m * m; i++) scale = Math.max(scale, Math.abs(A[i]));
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let off = 0;
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) off = Math.max(off, Math.abs(A[p * m + q]));
    if (off <= 1e-15 * scale || off === 0) break;
    for (let p = 0; p < m - 1; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = A[p * m + q];
        if (Math.abs(apq) <= 1e-300) continue;
        const app = A[p * m + p];
        const aqq = A[q * m + q];
        // the rotation angle that zeroes A[p][q]: t = tan θ, the smaller root
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < m; k++) {
          // columns p and q
          const akp = A[k * m + p];
          const akq = A[k * m + q];
          A[k * m + p] = c * akp - s * akq;
          A[k * m + q] = s * akp + c * akq;
        }
        for (let k = 0; k < m; k++) {
          // rows p and q
          const apk = A[p * m + k];
          const aqk = A[q * m + k];
          A[p * m + k] = c * apk - s * aqk;
          A[q * m + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < m; k++) {
          const vkp = V[k * m + p];
          const vkq = V[k * m + q];
          V[k * m + p] = c * vkp - s * vkq;
          V[k * m + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((i, j) => A[j * m + j] - A[i * m + i]);
  const values = Float64Array.from(order, (i) => A[i * m + i]);
  const vectors = new Float64Array(m * m);
  order.forEach((src, dst) => {
    for (let i = 0; i < m; i++) vectors[i * m + dst] = V[i * m + src];
  });
  return { values, vectors };
}

/**
 * Fits a k-component probabilistic PCA to the rows of `x` (n × dim, row-major) in closed form (see
 * the module doc). Needs 1 ≤ k ≤ min(n, dim).
 * @throws on a bad k or shape, or a non-finite value (naming row and column).
 */
export function fitPpca(x: Float32Array | Float64Array, dim: number, k: number): Ppca {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`fitPpca: dim must be a positive integer, got ${dim}`);
  const n = x.length / dim;
  if (!Number.isInteger(n) || n < 1) throw new Error(`fitPpca: ${x.length} values do not form rows of ${dim}`);
  if (!Number.isInteger(k) || k < 1 || k > Math.min(n, dim)) throw new Error(`fitPpca: k must be an integer in [1, ${Math.min(n, dim)}] (rows ${n}, columns ${dim}), got ${k}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const v = x[i * dim + j];
      if (!Number.isFinite(v)) throw new Error(`fitPpca: row ${i}, column ${j} is ${v}`);
      mean[j] += v;
    }
  }
  for (let j = 0; j < dim; j++) mean[j] /= n;
  const xc = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) xc[i * dim + j] = x[i * dim + j] - mean[j];
  const components = new Float64Array(k * dim);
  const eigenvalues = new Float64Array(k);
  let total = 0;
  if (n < dim) {
    // Gram matrix G = Xc Xc' / n shares the non-zero eigenvalues of S = Xc' Xc / n; v = Xc' u / √(n λ)
    const g = new Float64Array(n * n);
    for (let a = 0; a < n; a++) {
      for (let b = a; b < n; b++) {
        let s = 0;
        for (let j = 0; j < dim; j++) s += xc[a * dim + j] * xc[b * dim + j];
        g[a * n + b] = g[b * n + a] = s / n;
      }
      total += g[a * n + a];
    }
    const { values, vectors } = symmetricEigen(g, n);
    for (let c = 0; c < k; c++) {
      const lam = Math.max(0, values[c]);
      eigenvalues[c] = lam;
      const v = components.subarray(c * dim, (c + 1) * dim);
      for (let i = 0; i < n; i++) {
        const u = vectors[i * n + c];
        if (u === 0) continue;
        for (let j = 0; j < dim; j++) v[j] += u * xc[i * dim + j];
      }
      let norm = 0;
      for (let j = 0; j < dim; j++) norm += v[j] * v[j];
      norm = Math.sqrt(norm);
      // a null direction (λ = 0: fewer distinct rows than components) is left as zeros
      if (norm > 0) for (let j = 0; j < dim; j++) v[j] /= norm;
    }
  } else {
    const cov = new Float64Array(dim * dim);
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < dim; a++) {
        const ra = xc[i * dim + a];
        if (ra === 0) continue;
        for (let b = a; b < dim; b++) cov[a * dim + b] += ra * xc[i * dim + b];
      }
    }
    for (let a = 0; a < dim; a++) {
      for (let b = a; b < dim; b++) cov[b * dim + a] = cov[a * dim + b] = cov[a * dim + b] / n;
      total += cov[a * dim + a];
    }
    const { values, vectors } = symmetricEigen(cov, dim);
    for (let c = 0; c < k; c++) {
      eigenvalues[c] = Math.max(0, values[c]);
      for (let j = 0; j < dim; j++) components[c * dim + j] = vectors[j * dim + c];
    }
  }
  for (let c = 0; c < k; c++) {
    const v = components.subarray(c * dim, (c + 1) * dim);
    let big = 0;
    for (let j = 1; j < dim; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
    if (v[big] < 0) for (let j = 0; j < dim; j++) v[j] = -v[j];
  }
  let kept = 0;
  for (let c = 0; c < k; c++) kept += eigenvalues[c];
  const noiseVariance = k < dim ? Math.max(0, total - kept) / (dim - k) : 0;
  return { dim, k, mean, components, eigenvalues, noiseVariance, totalVariance: total };
}

/**
 * The map x ↦ E[s | x] of a fitted PPCA as an affine map: E[s | x] = (x − μ) P with P the dim × k
 * matrix (row-major) of columns u_i · √(max(λ_i − σ², 0)) / λ_i (a component with λ_i = 0 maps to 0).
 */
export function ppcaPosteriorMap(p: Ppca): Float64Array {
  const P = new Float64Array(p.dim * p.k);
  for (let c = 0; c < p.k; c++) {
    const lam = p.eigenvalues[c];
    const f = lam > 0 ? Math.sqrt(Math.max(lam - p.noiseVariance, 0)) / lam : 0;
    for (let j = 0; j < p.dim; j++) P[j * p.k + c] = p.components[c * p.dim + j] * f;
  }
  return P;
}
