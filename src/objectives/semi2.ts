/**
 * The semi²-supervised objective of Gemp et al. (`000_…` §3, eqs 7–15 and appendix A.1 eq 20;
 * `002_…` appendices A–B and E), computed from the log-densities and point estimates that the model
 * (`models/semi2.ts`) returns. The model runs its networks; this module forms every bound and loss.
 *
 * The forward model is p(y) p(z) p(x | y, z) with recognition model q(y | x) q(z | x, y); the reverse
 * model is the same pair with the roles swapped — q(x) q(y | x) q(z | x, y) generates, and
 * p(z) p(x | y, z) recognises. Per example (N rows; each bound one Monte Carlo draw per row):
 * - (7)  labelled, forward, on log p(x, y):
 *        log p(x|y,z) − log q(z|x,y) + log p(y) + log p(z),            z ~ q(z|x,y)        {@link forwardLabelledBound}
 * - (8)  unlabelled x, on log p(x): (7)'s integrand − log q(y|x),      (y, z) ~ q(y,z|x)   {@link forwardUnlabelledBound}
 * - (9)  labelled, reverse, on log q(x, y):
 *        log q(y|x) + log q(z|x,y) − log p(z) + log q(x),              z ~ p(z)            {@link reverseLabelledBound}
 * - (10) unfeatured y, on log q(y):
 *        log q(y|x) + log q(z|x,y) − log p(z) − log p(x|y,z) + log q(x),  z ~ p(z), x ~ p(x|y,z)  {@link reverseUnfeaturedBound}
 * - (20) unfeatured (y, z), z observed, on log q(y, z): (10) without − log p(z)               {@link reverseObservedBound}
 * - (13) L(ȳ, y), ȳ the mean of q(y | x) (KL(y ‖ ȳ) by default)                              {@link labelLoss}
 *        (real labels: −log q(u | x) of standardised u, or the squared error)                  {@link realLabelLoss}
 * - (14) ‖x̄ − x‖², x̄ the mean of p(x | y, z), z ~ p(z)                                      {@link inputLoss}
 * and the objective (15), J = α_f J_f − α_f^d J_f^d + α_r J_r − α_r^d J_r^d, maximised; {@link semi2Loss}
 * returns −J with per-source batch means (J_f, J_r of eqs 11–12 are sums over the data set; with
 * means each source weighs the same whatever its row count). {@link semi2PointLoss} is the
 * deterministic mode's counterpart (the reference's non-variational objective, see its doc).
 *
 * Importance weights for IWAE(k) and the IW log-likelihood ({@link semi2LabelledLogWeights},
 * {@link semi2EnumeratedLogWeights}, {@link semi2SampledLogWeights}) are (7)'s integrand at k draws;
 * `bounds.ts` turns [k, B] log-weights into bounds.
 *
 * Shapes: every tensor term is per row, [N]. Densities that are constant on their support — Dir(1)
 * (log Γ(K)), the uniform categorical (−log K), the uniform box (−d·log(hi − lo)), q(x) = U(−γ, γ)^D
 * (−D·log 2γ) — may be given as numbers; two constants that meet are summed in double precision
 * before they reach the float32 tensor. Sums run left to right in the order each function's doc
 * writes them (the model's results are reproduced to the bit by that order).
 */
import * as tf from '@tensorflow/tfjs';
import { enumeratedElbo } from './enumerate.js';
import { checkRows as rowsPerDraw } from './semi-supervised.js';

/** A log-density constant over the batch (a number) or given per row, [N]. */
export type Semi2LogDensity = number | tf.Tensor;

/** L of eq 13: KL(y ‖ ȳ) (the papers' choice), squared error, or cross-entropy −Σ y log ȳ. */
export type Semi2LabelLossKind = 'kl' | 'l2' | 'ce';

