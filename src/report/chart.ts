/**
 * Every chart the project draws, as a Vega-Lite spec built in one place: line charts (training
 * curves with the papers' reference lines, spectra and generated endmembers), scatter plots
 * (latent means, PCA, predicted against true with the 1:1 line) and heat maps (confusion matrices,
 * active units). The builders take plain data only (arrays, names, units: never tensors or file
 * paths), so the same specs serve a browser page (vega-lite and vega run there as they are).
 *
 * The Node entry renders a spec to SVG and PNG (`node/render.ts`) and has the file writers
 * (`lineChartPng`, `scatterPng`, `heatmapPng`, `writeChart`), which write three files for
 * `NAME.png`: the PNG, `NAME.svg` beside it, and `NAME.vl.json` (the spec, which the HTML report
 * embeds as an interactive view).
 */
import type { TopLevelSpec } from 'vega-lite';

/** A Vega-Lite specification (plain JSON). */
export type ChartSpec = TopLevelSpec;

/** The family name the charts ask for; the PNG renderer maps it (and `sans-serif`) to the DejaVu Sans files. */
export const CHART_FONT = 'DejaVu Sans';

/**
 * The colours of series (line charts) and classes (scatter plots), in order: ten hues chosen to be
 * told apart easily on white.
 */
export const CHART_COLORS: readonly string[] = ['#005ce6', '#e66100', '#009e73', '#d50032', '#8040c8', '#8c563c', '#e63cbe', '#646464', '#aaaa00', '#00b4dc'];

/** The colour of reference lines (papers' values, targets). */
export const REFERENCE_COLOR = '#444444';

/** One curve of a line chart: `y[i]` at `x[i]`. Non-finite `y` values leave a gap. */
export interface LineSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

/** A horizontal reference line (e.g. a paper's reported value), drawn dashed with its label. */
export interface HLine {
  y: number;
  label: string;
}

/** Options shared by every chart kind. */
export interface ChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Width of the whole image in pixels (default 720). */
  width?: number;
  /** Height of the whole image in pixels (default 450). */
  height?: number;
  /** PNG pixels per SVG unit (default 1; 2 for print). */
  scale?: number;
}

/** Options of {@link lineChartSpec} and {@link lineChartPng}. */
export interface LineChartOptions extends ChartOptions {
  /** Fixed y range [lo, hi]; by default the data and `hLines`, with a margin. Lines are clipped to it. */
  yRange?: [number, number];
  /** Horizontal reference lines, drawn dashed in dark grey with their labels. */
  hLines?: HLine[];
  /** Draw a dot at every point (default: when no series has more than 60 points). */
  points?: boolean;
}

/** Options of {@link scatterSpec} and {@link scatterPng}. */
export interface ScatterOptions extends ChartOptions {
  /** Legend text for class c (default: `String(c)`). */
  classNames?: string[];
  /** Radius of each point's disc in pixels (default 2.5, or 1.5 above 2000 points). */
  pointRadius?: number;
  /** Draw the 1:1 line y = x and give both axes the same range (predicted against true). */
  diagonal?: boolean;
}

/** Options of {@link heatmapSpec} and {@link heatmapPng}. */
export interface HeatmapOptions extends ChartOptions {
  /** Names of the rows (default 0, 1, …), shown on the y axis top to bottom. */
  rowNames?: string[];
  /** Names of the columns (default 0, 1, …), on the x axis left to right. */
  colNames?: string[];
  /** Legend title of the colour scale (default 'value'). */
  valueLabel?: string;
  /** Print each cell's value in it (default: up to 400 cells). */
  showValues?: boolean;
}

