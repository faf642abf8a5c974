/**
 * Probability distributions (event = last axis; see {@link Distribution} for the shape and memory
 * rules) and the analytic KL registry.
 */
export * from './distribution.js';
export * from './normal.js';
export * from './bernoulli.js';
export * from './categorical.js';
export * from './concrete.js';
export * from './kl.js';
export * from './flows.js';