/** Weights of eq 15 and the discriminative losses, and the variants of the objective. */
export interface Semi2Weights {
  alphaF: number;
  alphaFd: number;
  alphaR: number;
  alphaRd: number;
  /** L of eq 13: KL(y ‖ ȳ) (the papers' choice), squared error, or cross-entropy −Σ y log ȳ. */
  yLoss?: Semi2LabelLossKind;
  /** Include the labelled reverse bound (9) in J_r (off by default, as `002_…` appendix E.3). */
  reverseLabelled?: boolean;
  /**
   * Variant, not the papers' objective. false: the reverse bounds (9), (10), (20) hold q(y | x)
   * and q(z | x, y) fixed and train only p(x | y, z) — the generated x is pulled towards what the
   * recognition networks call y, but those networks never fit the generated x. Default true.
   * (It acts on gradients, not values: the model applies it while it computes the reverse terms.)
   */
  reverseTrainsQ?: boolean;
  /**
   * Variant, not the papers' objective. false: drop −log p(x | y, z), the decoder's entropy, from
   * (10) and (20), so the reverse bound does not reward a wide decoder where no x constrains it.
   * Default true.
   */
  reverseEntropy?: boolean;
  /**
   * Factor in [0, 1] on the gradient that the unlabelled bound (8) sends into q(y | x) (default 1,
   * the papers' objective). 0 cuts that feedback: unlabelled x then train p(x | y, z) and
   * q(z | x, y), and q(y | x) learns from the labels (and, in the semi² model, from the reverse
   * bounds on generated x) only — "cutting feedback" from a misspecified module (Plummer 2015,
   * Jacob et al. 2017). On real NIR spectra, where y explains little of x, the full pull makes
   * q(y | x) map unlabelled rows to codes that help reconstruction rather than to labels
   * (docs/semi-supervised-real.md); the library's defaults for user tables cut it
   * (`defaultWeights` in `experiments/estimator.ts`). (It acts on gradients, not values: the model
   * applies it while it computes the unlabelled terms; it is validated here.)
   */
  unlabelledQy?: number;
  /**
   * Variant, not the papers' objective. Strength c ≥ 0 of a Gaussian prior on the first-layer
   * weights W of q(y | x) (the layer that reads x, or its projection): each weight ~ N(0, 1/(c·m)),
   * m the layer's fan-in, so c = 1 is the scale the initialisation draws from (a unit-order
   * pre-activation for standardised inputs). Its log density enters J once, on the per-row scale
   * of the labelled source: J −= c·m·‖W‖² / (2 N), N = {@link qyPriorRows}. MAP estimation of q(y | x)
   * under this prior is ridge-like shrinkage; with D ≫ N labelled rows it keeps q(y | x) from
   * interpolating the labels with large weights on noise channels (docs/semi-supervised-real.md).
   * Default 0: none (a flat prior, the papers').
   */
  qyPrior?: number;
  /** N of {@link qyPrior}: the number of labelled rows (the estimator fills it in). Default 1. */
  qyPriorRows?: number;
}

/** The terms of the forward bound (7) at one draw z ~ q(z | x, y) per row. */
export type Semi2ForwardTerms = {
  /** log p(x | y, z), [N]. */
  logPx: tf.Tensor;
  /** log q(z | x, y) of the drawn z, [N]. */
  logQz: tf.Tensor;
  /** log p(y): log Γ(K) for Dir(1), −log K for the uniform categorical; or [N] (log N(y; μ, diag σ²) for real labels). */
  logPy: Semi2LogDensity;
  /** log p(z): −d·log(hi − lo) for the uniform box; or [N]. */
  logPz: Semi2LogDensity;
};

/**
 * The terms of the unlabelled bound (8), by how the expectation over y is taken:
 * - `sample`: one reparameterised draw y ~ q(y | x) (simplex labels, the logistic normal), with
 *   log q(y | x) at that draw;
 * - `concrete`: one Concrete draw ỹ feeds q(z | x, ỹ) and p(x | ỹ, z), and y's own terms
 *   E_q[log p(y) − log q(y | x)] = −KL(Cat(q) ‖ Uniform_K) are taken in closed form from q's logits
 *   (discrete labels with the uniform prior; `atSample` has no log p(y));
 * - `enumerate`: the terms of (7) for every (row, class) pair, [K·N] class-major (`enumerate.ts`),
 *   and q's logits; the sum over y is exact.
 */
export type Semi2UnlabelledTerms =
  | { estimator: 'sample'; atSample: Semi2ForwardTerms; logQy: tf.Tensor }
  | { estimator: 'concrete'; atSample: Omit<Semi2ForwardTerms, 'logPy'>; qyLogits: tf.Tensor }
  | { estimator: 'enumerate'; perClass: Semi2ForwardTerms; qyLogits: tf.Tensor };

/** The terms of the labelled reverse bound (9) at one draw z ~ p(z) per row. */
export type Semi2ReverseLabelledTerms = {
  /** log q(y | x) of the observed pair, [N]. */
  logQy: tf.Tensor;
  /** log q(z | x, y) at the z drawn from p(z), [N]. */
  logQz: tf.Tensor;
  /** log p(z) (the reverse model's recognition density of z). */
  logPz: Semi2LogDensity;
  /** log q(x): −D·log 2γ for U(−γ, γ)^D. */
  logQx: Semi2LogDensity;
};