/** What a chart writer wrote and the ranges it drew. */
export interface ChartFrame {
  /** Size of the PNG in pixels. */
  width: number;
  height: number;
  /** The scales' domains (the nice-rounded ones of the axes may be a little wider). */
  xRange: [number, number];
  yRange: [number, number];
  /** The files written: the PNG, the SVG and the Vega-Lite spec. */
  files: { png: string; svg: string; spec: string };
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** The look shared by all charts: one font, no truncation of titles, legends or labels. */
function baseConfig() {
  return {
    font: CHART_FONT,
    background: 'white',
    view: { stroke: '#cccccc' },
    title: { fontSize: 14, subtitleFontSize: 11, limit: 0 },
    axis: { labelFontSize: 11, titleFontSize: 12, titleLimit: 0, labelLimit: 0, gridColor: '#e6e6e6' },
    legend: { labelFontSize: 11, titleFontSize: 11, labelLimit: 0, titleLimit: 0, symbolStrokeWidth: 2 },
  };
}

function checkSize(who: string, v: number | undefined, def: number, what: string): number {
  const n = v ?? def;
  if (!Number.isInteger(n) || n < 120 || n > 10000) throw new Error(`${who}: ${what} must be an integer in 120..10000 pixels, got ${n}`);
  return n;
}

/**
 * Splits a title into lines at spaces so that none is much wider than `width` pixels (an estimate
 * from the average advance of bold DejaVu Sans at 14 px); no word is ever cut or dropped.
 */
export function wrapTitle(title: string, width: number): string[] {
  const perLine = Math.max(12, Math.floor((width - 24) / 8.6));
  const words = title.split(/\s+/).filter((w) => w.length > 0);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && cur.length + 1 + w.length > perLine) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines;
}

/** The frame of a spec: size, autosize to fit the image, title, config. */
function frame(who: string, opts: ChartOptions) {
  const width = checkSize(who, opts.width, 720, 'width');
  const height = checkSize(who, opts.height, 450, 'height');
  const title = opts.title ? { title: { text: wrapTitle(opts.title, width), anchor: 'middle' as const } } : {};
  return { $schema: SCHEMA, width, height, autosize: { type: 'fit' as const, contains: 'padding' as const }, padding: 8, ...title, config: baseConfig() };
}

/** A range wide enough to draw: a single value v becomes v ± one unit of its leading digit (1 for 0). */
export function widenRange(lo: number, hi: number): [number, number] {
  if (hi > lo) return [lo, hi];
  const h = lo === 0 ? 1 : 10 ** Math.floor(Math.log10(Math.abs(lo)));
  return [lo - h, hi + h];
}

function margin([lo, hi]: [number, number], f = 0.05): [number, number] {
  const m = f * (hi - lo);
  return [lo - m, hi + m];
}

/** Distinct legend names: a repeated name gets " (2)", " (3)", … */
function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = (seen.get(n) ?? 0) + 1;
    seen.set(n, k);
    return k === 1 ? n : `${n} (${k})`;
  });
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * The Vega-Lite spec of a line chart of up to 10 series (colours {@link CHART_COLORS} in order),
 * with dashed reference lines `hLines` labelled at their right end. Non-finite y values break a line
 * (a diverged run shows as a gap). The x axis spans the data exactly (a single x value gets a range
 * around it, integer ticks for integer x such as epochs); the y axis covers the data and the
 * reference lines. Throws naming the series if its x and y lengths differ, it is empty, or an x
 * value is not finite; also if there are no series or no finite y at all.
 */
