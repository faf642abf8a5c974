/**
 * Per-term diagnostics of the semi²-supervised objective (`000_…` eq 15) during training: the size
 * of each term and of the gradient it sends into the parameters φ of q(y | x), as written and as
 * weighted. It is what showed that the unlabelled bound swamps the label term on real spectra
 * (`docs/semi-supervised-real.md`); `real-nir` and `libs` record it at every evaluation.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng.js';
import type { Semi2Dgm, Semi2Weights } from '../models/semi2.js';

/** One evaluation's term sizes (per-row means over the given sets, one Monte Carlo draw) and ‖∇_φ‖ over q(y | x)'s parameters. */
export interface Semi2TermDiagnostics {
  /** Bound (7) on the labelled rows, (8) on the unlabelled rows, (20) on the unfeatured labels (z ~ p(z)); nats per row. */
  boundLabelled: number;
  boundUnlabelled: number | null;
  boundUnfeatured: number | null;
  /** Label loss (13) on the labelled rows. */
  labelLoss: number;
  /** ‖∇_φ‖ of each term as written. */
  gradUnlabelled: number | null;
  gradLabel: number;
  gradUnfeatured: number | null;
  /** The same, times the term's weight in the objective (and `unlabelledQy` for the unlabelled bound). */
  gradUnlabelledWeighted: number | null;
  gradLabelWeighted: number;
  gradUnfeaturedWeighted: number | null;
  /** Mean σ of p(x | y, z) on the labelled rows at z = the median of q(z | x, y) (NaN for Bernoulli x). */
  decoderSigma: number;
}

/** Global norm of the gradients, read back once (a parameter the term does not depend on has a null gradient: 0). */
function norm(grads: tf.NamedTensorMap): number {
  const gs = Object.values(grads).filter((g): g is tf.Tensor => g != null);
  if (gs.length === 0) return 0;
  return Math.sqrt(tf.tidy(() => tf.addN(gs.map((g) => tf.sum(tf.square(g)))).dataSync()[0]));
}

/** Value and ‖∇_vars‖ of a scalar term (tensors freed). */
function termAndGrad(f: () => tf.Scalar, vars: tf.Variable[]): [number, number] {
  const { value, grads } = tf.variableGrads(f, vars);
  const out: [number, number] = [value.dataSync()[0], norm(grads)];
  tf.dispose([value, ...Object.values(grads).filter((g): g is tf.Tensor => g != null)]);
  return out;
}

/**
 * The diagnostics of `m` on labelled rows (x_l [n_l, D], y_l [n_l, K]), optional unlabelled rows
 * x_u [n_u, D] and unfeatured labels y_f [n_f, K], with inputs as the model sees them (centred if
 * the model was trained centred). `w` are the weights of the objective being trained.
 */
export function semi2TermDiagnostics(m: Semi2Dgm, t: { xl: tf.Tensor; yl: tf.Tensor; xu?: tf.Tensor; yf?: tf.Tensor }, w: Semi2Weights, rng: Rng): Semi2TermDiagnostics {
  const qy = m.params.entries().filter(([name]) => name.startsWith('qy.')).map(([, v]) => v);
  const boundLabelled = tf.tidy(() => tf.mean(m.boundLabelledForward(t.xl, t.yl, rng)).dataSync()[0]);
  const [labelLoss, gradLabel] = termAndGrad(() => tf.mean(m.lossY(t.xl, t.yl, w.yLoss ?? 'kl')) as tf.Scalar, qy);
  const [boundUnlabelled, gradUnlabelled] = t.xu ? termAndGrad(() => tf.mean(m.boundUnlabelled(t.xu!, rng)) as tf.Scalar, qy) : [null, null];
  const [boundUnfeatured, gradUnfeatured] = t.yf ? termAndGrad(() => tf.mean(m.boundUnfeatured(t.yf!, rng)) as tf.Scalar, qy) : [null, null];
  const decoderSigma = tf.tidy(() => {
    const p = m.px(t.yl, m.encodeMedian(t.xl, t.yl)) as unknown as { scale?: tf.Tensor };
    return p.scale ? tf.mean(p.scale).dataSync()[0] : NaN;
  });
  return {
    boundLabelled,
    boundUnlabelled,
    boundUnfeatured,
    labelLoss,
    gradUnlabelled,
    gradLabel,
    gradUnfeatured,
    gradUnlabelledWeighted: gradUnlabelled === null ? null : gradUnlabelled * w.alphaF * (w.unlabelledQy ?? 1),
    gradLabelWeighted: gradLabel * w.alphaFd,
    gradUnfeaturedWeighted: gradUnfeatured === null ? null : gradUnfeatured * w.alphaR,
    decoderSigma,
  };
}