/**
 * The terms of the unfeatured reverse bounds (10) and (20) at one generated x ~ p(x | y, z) per row
 * (z drawn from p(z) for (10), observed for (20)).
 */
export type Semi2UnfeaturedTerms = {
  /** log q(y | x) at the generated x, [N]. */
  logQy: tf.Tensor;
  /** log q(z | x, y) at the generated x and the z it came from, [N]. */
  logQz: tf.Tensor;
  /** log p(x | y, z) of the generated x, [N] (the reverse model's recognition density of x). */
  logPx: tf.Tensor;
  /** log q(x): −D·log 2γ for U(−γ, γ)^D. */
  logQx: Semi2LogDensity;
  /** log p(z), given when z was drawn from p(z) (bound (10)); absent when z is observed (bound (20)). */
  logPz?: Semi2LogDensity;
};

/**
 * ȳ, the mean of q(y | x) (or of q(y | x̄) for a generated x̄), beside the labels y it should match;
 * both [N, K]. Real labels (`real` present): ȳ = m(x) and y = u = (y − μ)/σ, both standardised by
 * the prior, and `real.sd` the sd s(x) of q(u | x), [N, K] (absent in the deterministic mode); the
 * loss is then {@link realLabelLoss}.
 */
export type Semi2Predicted = { yBar: tf.Tensor; y: tf.Tensor; real?: { sd?: tf.Tensor } };

/** x̄, the mean of p(x | y, z), beside the inputs x it should match; both [N, D]. */
export type Semi2Generated = { xBar: tf.Tensor; x: tf.Tensor };

const EPS = 1e-6;

/** Checks that every tensor among `terms` has `n` values. */
function checkRows(fn: string, n: number, terms: Record<string, Semi2LogDensity | undefined>): void {
  for (const [name, t] of Object.entries(terms)) {
    if (t instanceof tf.Tensor && t.size !== n) throw new Error(`${fn}: ${name} has ${t.size} values for ${n} rows`);
  }
}

/** a + b for two log-densities: in double precision when both are numbers, else a tensor op. */
function plus(a: Semi2LogDensity, b: Semi2LogDensity): Semi2LogDensity {
  return typeof a === 'number' && typeof b === 'number' ? a + b : tf.add(a, b);
}

/** a − b for two log-densities: in double precision when both are numbers, else a tensor op. */
function minus(a: Semi2LogDensity, b: Semi2LogDensity): Semi2LogDensity {
  return typeof a === 'number' && typeof b === 'number' ? a - b : tf.sub(a, b);
}

/**
 * Bound (7) on log p(x, y) per row, [N]: the forward model's labelled bound at one z ~ q(z | x, y),
 *
 *   (log p(x|y,z) − log q(z|x,y)) + (log p(y) + log p(z)).
 *
 * Also the log importance weight of log p(x, y) (see {@link semi2LabelledLogWeights}).
 * @throws Error when the terms' row counts differ.
 */
export function forwardLabelledBound(t: Semi2ForwardTerms): tf.Tensor {
  checkRows('forwardLabelledBound', t.logPx.size, t);
  return tf.tidy(() => tf.add(tf.sub(t.logPx, t.logQz), plus(t.logPy, t.logPz)));
}

/**
 * Bound (8) on log p(x) per row, [N]: E_q(y,z|x)[log p(x|y,z) − log q(y|x) − log q(z|x,y) + log p(y) + log p(z)],
 * by estimator (see {@link Semi2UnlabelledTerms}):
 * - `sample`:    ((log p(x|y,z) − log q(z|x,y)) + (log p(y) − log q(y|x))) + log p(z);
 * - `concrete`:  ((log p(x|ỹ,z) − log q(z|x,ỹ)) − KL(q(y|x) ‖ Uniform_K)) + log p(z),
 *                KL = Σ_y q(y|x) log q(y|x) + log K;
 * - `enumerate`: Σ_y q(y|x) (7)(y) + H(q(y|x)) (thesis `003_…` eq 4.8; `enumeratedElbo`), with
 *                (7)(y) = {@link forwardLabelledBound} of the class-major per-class terms.
 * @throws Error when the row counts differ (or q's logits are not [N, K], or the per-class terms
 *   do not hold K·N rows).
 */
