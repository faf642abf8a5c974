/** Reporting: image grids as PNG files. */
export * from './png.js';