export function lineChartSpec(series: LineSeries[], opts: LineChartOptions = {}, who = 'lineChartSpec'): ChartSpec {
  if (!Array.isArray(series) || series.length === 0) throw new Error(`${who}: no series to draw`);
  if (series.length > CHART_COLORS.length) throw new Error(`${who}: at most ${CHART_COLORS.length} series, got ${series.length}`);
  const base = frame(who, opts);
  let xlo = Infinity;
  let xhi = -Infinity;
  let ylo = Infinity;
  let yhi = -Infinity;
  let integerX = true;
  let longest = 0;
  const names = uniqueNames(series.map((s) => String(s.name)));
  const rows: { series: string; x: number; y: number | null }[] = [];
  series.forEach((sr, k) => {
    const tag = `series ${k} ('${sr.name}')`;
    if (sr.x.length !== sr.y.length) throw new Error(`${who}: ${tag} has ${sr.x.length} x values but ${sr.y.length} y values`);
    if (sr.x.length === 0) throw new Error(`${who}: ${tag} has no points`);
    longest = Math.max(longest, sr.x.length);
    for (let i = 0; i < sr.x.length; i++) {
      const x = Number(sr.x[i]);
      if (!Number.isFinite(x)) throw new Error(`${who}: ${tag} has x[${i}] = ${x}; x values must be finite`);
      if (!Number.isInteger(x)) integerX = false;
      xlo = Math.min(xlo, x);
      xhi = Math.max(xhi, x);
      const y = Number(sr.y[i]);
      if (Number.isFinite(y)) {
        ylo = Math.min(ylo, y);
        yhi = Math.max(yhi, y);
      }
      rows.push({ series: names[k], x, y: finiteOrNull(y) });
    }
  });
  if (ylo === Infinity) throw new Error(`${who}: no finite y value in any series`);
  const hLines = opts.hLines ?? [];
  hLines.forEach((h, i) => {
    if (!Number.isFinite(h.y)) throw new Error(`${who}: hLines[${i}] ('${h.label}') has y = ${h.y}; it must be finite`);
  });
  let yDomain: [number, number];
  let fixedY = false;
  if (opts.yRange) {
    const [lo, hi] = opts.yRange;
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) throw new Error(`${who}: yRange must be two finite numbers [lo, hi] with lo < hi, got [${lo}, ${hi}]`);
    yDomain = [lo, hi];
    fixedY = true;
  } else {
    for (const h of hLines) {
      ylo = Math.min(ylo, h.y);
      yhi = Math.max(yhi, h.y);
    }
    yDomain = margin(widenRange(ylo, yhi));
  }
  const xDomain = widenRange(xlo, xhi);
  const xTitle = opts.xLabel ?? 'x';
  const yTitle = opts.yLabel ?? 'y';
  const showPoints = opts.points ?? longest <= 60;
  const x = { field: 'x', type: 'quantitative' as const, title: opts.xLabel ?? null, scale: { domain: xDomain, nice: false, zero: false }, axis: integerX ? { tickMinStep: 1, format: 'd' } : {} };
  const y = { field: 'y', type: 'quantitative' as const, title: opts.yLabel ?? null, scale: { domain: yDomain, nice: !fixedY, zero: false } };
  const layers: object[] = [
    {
      data: { values: rows },
      params: [{ name: 'zoom', select: { type: 'interval', encodings: ['x', 'y'] }, bind: 'scales' }],
      mark: { type: 'line', strokeWidth: 2, clip: true, invalid: 'break-paths-show-domains', point: showPoints ? { filled: true, size: 30 } : false, tooltip: true },
      encoding: {
        x,
        y,
        color: { field: 'series', type: 'nominal', title: null, scale: { domain: names, range: CHART_COLORS.slice(0, names.length) }, legend: { orient: 'right', symbolType: 'stroke' } },
        order: { field: 'x', type: 'quantitative' },
        tooltip: [
          { field: 'series', type: 'nominal', title: 'series' },
          { field: 'x', type: 'quantitative', title: xTitle },
          { field: 'y', type: 'quantitative', title: yTitle, format: '.4~g' },
        ],
      },
    },
  ];
  if (hLines.length) {
    const refs = hLines.map((h) => ({ y: h.y, label: String(h.label) }));
    layers.push(
      { data: { values: refs }, mark: { type: 'rule', color: REFERENCE_COLOR, strokeDash: [6, 4], strokeWidth: 1.5, clip: true }, encoding: { y: { field: 'y', type: 'quantitative' }, tooltip: [{ field: 'label', title: 'reference' }, { field: 'y', type: 'quantitative', title: yTitle }] } },
      { data: { values: refs }, mark: { type: 'text', color: REFERENCE_COLOR, align: 'right', baseline: 'bottom', dx: -4, dy: -3, fontSize: 11, clip: true }, encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 'width' }, text: { field: 'label' } } },
    );
  }
  return { ...base, layer: layers } as unknown as ChartSpec;
}

/**
 * The Vega-Lite spec of a scatter plot of the `n` points in `points` (`n × 2`, row-major: x then y),
 * point `i` coloured by class `labels[i]` (an integer in 0..9, colours {@link CHART_COLORS}), with a
 * legend of the classes present; `diagonal` adds the 1:1 line. Throws on a length mismatch, no
 * points, a bad label or a non-finite coordinate (naming the point).
 */
