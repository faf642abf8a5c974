/**
 * The semi-supervised objectives of M2, ADGM and SDGM (thesis `003_…` §4.1–4.2; Kingma et al. 2014;
 * ADGM paper, appendix A), computed from named per-row log-densities that the model returns
 * ({@link SslLogTerms}). The model runs the networks; nothing else here knows about them.
 *
 * With y observed (labelled), the bound on log p(x, y) (eq 4.9 for M2, eq 4.22 with a):
 *   −L(x, y) = E_q(a,z|x,y)[log p(x|·) + log p(y) + β(log p(z) − log q(z|·) + log p(a|·) − log q(a|x))]
 * With y unobserved, the bound on log p(x) (eq 4.8, eq 4.20–4.21):
 *   −U(x) = E_q(a|x)[Σ_y q(y|a,x) f(y) + H(q(y|a,x))] − β E_q(a|x)[log q(a|x)],
 *   f(y) = log p(x|·) + log p(y) + β(log p(z) − log q(z|·) + log p(a|·)),
 * summed over y exactly (`enumerate.ts`) or with one Concrete sample of y (`concrete.ts`); log q(a|x)
 * does not depend on y and stays outside the sum (Σ_y q(y) = 1). The training loss is
 *   J^α = −mean_l[−L] + α·mean_l[−log q(y_l | ·)] − mean_u[−U]
 * (eqs 4.10–4.11 and 4.23; per-batch means). β weights the latent terms (KL warm-up, Sønderby et al.
 * 2016); β = 1 is the bound.
 *
 * For evaluation, importance weighting (Burda et al. 2015; thesis eq 3.31) gives IWAE(k) and, with k
 * large, the log-likelihood: {@link labelledLogWeights} for log p(x, y), {@link enumeratedLogWeights}
 * for log p(x) with y summed exactly inside each weight; `bounds.ts` turns [k, B] log-weights into
 * bounds.
 *
 * Shapes: every term is per row, [N]. A model with S Monte Carlo samples of B examples stacks them
 * sample-major (row s·B + b), N = S·B; {@link sampleMean} averages them back to [B]. Enumerated terms
 * are [K·N], class-major (`enumerate.ts`). The term shapes are type aliases, not interfaces, so
 * that `tf.tidy` can return them.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng.js';
import { Categorical } from '../dists/categorical.js';
import { withGradientScale } from '../nn/params.js';
import { elboFromLogWeights } from './bounds.js';
import { enumeratedElbo, enumeratedLogMarginal } from './enumerate.js';
import { concreteElbo } from './concrete.js';

/** Per-row log-densities of one configuration (x, y, z[, a]) of the semi-supervised family, each [N]. */
export type SslLogTerms = {
  /** log p(x | z, y) (M2, ADGM) or log p(x | a, z, y) (SDGM). */
  logPx: tf.Tensor;
  /** log p(y); absent where y's own terms are taken in closed form ({@link concreteElbo}). */
  logPy?: tf.Tensor;
  /** log p(z). */
  logPz: tf.Tensor;
  /** log q(z | x, y) (M2) or log q(z | a, y, x). */
  logQz: tf.Tensor;
  /** log p(a | z, y) or log p(a | z, y, x) (ADGM/SDGM only). */
  logPa?: tf.Tensor;
  /** log q(a | x) (ADGM/SDGM only). */
  logQa?: tf.Tensor;
};

/** Labelled terms: {@link SslLogTerms} for observed one-hot y, with q(y | ·)'s logits for the classification loss. */
export type LabelledTerms = SslLogTerms & {
  /** The observed labels, one-hot rows [N, K]. */
  y: tf.Tensor;
  /** Logits of q(y | x) (M2) or q(y | a, x), [N, K]. */
  qyLogits: tf.Tensor;
};

/** Unlabelled terms, y summed exactly: the integrand's terms for every class, and q(y | ·). */
export type EnumeratedTerms = {
  estimator: 'enumerate';
  /** Terms of every (row, class) pair, [K·N] class-major; their log q(a|x), shared by the classes, is {@link logQa}. */
  perClass: Omit<SslLogTerms, 'logQa'>;
  /** log q(a | x), [N] (ADGM/SDGM only). */
  logQa?: tf.Tensor;
  /** Logits of q(y | ·), [N, K]. */
  qyLogits: tf.Tensor;
};

