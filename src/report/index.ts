/** Reporting: Vega-Lite chart specs and latent-space views, as data (the Node entry renders and writes them: PNG grids, chart files, HTML reports). */
export * from './chart.js';
export * from './latent.js';
