/** Reporting: image grids (PNG), charts (Vega-Lite specs rendered to SVG and PNG), latent-space views. */
export * from './png.js';
export * from './chart.js';
export { chartFontFiles, compileChart, fontAdvances, renderChart, renderChartSync, CHART_FONT, type RenderedChart, type RenderOptions } from './render.js';
export * from './latent.js';
