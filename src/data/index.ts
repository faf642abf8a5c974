/** Data layer: IDX files, MNIST, dataset helpers, binarisation, labelled subsets, minibatches. */
export * from './dataset.js';
export * from './idx.js';
export * from './mnist.js';
export * from './binarize.js';
export * from './subset.js';
export * from './batches.js';
