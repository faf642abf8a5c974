import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupEngine, assertClose, gradientsByName, take } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { Normal } from '../dists/normal.js';
import { SemiSupervisedDgm, SslConfigSchema } from './ssl.js';
import { enumerateClasses, perClass } from './enumerate.js';

await setupEngine();

const D = 6;
const K = 3;
function model(type: 'm2' | 'adgm' | 'sdgm', extra: Record<string, unknown> = {}): SemiSupervisedDgm {
  return new SemiSupervisedDgm(SslConfigSchema.parse({ type, classes: K, latent: 2, auxiliary: 3, hidden: [8], activation: 'tanh', inputDim: D, ...extra }), new Rng(1));
}
const x = tf.tidy(() => tf.cast(tf.less(new Rng(2).uniform([4, D]), 0.5), 'float32'));

test('enumerateClasses pairs every row with every class, class-major; perClass folds back', () => {
  const t = tf.tensor2d([[1], [2]]);
  const { y, tiled } = enumerateClasses(3, [t]);
  assert.deepEqual(take(tiled[0]), [1, 2, 1, 2, 1, 2]);
  assert.deepEqual(take(tf.argMax(y, -1)), [0, 0, 1, 1, 2, 2]);
  y.dispose();
  const folded = perClass(tf.tensor1d([10, 20, 11, 21, 12, 22]), 3);
  assert.deepEqual(folded.shape, [2, 3]);
  assert.deepEqual(take(folded), [10, 11, 12, 20, 21, 22]);
  t.dispose();
  assert.throws(() => perClass(tf.zeros([5]), 3), /do not divide/);
});

for (const [type, extra] of [['m2', {}], ['adgm', {}], ['adgm', { auxPriorX: true }], ['sdgm', {}]] as const) {
  test(`${type}${'auxPriorX' in extra ? ' with p(a | z, y, x)' : ''}: the enumerated unlabelled bound equals a hand-written loop over the K classes`, () => {
    const m = model(type, extra);
    const beta = 0.7;
    const got = take(m.unlabelled(x, new Rng(5), beta));
    // the same noise: a drawn first for the batch, then z for class 0, 1, 2 in turn
    const rng = new Rng(5);
    const want = tf.tidy(() => {
      let a: tf.Tensor | undefined;
      let logQa: tf.Tensor | undefined;
      if (type !== 'm2') {
        const qa = m.encodeAux(x);
        a = qa.rsample(rng);
        logQa = qa.logProb(a);
      }
      const logq = tf.logSoftmax(m.classLogits(x, a));
      const q = tf.exp(logq);
      let sum: tf.Tensor = tf.zeros([x.shape[0]]);
      const zs: tf.Tensor[] = [];
      const qzs: Normal[] = [];
      for (let k = 0; k < K; k++) {
        const y = tf.cast(tf.oneHot(tf.fill([x.shape[0]], k, 'int32'), K), 'float32');
        const qz = m.encode(x, y, a);
        qzs.push(qz);
        zs.push(qz.rsample(rng));
      }
      for (let k = 0; k < K; k++) {
        const y = tf.cast(tf.oneHot(tf.fill([x.shape[0]], k, 'int32'), K), 'float32');
        const zk = zs[k];
        let lat = tf.sub(new Normal(tf.zeros([2]), tf.ones([2])).logProb(zk), qzs[k].logProb(zk));
        if (a) lat = tf.add(lat, m.auxPrior(zk, y, x).logProb(a));
        const f = tf.add(tf.add(m.logPx(x, zk, y, a), -Math.log(K)), tf.mul(lat, beta));
        sum = tf.add(sum, tf.mul(tf.gather(q, [k], 1).reshape([-1]), f));
      }
      const entropy = tf.neg(tf.sum(tf.mul(q, logq), -1));
      assert.ok(entropy.dataSync().every((h) => h > 0), 'entropy of q(y|·) is positive');
      let u = tf.add(sum, entropy); // + H: the bound is Σ q f + H(q), not − H
      if (logQa) u = tf.sub(u, tf.mul(logQa, beta));
      return u;
    });
    assertClose(got, take(want), { atol: 1e-3, rtol: 1e-4 });
    m.dispose();
  });
}

