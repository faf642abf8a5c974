/**
 * Line charts (learning curves) and labelled scatter plots as RGB PNG files, drawn pixel by pixel
 * with the built-in 5 × 7 bitmap font of `font.ts` and encoded with `pngjs`. No fonts, canvas or
 * native libraries are needed, so reports can be written on any machine.
 *
 * Every chart has a title (optional), a plot area with light grid lines at "nice" tick values,
 * axes with numbered ticks, optional axis labels, and a legend to the right of the plot area.
 */
import { PNG } from 'pngjs';
import { GLYPH_ADVANCE, GLYPH_H, GLYPH_W, glyph, glyphDrop, textWidth } from './font.js';
import { writePng } from './png.js';

/** An RGB colour, each channel 0..255. */
export type Rgb = readonly [number, number, number];

/**
 * The colours of series (line charts) and classes (scatter plots), in order: ten hues chosen to be
 * told apart easily on white.
 */
export const CHART_COLORS: readonly Rgb[] = [
  [0, 92, 230], // blue
  [230, 97, 0], // orange
  [0, 158, 115], // green
  [213, 0, 50], // red
  [128, 64, 200], // purple
  [140, 86, 60], // brown
  [230, 60, 190], // pink
  [100, 100, 100], // grey
  [170, 170, 0], // olive
  [0, 180, 220], // cyan
];

const BLACK: Rgb = [0, 0, 0];
const GRID: Rgb = [232, 232, 232];
const REF: Rgb = [70, 70, 70];

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

/** Options shared by both chart kinds. */
export interface ChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Image width in pixels (default 720). */
  width?: number;
  /** Image height in pixels (default 450). */
  height?: number;
  /** Integer magnification of all text except the title (default 1, or 2 for images ≥ 900 × 900). */
  fontScale?: number;
}

/** Options of {@link lineChart} and {@link lineChartPng}. */
export interface LineChartOptions extends ChartOptions {
  /** Fixed y range [lo, hi]; by default the data (and `hLines`) plus 5% margin. Lines are clipped to it. */
  yRange?: [number, number];
  /** Horizontal reference lines, drawn dashed in dark grey with their labels. */
  hLines?: HLine[];
}

/** Options of {@link scatter} and {@link scatterPng}. */
export interface ScatterOptions extends ChartOptions {
  /** Legend text for class c (default: `String(c)`). */
  classNames?: string[];
  /** Radius of each point's disc in pixels (default 2, or 1 above 2000 points). */
  pointRadius?: number;
}

/** Where a chart's data landed in the image, for tests and for callers that annotate it. */
export interface ChartFrame {
  width: number;
  height: number;
  /** The plot area in pixel coordinates, inclusive; data is drawn only inside it. */
  plot: { left: number; top: number; right: number; bottom: number };
  xRange: [number, number];
  yRange: [number, number];
  /** The pixel (column, row) of the data point (x, y), rounded. */
  px(x: number, y: number): [number, number];
  /** The colour of each series (line chart) or class (scatter plot). */
  colors: readonly Rgb[];
}

/** A rendered chart: the PNG bytes and where things are in it. */
export interface ChartImage {
  png: Buffer;
  frame: ChartFrame;
}

/** An RGB raster, white to begin with, with the few drawing operations the charts need. Out-of-bounds pixels are ignored. */
class Canvas {
  readonly data: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height * 3).fill(255);
  }

  set(x: number, y: number, c: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = 3 * (y * this.width + x);
    this.data[o] = c[0];
    this.data[o + 1] = c[1];
    this.data[o + 2] = c[2];
  }

  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) this.set(i, j, c);
  }

  hLine(x0: number, x1: number, y: number, c: Rgb): void {
    for (let x = x0; x <= x1; x++) this.set(x, y, c);
  }

  vLine(x: number, y0: number, y1: number, c: Rgb): void {
    for (let y = y0; y <= y1; y++) this.set(x, y, c);
  }

  /** Text with its top-left corner at (x, y); `vertical` turns it 90° anticlockwise (reads upwards from (x, y + …)). */
  text(s: string, x: number, y: number, c: Rgb, scale: number, vertical = false): void {
    let pen = 0;
    for (const ch of s) {
      const g = glyph(ch);
      const drop = glyphDrop(ch);
      for (let r = 0; r < GLYPH_H; r++) {
        for (let q = 0; q < GLYPH_W; q++) {
          if (!g[r * GLYPH_W + q]) continue;
          const gx = (pen + q) * scale;
          const gy = (r + drop) * scale;
          if (vertical) this.fillRect(x + gy, y - gx - scale + 1, scale, scale, c);
          else this.fillRect(x + gx, y + gy, scale, scale, c);
        }
      }
      pen += GLYPH_ADVANCE;
    }
  }

  encode(): Buffer {
    const png = new PNG({ width: this.width, height: this.height });
    png.data = Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    return PNG.sync.write(png, { colorType: 2, inputColorType: 2, bitDepth: 8 });
  }
}

