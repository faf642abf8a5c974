/**
 * Parameter store: the named, trainable variables of a model. Names are stable paths such as
 * `enc0.dense1.W`; they key the weights in a saved model, so renaming one is a format change.
 */
import * as tf from '@tensorflow/tfjs';

/** A named collection of trainable `tf.Variable`s, in creation order. */
export class ParamStore {
  private readonly vars = new Map<string, tf.Variable>();

  /** Registers `value` (taken over, not copied) as a trainable variable called `name`. */
  add(name: string, value: tf.Tensor): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter '${name}' is defined twice`);
    const v = tf.variable(value, true, `${name}_${nextId++}`);
    value.dispose();
    this.vars.set(name, v);
    return v;
  }

  /** The variable called `name`; throws if there is none. */
  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no parameter named '${name}'`);
    return v;
  }

  /** Names in creation order. */
  names(): string[] {
    return [...this.vars.keys()];
  }

  /** Variables in creation order. */
  list(): tf.Variable[] {
    return [...this.vars.values()];
  }

  /** [name, variable] pairs in creation order. */
  entries(): [string, tf.Variable][] {
    return [...this.vars.entries()];
  }

  /** Total number of scalar parameters. */
  count(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** Copies of every parameter's values, keyed by name. */
  snapshot(): Map<string, { shape: number[]; data: Float32Array }> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, v] of this.vars) out.set(k, { shape: v.shape.slice(), data: new Float32Array(v.dataSync() as Float32Array) });
    return out;
  }

  /**
   * Assigns values by name. Every parameter must be present with the same shape, and no extra
   * names are allowed: a mismatch is an error that names the parameter.
   */
  load(values: Map<string, { shape: number[]; data: Float32Array }>, source = 'weights'): void {
    for (const [k, v] of this.vars) {
      const w = values.get(k);
      if (!w) throw new Error(`${source}: parameter '${k}' is missing`);
      if (w.shape.length !== v.shape.length || w.shape.some((d, i) => d !== v.shape[i])) {
        throw new Error(`${source}: parameter '${k}' has shape [${w.shape}], the model expects [${v.shape}]`);
      }
    }
    for (const k of values.keys()) if (!this.vars.has(k)) throw new Error(`${source}: unexpected parameter '${k}' (not in this model)`);
    for (const [k, v] of this.vars) {
      const w = values.get(k)!;
      tf.tidy(() => v.assign(tf.tensor(w.data, w.shape, 'float32')));
    }
  }

  /** Disposes every variable. */
  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

let nextId = 0;

// ---- holding weights fixed inside one term of a loss ------------------------------------------

const frozen = new Set<tf.Variable>();

/** Identity whose gradient is zero: the forward value of a weight with no path back to it. */
const noGradient = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor) };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * Runs `fn` with `vars` held fixed: layers that read their weights through {@link weight} see the
 * same values, but no gradient reaches those variables from what `fn` computes. Gradients still flow
 * through the layers' inputs. Used to make one term of a loss train only some of a model's networks.
 */
export function withFrozen<T>(vars: Iterable<tf.Variable>, fn: () => T): T {
  const added = [...vars].filter((v) => !frozen.has(v));
  for (const v of added) frozen.add(v);
  try {
    return fn();
  } finally {
    for (const v of added) frozen.delete(v);
  }
}

/** A layer's weight as used in a forward pass: the variable itself, or a gradient-free copy while frozen. */
export function weight(v: tf.Variable): tf.Tensor {
  return frozen.has(v) ? noGradient(v) : v;
}
