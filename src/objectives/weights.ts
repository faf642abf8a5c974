/**
 * Default weights of the semi-supervised objectives that mix labelled, unlabelled and unfeatured
 * rows: the label term's α of thesis `003_…` eq 4.10 (J^α = J + α·E_labelled[−log q(y | x)]) and
 * (α_f, α_f^d, α_r, α_r^d) of `000_…` eq 15.
 *
 * Derivation. Every objective here takes per-source batch means, so each source weighs the same
 * whatever its row count (Kingma et al.'s α = 0.1·N for a sum over the data set becomes 0.1·N/N_l
 * for per-source means, the 60 of the MNIST-100 experiments). What that rule leaves out is the input
 * width. The bounds (7), (8), (20) are per-row log-likelihood bounds, and log p(x | y, z) in them is a
 * sum of D channel terms: the unlabelled bound's gradient on the parameters φ of q(y | x),
 * ∇_φ E_q(y|x)[log p(x | y, z)] + …, collects (x_d − μ_d)/σ_d² · ∂μ_d/∂y from every channel and grows
 * like D (and like 1/σ as the learned noise shrinks). The label term −log q(y | x) is one observation
 * of order one. Measured on the real NIR sets at the papers' weights (D = 351 and 401 channels,
 * `docs/semi-supervised-real.md`), ‖∇_φ U‖ is tens to thousands of times ‖∇_φ(−log q)‖ and the
 * labelled rows stop being fitted. So:
 * - bounds, being per-row log-likelihoods, weigh 1: α_f = α_r = 1 (α_r^d = 1: its ‖x̄ − x‖² is a sum
 *   over the D channels already);
 * - the label term weighs D, one label on the footing of one input row channel for channel:
 *   α_f^d = D ({@link labelWeight}).
 * The reverse bound (20) then reaches q(y | x) through log q(y | x̃) of a generated x̃ at weight 1
 * against the real labels' D: the ratio α_r/α_f^d = 1/D is of the order of the papers' CRISM
 * setting (0.01/1), and where the labels are fitted their term vanishes and the generated spectra
 * shape q(y | x) between them. For binarised MNIST (D = 784), α = D lands between the MNIST-100
 * experiments' 60 and the ADGM authors' 1200, where M2 did best here (`docs/semi-supervised.md`).
 *
 * These are defaults, not laws: the paper experiments pass their own weights.
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
