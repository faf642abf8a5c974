/**
 * Dense layers and multi-layer perceptrons. Weights are created from an explicit seeded {@link Rng}
 * with Glorot (Xavier) uniform initialisation, W ~ U(−a, a), a = √(6 / (fanIn + fanOut)), biases 0.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng.js';
import { weight, type ParamStore } from './params.js';
import { BatchNorm } from './conv.js';

/** Activations available to {@link Mlp}. */
export const ACTIVATIONS = ['tanh', 'relu', 'softplus', 'leaky-relu', 'linear'] as const;
/** One of {@link ACTIVATIONS}. */
export type Activation = (typeof ACTIVATIONS)[number];

/** Slope of leaky-relu for negative inputs. */
export const LEAKY_RELU_ALPHA = 0.1;

/** Glorot-uniform matrix of shape [fanIn, fanOut]. */
export function glorotUniform(rng: Rng, fanIn: number, fanOut: number): tf.Tensor {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  return rng.uniform([fanIn, fanOut], -a, a);
}

/** Applies a named activation. */
export function activate(x: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case 'tanh':
      return tf.tanh(x);
    case 'relu':
      return tf.relu(x);
    case 'softplus':
      return tf.softplus(x);
    case 'leaky-relu':
      return tf.leakyRelu(x, LEAKY_RELU_ALPHA);
    case 'linear':
      return x;
  }
}

/** A fully connected layer y = act(x W + b), x of shape [..., inDim]. */
export class Dense {
  readonly W: tf.Variable;
  readonly b: tf.Variable;

  constructor(
    store: ParamStore,
    name: string,
    readonly inDim: number,
    readonly outDim: number,
    rng: Rng,
    readonly activation: Activation = 'linear',
  ) {
    if (!(inDim >= 1 && outDim >= 1)) throw new Error(`Dense '${name}': dimensions must be ≥ 1, got ${inDim}→${outDim}`);
    this.W = store.add(`${name}.W`, glorotUniform(rng, inDim, outDim));
    this.b = store.add(`${name}.b`, tf.zeros([outDim]));
  }

  /** Forward pass; inputs of rank > 2 are flattened over leading axes and restored. */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const x2 = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, this.inDim]) as tf.Tensor2D;
      let y: tf.Tensor;
      const W = weight(this.W) as tf.Tensor2D;
      const b = weight(this.b);
      // Fused bias (+ activation where tfjs has it fused) saves kernel launches on every backend.
      if (this.activation === 'relu' || this.activation === 'linear') {
        y = tf.fused.matMul({ a: x2, b: W, bias: b, activation: this.activation });
      } else {
        y = activate(tf.fused.matMul({ a: x2, b: W, bias: b }), this.activation);
      }
      return x.rank === 2 ? y : tf.reshape(y, [...lead, this.outDim]);
    });
  }
}

/** `t` repeated block-wise along its first axis to `rows` rows (`tf.tile`; itself when it has them). */
export function repeatRows(t: tf.Tensor, rows: number): tf.Tensor {
  return t.shape[0] === rows ? t : tf.tile(t, [rows / t.shape[0], ...t.shape.slice(1).map(() => 1)]);
}

/** A stack of {@link Dense} layers with one activation for the hidden layers. */
export class Mlp {
  readonly layers: Dense[] = [];
  /** Batch norm after each layer's affine map, before its activation (when enabled). */
  readonly norms: BatchNorm[] = [];
  /** Width of the output (the last hidden size, or inDim when there are no hidden layers). */
  readonly outDim: number;

  /**
   * @param sizes hidden layer widths, e.g. [500, 500]; every layer uses `activation`.
   * @param opts.batchNorm normalise every layer's pre-activation: with batch statistics while tfjs
   *   records gradients (training steps), with the running averages otherwise (evaluation).
   */
  constructor(store: ParamStore, name: string, readonly inDim: number, sizes: number[], rng: Rng, readonly activation: Activation, opts: { batchNorm?: boolean } = {}) {
    let d = inDim;
    sizes.forEach((h, i) => {
      this.layers.push(new Dense(store, `${name}.dense${i}`, d, h, rng, opts.batchNorm ? 'linear' : activation));
      if (opts.batchNorm) this.norms.push(new BatchNorm(store, `${name}.bn${i}`, h));
      d = h;
    });
    this.outDim = d;
  }

