/**
 * Grayscale image grids as PNG files (samples, reconstructions), encoded with `pngjs`.
 */
import { dirname } from 'node:path';
import { PNG } from 'pngjs';
import { makeDir, writeFileAtomic } from './files.js';

/** Layout options for {@link imageGrid} and {@link pairsGrid}. */
export interface GridOptions {
  /** Images per grid row (default: ⌈√n⌉ for {@link imageGrid}, min(n, 10) for {@link pairsGrid}). */
  cols?: number;
  /** Border between and around images, in source pixels (default 1). */
  pad?: number;
  /** Integer upscaling factor applied to the whole grid (default 1). */
  scale?: number;
  /** Gray level of the border and empty cells, in [0, 1] (default 0.5). */
  background?: number;
}

/** Where the pixels of the image in one grid cell come from (`null` for an empty cell). */
type CellSource = (row: number, col: number) => { data: Float32Array; offset: number } | null;

function positiveInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${what} must be a positive integer, got ${v}`);
  return v;
}

function toByte(v: number): number {
  // NaN fails both comparisons and becomes 0.
  return v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
}

function renderGrid(rows: number, cols: number, h: number, w: number, opts: GridOptions, cell: CellSource): Buffer {
  const pad = opts.pad ?? 1;
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`image grid: pad must be a non-negative integer, got ${pad}`);
  const scale = positiveInt(opts.scale ?? 1, 'image grid: scale');
  const bg = toByte(opts.background ?? 0.5);
  const gw = cols * w + (cols + 1) * pad;
  const gh = rows * h + (rows + 1) * pad;
  const grid = new Uint8Array(gw * gh).fill(bg);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const src = cell(r, c);
      if (!src) continue;
      const top = pad + r * (h + pad);
      const left = pad + c * (w + pad);
      for (let i = 0; i < h; i++) {
        const o = (top + i) * gw + left;
        const s = src.offset + i * w;
        for (let j = 0; j < w; j++) grid[o + j] = toByte(src.data[s + j]);
      }
    }
  }
  const W = gw * scale;
  const H = gh * scale;
  let pixels: Uint8Array = grid;
  if (scale > 1) {
    pixels = new Uint8Array(W * H);
    for (let y = 0; y < gh; y++) {
      const line = pixels.subarray(y * scale * W, (y * scale + 1) * W);
      for (let x = 0; x < gw; x++) line.fill(grid[y * gw + x], x * scale, (x + 1) * scale);
      for (let k = 1; k < scale; k++) pixels.copyWithin((y * scale + k) * W, y * scale * W, (y * scale + 1) * W);
    }
  }
  const png = new PNG({ width: W, height: H });
  png.data = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth: 8 });
}

function checkImages(what: string, images: Float32Array, n: number, h: number, w: number): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what}: n must be a non-negative integer, got ${n}`);
  positiveInt(h, `${what}: h`);
  positiveInt(w, `${what}: w`);
  if (images.length < n * h * w) {
    throw new Error(`${what}: expected ${n} images of ${h}×${w} = ${n * h * w} values, got ${images.length}`);
  }
}

/**
 * Renders `n` grayscale images (`images` holds `n × h × w` values, row-major; values are clamped to
 * [0, 1], NaN shows as black) as a grid and returns it as an 8-bit grayscale PNG (colour type 0).
 * Images fill the grid row by row; unused cells show the background. The PNG is
 * `(cols·w + (cols+1)·pad)·scale` pixels wide and `(rows·h + (rows+1)·pad)·scale` high.
 */
export function imageGrid(images: Float32Array, n: number, h: number, w: number, opts: GridOptions = {}): Buffer {
  checkImages('imageGrid', images, n, h, w);
  const cols = positiveInt(opts.cols ?? Math.max(1, Math.ceil(Math.sqrt(n))), 'imageGrid: cols');
  const rows = Math.max(1, Math.ceil(n / cols));
  return renderGrid(rows, cols, h, w, opts, (r, c) => {
    const k = r * cols + c;
    return k < n ? { data: images, offset: k * h * w } : null;
  });
}

/**
 * Renders originals and their reconstructions for side-by-side comparison: grid rows alternate,
 * a row of `cols` originals followed by a row with the reconstruction of each directly below it.
 * Both arrays hold `n × h × w` values. Returns a grayscale PNG as {@link imageGrid} does.
 */
export function pairsGrid(
  originals: Float32Array,
  reconstructions: Float32Array,
  n: number,
  h: number,
  w: number,
  opts: GridOptions = {},
): Buffer {
  checkImages('pairsGrid (originals)', originals, n, h, w);
  checkImages('pairsGrid (reconstructions)', reconstructions, n, h, w);
  const cols = positiveInt(opts.cols ?? Math.max(1, Math.min(n, 10)), 'pairsGrid: cols');
  const rows = 2 * Math.max(1, Math.ceil(n / cols));
  return renderGrid(rows, cols, h, w, opts, (r, c) => {
    const k = (r >> 1) * cols + c;
    if (k >= n) return null;
    return { data: r % 2 === 0 ? originals : reconstructions, offset: k * h * w };
  });
}

/**
 * Writes `buffer` to `path` atomically (see {@link writeFileAtomic}: a temporary file renamed over
 * `path`, removed on any failure). Creates the parent directory if needed; errors name `path`.
 */
export function writePng(path: string, buffer: Uint8Array): void {
  makeDir(dirname(path));
  writeFileAtomic(path, Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength));
}
