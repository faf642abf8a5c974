/**
 * M2 / ADGM / SDGM on the objectives of `objectives/semi-supervised.ts`: IWAE(k) and the IW
 * log-likelihood, finite-difference gradient checks of J^α, and tensor-leak checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, finiteDifference, repeatedMean, setupEngine, take } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { iwaeFromLogWeights } from '../objectives/bounds.js';
import { Normal } from '../dists/normal.js';
import { enumerateClasses, perClass } from '../objectives/enumerate.js';
import { SemiSupervisedDgm, SslConfigSchema } from './ssl.js';

await setupEngine();

const D = 6;
const K = 3;
const VARIANTS = [
  ['m2', {}],
  ['adgm', {}],
  ['adgm', { auxPriorX: true }],
  ['sdgm', {}],
] as const;
const label = (type: string, extra: object) => `${type}${'auxPriorX' in extra ? ' (p(a | z, y, x))' : ''}`;

function model(type: 'm2' | 'adgm' | 'sdgm', extra: Record<string, unknown> = {}, seed = 1): SemiSupervisedDgm {
  return new SemiSupervisedDgm(SslConfigSchema.parse({ type, classes: K, latent: 2, auxiliary: 3, hidden: [8], activation: 'tanh', inputDim: D, ...extra }), new Rng(seed));
}
const x = tf.tidy(() => tf.cast(tf.less(new Rng(2).uniform([5, D]), 0.5), 'float32'));
const labels = Int32Array.from([0, 2, 1, 1, 0]);
const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), K), 'float32'));

for (const [type, extra] of VARIANTS) {
  test(`${label(type, extra)}: IWAE(1) is the labelled bound and lies above the unlabelled bound of the same draws`, () => {
    const m = model(type, extra);
    assertClose(take(m.iwae(x, 1, new Rng(7), y)), take(m.labelled(x, y, new Rng(7)).bound), { atol: 1e-4, rtol: 1e-6 });
    // the labels as class indices give the same weights as one-hot rows
    assertClose(take(m.logWeights(x, 2, new Rng(8), labels)), take(m.logWeights(x, 2, new Rng(8), y)), { atol: 0 });
    const iw1 = take(m.iwae(x, 1, new Rng(9)));
    const u = take(m.unlabelled(x, new Rng(9)));
    iw1.forEach((v, i) => assert.ok(v >= u[i] - 1e-4, `IWAE(1) ${v} < −U ${u[i]} at row ${i}`));
    m.dispose();
  });
}

for (const [type, extra] of VARIANTS) {
  test(`${label(type, extra)}: the unlabelled importance weight is log Σ_y p(x, y, z_y, a)/q(z_y | ·) − log q(a | x), written out by hand`, () => {
    const m = model(type, extra);
    const got = take(m.logWeights(x, 1, new Rng(9)));
    // the same noise: a for the batch, then z for the K·B class-major rows at once
    const rng = new Rng(9);
    const want = tf.tidy(() => {
      let a: tf.Tensor | undefined;
      let logQa: tf.Tensor = tf.zeros([x.shape[0]]);
      if (type !== 'm2') {
        const qa = m.encodeAux(x);
        a = qa.rsample(rng);
        logQa = qa.logProb(a);
      }
      const { y: ys, tiled } = enumerateClasses(K, a ? [x, a] : [x]);
      const qz = m.encode(tiled[0], ys, tiled[1]);
      const zz = qz.rsample(rng);
      let lw = tf.add(tf.add(m.logPx(tiled[0], zz, ys, tiled[1]), -Math.log(K)), tf.sub(new Normal(tf.zeros([2]), tf.ones([2])).logProb(zz), qz.logProb(zz)));
      if (a) lw = tf.add(lw, m.auxPrior(zz, ys, tiled[0]).logProb(tiled[1]));
      return tf.sub(tf.logSumExp(perClass(lw, K), -1), logQa);
    });
    assertClose(got, take(want), { atol: 1e-3, rtol: 1e-5 });
    m.dispose();
  });
}

for (const [type, extra] of VARIANTS) {
  test(`${label(type, extra)}: IWAE(k) ≥ ELBO on average and increases with k (labelled and unlabelled)`, () => {
    const m = model(type, extra, 3);
    const reps = 40;
    const mean = (f: (r: Rng) => tf.Tensor) => repeatedMean(f, reps, 11);
    for (const observed of [true, false]) {
      const yy = observed ? y : undefined;
      const elbo = mean((r) => (observed ? m.labelled(x, y, r).bound : m.unlabelled(x, r)));
      const iw = [1, 5, 50].map((k) => mean((r) => m.iwae(x, k, r, yy)));
      const what = observed ? 'log p(x, y)' : 'log p(x)';
      // noise allowance: three standard errors of the difference
      const tol = (a: { se: number }, b: { se: number }) => 3 * Math.sqrt(a.se ** 2 + b.se ** 2);
      assert.ok(iw[0].mu >= elbo.mu - tol(iw[0], elbo), `${what}: IWAE(1) ${iw[0].mu} < ELBO ${elbo.mu}`);
      assert.ok(iw[1].mu > iw[0].mu - tol(iw[1], iw[0]), `${what}: IWAE(5) ${iw[1].mu} < IWAE(1) ${iw[0].mu}`);
      assert.ok(iw[2].mu > iw[1].mu - tol(iw[2], iw[1]), `${what}: IWAE(50) ${iw[2].mu} < IWAE(5) ${iw[1].mu}`);
      assert.ok(iw[2].mu > elbo.mu + tol(iw[2], elbo), `${what}: IWAE(50) ${iw[2].mu} not above ELBO ${elbo.mu} (± ${elbo.se})`);
    }
    m.dispose();
  });
}

test('logLikelihood combines its chunks of samples exactly, equals IWAE(k) unchunked, and fits eval/loglik-style labels', () => {
  const m = model('adgm');
  const k = 6;
  // unchunked: the same draws as iwae
  assertClose(take(m.logLikelihood(x, undefined, k, new Rng(4), 1e9)), take(m.iwae(x, k, new Rng(4))), { atol: 1e-4 });
  // chunks of 2 samples (K·2·B rows ≤ maxRows): log-mean-exp of the three chunks' weights
  const B = x.shape[0];
  const chunked = take(m.logLikelihood(x, undefined, k, new Rng(4), K * 2 * B));
  const rng = new Rng(4);
  const want = tf.tidy(() => iwaeFromLogWeights(tf.concat([0, 1, 2].map(() => m.logWeights(x, 2, rng)), 0)));
  assertClose(chunked, take(want), { atol: 1e-4 });
  // labelled rows: chunks of 3 samples of B rows
  const lab = take(m.logLikelihood(x, labels, k, new Rng(5), 3 * B));
  const rng2 = new Rng(5);
  const wantLab = tf.tidy(() => iwaeFromLogWeights(tf.concat([0, 1].map(() => m.logWeights(x, 3, rng2, labels)), 0)));
  assertClose(lab, take(wantLab), { atol: 1e-4 });
  assert.throws(() => m.logLikelihood(x, undefined, 0, new Rng(1)), /integer ≥ 1/);
  assert.throws(() => m.iwae(x, 2, new Rng(1), new Int32Array([0, 1])), /one-hot \[5, 3\]/);
  m.dispose();
});

test('M2: the IW estimates of log p(x) and of log Σ_y p(x, y) from the labelled estimates agree (p(x) = Σ_y p(x, y))', () => {
  const m = model('m2');
  const B = x.shape[0];
  const px = take(m.logLikelihood(x, undefined, 1000, new Rng(6)));
  const pxy = Array.from({ length: K }, (_, c) => take(m.logLikelihood(x, new Int32Array(B).fill(c), 1000, new Rng(7 + c))));
  px.forEach((v, i) => {
    const col = pxy.map((r) => r[i]);
    const mx = Math.max(...col);
    const lse = mx + Math.log(col.reduce((acc, u) => acc + Math.exp(u - mx), 0));
    assertClose(v, lse, { atol: 0.3, rtol: 0, msg: `row ${i}` });
    col.forEach((u) => assert.ok(u < v, `log p(x, y) ${u} above log p(x) ${v}`));
  });
  m.dispose();
});

for (const [type, extra, estimator] of [...VARIANTS.map(([t, e]) => [t, e, 'enumerate'] as const), ['adgm', {}, 'concrete'] as const]) {
  test(`${label(type, extra)}, ${estimator}: J^α's gradient matches central finite differences`, () => {
    const m = model(type, { ...extra, yEstimator: estimator }, 5);
    const xu = tf.tidy(() => tf.cast(tf.less(new Rng(12).uniform([4, D]), 0.5), 'float32'));
    // the same noise at every evaluation: the loss is a smooth function of the weights (tanh nets)
    const f = () => m.loss({ labelled: { x, y }, unlabelled: { x: xu } }, new Rng(3), { alpha: 1.5, beta: 0.8 });
    const vars = m.params.list().filter((v) => v.trainable);
    const { value, grads } = tf.variableGrads(f, vars);
    value.dispose();
    // every network's weight matrices (first layer and head), at the entry of largest gradient
    const weights = m.params.entries().filter(([n]) => n.endsWith('.W'));
    assert.equal(weights.length, type === 'm2' ? 6 : 10, `weights found: ${weights.map(([n]) => n).join(', ')}`);
    let checked = 0;
    for (const [name, v] of weights) {
      const gv = grads[v.name].dataSync();
      let i = 0;
      for (let j = 1; j < gv.length; j++) if (Math.abs(gv[j]) > Math.abs(gv[i])) i = j;
      if (Math.abs(gv[i]) < 1e-3) continue;
      const fd = finiteDifference(v, i, 1e-2, f);
      assertClose(fd, gv[i], { atol: 2e-3, rtol: 1e-2, msg: `${name}[${i}]` });
      checked++;
    }
    assert.ok(checked >= (type === 'm2' ? 5 : 8), `only ${checked} weights checked`);
    tf.dispose([xu, ...Object.values(grads)]);
    m.dispose();
  });
}

for (const [type, extra] of VARIANTS) {
  for (const batchNorm of [false, true]) {
    test(`${label(type, extra)}${batchNorm ? ' with batch norm' : ''}: no tensor leaks over loss + gradient steps, IWAE and log-likelihood`, async () => {
      const xu = tf.tidy(() => tf.cast(tf.less(new Rng(13).uniform([4, D]), 0.5), 'float32'));
      for (const yEstimator of ['enumerate', 'concrete'] as const) {
        const m = model(type, { ...extra, batchNorm, yEstimator, samples: 2 }, 6);
        const vars = m.params.list().filter((v) => v.trainable);
        const rng = new Rng(1);
        const step = () => {
          const { value, grads } = tf.variableGrads(() => m.loss({ labelled: { x, y }, unlabelled: { x: xu } }, rng, { alpha: 1, beta: 0.5 }), vars);
          // a plain gradient step, so that later steps see new weights
          tf.tidy(() => vars.forEach((v) => v.assign(tf.sub(v, tf.mul(grads[v.name], 1e-3)))));
          tf.dispose([value, ...Object.values(grads)]);
        };
        step();
        const counts: number[] = [];
        for (let i = 0; i < 4; i++) {
          await assertNoLeak(step, `${yEstimator}: step ${i} leaked`);
          counts.push(tf.memory().numTensors);
        }
        assert.ok(counts.every((c) => c === counts[0]), `tensor count moved: ${counts}`);
        await assertNoLeak(() => {
          tf.dispose([m.iwae(x, 3, rng), m.iwae(x, 3, rng, labels), m.logLikelihood(x, undefined, 5, rng, 2 * K * 5), m.logLikelihood(x, y, 4, rng, 10)]);
          tf.dispose(m.labelled(x, y, rng));
          tf.dispose([m.unlabelled(x, rng), m.loss({ unlabelled: { x } }, rng, { alpha: 1 })]);
          tf.dispose(m.labelledTerms(x, y, rng) as unknown as tf.TensorContainer);
          tf.dispose(m.unlabelledTerms(x, rng) as unknown as tf.TensorContainer);
        }, `${yEstimator}: evaluation leaked`);
        assert.ok(!y.isDisposed, 'the caller\'s labels survive disposing the labelled terms');
        m.dispose();
      }
      xu.dispose();
    });
  }
}
