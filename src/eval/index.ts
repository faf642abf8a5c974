/** Evaluation: importance-weighted log-likelihood, classification metrics, two-component PCA. */
export * from './loglik.js';
export * from './classify.js';
export * from './pca.js';
