/** Benchmarks. */
export * from './bench.js';
export * from './profile.js';