export function forwardUnlabelledBound(t: Semi2UnlabelledTerms): tf.Tensor {
  if (t.estimator === 'enumerate') {
    if (t.qyLogits.rank !== 2) throw new Error(`forwardUnlabelledBound: q(y) logits must be [N, K], got [${t.qyLogits.shape}]`);
    return tf.tidy(() => enumeratedElbo(t.qyLogits, forwardLabelledBound(t.perClass)));
  }
  if (t.estimator === 'sample') {
    const a = t.atSample;
    checkRows('forwardUnlabelledBound', a.logPx.size, { ...a, logQy: t.logQy });
    return tf.tidy(() => tf.add(tf.add(tf.sub(a.logPx, a.logQz), tf.sub(a.logPy, t.logQy)), a.logPz));
  }
  if (t.qyLogits.rank !== 2) throw new Error(`forwardUnlabelledBound: q(y) logits must be [N, K], got [${t.qyLogits.shape}]`);
  const a = t.atSample;
  const [N, K] = t.qyLogits.shape as [number, number];
  checkRows('forwardUnlabelledBound', N, a);
  return tf.tidy(() => {
    const logq = tf.logSoftmax(t.qyLogits);
    const negKl = tf.neg(tf.add(tf.sum(tf.mul(tf.exp(logq), logq), -1), Math.log(K)));
    return tf.add(tf.add(tf.sub(a.logPx, a.logQz), negKl), a.logPz);
  });
}

/**
 * Bound (9) on log q(x, y) per row, [N]: the reverse model's labelled bound, z ~ p(z) (p(z) is the
 * reverse model's recognition density), no x to draw:
 *
 *   (log q(y|x) + log q(z|x,y)) + (log q(x) − log p(z)).
 *
 * @throws Error when the terms' row counts differ.
 */
export function reverseLabelledBound(t: Semi2ReverseLabelledTerms): tf.Tensor {
  checkRows('reverseLabelledBound', t.logQy.size, t);
  return tf.tidy(() => tf.add(tf.add(t.logQy, t.logQz), minus(t.logQx, t.logPz)));
}

/** Options of the unfeatured reverse bounds. */
export interface ReverseBoundOptions {
  /**
   * Keep −log p(x | y, z), the entropy term of the reverse model's recognition density (default
   * true, the papers' bound). false is {@link Semi2Weights.reverseEntropy}'s variant.
   */
  entropy?: boolean;
}

/**
 * Bound (20) on log q(y, z) per row, [N] (`000_…` appendix A.1; `002_…` appendix B eq 17): the
 * unfeatured reverse bound with z observed, x ~ p(x | y, z),
 *
 *   ((log q(y|x) + log q(z|x,y)) + log q(x)) − log p(x|y,z)
 *
 * (the last term left out with `entropy: false`).
 * @throws Error when the terms' row counts differ.
 */
export function reverseObservedBound(t: Omit<Semi2UnfeaturedTerms, 'logPz'>, opts: ReverseBoundOptions = {}): tf.Tensor {
  checkRows('reverseObservedBound', t.logQy.size, { logQy: t.logQy, logQz: t.logQz, logPx: t.logPx, logQx: t.logQx });
  return tf.tidy(() => {
    const b = tf.add(tf.add(t.logQy, t.logQz), t.logQx);
    return opts.entropy === false ? b : tf.sub(b, t.logPx);
  });
}

/**
 * Bound (10) on log q(y) per row, [N]: the unfeatured reverse bound, z ~ p(z), x ~ p(x | y, z),
 *
 *   (((log q(y|x) + log q(z|x,y)) + log q(x)) − log p(x|y,z)) − log p(z)
 *
 * — bound (20) at the drawn z, less log p(z) (the −log p(x|y,z) term left out with `entropy: false`).
 * @throws Error when `logPz` is absent or the terms' row counts differ.
 */
export function reverseUnfeaturedBound(t: Semi2UnfeaturedTerms, opts: ReverseBoundOptions = {}): tf.Tensor {
  const logPz = t.logPz;
  if (logPz === undefined) throw new Error('reverseUnfeaturedBound: bound (10) needs log p(z) of the z drawn from p(z) (with z observed, use bound (20), reverseObservedBound)');
  checkRows('reverseUnfeaturedBound', t.logQy.size, { logPz });
  return tf.tidy(() => tf.sub(reverseObservedBound(t, opts), logPz));
}

/**
 * The unfeatured reverse bound of the terms, per row [N]: (10) ({@link reverseUnfeaturedBound})
 * when they carry log p(z) (z drawn from p(z)), else (20) ({@link reverseObservedBound}, z observed).
 * @throws Error when the terms' row counts differ.
 */
export function unfeaturedBound(t: Semi2UnfeaturedTerms, opts: ReverseBoundOptions = {}): tf.Tensor {
  return t.logPz === undefined ? reverseObservedBound(t, opts) : reverseUnfeaturedBound(t, opts);
}

