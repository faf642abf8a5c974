/**
 * Seeded randomness for the whole library.
 *
 * Every random draw in `untapped` (weight initialisation, reparameterised noise, shuffling,
 * binarisation) comes from an {@link Rng}. Draws are made in JavaScript and uploaded as tensors, so
 * the same seed gives the same numbers on every backend (wasm, cpu, tensorflow, webgl).
 *
 * The generator is xoshiro128** (Blackman & Vigna), 128 bits of state, period 2^128 − 1; the state is
 * seeded from a 53-bit integer through splitmix32 so that nearby seeds give unrelated streams.
 */
import * as tf from '@tensorflow/tfjs';

/** A serialisable snapshot of an {@link Rng}'s state (four unsigned 32-bit words). */
export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Hashes a string label to a 32-bit integer (FNV-1a), used to derive named sub-streams. */
export function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * A seeded pseudo-random generator with tensor-producing helpers.
 *
 * ```ts
 * const rng = new Rng(42);
 * const eps = rng.normal([100, 50]);      // tf.Tensor, N(0, 1)
 * const epochRng = rng.fork('epoch-3');   // independent, reproducible sub-stream
 * ```
 */
export class Rng {
  private s: Uint32Array = new Uint32Array(4);

  /** @param seed any finite number; its integer part (mod 2^53) is used. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    const lo = Math.floor(seed) >>> 0;
    const hi = Math.floor(Math.floor(seed) / 4294967296) >>> 0;
    const sm = splitmix32(lo ^ Math.imul(hi, 0x27d4eb2d));
    for (let i = 0; i < 4; i++) this.s[i] = sm();
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Next unsigned 32-bit integer. */
  nextU32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  /** Uniform double in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform double in the open interval (0, 1); safe inside `log`. */
  nextOpen(): number {
    return (this.nextU32() + 0.5) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1) || !Number.isInteger(n)) throw new Error(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** A new generator whose stream is a deterministic function of this one's state and `label`. */
  fork(label: string): Rng {
    const child = new Rng(0);
    const h = hashLabel(label);
    const sm = splitmix32((this.s[0] ^ h ^ Math.imul(this.s[1], 31) ^ this.s[2] ^ this.s[3]) >>> 0);
    const sm2 = splitmix32((h + this.s[3] + Math.imul(this.s[2], 17)) >>> 0);
    for (let i = 0; i < 4; i++) child.s[i] = (sm() ^ sm2()) >>> 0;
    if ((child.s[0] | child.s[1] | child.s[2] | child.s[3]) === 0) child.s[0] = 1;
    return child;
  }

  /** The generator's state, for checkpoints. */
  getState(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  /** Restores a state produced by {@link getState}. */
  setState(state: RngState): void {
    if (!Array.isArray(state) || state.length !== 4 || state.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
      throw new Error('Rng.setState: expected four unsigned 32-bit integers');
    }
    for (let i = 0; i < 4; i++) this.s[i] = state[i];
  }

  /** Fills `out` with uniform draws in [lo, hi). */
  fillUniform(out: Float32Array, lo = 0, hi = 1): Float32Array {
    const w = hi - lo;
    for (let i = 0; i < out.length; i++) out[i] = lo + w * this.next();
    return out;
  }

  /** Fills `out` with standard normal draws (Box–Muller, both outputs used). */
  fillNormal(out: Float32Array): Float32Array {
    const n = out.length;
    let i = 0;
    while (i < n) {
      const u1 = this.nextOpen();
      const u2 = this.next();
      const r = Math.sqrt(-2 * Math.log(u1));
      const th = 2 * Math.PI * u2;
      out[i++] = r * Math.cos(th);
      if (i < n) out[i++] = r * Math.sin(th);
    }
    return out;
  }

  /** Standard normal tensor of the given shape. */
  normal(shape: number[]): tf.Tensor {
    return tf.tensor(this.fillNormal(new Float32Array(sizeOf(shape))), shape, 'float32');
  }

  /** Uniform tensor on [lo, hi). */
  uniform(shape: number[], lo = 0, hi = 1): tf.Tensor {
    return tf.tensor(this.fillUniform(new Float32Array(sizeOf(shape)), lo, hi), shape, 'float32');
  }

  /** Standard Gumbel tensor: −log(−log U), U ~ U(0,1). */
  gumbel(shape: number[]): tf.Tensor {
    const out = new Float32Array(sizeOf(shape));
    for (let i = 0; i < out.length; i++) out[i] = -Math.log(-Math.log(this.nextOpen()));
    return tf.tensor(out, shape, 'float32');
  }

  /** A random permutation of 0..n−1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Number of elements of a shape; throws on a negative or non-integer dimension. */
export function sizeOf(shape: number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}
