/**
 * The semi²-supervised objective (`000_…` eq 15) under finite differences and leak checks: the
 * gradient of −J with every source present (labelled, unlabelled, unfeatured, and the labelled
 * reverse bound (9)) matches central differences on fixed noise, for simplex and discrete labels
 * and the deterministic mode; training steps and evaluations leak no tensors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, finiteDifference, setupEngine } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { Semi2ConfigSchema, Semi2Dgm, type Semi2Weights } from './semi2.js';

await setupEngine();

const D = 5;
const K = 3;
const make = (extra: Record<string, unknown>) =>
  new Semi2Dgm(Semi2ConfigSchema.parse({ type: 'untapped', classes: K, latent: 2, hidden: { qy: [6], qz: [6], px: [6] }, inputDim: D, ...extra }), new Rng(4));
const W: Semi2Weights = { alphaF: 1, alphaFd: 2, alphaR: 0.5, alphaRd: 0.7, reverseLabelled: true };

/** A batch with every source: simplex compositions or one-hot classes. */
function batch(discrete: boolean) {
  return tf.tidy(() => {
    const rng = new Rng(11);
    const xl = rng.normal([4, D]);
    const xu = rng.normal([6, D]);
    const yl = discrete ? tf.oneHot(tf.tensor1d([0, 2, 1, 2], 'int32'), K).toFloat() : tf.tensor2d([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1], [0.34, 0.33, 0.33]]);
    const yf = discrete ? tf.oneHot(tf.tensor1d([1, 0, 2], 'int32'), K).toFloat() : tf.tensor2d([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8], [0.3, 0.6, 0.1]]);
    return { labelled: { x: xl, y: yl }, unlabelled: { x: xu }, unfeatured: { y: yf } };
  });
}

const CASES: [string, Record<string, unknown>, boolean][] = [
  ['simplex labels', {}, false],
  ['discrete labels (Concrete)', { labels: 'discrete' }, true],
  ['deterministic mode', { variational: false }, false],
];

for (const [name, extra, discrete] of CASES) {
  test(`semi² ${name}: the gradient of −J (eq 15, every source) matches central finite differences`, () => {
    const m = make(extra);
    const b = batch(discrete);
    // the same noise at every evaluation: −J is a smooth function of the weights (tanh networks)
    const f = () => m.loss(b, new Rng(3), W);
    const vars = m.params.list().filter((v) => v.trainable);
    const { value, grads } = tf.variableGrads(f, vars);
    assert.ok(Number.isFinite(value.dataSync()[0]), 'finite loss');
    value.dispose();
    const weights = m.params.entries().filter(([n]) => n.endsWith('.W'));
    let checked = 0;
    for (const [pname, v] of weights) {
      const gv = grads[v.name].dataSync();
      let i = 0;
      for (let j = 1; j < gv.length; j++) if (Math.abs(gv[j]) > Math.abs(gv[i])) i = j;
      if (Math.abs(gv[i]) < 1e-3) continue;
      const fd = finiteDifference(v, i, 1e-2, f);
      assertClose(fd, gv[i], { atol: 3e-3, rtol: 2e-2, msg: `${pname}[${i}]` });
      checked++;
    }
    // qy, qz and px each have a hidden layer and a head: at least those six weight matrices
    assert.ok(checked >= 5, `only ${checked} of ${weights.length} weight matrices had a gradient to check: ${weights.map(([n]) => n).join(', ')}`);
    tf.dispose([...Object.values(grads), b.labelled.x, b.labelled.y, b.unlabelled.x, b.unfeatured.y]);
    m.dispose();
  });

  test(`semi² ${name}: no tensor leaks over training steps, bounds, prediction and generation`, async () => {
    const m = make(extra);
    const b = batch(discrete);
    const vars = m.params.list().filter((v) => v.trainable);
    const rng = new Rng(1);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => m.loss(b, rng, W), vars);
      tf.tidy(() => vars.forEach((v) => v.assign(tf.sub(v, tf.mul(grads[v.name], 1e-3)))));
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    for (let i = 0; i < 3; i++) await assertNoLeak(step, `step ${i} leaked`);
    await assertNoLeak(() => {
      const zz = m.samplePriorZ(4, rng);
      tf.dispose([zz, m.predict(b.unlabelled.x), m.sampleY(b.unlabelled.x, 3, rng), m.generate(b.labelled.y, zz)]);
      if (m.config.variational) tf.dispose([m.boundLabelledForward(b.labelled.x, b.labelled.y, rng), m.boundUnlabelled(b.unlabelled.x, rng), m.boundUnfeatured(b.unfeatured.y, rng)]);
    }, 'evaluation leaked');
    tf.dispose([b.labelled.x, b.labelled.y, b.unlabelled.x, b.unfeatured.y]);
    m.dispose();
  });
}