/** A segment clipped to the rectangle (Liang–Barsky), or null if it misses it. */
function clipSegment(
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  r: { left: number; top: number; right: number; bottom: number },
): [number, number, number, number] | null {
  const dx = x1 - x0;
  const dy = y1 - y0;
  let t0 = 0;
  let t1 = 1;
  const edges: [number, number][] = [
    [-dx, x0 - r.left],
    [dx, r.right - x0],
    [-dy, y0 - r.top],
    [dy, r.bottom - y0],
  ];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q < 0) return null;
    } else {
      const t = q / p;
      if (p < 0) {
        if (t > t1) return null;
        if (t > t0) t0 = t;
      } else {
        if (t < t0) return null;
        if (t < t1) t1 = t;
      }
    }
  }
  return [x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy];
}

/** Draws a 2-pixel-thick straight line between pixel centres (Bresenham), keeping to `clip`. */
function drawLine(cv: Canvas, a: [number, number], b: [number, number], c: Rgb, clip: ChartFrame['plot']): void {
  const seg = clipSegment(a[0], a[1], b[0], b[1], clip);
  if (!seg) return;
  let x0 = Math.round(seg[0]);
  let y0 = Math.round(seg[1]);
  const x1 = Math.round(seg[2]);
  const y1 = Math.round(seg[3]);
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let err = dx + dy;
  const plot = (x: number, y: number) => {
    for (const [ox, oy] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ]) {
      const px = x + ox;
      const py = y + oy;
      if (px >= clip.left && px <= clip.right && py >= clip.top && py <= clip.bottom) cv.set(px, py, c);
    }
  };
  for (;;) {
    plot(x0, y0);
    if (x0 === x1 && y0 === y1) break;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

/** Ticks at multiples of a 1-2-5 step inside [lo, hi], about `target` of them. */
export function niceTicks(lo: number, hi: number, target: number): number[] {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return [lo];
  const raw = (hi - lo) / Math.max(1, target);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  const step = (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * p;
  const out: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  for (let i = first; i * step <= hi + step * 1e-9; i++) out.push(i * step + 0); // + 0 turns −0 into 0
  return out;
}

/** Tick labels for evenly spaced `ticks`: fixed decimals from the step, or exponent notation for very large or small values. */
export function formatTicks(ticks: number[]): string[] {
  if (ticks.length === 0) return [];
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : Math.abs(ticks[0]) || 1;
  const big = Math.max(...ticks.map(Math.abs));
  if (big >= 1e6 || step < 1e-4) {
    const digits = Math.max(0, Math.min(6, Math.ceil(Math.log10(big / step) - 1e-9)));
    return ticks.map((v) => (v === 0 ? '0' : v.toExponential(digits).replace(/\.?0+e/, 'e').replace('e+', 'e')));
  }
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return ticks.map((v) => {
    const s = v.toFixed(decimals);
    return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
  });
}

function checkSize(who: string, v: number | undefined, def: number, what: string): number {
  const n = v ?? def;
  if (!Number.isInteger(n) || n < 120 || n > 10000) throw new Error(`${who}: ${what} must be an integer in 120..10000 pixels, got ${n}`);
  return n;
}

function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 2).join('') + '..';
}

/** A range that is wide enough to map: widens a single value to ±(|v|·0.1 or 1). */
function widen(lo: number, hi: number): [number, number] {
  if (hi > lo) return [lo, hi];
  const h = Math.abs(lo) * 0.1 || 1;
  return [lo - h, hi + h];
}

interface LegendEntry {
  name: string;
  color: Rgb;
  kind: 'line' | 'dot';
}

interface Layout {
  cv: Canvas;
  frame: ChartFrame;
  /** The text scale in use. */
  scale: number;
}

/**
 * Draws the frame shared by both charts (background, grid, axes, ticks, labels, title, legend) and
 * returns the canvas and the data-to-pixel mapping; the caller then draws the data.
 */