/** Unlabelled terms, y replaced by one Concrete sample ỹ: the terms at ỹ (no log p(y)), and q(y | ·). */
export type ConcreteTerms = {
  estimator: 'concrete';
  /** Terms at ỹ, [N]; log p(y) is not used (y's part is −KL(q(y|·) ‖ p(y)) in closed form). */
  atSample: Omit<SslLogTerms, 'logPy' | 'logQa'>;
  /** log q(a | x), [N] (ADGM/SDGM only). */
  logQa?: tf.Tensor;
  /** Logits of q(y | ·), [N, K]. */
  qyLogits: tf.Tensor;
};

/** The terms of an unlabelled batch, by estimator of the sum over y. */
export type UnlabelledTerms = EnumeratedTerms | ConcreteTerms;

function checkBeta(fn: string, beta: number): void {
  if (!(beta >= 0)) throw new Error(`${fn}: beta must be ≥ 0, got ${beta}`);
}

/**
 * The β-weighted log-weight of one configuration, per row [N]:
 *
 *   log p(x | ·) + log p(y) + β[(log p(z) − log q(z | ·)) + log p(a | ·) − log q(a | x)]
 *
 * — the integrand of the labelled bound (thesis eq 4.9 / 4.22), and with β = 1 the log importance
 * weight log p(x, y, z, a) − log q(z, a | x, y). Absent terms (M2's a, a relaxed y's log p(y)) are
 * left out. Summed left to right in the order written.
 * @throws Error when β < 0 or NaN.
 */
export function sslLogWeight(t: SslLogTerms, beta = 1): tf.Tensor {
  checkBeta('sslLogWeight', beta);
  return tf.tidy(() => {
    let latent = tf.sub(t.logPz, t.logQz);
    if (t.logPa) latent = tf.add(latent, t.logPa);
    if (t.logQa) latent = tf.sub(latent, t.logQa);
    const observed = t.logPy ? tf.add(t.logPx, t.logPy) : t.logPx;
    return tf.add(observed, beta === 1 ? latent : tf.mul(latent, beta));
  });
}

/**
 * The labelled bound −L(x, y) per row, [N] (eq 4.9, eq 4.22 with a): {@link sslLogWeight} of the
 * labelled terms (one Monte Carlo draw per row; average rows with {@link sampleMean}).
 * @throws Error when β < 0 or NaN.
 */
export function labelledBound(t: SslLogTerms, beta = 1): tf.Tensor {
  checkBeta('labelledBound', beta);
  return sslLogWeight(t, beta);
}

/**
 * The classification loss of J^α, the cross-entropy H(y, q(y | ·)) = −Σ_k y_k log q(y = k | ·)
 * (eq 4.10 / 4.23), per row [N], through `dists/categorical.ts`.
 * @param qyLogits logits of q(y | ·), [N, K]. @param y one-hot (or soft) labels, [N, K].
 * @throws Error when the shapes differ.
 */
export function classificationLoss(qyLogits: tf.Tensor, y: tf.Tensor): tf.Tensor {
  if (qyLogits.rank !== 2 || y.rank !== 2 || qyLogits.shape[0] !== y.shape[0] || qyLogits.shape[1] !== y.shape[1]) {
    throw new Error(`classificationLoss: logits [${qyLogits.shape}] and labels [${y.shape}] must both be [N, K]`);
  }
  return tf.tidy(() => tf.neg(new Categorical(qyLogits).logProb(y)));
}

/**
 * The unlabelled bound −U(x) per row, [N] (eq 4.8 for M2, eq 4.20–4.21 with a):
 * - `enumerate`: Σ_y q(y|·) f(y) + H(q(y|·)) − β log q(a|x)  ({@link enumeratedElbo}),
 * - `concrete`: f(ỹ) − KL(q(y|·) ‖ Uniform) − β log q(a|x)  ({@link concreteElbo}),
 * with f = {@link sslLogWeight} of the per-class (or at-sample) terms.
 * @throws Error when β < 0 or NaN, or the terms' shapes do not fit q(y)'s logits.
 */
export function unlabelledBound(t: UnlabelledTerms, beta = 1): tf.Tensor {
  checkBeta('unlabelledBound', beta);
  return tf.tidy(() => {
    let u = t.estimator === 'enumerate' ? enumeratedElbo(t.qyLogits, sslLogWeight(t.perClass, beta)) : concreteElbo(t.qyLogits, sslLogWeight(t.atSample, beta));
    if (t.logQa) u = tf.sub(u, beta === 1 ? t.logQa : tf.mul(t.logQa, beta));
    return u;
  });
}

