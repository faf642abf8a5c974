/** Data layer: IDX files, MNIST, two moons, dataset helpers, column selection, binarisation, labelled subsets, minibatches. */
export * from './dataset.js';
export * from './idx.js';
export * from './mnist.js';
export * from './binarize.js';
export * from './subset.js';
export * from './batches.js';
export * from './moons.js';
export * from './columns.js';
