/**
 * `untapped/node`: the Node entry. Everything of the browser-safe core (`untapped`), plus what needs
 * Node: the Node host (registered when this module is imported: `process.env`, native kernels,
 * files as the trainer's storage), file I/O, MNIST, reports, runs and experiments, benchmarks.
 */
export * from './index.js';
export * from './node/index.js';
export * from './experiments/index.js';
export * from './bench/index.js';