/**
 * The Monte Carlo average of per-row values over S draws (ADGM paper, appendix A eq 17): [S·B]
 * sample-major (row s·B + b) → [B]. Through {@link elboFromLogWeights} on [S, B]; S = 1 returns
 * `values` itself.
 * @throws Error when S is not an integer ≥ 1 or does not divide the number of values.
 */
export function sampleMean(values: tf.Tensor, S: number): tf.Tensor {
  if (!Number.isInteger(S) || S < 1) throw new Error(`sampleMean: S must be an integer ≥ 1, got ${S}`);
  if (values.size % S !== 0) throw new Error(`sampleMean: ${values.size} values do not divide into ${S} samples`);
  if (S === 1) return values;
  return tf.tidy(() => elboFromLogWeights(tf.reshape(values, [S, values.size / S])));
}

/** The per-example parts of J^α for one step. */
export interface SemiSupervisedParts {
  /** Labelled batch: −L per example [B_l] (absent where the model's labelled objective has no bound) and −log q(y | ·) (or the model's own labelled loss) per example [B_l]. */
  labelled?: { bound?: tf.Tensor; crossEntropy: tf.Tensor };
  /** Unlabelled batch: −U per example [B_u]. */
  unlabelled?: tf.Tensor;
}

/**
 * The training loss J^α (thesis eqs 4.10–4.11, 4.23), a scalar to minimise:
 *
 *   mean_l L + α · mean_l H(y, q(y | ·)) + mean_u U
 *
 * with per-source means (the ADGM paper's half-labelled batches), L = −bound. Either part may be
 * absent (the loss of no part is 0).
 * @throws Error when α < 0 or NaN.
 */
export function semiSupervisedLoss(parts: SemiSupervisedParts, alpha: number): tf.Scalar {
  if (!(alpha >= 0)) throw new Error(`alpha must be ≥ 0, got ${alpha}`);
  return tf.tidy(() => {
    let total: tf.Tensor = tf.scalar(0);
    if (parts.labelled) {
      const ce = tf.mul(tf.mean(parts.labelled.crossEntropy), alpha);
      total = tf.add(total, parts.labelled.bound ? tf.add(tf.neg(tf.mean(parts.labelled.bound)), ce) : ce);
    }
    if (parts.unlabelled) total = tf.sub(total, tf.mean(parts.unlabelled));
    return total as tf.Scalar;
  });
}

/**
 * B for n rows of k sample-major draws, checking that k is an integer ≥ 1 that divides n (`noun`
 * names the draws in the message). Shared by the importance weights here and in `semi2.ts`.
 * @throws Error naming `fn`.
 */
export function checkRows(fn: string, n: number, k: number, noun = 'samples'): number {
  if (!Number.isInteger(k) || k < 1) throw new Error(`${fn}: k must be an integer ≥ 1, got ${k}`);
  if (n % k !== 0) throw new Error(`${fn}: ${n} rows do not divide into ${k} ${noun}`);
  return n / k;
}

/**
 * Importance log-weights of log p(x, y) for labelled terms of k draws of B examples ([k·B],
 * sample-major): log w = log p(x, y, z, a) − log q(z, a | x, y) ({@link sslLogWeight} at β = 1),
 * [k, B]. IWAE(k) = {@link iwaeFromLogWeights} of them.
 * @throws Error when k is not an integer ≥ 1 or does not divide the rows.
 */
export function labelledLogWeights(t: SslLogTerms, k: number): tf.Tensor {
  const B = checkRows('labelledLogWeights', t.logPx.size, k);
  return tf.tidy(() => tf.reshape(sslLogWeight(t), [k, B]));
}

/**
 * Importance log-weights of log p(x) with y summed exactly, for enumerated terms of k draws of B
 * examples ([K·k·B] class-major over [k·B] sample-major rows):
 *
 *   log w = log Σ_y exp[log p(x, y, z_y, a) − log q(z_y | a, y, x)] − log q(a | x),  [k, B]
 *
 * with one z_y ~ q(z | a, y, x) per class ({@link enumeratedLogMarginal}). E[w] = p(x), and q(y | ·)
 * is not needed (the exact sum replaces sampling y), so IWAE(k) ≥ the enumerated −U of the same
 * draws, by Jensen over q(y | ·).
 * @throws Error when k is not an integer ≥ 1 or the rows do not fit K classes and k samples.
 */
