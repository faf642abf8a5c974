/**
 * One M2 (issue "One model contract …", item 3): the semi² model of `models/semi2.ts` with
 * `zPrior: 'normal'`, discrete labels, exact enumeration, and the reverse terms switched off
 * (α_r = α_r^d = 0, L of eq 13 the cross-entropy, α_f^d = α) is M2 of `models/ssl.ts` trained with
 * J^α (thesis `003_…` eq 4.10). Same weights, same random draws: the same bounds, importance
 * weights, loss and gradients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupEngine, assertClose, take } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { oneHot } from '../dists/categorical.js';
import { SemiSupervisedDgm, SslConfigSchema } from './ssl.js';
import { Semi2ConfigSchema, Semi2Dgm } from './semi2.js';

await setupEngine();

const D = 5;
const K = 3;
const Z = 2;
const H = 6;

/** An SSL M2 and a semi² model with `zPrior: 'normal'` holding the same weights. */
function pair(likelihood: 'gaussian' | 'bernoulli' = 'gaussian'): { m2: SemiSupervisedDgm; s2: Semi2Dgm } {
  const m2 = new SemiSupervisedDgm(SslConfigSchema.parse({ type: 'm2', classes: K, latent: Z, hidden: [H], activation: 'tanh', likelihood, yEstimator: 'enumerate', inputDim: D }), new Rng(1));
  const s2 = new Semi2Dgm(Semi2ConfigSchema.parse({ type: 'untapped', labels: 'discrete', classes: K, latent: Z, zPrior: 'normal', yEstimator: 'enumerate', hidden: { qy: [H], qz: [H], px: [H] }, activation: 'tanh', likelihood, inputDim: D }), new Rng(99));
  const from = m2.params.entries();
  const to = s2.params.entries();
  assert.equal(from.length, to.length);
  from.forEach(([name, v], i) => {
    const [name2, w] = to[i];
    assert.deepEqual(v.shape, w.shape, `${name} vs ${name2}`);
    // p(x | ·)'s first layer reads [z, y] in ssl.ts and [y, z] in semi2.ts: the same matrix, rows permuted
    const value = name === 'px.dense0.W' ? tf.concat([tf.slice(v, [Z, 0], [K, H]), tf.slice(v, [0, 0], [Z, H])], 0) : v;
    w.assign(value);
  });
  return { m2, s2 };
}

const x = new Rng(3).normal([4, D]);
const xBin = tf.tidy(() => tf.cast(tf.greater(new Rng(4).normal([4, D]), 0), 'float32'));
const y = oneHot(Int32Array.from([0, 2, 1, 2]), K);
const xu = new Rng(5).normal([6, D]);

test('One M2: the labelled bound (7) is M2 −L(x, y), the unlabelled bound (8) enumerated is M2 −U(x)', () => {
  for (const lik of ['gaussian', 'bernoulli'] as const) {
    const { m2, s2 } = pair(lik);
    const xx = lik === 'gaussian' ? x : xBin;
    const a = take(m2.labelled(xx, y, new Rng(7)).bound);
    const b = take(s2.boundLabelledForward(xx, y, new Rng(7)));
    assertClose(b, a, { atol: 1e-4, rtol: 1e-5 });
    const xuu = lik === 'gaussian' ? xu : tf.tidy(() => tf.cast(tf.greater(xu, 0), 'float32'));
    const c = take(m2.unlabelled(xuu, new Rng(8)));
    const d = take(s2.boundUnlabelled(xuu, new Rng(8)));
    assertClose(d, c, { atol: 1e-4, rtol: 1e-5 });
    if (xuu !== xu) xuu.dispose();
    m2.dispose();
    s2.dispose();
  }
});

test('One M2: the loss (15) with α_r = 0, L = cross-entropy, α_f^d = α is J^α (eq 4.10), with the same gradients', () => {
  const { m2, s2 } = pair();
  const alpha = 2.5;
  const batch = { labelled: { x, y }, unlabelled: { x: xu } };
  const ga = tf.variableGrads(() => m2.loss(batch, new Rng(11), { alpha }));
  const gb = tf.variableGrads(() => s2.loss(batch, new Rng(11), { alphaF: 1, alphaFd: alpha, alphaR: 0, alphaRd: 0, yLoss: 'ce' }));
  assertClose(gb.value.dataSync()[0], ga.value.dataSync()[0], { atol: 1e-4, rtol: 1e-5 });
  const names = (m: { params: { entries(): [string, tf.Variable][] } }) => new Map(m.params.entries().map(([n, v]) => [v.name, n]));
  const na = names(m2);
  const nb = names(s2);
  const byName = (g: Record<string, tf.Tensor>, n: Map<string, string>) => new Map(Object.entries(g).map(([k, v]) => [n.get(k)!.replace('qz.zt.', 'qz.z.'), v]));
  const A = byName(ga.grads, na);
  const B = byName(gb.grads, nb);
  assert.equal(A.size, 12);
  assert.equal(B.size, 12);
  for (const [n, g] of A) {
    let want = g;
    if (n === 'px.dense0.W') want = tf.concat([tf.slice(g, [Z, 0], [K, H]), tf.slice(g, [0, 0], [Z, H])], 0);
    const got = B.get(n);
    assert.ok(got, `no gradient for ${n}`);
    assertClose(Array.from(got.dataSync()), Array.from(want.dataSync()), { atol: 1e-4, rtol: 1e-4 });
  }
  m2.dispose();
  s2.dispose();
});

test('One M2: importance weights of log p(x) (y enumerated) and of log p(x, y) agree', () => {
  const { m2, s2 } = pair();
  const k = 3;
  assertClose(take(s2.logWeights(xu, k, new Rng(21))), take(m2.logWeights(xu, k, new Rng(21))), { atol: 1e-4, rtol: 1e-5 });
  assertClose(take(s2.logWeights(x, k, new Rng(22), y)), take(m2.logWeights(x, k, new Rng(22), y)), { atol: 1e-4, rtol: 1e-5 });
  m2.dispose();
  s2.dispose();
});

test('zPrior normal: log p(z) is log N(z; 0, I); z outside any box is valid; the default z of generate is 0', () => {
  const { s2 } = pair();
  const zz = tf.tensor2d([[0, 0], [3, -4]]);
  const want = [-Math.log(2 * Math.PI), -Math.log(2 * Math.PI) - 12.5];
  assertClose(take(s2.logPz(zz) as tf.Tensor), want, { atol: 1e-5 });
  assert.throws(() => s2.logPriorZ(), /not constant/);
  s2.checkZ(zz, 'z'); // no box: finite values are in the support
  assert.throws(() => s2.checkZ(tf.tensor2d([[NaN, 0]]), 'z'), /row 0, column 0 is NaN, not a finite number/);
  assert.equal(s2.zCentre(), 0);
  const draws = s2.fillPriorZ(new Rng(1), 4000);
  const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
  const sd = Math.sqrt(draws.reduce((a, b) => a + b * b, 0) / draws.length);
  assert.ok(Math.abs(mean) < 0.05 && Math.abs(sd - 1) < 0.05, `p(z) draws: mean ${mean}, sd ${sd}`);
  s2.dispose();
});
