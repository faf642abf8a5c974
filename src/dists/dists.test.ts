import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { setupEngine, assertClose, assertNoLeak, take } from '../testing/helpers.js';
import { Distribution, Normal, Bernoulli, Categorical, Concrete, klDivergence, lookupKL } from './index.js';

await setupEngine();

// ---------- plain-JS reference formulas (float64) ----------

const LOG2PI = Math.log(2 * Math.PI);
const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
function logSoftmaxJS(l: number[]): number[] {
  const m = Math.max(...l);
  const lse = m + Math.log(l.reduce((s, v) => s + Math.exp(v - m), 0));
  return l.map((v) => v - lse);
}
function meanSd(xs: ArrayLike<number>): { mean: number; sd: number } {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  const mean = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i] - mean) ** 2;
  return { mean, sd: Math.sqrt(v / (xs.length - 1)) };
}
/** Column `j` of a row-major [n, c] array. */
function column(a: ArrayLike<number>, c: number, j: number): number[] {
  const out: number[] = [];
  for (let i = j; i < a.length; i += c) out.push(a[i]);
  return out;
}
/** Upper 1e-4 tail points of χ² with 2 and 3 degrees of freedom (standard tables). */
const CHI2_CRIT_1E4: Record<number, number> = { 2: 18.42, 3: 21.11 };
function chiSquare(counts: number[], probs: number[], n: number): number {
  return counts.reduce((s, c, k) => s + (c - n * probs[k]) ** 2 / (n * probs[k]), 0);
}

// ---------- Normal ----------

test('Normal.logProb matches the closed form computed in JS, for scale and logVar parameterisations', () => {
  const loc = [0.5, -1, 2, 0, 0, 3];
  const scale = [1, 0.5, 2, 0.1, 3, 1];
  const rng = new Rng(11);
  const xs = Array.from({ length: 4 * 6 }, () => 3 * (rng.next() - 0.5) * 2);
  const locT = tf.tensor(loc, [2, 3]);
  const scaleT = tf.tensor(scale, [2, 3]);
  const logVarT = tf.tensor(scale.map((s) => Math.log(s * s)), [2, 3]);
  const x = tf.tensor(xs, [4, 2, 3]);
  const expected: number[] = [];
  for (let n = 0; n < 4; n++) {
    for (let b = 0; b < 2; b++) {
      let s = 0;
      for (let d = 0; d < 3; d++) {
        const i = b * 3 + d;
        const z = (xs[n * 6 + i] - loc[i]) / scale[i];
        s += -0.5 * z * z - Math.log(scale[i]) - 0.5 * LOG2PI;
      }
      expected.push(s);
    }
  }
  const lp = new Normal(locT, scaleT).logProb(x);
  assert.deepEqual(lp.shape, [4, 2]);
  assertClose(take(lp), expected, { atol: 1e-4, rtol: 1e-5, msg: 'Normal logProb (scale)' });
  const lp2 = Normal.fromLogVar(locT, logVarT).logProb(x);
  assertClose(take(lp2), expected, { atol: 1e-4, rtol: 1e-5, msg: 'Normal logProb (logVar)' });
  tf.dispose([locT, scaleT, logVarT, x]);
});

test('Normal.entropy matches Σ ½ log(2πe σ²); broadcast scale gives the full batch shape', () => {
  const scale = [0.2, 1, 5];
  const locT = tf.zeros([2, 3]);
  const scaleT = tf.tensor(scale); // [3] broadcasts against loc [2, 3]
  const d = new Normal(locT, scaleT);
  assert.deepEqual(d.batchShape, [2]);
  const h = d.entropy();
  assert.deepEqual(h.shape, [2]);
  const exp1 = scale.reduce((s, v) => s + 0.5 * Math.log(2 * Math.PI * Math.E * v * v), 0);
  assertClose(take(h), [exp1, exp1], { atol: 1e-5 });
  const lv = tf.log(tf.square(scaleT));
  assertClose(take(Normal.fromLogVar(locT, lv).entropy()), [exp1, exp1], { atol: 1e-5 });
  tf.dispose([locT, scaleT, lv]);
});

