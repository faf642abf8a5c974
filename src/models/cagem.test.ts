/**
 * CaGeM (thesis `003_…` appendix C): its enumerated bound and importance weight against an explicit
 * loop over the clusters, the bound ordering ELBO ≤ IWAE(k) ≤ IWAE(k′), finite-difference
 * gradients of its objective, and the labelled cross-entropies reaching only the classifiers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, finiteDifference, repeatedMean, gradientsByName, setupEngine, take } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { Normal } from '../dists/normal.js';
import { Categorical, oneHot } from '../dists/categorical.js';
import { enumeratedLabels } from '../objectives/enumerate.js';
import { semiSupervisedLogWeights, unlabelledPart } from '../objectives/semi-supervised.js';
import { modelFamily } from './registry.js';
import { Cagem, CagemConfigSchema } from './cagem.js';

await setupEngine();

const D = 6;
const C = 3;
const B = 5;
const Z = [2, 3] as const;

function model(seed = 1, extra: Record<string, unknown> = {}): Cagem {
  return new Cagem({ ...CagemConfigSchema.parse({ type: 'cagem', latent: [...Z], hidden: [8, 7], depth: 1, activation: 'tanh', ...extra }), inputDim: D, classes: C }, new Rng(seed));
}
const x = tf.tidy(() => tf.cast(tf.less(new Rng(2).uniform([B, D]), 0.5), 'float32'));
const labels = Int32Array.from([0, 2, 1, 1, 0]);
const y = oneHot(labels, C);

/** The per-cluster log-weights f_c [B] and log q(c | z₁, x) [B, C] and log q(z₁ | x) [B], written one cluster at a time with the same noise as the model. */
function byHand(m: Cagem, seed: number, skip = true) {
  return tf.tidy(() => {
    const rng = new Rng(seed);
    const q1 = m.qz1.of([x]);
    const z1 = q1.rsample(rng);
    const logQz1 = q1.logProb(z1);
    const logQy = tf.logSoftmax(m.qy.logits([z1, x]));
    // the model draws z₂ for the C·B class-major rows at once; the same draws, sliced per cluster
    const all = enumeratedLabels(C, B);
    const z1t = tf.tile(z1, [C, 1]);
    const xt = tf.tile(x, [C, 1]);
    const z2all = m.qz2.of(skip ? [z1t, all, xt] : [z1t, all]).rsample(rng);
    const f: tf.Tensor[] = [];
    for (let c = 0; c < C; c++) {
      const yc = oneHot(new Int32Array(B).fill(c), C);
      const z2 = tf.slice(z2all, [c * B, 0], [B, Z[1]]);
      const qz2 = m.qz2.of(skip ? [z1, yc, x] : [z1, yc]);
      const logPz2 = new Normal(tf.zeros([Z[1]]), tf.ones([Z[1]])).logProb(z2);
      const logPy = new Categorical(m.py.logits([z2])).logProb(yc);
      const logPz1 = m.pz1.of([z2, yc]).logProb(z1);
      f.push(tf.addN([m.logPx(x, z1, yc), logPy, logPz1, logPz2, tf.neg(qz2.logProb(z2))]));
    }
    return { f: tf.stack(f, 1), logQy, logQz1 };
  });
}

test('CaGeM: the enumerated bound −U(x) and the importance weight, against an explicit loop over the clusters', () => {
  for (const skip of [true, false]) {
    const m = model(1, { skip });
    const { f, logQy, logQz1 } = byHand(m, 9, skip);
    // F = Σ_c q(c | z₁, x) [f_c − log q(c | z₁, x)] − log q(z₁ | x)
    const want = tf.tidy(() => tf.sub(tf.sum(tf.mul(tf.exp(logQy), tf.sub(f, logQy)), 1), logQz1));
    assertClose(take(unlabelledPart(m, x, new Rng(9))), take(want), { atol: 1e-4, rtol: 1e-5 });
    // log w = log Σ_c exp f_c − log q(z₁ | x)
    const wantW = tf.tidy(() => tf.sub(tf.logSumExp(f, 1), logQz1));
    assertClose(take(semiSupervisedLogWeights(m, x, 1, new Rng(9))), take(wantW), { atol: 1e-4, rtol: 1e-5 });
    tf.dispose([f, logQy, logQz1, want, wantW]);
    m.dispose();
  }
});

