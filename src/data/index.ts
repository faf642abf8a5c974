/** Data layer: IDX parsing, two moons, simulated CRISM and LIBS spectra, dataset helpers, column selection, binarisation, labelled subsets, minibatches, table sources. Files and MNIST are the Node entry's. */
export * from './dataset.js';
export * from './idx.js';
export * from './binarize.js';
export * from './subset.js';
export * from './batches.js';
export * from './moons.js';
export * from './columns.js';
export * from './spectra.js';
export * from './libs.js';
export * from './unfeatured.js';
export * from './sources.js';
export * from './preprocess.js';