function drawFrame(
  who: string,
  opts: ChartOptions,
  xr: [number, number],
  yr: [number, number],
  legend: LegendEntry[],
  colors: readonly Rgb[],
): Layout {
  const W = checkSize(who, opts.width, 720, 'width');
  const H = checkSize(who, opts.height, 450, 'height');
  const s = opts.fontScale ?? (Math.min(W, H) >= 900 ? 2 : 1);
  if (!Number.isInteger(s) || s < 1 || s > 8) throw new Error(`${who}: fontScale must be an integer in 1..8, got ${s}`);
  const ts = s + 1;
  const ch = GLYPH_H * s;
  const pad = 8;
  const tick = 4;
  const title = opts.title ?? '';
  const xLabel = opts.xLabel ?? '';
  const yLabel = opts.yLabel ?? '';
  const names = legend.map((e) => truncate(e.name, 28));
  const legendW = legend.length ? 20 * s + 6 + Math.max(...names.map((n) => textWidth(n, s))) : 0;

  const top = pad + (title ? GLYPH_H * ts + 8 : 0) + Math.ceil(ch / 2);
  const bottom = H - 1 - pad - (xLabel ? ch + 6 : 0) - ch - tick - 4;
  const yTicks = niceTicks(yr[0], yr[1], Math.max(2, Math.min(10, Math.floor((bottom - top) / (12 * ch)) + 2)));
  const yTickText = formatTicks(yTicks);
  const left = pad + (yLabel ? ch + 6 : 0) + Math.max(0, ...yTickText.map((t) => textWidth(t, s))) + tick + 4;
  const right = W - 1 - pad - (legendW ? legendW + 4 * GLYPH_ADVANCE * s : 3 * GLYPH_ADVANCE * s);
  if (right - left < 40 || bottom - top < 30) {
    throw new Error(
      `${who}: a ${W}×${H} image leaves a plot area of only ${right - left}×${bottom - top} pixels after the labels and legend; make it larger`,
    );
  }
  const plot = { left, top, right, bottom };
  const px = (x: number, y: number): [number, number] => [
    Math.round(left + ((x - xr[0]) / (xr[1] - xr[0])) * (right - left)),
    Math.round(bottom - ((y - yr[0]) / (yr[1] - yr[0])) * (bottom - top)),
  ];
  const fx = (x: number) => left + ((x - xr[0]) / (xr[1] - xr[0])) * (right - left);
  const fy = (y: number) => bottom - ((y - yr[0]) / (yr[1] - yr[0])) * (bottom - top);

  const cv = new Canvas(W, H);
  // Grid lines and y ticks.
  yTicks.forEach((v, i) => {
    const y = Math.round(fy(v));
    if (y < top || y > bottom) return;
    cv.hLine(left, right, y, GRID);
    cv.hLine(left - 1 - tick, left - 2, y, BLACK);
    const t = yTickText[i];
    cv.text(t, left - 2 - tick - 3 - textWidth(t, s), y - Math.floor(ch / 2), BLACK, s);
  });
  const xTicks = niceTicks(xr[0], xr[1], Math.max(2, Math.min(12, Math.floor((right - left) / (14 * GLYPH_ADVANCE * s)) + 1)));
  const xTickText = formatTicks(xTicks);
  xTicks.forEach((v, i) => {
    const x = Math.round(fx(v));
    if (x < left || x > right) return;
    cv.vLine(x, top, bottom, GRID);
    cv.vLine(x, bottom + 2, bottom + 1 + tick, BLACK);
    const t = xTickText[i];
    cv.text(t, x - Math.floor(textWidth(t, s) / 2), bottom + 2 + tick + 3, BLACK, s);
  });
  // Axes just outside the plot area, so data never hides them and they never hide data.
  cv.vLine(left - 1, top - 1, bottom + 1, BLACK);
  cv.hLine(left - 1, right + 1, bottom + 1, BLACK);
  cv.vLine(right + 1, top - 1, bottom + 1, GRID);
  cv.hLine(left - 1, right + 1, top - 1, GRID);
  if (title) cv.text(title, Math.max(pad, Math.floor((W - textWidth(title, ts)) / 2)), pad, BLACK, ts);
  if (xLabel) cv.text(xLabel, Math.floor((left + right - textWidth(xLabel, s)) / 2), H - 1 - pad - ch + 1, BLACK, s);
  if (yLabel) cv.text(yLabel, pad, Math.floor((top + bottom + textWidth(yLabel, s)) / 2), BLACK, s, true);
  // Legend, to the right of the plot area.
  const lx = W - 1 - pad - legendW;
  legend.forEach((e, i) => {
    const y = top + i * (ch + 6 * s);
    const mid = y + Math.floor(ch / 2);
    if (e.kind === 'line') cv.fillRect(lx, mid - s, 16 * s, 2 * s, e.color);
    else cv.fillRect(lx + 5 * s, mid - 3 * s, 6 * s, 6 * s, e.color);
    cv.text(names[i], lx + 20 * s, y, BLACK, s);
  });
  return { cv, frame: { width: W, height: H, plot, xRange: xr, yRange: yr, px, colors }, scale: s };
}

