/**
 * Marginalising a discrete variable y ∈ {0, …, K−1} with one Concrete (Gumbel-softmax) sample in
 * place of the exact sum of `enumerate.ts` (Maddison et al. 2017; Jang et al. 2017; the
 * semi²-supervised workshop paper `002_…`, appendix A, uses it for y).
 *
 * The y-part of the unlabelled bound (thesis `003_…` eq 4.8 / 4.20),
 *   E_q(y|·)[log p(y)] + H(q(y|·)) = −KL(q(y|·) ‖ p(y)),
 * is taken in closed form — for the uniform p(y) = 1/K of M2/ADGM/SDGM,
 *   KL(q ‖ Uniform_K) = Σ_y q(y) log q(y) + log K
 * — and only the rest of the integrand, f(ỹ) (log p(x | ·) and the latent terms, without log p(y)),
 * is evaluated at the relaxed sample ỹ ~ Concrete(logits, τ), which is reparameterised.
 */
import * as tf from '@tensorflow/tfjs';
import { Categorical } from '../dists/categorical.js';
import { klDivergence } from '../dists/kl.js';

/**
 * KL(q(y | ·) ‖ Uniform_K) = Σ_y q(y) log q(y) + log K, in closed form through the KL registry
 * (`dists/kl.ts`: Categorical ‖ Categorical with all-zero logits for the uniform).
 * @param qyLogits logits of q(y | ·), [..., K].
 * @returns [...] (the logits' shape without the last axis), ≥ 0, in nats.
 * @throws Error when `qyLogits` has rank 0 (no class axis).
 */
export function klToUniform(qyLogits: tf.Tensor): tf.Tensor {
  if (qyLogits.rank < 1) throw new Error('klToUniform: q(y) logits need a class axis (last), got a scalar');
  const K = qyLogits.shape[qyLogits.rank - 1];
  return tf.tidy(() => klDivergence(new Categorical(qyLogits), new Categorical(tf.zeros([K]))));
}

/**
 * The bound with y replaced by one Concrete sample ỹ and y's own terms in closed form:
 *
 *   f(ỹ) − KL(q(y | ·) ‖ p(y)),  ỹ ~ Concrete(q's logits, τ)
 *
 * where f(ỹ) is the integrand without log p(y) (log p(x | ·) + β·latent terms) evaluated at ỹ.
 * p(y) is `pyLogits` (a Categorical, e.g. from a learned or non-uniform prior) or, when omitted,
 * the uniform 1/K ({@link klToUniform}).
 * @param qyLogits logits of q(y | ·), [N, K].
 * @param f [N], the integrand at ỹ.
 * @param pyLogits logits of p(y), broadcastable to [N, K]; default uniform.
 * @returns [N].
 * @throws Error when `f` does not have one value per row of `qyLogits`.
 */
export function concreteElbo(qyLogits: tf.Tensor, f: tf.Tensor, pyLogits?: tf.Tensor): tf.Tensor {
  if (qyLogits.rank !== 2) throw new Error(`concreteElbo: q(y) logits must be [N, K], got [${qyLogits.shape}]`);
  if (f.size !== qyLogits.shape[0]) throw new Error(`concreteElbo: ${f.size} values of f for ${qyLogits.shape[0]} rows of q(y) logits`);
  return tf.tidy(() => tf.sub(f, pyLogits ? klDivergence(new Categorical(qyLogits), new Categorical(pyLogits)) : klToUniform(qyLogits)));
}