export function enumeratedLogWeights(t: Pick<EnumeratedTerms, 'perClass' | 'logQa'>, K: number, k: number): tf.Tensor {
  if (t.perClass.logPx.size % K !== 0) throw new Error(`enumeratedLogWeights: ${t.perClass.logPx.size} rows do not divide into ${K} classes`);
  const B = checkRows('enumeratedLogWeights', t.perClass.logPx.size / K, k);
  return tf.tidy(() => {
    let lw = enumeratedLogMarginal(sslLogWeight(t.perClass), K);
    if (t.logQa) lw = tf.sub(lw, t.logQa);
    return tf.reshape(lw, [k, B]);
  });
}

// ---- the objective over any model that returns these terms ----------------------------------------

/**
 * What a semi-supervised model with a discrete y must provide for the objectives below (and, through
 * `semiSupervisedFamily` in `models/families.ts`, for the run pipeline and every command): its
 * networks' log-terms with y observed ({@link LabelledTerms}) or not ({@link UnlabelledTerms}), for
 * S Monte Carlo draws per example. M2, ADGM and SDGM (`models/ssl.ts`) are one such model; a new one
 * writes these two methods and inherits J^α, IWAE(k), the IW log-likelihood and the anomaly score.
 */
export interface SemiSupervisedTermsModel {
  /** K classes, input width D, S draws per example in training, and how training sums over y. */
  readonly config: { classes: number; inputDim: number; samples: number; yEstimator: 'enumerate' | 'concrete' };
  /** The variables of q(y | ·), whose gradient from the unlabelled bound {@link SemiSupervisedWeights.unlabelledQy} scales. */
  readonly qyVariables: readonly tf.Variable[];
  /** Terms for x [B, D] with one-hot y [B, K], S draws: [S·B] each, sample-major. */
  labelledTerms(x: tf.Tensor, y: tf.Tensor, rng: Rng, samples: number): LabelledTerms;
  /** Terms for x [B, D] with y unobserved, S draws, y summed by `estimator`. */
  unlabelledTerms(x: tf.Tensor, rng: Rng, samples: number, estimator: 'enumerate' | 'concrete'): UnlabelledTerms;
  /**
   * Optional: the labelled rows' own parts of J^α for x [B, D] and one-hot y [B, K], where the
   * model's objective for labelled rows is not −L(x, y) + α·H(y, q(y | ·)): a bound per example
   * [B] (weighed like the unlabelled bound; absent: none) and a loss per example [B] that J^α
   * weighs by α. CaGeM (thesis appendix C §4): its bound with y summed out, as for an unlabelled
   * row, and the cross-entropies of its cascade of classifiers.
   */
  labelledObjective?(x: tf.Tensor, y: tf.Tensor, rng: Rng, beta: number): { bound?: tf.Tensor; crossEntropy: tf.Tensor };
}

/** Weights of J^α. */
export interface SemiSupervisedWeights {
  /** α of the classification term (eq 4.10). */
  alpha: number;
  /** β of the latent terms (warm-up); 1 is the bound. Default 1. */
  beta?: number;
  /** Factor in [0, 1] on the unlabelled bound's gradient into q(y | ·). Default 1 (the papers'). */
  unlabelledQy?: number;
}

function checkDraws(fn: string, k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new Error(`${fn}: the number of samples must be an integer ≥ 1, got ${k}`);
}

/** −L(x, y) per example [B] and −log q(y | ·) per example [B], averaged over the model's S draws (eqs 4.9, 4.10). */
export function labelledParts(m: SemiSupervisedTermsModel, x: tf.Tensor, y: tf.Tensor, rng: Rng, beta = 1): { bound: tf.Tensor; crossEntropy: tf.Tensor } {
  const S = m.config.samples;
  return tf.tidy(() => {
    const t = m.labelledTerms(x, y, rng, S);
    return { bound: sampleMean(labelledBound(t, beta), S), crossEntropy: sampleMean(classificationLoss(t.qyLogits, t.y), S) };
  });
}

/** −U(x) per example [B], averaged over the model's S draws, y summed as `config.yEstimator` says (eq 4.8). */
export function unlabelledPart(m: SemiSupervisedTermsModel, x: tf.Tensor, rng: Rng, beta = 1): tf.Tensor {
  const S = m.config.samples;
  return tf.tidy(() => sampleMean(unlabelledBound(m.unlabelledTerms(x, rng, S, m.config.yEstimator), beta), S));
}

/**
 * J^α for a labelled batch (x_l [B_l, D], one-hot y_l [B_l, K]) and an unlabelled batch x_u
 * [B_u, D] (either may be absent): {@link semiSupervisedLoss} of {@link labelledParts} (or of the
 * model's own {@link SemiSupervisedTermsModel.labelledObjective}) and {@link unlabelledPart}, the
 * latter's gradient into q(y | ·) scaled by `unlabelledQy`.
 * @throws Error when α < 0 or `unlabelledQy` is outside [0, 1].
 */