test('KL(Normal‖Normal) matches the JS closed form and a 200k-sample Monte Carlo estimate', () => {
  const lp = [0.3, -1, 1.5, 0];
  const sp = [0.7, 1.3, 0.4, 2];
  const lq = [0, 0.5, 1, -1];
  const sq = [1, 0.8, 0.5, 1.5];
  const p = new Normal(tf.tensor(lp, [2, 2]), tf.tensor(sp, [2, 2]));
  const q = new Normal(tf.tensor(lq, [2, 2]), tf.tensor(sq, [2, 2]));
  const exact = [0, 1].map((b) => {
    let s = 0;
    for (let d = 0; d < 2; d++) {
      const i = b * 2 + d;
      s += Math.log(sq[i] / sp[i]) + (sp[i] ** 2 + (lp[i] - lq[i]) ** 2) / (2 * sq[i] ** 2) - 0.5;
    }
    return s;
  });
  const kl = klDivergence(p, q);
  assert.deepEqual(kl.shape, [2]);
  assertClose(take(kl), exact, { atol: 1e-5, rtol: 1e-5, msg: 'KL vs closed form' });

  // Same KL via logVar parameterisation.
  const lvp = tf.log(tf.square(p.scale!));
  const lvq = tf.log(tf.square(q.scale!));
  assertClose(take(klDivergence(Normal.fromLogVar(p.loc, lvp), Normal.fromLogVar(q.loc, lvq))), exact, { atol: 1e-5, rtol: 1e-5 });

  // Monte Carlo: KL = E_p[log p − log q]. The estimator's standard error is sd/√N, with sd estimated
  // from the same draws; a 5-standard-error band fails by chance with probability < 1e-6.
  const N = 200_000;
  const x = p.sample(new Rng(5), N);
  const ratio = tf.tidy(() => tf.sub(p.logProb(x), q.logProb(x)));
  const r = ratio.dataSync();
  for (let b = 0; b < 2; b++) {
    const { mean, sd } = meanSd(column(r, 2, b));
    const tol = (5 * sd) / Math.sqrt(N);
    assert.ok(Math.abs(mean - exact[b]) < tol, `MC KL[${b}] ${mean} vs exact ${exact[b]} (tol ${tol})`);
  }
  tf.dispose([x, ratio, lvp, lvq, p.loc, p.scale!, q.loc, q.scale!]);
});

test('Normal.rsample has the right mean and standard deviation (100k draws)', () => {
  const loc = [1, -2, 0.5];
  const scale = [0.5, 2, 1];
  const locT = tf.tensor(loc);
  const scaleT = tf.tensor(scale);
  const N = 100_000;
  const s = new Normal(locT, scaleT).rsample(new Rng(3), N);
  assert.deepEqual(s.shape, [N, 3]);
  const v = take(s);
  for (let d = 0; d < 3; d++) {
    const { mean, sd } = meanSd(column(v, 3, d));
    // Standard errors: σ/√N for the mean, ≈ σ/√(2N) for the sample sd (Gaussian data); 5 of each.
    assert.ok(Math.abs(mean - loc[d]) < (5 * scale[d]) / Math.sqrt(N), `mean[${d}] ${mean}`);
    assert.ok(Math.abs(sd - scale[d]) < (5 * scale[d]) / Math.sqrt(2 * N), `sd[${d}] ${sd}`);
  }
  tf.dispose([locT, scaleT]);
});