export function scatterSpec(points: ArrayLike<number>, labels: ArrayLike<number>, opts: ScatterOptions = {}, who = 'scatterSpec'): ChartSpec {
  if (points.length % 2 !== 0) throw new Error(`${who}: points must hold n × 2 values, got ${points.length}`);
  const n = points.length / 2;
  if (n === 0) throw new Error(`${who}: no points to draw`);
  if (labels.length !== n) throw new Error(`${who}: ${n} points but ${labels.length} labels`);
  const base = frame(who, opts);
  const K = CHART_COLORS.length;
  const present = new Array<boolean>(K).fill(false);
  const given = opts.classNames ?? [];
  const className = (c: number) => given[c] ?? String(c);
  let xlo = Infinity;
  let xhi = -Infinity;
  let ylo = Infinity;
  let yhi = -Infinity;
  const rows: { x: number; y: number; class: string }[] = [];
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= K) throw new Error(`${who}: point ${i} has label ${c}; labels must be integers in 0..${K - 1}`);
    present[c] = true;
    const x = points[2 * i];
    const y = points[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`${who}: point ${i} is (${x}, ${y}); coordinates must be finite`);
    xlo = Math.min(xlo, x);
    xhi = Math.max(xhi, x);
    ylo = Math.min(ylo, y);
    yhi = Math.max(yhi, y);
    rows.push({ x: +x.toPrecision(7), y: +y.toPrecision(7), class: className(c) });
  }
  const r = opts.pointRadius ?? (n > 2000 ? 1.5 : 2.5);
  if (!(r > 0 && r <= 20)) throw new Error(`${who}: pointRadius must lie in (0, 20], got ${r}`);
  let xDomain = margin(widenRange(xlo, xhi));
  let yDomain = margin(widenRange(ylo, yhi));
  if (opts.diagonal) {
    const both = margin(widenRange(Math.min(xlo, ylo), Math.max(xhi, yhi)));
    xDomain = both;
    yDomain = both;
  }
  const domain: string[] = [];
  const range: string[] = [];
  for (let c = 0; c < K; c++) {
    if (!present[c]) continue;
    domain.push(className(c));
    range.push(CHART_COLORS[c]);
  }
  const layers: object[] = [
    {
      data: { values: rows },
      params: [{ name: 'zoom', select: { type: 'interval', encodings: ['x', 'y'] }, bind: 'scales' }],
      mark: { type: 'circle', size: Math.PI * r * r, opacity: n > 2000 ? 0.6 : 0.85, clip: true, tooltip: true },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: opts.xLabel ?? null, scale: { domain: xDomain, zero: false } },
        y: { field: 'y', type: 'quantitative', title: opts.yLabel ?? null, scale: { domain: yDomain, zero: false } },
        color: { field: 'class', type: 'nominal', title: null, scale: { domain, range }, legend: { orient: 'right' } },
        tooltip: [
          { field: 'class', type: 'nominal', title: 'class' },
          { field: 'x', type: 'quantitative', title: opts.xLabel ?? 'x', format: '.4~g' },
          { field: 'y', type: 'quantitative', title: opts.yLabel ?? 'y', format: '.4~g' },
        ],
      },
    },
  ];
  if (opts.diagonal) {
    const [lo, hi] = xDomain;
    layers.push({
      data: { values: [{ x: lo, y: lo, x2: hi, y2: hi, label: '1:1 line' }] },
      mark: { type: 'rule', color: REFERENCE_COLOR, strokeDash: [6, 4], strokeWidth: 1.5, clip: true },
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, x2: { field: 'x2' }, y2: { field: 'y2' }, tooltip: { field: 'label' } },
    });
  }
  return { ...base, layer: layers } as unknown as ChartSpec;
}

/**
 * The Vega-Lite spec of a heat map of `matrix` (rows × columns of finite numbers; NaN leaves a cell
 * blank), row 0 at the top, with a colour legend and, for small matrices, each value printed in
 * its cell. Throws on an empty or ragged matrix or names of the wrong count.
 */
