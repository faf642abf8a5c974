/**
 * The chart writers (Node only): a spec of `report/chart.ts` rendered ({@link renderChartSync}) and
 * written as three files for `NAME.png`: the PNG, `NAME.svg` beside it, and `NAME.vl.json` (the
 * spec, which the HTML report embeds as an interactive view).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './files.js';
import { writePng } from './png.js';
import { renderChartSync, type RenderedChart } from './render.js';
import {
  chartDomains,
  heatmapSpec,
  lineChartSpec,
  scatterSpec,
  type ChartFrame,
  type ChartOptions,
  type ChartSpec,
  type HeatmapOptions,
  type LineChartOptions,
  type LineSeries,
  type ScatterOptions,
  type UnitActivityOptions,
  type UnitActivityRow,
  unitActivitySpec,
} from '../report/chart.js';

/** A rendered chart with its spec. */
export interface ChartImage extends RenderedChart {
  spec: ChartSpec;
}

function render(spec: ChartSpec, opts: ChartOptions): ChartImage {
  return { ...renderChartSync(spec, opts.scale === undefined ? {} : { scale: opts.scale }), spec };
}

/**
 * Writes a chart for `file` (a `.png` path): the PNG, the SVG beside it (`.svg`) and the spec
 * (`.vl.json`), each atomically, parent directories created. Returns the frame.
 */
export function writeChart(file: string, spec: ChartSpec, opts: Pick<ChartOptions, 'scale'> = {}, who = 'writeChart'): ChartFrame {
  if (typeof file !== 'string' || file.length === 0) throw new Error(`${who}: file must be a non-empty path`);
  const stem = file.replace(/\.png$/i, '');
  const files = { png: `${stem}.png`, svg: `${stem}.svg`, spec: `${stem}.vl.json` };
  const img = render(spec, opts);
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writePng(files.png, img.png);
  writeFileAtomic(files.svg, img.svg);
  writeFileAtomic(files.spec, JSON.stringify(spec) + '\n');
  const d = chartDomains(spec);
  return { width: img.width, height: img.height, xRange: d.x, yRange: d.y, files };
}

/** Renders a line chart (see {@link lineChartSpec}): spec, SVG and PNG. */
export function lineChart(series: LineSeries[], opts: LineChartOptions = {}): ChartImage {
  return render(lineChartSpec(series, opts, 'lineChart'), opts);
}

/** Writes a line chart (see {@link lineChartSpec}) as `file` (PNG), its `.svg` and `.vl.json`. */
export function lineChartPng(file: string, series: LineSeries[], opts: LineChartOptions = {}): ChartFrame {
  if (typeof file !== 'string' || file.length === 0) throw new Error('lineChartPng: file must be a non-empty path');
  return writeChart(file, lineChartSpec(series, opts, 'lineChartPng'), opts, 'lineChartPng');
}

/** Renders a scatter plot (see {@link scatterSpec}): spec, SVG and PNG. */
export function scatter(points: ArrayLike<number>, labels: ArrayLike<number>, opts: ScatterOptions = {}): ChartImage {
  return render(scatterSpec(points, labels, opts, 'scatter'), opts);
}

/** Writes a scatter plot (see {@link scatterSpec}) as `file` (PNG), its `.svg` and `.vl.json`. */
export function scatterPng(file: string, points: ArrayLike<number>, labels: ArrayLike<number>, opts: ScatterOptions = {}): ChartFrame {
  if (typeof file !== 'string' || file.length === 0) throw new Error('scatterPng: file must be a non-empty path');
  return writeChart(file, scatterSpec(points, labels, opts, 'scatterPng'), opts, 'scatterPng');
}

/** Writes a unit-activity heat map (see {@link unitActivitySpec}) as `file` (PNG), its `.svg` and `.vl.json`. */
export function unitActivityPng(file: string, models: UnitActivityRow[], opts: UnitActivityOptions = {}): ChartFrame {
  if (typeof file !== 'string' || file.length === 0) throw new Error('unitActivityPng: file must be a non-empty path');
  return writeChart(file, unitActivitySpec(models, opts, 'unitActivityPng'), opts, 'unitActivityPng');
}

/** Writes a heat map (see {@link heatmapSpec}) as `file` (PNG), its `.svg` and `.vl.json`. */
export function heatmapPng(file: string, matrix: ArrayLike<number>[], opts: HeatmapOptions = {}): ChartFrame {
  if (typeof file !== 'string' || file.length === 0) throw new Error('heatmapPng: file must be a non-empty path');
  return writeChart(file, heatmapSpec(matrix, opts, 'heatmapPng'), opts, 'heatmapPng');
}