test('gradient of Normal.rsample: ∂/∂loc = 1, ∂/∂scale = ε, ∂/∂logVar = ½σε', () => {
  const loc = tf.tensor([[0.1, -0.2, 0.3], [1, 2, 3]]);
  const scale = tf.tensor([[0.5, 1, 2], [0.3, 0.7, 1.1]]);
  const eps = take(new Rng(7).normal([2, 3]));
  const before = tf.memory().numTensors;
  const [gLoc, gScale] = tf.grads((l: tf.Tensor, s: tf.Tensor) => tf.sum(new Normal(l, s).rsample(new Rng(7))))([loc, scale]);
  assertClose(take(gLoc), new Array(6).fill(1), { msg: '∂/∂loc' });
  assertClose(take(gScale), eps, { atol: 1e-6, msg: '∂/∂scale' });

  const lv = tf.tidy(() => tf.log(tf.square(scale)));
  const [gLv] = tf.grads((v: tf.Tensor) => tf.sum(Normal.fromLogVar(loc, v).rsample(new Rng(7))))([lv]);
  const sc = take(tf.clone(scale));
  assertClose(take(gLv), eps.map((e, i) => 0.5 * sc[i] * e), { atol: 1e-5, msg: '∂/∂logVar' });
  lv.dispose();

  // With n draws the gradient w.r.t. a [3] loc is n, w.r.t. scale Σ_n ε_n.
  const l1 = tf.tensor([0, 0, 0]);
  const s1 = tf.tensor([1, 1, 1]);
  const eps4 = take(new Rng(9).normal([4, 3]));
  const [g1, g2] = tf.grads((l: tf.Tensor, s: tf.Tensor) => tf.sum(new Normal(l, s).rsample(new Rng(9), 4)))([l1, s1]);
  assertClose(take(g1), [4, 4, 4]);
  assertClose(take(g2), [0, 1, 2].map((d) => [0, 1, 2, 3].reduce((a, n) => a + eps4[n * 3 + d], 0)), { atol: 1e-5 });
  tf.dispose([l1, s1]);
  assert.equal(tf.memory().numTensors, before, 'gradient computation leaked');
  tf.dispose([loc, scale]);
});

// ---------- Bernoulli ----------

test('Bernoulli.logProb = x·l − softplus(l): matches JS, finite at logits ±50 and ±100, accepts x ∈ [0, 1]', () => {
  // ±100 is past float32 exp overflow (e^88.7), so a naive log(1 + e^l) would give ±∞/NaN there.
  const logits = [-100, -50, -3, 0, 0.7, 50, 100];
  const xs = [0, 1, 0.3];
  const l = tf.tensor(logits, [7, 1]); // batch [7], event [1]
  const x = tf.tensor(xs.flatMap((v) => logits.map(() => v)), [3, 7, 1]);
  const lp = new Bernoulli(l).logProb(x);
  assert.deepEqual(lp.shape, [3, 7]);
  const got = take(lp);
  assert.ok(got.every(Number.isFinite), `non-finite log-probabilities: ${got}`);
  const expected = xs.flatMap((v) => logits.map((li) => v * li - softplus(li)));
  assertClose(got, expected, { atol: 1e-5, rtol: 1e-5 });
  // Probability form for moderate logits: log(p) for x = 1, log(1 − p) for x = 0.
  assertClose(got.slice(9, 12), [-3, 0, 0.7].map((li) => Math.log(sigmoid(li))), { atol: 1e-6, rtol: 1e-5 });
  assertClose(got.slice(2, 5), [-3, 0, 0.7].map((li) => Math.log(1 - sigmoid(li))), { atol: 1e-6, rtol: 1e-5 });
  const d = new Bernoulli(l);
  assertClose(take(d.mean()), logits.map(sigmoid), { atol: 1e-7 });
  tf.dispose([l, x]);
});

test('Bernoulli.sample frequencies ≈ sigmoid(l) (50k draws) and values are 0/1', () => {
  const logits = [-2, 0, 1.5];
  const l = tf.tensor(logits);
  const N = 50_000;
  const s = take(new Bernoulli(l).sample(new Rng(21), N));
  assert.ok(s.every((v) => v === 0 || v === 1));
  for (let d = 0; d < 3; d++) {
    const p = sigmoid(logits[d]);
    const freq = column(s, 3, d).reduce((a, b) => a + b, 0) / N;
    assert.ok(Math.abs(freq - p) < 5 * Math.sqrt((p * (1 - p)) / N), `freq[${d}] ${freq} vs ${p}`);
  }
  l.dispose();
});

