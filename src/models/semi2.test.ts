import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupEngine, assertClose, gradientsByName, take } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { BoxNormal, logGamma } from '../dists/flows.js';
import { Semi2ConfigSchema, Semi2Dgm } from './semi2.js';

await setupEngine();

const D = 6;
const K = 3;
const make = (extra: Record<string, unknown> = {}) =>
  new Semi2Dgm(Semi2ConfigSchema.parse({ type: 'untapped', classes: K, latent: 2, hidden: { qy: [8], qz: [8], px: [8] }, inputDim: D, ...extra }), new Rng(1));
const x = new Rng(2).normal([5, D]);
const y = tf.tensor2d([[0.2, 0.3, 0.5], [1, 0, 0], [0.1, 0.1, 0.8], [0.33, 0.33, 0.34], [0.5, 0.5, 0]]);

test('bound (7) equals its formula on fixed weights and noise; priors are log Γ(K) and −d·log(b − a)', () => {
  const m = make();
  assertClose(m.logPriorY(), logGamma(3), { atol: 1e-12 });
  assertClose(m.logPriorZ(), -2 * Math.log(3), { atol: 1e-12 });
  const got = take(m.boundLabelledForward(x, y, new Rng(7)));
  const rng = new Rng(7);
  const want = tf.tidy(() => {
    const { z, logProb } = (m.qz(x, y) as BoxNormal).rsampleWithLogProb(rng);
    return tf.add(tf.sub(m.px(y, z).logProb(x), logProb), Math.log(2) - 2 * Math.log(3));
  });
  assertClose(got, take(want), { atol: 1e-4, rtol: 1e-5 });
  m.dispose();
});

test('bound (20) equals its formula, and its gradients reach the encoder (qy, qz) and the decoder (px)', () => {
  const m = make();
  const zObs = tf.tensor2d([[0.1, -0.4], [1.2, 0.3], [-1.4, 1.1], [0, 0], [0.7, -0.9]]);
  const got = take(m.boundUnfeatured(y, new Rng(8), zObs));
  const rng = new Rng(8);
  const want = tf.tidy(() => {
    const p = m.px(y, zObs) as unknown as { rsample(r: Rng): tf.Tensor; logProb(v: tf.Tensor): tf.Tensor };
    const xs = p.rsample(rng);
    return tf.add(tf.sub(tf.add(m.logQy(xs, y), m.qz(xs, y).logProb(zObs)), p.logProb(xs)), m.logQx());
  });
  assertClose(got, take(want), { atol: 1e-3, rtol: 1e-5 });
  const vars = m.params.list();
  const { value, grads } = tf.variableGrads(() => tf.neg(tf.mean(m.boundUnfeatured(y, new Rng(9), zObs))) as tf.Scalar, vars);
  for (const prefix of ['qy.', 'qz.', 'px.']) {
    const names = Object.keys(grads).filter((n) => m.params.names().some((pn) => pn.startsWith(prefix) && n.includes(pn)));
    const total = names.reduce((s, n) => s + tf.tidy(() => tf.sum(tf.abs(grads[n])).dataSync()[0]), 0);
    assert.ok(total > 0, `bound (20) sends gradient to ${prefix}* (${names.length} variables)`);
  }
  tf.dispose([value, zObs, ...Object.values(grads)]);
  m.dispose();
});

