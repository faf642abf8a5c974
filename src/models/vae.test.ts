import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { assertClose, setupEngine, take } from '../testing/helpers.js';
import { Vae, VaeConfigSchema } from './vae.js';
import { bound } from '../objectives/bounds.js';
import { iwLogLikelihood } from '../eval/loglik.js';

await setupEngine();

const LOG2PI = Math.log(2 * Math.PI);
const tiny = (over: Record<string, unknown> = {}) =>
  new Vae(VaeConfigSchema.parse({ type: 'vae', latent: [2], hidden: [[5]], inputDim: 4, activation: 'tanh', ...over }), new Rng(11));

test('terms equal their hand-written formulas on fixed weights and noise', () => {
  const m = tiny();
  const x = tf.tensor2d([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 1, 1]]);
  const k = 3;
  const B = 3;
  const t = m.terms(x, k, new Rng(5));
  assert.deepEqual(t.logLik.shape, [k, B]);
  assert.deepEqual(t.logPrior.shape, [k, B]);
  assert.deepEqual(t.logQ.shape, [k, B]);
  assert.deepEqual(t.kl!.shape, [B]);
  // rebuild z from the same noise
  const q = m.encode(x);
  const mu = Array.from(q.mean().dataSync());
  const sd = Array.from(q.stddev().dataSync());
  const eps = Array.from(new Rng(5).normal([k, B, 2]).dataSync());
  const z = eps.map((e, i) => mu[i % (B * 2)] + sd[i % (B * 2)] * e);
  const p = Array.from(m.decode(tf.tensor3d(z, [k, B, 2])).mean().dataSync());
  const xs = Array.from(x.dataSync());
  const ll = take(t.logLik);
  const lp = take(t.logPrior);
  const lq = take(t.logQ);
  const kl = take(t.kl!);
  for (let j = 0; j < k; j++) {
    for (let b = 0; b < B; b++) {
      let sLL = 0;
      for (let d = 0; d < 4; d++) {
        const pi = p[(j * B + b) * 4 + d];
        const xi = xs[b * 4 + d];
        sLL += xi * Math.log(pi) + (1 - xi) * Math.log(1 - pi);
      }
      let sP = 0;
      let sQ = 0;
      for (let d = 0; d < 2; d++) {
        const zz = z[(j * B + b) * 2 + d];
        const m_ = mu[b * 2 + d];
        const s_ = sd[b * 2 + d];
        sP += -0.5 * zz * zz - 0.5 * LOG2PI;
        sQ += -0.5 * ((zz - m_) / s_) ** 2 - Math.log(s_) - 0.5 * LOG2PI;
      }
      assertClose(ll[j * B + b], sLL, { atol: 1e-4, rtol: 1e-4, msg: 'logLik' });
      assertClose(lp[j * B + b], sP, { atol: 1e-4, msg: 'logPrior' });
      assertClose(lq[j * B + b], sQ, { atol: 1e-4, msg: 'logQ' });
    }
  }
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let d = 0; d < 2; d++) s += 0.5 * (sd[b * 2 + d] ** 2 + mu[b * 2 + d] ** 2 - 1 - 2 * Math.log(sd[b * 2 + d]));
    assertClose(kl[b], s, { atol: 1e-5, msg: 'KL' });
  }
  m.dispose();
  x.dispose();
});

test('analytic KL agrees with the Monte Carlo estimate E_q[log q − log p]', () => {
  const m = tiny();
  const x = tf.tensor2d([[1, 0, 1, 1]]);
  const t = m.terms(x, 20000, new Rng(6));
  const mc = take(tf.mean(tf.sub(t.logQ, t.logPrior)));
  const sdv = take(tf.moments(tf.sub(t.logQ, t.logPrior)).variance);
  const kl = take(t.kl!)[0];
  assert.ok(Math.abs(mc[0] - kl) < 4 * Math.sqrt(sdv[0] / 20000) + 1e-4, `MC ${mc[0]} vs analytic ${kl}`);
  tf.dispose([t.logLik, t.logPrior, t.logQ, x]);
  m.dispose();
});

test('ELBO ≤ IWAE(k) ≤ IWAE(k′) for k < k′ (averaged over a batch), for one and two stochastic layers', () => {
  for (const cfg of [{}, { latent: [3, 2], hidden: [[6], [4]] }]) {
    const m = tiny(cfg);
    const rngX = new Rng(1);
    const x = tf.tensor2d(Array.from({ length: 64 * 4 }, () => (rngX.next() < 0.5 ? 1 : 0)), [64, 4]);
    const est = (kind: 'elbo' | 'iwae', k: number) => {
      let s = 0;
      for (let r = 0; r < 4; r++) s += take(tf.mean(bound(m.terms(x, k, new Rng(100 + r)), { kind, analyticKl: false })))[0];
      return s / 4;
    };
    const elbo = est('elbo', 1);
    const i5 = est('iwae', 5);
    const i50 = est('iwae', 50);
    assert.ok(elbo < i5 && i5 < i50, `expected ELBO ${elbo} < IWAE5 ${i5} < IWAE50 ${i50}`);
    // IWAE(1) is the ELBO on the same noise
    assertClose(take(bound(m.terms(x, 1, new Rng(7)), { kind: 'iwae' })), take(bound(m.terms(x, 1, new Rng(7)), { kind: 'elbo', analyticKl: false })), { atol: 1e-5 });
    x.dispose();
    m.dispose();
  }
});

