import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, finiteDifference, setupEngine, take } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { bound, iwaeFromLogWeights, logWeights } from '../objectives/bounds.js';
import { Lvae, LvaeConfigSchema, precisionWeightedMerge } from './lvae.js';

await setupEngine();

test('precisionWeightedMerge: the normalised product of two Gaussians, against the product density on a grid', () => {
  const [m1, s1, m2, s2] = [0.7, 0.5, -0.4, 1.3];
  const got = precisionWeightedMerge(tf.tensor1d([m1]), tf.tensor1d([s1]), tf.tensor1d([m2]), tf.tensor1d([s2]));
  // the product density's mean and variance by quadrature
  let w = 0;
  let m = 0;
  let v = 0;
  for (let z = -8; z <= 8; z += 1e-3) {
    const p = Math.exp(-((z - m1) ** 2) / (2 * s1 * s1) - ((z - m2) ** 2) / (2 * s2 * s2));
    w += p;
    m += p * z;
    v += p * z * z;
  }
  m /= w;
  v = v / w - m * m;
  assertClose(take(got.loc), [m], { atol: 1e-4 });
  assertClose(take(got.scale), [Math.sqrt(v)], { atol: 1e-4 });
});

const D = 6;
const make = (inference: 'ladder' | 'bottom-up', extra: Record<string, unknown> = {}) =>
  new Lvae(LvaeConfigSchema.parse({ type: 'lvae', inference, latent: [4, 3, 2], hidden: [8, 6, 5], depth: 1, activation: 'tanh', inputDim: D, ...extra }), new Rng(5));
const xBin = tf.tidy(() => tf.cast(tf.greater(new Rng(9).normal([64, D]), 0), 'float32'));

for (const inference of ['ladder', 'bottom-up'] as const) {
  test(`${inference}: ELBO ≤ IWAE(5) ≤ IWAE(50) on average; log-terms are [k, B]; no tensor leaks`, async () => {
    const m = make(inference);
    const t = m.terms(xBin, 50, new Rng(1));
    assert.deepEqual(t.logLik.shape, [50, 64]);
    assert.deepEqual(t.logPrior.shape, [50, 64]);
    const lw = logWeights(t);
    const mean = (a: tf.Tensor) => take(tf.mean(a))[0];
    const elbo = mean(tf.mean(lw, 0));
    const iw5 = mean(iwaeFromLogWeights(tf.slice(lw, [0, 0], [5, 64])));
    const iw50 = mean(iwaeFromLogWeights(lw));
    assert.ok(elbo < iw5 && iw5 < iw50, `ELBO ${elbo}, IWAE(5) ${iw5}, IWAE(50) ${iw50}`);
    tf.dispose([t.logLik, t.logPrior, t.logQ, lw]);
    await assertNoLeak(() => {
      const b = tf.tidy(() => bound(m.terms(xBin, 3, new Rng(2)), { kind: 'iwae' }));
      b.dispose();
      m.sample(4, new Rng(3)).dispose();
    });
    m.dispose();
  });

  test(`${inference}: the gradient of −ELBO matches central finite differences on fixed noise`, () => {
    const m = make(inference);
    const x = tf.tidy(() => tf.slice(xBin, [0, 0], [8, D]));
    const f = () => tf.tidy(() => tf.neg(tf.mean(bound(m.terms(x, 1, new Rng(4)), { kind: 'elbo' }))));
    const vars = m.params.list().filter((v) => v.trainable);
    const { value, grads } = tf.variableGrads(f as () => tf.Scalar, vars);
    value.dispose();
    let checked = 0;
    for (const [name, v] of m.params.entries().filter(([n]) => n.endsWith('.W'))) {
      const g = grads[v.name].dataSync();
      let i = 0;
      for (let j = 1; j < g.length; j++) if (Math.abs(g[j]) > Math.abs(g[i])) i = j;
      if (Math.abs(g[i]) < 1e-3) continue;
      assertClose(finiteDifference(v, i, 1e-2, f), g[i], { atol: 3e-3, rtol: 3e-2, msg: `${name}[${i}]` });
      checked++;
    }
    assert.ok(checked >= 6, `checked ${checked} weight matrices`);
    tf.dispose(Object.values(grads));
    x.dispose();
    m.dispose();
  });
}