test('CaGeM: IWAE(k) ≥ ELBO on average and grows with k, for log p(x) and log p(x, y); its terms leak no tensor', async () => {
  const m = model(3);
  const fam = modelFamily('cagem');
  assert.equal(fam.labelledOptional, true);
  const reps = 40;
  const mean = (f: (r: Rng) => tf.Tensor) => repeatedMean(f, reps, 11);
  const tol = (a: { se: number }, b: { se: number }) => 3 * Math.sqrt(a.se ** 2 + b.se ** 2);
  for (const observed of [false, true]) {
    const yy = observed ? y : undefined;
    const lw = (k: number, r: Rng) => semiSupervisedLogWeights(m, x, k, r, yy);
    const elbo = mean((r) => tf.mean(lw(1, r), 0));
    const iw = [1, 5, 50].map((k) => mean((r) => tf.sub(tf.logSumExp(lw(k, r), 0), Math.log(k))));
    const what = observed ? 'log p(x, y)' : 'log p(x)';
    assert.ok(iw[1].mu > iw[0].mu - tol(iw[1], iw[0]), `${what}: IWAE(5) ${iw[1].mu} < IWAE(1) ${iw[0].mu}`);
    assert.ok(iw[2].mu > iw[1].mu - tol(iw[2], iw[1]), `${what}: IWAE(50) ${iw[2].mu} < IWAE(5) ${iw[1].mu}`);
    assert.ok(iw[2].mu > elbo.mu + tol(iw[2], elbo), `${what}: IWAE(50) ${iw[2].mu} not above the one-sample bound ${elbo.mu}`);
  }
  // the enumerated ELBO −U(x) is below IWAE(1) with y summed exactly (Jensen over q(y | z₁, x))
  const u = mean((r) => unlabelledPart(m, x, r));
  const iw1 = mean((r) => semiSupervisedLogWeights(m, x, 1, r));
  assert.ok(u.mu <= iw1.mu + tol(u, iw1), `−U ${u.mu} above IWAE(1) ${iw1.mu}`);
  await assertNoLeak(() => {
    const t = m.unlabelledTerms(x, new Rng(1));
    if (t.estimator !== 'enumerate') throw new Error('enumerated terms expected');
    tf.dispose([...Object.values(t.perClass), t.qyLogits, t.logQa!]);
    tf.dispose(m.labelledLoss(x, y, new Rng(1)));
    const two = oneHot([0, 1], C);
    tf.dispose([m.classify(x), m.classifyGenerative(x), m.sampleJoint(4, new Rng(2)), m.typical(two), m.samplePrior(two, new Rng(3)), two]);
  });
  m.dispose();
});

test('CaGeM: the labelled loss is H_q + H_p of the cascade, by hand; its gradient reaches only p(y | z₂) and q(y | z₁, x)', () => {
  const m = model(4);
  const got = take(m.labelledLoss(x, y, new Rng(5)));
  const want = tf.tidy(() => {
    const rng = new Rng(5);
    const z1 = m.qz1.of([x]).rsample(rng);
    const logQy = tf.logSoftmax(m.qy.logits([z1, x]));
    const hq = tf.neg(tf.sum(tf.mul(logQy, y), 1));
    const all = enumeratedLabels(C, B);
    const z2 = m.qz2.of([tf.tile(z1, [C, 1]), all, tf.tile(x, [C, 1])]).rsample(rng);
    const logPy = tf.logSoftmax(m.py.logits([z2])); // [C·B, C]
    // p(y_b | x_b) ≈ Σ_c q(c | z₁, x_b) p(y_b | z₂^{c,b})
    const cols: tf.Tensor[] = [];
    for (let c = 0; c < C; c++) cols.push(tf.add(tf.slice(logQy, [0, c], [B, 1]).reshape([B]), tf.sum(tf.mul(tf.slice(logPy, [c * B, 0], [B, C]), y), 1)));
    return tf.add(hq, tf.neg(tf.logSumExp(tf.stack(cols, 1), 1)));
  });
  assertClose(got, take(want), { atol: 1e-4, rtol: 1e-5 });
  want.dispose();
  const { grads } = gradientsByName(m.params, () => tf.mean(m.labelledLoss(x, y, new Rng(5))) as tf.Scalar);
  for (const [name, g] of Object.entries(grads)) {
    const reached = g.some((v) => v !== 0);
    if (name.startsWith('qy.') || name.startsWith('py.')) assert.ok(reached, `${name}: the classifiers learn from the labels`);
    else assert.ok(!reached, `${name}: the labels must not move the networks of z₁, z₂ and x`);
  }
  m.dispose();
});