export function heatmapSpec(matrix: ArrayLike<number>[], opts: HeatmapOptions = {}, who = 'heatmapSpec'): ChartSpec {
  if (!Array.isArray(matrix) || matrix.length === 0 || matrix[0].length === 0) throw new Error(`${who}: the matrix is empty`);
  const R = matrix.length;
  const C = matrix[0].length;
  matrix.forEach((row, i) => {
    if (row.length !== C) throw new Error(`${who}: row ${i} has ${row.length} values, row 0 has ${C}`);
  });
  const rowNames = uniqueNames(opts.rowNames ?? Array.from({ length: R }, (_, i) => String(i)));
  const colNames = uniqueNames(opts.colNames ?? Array.from({ length: C }, (_, j) => String(j)));
  if (rowNames.length !== R) throw new Error(`${who}: ${rowNames.length} row names for ${R} rows`);
  if (colNames.length !== C) throw new Error(`${who}: ${colNames.length} column names for ${C} columns`);
  const base = frame(who, opts);
  const rows: { row: string; col: string; value: number | null }[] = [];
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < C; j++) {
      const v = Number(matrix[i][j]);
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      rows.push({ row: rowNames[i], col: colNames[j], value: finiteOrNull(v) });
    }
  }
  if (lo === Infinity) throw new Error(`${who}: no finite value in the matrix`);
  const valueLabel = opts.valueLabel ?? 'value';
  const showValues = opts.showValues ?? R * C <= 400;
  const mid = (lo + hi) / 2;
  const enc = {
    x: { field: 'col', type: 'ordinal', title: opts.xLabel ?? null, sort: colNames, axis: { labelAngle: 0 } },
    y: { field: 'row', type: 'ordinal', title: opts.yLabel ?? null, sort: rowNames },
  };
  const layers: object[] = [
    {
      mark: { type: 'rect', tooltip: true },
      encoding: {
        ...enc,
        color: { field: 'value', type: 'quantitative', title: valueLabel, scale: { scheme: 'blues', domain: widenRange(lo, hi) } },
        tooltip: [
          { field: 'row', type: 'ordinal', title: opts.yLabel ?? 'row' },
          { field: 'col', type: 'ordinal', title: opts.xLabel ?? 'column' },
          { field: 'value', type: 'quantitative', title: valueLabel, format: '.4~g' },
        ],
      },
    },
  ];
  if (showValues) {
    layers.push({
      mark: { type: 'text', fontSize: 10 },
      encoding: {
        ...enc,
        text: { field: 'value', type: 'quantitative', format: '.3~g' },
        color: { condition: { test: `datum.value > ${mid}`, value: 'white' }, value: 'black' },
      },
    });
  }
  return { ...base, data: { values: rows }, layer: layers } as unknown as ChartSpec;
}

/** One model's row of {@link unitActivitySpec}: its name and each unit's activity, one array per stochastic layer (bottom layer first). */
export interface UnitActivityRow {
  name: string;
  layers: ArrayLike<number>[];
}

/** Options of {@link unitActivitySpec} and {@link unitActivityPng}. */
export interface UnitActivityOptions extends ChartOptions {
  /** A unit is active when its activity exceeds this (default 0.01, Burda et al.'s). */
  threshold?: number;
  /** Name of the statistic in the legend and tooltips (default 'Cov_x(E_q[z_u | x])'). */
  valueLabel?: string;
}

/** Activities are drawn on a log10 scale; a value below 10^this (a variance of exactly 0) is drawn at it. */
export const UNIT_ACTIVITY_LOG10_FLOOR = -10;

/** One cell of a unit-activity heat map, as it stands in the spec's data. */
export interface UnitActivityCell {
  /** The row's name, as given. */
  model: string;
  /** The y-axis label: the name and its count of active units. */
  row: string;
  /** The x-axis label: the unit's index (1-based), prefixed by its layer (`z2:5`) when some row has several layers. */
  unit: string;
  layer: number;
  index: number;
  /** The activity as given. */
  activity: number;
  /** log10 of the activity, at least {@link UNIT_ACTIVITY_LOG10_FLOOR}: the value the colour shows. */
  log10: number;
  /** activity > threshold. */
  active: boolean;
}

/**
 * The Vega-Lite spec of a heat map of per-unit activity (`rect` marks): one row per model, one
 * column per latent unit (layer by layer), coloured by log10 of the activity — by default Burda et
 * al.'s A_u = Cov_x(E_q[z_u | x]). The colour scale breaks at the threshold: inactive units
 * (≤ threshold) in greys, paler the lower (never white, the colour of a unit a row does not have),
 * active ones in blues, darker the higher, so the boundary
 * shows as a change of hue; the legend marks the threshold and each row's label gives its count of
 * active units. Rows may have different numbers of units (a cell is drawn only where a unit
 * exists). Throws on no rows, a row without units, or an activity that is negative or not finite
 * (naming row, layer and unit).
 */