test('Bernoulli.entropy and KL(Bernoulli‖Bernoulli) match JS; extreme logits stay finite', () => {
  const logits = [-3, 0, 0.7];
  const l = tf.tensor(logits);
  const hJS = logits.reduce((s, li) => {
    const p = sigmoid(li);
    return s - p * Math.log(p) - (1 - p) * Math.log(1 - p);
  }, 0);
  assertClose(take(new Bernoulli(l).entropy()), hJS, { atol: 1e-6 });
  const lx = tf.tensor([-100, -50, 50, 100]);
  const hx = take(new Bernoulli(lx).entropy());
  assert.ok(Number.isFinite(hx[0]) && Math.abs(hx[0]) < 1e-6, `entropy at ±50, ±100: ${hx}`);

  const lp = [-1, 2, 100, -50];
  const lq = [0.5, -1, -50, 100];
  const p = new Bernoulli(tf.tensor(lp, [2, 2]));
  const q = new Bernoulli(tf.tensor(lq, [2, 2]));
  // KL = p log(p/q) + (1−p) log((1−p)/(1−q)), with log p = −softplus(−l), log(1−p) = −softplus(l).
  const klJS = [0, 1].map((b) =>
    [0, 1].reduce((s, dd) => {
      const i = b * 2 + dd;
      const pp = sigmoid(lp[i]);
      return s + pp * (-softplus(-lp[i]) + softplus(-lq[i])) + (1 - pp) * (-softplus(lp[i]) + softplus(lq[i]));
    }, 0),
  );
  const kl = take(klDivergence(p, q));
  assert.ok(kl.every(Number.isFinite));
  assertClose(kl, klJS, { atol: 1e-4, rtol: 1e-5 });
  tf.dispose([l, lx, p.logits, q.logits]);
});

// ---------- Categorical ----------

test('Categorical.logProb(one-hot) = log softmax; logProbIndex agrees; mean = probs', () => {
  const rows = [
    [1, 0, -1, 2],
    [0, 0, 0, 0],
  ];
  const l = tf.tensor(rows);
  const d = new Categorical(l);
  assert.deepEqual(d.eventShape, [4]);
  // Value [4, 2, 4]: for each class k, one-hot e_k in both batch rows.
  const eye = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4);
  const x = tf.tidy(() => tf.tile(tf.reshape(tf.cast(eye, 'float32'), [4, 1, 4]), [1, 2, 1]));
  const lp = d.logProb(x);
  assert.deepEqual(lp.shape, [4, 2]);
  const ls = rows.map(logSoftmaxJS);
  const expected = [0, 1, 2, 3].flatMap((k) => [ls[0][k], ls[1][k]]);
  assertClose(take(lp), expected, { atol: 1e-6 });
  const labels = tf.tensor2d([[3, 1]], [1, 2], 'int32');
  assertClose(take(d.logProbIndex(labels)), [ls[0][3], ls[1][1]], { atol: 1e-6 });
  assertClose(take(d.mean()), ls.flat().map(Math.exp), { atol: 1e-7 });
  tf.dispose([l, eye, x, labels]);
});

test('Categorical.sample: one-hot draws whose frequencies pass a χ² test against softmax(l)', () => {
  const logits = [0.5, -1, 1.2, 0];
  const probs = logSoftmaxJS(logits).map(Math.exp);
  const l = tf.tensor(logits);
  const N = 40_000;
  const s = new Categorical(l).sample(new Rng(31), N);
  assert.deepEqual(s.shape, [N, 4]);
  assert.equal(s.dtype, 'float32');
  const v = take(s);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < N; i++) {
    const row = v.slice(i * 4, i * 4 + 4);
    assert.ok(row.every((e) => e === 0 || e === 1) && row.reduce<number>((a, b) => a + b, 0) === 1, `row ${i} not one-hot: ${row}`);
    counts[row.indexOf(1)]++;
  }
  const chi2 = chiSquare(counts, probs, N);
  assert.ok(chi2 < CHI2_CRIT_1E4[3], `χ²(3) = ${chi2}, counts ${counts}, expected ${probs.map((p) => p * N)}`);
  l.dispose();
});

