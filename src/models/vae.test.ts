import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { assertClose, setupEngine, take, finiteDifference } from '../testing/helpers.js';
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
      const fd = finiteDifference(v, i, h, f);
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

// ---------------------------------------------------------------------------------------------
// Variants (issue 7): β-VAE, denoising, conditional, bounded Gaussian scale, convolutional.

const binary = (rng: Rng, n: number, d: number) => tf.tensor2d(Array.from({ length: n * d }, () => (rng.next() < 0.4 ? 1 : 0)), [n, d]);
const make = (over: Record<string, unknown>, seed = 11) => new Vae(VaeConfigSchema.parse({ type: 'vae', latent: [2], hidden: [[5]], inputDim: 4, activation: 'tanh', ...over }), new Rng(seed));

test('β = 1 is the plain VAE objective; β = 4 subtracts exactly 3 more KL (β-VAE, 004 eq 5)', () => {
  const m = tiny();
  const x = binary(new Rng(3), 6, 4);
  const t = m.terms(x, 1, new Rng(4));
  const plain = take(bound(t, { kind: 'elbo' }));
  const b1 = take(bound(t, { kind: 'elbo', beta: 1 }));
  const hand = take(tf.sub(tf.mean(t.logLik, 0), t.kl!));
  assert.deepEqual(b1, plain);
  assertClose(plain, hand, { atol: 1e-5 });
  const b4 = take(bound(t, { kind: 'elbo', beta: 4 }));
  const kl = take(t.kl!);
  assertClose(b4, plain.map((v, i) => v - 3 * kl[i]), { atol: 1e-4 });
  assert.ok(kl.every((v) => v > 1e-3), 'KL is non-zero, so the check above can fail');
  tf.dispose([t.logLik, t.logPrior, t.logQ, x]);
  m.dispose();
});

test('denoising: corruption 0 gives exactly the plain VAE terms; c > 0 encodes x̃ and scores the clean x (004 eq 4)', () => {
  const x = binary(new Rng(5), 8, 4);
  const plain = tiny();
  const d0 = tiny({ corruption: 0 });
  const dv = tiny({ corruption: 0.4 });
  for (const m of [plain, d0, dv]) m.mode = 'train';
  const t = plain.terms(x, 3, new Rng(6));
  const t0 = d0.terms(x, 3, new Rng(6));
  for (const key of ['logLik', 'logPrior', 'logQ', 'kl'] as const) assert.deepEqual(Array.from(t0[key]!.dataSync()), Array.from(t[key]!.dataSync()), `${key} with corruption 0`);
  // rebuild x̃ from the same noise stream: each value replaced with probability c by 0 or 1
  const cr = new Rng(6).fork('corruption');
  const xs = Array.from(x.dataSync());
  let replaced = 0;
  const xt = xs.map((v) => {
    if (cr.next() < 0.4) {
      replaced++;
      return cr.next() < 0.5 ? 1 : 0;
    }
    return v;
  });
  assert.ok(replaced > 4 && replaced < 24, `${replaced} of 32 values replaced`);
  const td = dv.terms(x, 3, new Rng(6));
  dv.mode = 'eval';
  const xT = tf.tensor2d(xt, [8, 4]);
  const q = dv.encode(xT);
  const z = tf.add(q.mean(), tf.mul(q.stddev(), new Rng(6).normal([3, 8, 2])));
  assertClose(take(td.logQ), take(q.logProb(z)), { atol: 1e-4, msg: 'log q(z | x̃)' });
  assertClose(take(td.logLik), take(dv.decode(z).logProb(x)), { atol: 1e-4, msg: 'log p(x | z) of the clean x' });
  assert.ok(take(tf.sub(td.kl!, t.kl!)).some((v) => Math.abs(v) > 1e-4), 'the corrupted input changes q');
  // in evaluation the encoder sees the clean x: the plain VAE's terms again
  const te = dv.terms(x, 3, new Rng(6));
  assert.deepEqual(Array.from(te.logQ.dataSync()), Array.from(t.logQ.dataSync()));
  tf.dispose([t.logLik, t.logPrior, t.logQ, t.kl!, t0.logLik, t0.logPrior, t0.logQ, t0.kl!, td.logPrior, td.kl!, te.logLik, te.logPrior, te.logQ, te.kl!, x, xT, z]);
  for (const m of [plain, d0, dv]) m.dispose();
});