/**
 * The discriminative loss (13) per row, [N]: L(ȳ, y) between the mean ȳ of q(y | x), clipped to
 * [1e-6, 1], and the labels y:
 * - `kl` (default, the papers' choice): KL(y ‖ ȳ) = Σ_k y_k (log max(y_k, 1e-6) − log ȳ_k);
 * - `l2`: Σ_k (ȳ_k − y_k)²;
 * - `ce`: −Σ_k y_k log ȳ_k.
 * @param yBar ȳ, [N, K]. @param y labels on the simplex (or one-hot), [N, K].
 * @throws Error when the shapes differ or `kind` is unknown.
 */
export function labelLoss(yBar: tf.Tensor, y: tf.Tensor, kind: Semi2LabelLossKind = 'kl'): tf.Tensor {
  if (yBar.rank !== 2 || y.rank !== 2 || yBar.shape[0] !== y.shape[0] || yBar.shape[1] !== y.shape[1]) {
    throw new Error(`labelLoss: ȳ [${yBar.shape}] and y [${y.shape}] must both be [N, K]`);
  }
  if (kind !== 'kl' && kind !== 'l2' && kind !== 'ce') throw new Error(`labelLoss: unknown kind '${String(kind)}' (valid: kl, l2, ce)`);
  return tf.tidy(() => {
    const yb = tf.clipByValue(yBar, EPS, 1);
    if (kind === 'l2') return tf.sum(tf.square(tf.sub(yb, y)), -1);
    if (kind === 'ce') return tf.neg(tf.sum(tf.mul(y, tf.log(yb)), -1));
    return tf.sum(tf.mul(y, tf.sub(tf.log(tf.clipByValue(y, EPS, 1)), tf.log(yb))), -1);
  });
}

/**
 * The discriminative loss (13) for real labels per row, [N], in standardised units (see
 * {@link Semi2Predicted}): with `kind` `kl` or `ce` and an sd given, the negative log-density of a
 * point mass y under q (KL(δ_y ‖ q) up to δ_y's constant entropy, i.e. the cross-entropy),
 *
 *   −log N(u; m, diag s²) = Σ_k [½((u_k − m_k)/s_k)² + log s_k + ½ log 2π];
 *
 * with `l2` (or no sd), the squared error Σ_k (m_k − u_k)². Nothing is clipped.
 * @param m the mean of q(u | x), [N, K]. @param u standardised labels, [N, K]. @param sd s of q(u | x), [N, K].
 * @throws Error when the shapes differ or `kind` is unknown.
 */
export function realLabelLoss(m: tf.Tensor, u: tf.Tensor, sd: tf.Tensor | undefined, kind: Semi2LabelLossKind = 'kl'): tf.Tensor {
  const same = (a: tf.Tensor) => a.rank === 2 && a.shape[0] === u.shape[0] && a.shape[1] === u.shape[1];
  if (u.rank !== 2 || !same(m) || (sd && !same(sd))) throw new Error(`realLabelLoss: m [${m.shape}], u [${u.shape}]${sd ? ` and sd [${sd.shape}]` : ''} must all be [N, K]`);
  if (kind !== 'kl' && kind !== 'l2' && kind !== 'ce') throw new Error(`realLabelLoss: unknown kind '${String(kind)}' (valid: kl, l2, ce)`);
  return tf.tidy(() => {
    if (kind === 'l2' || !sd) return tf.sum(tf.square(tf.sub(m, u)), -1);
    const r = tf.div(tf.sub(u, m), sd);
    return tf.sum(tf.add(tf.add(tf.mul(tf.square(r), 0.5), tf.log(sd)), 0.5 * Math.log(2 * Math.PI)), -1);
  });
}

/** Loss (13) of a {@link Semi2Predicted}: {@link realLabelLoss} for real labels, else {@link labelLoss}. */
export function predictedLoss(p: Semi2Predicted, kind: Semi2LabelLossKind = 'kl'): tf.Tensor {
  return p.real ? realLabelLoss(p.yBar, p.y, p.real.sd, kind) : labelLoss(p.yBar, p.y, kind);
}

/**
 * The discriminative loss (14) per row, [N]: ‖x̄ − x‖² = Σ_d (x̄_d − x_d)², x̄ the mean of
 * p(x | y, z) at z ~ p(z).
 * @param xBar x̄, [N, D]. @param x the inputs, [N, D].
 * @throws Error when the shapes differ.
 */
