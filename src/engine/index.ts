/** Engine layer: the host, backend choice, kernel fixes, optional native kernels, seeded randomness, numeric constants. */
export * from './backend.js';
export * from './kernels.js';
export * from './native.js';
export * from './rng.js';
export * from './ops.js';
export * from './host.js';