test('bad variant options are refused with messages that say what is allowed', () => {
  for (const c of [1, 1.5, -0.1]) {
    const r = VaeConfigSchema.safeParse({ type: 'vae', corruption: c });
    assert.equal(r.success, false);
    assert.match(r.error!.issues[0].message, /corruption must lie in \[0, 1\)/);
    assert.throws(() => new Vae({ ...VaeConfigSchema.parse({ type: 'vae', inputDim: 4, latent: [2], hidden: [[3]] }), corruption: c }, new Rng(1)), /corruption must lie in \[0, 1\)/);
  }
  assert.throws(() => make({ arch: 'conv', inputDim: 10 }), /square single-channel images .*inputDim 10 is not a perfect square/);
  assert.throws(() => make({ arch: 'conv', inputDim: 36 }), /side must be a multiple of 4 .*6×6/);
  assert.equal(VaeConfigSchema.safeParse({ type: 'vae', xScale: { min: 1, max: 0.5 } }).success, false);
  assert.equal(VaeConfigSchema.safeParse({ type: 'vae', conditional: -1 }).success, false);
});

test('conditional VAE: labels reach encoder and decoder; missing, extra or malformed labels are clear errors', () => {
  const m = make({ conditional: 3, hidden: [[6]] });
  const x = binary(new Rng(7), 4, 4);
  const y = [0, 2, 1, 2];
  const t = m.terms(x, 2, new Rng(8), y);
  assert.deepEqual(t.logLik.shape, [2, 4]);
  // one-hot rows and index tensors are the same labels
  const t2 = m.terms(x, 2, new Rng(8), tf.oneHot(tf.tensor1d(y, 'int32'), 3));
  assert.deepEqual(Array.from(t2.logLik.dataSync()), Array.from(t.logLik.dataSync()));
  const t3 = m.terms(x, 2, new Rng(8), [1, 1, 1, 1]);
  assert.ok(take(tf.sub(t3.kl!, t.kl!)).some((v) => Math.abs(v) > 1e-5), 'the label changes q(z | x, y)');
  assert.throws(() => m.terms(x, 2, new Rng(8)), /conditional VAE \(conditional: 3 classes\); pass the labels y/);
  assert.throws(() => m.terms(x, 2, new Rng(8), [0, 1, 3, 0]), /label 2 is 3; labels must be class indices in 0\.\.2/);
  assert.throws(() => m.terms(x, 2, new Rng(8), [0, 1]), /2 labels for a batch of 4/);
  assert.throws(() => m.terms(x, 2, new Rng(8), tf.zeros([4, 5])), /one-hot rows of width 3/);
  assert.throws(() => m.sample(2, new Rng(1), 7), /labels must be class indices in 0\.\.2/);
  assert.throws(() => tiny().terms(x, 1, new Rng(1), [0, 0, 0, 0]), /not conditional/);
  assert.throws(() => tiny().sample(2, new Rng(1), 0), /not conditional/);
  // a fixed label changes the samples; the same label and noise give the same samples
  const before = tf.memory().numTensors;
  const s0 = take(m.sample(5, new Rng(9), 0));
  const s2 = take(m.sample(5, new Rng(9), 2));
  assert.deepEqual(take(m.sample(5, new Rng(9), [0, 0, 0, 0, 0])), s0);
  assert.ok(s0.some((v, i) => Math.abs(v - s2[i]) > 1e-4));
  m.reconstruct(x, y).dispose();
  assert.equal(tf.memory().numTensors, before, 'sampling and reconstruction leak no tensors');
  tf.dispose([t.logLik, t.logPrior, t.logQ, t.kl!, t2.logLik, t2.logPrior, t2.logQ, t2.kl!, t3.logLik, t3.logPrior, t3.logQ, x]);
  m.dispose();
});

test('Gaussian likelihood: σ of p(x|z) stays inside the configured bounds; xScale softplus keeps softplus + minScale', () => {
  const m = tiny({ likelihood: 'gaussian', xScale: { min: 0.05, max: 0.5 } });
  const b = m.params.get('dec0.x.b');
  const z = tf.tensor2d([[0, 0], [30, -30]]);
  for (const v of [-1e3, 0, 1e3]) {
    b.assign(tf.fill(b.shape, v));
    const p = m.decode(z) as unknown as { stddev(): tf.Tensor; loc: tf.Tensor; scale: tf.Tensor };
    const sd = take(p.stddev());
    assert.ok(sd.every((s) => s >= 0.05 - 1e-6 && s <= 0.5 + 1e-6), `σ in [0.05, 0.5] for bias ${v}: ${sd.slice(0, 3)}`);
    tf.dispose([p.loc, p.scale]);
  }
  const s = tiny({ likelihood: 'gaussian', xScale: 'softplus', minScale: 0.001 });
  s.params.get('dec0.x.b').assign(tf.fill([8], -50));
  const ps = s.decode(tf.tensor2d([[0, 0]])) as unknown as { stddev(): tf.Tensor };
  assertClose(take(ps.stddev()), [0.001, 0.001, 0.001, 0.001], { atol: 1e-6, msg: 'softplus(−50) + minScale' });
  z.dispose();
  m.dispose();
  s.dispose();
});