test('reverse-bound variants: without the entropy term (20) loses exactly log p(x | y, z); with q held fixed only px.* gets gradient, with the same value', () => {
  const m = make();
  const zObs = tf.tensor2d([[0.1, -0.4], [1.2, 0.3], [-1.4, 1.1], [0, 0], [0.7, -0.9]]);
  const full = take(m.boundUnfeatured(y, new Rng(8), zObs));
  const noEnt = take(m.boundUnfeatured(y, new Rng(8), zObs, false));
  const rng = new Rng(8);
  const logPx = take(tf.tidy(() => {
    const p = m.px(y, zObs) as unknown as { rsample(r: Rng): tf.Tensor; logProb(v: tf.Tensor): tf.Tensor };
    return p.logProb(p.rsample(rng));
  }));
  for (let i = 0; i < full.length; i++) assertClose(noEnt[i] - full[i], logPx[i], { atol: 1e-3, rtol: 1e-5 });
  const w = { alphaF: 1, alphaFd: 1, alphaR: 1, alphaRd: 0 };
  const batch = { unfeatured: { y, z: zObs } };
  const gradNorms = (weights: typeof w & { reverseTrainsQ?: boolean }) => {
    const { value, grads } = tf.variableGrads(() => m.loss(batch, new Rng(4), weights), m.params.list());
    const byPrefix: Record<string, number> = {};
    for (const [name, v] of m.params.entries()) {
      const g = grads[v.name];
      const prefix = name.split('.')[0];
      byPrefix[prefix] = (byPrefix[prefix] ?? 0) + (g ? tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]) : 0);
    }
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, byPrefix };
  };
  const paper = gradNorms(w);
  const fixedQ = gradNorms({ ...w, reverseTrainsQ: false });
  assert.equal(fixedQ.loss, paper.loss, 'holding q fixed does not change the value');
  assert.ok(paper.byPrefix.qy > 0 && paper.byPrefix.qz > 0, 'the paper\'s objective trains q on generated x');
  assert.equal(fixedQ.byPrefix.qy, 0);
  assert.equal(fixedQ.byPrefix.qz, 0);
  assertClose(fixedQ.byPrefix.px, paper.byPrefix.px, { rtol: 1e-5, msg: 'the decoder gets the same gradient either way' });
  zObs.dispose();
  m.dispose();
});

test('with α_r = α_r^d = 0 the objective ignores unfeatured labels and is the forward (M2) objective', () => {
  const m = make();
  const w = { alphaF: 1, alphaFd: 2, alphaR: 0, alphaRd: 0 };
  const yu = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  const with_ = take(m.loss({ labelled: { x, y }, unlabelled: { x }, unfeatured: { y: yu } }, new Rng(3), w))[0];
  const without = take(m.loss({ labelled: { x, y }, unlabelled: { x } }, new Rng(3), w))[0];
  assert.equal(with_, without);
  const rng = new Rng(3);
  const manual = tf.tidy(() => {
    const l7 = tf.mean(m.boundLabelledForward(x, y, rng));
    const ly = tf.mean(m.lossY(x, y, 'kl'));
    const l8 = tf.mean(m.boundUnlabelled(x, rng));
    return tf.neg(tf.add(tf.sub(l7, tf.mul(ly, 2)), l8));
  });
  assertClose(with_, take(manual)[0], { atol: 1e-3, rtol: 1e-5 });
  // and with α_r > 0 the unfeatured labels do enter
  const withR = take(m.loss({ labelled: { x, y }, unfeatured: { y: yu } }, new Rng(3), { ...w, alphaR: 1 }))[0];
  const withoutR = take(m.loss({ labelled: { x, y } }, new Rng(3), { ...w, alphaR: 1 }))[0];
  assert.notEqual(withR, withoutR);
  yu.dispose();
  m.dispose();
});

test('discrete labels: Concrete unlabelled bound is finite; observed one-hots use the categorical log-probability', () => {
  const m = make({ labels: 'discrete', likelihood: 'bernoulli' });
  const xb = tf.tidy(() => tf.cast(tf.less(new Rng(4).uniform([4, D]), 0.5), 'float32'));
  const oh = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]);
  assert.ok(take(m.boundUnlabelled(xb, new Rng(5))).every(Number.isFinite));
  const lq = take(m.logQy(xb, oh));
  const probs = take(m.predict(xb));
  lq.forEach((v, i) => assertClose(v, Math.log(probs[i * K + [0, 1, 2, 0][i]]), { atol: 1e-5 }));
  assert.ok(take(m.boundUnfeatured(oh, new Rng(6))).every(Number.isFinite));
  tf.dispose([xb, oh]);
  m.dispose();
});