test('Categorical entropy and KL match JS; KL matches a 100k-sample Monte Carlo estimate', () => {
  const lp = [
    [0.5, -1, 1.2, 0],
    [2, 2, -3, 0],
  ];
  const lq = [
    [0, 0, 0, 0],
    [-1, 1, 0.5, 0.2],
  ];
  const p = new Categorical(tf.tensor(lp));
  const q = new Categorical(tf.tensor(lq));
  const hJS = lp.map((row) => -logSoftmaxJS(row).reduce((s, v) => s + Math.exp(v) * v, 0));
  assertClose(take(p.entropy()), hJS, { atol: 1e-6 });
  const klJS = lp.map((row, b) => {
    const a = logSoftmaxJS(row);
    const c = logSoftmaxJS(lq[b]);
    return a.reduce((s, v, k) => s + Math.exp(v) * (v - c[k]), 0);
  });
  assertClose(take(klDivergence(p, q)), klJS, { atol: 1e-6 });
  // MC: standard error sd/√N, 5-standard-error band.
  const N = 100_000;
  const x = p.sample(new Rng(41), N);
  const r = tf.tidy(() => tf.sub(p.logProb(x), q.logProb(x)));
  const rv = take(r);
  for (let b = 0; b < 2; b++) {
    const { mean, sd } = meanSd(column(rv, 2, b));
    assert.ok(Math.abs(mean - klJS[b]) < (5 * sd) / Math.sqrt(N), `MC KL[${b}] ${mean} vs ${klJS[b]}`);
  }
  tf.dispose([x, p.logits, q.logits]);
});

// ---------- Concrete ----------

/** Trapezoid rule on a uniform grid; `f` is sampled at t_i = −T + i·h. */
function grid(T: number, h: number): number[] {
  const n = Math.round((2 * T) / h);
  return Array.from({ length: n + 1 }, (_, i) => -T + i * h);
}

test('Concrete K=2: density matches the logistic closed form and integrates to 1', () => {
  // For K = 2, logit(y₁) = (l₁ − l₂ + g₁ − g₂)/τ ~ Logistic(m = (l₁−l₂)/τ, s = 1/τ), so
  // p(y₁) = Logistic(logit y₁; m, s) / (y₁ y₂). We integrate p over y₁ ∈ (0, 1) by substituting
  // y₁ = sigmoid(t), dy₁ = y₁y₂ dt; the integrand decays like exp(−τ|t|), so |t| ≤ 80 leaves < 1e-8.
  const logits = [0.8, -0.4];
  for (const tau of [0.5, 1, 3]) {
    const ts = grid(80, 0.01);
    const ys = ts.flatMap((t) => [sigmoid(t), sigmoid(-t)]);
    const l = tf.tensor(logits);
    const y = tf.tensor(ys, [ts.length, 2]);
    const lp = take(new Concrete(l, tau).logProb(y));
    tf.dispose([l, y]);
    const m = (logits[0] - logits[1]) / tau;
    const s = 1 / tau;
    let integral = 0;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i];
      const y1 = ys[2 * i];
      const y2 = ys[2 * i + 1];
      if (Math.abs(t) <= 10) {
        const z = (t - m) / s;
        const logistic = -z - Math.log(s) - 2 * softplus(-z);
        assertClose(lp[i], logistic - Math.log(y1 * y2), { atol: 2e-4, rtol: 1e-5, msg: `τ=${tau} t=${t}` });
      }
      const w = i === 0 || i === ts.length - 1 ? 0.5 : 1;
      integral += w * 0.01 * Math.exp(lp[i] + Math.log(y1) + Math.log(y2));
    }
    assertClose(integral, 1, { atol: 1e-3, rtol: 0, msg: `∫p for τ=${tau}` });
  }
});

test('Concrete K=3: density integrates to 1 over the 2-simplex', () => {
  // Density is w.r.t. Lebesgue measure on (y₁, y₂). Substitute y = softmax(t₁, t₂, 0); the Jacobian
  // of (t₁, t₂) ↦ (y₁, y₂) has determinant y₁y₂y₃. Tails decay like exp(−τ|t|); |t| ≤ 40 suffices.
  const logits = [0.3, -0.5, 1.0];
  const T = 40;
  const h = 0.1;
  const ts = grid(T, h);
  for (const tau of [0.7, 2]) {
    const ys = new Float32Array(ts.length * ts.length * 3);
    const logJac = new Float64Array(ts.length * ts.length);
    let i = 0;
    for (const t1 of ts) {
      for (const t2 of ts) {
        const ls = logSoftmaxJS([t1, t2, 0]);
        ys[3 * i] = Math.exp(ls[0]);
        ys[3 * i + 1] = Math.exp(ls[1]);
        ys[3 * i + 2] = Math.exp(ls[2]);
        logJac[i] = ls[0] + ls[1] + ls[2];
        i++;
      }
    }
    const l = tf.tensor(logits);
    const y = tf.tensor(ys, [ts.length * ts.length, 3]);
    const lp = take(new Concrete(l, tau).logProb(y));
    tf.dispose([l, y]);
    const n = ts.length;
    let integral = 0;
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) {
        const w = (a === 0 || a === n - 1 ? 0.5 : 1) * (b === 0 || b === n - 1 ? 0.5 : 1);
        const k = a * n + b;
        integral += w * h * h * Math.exp(lp[k] + logJac[k]);
      }
    }
    assertClose(integral, 1, { atol: 2e-3, rtol: 0, msg: `∫p over the simplex for τ=${tau}` });
  }
});

