/** Reporting: image grids, line charts and scatter plots as PNG files. */
export * from './png.js';
export * from './chart.js';
