/** Reporting: image grids, line charts and scatter plots as PNG files, latent-space views. */
export * from './png.js';
export * from './chart.js';
export * from './latent.js';
