/**
 * untapped: deep generative models for labelled pairs (x, y), unlabelled inputs x and unfeatured
 * labels y, on TensorFlow.js. This entry re-exports the public API; importing it has no side effects
 * beyond registering the tfjs backends (call {@link initEngine} to choose one).
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
export * from './experiments/index.js';
export * from './bench/index.js';
