/** Engine layer: backend choice, kernel fixes, seeded randomness, numeric constants. */
export * from './backend.js';
export * from './kernels.js';
export * from './rng.js';
export * from './ops.js';
