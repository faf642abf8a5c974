/**
 * Rendering of the chart specs of `report/chart.ts` (Node only): a Vega-Lite spec is compiled to Vega with
 * `vega-lite`, laid out and drawn headless to an SVG string by `vega` (its SVG string renderer
 * needs no canvas), and rasterised to PNG by `@resvg/resvg-js` with the DejaVu Sans font files of
 * the `dejavu-fonts-ttf` package (or Debian's `fonts-dejavu-core` where that package is missing).
 * No system fonts are read and nothing is fetched, so a PNG looks the same on every machine.
 *
 * Vega renders asynchronously; {@link renderChartSync} gives the same result to synchronous
 * callers (the chart writers keep their synchronous signatures) by running {@link renderChart} in
 * a worker thread and blocking on it with `Atomics.wait`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { compile } from 'vega-lite';
import * as vega from 'vega';
import { Resvg } from '@resvg/resvg-js';

import { CHART_FONT, type ChartSpec } from '../report/chart.js';

/** A rendered chart. */
export interface RenderedChart {
  /** The SVG document (text in real `<text>` nodes). */
  svg: string;
  /** The PNG image, `scale` × the SVG's size. */
  png: Buffer;
  /** Size of the PNG in pixels. */
  width: number;
  height: number;
}

/** Options of {@link renderChart}. */
export interface RenderOptions {
  /** PNG pixels per SVG unit (default 1). */
  scale?: number;
}


let fontCache: string[] | undefined;

/**
 * The TrueType files handed to resvg: DejaVu Sans regular and bold from the `dejavu-fonts-ttf`
 * npm package, else from Debian's `fonts-dejavu-core`. Throws with the remedy when neither exists.
 */
export function chartFontFiles(): string[] {
  if (fontCache) return fontCache;
  const names = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'];
  const dirs: string[] = [];
  try {
    const req = createRequire(import.meta.url);
    dirs.push(path.join(path.dirname(req.resolve('dejavu-fonts-ttf/package.json')), 'ttf'));
  } catch {
    // package not installed: fall through to the system copy
  }
  dirs.push('/usr/share/fonts/truetype/dejavu');
  for (const d of dirs) {
    const files = names.map((n) => path.join(d, n));
    if (files.every((f) => existsSync(f))) return (fontCache = files);
  }
  throw new Error(`chart PNG: no DejaVu Sans font found (looked in ${dirs.join(', ')}); run npm install (dependency dejavu-fonts-ttf)`);
}

