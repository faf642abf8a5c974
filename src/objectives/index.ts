/** Objectives: bounds from log-terms, KL warm-up and learning-rate schedules. */
export * from './bounds.js';
export * from './schedules.js';