export function inputLoss(xBar: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (xBar.rank !== 2 || xBar.shape[0] !== x.shape[0] || xBar.shape[1] !== x.shape[1]) throw new Error(`inputLoss: x̄ [${xBar.shape}] and x [${x.shape}] must both be [N, D]`);
  return tf.tidy(() => tf.sum(tf.square(tf.sub(xBar, x)), -1));
}

/**
 * The deterministic mode's reconstruction error of x per row, [N]: the squared error ‖x̄ − x‖²
 * (Gaussian x; the limit of −log p(x | ȳ, z̄) up to scale and constant), or the cross-entropy
 * −Σ_d [x_d log p̄_d + (1 − x_d) log(1 − p̄_d)], p̄ = x̄ clipped to [1e-6, 1 − 1e-6] (Bernoulli x).
 * @param xBar x̄, [N, D]. @param x the inputs, [N, D].
 * @throws Error when the shapes differ.
 */
export function reconstructionLoss(xBar: tf.Tensor, x: tf.Tensor, likelihood: 'gaussian' | 'bernoulli'): tf.Tensor {
  if (likelihood === 'gaussian') return inputLoss(xBar, x);
  if (xBar.rank !== 2 || xBar.shape[0] !== x.shape[0] || xBar.shape[1] !== x.shape[1]) throw new Error(`reconstructionLoss: x̄ [${xBar.shape}] and x [${x.shape}] must both be [N, D]`);
  return tf.tidy(() => {
    const p = tf.clipByValue(xBar, EPS, 1 - EPS);
    return tf.neg(tf.sum(tf.add(tf.mul(x, tf.log(p)), tf.mul(tf.sub(1, x), tf.log(tf.sub(1, p)))), -1));
  });
}

/** B for n rows of k sample-major draws (`checkRows` of `semi-supervised.ts`). */
const drawsOf = (fn: string, n: number, k: number): number => rowsPerDraw(fn, n, k, 'draws');

/**
 * Importance log-weights of log p(x, y) (Burda et al. 2015; thesis `003_…` eq 3.31), [k, B], from
 * the terms of (7) at k draws of B rows, sample-major (row j·B + b):
 *
 *   log w = log p(x | y, z) + log p(y) + log p(z) − log q(z | x, y)   ({@link forwardLabelledBound}).
 *
 * @throws Error when k is not an integer ≥ 1 or does not divide the rows.
 */
export function semi2LabelledLogWeights(t: Semi2ForwardTerms, k: number): tf.Tensor {
  const B = drawsOf('semi2LabelledLogWeights', t.logPx.size, k);
  return tf.tidy(() => tf.reshape(forwardLabelledBound(t), [k, B]));
}

/**
 * Importance log-weights of log p(x) with a discrete y summed exactly inside each weight, [k, B]:
 *
 *   log w = log Σ_y exp[log p(x | y, z_y) + log p(y) + log p(z_y) − log q(z_y | x, y)],
 *
 * one z_y ~ q(z | x, y) per class, from the terms of (7) for K·k·B rows: class-major, each class's
 * rows sample-major (row c·k·B + j·B + b). E[w] = p(x); no q(y | x) is needed.
 * @throws Error when K or k is not an integer ≥ 1 or the rows do not divide into them.
 */
export function semi2EnumeratedLogWeights(perClass: Semi2ForwardTerms, K: number, k: number): tf.Tensor {
  if (!Number.isInteger(K) || K < 1) throw new Error(`semi2EnumeratedLogWeights: K must be an integer ≥ 1, got ${K}`);
  if (perClass.logPx.size % K !== 0) throw new Error(`semi2EnumeratedLogWeights: ${perClass.logPx.size} rows do not divide into ${K} classes`);
  const B = drawsOf('semi2EnumeratedLogWeights', perClass.logPx.size / K, k);
  return tf.tidy(() => tf.logSumExp(tf.reshape(forwardLabelledBound(perClass), [K, k, B]), 0));
}

/**
 * Importance log-weights of log p(x) with the proposal q(y | x) q(z | x, y) (simplex labels), [k, B],
 * from the terms of (7) at k draws (y, z) of B rows, sample-major, and log q(y | x) of the drawn y:
 *
 *   log w = (log p(x | y, z) − log q(z | x, y) + log p(y) + log p(z)) − log q(y | x).
 *
 * @throws Error when k is not an integer ≥ 1 or does not divide the rows, or the row counts differ.
 */
export function semi2SampledLogWeights(t: Semi2ForwardTerms, logQy: tf.Tensor, k: number): tf.Tensor {
  checkRows('semi2SampledLogWeights', t.logPx.size, { logQy });
  const B = drawsOf('semi2SampledLogWeights', t.logPx.size, k);
  return tf.tidy(() => tf.reshape(tf.sub(forwardLabelledBound(t), logQy), [k, B]));
}