  /** Forward pass through every layer. */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.layersFrom(0, x, this.norms.length > 0 && tf.engine().isTapeOn()));
  }

  /** Layers `start`, `start` + 1, … (each with its batch norm and activation) applied to `h`. */
  private layersFrom(start: number, h: tf.Tensor, training: boolean): tf.Tensor {
    for (let i = start; i < this.layers.length; i++) {
      h = this.layers[i].apply(h);
      if (this.norms.length) h = activate(this.norms[i].apply(h, training), this.activation);
    }
    return h;
  }

  /**
   * Forward pass on the concatenation of `parts` on the last axis, where a part with fewer rows
   * stands for itself repeated block-wise (`tf.tile` on the first axis) up to the most rows: the
   * layout `enumerateClasses` (`models/enumerate.ts`) and Monte Carlo repeats produce. The result equals
   * `apply(concat(tiled parts))`, but the first layer multiplies each short part by its rows of W
   * before repeating, so x in q(z | x, y) is multiplied once per example, not once per class
   * (thesis `003_…` §4.2 concluding remarks). Parts of equal rows, and short parts of different
   * row counts, take the plain path.
   */
  applyParts(parts: tf.Tensor[]): tf.Tensor {
    if (parts.length === 0) throw new Error('Mlp.applyParts: no inputs');
    if (parts.length === 1) return this.apply(parts[0]);
    const rows = Math.max(...parts.map((p) => p.shape[0]));
    for (const p of parts) if (rows % p.shape[0] !== 0) throw new Error(`Mlp.applyParts: ${p.shape[0]} rows do not repeat evenly to ${rows}`);
    if (parts.every((p) => p.shape[0] === rows) || this.layers.length === 0) return tf.tidy(() => this.apply(tf.concat(parts.map((p) => repeatRows(p, rows)), -1)));
    const widths = parts.map((p) => p.shape[p.rank - 1]);
    if (parts.some((p) => p.rank !== 2)) throw new Error(`Mlp.applyParts: inputs of different rows must be [rows, width], got ${parts.map((p) => `[${p.shape}]`).join(', ')}`);
    if (widths.reduce((u, v) => u + v, 0) !== this.inDim) throw new Error(`Mlp.applyParts: inputs of widths ${widths.join('+')} do not make the ${this.inDim} the network takes`);
    const shortRows = Math.min(...parts.map((p) => p.shape[0]));
    if (parts.some((p) => p.shape[0] !== rows && p.shape[0] !== shortRows)) return tf.tidy(() => this.apply(tf.concat(parts.map((p) => repeatRows(p, rows)), -1)));
    return tf.tidy(() => {
      const training = this.norms.length > 0 && tf.engine().isTapeOn();
      const first = this.layers[0];
      // W split by input (one SplitV; its gradient is one concat); the short parts' products and the
      // bias are summed at their own rows and added to the full parts' by broadcasting over the
      // repeats (its gradient is one sum), not by tiling
      const Ws = tf.split(weight(first.W), widths, 0) as tf.Tensor2D[];
      let short: tf.Tensor = weight(first.b);
      let full: tf.Tensor | undefined;
      parts.forEach((p, i) => {
        const prod = tf.matMul(p as tf.Tensor2D, Ws[i]);
        if (p.shape[0] === rows) full = full ? tf.add(full, prod) : prod;
        else short = tf.add(short, prod);
      });
      const H = first.outDim;
      let h: tf.Tensor = tf.reshape(tf.add(tf.reshape(full!, [rows / shortRows, shortRows, H]), short), [rows, H]);
      h = this.norms.length ? activate(this.norms[0].apply(h, training), this.activation) : activate(h, first.activation);
      return this.layersFrom(1, h, training);
    });
  }
}