test('bad labels and nuisances are clear errors naming the row', () => {
  const m = make();
  assert.throws(() => m.boundLabelledForward(x.slice([0, 0], [2, D]), tf.tensor2d([[0.2, 0.3, 0.5], [0.5, 0.6, 0.1]]), new Rng(1)), /labelled y: row 1 sums to 1\.2\d*, not 1 \(tolerance 1e-4\)/);
  assert.throws(() => m.boundLabelledForward(x.slice([0, 0], [1, D]), tf.tensor2d([[1.2, -0.2, 0]]), new Rng(1)), /row 0, column 1 is -0\.2\d*; labels must be non-negative/);
  assert.throws(() => m.boundUnfeatured(tf.tensor2d([[1, 0, 0, 0]]), new Rng(1)), /labels must have 3 columns, got shape \[1,4\]/);
  assert.throws(() => m.boundUnfeatured(tf.tensor2d([[1, 0, 0]]), new Rng(1), tf.tensor2d([[0, 1.7]])), /unfeatured z: row 0, column 1 is 1\.7\d*, outside the box \(-1\.5, 1\.5\)/);
  const d = make({ labels: 'discrete' });
  assert.throws(() => d.boundUnfeatured(tf.tensor2d([[0.5, 0.5, 0]]), new Rng(1)), /row 0 is not one-hot/);
  assert.throws(() => Semi2ConfigSchema.parse({ type: 'untapped', box: [1, -1] }), /lo < hi/);
  m.dispose();
  d.dispose();
});

test("deterministic mode: the loss is the reference's reconstruction errors on point estimates, by hand on fixed weights", () => {
  const m = make({ variational: false });
  const zObs = tf.tensor2d([[0.1, -0.4], [1.2, 0.3], [-1.4, 1.1], [0, 0], [0.7, -0.9]]);
  const w = { alphaF: 0.7, alphaFd: 1.3, alphaR: 0.4, alphaRd: 0.2, yLoss: 'l2' as const };
  const got = take(m.loss({ labelled: { x, y }, unlabelled: { x }, unfeatured: { y, z: zObs } }, new Rng(9), w))[0];
  const want = tf.tidy(() => {
    const yb = m.predict(x);
    const xb = m.generate(yb, m.encodeMedian(x, yb));
    const recX = tf.mean(tf.sum(tf.square(tf.sub(xb, x)), -1));
    const yBack = m.predict(m.generate(y, zObs));
    const recY = tf.mean(tf.sum(tf.square(tf.sub(tf.clipByValue(yBack, 1e-6, 1), y)), -1));
    const supY = tf.mean(tf.sum(tf.square(tf.sub(tf.clipByValue(yb, 1e-6, 1), y)), -1));
    const supX = tf.mean(m.lossX(x, y, new Rng(9))); // lossX is the first draw from the loss's rng
    return tf.addN([tf.mul(recX, w.alphaF), tf.mul(recY, w.alphaR), tf.mul(supY, w.alphaFd), tf.mul(supX, w.alphaRd)]);
  });
  assertClose(got, take(want)[0], { rtol: 1e-5, atol: 1e-5 });
  // no bound enters: the variational model's loss on the same batch differs
  const v = make();
  const lv = take(v.loss({ labelled: { x, y }, unlabelled: { x }, unfeatured: { y, z: zObs } }, new Rng(9), w))[0];
  assert.ok(Math.abs(lv - got) > 1, `variational ${lv} vs deterministic ${got}`);
  m.dispose();
  v.dispose();
  zObs.dispose();
});