/**
 * Checks the weights of {@link semi2Loss} / {@link semi2PointLoss}.
 * @throws Error naming the first bad weight: an α < 0 or NaN, `unlabelledQy` outside [0, 1],
 *   `qyPrior` < 0, `qyPriorRows` < 1.
 */
export function checkSemi2Weights(w: Semi2Weights): void {
  for (const [k, v] of Object.entries({ alphaF: w.alphaF, alphaFd: w.alphaFd, alphaR: w.alphaR, alphaRd: w.alphaRd })) {
    if (!(v >= 0)) throw new Error(`${k} must be ≥ 0, got ${v}`);
  }
  const u = w.unlabelledQy ?? 1;
  if (!(u >= 0 && u <= 1)) throw new Error(`unlabelledQy must be in [0, 1], got ${u}`);
  if (!((w.qyPrior ?? 0) >= 0)) throw new Error(`qyPrior must be ≥ 0, got ${w.qyPrior}`);
  if (!((w.qyPriorRows ?? 1) >= 1)) throw new Error(`qyPriorRows must be ≥ 1, got ${w.qyPriorRows}`);
}

/** The first-layer weights of q(y | x) and their fan-in m, for {@link Semi2Weights.qyPrior}. */
export type Semi2QyFirstLayer = { W: tf.Tensor; fanIn: number };

/**
 * The sources of one training batch for {@link semi2Loss}, each absent when the batch lacks it.
 * Terms are given as functions, called only when their weight is non-zero (so a term weighted 0
 * runs no network and draws no noise), in the order listed here: labelled (7), (13), (9), (14),
 * then unlabelled (8), then unfeatured (10)/(20). Models that share one random generator across
 * the terms rely on that order.
 */
export interface Semi2Sources {
  /** Labelled pairs (x, y). */
  labelled?: {
    /** Terms of (7), one z ~ q(z | x, y) per row. */
    forward: () => Semi2ForwardTerms;
    /** ȳ of q(y | x) beside y, for (13). */
    predicted: () => Semi2Predicted;
    /** Terms of (9), one z ~ p(z) per row (used when {@link Semi2Weights.reverseLabelled}). */
    reverse: () => Semi2ReverseLabelledTerms;
    /** x̄ of p(x | y, z), z ~ p(z), beside x, for (14). */
    generated: () => Semi2Generated;
  };
  /** Unlabelled x: terms of (8). */
  unlabelled?: () => Semi2UnlabelledTerms;
  /** Unfeatured y (with or without an observed z): terms of (10) or (20). */
  unfeatured?: () => Semi2UnfeaturedTerms;
  /** q(y | x)'s first layer, for {@link Semi2Weights.qyPrior} (needed only when it is > 0). */
  qyFirstLayer?: Semi2QyFirstLayer;
}

/** Accumulates weight · mean(term) into J, skipping (not calling) terms of weight 0. */
class Accumulator {
  j: tf.Tensor = tf.scalar(0);
  add(weight: number, term: () => tf.Tensor): void {
    if (weight !== 0) this.j = tf.add(this.j, tf.mul(tf.mean(term()), weight));
  }
  /** The log-density of {@link Semi2Weights.qyPrior}'s Gaussian prior, once per step: −c·m·‖W‖² / (2 N). */
  qyPrior(w: Semi2Weights, layer: Semi2QyFirstLayer | undefined): void {
    const prior = w.qyPrior ?? 0;
    if (!(prior > 0)) return;
    if (!layer) throw new Error('semi2 objective: qyPrior > 0 needs the first layer of q(y | x) (qyFirstLayer)');
    this.add(-(prior * layer.fanIn) / (2 * (w.qyPriorRows ?? 1)), () => tf.sum(tf.square(layer.W)));
  }
}

/**
 * The semi² objective (15) as a loss to minimise, −J, with per-source batch means:
 *
 *   J = α_f [mean_l (7) + mean_u (8)] − α_f^d mean_l (13) + α_r [mean_l (9) + mean_f (10 | 20)] − α_r^d mean_l (14)
 *       − c·m·‖W‖² / (2 N)
 *
 * (9) only with `reverseLabelled`; (10) or (20) as the unfeatured terms carry log p(z) or not, with
 * or without the entropy term (`reverseEntropy`); the last line only with `qyPrior` c > 0. Summed
 * in the order: the prior, then the labelled (7), (13), (9), (14), the unlabelled (8), the
 * unfeatured (10)/(20) — each term weighted 0 is skipped without calling its source function.
 * `unlabelledQy` and `reverseTrainsQ` act on gradients: the model applies them inside the source
 * functions (`nn/params.ts` `withGradientScale`); they are validated here.
 * @returns a scalar (0 when no source is present).
 * @throws Error on invalid weights ({@link checkSemi2Weights}), or `qyPrior` > 0 without `qyFirstLayer`.
 */
