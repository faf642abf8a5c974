/**
 * The Node-only pieces of `untapped`: the Node host (environment, stderr, native kernels, file
 * storage; registered on import), files (atomic writes, `.utp` files, locks, what `--force` may
 * replace), reading tables / configs / IDX / endmember files / run sources, MNIST, and reports
 * (PNG grids, chart rendering and files, latent views, HTML reports).
 */
export * from './host.js';
export * from './files.js';
export * from './lock.js';
export * from './replace.js';
export * from './data.js';
export * from './mnist.js';
export * from './png.js';
export * from './render.js';
export * from './chart.js';
export * from './latent.js';
export * from './html.js';
