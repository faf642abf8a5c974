/**
 * Variational bounds computed from per-sample log-terms. Models return the terms; this module turns
 * them into the ELBO (thesis `003_…` eq 3.11 / 3.30) or the importance-weighted bound IWAE(k)
 * (eq 3.31, Burda et al. 2015), with a KL weight β for β-VAE and warm-up. Models never repeat this.
 *
 * Shapes: every term is [k, B] (k importance samples of each of B examples); `kl`, when a model can
 * give it in closed form, is [B]. Bounds are returned per example, [B], in nats (higher is better).
 */
import * as tf from '@tensorflow/tfjs';

/** Per-sample log-terms of a latent-variable model for one batch. */
export interface LogTerms {
  /** log p(x | z), [k, B]. */
  logLik: tf.Tensor;
  /** log p(z) (all latent layers), [k, B]. */
  logPrior: tf.Tensor;
  /** log q(z | x) (all latent layers), [k, B]. */
  logQ: tf.Tensor;
  /** Analytic KL(q(z|x) ‖ p(z)), [B], when the model has it; used by the ELBO in place of logPrior − logQ. */
  kl?: tf.Tensor;
}

/** Which bound to compute. */
export type BoundKind = 'elbo' | 'iwae';

/** Options of {@link bound}. */
export interface BoundOptions {
  kind: BoundKind;
  /** Weight of the prior/posterior terms: β in L = E[log p(x|z)] − β·KL. Default 1. */
  beta?: number;
  /** Use the analytic KL for the ELBO when the terms carry one. Default true. */
  analyticKl?: boolean;
}

/**
 * log-weights log w = log p(x|z) + β (log p(z) − log q(z|x)), [k, B]. With β = 1 these are the
 * importance weights of p(x) under proposal q.
 */
export function logWeights(t: LogTerms, beta = 1): tf.Tensor {
  return tf.tidy(() => {
    const reg = tf.sub(t.logPrior, t.logQ);
    return tf.add(t.logLik, beta === 1 ? reg : tf.mul(reg, beta));
  });
}

/** ELBO from log-weights: (1/k) Σ_j log w_j, [k, B] → [B]. */
export function elboFromLogWeights(logW: tf.Tensor): tf.Tensor {
  return tf.mean(logW, 0);
}

/** IWAE(k) from log-weights: log (1/k) Σ_j w_j, computed stably, [k, B] → [B]. IWAE(1) = ELBO. */
export function iwaeFromLogWeights(logW: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.logSumExp(logW, 0), Math.log(logW.shape[0])));
}

/**
 * The bound of `opts.kind` per example, [B]:
 * - `elbo`: mean_k log p(x|z) − β·KL when an analytic KL is given (and `analyticKl` is not false),
 *   otherwise mean_k [log p(x|z) + β (log p(z) − log q(z|x))];
 * - `iwae`: log mean_k exp(log p(x|z) + β (log p(z) − log q(z|x))).
 */
export function bound(t: LogTerms, opts: BoundOptions): tf.Tensor {
  const beta = opts.beta ?? 1;
  if (!(beta >= 0)) throw new Error(`bound: beta must be ≥ 0, got ${beta}`);
  return tf.tidy(() => {
    if (opts.kind === 'elbo') {
      if (t.kl && opts.analyticKl !== false) return tf.sub(tf.mean(t.logLik, 0), tf.mul(t.kl, beta));
      return elboFromLogWeights(logWeights(t, beta));
    }
    if (opts.kind === 'iwae') return iwaeFromLogWeights(logWeights(t, beta));
    throw new Error(`bound: unknown kind '${String(opts.kind)}' (valid: elbo, iwae)`);
  });
}
