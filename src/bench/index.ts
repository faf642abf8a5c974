/** Benchmarks. */
export * from './bench.js';
