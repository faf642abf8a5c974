/**
 * Views of a two-dimensional latent space (Kingma & Welling 2014, fig. 4; `004_…` appendix A.6):
 *
 * - the **learned manifold**: decoded means of p(x | z) on a grid of z, with the grid's coordinates
 *   the standard-normal quantiles Φ⁻¹(u) of evenly spaced u, so that equal areas of the prior
 *   N(0, I) get equal numbers of cells;
 * - a **scatter of encodings**: the posterior means E[q(z | x)] of test images, coloured by class.
 *
 * Model-agnostic: callers pass the decode and encode functions (tensors in, tensors out). The
 * arrays are computed here; the Node entry writes them (`writeManifoldPng`, `writeLatentScatterPng`).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Standard-normal quantile Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation (relative error
 * below 1.2·10⁻⁹), central region |p − ½| ≤ 0.47575 and the two tails.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must lie in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  const lo = 0.02425;
  if (p < lo) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - lo) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * The manifold grid: steps × steps latent points, [steps², 2] row-major. Cell (row r, column c) is
 * z = (Φ⁻¹(u_c), Φ⁻¹(u_{steps−1−r})) with u_i = pMin + i·(1 − 2·pMin)/(steps − 1): z₁ grows to the
 * right and z₂ upwards.
 */
export function manifoldPoints(steps = 20, pMin = 0.05): Float32Array {
  if (!Number.isInteger(steps) || steps < 2) throw new Error(`manifoldPoints: steps must be an integer ≥ 2, got ${steps}`);
  if (!(pMin > 0 && pMin < 0.5)) throw new Error(`manifoldPoints: pMin must lie in (0, 0.5), got ${pMin}`);
  const q = Array.from({ length: steps }, (_, i) => normalQuantile(pMin + (i * (1 - 2 * pMin)) / (steps - 1)));
  const out = new Float32Array(steps * steps * 2);
  for (let r = 0; r < steps; r++) {
    for (let c = 0; c < steps; c++) {
      out[2 * (r * steps + c)] = q[c];
      out[2 * (r * steps + c) + 1] = q[steps - 1 - r];
    }
  }
  return out;
}

/** Options of {@link manifoldGrid} (and the Node entry's `writeManifoldPng`). */
export interface ManifoldOptions {
  /** Grid points per axis (default 20). */
  steps?: number;
  /** The grid spans the prior's quantiles pMin … 1 − pMin (default 0.05). */
  pMin?: number;
  /** Several manifolds side by side (e.g. one per class of a conditional model), default 1. */
  panels?: number;
  /** Panels per row (default min(panels, 5)). */
  panelCols?: number;
  /** Pixel magnification (default 2). */
  scale?: number;
}

/**
 * Decodes the manifold grid into the pixels of an image grid (cells of h × w, `cols` per row, row
 * major). `decode(z, panel)` maps latent points z [m, 2] to images [m, h·w] (means of p(x | z),
 * values in [0, 1]); with `panels` > 1 each panel is decoded separately (e.g. with the class fixed
 * to the panel index) and the panels are laid out in a grid, one blank cell apart. `who` names the
 * caller in errors.
 */
export function manifoldGrid(
  decode: (z: tf.Tensor, panel: number) => tf.Tensor,
  shape: number[],
  opts: ManifoldOptions = {},
  who = 'manifoldGrid',
): { pixels: Float32Array; count: number; h: number; w: number; cols: number; steps: number; panels: number } {
  const steps = opts.steps ?? 20;
  const panels = opts.panels ?? 1;
  if (!Number.isInteger(panels) || panels < 1) throw new Error(`${who}: panels must be an integer ≥ 1, got ${panels}`);
  const pc = opts.panelCols ?? Math.min(panels, 5);
  if (!Number.isInteger(pc) || pc < 1) throw new Error(`${who}: panelCols must be an integer ≥ 1, got ${pc}`);
  const [h, w] = shape;
  const pix = h * w;
  const pts = manifoldPoints(steps, opts.pMin);
  const m = steps * steps;
  const imgs: Float32Array[] = [];
  for (let p = 0; p < panels; p++) {
    const out = tf.tidy(() => decode(tf.tensor2d(pts, [m, 2]), p));
    if (out.shape.length !== 2 || out.shape[0] !== m || out.shape[1] !== pix) {
      const shp = out.shape;
      out.dispose();
      throw new Error(`${who}: decode must return [${m}, ${pix}] images of ${h}×${w}, got [${shp}]`);
    }
    imgs.push(out.dataSync() as Float32Array);
    out.dispose();
  }
  const pr = Math.ceil(panels / pc);
  const cols = pc * steps + (pc - 1);
  const rows = pr * steps + (pr - 1);
  const grid = new Float32Array(rows * cols * pix).fill(0.5); // blank cells show the background grey
  for (let p = 0; p < panels; p++) {
    const r0 = Math.floor(p / pc) * (steps + 1);
    const c0 = (p % pc) * (steps + 1);
    for (let i = 0; i < m; i++) {
      const cell = (r0 + Math.floor(i / steps)) * cols + c0 + (i % steps);
      grid.set(imgs[p].subarray(i * pix, (i + 1) * pix), cell * pix);
    }
  }
  return { pixels: grid, count: rows * cols, h, w, cols, steps, panels };
}

/**
 * Posterior means of the n rows of `x` (n × dim) through `encode(x, labels)` ([m, dim] and the rows'
 * labels → [m, 2]), in batches: [n × 2], row-major.
 */
export function latentMeans(encode: (x: tf.Tensor, labels: Int32Array) => tf.Tensor, x: Float32Array, labels: Int32Array, dim: number, batchSize = 500): Float32Array {
  const n = labels.length;
  if (x.length < n * dim) throw new Error(`latentMeans: ${n} labels but only ${Math.floor(x.length / dim)} rows of ${dim}`);
  const out = new Float32Array(n * 2);
  for (let s = 0; s < n; s += batchSize) {
    const b = Math.min(batchSize, n - s);
    const z = tf.tidy(() => encode(tf.tensor2d(x.subarray(s * dim, (s + b) * dim), [b, dim]), labels.subarray(s, s + b)));
    if (z.shape.length !== 2 || z.shape[1] !== 2 || z.shape[0] !== b) {
      const shp = z.shape;
      z.dispose();
      throw new Error(`latentMeans: the latent views need a 2-D latent; encode returned [${shp}] for ${b} rows`);
    }
    out.set(z.dataSync(), s * 2);
    z.dispose();
  }
  return out;
}