test('CaGeM: the family loss matches central finite differences: the unlabelled bound in every network, the labelled cross-entropies in the classifiers; labelled rows add their bound with y summed', () => {
  const fam = modelFamily('cagem');
  const xu = tf.tidy(() => tf.cast(tf.less(new Rng(12).uniform([4, D]), 0.5), 'float32'));
  const run = fam.create(CagemConfigSchema.parse({ type: 'cagem', classes: C, latent: [...Z], hidden: [8, 7], depth: 1, activation: 'tanh' }) as never, { inputDim: D, classes: C }, new Rng(5));
  const objective = { bound: 'elbo' as const, samples: 1, analyticKl: false, alpha: 2 };
  const yl = tf.tensor1d(labels, 'int32');
  // the same noise at every evaluation: each loss is a smooth function of the weights (tanh nets)
  const unlabelled = () => run.loss({ unlabelled: { x: xu } }, { rng: new Rng(3), beta: 0.7, objective });
  const labelled = () => run.loss({ labelled: { x, y: yl } }, { rng: new Rng(3), beta: 0.7, objective });
  let checked = 0;
  for (const [f, which] of [[unlabelled, (_: string) => true], [labelled, (n: string) => n.startsWith('qy.') || n.startsWith('py.')]] as const) {
    const vars = run.params.list().filter((v) => v.trainable);
    const { value, grads } = tf.variableGrads(f, vars);
    value.dispose();
    for (const [name, v] of run.params.entries().filter(([n]) => n.endsWith('.W') && which(n))) {
      const gv = grads[v.name].dataSync();
      let i = 0;
      for (let j = 1; j < gv.length; j++) if (Math.abs(gv[j]) > Math.abs(gv[i])) i = j;
      if (Math.abs(gv[i]) < 1e-3) continue;
      assertClose(finiteDifference(v, i, 1e-2, f), gv[i], { atol: 2e-3, rtol: 1e-2, msg: `${name}[${i}]` });
      checked += 1;
    }
    tf.dispose(Object.values(grads));
  }
  assert.ok(checked >= 12, `only ${checked} weight matrices had a gradient to check`);
  // the labelled rows' x add their bound (y summed): a fully labelled batch trains p(x | y, z1) too
  const { grads } = gradientsByName(run.params, labelled);
  assert.ok(grads['px.x.W'].some((g) => g !== 0), 'a labelled batch moves p(x | y, z1)');
  // and the loss is α·(H_q + H_p) − F of the same draws
  const m = run.instance as Cagem;
  const want = tf.tidy(() => {
    const o = m.labelledObjective(x, oneHot(labels, C), new Rng(3), 0.7);
    return tf.sub(tf.mul(tf.mean(o.crossEntropy), 2), tf.mean(o.bound));
  });
  assertClose(take(labelled()), take(want), { atol: 1e-4, rtol: 1e-5 });
  yl.dispose();
  run.dispose();
});