export function unitActivitySpec(models: UnitActivityRow[], opts: UnitActivityOptions = {}, who = 'unitActivitySpec'): ChartSpec {
  if (!Array.isArray(models) || models.length === 0) throw new Error(`${who}: no rows to draw`);
  const threshold = opts.threshold ?? 0.01;
  if (!(threshold > 0 && Number.isFinite(threshold))) throw new Error(`${who}: threshold must be a finite number > 0, got ${threshold}`);
  const t = Math.log10(threshold);
  const names = uniqueNames(models.map((m) => String(m.name)));
  const multiLayer = models.some((m) => m.layers.length > 1);
  const unitName = (l: number, i: number) => (multiLayer ? `z${l + 1}:${i + 1}` : String(i + 1));
  const columns: { layer: number; index: number }[] = [];
  const seen = new Set<string>();
  const cells: UnitActivityCell[] = [];
  let lo = Infinity;
  let hi = -Infinity;
  const rowLabels: string[] = [];
  models.forEach((m, r) => {
    const tag = `row ${r} ('${m.name}')`;
    if (!Array.isArray(m.layers) || m.layers.length === 0 || m.layers.some((l) => l.length === 0)) throw new Error(`${who}: ${tag} has a layer without units (or no layers)`);
    const mine: Omit<UnitActivityCell, 'row'>[] = [];
    m.layers.forEach((vals, l) => {
      for (let i = 0; i < vals.length; i++) {
        const a = Number(vals[i]);
        if (!Number.isFinite(a) || a < 0) throw new Error(`${who}: ${tag}, layer ${l + 1}, unit ${i + 1} has activity ${a}; it must be finite and ≥ 0`);
        const v = a > 0 ? Math.max(UNIT_ACTIVITY_LOG10_FLOOR, Math.log10(a)) : UNIT_ACTIVITY_LOG10_FLOOR;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
        if (!seen.has(`${l}:${i}`)) {
          seen.add(`${l}:${i}`);
          columns.push({ layer: l, index: i });
        }
        mine.push({ model: names[r], unit: unitName(l, i), layer: l + 1, index: i + 1, activity: a, log10: v, active: a > threshold });
      }
    });
    const label = `${names[r]}: ${mine.filter((c) => c.active).length} of ${mine.length} active`;
    rowLabels.push(label);
    for (const c of mine) cells.push({ ...c, row: label });
  });
  columns.sort((a, b) => a.layer - b.layer || a.index - b.index);
  const colNames = columns.map((c) => unitName(c.layer, c.index));
  // about ten labelled units: the first of each layer and every `stride`-th (a 1-2-5 step)
  const nice = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];
  const stride = nice.find((k) => colNames.length / k <= 12) ?? Math.ceil(colNames.length / 12);
  const shownUnits = columns.filter((c) => c.index === 0 || (c.index + 1) % stride === 0).map((c) => unitName(c.layer, c.index));
  // the colour domain holds the threshold strictly inside, with at least half a decade either side
  const dlo = Math.min(lo, t - 0.5);
  const dhi = Math.max(hi, t + 0.5);
  const eps = 1e-6 * (dhi - dlo);
  const step = Math.max(1, Math.ceil((Math.floor(dhi) - Math.ceil(dlo)) / 5));
  const ticks = new Set<number>([+t.toFixed(6)]);
  for (let v = Math.ceil(dlo); v <= dhi; v += step) if (Math.abs(v - t) >= 0.3 * step) ticks.add(v);
  const width = checkSize(who, opts.width, 720, 'width');
  const height = opts.height ?? Math.min(900, Math.max(160, 110 + 26 * models.length + (opts.title ? 22 * wrapTitle(opts.title, width).length : 0)));
  const base = frame(who, { ...opts, width, height });
  const valueLabel = opts.valueLabel ?? 'Cov_x(E_q[z_u | x])';
  const fmtT = (v: number) => String(+v.toPrecision(4)).replace('-', '−');
  const thin = colNames.length <= 60;
  const layers: object[] = [
    {
      mark: { type: 'rect', tooltip: true, ...(thin ? { stroke: 'white', strokeWidth: 0.5 } : {}) },
      encoding: {
        x: { field: 'unit', type: 'ordinal', title: opts.xLabel ?? (multiLayer ? 'latent unit (layer:index)' : 'latent unit'), sort: colNames, axis: { labelAngle: 0, labelOverlap: 'greedy', values: shownUnits } },
        y: { field: 'row', type: 'ordinal', title: opts.yLabel ?? null, sort: rowLabels },
        color: {
          field: 'log10',
          type: 'quantitative',
          title: [`log10 ${valueLabel}`, `active above ${fmtT(t)} (${threshold})`],
          scale: { type: 'linear', domain: [dlo, t, t + eps, dhi], range: ['#dedede', '#a6a6a6', '#9ecae1', '#08306b'], interpolate: 'rgb' },
          legend: { values: [...ticks].sort((a, b) => a - b), format: '.3~g', gradientLength: Math.max(60, Math.min(200, height - 70)) },
        },
        tooltip: [
          { field: 'model', type: 'nominal', title: 'model' },
          { field: 'unit', type: 'ordinal', title: 'unit' },
          { field: 'activity', type: 'quantitative', title: valueLabel, format: '.4~g' },
          { field: 'log10', type: 'quantitative', title: 'log10', format: '.3~f' },
          { field: 'active', type: 'nominal', title: `active (> ${threshold})` },
        ],
      },
    },
  ];
  return { ...base, data: { values: cells }, layer: layers } as unknown as ChartSpec;
}

