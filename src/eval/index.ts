/** Evaluation: importance-weighted log-likelihood, classification metrics, two-component PCA, PLS regression, composition and endmember errors, active units, split-conformal intervals and their coverage, the ELBO anomaly score and its threshold. */
export * from './loglik.js';
export * from './classify.js';
export * from './pca.js';
export * from './pls.js';
export * from './composition.js';
export * from './active-units.js';
export * from './interval.js';
export * from './anomaly.js';