function checkFile(who: string, file: string): void {
  if (typeof file !== 'string' || file.length === 0) throw new Error(`${who}: file must be a non-empty path`);
}

function lineChartImpl(who: string, series: LineSeries[], opts: LineChartOptions): ChartImage {
  if (!Array.isArray(series) || series.length === 0) throw new Error(`${who}: no series to draw`);
  if (series.length > CHART_COLORS.length) throw new Error(`${who}: at most ${CHART_COLORS.length} series, got ${series.length}`);
  let xlo = Infinity;
  let xhi = -Infinity;
  let ylo = Infinity;
  let yhi = -Infinity;
  series.forEach((sr, k) => {
    const tag = `series ${k} ('${sr.name}')`;
    if (sr.x.length !== sr.y.length) throw new Error(`${who}: ${tag} has ${sr.x.length} x values but ${sr.y.length} y values`);
    if (sr.x.length === 0) throw new Error(`${who}: ${tag} has no points`);
    for (let i = 0; i < sr.x.length; i++) {
      const x = sr.x[i];
      if (!Number.isFinite(x)) throw new Error(`${who}: ${tag} has x[${i}] = ${x}; x values must be finite`);
      xlo = Math.min(xlo, x);
      xhi = Math.max(xhi, x);
      const y = sr.y[i];
      if (Number.isFinite(y)) {
        ylo = Math.min(ylo, y);
        yhi = Math.max(yhi, y);
      }
    }
  });
  const hLines = opts.hLines ?? [];
  hLines.forEach((h, i) => {
    if (!Number.isFinite(h.y)) throw new Error(`${who}: hLines[${i}] ('${h.label}') has y = ${h.y}; it must be finite`);
  });
  let yr: [number, number];
  if (opts.yRange) {
    const [lo, hi] = opts.yRange;
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
      throw new Error(`${who}: yRange must be two finite numbers [lo, hi] with lo < hi, got [${lo}, ${hi}]`);
    }
    yr = [lo, hi];
  } else {
    for (const h of hLines) {
      ylo = Math.min(ylo, h.y);
      yhi = Math.max(yhi, h.y);
    }
    if (ylo === Infinity) throw new Error(`${who}: no finite y value in any series`);
    const [lo, hi] = widen(ylo, yhi);
    const m = 0.05 * (hi - lo);
    yr = [lo - m, hi + m];
  }
  const xr = widen(xlo, xhi);
  const colors = series.map((_, k) => CHART_COLORS[k]);
  const legend: LegendEntry[] = series.map((sr, k) => ({ name: sr.name, color: colors[k], kind: 'line' }));
  const { cv, frame, scale: s } = drawFrame(who, opts, xr, yr, legend, colors);
  const plot = frame.plot;
  const fx = (x: number) => plot.left + ((x - xr[0]) / (xr[1] - xr[0])) * (plot.right - plot.left);
  const fy = (y: number) => plot.bottom - ((y - yr[0]) / (yr[1] - yr[0])) * (plot.bottom - plot.top);
  // Reference lines, dashed, with their labels right-aligned just above.
  for (const h of hLines) {
    if (h.y < yr[0] || h.y > yr[1]) continue;
    const y = Math.round(fy(h.y));
    for (let x = plot.left; x <= plot.right; x++) if ((x - plot.left) % 8 < 5) cv.set(x, y, REF);
    const t = truncate(h.label, 40);
    const ty = y - GLYPH_H * s - 2 >= plot.top ? y - GLYPH_H * s - 2 : y + 3;
    cv.text(t, plot.right - 2 - textWidth(t, s), ty, REF, s);
  }
  // The series, in order (later ones on top).
  series.forEach((sr, k) => {
    const c = colors[k];
    const n = sr.x.length;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(sr.y[i])) continue;
      const a: [number, number] = [fx(sr.x[i]), fy(sr.y[i])];
      const hasPrev = i > 0 && Number.isFinite(sr.y[i - 1]);
      const hasNext = i + 1 < n && Number.isFinite(sr.y[i + 1]);
      if (hasNext) drawLine(cv, a, [fx(sr.x[i + 1]), fy(sr.y[i + 1])], c, plot);
      else if (!hasPrev) {
        // An isolated point: a small square so it shows.
        const [cx, cy] = [Math.round(a[0]), Math.round(a[1])];
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const x = cx + dx;
            const y = cy + dy;
            if (x >= plot.left && x <= plot.right && y >= plot.top && y <= plot.bottom) cv.set(x, y, c);
          }
        }
      }
    }
  });
  return { png: cv.encode(), frame };
}