test('CaGeM: the cascade classifier p(y | x) and q(y | x) are distributions; clusters C need not equal the label classes; bad labels are errors', () => {
  const m = model(6);
  for (const p of [take(m.classify(x)), take(m.classifyGenerative(x))]) {
    assert.equal(p.length, B * C);
    for (let b = 0; b < B; b++) assertClose(p.slice(b * C, (b + 1) * C).reduce((s, v) => s + v, 0), 1, { atol: 1e-5 });
  }
  assert.throws(() => m.labelledLoss(x, oneHot(labels, C + 1), new Rng(1)), /one-hot \[5, 3\]/);
  assert.throws(() => m.unlabelledTerms(x, new Rng(1), 1, 'concrete'), /enumeration/);
  m.dispose();
  const fam = modelFamily('cagem');
  assert.throws(() => fam.create(CagemConfigSchema.parse({ type: 'cagem' }) as never, { inputDim: D, classes: 0 }, new Rng(1)), /model\.classes: cagem without labelled rows needs the number of clusters/);
  const five = fam.create(CagemConfigSchema.parse({ type: 'cagem', classes: 5, latent: [2, 2], hidden: [4, 4] }) as never, { inputDim: D, classes: 0 }, new Rng(1));
  assert.equal(five.classes, 5);
  five.dispose();
});

test('CaGeM: per-unit KL of z1 and z2 (y summed with q(y | z1, x)) by hand with the same noise; posterior means', async () => {
  const m = model(7);
  const [k1, k2] = m.klPerUnit(x, new Rng(4)).map((t) => {
    const v = take(t);
    assert.equal(v.length % B, 0);
    return v;
  });
  assert.equal(k1.length, B * Z[0]);
  assert.equal(k2.length, B * Z[1]);
  const want = tf.tidy(() => {
    const rng = new Rng(4);
    const q1 = m.qz1.of([x]);
    const z1 = q1.rsample(rng);
    const qy = tf.softmax(m.qy.logits([z1, x]));
    const all = enumeratedLabels(C, B);
    const z2all = m.qz2.of([tf.tile(z1, [C, 1]), all, tf.tile(x, [C, 1])]).rsample(rng);
    let kl1: tf.Tensor = tf.zeros([B, Z[0]]);
    let kl2: tf.Tensor = tf.zeros([B, Z[1]]);
    for (let c = 0; c < C; c++) {
      const yc = oneHot(new Int32Array(B).fill(c), C);
      const w = tf.slice(qy, [0, c], [B, 1]);
      const q2 = m.qz2.of([z1, yc, x]);
      const z2 = tf.slice(z2all, [c * B, 0], [B, Z[1]]);
      const p1 = m.pz1.of([z2, yc]);
      // log q(z1,u | x) − log p(z1,u | c, z2), unit by unit
      const lq = tf.sub(tf.sub(tf.mul(tf.square(tf.div(tf.sub(z1, q1.mean()), q1.stddev())), -0.5), tf.log(q1.stddev())), 0.5 * Math.log(2 * Math.PI));
      const lp = tf.sub(tf.sub(tf.mul(tf.square(tf.div(tf.sub(z1, p1.mean()), p1.stddev())), -0.5), tf.log(p1.stddev())), 0.5 * Math.log(2 * Math.PI));
      kl1 = tf.add(kl1, tf.mul(w, tf.sub(lq, lp)));
      // KL(N(μ, σ²) ‖ N(0, 1)) = (μ² + σ² − 1)/2 − log σ
      const mu = q2.mean();
      const sd = q2.stddev();
      kl2 = tf.add(kl2, tf.mul(w, tf.sub(tf.mul(tf.sub(tf.add(tf.square(mu), tf.square(sd)), 1), 0.5), tf.log(sd))));
    }
    return [kl1, kl2];
  });
  assertClose(k1, take(want[0]), { atol: 1e-4, rtol: 1e-4 });
  assertClose(k2, take(want[1]), { atol: 1e-5, rtol: 1e-5 });
  assert.ok(k2.every((v) => v >= 0), 'the analytic KL of z2 is ≥ 0');
  const means = m.posteriorMeans(x).map((t) => take(t));
  assert.deepEqual(means.map((v) => v.length), [B * Z[0], B * Z[1]]);
  tf.dispose(want);
  m.dispose();
});