test('adgm: p(a | z, y) by default (appendix A §3); auxPriorX: true gives eq 5\'s p(a | z, y, x); the sdgm rejects it', () => {
  const zz = tf.tidy(() => new Rng(3).normal([4, 2]));
  const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), K), 'float32'));
  const x2 = tf.tidy(() => tf.sub(1, x));
  const change = (m: SemiSupervisedDgm) => tf.tidy(() => tf.max(tf.abs(tf.sub(m.auxPrior(zz, y, x).mean(), m.auxPrior(zz, y, x2).mean()))).dataSync()[0]);
  const plain = model('adgm');
  assert.equal(plain.config.auxPriorX, false);
  assert.equal(change(plain), 0, 'p(a | z, y) ignores x');
  const eq5 = model('adgm', { auxPriorX: true });
  const d = change(eq5);
  assert.ok(d > 1e-4, `p(a | z, y, x) changes with x (max change ${d})`);
  assert.throws(() => eq5.auxPrior(zz, y), /needs x/);
  assert.throws(() => model('sdgm', { auxPriorX: true }), /ADGM only/);
  assert.equal(model('sdgm').config.auxPriorX, undefined);
  for (const m of [plain, eq5]) m.dispose();
  tf.dispose([zz, y, x2]);
});

test('M2 unlabelled bound lies below log Σ_y exp f(x, y) (equality only when q(y|x) is the posterior)', () => {
  const m = model('m2');
  const u = take(m.unlabelled(x, new Rng(9)));
  const rng = new Rng(9);
  const lse = tf.tidy(() => {
    const { y, tiled } = enumerateClasses(K, [x]);
    const qz = m.encode(tiled[0], y);
    const zz = qz.rsample(rng);
    const f = tf.add(tf.add(m.logPx(tiled[0], zz, y), -Math.log(K)), tf.sub(new Normal(tf.zeros([2]), tf.ones([2])).logProb(zz), qz.logProb(zz)));
    return tf.logSumExp(perClass(f, K), -1);
  });
  const l = take(lse);
  u.forEach((v, i) => assert.ok(v <= l[i] + 1e-4, `U ${v} > logsumexp ${l[i]}`));
  m.dispose();
});

test('M2 with every label observed: the loss is −mean labelled bound + α·mean cross-entropy', () => {
  const m = model('m2');
  const labels = tf.tensor1d([0, 2, 1, 2], 'int32');
  const y = tf.cast(tf.oneHot(labels, K), 'float32');
  const alpha = 2.5;
  const loss = take(m.loss({ labelled: { x, y } }, new Rng(4), { alpha }))[0];
  const rng = new Rng(4);
  const want = tf.tidy(() => {
    const qz = m.encode(x, y);
    const zz = qz.rsample(rng);
    const bound = tf.add(tf.add(m.logPx(x, zz, y), -Math.log(K)), tf.sub(new Normal(tf.zeros([2]), tf.ones([2])).logProb(zz), qz.logProb(zz)));
    const ce = tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(m.classLogits(x))), -1));
    return tf.add(tf.neg(tf.mean(bound)), tf.mul(tf.mean(ce), alpha));
  });
  assertClose(loss, take(want)[0], { atol: 1e-4, rtol: 1e-5 });
  tf.dispose([labels, y]);
  m.dispose();
});

test('Concrete estimator and several samples give finite bounds with gradients to every network', () => {
  const m = model('adgm', { yEstimator: 'concrete', samples: 3 });
  const y = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), K), 'float32');
  const vars = m.params.list();
  const { value, grads } = tf.variableGrads(() => m.loss({ labelled: { x, y }, unlabelled: { x } }, new Rng(3), { alpha: 1, beta: 0.5 }), vars);
  assert.ok(Number.isFinite(value.dataSync()[0]));
  for (const v of vars) {
    const g = grads[v.name];
    assert.ok(g, `gradient for ${v.name}`);
    assert.ok(tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]) > 0, `non-zero gradient for ${v.name}`);
  }
  tf.dispose([value, y, ...Object.values(grads)]);
  m.dispose();
});

