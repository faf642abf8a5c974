/** Evaluation: importance-weighted log-likelihood. */
export * from './loglik.js';
