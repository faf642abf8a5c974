/**
 * untapped: deep generative models for labelled pairs (x, y), unlabelled inputs x and unfeatured
 * labels y, on TensorFlow.js. This entry is the browser-safe core: it imports no Node module and
 * reads no `process`; what it needs from its runtime (environment, native kernels, storage for
 * checkpoints) it asks of the host (see {@link setHost}). Importing it has no side effects beyond
 * registering the tfjs backends (call {@link initEngine} to choose one). Files, MNIST, reports,
 * runs, experiments and benchmarks are in the Node entry, `untapped/node`.
 */
export * from './engine/index.js';
export * from './dists/index.js';
export * from './data/index.js';
export * from './nn/index.js';
export * from './objectives/index.js';
export * from './models/index.js';
export * from './train/index.js';
export * from './eval/index.js';
export * from './io/index.js';
export * from './config/index.js';
export * from './report/index.js';