/**
 * Renders a line chart of up to 10 series (colours {@link CHART_COLORS} in order) and returns the
 * PNG bytes with the chart's {@link ChartFrame}. Non-finite y values break a line (a diverged run
 * shows as a gap). Throws naming the series if its x and y lengths differ, it is empty, or an x
 * value is not finite; also if there are no series or no finite y at all, or the image is too
 * small for its labels.
 */
export function lineChart(series: LineSeries[], opts: LineChartOptions = {}): ChartImage {
  return lineChartImpl('lineChart', series, opts);
}

/**
 * Writes a line chart (see {@link lineChart}) to `file` as an RGB PNG, atomically (a temporary file
 * renamed over `file`; parent directories are created). Returns the chart's {@link ChartFrame}.
 */
export function lineChartPng(file: string, series: LineSeries[], opts: LineChartOptions = {}): ChartFrame {
  checkFile('lineChartPng', file);
  const { png, frame } = lineChartImpl('lineChartPng', series, opts);
  writePng(file, png);
  return frame;
}

function scatterImpl(who: string, points: Float32Array, labels: ArrayLike<number>, opts: ScatterOptions): ChartImage {
  if (points.length % 2 !== 0) throw new Error(`${who}: points must hold n × 2 values, got ${points.length}`);
  const n = points.length / 2;
  if (n === 0) throw new Error(`${who}: no points to draw`);
  if (labels.length !== n) throw new Error(`${who}: ${n} points but ${labels.length} labels`);
  const K = CHART_COLORS.length;
  const present = new Array<boolean>(K).fill(false);
  let xlo = Infinity;
  let xhi = -Infinity;
  let ylo = Infinity;
  let yhi = -Infinity;
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
  }
  const names = opts.classNames ?? [];
  const r = opts.pointRadius ?? (n > 2000 ? 1 : 2);
  if (!Number.isInteger(r) || r < 0 || r > 20) throw new Error(`${who}: pointRadius must be an integer in 0..20, got ${r}`);
  const pad = (lo: number, hi: number): [number, number] => {
    const [a, b] = widen(lo, hi);
    const m = 0.05 * (b - a);
    return [a - m, b + m];
  };
  const xr = pad(xlo, xhi);
  const yr = pad(ylo, yhi);
  const legend: LegendEntry[] = [];
  for (let c = 0; c < K; c++) if (present[c]) legend.push({ name: names[c] ?? String(c), color: CHART_COLORS[c], kind: 'dot' });
  const { cv, frame } = drawFrame(who, opts, xr, yr, legend, CHART_COLORS);
  const plot = frame.plot;
  for (let i = 0; i < n; i++) {
    const [cx, cy] = frame.px(points[2 * i], points[2 * i + 1]);
    const c = CHART_COLORS[labels[i]];
    for (let dy = -r; dy <= r; dy++) {
      for (let dx = -r; dx <= r; dx++) {
        if (dx * dx + dy * dy > r * r + r) continue;
        const x = cx + dx;
        const y = cy + dy;
        if (x >= plot.left && x <= plot.right && y >= plot.top && y <= plot.bottom) cv.set(x, y, c);
      }
    }
  }
  return { png: cv.encode(), frame };
}

/**
 * Renders a scatter plot of the `n` points in `points` (`n × 2`, row-major: x then y), point `i`
 * coloured by class `labels[i]` (an integer in 0..9, colours {@link CHART_COLORS}), with a legend of
 * the classes present. Points are drawn in order, so later ones lie on top. Returns the PNG bytes
 * and the {@link ChartFrame}. Throws on a length mismatch, no points, a bad label or a non-finite
 * coordinate (naming the point).
 */
export function scatter(points: Float32Array, labels: ArrayLike<number>, opts: ScatterOptions = {}): ChartImage {
  return scatterImpl('scatter', points, labels, opts);
}

/**
 * Writes a scatter plot (see {@link scatter}) to `file` as an RGB PNG, atomically. Returns the
 * chart's {@link ChartFrame}.
 */
export function scatterPng(file: string, points: Float32Array, labels: ArrayLike<number>, opts: ScatterOptions = {}): ChartFrame {
  checkFile('scatterPng', file);
  const { png, frame } = scatterImpl('scatterPng', points, labels, opts);
  writePng(file, png);
  return frame;
}
