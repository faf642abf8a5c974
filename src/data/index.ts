/** Data layer: IDX files, MNIST, two moons, simulated CRISM and LIBS spectra, dataset helpers, column selection, binarisation, labelled subsets, minibatches. */
export * from './dataset.js';
export * from './idx.js';
export * from './mnist.js';
export * from './binarize.js';
export * from './subset.js';
export * from './batches.js';
export * from './moons.js';
export * from './columns.js';
export * from './spectra.js';
export * from './libs.js';
export * from './unfeatured.js';
export * from './sources.js';
