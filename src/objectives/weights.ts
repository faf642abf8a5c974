/**
 * Default weight of the discriminative (label) term in semi-supervised objectives: thesis `003_…`
 * eq 4.10 (J^α = J + α·E_labelled[−log q(y | x)]) and the α_f^d of `000_…` eq 15.
 *
 * Derivation. Every objective here takes per-source batch means, so the labelled and the unlabelled
 * rows already weigh the same whatever their counts (Kingma et al.'s α = 0.1·N for a sum over the
 * data set becomes 0.1·N/N_l for per-source means, the 60 of the MNIST-100 experiments). What that
 * rule leaves out is the input width. The unlabelled bound's gradient on the parameters φ of q(y | x)
 * is ∇_φ E_q(y|x)[log p(x | y, z)] + …, and log p(x | y, z) is a sum of D channel terms, each
 * contributing (x_d − μ_d)/σ_d² · ∂μ_d/∂y; at a fitted decoder every channel adds a term of order
 * one, so the pull grows like D (and like 1/σ as the learned noise shrinks). The label term
 * −log q(y | x) is a single observation of order one. Measured on the real NIR sets at the papers'
 * weight (D = 351 and 401 channels, `docs/semi-supervised-real.md`): ‖∇_φ U‖ is 5–140× ‖∇_φ(−log q)‖
 * and the labelled rows stop being fitted (training error 0.72 against 0.13 without unlabelled
 * rows). Weighting the label term by D puts one label on the footing of one input row, channel for
 * channel: α = D. For binarised MNIST (D = 784) this lands between the MNIST-100 experiments' α = 60
 * and the ADGM authors' α = 1200, where M2 did best here (`docs/semi-supervised.md`).
 *
 * It is a default, not a law: the paper experiments pass their own weights.
 */

/**
 * α for inputs of `inputDim` channels: the input width D (see the module doc).
 * @param inputDim D, the number of input channels (pixels, wavelengths), an integer ≥ 1.
 * @returns α = D.
 * @throws if `inputDim` is not a positive integer.
 */
export function labelWeight(inputDim: number): number {
  if (!Number.isInteger(inputDim) || inputDim < 1) throw new Error(`labelWeight: inputDim must be an integer ≥ 1, got ${inputDim}`);
  return inputDim;
}
