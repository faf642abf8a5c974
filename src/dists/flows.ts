/**
 * Distributions on bounded supports for the semi²-supervised model (`002_…` appendix A; `000_…`
 * §3 eq 17 and its Dir(1) prior):
 *
 * - {@link logisticFlow}: the elementwise map z = a + (b − a)·σ(z̃) from ℝ^d onto the box (a, b)^d
 *   (eqs 10–13) with log|det ∂z/∂z̃| = d·log(b − a) + Σ_i log ẑ_i + log(1 − ẑ_i), ẑ = σ(z̃).
 *   Eqs 14–16 as printed read σ(1 − ẑ)σ(ẑ); the derivative of the sigmoid is ẑ(1 − ẑ), which is
 *   also what the reference implementation computes — we use that (checked against a
 *   finite-difference Jacobian in the tests). Computed as −softplus(−z̃) − softplus(z̃), stable for
 *   any z̃.
 * - {@link BoxNormal}: a diagonal Gaussian on z̃ pushed through the flow: the q(z | x, y) of the
 *   reverse model with z on a box.
 * - {@link LogisticNormal}: the additive logistic normal on the (K−1)-simplex: y = softmax([u, 0]),
 *   u ~ N(μ, diag σ²) in ℝ^{K−1}. Eq 17 writes softmax(μ + Σ^{1/2}ε) over K logits, a map that is not
 *   one-to-one (softmax ignores a common shift), so it has no density as written; fixing the last
 *   logit at 0 (Aitchison's construction) gives the density
 *   p(y) = N(log(y_{1:K−1}/y_K); μ, σ²) / Π_{k=1}^{K} y_k.
 * - {@link dirichletLogProb}: log Dir(y; α), the Dir(1) prior of the simplex labels (log Γ(K)).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng.js';
import { Normal } from './normal.js';

/** z = lo + (hi − lo)·σ(z̃) and log|det ∂z/∂z̃| summed over the last axis. */
export function logisticFlow(zt: tf.Tensor, lo: number, hi: number): { z: tf.Tensor; logDet: tf.Tensor } {
  if (!(hi > lo)) throw new Error(`logisticFlow: the box needs lo < hi, got [${lo}, ${hi}]`);
  return tf.tidy(() => {
    const s = tf.sigmoid(zt);
    const z = tf.add(tf.mul(s, hi - lo), lo);
    const d = zt.shape[zt.rank - 1];
    const logDet = tf.add(tf.sum(tf.neg(tf.add(tf.softplus(tf.neg(zt)), tf.softplus(zt))), -1), d * Math.log(hi - lo));
    return { z, logDet };
  });
}

/** z̃ = logit((z − lo)/(hi − lo)); throws when a value lies outside the open box. */
export function inverseLogisticFlow(z: tf.Tensor, lo: number, hi: number): tf.Tensor {
  return tf.tidy(() => {
    const u = tf.div(tf.sub(z, lo), hi - lo);
    const bad = tf.logicalOr(tf.lessEqual(u, 0), tf.greaterEqual(u, 1));
    if (tf.any(bad).dataSync()[0]) {
      const i = Array.from(bad.dataSync()).findIndex((v) => v !== 0);
      throw new Error(`z value ${z.dataSync()[i]} at flat index ${i} lies outside the box (${lo}, ${hi})`);
    }
    return tf.sub(tf.log(u), tf.log1p(tf.neg(u)));
  });
}

/** A diagonal Gaussian on z̃ pushed through {@link logisticFlow}: a density on the box (lo, hi)^d. */
export class BoxNormal {
  constructor(
    readonly base: Normal,
    readonly lo: number,
    readonly hi: number,
  ) {
    if (!(hi > lo)) throw new Error(`BoxNormal: the box needs lo < hi, got [${lo}, ${hi}]`);
  }

  /** Reparameterised draw on the box, [n?, ...batch, d]. */
  rsample(rng: Rng, n?: number): tf.Tensor {
    return tf.tidy(() => logisticFlow(this.base.rsample(rng, n), this.lo, this.hi).z);
  }

  /** log q(z) = log N(z̃; μ, σ²) − log|det ∂z/∂z̃| at z̃ = flow⁻¹(z). */
  logProb(z: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const zt = inverseLogisticFlow(z, this.lo, this.hi);
      return tf.sub(this.base.logProb(zt), logisticFlow(zt, this.lo, this.hi).logDet);
    });
  }

  /** Draw and its log-density together (no inverse needed), for bounds. */
  rsampleWithLogProb(rng: Rng, n?: number): { z: tf.Tensor; logProb: tf.Tensor } {
    return tf.tidy(() => {
      const zt = this.base.rsample(rng, n);
      const { z, logDet } = logisticFlow(zt, this.lo, this.hi);
      return { z, logProb: tf.sub(this.base.logProb(zt), logDet) };
    });
  }
}

/** The additive logistic normal on the (K−1)-simplex, from a Gaussian on ℝ^{K−1}. */
export class LogisticNormal {
  constructor(readonly base: Normal) {}

  /** Number of simplex components K (one more than the Gaussian's dimension). */
  get k(): number {
    return this.base.eventShape[0] + 1;
  }

  /** y = softmax([u, 0]), u reparameterised: [n?, ...batch, K]. */
  rsample(rng: Rng, n?: number): tf.Tensor {
    return tf.tidy(() => {
      const u = this.base.rsample(rng, n);
      return tf.softmax(tf.concat([u, tf.zeros([...u.shape.slice(0, -1), 1])], -1));
    });
  }

  /** log p(y) = log N(log(y_{1:K−1}/y_K); μ, σ²) − Σ_k log y_k, for y [..., K] on the open simplex. */
  logProb(y: tf.Tensor): tf.Tensor {
    const K = this.k;
    if (y.shape[y.rank - 1] !== K) throw new Error(`LogisticNormal.logProb: values have ${y.shape[y.rank - 1]} components, expected ${K}`);
    return tf.tidy(() => {
      const logY = tf.log(y);
      const [head, last] = tf.split(logY, [K - 1, 1], -1);
      return tf.sub(this.base.logProb(tf.sub(head, last)), tf.sum(logY, -1));
    });
  }
}

/** log Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; about 15 digits). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new Error(`logGamma: x must be > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const xm = x - 1;
  let a = c[0];
  const t = xm + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (xm + i);
  return 0.5 * Math.log(2 * Math.PI) + (xm + 0.5) * Math.log(t) - t + Math.log(a);
}

/** log Dir(y; α) for y [..., K] on the simplex and concentration α (a number for all, or K numbers). */
export function dirichletLogProb(y: tf.Tensor, alpha: number | number[]): tf.Tensor {
  const K = y.shape[y.rank - 1];
  const a = typeof alpha === 'number' ? new Array<number>(K).fill(alpha) : alpha;
  if (a.length !== K || a.some((v) => !(v > 0))) throw new Error(`dirichletLogProb: need ${K} positive concentrations, got [${a}]`);
  const logNorm = logGamma(a.reduce((s, v) => s + v, 0)) - a.reduce((s, v) => s + logGamma(v), 0);
  return tf.tidy(() => tf.add(tf.sum(tf.mul(tf.log(y), tf.tensor1d(a.map((v) => v - 1))), -1), logNorm));
}