export function semi2Loss(sources: Semi2Sources, w: Semi2Weights): tf.Scalar {
  checkSemi2Weights(w);
  return tf.tidy(() => {
    const acc = new Accumulator();
    acc.qyPrior(w, sources.qyFirstLayer);
    const l = sources.labelled;
    if (l) {
      acc.add(w.alphaF, () => forwardLabelledBound(l.forward()));
      acc.add(-w.alphaFd, () => predictedLoss(l.predicted(), w.yLoss ?? 'kl'));
      if (w.reverseLabelled) acc.add(w.alphaR, () => reverseLabelledBound(l.reverse()));
      acc.add(-w.alphaRd, () => {
        const { xBar, x } = l.generated();
        return inputLoss(xBar, x);
      });
    }
    const u = sources.unlabelled;
    if (u) acc.add(w.alphaF, () => forwardUnlabelledBound(u()));
    const f = sources.unfeatured;
    if (f) acc.add(w.alphaR, () => unfeaturedBound(f(), { entropy: w.reverseEntropy ?? true }));
    return tf.neg(acc.j) as tf.Scalar;
  });
}

/**
 * The sources of one batch for {@link semi2PointLoss}: point estimates instead of densities.
 * Called only when their weight is non-zero, in the order listed.
 */
export interface Semi2PointSources {
  /** Labelled pairs: ȳ of q(y | x) for (13), and x̄ of p(x | y, z), z ~ p(z), for (14). */
  labelled?: { predicted: () => Semi2Predicted; generated: () => Semi2Generated };
  /** Unlabelled x: x̄ = mean of p(x | ȳ, z̄), ȳ = ȳ(x), z̄ the median of q(z | x, ȳ); and x's likelihood. */
  unlabelled?: () => Semi2Generated & { likelihood: 'gaussian' | 'bernoulli' };
  /** Unfeatured y: ȳ of q(y | x̄), x̄ = mean of p(x | y, z), z observed or drawn from p(z). */
  unfeatured?: () => Semi2Predicted;
  /** q(y | x)'s first layer, for {@link Semi2Weights.qyPrior}. */
  qyFirstLayer?: Semi2QyFirstLayer;
}

/**
 * The deterministic mode's loss (`variational: false`; the reference implementation's
 * non-variational `M2_x` / `M2_y` terms, `imgemp/untapped` `untapped/M12.py`): every distribution
 * collapses to its point estimate and the bounds become reconstruction errors,
 *
 *   −J = α_f^d mean_l (13) + α_r^d mean_l (14) + α_f mean_u {@link reconstructionLoss}(x̄(ȳ(x), z̄), x)
 *        + α_r mean_f L(ȳ(x̄(y, z)), y) + c·m·‖W‖² / (2 N)
 *
 * — labelled pairs give the discriminative losses only (the reference zeroes its supervised bounds
 * in this mode so as not to count them twice). Order: the prior, (13), (14), unlabelled, unfeatured.
 * @throws Error on invalid weights ({@link checkSemi2Weights}), or `qyPrior` > 0 without `qyFirstLayer`.
 */
export function semi2PointLoss(sources: Semi2PointSources, w: Semi2Weights): tf.Scalar {
  checkSemi2Weights(w);
  return tf.tidy(() => {
    const acc = new Accumulator();
    acc.qyPrior(w, sources.qyFirstLayer);
    const kind = w.yLoss ?? 'kl';
    const l = sources.labelled;
    if (l) {
      acc.add(-w.alphaFd, () => predictedLoss(l.predicted(), kind));
      acc.add(-w.alphaRd, () => {
        const { xBar, x } = l.generated();
        return inputLoss(xBar, x);
      });
    }
    const u = sources.unlabelled;
    if (u) {
      acc.add(-w.alphaF, () => {
        const { xBar, x, likelihood } = u();
        return reconstructionLoss(xBar, x, likelihood);
      });
    }
    const f = sources.unfeatured;
    if (f) {
      acc.add(-w.alphaR, () => predictedLoss(f(), kind));
    }
    return tf.neg(acc.j) as tf.Scalar;
  });
}
