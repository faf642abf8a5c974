/**
 * Objectives: bounds from log-terms, KL warm-up and learning-rate schedules, marginalising a
 * discrete variable (exact enumeration, Concrete), and the semi-supervised bounds and loss J^α.
 */
export * from './bounds.js';
export * from './schedules.js';
export * from './enumerate.js';
export * from './concrete.js';
export * from './semi-supervised.js';
export * from './weights.js';
export * from './semi2.js';