/** The cells of a spec made by {@link unitActivitySpec} (its data), for checks and tests. */
export function unitActivityCells(spec: ChartSpec): UnitActivityCell[] {
  const d = (spec as unknown as { data?: { values?: unknown } }).data?.values;
  if (!Array.isArray(d)) throw new Error('unitActivityCells: the spec has no inline data');
  return d as UnitActivityCell[];
}

/** The scale domains a builder put into `spec` (first layer), for the frame of a writer. */
export function chartDomains(spec: ChartSpec): { x: [number, number]; y: [number, number] } {
  const layer = (spec as unknown as { layer?: { encoding: { x: { scale?: { domain?: unknown } }; y: { scale?: { domain?: unknown } } } }[] }).layer;
  if (!Array.isArray(layer)) return { x: [NaN, NaN], y: [NaN, NaN] }; // a composite chart (timelineSpec) has no one pair of axes
  const enc = layer[0].encoding;
  const d = (v: unknown): [number, number] => (Array.isArray(v) && typeof v[0] === 'number' ? [v[0], v[1]] : [NaN, NaN]);
  return { x: d(enc.x.scale?.domain), y: d(enc.y.scale?.domain) };
}

/** What {@link timelineSpec} draws: one row per time step. */
export interface Timeline {
  /** Times in ms since 1970 (drawn as dates), or null to number the rows. */
  time: ArrayLike<number> | null;
  /** Sensor channels to draw, one small panel each (at most 12). */
  channels: { name: string; values: ArrayLike<number> }[];
  /** The predicted class of each row, with the class names (at most 10 classes). */
  predicted?: { names: string[]; index: ArrayLike<number> };
  /** The anomaly score: the ELBO per row (nats), its threshold, and which rows are flagged. */
  elbo: ArrayLike<number>;
  threshold: number;
  flagged: ArrayLike<boolean>;
}

/**
 * The Vega-Lite spec of a monitoring time line (thesis ch. 6): the sensor channels, each in its own
 * panel and scale; the predicted condition as coloured marks; the ELBO with the anomaly threshold
 * (dashed) and the flagged rows in red. Rows beyond `maxPoints` are thinned evenly for the drawing
 * (flagged rows always kept). Throws when the lengths differ, nothing is given, or there are more
 * than 12 channels or 10 classes.
 */
