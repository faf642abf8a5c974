/** Writers of the latent-space views of `report/latent.ts` (Node only: PNG files). */
import type * as tf from '@tensorflow/tfjs';
import { latentMeans, manifoldGrid, type ManifoldOptions } from '../report/latent.js';
import type { ChartFrame, ScatterOptions } from '../report/chart.js';
import { imageGrid, writePng } from './png.js';
import { scatterPng } from './chart.js';

/**
 * Decodes the manifold grid ({@link manifoldGrid}) and writes it to `file` as a grayscale PNG
 * (pixel magnification `opts.scale`, default 2).
 */
export function writeManifoldPng(file: string, decode: (z: tf.Tensor, panel: number) => tf.Tensor, shape: number[], opts: ManifoldOptions = {}): { steps: number; panels: number } {
  const g = manifoldGrid(decode, shape, opts, 'writeManifoldPng');
  writePng(file, imageGrid(g.pixels, g.count, g.h, g.w, { cols: g.cols, scale: opts.scale ?? 2 }));
  return { steps: g.steps, panels: g.panels };
}

/**
 * Writes a scatter plot of the posterior means of the rows of `x`, coloured by `labels` (classes
 * 0–9), to `file` (see {@link latentMeans} for `encode`). Returns the chart's frame.
 */
export function writeLatentScatterPng(
  file: string,
  encode: (x: tf.Tensor, labels: Int32Array) => tf.Tensor,
  x: Float32Array,
  labels: Int32Array,
  dim: number,
  opts: ScatterOptions = {},
): ChartFrame {
  const pts = latentMeans(encode, x, labels, dim);
  return scatterPng(file, pts, labels, { title: 'E[q(z|x)] of test images', xLabel: 'z1', yLabel: 'z2', ...opts });
}