test('Concrete.rsample lies on the simplex; argmax is Categorical(softmax l); small τ is near one-hot', () => {
  const logits = [1, 0, -1];
  const probs = logSoftmaxJS(logits).map(Math.exp);
  const l = tf.tensor(logits);
  const N = 20_000;
  const meanMax: Record<number, number> = {};
  for (const tau of [0.05, 5]) {
    const v = take(new Concrete(l, tau).rsample(new Rng(51), N));
    const counts = [0, 0, 0];
    let sumMax = 0;
    for (let i = 0; i < N; i++) {
      const row = v.slice(3 * i, 3 * i + 3);
      assert.ok(row.every((e) => e >= 0 && e <= 1), `row ${i} outside [0,1]: ${row}`);
      assert.ok(Math.abs(row[0] + row[1] + row[2] - 1) < 1e-5, `row ${i} sums to ${row[0] + row[1] + row[2]}`);
      const mx = Math.max(...row);
      counts[row.indexOf(mx)]++;
      sumMax += mx;
    }
    meanMax[tau] = sumMax / N;
    const chi2 = chiSquare(counts, probs, N);
    assert.ok(chi2 < CHI2_CRIT_1E4[2], `τ=${tau}: χ²(2) = ${chi2}, counts ${counts}`);
  }
  // At τ = 0.05 draws are nearly one-hot; at τ = 5 they are close to uniform (max ≈ 1/3 + small).
  assert.ok(meanMax[0.05] > 0.9, `mean max component at τ=0.05: ${meanMax[0.05]}`);
  assert.ok(meanMax[5] < 0.5, `mean max component at τ=5: ${meanMax[5]}`);
  l.dispose();
});

test('Concrete.rsample is differentiable w.r.t. the logits; mean/entropy throw clearly; probs = softmax', () => {
  const l = tf.tensor([[0.2, -0.3, 0.1]]);
  const w = tf.tensor([1, 2, 3]);
  const [g] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(new Concrete(x, 0.5).rsample(new Rng(1), 8), w)))([l]);
  const gv = take(g);
  assert.ok(gv.every(Number.isFinite) && gv.some((v) => Math.abs(v) > 1e-3), `gradient ${gv}`);
  const d = new Concrete(l, 0.5);
  assert.throws(() => d.mean(), /Concrete has no closed-form mean; use probs\(\)/);
  assert.throws(() => d.entropy(), /Concrete has no closed-form entropy/);
  assertClose(take(d.probs()), logSoftmaxJS([0.2, -0.3, 0.1]).map(Math.exp), { atol: 1e-7 });
  tf.dispose([l, w]);
});

// ---------- shape rule, memory, errors ----------

/** One of each distribution with batch [B] = [4], event [D] = [3], and the parameters to dispose. */
function makeAll(): { dists: { name: string; d: Distribution }[]; params: tf.Tensor[] } {
  const r = new Rng(99);
  const a = r.normal([4, 3]);
  const s = tf.tidy(() => tf.exp(r.normal([4, 3])));
  const s3 = tf.tensor([0.5, 1, 2]);
  const lv = r.normal([4, 3]);
  return {
    dists: [
      { name: 'Normal', d: new Normal(a, s) },
      { name: 'Normal (scale [D])', d: new Normal(a, s3) },
      { name: 'Normal.fromLogVar', d: Normal.fromLogVar(a, lv) },
      { name: 'Bernoulli', d: new Bernoulli(a) },
      { name: 'Categorical', d: new Categorical(a) },
      { name: 'Concrete', d: new Concrete(a, 0.5) },
    ],
    params: [a, s, s3, lv],
  };
}