test('gradients of the IWAE bound match central finite differences (fixed noise)', () => {
  const m = tiny({ latent: [2], hidden: [[3]], activation: 'softplus' });
  const x = tf.tensor2d([[1, 0, 1, 1], [0, 1, 0, 0]]);
  const f = () => tf.neg(tf.mean(bound(m.terms(x, 2, new Rng(9)), { kind: 'iwae' }))) as tf.Scalar;
  const { grads } = tf.variableGrads(f, m.params.list());
  const h = 1e-2;
  let checked = 0;
  for (const [name, v] of m.params.entries()) {
    const g = grads[v.name].dataSync();
    const vals = Float32Array.from(v.dataSync());
    for (const i of [0, vals.length - 1]) {
      const at = (delta: number) => {
        const w = Float32Array.from(vals);
        w[i] += delta;
        v.assign(tf.tensor(w, v.shape));
        return take(f())[0];
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      v.assign(tf.tensor(vals, v.shape));
      assertClose(g[i], fd, { atol: 2e-3, rtol: 2e-2, msg: `d loss / d ${name}[${i}]` });
      checked++;
    }
  }
  assert.ok(checked >= 12);
  tf.dispose(Object.values(grads));
  x.dispose();
  m.dispose();
});

test('a tiny VAE learns two 8-bit patterns: IW log-likelihood within 0.5 nats of the true −log 2', () => {
  const m = new Vae(VaeConfigSchema.parse({ type: 'vae', latent: [2], hidden: [[32]], inputDim: 8, activation: 'tanh' }), new Rng(2));
  const pats = [
    [1, 1, 1, 1, 0, 0, 0, 0],
    [0, 1, 0, 1, 1, 0, 1, 0],
  ];
  const rng = new Rng(3);
  const opt = tf.train.adam(0.02);
  for (let s = 0; s < 400; s++) {
    const xb = tf.tensor2d(Array.from({ length: 32 }, () => pats[rng.int(2)]).flat(), [32, 8]);
    opt.minimize(() => tf.neg(tf.mean(bound(m.terms(xb, 1, rng), { kind: 'elbo' }))) as tf.Scalar, false, m.params.list());
    xb.dispose();
  }
  const data = Float32Array.from([...pats[0], ...pats[1]]);
  const ll = iwLogLikelihood({ logWeights: (x, k, r) => tf.tidy(() => { const t = m.terms(x, k, r); return tf.add(t.logLik, tf.sub(t.logPrior, t.logQ)); }) }, data, 8, { k: 500, rng: new Rng(4), progress: { silent: true } });
  assert.ok(ll.mean > -Math.log(2) - 0.5, `log-likelihood ${ll.mean} (true ${-Math.log(2)})`);
  assert.ok(ll.mean < 0.05, `log-likelihood ${ll.mean} cannot exceed 0 for binary data`);
  opt.dispose();
  m.dispose();
});

test('terms, sampling and reconstruction leak no tensors; bad config is refused', () => {
  const m = tiny({ latent: [3, 2], hidden: [[6], [4]] });
  const x = tf.tensor2d([[1, 0, 1, 1]]);
  const before = tf.memory().numTensors;
  const t = m.terms(x, 4, new Rng(1));
  tf.dispose([t.logLik, t.logPrior, t.logQ]);
  m.sample(3, new Rng(1)).dispose();
  m.reconstruct(x).dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => m.terms(x, 0, new Rng(1)), /k must be an integer ≥ 1/);
  assert.throws(() => new Vae(VaeConfigSchema.parse({ type: 'vae', latent: [2, 2], hidden: [[4]], inputDim: 4 }), new Rng(1)), /one array of widths per stochastic layer/);
  x.dispose();
  m.dispose();
});

test('Gaussian likelihood: log p(x|z) is the diagonal Normal density of the decoder outputs', () => {
  const m = tiny({ likelihood: 'gaussian' });
  const x = tf.tensor2d([[0.1, 0.9, 0.5, 0.3]]);
  const t = m.terms(x, 2, new Rng(8));
  const q = m.encode(x);
  const eps = new Rng(8).normal([2, 1, 2]);
  const z = tf.add(q.mean(), tf.mul(q.stddev(), eps));
  const p = m.decode(z) as unknown as { mean(): tf.Tensor; stddev(): tf.Tensor };
  const mu = Array.from(p.mean().dataSync());
  const sd = Array.from(p.stddev().dataSync());
  const xs = Array.from(x.dataSync());
  const ll = take(t.logLik);
  for (let j = 0; j < 2; j++) {
    let s = 0;
    for (let d = 0; d < 4; d++) s += -0.5 * ((xs[d] - mu[j * 4 + d]) / sd[j * 4 + d]) ** 2 - Math.log(sd[j * 4 + d]) - 0.5 * LOG2PI;
    assertClose(ll[j], s, { atol: 1e-4, rtol: 1e-4 });
  }
  tf.dispose([x, t.logPrior, t.logQ, eps, z]);
  m.dispose();
});
