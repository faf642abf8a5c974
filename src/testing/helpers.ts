/** Helpers for the test suite (not part of the public API). */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine/backend.js';
import '../node/host.js';
import { Rng } from '../engine/rng.js';

/** Starts the engine for a test file (honours `UNTAPPED_BACKEND`). */
export async function setupEngine(): Promise<void> {
  await initEngine();
}

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise, with a message naming the first bad index. */
export function assertClose(
  actual: ArrayLike<number> | number,
  expected: ArrayLike<number> | number,
  opts: { atol?: number; rtol?: number; msg?: string } = {},
): void {
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-5;
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : Array.from(expected);
  assert.equal(a.length, e.length, `${opts.msg ?? ''} length ${a.length} != ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const ok = (Number.isNaN(a[i]) && Number.isNaN(e[i])) || a[i] === e[i] || Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]);
    if (!ok) assert.fail(`${opts.msg ?? 'values differ'} at [${i}]: got ${a[i]}, expected ${e[i]} (atol ${atol}, rtol ${rtol})`);
  }
}

/** Runs `fn` and asserts that it leaves no tensors behind. */
export async function assertNoLeak<T>(fn: () => T | Promise<T>, msg = 'tensor leak'): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  assert.equal(tf.memory().numTensors, before, msg);
  return out;
}

/** Reads a tensor's values as a plain array and disposes it. */
export function take(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

/**
 * Central finite difference of the scalar `f()` with respect to element `i` of variable `v`, step
 * `h`; `v` is restored to its values afterwards.
 */
export function finiteDifference(v: tf.Variable, i: number, h: number, f: () => tf.Tensor): number {
  const vals = Float32Array.from(v.dataSync());
  const at = (delta: number) => {
    const w = Float32Array.from(vals);
    w[i] += delta;
    v.assign(tf.tensor(w, v.shape));
    return take(f())[0];
  };
  const fd = (at(h) - at(-h)) / (2 * h);
  v.assign(tf.tensor(vals, v.shape));
  return fd;
}

/**
 * The value of the scalar `f()` and its gradient with respect to every variable of `store`, as
 * plain arrays keyed by parameter name (an empty array where no gradient reaches a variable).
 */
export function gradientsByName(store: { list(): tf.Variable[]; entries(): [string, tf.Variable][] }, f: () => tf.Scalar): { value: number; grads: Record<string, number[]> } {
  const { value, grads } = tf.variableGrads(f, store.list());
  const out: Record<string, number[]> = {};
  for (const [name, v] of store.entries()) out[name] = grads[v.name] ? Array.from(grads[v.name].dataSync()) : [];
  const val = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  return { value: val, grads: out };
}

/** Shape of the endmember spectra of {@link linearMixing}: E_k[j] = base + height·exp(−((j − first − step·k)/width)²). */
export interface MixingShape {
  channels: number;
  base: number;
  height: number;
  first: number;
  step: number;
  width: number;
  /** Uniform noise of this full width added to every value. */
  noise: number;
}

/**
 * A linear-mixing toy for composition tests: three smooth endmember spectra E, compositions y on the
 * simplex (normalised exponentials), x = Σ_k y_k E_k plus uniform noise; seeded.
 */
export function linearMixing(n: number, seed: number, s: MixingShape): { x: number[][]; y: number[][]; E: number[][] } {
  const rng = new Rng(seed);
  const E = [0, 1, 2].map((k) => Array.from({ length: s.channels }, (_, j) => s.base + s.height * Math.exp(-(((j - s.first - s.step * k) / s.width) ** 2))));
  const y: number[][] = [];
  const x: number[][] = [];
  for (let i = 0; i < n; i++) {
    const g = [0, 1, 2].map(() => -Math.log(rng.nextOpen()));
    const sum = g[0] + g[1] + g[2];
    const yi = g.map((v) => v / sum);
    y.push(yi);
    x.push(E[0].map((_, j) => yi[0] * E[0][j] + yi[1] * E[1][j] + yi[2] * E[2][j] + s.noise * (rng.next() - 0.5)));
  }
  return { x, y, E };
}

/**
 * The mean over `reps` repetitions of the batch mean of `f(rng)` (one seeded `rng` drawn on in turn)
 * and its standard error: for comparing Monte Carlo bounds (ELBO ≤ IWAE(k) ≤ IWAE(k′)) with a noise
 * allowance.
 */
export function repeatedMean(f: (rng: Rng) => tf.Tensor, reps: number, seed: number): { mu: number; se: number } {
  const rng = new Rng(seed);
  let s = 0;
  let ss = 0;
  for (let i = 0; i < reps; i++) {
    const v = take(tf.tidy(() => tf.mean(f(rng))))[0];
    s += v;
    ss += v * v;
  }
  const mu = s / reps;
  return { mu, se: Math.sqrt(Math.max(0, ss / reps - mu * mu) / reps) };
}

