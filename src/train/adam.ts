/**
 * Adam (Kingma & Ba 2015) with global-norm gradient clipping, state held explicitly so that it can be
 * checkpointed and restored bit for bit.
 *
 * Update for each parameter θ with gradient g at step t (1-based):
 *   m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,
 *   θ ← θ − lr · √(1 − β₂ᵗ)/(1 − β₁ᵗ) · m / (√v + ε).
 * Clipping rescales all gradients by min(1, c / ‖g‖₂) where ‖g‖₂ is the norm over every parameter.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedArray } from '../io/format.js';
import { nativeAdam } from '../engine/native.js';

/** Adam hyper-parameters. */
export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Global-norm clipping threshold; 0 or undefined disables clipping. */
  clipNorm?: number;
}

/** Adam optimiser over a fixed list of named variables. */
export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly clipNorm: number;
  /** Number of updates applied so far. */
  t = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(
    readonly vars: { name: string; variable: tf.Variable }[],
    opts: AdamOptions = {},
  ) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-8;
    this.clipNorm = opts.clipNorm ?? 0;
    if (!(this.beta1 >= 0 && this.beta1 < 1) || !(this.beta2 >= 0 && this.beta2 < 1)) throw new Error('Adam: beta1 and beta2 must lie in [0, 1)');
    if (!(this.epsilon > 0)) throw new Error('Adam: epsilon must be > 0');
    if (!(this.clipNorm >= 0)) throw new Error(`Adam: clipNorm must be ≥ 0, got ${this.clipNorm}`);
    this.m = vars.map((p) => zeroVariable(p.variable));
    this.v = vars.map((p) => zeroVariable(p.variable));
  }

  /**
   * Global L2 norm of `grads` over every parameter (accumulated in double precision on the native
   * path, in float32 by tfjs otherwise).
   */
  gradNorm(grads: (tf.Tensor | null | undefined)[]): number {
    const present = grads.filter((g): g is tf.Tensor => g != null);
    if (present.length === 0) return 0;
    const nat = nativeAdam();
    if (nat) return Math.sqrt(present.reduce((s, g) => s + nat.sumSquares(g), 0));
    return tf.tidy(() => tf.sqrt(tf.addN(present.map((g) => tf.sum(tf.square(g))))).dataSync()[0]);
  }

  /** The factor min(1, clipNorm / norm) that clipping applies to every gradient (1 when off). */
  clipScale(norm: number): number {
    return this.clipNorm > 0 ? this.clipNorm / Math.max(norm, this.clipNorm) : 1;
  }

  /**
   * Applies one update with gradients aligned with `vars`, at learning rate `lr`. `norm` is the
   * global gradient norm ({@link gradNorm}); it is computed here when not given and only matters
   * when clipping is on. With native kernels active the whole update of a variable is one native
   * call; otherwise it is a few tfjs ops per variable. Both compute the same float32 formula.
   * A variable whose gradient is `null` (the loss does not depend on it in this step, e.g. the
   * encoder of a source absent from the batch) is left unchanged, and so are its moments.
   */
  apply(grads: (tf.Tensor | null | undefined)[], lr: number, norm?: number): void {
    if (grads.length !== this.vars.length) throw new Error(`Adam.apply: ${grads.length} gradients for ${this.vars.length} variables`);
    const gScale = this.clipNorm > 0 ? this.clipScale(norm ?? this.gradNorm(grads)) : 1;
    this.t += 1;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const stepSize = (lr * Math.sqrt(1 - Math.pow(b2, this.t))) / (1 - Math.pow(b1, this.t));
    const nat = nativeAdam();
    if (nat && grads.every((g) => g == null || g.dtype === 'float32')) {
      for (let i = 0; i < grads.length; i++) {
        const g = grads[i];
        if (g == null) continue;
        nat.update(g, this.m[i], this.v[i], this.vars[i].variable, { beta1: b1, beta2: b2, epsilon: this.epsilon, stepSize, gScale });
      }
      return;
    }
    tf.tidy(() => {
      for (let i = 0; i < grads.length; i++) {
        const gi = grads[i];
        if (gi == null) continue;
        const g = gScale === 1 ? gi : tf.mul(gi, gScale);
        const m = tf.add(tf.mul(this.m[i], b1), tf.mul(g, 1 - b1));
        const v = tf.add(tf.mul(this.v[i], b2), tf.mul(tf.square(g), 1 - b2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const upd = tf.div(tf.mul(m, stepSize), tf.add(tf.sqrt(v), this.epsilon));
        this.vars[i].variable.assign(tf.sub(this.vars[i].variable, upd));
      }
    });
  }

  /** The optimiser's state as named arrays (`adam.m.<name>`, `adam.v.<name>`) plus the step count. */
  state(): { t: number; tensors: Map<string, NamedArray> } {
    const tensors = new Map<string, NamedArray>();
    this.vars.forEach((p, i) => {
      tensors.set(`adam.m.${p.name}`, { shape: this.m[i].shape.slice(), data: new Float32Array(this.m[i].dataSync() as Float32Array) });
      tensors.set(`adam.v.${p.name}`, { shape: this.v[i].shape.slice(), data: new Float32Array(this.v[i].dataSync() as Float32Array) });
    });
    return { t: this.t, tensors };
  }

  /** Restores a state produced by {@link state}; `source` names the file in errors. */
  load(t: number, tensors: Map<string, NamedArray>, source: string): void {
    this.vars.forEach((p, i) => {
      for (const [key, arr] of [['m', this.m], ['v', this.v]] as const) {
        const s = tensors.get(`adam.${key}.${p.name}`);
        if (!s) throw new Error(`${source}: optimiser state 'adam.${key}.${p.name}' is missing`);
        if (s.data.length !== arr[i].size) throw new Error(`${source}: optimiser state 'adam.${key}.${p.name}' has ${s.data.length} values, expected ${arr[i].size}`);
        tf.tidy(() => arr[i].assign(tf.tensor(s.data, arr[i].shape, 'float32')));
      }
    });
    this.t = t;
  }

  /** Frees the optimiser's state (every tensor it made: `tf.memory()` is back where it was before construction). */
  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

/** A non-trainable variable of zeros shaped like `like`; the zeros tensor it is made from is freed (the variable keeps the data). */
function zeroVariable(like: tf.Tensor): tf.Variable {
  const z = tf.zerosLike(like);
  const v = tf.variable(z, false);
  z.dispose();
  return v;
}
