/**
 * Per-channel standardisation of a model's inputs, kept with the model: the networks see
 * x̃ = (x − μ) / σ, everything the run contract returns is in the units of x. Sensor tables mix
 * units (amperes, volts, W/m², °C, m/s); a Gaussian p(x | ·) with one learning rate needs them on
 * one scale.
 *
 * Densities change by the Jacobian of the map: log p(x) = log p̃(x̃) − Σ_d log σ_d, so the bounds and
 * importance weights of a standardised model are in nats of the data as given, comparable with a
 * model trained on the raw table. Draws and typical inputs are mapped back, μ + σ x̃.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunnableModel, StepBatch } from './family.js';

/** Per-channel mean and standard deviation of the training inputs (length D each). */
export interface InputScaling {
  mean: number[];
  sd: number[];
}

/**
 * The mean and standard deviation of each of the D channels over the rows of `parts` (row-major
 * [n, D] each). A channel with no spread (sd below 1e-8 of its scale) keeps σ = 1, so it is only
 * centred.
 * @throws Error when there are no rows or a value is not finite (naming the channel).
 */
export function inputScaling(parts: Float32Array[], D: number, columns?: string[]): InputScaling {
  const n = parts.reduce((a, p) => a + p.length / D, 0);
  if (!(n >= 1)) throw new Error('standardize: no training rows to take the channel means from');
  const sum = new Float64Array(D);
  const sq = new Float64Array(D);
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      const v = p[i];
      if (!Number.isFinite(v)) throw new Error(`standardize: channel ${columns?.[i % D] ?? i % D} has the value ${v}`);
      sum[i % D] += v;
    }
  }
  const mean = Array.from(sum, (s) => s / n);
  for (const p of parts) for (let i = 0; i < p.length; i++) sq[i % D] += (p[i] - mean[i % D]) ** 2;
  const sd = Array.from(sq, (s, d) => {
    const v = Math.sqrt(s / Math.max(1, n - 1));
    return v > 1e-8 * Math.max(1, Math.abs(mean[d])) ? v : 1;
  });
  return { mean, sd };
}

/**
 * Checks a saved scaling against the input width.
 * @throws Error naming what is wrong.
 */
export function checkScaling(s: InputScaling, D: number, where: string): void {
  if (!Array.isArray(s.mean) || !Array.isArray(s.sd) || s.mean.length !== D || s.sd.length !== D) throw new Error(`${where}: the input scaling needs ${D} means and ${D} standard deviations`);
  s.mean.forEach((m, d) => {
    if (!Number.isFinite(m) || !(s.sd[d] > 0) || !Number.isFinite(s.sd[d])) throw new Error(`${where}: channel ${d} has mean ${m} and sd ${s.sd[d]}`);
  });
}

/** A model whose inputs are standardised with `scaling` (see the module doc); the result exposes it as `scaling`. */
export function withInputScaling(m: RunnableModel, scaling: InputScaling): RunnableModel & { scaling: InputScaling; scale(x: tf.Tensor): tf.Tensor } {
  checkScaling(scaling, m.inputDim, 'standardize');
  const mu = tf.keep(tf.tensor1d(scaling.mean));
  const sd = tf.keep(tf.tensor1d(scaling.sd));
  const logJac = scaling.sd.reduce((a, s) => a + Math.log(s), 0);
  const scale = (x: tf.Tensor) => tf.tidy(() => tf.div(tf.sub(x, mu), sd));
  const unscale = (x: tf.Tensor) => tf.tidy(() => tf.add(tf.mul(x, sd), mu));
  const scaledBatch = (b: StepBatch): StepBatch => ({
    ...(b.labelled ? { labelled: { x: scale(b.labelled.x), y: b.labelled.y } } : {}),
    ...(b.unlabelled ? { unlabelled: { x: scale(b.unlabelled.x) } } : {}),
  });
  const out: RunnableModel & { scaling: InputScaling; scale(x: tf.Tensor): tf.Tensor } = {
    params: m.params,
    inputDim: m.inputDim,
    classes: m.classes,
    scaling,
    scale,
    loss: (batch, ctx) => tf.tidy(() => m.loss(scaledBatch(batch), ctx)),
    logWeights: (x, k, rng, y) => tf.tidy(() => tf.sub(m.logWeights(scale(x), k, rng, y), logJac)),
    bound: (x, k, rng, y) => tf.tidy(() => tf.sub(m.bound(scale(x), k, rng, y), logJac)),
    sample: (n, rng, y) => tf.tidy(() => unscale(m.sample(n, rng, y))),
    instance: m.instance,
    dispose: () => {
      mu.dispose();
      sd.dispose();
      m.dispose();
    },
  };
  if (m.classify) {
    const c = m.classify.bind(m);
    out.classify = (x) => tf.tidy(() => c(scale(x)));
  }
  if (m.generate) {
    const g = m.generate.bind(m);
    out.generate = (y) => tf.tidy(() => unscale(g(y)));
  }
  if (m.sampleJoint) {
    const j = m.sampleJoint.bind(m);
    out.sampleJoint = (n, rng) => {
      const d = j(n, rng);
      const x = unscale(d.x);
      d.x.dispose();
      return { x, y: d.y };
    };
  }
  return out;
}