const convCfg = (over: Record<string, unknown> = {}) => ({ type: 'vae', arch: 'conv', channels: [2, 3], latent: [2], hidden: [[]], inputDim: 64, activation: 'tanh', ...over });

test('conv VAE: shapes, IWAE(k) ≥ ELBO on the same samples, and two stochastic layers', () => {
  for (const over of [{}, { latent: [3, 2], hidden: [[4], [3]] }, { likelihood: 'gaussian' }]) {
    const m = new Vae(VaeConfigSchema.parse(convCfg(over)), new Rng(1));
    const x = binary(new Rng(2), 5, 64);
    const t = m.terms(x, 4, new Rng(3));
    assert.deepEqual(t.logLik.shape, [4, 5]);
    const elbo = take(bound(t, { kind: 'elbo', analyticKl: false }));
    const iwae = take(bound(t, { kind: 'iwae' }));
    iwae.forEach((v, i) => assert.ok(v >= elbo[i] - 1e-4, `IWAE ${v} ≥ ELBO ${elbo[i]} (${JSON.stringify(over)})`));
    assert.ok(iwae.some((v, i) => v > elbo[i] + 1e-3), 'strictly tighter somewhere');
    assert.deepEqual(m.sample(3, new Rng(1)).shape, [3, 64]);
    assert.deepEqual(m.reconstruct(x).shape, [5, 64]);
    tf.dispose([t.logLik, t.logPrior, t.logQ, t.kl ?? [], x]);
    m.dispose();
  }
});

test('conv VAE: gradients of the ELBO match central finite differences (8×8 images, batch-norm training mode)', () => {
  const m = new Vae(VaeConfigSchema.parse(convCfg({ activation: 'softplus' })), new Rng(4));
  m.mode = 'train';
  const x = binary(new Rng(5), 3, 64);
  const f = () => tf.neg(tf.mean(bound(m.terms(x, 2, new Rng(6)), { kind: 'elbo' }))) as tf.Scalar;
  const vars = m.params.list();
  const { grads } = tf.variableGrads(f, vars);
  assert.equal(Object.keys(grads).length, vars.length, 'every parameter (running averages included) has a gradient');
  const h = 1e-2;
  let checked = 0;
  for (const [name, v] of m.params.entries()) {
    const g = grads[v.name].dataSync();
    if (name.endsWith('runMean') || name.endsWith('runVar')) {
      assert.ok(g.every((e) => e === 0), `${name} has zero gradient`);
      continue;
    }
    const vals = Float32Array.from(v.dataSync());
    for (const i of [0, vals.length - 1]) {
      const fd = finiteDifference(v, i, h, f);
      assertClose(g[i], fd, { atol: 3e-3, rtol: 3e-2, msg: `d loss / d ${name}[${i}]` });
      checked++;
    }
  }
  assert.ok(checked >= 24, `${checked} gradient entries checked`);
  tf.dispose(Object.values(grads));
  x.dispose();
  m.dispose();
});

test('conv VAE: batch norm trains inside gradient computations, evaluates outside them, and its averages travel with the weights', () => {
  const m = new Vae(VaeConfigSchema.parse(convCfg()), new Rng(7));
  const x = binary(new Rng(8), 6, 64);
  const runMean = m.params.get('enc0.bn1.runMean');
  const r0 = Array.from(runMean.dataSync());
  // evaluation (no gradients recorded): running averages untouched, rows independent of the batch
  const all = take(m.reconstruct(x));
  const first = take(m.reconstruct(tf.slice(x, [0, 0], [1, 64])));
  assertClose(first, all.slice(0, 64), { atol: 1e-5, msg: 'row 0 alone = row 0 in the batch' });
  assert.deepEqual(Array.from(runMean.dataSync()), r0);
  // a training step (auto mode: gradients recorded) moves them
  const opt = tf.train.adam(0.01);
  opt.minimize(() => tf.neg(tf.mean(bound(m.terms(x, 1, new Rng(9)), { kind: 'elbo' }))) as tf.Scalar, false, m.params.list());
  assert.ok(Array.from(runMean.dataSync()).some((v, i) => Math.abs(v - r0[i]) > 1e-6), 'running mean updated by the training step');
  // a second model loading the snapshot evaluates identically
  const m2 = new Vae(VaeConfigSchema.parse(convCfg()), new Rng(99));
  m2.params.load(m.params.snapshot());
  assertClose(take(m2.reconstruct(x)), take(m.reconstruct(x)), { atol: 1e-6 });
  opt.dispose();
  x.dispose();
  m.dispose();
  m2.dispose();
});