test('lvae: the ladder per-unit KL below the top is the analytic Gaussian KL (≥ 0 for every row and unit); the networks between z_i and z_{i+1} have the width of layer i + 1 both ways (appendix B §3)', () => {
  const m = make('ladder');
  const x = tf.tidy(() => tf.slice(xBin, [0, 0], [16, D]));
  for (const [i, l] of m.klPerUnit(x, new Rng(3)).entries()) assert.ok(take(l).every((v) => v >= 0), `layer ${i + 1} has a negative KL`);
  // hidden [8, 6, 5]: p(z1 | z2) has width 6, p(z2 | z3) width 5; q(z2 | ·) 6, q(z3 | ·) 5; p(x | z1) 8
  const shape = (n: string) => m.params.get(n).shape;
  assert.deepEqual([shape('p1.dense0.W'), shape('p2.dense0.W'), shape('q2.dense0.W'), shape('q3.dense0.W'), shape('px.dense0.W')], [[3, 6], [2, 5], [8, 6], [6, 5], [4, 8]]);
  x.dispose();
  m.dispose();
});

test('lvae config: one hidden width per stochastic layer', () => {
  assert.throws(() => LvaeConfigSchema.parse({ type: 'lvae', latent: [4, 2], hidden: [8] }), /hidden needs one width per stochastic layer/);
});

test('klPerUnit: the top layer is the analytic KL (against Monte Carlo over 4000 draws); every layer reports [B, d_i]; active units per layer', async () => {
  const { activeUnits } = await import('../eval/active-units.js');
  const one = new Lvae(LvaeConfigSchema.parse({ type: 'lvae', latent: [3], hidden: [8], depth: 1, activation: 'tanh', inputDim: D }), new Rng(6));
  const x = tf.tidy(() => tf.slice(xBin, [0, 0], [4, D]));
  const kl = take(tf.tidy(() => tf.sum(one.klPerUnit(x, new Rng(1))[0], -1)));
  const t = one.terms(x, 4000, new Rng(2));
  const mc = take(tf.tidy(() => tf.mean(tf.sub(t.logQ, t.logPrior), 0)));
  assertClose(mc, kl, { atol: 0.05 });
  tf.dispose([t.logLik, t.logPrior, t.logQ]);
  one.dispose();
  for (const inference of ['ladder', 'bottom-up'] as const) {
    const m = make(inference);
    const layers = m.klPerUnit(x, new Rng(3));
    assert.deepEqual(layers.map((l) => l.shape), [[4, 4], [4, 3], [4, 2]]);
    tf.dispose(layers);
    const means = m.posteriorMeans(x);
    assert.deepEqual(means.map((l) => l.shape), [[4, 4], [4, 3], [4, 2]]);
    tf.dispose(means);
    const au = activeUnits(m, xBin.dataSync() as Float32Array, D, { rng: new Rng(4) });
    assert.deepEqual(au.layers.map((l) => l.dim), [4, 3, 2]);
    m.dispose();
  }
  x.dispose();
});

test('batchNormHeads: batch norm on the μ/σ layers of every latent Gaussian; training steps use the batch statistics (the gradient reaches γ), evaluation the running averages (the posterior mean of a row does not depend on its batch)', () => {
  const m = new Lvae(LvaeConfigSchema.parse({ type: 'lvae', latent: [4, 2], hidden: [8, 6], depth: 1, activation: 'tanh', batchNorm: true, batchNormHeads: true, inputDim: D }), new Rng(8));
  const heads = m.params.names().filter((n) => /\.z\.bn\.gamma$/.test(n));
  assert.deepEqual(heads.sort(), ['p1.z.bn.gamma', 'q1.z.bn.gamma', 'q2.z.bn.gamma']);
  const x = tf.tidy(() => tf.slice(xBin, [0, 0], [6, D]));
  const vars = m.params.entries().filter(([n]) => heads.includes(n));
  const { value, grads } = tf.variableGrads(() => tf.neg(tf.mean(bound(m.terms(x, 1, new Rng(1)), { kind: 'elbo' }))) as tf.Scalar, vars.map(([, v]) => v));
  for (const [n, v] of vars) assert.ok(take(grads[v.name]).some((g) => g !== 0), `${n}: no gradient`);
  tf.dispose([value, ...Object.values(grads)]);
  const alone = take(m.posteriorMeans(tf.slice(x, [0, 0], [1, D]))[1]);
  const inBatch = take(m.posteriorMeans(x)[1]).slice(0, 2);
  assertClose(alone, inBatch, { atol: 1e-6 });
  // without it the heads have no batch norm (older runs load unchanged)
  const plain = new Lvae(LvaeConfigSchema.parse({ type: 'lvae', latent: [4, 2], hidden: [8, 6], batchNorm: true, inputDim: D }), new Rng(8));
  assert.equal(plain.params.names().filter((n) => n.includes('.z.bn')).length, 0);
  plain.dispose();
  x.dispose();
  m.dispose();
});
