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

/** Variables whose gradient is scaled inside the current term, and by how much (0 = held fixed). */
const scaled = new Map<tf.Variable, number>();

/** Identity whose gradient is zero: the forward value of a weight with no path back to it. */
const noGradient = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor) };
}) as (x: tf.Tensor) => tf.Tensor;

/** Identities whose gradient is multiplied by a fixed factor, one op per factor (the factor is a number, so no tensor outlives the forward pass). */
const scaledGradient = new Map<number, (x: tf.Tensor) => tf.Tensor>();
function scaledGradientOp(factor: number): (x: tf.Tensor) => tf.Tensor {
  let op = scaledGradient.get(factor);
  if (!op) {
    op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const x = args[0] as tf.Tensor;
      return { value: tf.clone(x), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.mul(dy as tf.Tensor, factor) };
    }) as (x: tf.Tensor) => tf.Tensor;
    scaledGradient.set(factor, op);
  }
  return op;
}

/**
 * Runs `fn` with `vars` held fixed: layers that read their weights through {@link weight} see the
 * same values, but no gradient reaches those variables from what `fn` computes. Gradients still flow
 * through the layers' inputs. Used to make one term of a loss train only some of a model's networks.
 */
export function withFrozen<T>(vars: Iterable<tf.Variable>, fn: () => T): T {
  return withGradientScale(vars, 0, fn);
}

/**
 * Runs `fn` with the gradient that reaches `vars` from what `fn` computes multiplied by `factor`
 * (forward values unchanged; 0 is {@link withFrozen}, 1 changes nothing). Used to let one term of a
 * loss move some networks less than others, e.g. the unlabelled bound's pull on q(y | x)
 * (`Semi2Weights.unlabelledQy`). Nested calls keep the outer factor for variables already scaled.
 * @throws if `factor` is not in [0, 1].
 */
export function withGradientScale<T>(vars: Iterable<tf.Variable>, factor: number, fn: () => T): T {
  if (!(factor >= 0 && factor <= 1)) throw new Error(`gradient scale must be in [0, 1], got ${factor}`);
  if (factor === 1) return fn();
  const added = [...vars].filter((v) => !scaled.has(v));
  for (const v of added) scaled.set(v, factor);
  try {
    return fn();
  } finally {
    for (const v of added) scaled.delete(v);
  }
}

/** A layer's weight as used in a forward pass: the variable itself, or a gradient-free copy while frozen. */
export function weight(v: tf.Variable): tf.Tensor {
  const f = scaled.get(v);
  if (f === undefined) return v;
  return f === 0 ? noGradient(v) : scaledGradientOp(f)(v);
}