/** The linear-mixing toy: 400 Adam steps on 60 labelled, 300 unlabelled and 3 corner labels; returns the test MAE before and after. */
async function mixingToy(extra: Record<string, unknown> = {}): Promise<{ before: number; after: number }> {
  const { Adam } = await import('../train/adam.js');
  const rng = new Rng(11);
  const E = [[1, 0.8, 0.2, 0.1, 0.5, 0.9], [0.1, 0.3, 0.9, 0.8, 0.2, 0.4], [0.6, 0.1, 0.1, 0.6, 0.9, 0.2]];
  const mix = (n: number, r: Rng) => {
    const yv = new Float32Array(n * 3);
    const xv = new Float32Array(n * D);
    const noise = r.fillNormal(new Float32Array(n * D));
    for (let i = 0; i < n; i++) {
      const g = [-Math.log(r.next() + 1e-9), -Math.log(r.next() + 1e-9), -Math.log(r.next() + 1e-9)];
      const s = g[0] + g[1] + g[2];
      const bright = 0.8 + 0.4 * r.next();
      for (let k = 0; k < 3; k++) yv[i * 3 + k] = g[k] / s;
      for (let d = 0; d < D; d++) xv[i * D + d] = bright * (yv[i * 3] * E[0][d] + yv[i * 3 + 1] * E[1][d] + yv[i * 3 + 2] * E[2][d]) + 0.01 * noise[i * D + d];
    }
    return { x: tf.tensor2d(xv, [n, D]), y: tf.tensor2d(yv, [n, 3]) };
  };
  const lab = mix(60, rng.fork('lab'));
  const unl = mix(300, rng.fork('unl'));
  const test_ = mix(200, rng.fork('test'));
  const corners = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  const m = new Semi2Dgm(Semi2ConfigSchema.parse({ type: 'untapped', classes: 3, latent: 1, hidden: { qy: [16], qz: [8], px: [16] }, inputDim: D, ...extra }), new Rng(1));
  const vars = m.params.entries().map(([name, variable]) => ({ name, variable }));
  const adam = new Adam(vars, { clipNorm: 10 });
  const srng = new Rng(12);
  const err = () => tf.tidy(() => tf.mean(tf.abs(tf.sub(m.predict(test_.x), test_.y))).dataSync()[0]);
  const before = err();
  for (let s = 0; s < 400; s++) {
    const { value, grads } = tf.variableGrads(() => m.loss({ labelled: lab, unlabelled: { x: unl.x }, unfeatured: { y: corners } }, srng, { alphaF: 1, alphaFd: 1, alphaR: 0.01, alphaRd: 1 }), vars.map((v) => v.variable));
    const g = vars.map((v) => grads[v.variable.name]);
    adam.apply(g, 0.01);
    tf.dispose([value, ...g]);
  }
  const after = err();
  adam.dispose();
  m.dispose();
  tf.dispose([lab.x, lab.y, unl.x, unl.y, test_.x, test_.y, corners]);
  return { before, after };
}

test('learns a linear-mixing toy: compositions predicted to mean absolute error < 0.08 after 400 steps', async () => {
  const { before, after } = await mixingToy();
  assert.ok(after < 0.08 && after < before / 2, `composition MAE ${before.toFixed(3)} → ${after.toFixed(3)}`);
});

test('deterministic mode learns the same toy to mean absolute error < 0.08', async () => {
  const { before, after } = await mixingToy({ variational: false });
  assert.ok(after < 0.08 && after < before / 2, `composition MAE ${before.toFixed(3)} → ${after.toFixed(3)}`);
});

test('unlabelledQy scales exactly the unlabelled bound\'s gradient into q(y | x): 0 cuts it, ½ halves it, other networks unchanged', () => {
  const m = make();
  const batch = { unlabelled: { x } };
  const grads = (u: number) => {
    const r = gradientsByName(m.params, () => m.loss(batch, new Rng(4), { alphaF: 1, alphaFd: 1, alphaR: 0, alphaRd: 0, unlabelledQy: u }));
    return { loss: r.value, out: r.grads };
  };
  const full = grads(1);
  const half = grads(0.5);
  const cut = grads(0);
  assert.equal(half.loss, full.loss, 'the value does not depend on the factor');
  assert.equal(cut.loss, full.loss);
  let qyMass = 0;
  for (const name of Object.keys(full.out)) {
    const f = full.out[name];
    if (name.startsWith('qy.')) {
      qyMass += f.reduce((s, v) => s + Math.abs(v), 0);
      for (let i = 0; i < f.length; i++) {
        assertClose(half.out[name][i], 0.5 * f[i], { atol: 1e-7, rtol: 1e-4, msg: `${name}[${i}] halved` });
        assert.equal(cut.out[name][i] ?? 0, 0, `${name}[${i}] cut`);
      }
    } else {
      for (let i = 0; i < f.length; i++) assertClose(cut.out[name][i], f[i], { atol: 1e-7, rtol: 1e-4, msg: `${name}[${i}] unchanged` });
    }
  }
  assert.ok(qyMass > 1e-3, 'the full bound does pull q(y | x)');
  assert.throws(() => m.loss(batch, new Rng(4), { alphaF: 1, alphaFd: 1, alphaR: 0, alphaRd: 0, unlabelledQy: 1.5 }), /unlabelledQy must be in \[0, 1\]/);
  m.dispose();
});

