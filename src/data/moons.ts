/**
 * The two-moons toy dataset: two interleaving half circles in the plane, one per class, as used for
 * the 2-D semi-supervised experiment of the ADGM paper (Maaløe et al. 2016, sec. 4.2; thesis `003_…`,
 * appendix A), which gives the arcs but not the noise level (the default 0.1 is our choice).
 *
 * Class 0 lies on the upper unit half circle (cos t, sin t), t ∈ [0, π]; class 1 on the lower half
 * circle (1 − cos t, 1 − sin t − 0.5) = (1 − cos t, 0.5 − sin t), centred at (1, 0.5). The angles t
 * are evenly spaced over [0, π] within each class; isotropic Gaussian noise of standard deviation
 * `noise` is then added to both coordinates. The features are returned as they are (not
 * standardised).
 */
import { Rng } from '../engine/rng.js';
import type { Dataset } from './dataset.js';

/** Options for {@link makeMoons}. */
export interface MoonsOptions {
  /** Standard deviation of the Gaussian noise added to each coordinate (default 0.1; 0 for none). */
  noise?: number;
  /** Seed of the {@link Rng} that draws the noise and the shuffle (default 0). */
  seed?: number;
}

/** Options for {@link moonsSplits}. */
export interface MoonsSplitOptions {
  /** Number of training points. */
  train: number;
  /** Number of test points. */
  test: number;
  /** Noise standard deviation, as in {@link MoonsOptions} (default 0.1). */
  noise?: number;
  /** Seed (default 0); the two splits use the forks `'train'` and `'test'` of `Rng(seed)`. */
  seed?: number;
}

function checkCount(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, got ${n}`);
}

function checkNoise(what: string, noise: number): void {
  if (!Number.isFinite(noise) || noise < 0) throw new Error(`${what} must be a finite number ≥ 0, got ${noise}`);
}

/**
 * Draws `n` two-moons points from `rng` (noise from `rng.fork('noise')`, order from
 * `rng.fork('shuffle')`, so the noise level does not change which row holds which point).
 */
function drawMoons(n: number, noise: number, rng: Rng, name: string): Dataset {
  // Class 0 gets the extra point when n is odd.
  const n0 = Math.ceil(n / 2);
  const n1 = n - n0;
  const px = new Float64Array(n);
  const py = new Float64Array(n);
  const lab = new Int32Array(n);
  for (let i = 0; i < n0; i++) {
    const t = n0 > 1 ? (Math.PI * i) / (n0 - 1) : 0;
    px[i] = Math.cos(t);
    py[i] = Math.sin(t);
  }
  for (let i = 0; i < n1; i++) {
    const t = n1 > 1 ? (Math.PI * i) / (n1 - 1) : 0;
    px[n0 + i] = 1 - Math.cos(t);
    py[n0 + i] = 1 - Math.sin(t) - 0.5;
    lab[n0 + i] = 1;
  }
  const eps = new Float32Array(2 * n);
  if (noise > 0) rng.fork('noise').fillNormal(eps);
  const perm = rng.fork('shuffle').permutation(n);
  const x = new Float32Array(2 * n);
  const y = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const i = perm[r];
    x[2 * r] = px[i] + noise * eps[2 * i];
    x[2 * r + 1] = py[i] + noise * eps[2 * i + 1];
    y[r] = lab[i];
  }
  return { name, x, y, n, dim: 2, shape: [2], numClasses: 2 };
}

/**
 * Makes a two-moons dataset of `n` points (`x` is `n × 2`, `y` is 0 or 1, `numClasses` 2, name
 * `'moons'`), split evenly between the classes (class 0 has one more when `n` is odd) and shuffled.
 * The same `seed` gives the same dataset. Throws if `n` is not a positive integer or `noise` is
 * negative or not finite.
 */
export function makeMoons(n: number, opts: MoonsOptions = {}): Dataset {
  checkCount('makeMoons: n', n);
  const noise = opts.noise ?? 0.1;
  checkNoise('makeMoons: noise', noise);
  return drawMoons(n, noise, new Rng(opts.seed ?? 0), 'moons');
}

/**
 * Draws independent training and test sets of two-moons points (named `'moons-train'` and
 * `'moons-test'`) from the forks `'train'` and `'test'` of `Rng(seed)`.
 */
export function moonsSplits(opts: MoonsSplitOptions): { train: Dataset; test: Dataset } {
  checkCount('moonsSplits: train', opts.train);
  checkCount('moonsSplits: test', opts.test);
  const noise = opts.noise ?? 0.1;
  checkNoise('moonsSplits: noise', noise);
  const root = new Rng(opts.seed ?? 0);
  return {
    train: drawMoons(opts.train, noise, root.fork('train'), 'moons-train'),
    test: drawMoons(opts.test, noise, root.fork('test'), 'moons-test'),
  };
}

/**
 * The Bayes classifier of the two-moons distribution (equal class priors, points uniform in t on
 * each arc, isotropic Gaussian noise of standard deviation `noise`): for each row of `x` [n × 2] the
 * class whose density ∫ N(x; arc(t), noise²) dt/π is larger, the integral taken on `grid` evenly
 * spaced angles. Its error on a test set is the floor that no classifier can beat on average.
 */
export function moonsBayesClassify(x: Float32Array, noise: number, grid = 512): Int32Array {
  checkNoise('moonsBayesClassify: noise', noise);
  if (!(noise > 0)) throw new Error('moonsBayesClassify: noise must be > 0 (the classes do not overlap without it)');
  const n = x.length / 2;
  const inv = 1 / (2 * noise * noise);
  const ts = Array.from({ length: grid }, (_, i) => (Math.PI * (i + 0.5)) / grid);
  const arcs = [ts.map((t) => [Math.cos(t), Math.sin(t)]), ts.map((t) => [1 - Math.cos(t), 0.5 - Math.sin(t)])];
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const [u, v] = [x[2 * r], x[2 * r + 1]];
    // log-sum-exp of −d²/2σ² over each arc (the common normalisers cancel)
    const logDensity = arcs.map((arc) => {
      let m = -Infinity;
      const e = arc.map(([a, b]) => -((u - a) ** 2 + (v - b) ** 2) * inv);
      for (const q of e) if (q > m) m = q;
      let s = 0;
      for (const q of e) s += Math.exp(q - m);
      return m + Math.log(s);
    });
    out[r] = logDensity[1] > logDensity[0] ? 1 : 0;
  }
  return out;
}
