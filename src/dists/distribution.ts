/**
 * The common interface of every probability distribution in `untapped`.
 *
 * ## Shape rule
 *
 * - Parameters have shape `batchShape + eventShape`. Every class in this module has **event rank 1**:
 *   the event is the LAST axis (`eventShape = [D]`), everything before it is `batchShape`. Parameters
 *   may broadcast against each other (e.g. `loc: [B, D]`, `scale: [D]` gives `batchShape = [B]`).
 * - `sample(rng)` / `rsample(rng)` return `batchShape + eventShape`; `sample(rng, n)` /
 *   `rsample(rng, n)` return `[n, ...batchShape, ...eventShape]`.
 * - `logProb(value)` sums over the event axis. `value` must have last axis `D` and leading axes that
 *   broadcast against `batchShape` (extra leading sample axes are allowed); the result has shape
 *   `broadcast(value.shape, batchShape + eventShape)` minus the last axis — for a value of shape
 *   `[n, ...batchShape, D]` that is `[n, ...batchShape]`.
 * - `mean()` returns `batchShape + eventShape`; `entropy()` (where it exists) is summed over the
 *   event and returns `batchShape`.
 *
 * ## Memory rule
 *
 * A distribution never takes ownership of its parameter tensors and allocates no tensors in its
 * constructor: dispose the parameters yourself when you are done with them. Every method returns a
 * fresh tensor owned by the caller and leaves no intermediate tensors behind.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng.js';

/** Formats a shape for error messages: `[2, 3]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * NumPy-style broadcast of two shapes (right-aligned; a dimension of 1 stretches).
 * @throws Error naming both shapes and `context` when they do not broadcast.
 */
export function broadcastShapes(a: readonly number[], b: readonly number[], context: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${context}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Throws unless `t` is a `tf.Tensor`; `what` names the argument in the message. */
export function assertTensor(t: unknown, what: string): asserts t is tf.Tensor {
  if (!(t instanceof tf.Tensor)) {
    const kind = t === null ? 'null' : Array.isArray(t) ? 'an array' : typeof t;
    throw new Error(`${what} must be a tf.Tensor, got ${kind}`);
  }
}

/**
 * Abstract base of all distributions (see the module comment for the shape and memory rules).
 * Subclasses set `batchShape`, `eventShape`, `hasRsample`, `support` and implement `sample`,
 * `logProb` and `mean`; `rsample` and `entropy` throw unless overridden.
 */
export abstract class Distribution {
  /** Leading parameter axes; independent distributions, one per index. */
  abstract readonly batchShape: number[];
  /** Shape of one draw; always `[D]` here (event rank 1, the last axis). */
  abstract readonly eventShape: number[];
  /** Whether {@link rsample} gives reparameterised (pathwise-differentiable) draws. */
  abstract readonly hasRsample: boolean;
  /** Human-readable description of the set of values `logProb` is defined on. */
  abstract readonly support: string;

  /** Class name used in error messages. */
  get name(): string {
    return this.constructor.name;
  }

  /** Draws samples (not differentiable): shape `[n?, ...batchShape, ...eventShape]`. */
  abstract sample(rng: Rng, n?: number): tf.Tensor;

  /**
   * Reparameterised samples, differentiable w.r.t. the parameters: shape
   * `[n?, ...batchShape, ...eventShape]`. Throws when `hasRsample` is false.
   */
  rsample(_rng: Rng, _n?: number): tf.Tensor {
    throw new Error(`${this.name} has no reparameterised sampler (rsample); use sample() with a score-function estimator, or a relaxation such as Concrete`);
  }

  /** log p(value) summed over the event axis: shape `broadcast(value.shape, batch+event)` minus the last axis. */
  abstract logProb(value: tf.Tensor): tf.Tensor;

  /** E[x]: shape `batchShape + eventShape`. */
  abstract mean(): tf.Tensor;

  /** H[p] = −E[log p(x)], summed over the event: shape `batchShape`. Throws where no closed form exists. */
  entropy(): tf.Tensor {
    throw new Error(`${this.name} has no closed-form entropy`);
  }

  /** Full parameter shape `batchShape + eventShape`. */
  get paramShape(): number[] {
    return [...this.batchShape, ...this.eventShape];
  }

  /** The output shape of a draw of `n` (or one) sample(s); validates `n`. */
  protected sampleShape(n: number | undefined, fn: string): number[] {
    if (n === undefined) return this.paramShape;
    if (!Number.isInteger(n) || n < 1) throw new Error(`${this.name}.${fn}: n must be a positive integer, got ${n}`);
    return [n, ...this.paramShape];
  }

  /** Checks that `value` has the event size on its last axis and broadcasts against the batch shape. */
  protected checkValue(value: unknown, fn: string): asserts value is tf.Tensor {
    assertTensor(value, `${this.name}.${fn}: value`);
    const d = this.eventShape[0];
    if (value.rank < 1 || value.shape[value.rank - 1] !== d) {
      throw new Error(`${this.name}.${fn}: value of shape ${fmtShape(value.shape)} must have event size ${d} on its last axis (parameters ${fmtShape(this.paramShape)})`);
    }
    broadcastShapes(value.shape, this.paramShape, `${this.name}.${fn}: value and parameters`);
  }
}

/**
 * Validates event-rank-1 parameters and returns their common broadcast shape.
 * @throws Error when an argument is not a tensor, shapes do not broadcast, or the result is rank 0.
 */
export function paramShapeOf(cls: string, params: [string, unknown][]): number[] {
  let shape: number[] | null = null;
  let names = '';
  for (const [name, t] of params) {
    assertTensor(t, `${cls}: ${name}`);
    shape = shape === null ? [...t.shape] : broadcastShapes(shape, t.shape, `${cls}: ${names} and ${name}`);
    names = names === '' ? name : `${names}, ${name}`;
  }
  if (shape === null || shape.length < 1) {
    throw new Error(`${cls}: parameters must have rank ≥ 1 (the last axis is the event axis); use shape [1] for a scalar distribution`);
  }
  if (shape[shape.length - 1] < 1) throw new Error(`${cls}: the event axis must have size ≥ 1, got ${fmtShape(shape)}`);
  return shape;
}