test('classify gives probabilities; analogies decode every class; bad labels are clear errors', () => {
  for (const type of ['m2', 'adgm', 'sdgm'] as const) {
    const m = model(type);
    const p = m.classify(x);
    assert.deepEqual(p.shape, [4, K]);
    assertClose(take(tf.sum(p, -1)), [1, 1, 1, 1], { atol: 1e-5 });
    p.dispose();
    const an = m.analogies(x);
    assert.deepEqual(an.shape, [K, 4, D]);
    an.dispose();
    assert.throws(() => m.labelled(x, tf.zeros([4, K + 1]), new Rng(1)), /one-hot \[4, 3\]/);
    m.dispose();
  }
  assert.throws(() => SslConfigSchema.parse({ type: 'm3' }));
});

test('adgm with batch norm: a labelled training pass leaves the running averages alone, an unlabelled one moves them', () => {
  const m = model('adgm', { batchNorm: true });
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), K);
  const names = m.params.names().filter((n) => n.endsWith('.runMean') && (n.startsWith('qy.') || n.startsWith('qa.')));
  assert.equal(names.length, 2, 'q(a|x) and q(y|a,x) each have one batch-normalised layer');
  const snap = () => names.map((n) => Array.from(m.params.get(n).dataSync()));
  const start = snap();
  // training mode is "tfjs records gradients", as in a training step
  const step = (batch: Parameters<SemiSupervisedDgm['loss']>[0]) => tf.dispose(tf.variableGrads(() => m.loss(batch, new Rng(3), { alpha: 1 }), m.params.list().filter((v) => v.trainable)).grads);
  step({ labelled: { x, y } });
  snap().forEach((v, i) => assert.deepEqual(v, start[i], `${names[i]} moved in a labelled pass`));
  step({ unlabelled: { x } });
  snap().forEach((v, i) => assert.ok(v.some((u, j) => Math.abs(u - start[i][j]) > 1e-6), `${names[i]} did not move in an unlabelled pass`));
  y.dispose();
  m.params.dispose();
});

test('unlabelledQy scales exactly the unlabelled bound\'s gradient into q(y | a, x) for M2, ADGM, SDGM; the default α is the input width D', () => {
  const yl = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 2, 1, 1], 'int32'), K).toFloat());
  for (const type of ['m2', 'adgm', 'sdgm'] as const) {
    const m = model(type);
    const grads = (u: number) => {
      const r = gradientsByName(m.params, () => m.loss({ unlabelled: { x } }, new Rng(4), { alpha: 1, unlabelledQy: u }));
      return { loss: r.value, out: r.grads };
    };
    const full = grads(1);
    const half = grads(0.5);
    const cut = grads(0);
    assert.equal(half.loss, full.loss, `${type}: the value does not depend on the factor`);
    let qyMass = 0;
    for (const name of Object.keys(full.out)) {
      const f = full.out[name];
      for (let i = 0; i < f.length; i++) {
        if (name.startsWith('qy.')) {
          qyMass += Math.abs(f[i]);
          assertClose(half.out[name][i], 0.5 * f[i], { atol: 1e-7, rtol: 1e-4, msg: `${type} ${name}[${i}] halved` });
          assert.equal(cut.out[name][i] ?? 0, 0, `${type} ${name}[${i}] cut`);
        } else assertClose(cut.out[name][i], f[i], { atol: 1e-7, rtol: 1e-4, msg: `${type} ${name}[${i}] unchanged` });
      }
    }
    assert.ok(qyMass > 1e-4, `${type}: the full bound does pull q(y | ·)`);
    const byDefault = tf.tidy(() => m.loss({ labelled: { x, y: yl } }, new Rng(5), {}).dataSync()[0]);
    const atD = tf.tidy(() => m.loss({ labelled: { x, y: yl } }, new Rng(5), { alpha: D }).dataSync()[0]);
    const at1 = tf.tidy(() => m.loss({ labelled: { x, y: yl } }, new Rng(5), { alpha: 1 }).dataSync()[0]);
    assert.equal(byDefault, atD, `${type}: default α = D`);
    assert.notEqual(byDefault, at1);
    assert.throws(() => m.loss({ unlabelled: { x } }, new Rng(4), { unlabelledQy: -0.1 }), /unlabelledQy must be in \[0, 1\]/);
    m.dispose();
  }
  yl.dispose();
});