export function semiSupervisedObjective(
  m: SemiSupervisedTermsModel,
  batch: { labelled?: { x: tf.Tensor; y: tf.Tensor }; unlabelled?: { x: tf.Tensor } },
  rng: Rng,
  w: SemiSupervisedWeights,
): tf.Scalar {
  if (!(w.alpha >= 0)) throw new Error(`alpha must be ≥ 0, got ${w.alpha}`);
  const u = w.unlabelledQy ?? 1;
  if (!(u >= 0 && u <= 1)) throw new Error(`unlabelledQy must be in [0, 1], got ${u}`);
  const beta = w.beta ?? 1;
  return tf.tidy(() => {
    const parts: SemiSupervisedParts = {};
    if (batch.labelled) parts.labelled = m.labelledObjective ? m.labelledObjective(batch.labelled.x, batch.labelled.y, rng, beta) : labelledParts(m, batch.labelled.x, batch.labelled.y, rng, beta);
    if (batch.unlabelled) parts.unlabelled = withGradientScale(m.qyVariables as tf.Variable[], u, () => unlabelledPart(m, batch.unlabelled!.x, rng, beta));
    return semiSupervisedLoss(parts, w.alpha);
  });
}

/**
 * Importance log-weights [k, B] for x [B, D]: of log p(x, y) when one-hot labels `y` [B, K] are
 * given ({@link labelledLogWeights}), of log p(x) otherwise, y summed exactly inside each weight
 * whatever the training estimator ({@link enumeratedLogWeights}; K·k·B rows at once).
 * @throws Error when k is not an integer ≥ 1.
 */
export function semiSupervisedLogWeights(m: SemiSupervisedTermsModel, x: tf.Tensor, k: number, rng: Rng, y?: tf.Tensor): tf.Tensor {
  checkDraws('logWeights', k);
  return tf.tidy(() => {
    if (y !== undefined) return labelledLogWeights(m.labelledTerms(x, y, rng, k), k);
    const t = m.unlabelledTerms(x, rng, k, 'enumerate') as EnumeratedTerms;
    return enumeratedLogWeights(t, m.config.classes, k);
  });
}

/**
 * The importance-weighted log-likelihood per example [B] with k samples (log p(x, y) with one-hot
 * `y` [B, K], log p(x) without), the k samples run in chunks of at most `maxRows` network rows
 * whose log-sum-exps are combined, so memory stays bounded for k in the thousands. Equals
 * IWAE(k) of the same draws up to round-off; no gradient intended.
 * @throws Error when k is not an integer ≥ 1.
 */
export function semiSupervisedLogLikelihood(m: SemiSupervisedTermsModel, x: tf.Tensor, y: tf.Tensor | undefined, k: number, rng: Rng, maxRows = 20000): tf.Tensor {
  checkDraws('logLikelihood', k);
  const B = x.shape[0];
  const perSample = B * (y === undefined ? m.config.classes : 1);
  const chunk = Math.max(1, Math.min(k, Math.floor(maxRows / perSample)));
  let acc: tf.Tensor | undefined;
  for (let done = 0; done < k; done += chunk) {
    const c = Math.min(chunk, k - done);
    const next = tf.tidy(() => {
      const lse = tf.logSumExp(semiSupervisedLogWeights(m, x, c, rng, y), 0);
      return acc ? tf.logSumExp(tf.stack([acc, lse]), 0) : lse;
    });
    acc?.dispose();
    acc = next;
  }
  const out = tf.sub(acc!, Math.log(k));
  acc!.dispose();
  return out;
}

/**
 * Anomaly score per example [B]: −U(x), the negative unlabelled bound (an upper bound on −log p(x),
 * nats), averaged over `draws` Monte Carlo draws; higher is less like the training data (the
 * ELBO-based detector of thesis `003_…` ch. 6).
 * @throws Error when `draws` is not an integer ≥ 1.
 */
export function semiSupervisedAnomalyScore(m: SemiSupervisedTermsModel, x: tf.Tensor, rng: Rng, draws = 10): tf.Tensor {
  if (!Number.isInteger(draws) || draws < 1) throw new Error(`anomalyScore: draws must be an integer ≥ 1, got ${draws}`);
  return tf.tidy(() => tf.neg(tf.div(tf.addN(Array.from({ length: draws }, () => unlabelledPart(m, x, rng))), draws)));
}