test('qyPrior adds exactly c·m·‖W‖² / (2N) to the loss for the first layer W of q(y | x) (fan-in m), and c·m·W / N to its gradient; nothing else', () => {
  const batch = { labelled: { x: x.slice([0, 0], [3, D]), y: y.slice([0, 0], [3, K]) }, unlabelled: { x: x.slice([3, 0], [2, D]) } };
  const base = { alphaF: 1, alphaFd: 2, alphaR: 0, alphaRd: 1, unlabelledQy: 0 };
  for (const [extra, first, fanIn] of [
    [{}, 'qy.dense0.W', D],
    [{ hidden: { qy: [], qz: [8], px: [8] } }, 'qy.u.W', D],
    [{ qyComponents: 2 }, 'qy.dense0.W', 2],
  ] as const) {
    const m = make(extra);
    if ('qyComponents' in extra) m.setQyProjection(Array.from({ length: D }, (_, j) => 0.1 * j), Array.from({ length: 2 * D }, (_, i) => Math.sin(i)));
    const c = 0.7;
    const N = 4;
    const off = gradientsByName(m.params, () => m.loss(batch, new Rng(3), base));
    const on = gradientsByName(m.params, () => m.loss(batch, new Rng(3), { ...base, qyPrior: c, qyPriorRows: N }));
    const W = Array.from(m.params.get(first).dataSync());
    const sq = W.reduce((s, v) => s + v * v, 0);
    assertClose(on.value - off.value, (c * fanIn * sq) / (2 * N), { rtol: 1e-4, atol: 1e-4 });
    for (const name of m.params.names()) {
      const want = name === first ? off.grads[name].map((g, i) => g + (c * fanIn * W[i]) / N) : off.grads[name];
      assertClose(on.grads[name], want, { atol: 1e-4, rtol: 1e-4 });
    }
    assert.throws(() => m.loss(batch, new Rng(3), { ...base, qyPrior: -1 }), /qyPrior must be ≥ 0/);
    m.dispose();
  }
});

test('qyComponents: q(y | x) reads (x − mean) P; without the map it is a clear error; the map is validated', () => {
  const k = 2;
  const m = make({ qyComponents: k });
  assert.throws(() => m.predict(x), /no projection set/);
  const mean = Array.from({ length: D }, (_, j) => 0.2 * j - 0.5);
  const P = Array.from({ length: D * k }, (_, i) => Math.cos(i) / 3);
  m.setQyProjection(mean, P);
  // the same weights on the projected rows, through a model whose q(y | x) reads k columns
  const ref = make({ inputDim: k });
  const qyNames = m.params.names().filter((n) => n.startsWith('qy.'));
  ref.params.load(new Map([...m.params.snapshot()].map(([n, v]) => [n, qyNames.includes(n) ? v : ref.params.snapshot().get(n)!])), 'test');
  const proj = tf.matMul(tf.sub(x, tf.tensor1d(mean)), tf.tensor2d(P, [D, k]));
  assertClose(take(m.predict(x)), take(ref.predict(proj)), { atol: 1e-6 });
  const back = m.qyProjection()!;
  assertClose(Array.from(back.mean), mean, { atol: 1e-6 });
  assert.throws(() => m.setQyProjection(mean.slice(1), P), /need a mean of 6 and a 6 × 2 map/);
  assert.throws(() => m.setQyProjection(mean, P.map((v, i) => (i === 3 ? NaN : v))), /value 3 is NaN/);
  assert.throws(() => make().setQyProjection(mean, P), /qyComponents = 0/);
  assert.throws(() => make({ qyComponents: D + 1 }), /exceeds the input width/);
  tf.dispose(proj);
  ref.dispose();
  m.dispose();
});