/** Advance widths of a TrueType font, in em, by code point (read from its cmap format 4 and hmtx tables). */
export function fontAdvances(ttf: Buffer): (codePoint: number) => number {
  const tables = new Map<string, number>();
  const numTables = ttf.readUInt16BE(4);
  for (let i = 0; i < numTables; i++) tables.set(ttf.toString('latin1', 12 + 16 * i, 16 + 16 * i), ttf.readUInt32BE(20 + 16 * i));
  const head = tables.get('head');
  const hhea = tables.get('hhea');
  const hmtx = tables.get('hmtx');
  const cmap = tables.get('cmap');
  if (head === undefined || hhea === undefined || hmtx === undefined || cmap === undefined) throw new Error('fontAdvances: not a TrueType font with head, hhea, hmtx and cmap tables');
  const unitsPerEm = ttf.readUInt16BE(head + 18);
  const numHMetrics = ttf.readUInt16BE(hhea + 34);
  let sub = -1;
  for (let i = 0, n = ttf.readUInt16BE(cmap + 2); i < n; i++) {
    const platform = ttf.readUInt16BE(cmap + 4 + 8 * i);
    const encoding = ttf.readUInt16BE(cmap + 6 + 8 * i);
    const off = cmap + ttf.readUInt32BE(cmap + 8 + 8 * i);
    if (ttf.readUInt16BE(off) === 4 && ((platform === 3 && encoding === 1) || platform === 0)) sub = off;
  }
  if (sub < 0) throw new Error('fontAdvances: the font has no Unicode BMP cmap (format 4)');
  const segs = ttf.readUInt16BE(sub + 6) / 2;
  const ends = sub + 14;
  const starts = ends + 2 * segs + 2;
  const deltas = starts + 2 * segs;
  const ranges = deltas + 2 * segs;
  const glyphOf = (c: number): number => {
    for (let s = 0; s < segs; s++) {
      if (c > ttf.readUInt16BE(ends + 2 * s)) continue;
      const start = ttf.readUInt16BE(starts + 2 * s);
      if (c < start) return 0;
      const delta = ttf.readUInt16BE(deltas + 2 * s);
      const ro = ttf.readUInt16BE(ranges + 2 * s);
      if (ro === 0) return (c + delta) & 0xffff;
      const g = ttf.readUInt16BE(ranges + 2 * s + ro + 2 * (c - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
  const cache = new Map<number, number>();
  return (c: number) => {
    let w = cache.get(c);
    if (w === undefined) {
      const g = c > 0xffff ? 0 : glyphOf(c);
      w = ttf.readUInt16BE(hmtx + 4 * Math.min(g, numHMetrics - 1)) / unitsPerEm;
      cache.set(c, w);
    }
    return w;
  };
}

let metricsInstalled = false;

/**
 * Makes Vega's headless layout measure text with the advance widths of the font the PNG is drawn
 * with (without a canvas Vega guesses 0.8 em per character, which leaves charts lopsided).
 */
function installTextMetrics(): void {
  if (metricsInstalled) return;
  const [regular, bold] = chartFontFiles().map((f) => fontAdvances(readFileSync(f)));
  const tm = (vega as unknown as { textMetrics: { width: (item: Record<string, unknown>, text?: unknown) => number } }).textMetrics;
  tm.width = (item, text) => {
    const v = text ?? item.text;
    const s = v == null ? '' : Array.isArray(v) ? v.map(String).reduce((a, b) => (a.length >= b.length ? a : b), '') : String(v);
    const size = typeof item.fontSize === 'number' ? item.fontSize : 11;
    const w = item.fontWeight;
    const adv = w === 'bold' || w === 'bolder' || (typeof w === 'number' && w >= 600) || (typeof w === 'string' && Number(w) >= 600) ? bold : regular;
    let em = 0;
    for (const ch of s) em += adv(ch.codePointAt(0)!);
    return em * size;
  };
  metricsInstalled = true;
}

/** Compiles a Vega-Lite spec to a Vega spec (what a browser's Vega runtime takes). */
export function compileChart(spec: ChartSpec): vega.Spec {
  return compile(spec).spec as vega.Spec;
}

/** Draws a Vega-Lite spec headless: the SVG string and its PNG (see the module comment). */
export async function renderChart(spec: ChartSpec, opts: RenderOptions = {}): Promise<RenderedChart> {
  const scale = opts.scale ?? 1;
  if (!(scale > 0 && scale <= 8)) throw new Error(`renderChart: scale must lie in (0, 8], got ${scale}`);
  installTextMetrics();
  const view = new vega.View(vega.parse(compileChart(spec)), { renderer: 'none', logLevel: vega.Error });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: false, fontFiles: chartFontFiles(), defaultFontFamily: CHART_FONT, sansSerifFamily: CHART_FONT, defaultFontSize: 11 },
    fitTo: scale === 1 ? { mode: 'original' } : { mode: 'zoom', value: scale },
    background: 'white',
    logLevel: 'off',
  });
  const img = resvg.render();
  return { svg, png: img.asPng(), width: img.width, height: img.height };
}

interface WorkerState {
  worker: Worker;
  flag: Int32Array;
}

let workerState: WorkerState | undefined;

function renderWorker(): WorkerState {
  if (workerState) return workerState;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL('./render-worker.js', import.meta.url), { workerData: { flag } });
  worker.unref();
  worker.on('error', () => {
    workerState = undefined;
  });
  workerState = { worker, flag };
  return workerState;
}

/**
 * {@link renderChart} for synchronous callers: the work runs in a worker thread (started once,
 * kept unreferenced so it never holds the process open) while this thread waits. Errors are
 * rethrown here with the worker's message.
 */
export function renderChartSync(spec: ChartSpec, opts: RenderOptions = {}): RenderedChart {
  const { worker, flag } = renderWorker();
  const { port1, port2 } = new MessageChannel();
  Atomics.store(flag, 0, 0);
  worker.postMessage({ spec, opts, port: port2 }, [port2]);
  // Wait for the worker's signal; a generous timeout turns a dead worker into an error, not a hang.
  const r = Atomics.wait(flag, 0, 0, 120_000);
  const msg = receiveMessageOnPort(port1);
  port1.close();
  if (!msg) throw new Error(r === 'timed-out' ? 'renderChartSync: the chart worker did not answer within 120 s' : 'renderChartSync: the chart worker answered nothing');
  const m = msg.message as { ok: true; svg: string; png: Uint8Array; width: number; height: number } | { ok: false; error: string };
  if (!m.ok) throw new Error(m.error);
  return { svg: m.svg, png: Buffer.from(m.png.buffer, m.png.byteOffset, m.png.byteLength), width: m.width, height: m.height };
}