test('shape rule: batch [4], event [3] — sample/rsample/logProb/mean/entropy/KL shapes', () => {
  const { dists: all, params } = makeAll();
  const rng = new Rng(1);
  for (const { name, d } of all) {
    assert.deepEqual(d.batchShape, [4], name);
    assert.deepEqual(d.eventShape, [3], name);
    const one = d.sample(rng);
    const five = d.sample(rng, 5);
    assert.deepEqual(one.shape, [4, 3], `${name} sample()`);
    assert.deepEqual(five.shape, [5, 4, 3], `${name} sample(5)`);
    const lp1 = d.logProb(one);
    const lp5 = d.logProb(five);
    const lpBroad = tf.tidy(() => d.logProb(tf.slice(five, [0, 0, 0], [5, 1, 3]))); // [5, 1, 3] broadcasts over batch
    assert.deepEqual(lp1.shape, [4], `${name} logProb(sample())`);
    assert.deepEqual(lp5.shape, [5, 4], `${name} logProb(sample(5))`);
    assert.deepEqual(lpBroad.shape, [5, 4], `${name} logProb([5,1,3])`);
    assert.ok(take(lp5).every(Number.isFinite), `${name} logProb finite`);
    if (d.hasRsample) {
      const r5 = d.rsample(rng, 5);
      assert.deepEqual(r5.shape, [5, 4, 3], `${name} rsample(5)`);
      r5.dispose();
    } else {
      assert.throws(() => d.rsample(rng), new RegExp(`${name} has no reparameterised sampler`));
    }
    if (!(d instanceof Concrete)) {
      const m = d.mean();
      const h = d.entropy();
      assert.deepEqual(m.shape, [4, 3], `${name} mean`);
      assert.deepEqual(h.shape, [4], `${name} entropy`);
      tf.dispose([m, h]);
      // KL against itself is 0, shape [4]; against a batch-less q (params [3]) broadcasts to [4].
      const kl = klDivergence(d, d);
      assert.deepEqual(kl.shape, [4], `${name} KL`);
      assertClose(take(kl), [0, 0, 0, 0], { atol: 1e-5, msg: `${name} KL(p‖p)` });
    }
    tf.dispose([one, five, lp1, lpBroad]);
  }
  const q0 = tf.tensor([0.1, 0.2, 0.3]);
  const q1 = tf.tensor([1, 1, 1]);
  const kls = [
    klDivergence(all[0].d, new Normal(q0, q1)),
    klDivergence(new Normal(q0, q1), all[0].d),
    klDivergence(all[3].d, new Bernoulli(q0)),
    klDivergence(new Categorical(q0), all[4].d),
  ];
  for (const k of kls) assert.deepEqual(k.shape, [4]);
  tf.dispose([...kls, q0, q1, ...params]);
});

test('no tensor leaks from any method (after disposing the outputs)', async () => {
  const { dists: all, params } = makeAll();
  const rng = new Rng(2);
  const wrong = tf.zeros([4, 2]);
  for (const { name, d } of all) {
    await assertNoLeak(() => tf.dispose(d.sample(rng)), `${name}.sample leaked`);
    const x = d.sample(rng, 3);
    await assertNoLeak(() => tf.dispose(d.sample(rng, 3)), `${name}.sample(n) leaked`);
    await assertNoLeak(() => tf.dispose(d.logProb(x)), `${name}.logProb leaked`);
    if (d.hasRsample) await assertNoLeak(() => tf.dispose(d.rsample(rng, 2)), `${name}.rsample leaked`);
    if (!(d instanceof Concrete)) {
      await assertNoLeak(() => tf.dispose(d.mean()), `${name}.mean leaked`);
      await assertNoLeak(() => tf.dispose(d.entropy()), `${name}.entropy leaked`);
      await assertNoLeak(() => tf.dispose(klDivergence(d, d)), `${name} KL leaked`);
    } else {
      await assertNoLeak(() => tf.dispose(d.probs()), `${name}.probs leaked`);
    }
    // Failing calls leave nothing behind either.
    await assertNoLeak(() => assert.throws(() => d.logProb(wrong)), `${name} bad logProb leaked`);
    x.dispose();
  }
  const n = all[0].d as Normal;
  await assertNoLeak(() => tf.dispose([n.stddev(), n.variance(), n.logScale()]), 'Normal helpers leaked');
  await assertNoLeak(() => tf.dispose(tf.grads((l: tf.Tensor) => tf.sum(new Normal(l, params[1]).rsample(rng)))([params[0]])), 'grads leaked');
  const c = all[4].d as Categorical;
  const lab = tf.tensor1d([0, 1, 2, 0], 'int32');
  await assertNoLeak(() => tf.dispose([c.logProbIndex(lab), c.logProbs(), c.probs()]), 'Categorical helpers leaked');
  tf.dispose([lab, wrong, ...params]);
});

