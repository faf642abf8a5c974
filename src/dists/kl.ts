/** Analytic Kullback–Leibler divergences, looked up by the pair of distribution classes. */
import * as tf from '@tensorflow/tfjs';
import { Distribution, broadcastShapes, fmtShape } from './distribution.js';
import { Normal } from './normal.js';
import { Bernoulli } from './bernoulli.js';
import { Categorical, logSoftmax } from './categorical.js';

/** A class of distributions (possibly abstract), used as a registry key. */
export type DistributionClass<D extends Distribution> = abstract new (...args: never[]) => D;

/**
 * KL(p‖q) = E_p[log p(x) − log q(x)], summed over the event: a tensor of shape
 * `broadcast(p.batchShape, q.batchShape)`.
 */
export type KLFn<P extends Distribution, Q extends Distribution> = (p: P, q: Q) => tf.Tensor;

const registry = new Map<unknown, Map<unknown, KLFn<Distribution, Distribution>>>();

/**
 * Registers an analytic KL(p‖q) for `p instanceof P` and `q instanceof Q` (replacing any earlier one
 * for the same pair). `fn` must return a new tensor of shape `broadcast(p.batchShape, q.batchShape)`
 * and leave no intermediate tensors behind.
 */
export function registerKL<P extends Distribution, Q extends Distribution>(
  P: DistributionClass<P>,
  Q: DistributionClass<Q>,
  fn: KLFn<P, Q>,
): void {
  let inner = registry.get(P);
  if (!inner) {
    inner = new Map();
    registry.set(P, inner);
  }
  inner.set(Q, fn as KLFn<Distribution, Distribution>);
}

/** The prototype chain of `x`'s class, most derived first, stopping at {@link Distribution}. */
function classChain(x: Distribution): unknown[] {
  const out: unknown[] = [];
  for (let proto = Object.getPrototypeOf(x); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    out.push(proto.constructor);
    if (proto === Distribution.prototype) break;
  }
  return out;
}

/** The registered KL function for the most specific matching (class of p, class of q) pair, or null. */
export function lookupKL(p: Distribution, q: Distribution): KLFn<Distribution, Distribution> | null {
  for (const pc of classChain(p)) {
    const inner = registry.get(pc);
    if (!inner) continue;
    for (const qc of classChain(q)) {
      const fn = inner.get(qc);
      if (fn) return fn;
    }
  }
  return null;
}

/**
 * Analytic KL(p‖q), summed over the event axis: shape `broadcast(p.batchShape, q.batchShape)`.
 * @throws Error naming both classes when no analytic form is registered, or when the event shapes
 *   differ or the batch shapes do not broadcast.
 */
export function klDivergence(p: Distribution, q: Distribution): tf.Tensor {
  if (!(p instanceof Distribution) || !(q instanceof Distribution)) {
    throw new Error('klDivergence: both arguments must be Distribution instances');
  }
  const fn = lookupKL(p, q);
  if (fn === null) {
    throw new Error(`klDivergence: no analytic KL registered for ${p.name}‖${q.name}; register one with registerKL(${p.name}, ${q.name}, fn) or use a Monte Carlo estimate`);
  }
  if (p.eventShape.length !== q.eventShape.length || p.eventShape.some((d, i) => d !== q.eventShape[i])) {
    throw new Error(`klDivergence(${p.name}‖${q.name}): event shapes differ, ${fmtShape(p.eventShape)} vs ${fmtShape(q.eventShape)}`);
  }
  broadcastShapes(p.batchShape, q.batchShape, `klDivergence(${p.name}‖${q.name}): batch shapes`);
  return fn(p, q);
}

/** Sums `x` over the last axis after broadcasting it to `batch + event` (so that every KL has the full batch shape). */
function sumEvent(x: tf.Tensor, p: Distribution, q: Distribution): tf.Tensor {
  const shape = [...broadcastShapes(p.batchShape, q.batchShape, 'kl'), ...p.eventShape];
  return tf.sum(tf.broadcastTo(x, shape), -1);
}

/**
 * KL(N(μp, σp²)‖N(μq, σq²)) = Σ_d log σq − log σp + (σp² + (μp − μq)²)/(2σq²) − ½.
 * Uses log σ = ½·logVar directly for distributions built by `Normal.fromLogVar`.
 */
export function klNormalNormal(p: Normal, q: Normal): tf.Tensor {
  return tf.tidy(() => sumEvent(klNormalNormalPerUnit(p, q), p, q));
}

/**
 * KL(N(μp, σp²)‖N(μq, σq²)) unit by unit, without the sum over the event: log σq − log σp +
 * (σp² + (μp − μq)²)/(2σq²) − ½, of the broadcast shape of the two (e.g. [B, d]); ≥ 0 everywhere.
 */
export function klNormalNormalPerUnit(p: Normal, q: Normal): tf.Tensor {
  return tf.tidy(() => {
    const lsp = p.logScale();
    const lsq = q.logScale();
    const varRatio = tf.exp(tf.mul(tf.sub(lsp, lsq), 2));
    const t = tf.mul(tf.square(tf.sub(p.loc, q.loc)), tf.exp(tf.mul(lsq, -2)));
    return tf.add(tf.sub(lsq, lsp), tf.mul(tf.sub(tf.add(varRatio, t), 1), 0.5));
  });
}

/** KL(Bern(σ(lp))‖Bern(σ(lq))) = Σ_d σ(lp)(lp − lq) + softplus(lq) − softplus(lp) (stable for any logits). */
export function klBernoulliBernoulli(p: Bernoulli, q: Bernoulli): tf.Tensor {
  return tf.tidy(() => {
    const kl = tf.add(tf.mul(tf.sigmoid(p.logits), tf.sub(p.logits, q.logits)), tf.sub(tf.softplus(q.logits), tf.softplus(p.logits)));
    return sumEvent(kl, p, q);
  });
}

/** KL(Cat(πp)‖Cat(πq)) = Σ_k πp_k (log πp_k − log πq_k), π = softmax(logits). */
export function klCategoricalCategorical(p: Categorical, q: Categorical): tf.Tensor {
  return tf.tidy(() => {
    const lp = logSoftmax(p.logits);
    const lq = logSoftmax(q.logits);
    return sumEvent(tf.mul(tf.exp(lp), tf.sub(lp, lq)), p, q);
  });
}

registerKL(Normal, Normal, klNormalNormal);
registerKL(Bernoulli, Bernoulli, klBernoulliBernoulli);
registerKL(Categorical, Categorical, klCategoricalCategorical);

/**
 * KL(N(μ, σ²) ‖ N(0, 1)) per unit, elementwise (no sum over the event axis): ½(μ² + σ² − 1) − log σ.
 * The per-unit terms of active units (thesis `003_…` appendix A fig. 4a, appendix B fig. 4).
 */
export function klStandardNormalPerUnit(q: Normal): tf.Tensor {
  return tf.tidy(() => {
    const mu = q.mean();
    const sd = q.stddev();
    return tf.sub(tf.mul(tf.sub(tf.add(tf.square(mu), tf.square(sd)), 1), 0.5), tf.log(sd));
  });
}