export function timelineSpec(t: Timeline, opts: ChartOptions & { maxPoints?: number } = {}, who = 'timelineSpec'): ChartSpec {
  const n = t.elbo.length;
  if (n === 0) throw new Error(`${who}: no rows`);
  if (t.channels.length > 12) throw new Error(`${who}: at most 12 channels, got ${t.channels.length}`);
  for (const c of t.channels) if (c.values.length !== n) throw new Error(`${who}: channel '${c.name}' has ${c.values.length} values for ${n} rows`);
  if (t.time && t.time.length !== n) throw new Error(`${who}: ${t.time.length} times for ${n} rows`);
  if (t.flagged.length !== n) throw new Error(`${who}: ${t.flagged.length} flags for ${n} rows`);
  if (t.predicted && (t.predicted.index.length !== n || t.predicted.names.length > CHART_COLORS.length)) throw new Error(`${who}: the predicted classes need ${n} rows and at most ${CHART_COLORS.length} names`);
  if (!Number.isFinite(t.threshold)) throw new Error(`${who}: the threshold is ${t.threshold}`);
  const width = checkSize(who, opts.width, 900, 'width');
  const maxPoints = opts.maxPoints ?? 4000;
  const step = Math.max(1, Math.ceil(n / maxPoints));
  const kept = Array.from({ length: n }, (_, i) => i).filter((i) => i % step === 0 || t.flagged[i]);
  // a gap in time (more than 10 typical steps: a night) breaks the lines: a row of nulls (index −1) between
  const gaps: number[] = [];
  if (t.time && kept.length > 2) {
    const d = kept.slice(1).map((i, j) => t.time![i] - t.time![kept[j]]).sort((a, b) => a - b);
    const typical = d[Math.floor(d.length / 2)];
    for (let j = 1; j < kept.length; j++) if (t.time[kept[j]] - t.time[kept[j - 1]] > 10 * typical) gaps.push(j);
  }
  const keep: number[] = [];
  kept.forEach((i, j) => {
    if (gaps.includes(j)) keep.push(-1 - kept[j - 1]);
    keep.push(i);
  });
  const xField = t.time ? { field: 't', type: 'temporal' as const, title: null } : { field: 't', type: 'quantitative' as const, title: 'row' };
  // a break row −1 − i sits just after row i, with no values
  const at = (i: number) => (i < 0 ? (t.time ? t.time[-1 - i] + 1 : -1 - i + 0.5) : t.time ? t.time[i] : i);
  const fin = (v: number) => (Number.isFinite(v) ? v : null);
  const val = (a: ArrayLike<number>, i: number) => (i < 0 ? null : fin(Number(a[i])));
  const panels: object[] = [];
  if (t.channels.length) {
    panels.push({
      data: { values: t.channels.flatMap((c) => keep.map((i) => ({ t: at(i), channel: c.name, v: val(c.values, i) }))) },
      facet: { row: { field: 'channel', type: 'nominal', title: null, sort: t.channels.map((c) => c.name), header: { labelAngle: 0, labelAlign: 'left', labelFontSize: 11 } } },
      spec: { width, height: 55, mark: { type: 'line', strokeWidth: 1, color: CHART_COLORS[0], invalid: 'break-paths-show-domains' }, encoding: { x: { ...xField, axis: { labels: false, title: null } }, y: { field: 'v', type: 'quantitative', title: null, scale: { zero: false }, axis: { tickCount: 3 } } } },
      resolve: { scale: { y: 'independent' } },
    });
  }
  if (t.predicted) {
    const names = t.predicted.names;
    panels.push({
      width,
      height: Math.max(60, 14 * names.length),
      data: { values: keep.filter((i) => i >= 0).map((i) => ({ t: at(i), condition: names[t.predicted!.index[i]] })) },
      mark: { type: 'tick', thickness: 1 },
      encoding: { x: { ...xField, axis: { labels: false, title: null } }, y: { field: 'condition', type: 'nominal', title: 'predicted', sort: names }, color: { field: 'condition', type: 'nominal', legend: null, scale: { domain: names, range: CHART_COLORS.slice(0, names.length) } } },
    });
  }
  const rows = keep.map((i) => ({ t: at(i), elbo: val(t.elbo, i), flagged: i >= 0 && Boolean(t.flagged[i]) }));
  panels.push({
    width,
    height: 140,
    data: { values: rows },
    layer: [
      { mark: { type: 'line', strokeWidth: 1, color: '#646464', invalid: 'break-paths-show-domains' }, encoding: { x: xField, y: { field: 'elbo', type: 'quantitative', title: 'ELBO (nats)', scale: { zero: false } } } },
      { transform: [{ filter: 'datum.flagged' }], mark: { type: 'point', filled: true, size: 14, color: '#d50032' }, encoding: { x: xField, y: { field: 'elbo', type: 'quantitative' } } },
      { data: { values: [{ y: t.threshold }] }, mark: { type: 'rule', color: REFERENCE_COLOR, strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  });
  const title = opts.title ? { title: { text: wrapTitle(opts.title, width), anchor: 'start' as const } } : {};
  return { $schema: SCHEMA, padding: 8, ...title, config: baseConfig(), vconcat: panels, spacing: 6 } as unknown as ChartSpec;
}