test('bad inputs give clear errors', () => {
  const a = tf.zeros([2, 3]);
  const b = tf.ones([4]);
  const sc = tf.scalar(1);
  assert.throws(() => new Normal(a, 1 as unknown as tf.Tensor), /Normal: scale must be a tf\.Tensor, got number/);
  assert.throws(() => new Normal([0, 1] as unknown as tf.Tensor, a), /Normal: loc must be a tf\.Tensor, got an array/);
  assert.throws(() => new Normal(a, b), /Normal: loc and scale: shapes \[2, 3\] and \[4\] do not broadcast/);
  assert.throws(() => Normal.fromLogVar(a, b), /Normal\.fromLogVar: loc and logVar: shapes \[2, 3\] and \[4\] do not broadcast/);
  assert.throws(() => new Normal(sc, sc), /rank ≥ 1.*use shape \[1\]/);
  for (const t of [0, -1, NaN, Infinity]) {
    assert.throws(() => new Concrete(a, t), /Concrete: temperature must be a finite number > 0/);
  }
  assert.throws(() => new Concrete(a, '1' as unknown as number), /temperature must be a finite number > 0, got 1/);
  const n = new Normal(a, tf.onesLike(a));
  assert.throws(() => n.logProb(b), /Normal\.logProb: value of shape \[4\] must have event size 3/);
  const bad = tf.zeros([5, 3]);
  assert.throws(() => n.logProb(bad), /Normal\.logProb: value and parameters: shapes \[5, 3\] and \[2, 3\] do not broadcast/);
  assert.throws(() => n.sample(new Rng(1), 0), /Normal\.sample: n must be a positive integer, got 0/);
  assert.throws(() => n.rsample(new Rng(1), 2.5), /Normal\.rsample: n must be a positive integer, got 2\.5/);
  const be = new Bernoulli(a);
  assert.throws(() => be.rsample(new Rng(1)), /Bernoulli has no reparameterised sampler/);
  assert.throws(() => klDivergence(n, be), /no analytic KL registered for Normal‖Bernoulli/);
  assert.throws(() => klDivergence(new Concrete(a, 1), new Concrete(a, 1)), /no analytic KL registered for Concrete‖Concrete/);
  assert.throws(() => klDivergence(new Bernoulli(a), new Bernoulli(b)), /event shapes differ, \[3\] vs \[4\]/);
  const c = new Categorical(a);
  const fl = tf.zeros([2]);
  assert.throws(() => c.logProbIndex(fl), /labels must be int32/);
  tf.dispose([a, b, sc, n.scale!, bad, fl]);
});

test('KL lookup follows subclasses (a subclass of Normal uses Normal‖Normal)', () => {
  class TaggedNormal extends Normal {}
  const a = tf.tensor([[0.5, 1]]);
  const s = tf.tensor([[1, 2]]);
  const p = new TaggedNormal(a, s);
  const q = new Normal(tf.zeros([1, 2]), tf.ones([1, 2]));
  assert.ok(lookupKL(p, q) !== null);
  const exact = 0.5 * (1 + 0.25 - 1) + (Math.log(1 / 2) + 0.5 * (4 + 1) - 0.5);
  assertClose(take(klDivergence(p, q)), [exact], { atol: 1e-6 });
  tf.dispose([a, s, q.loc, q.scale!]);
});
