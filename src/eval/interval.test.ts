import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../engine/rng.js';
import { calibrateIntervals, calibrateSets, classificationScores, conformalMinRows, conformalQuantile, conformalRank, intervalCoverage, predictIntervals, predictionSets, rmsep, setCoverage } from './interval.js';

/** One standard normal draw (Box–Muller). */
const gauss = (rng: Rng) => Math.sqrt(-2 * Math.log(rng.nextOpen())) * Math.cos(2 * Math.PI * rng.next());

test('conformal quantile: the ⌈(n+1)(1−a)⌉-th smallest score, infinite when that exceeds n', () => {
  const s = [0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6];
  assert.equal(conformalQuantile(s, 0.2), 0.8); // k = ⌈10 · 0.8⌉ = 8
  assert.equal(conformalQuantile(s, 0.1), 0.9); // k = ⌈10 · 0.9⌉ = 9
  assert.equal(conformalQuantile(s, 0.05), Infinity); // k = ⌈9.5⌉ = 10 > 9
  assert.equal(conformalQuantile(s, 0.5), 0.5); // k = ⌈5⌉ = 5
  assert.equal(conformalRank(19, 0.05), 19); // 20 · 0.95 is 19, not 19.000000000000004 rounded up
  assert.equal(conformalRank(39, 0.05), 38);
  assert.equal(conformalMinRows(0.05), 19);
  assert.equal(conformalMinRows(0.1), 9);
  assert.throws(() => conformalQuantile([0.1, -1], 0.1), /score 1 is -1/);
  assert.throws(() => conformalRank(5, 1.5), /must be in \(0, 1\)/);
});

test('calibrateIntervals and predictIntervals: hand-computed example, clipping, too few rows', () => {
  const mean = [[0.2, 0.8], [0.5, 0.5], [0.9, 0.1], [0.4, 0.6]];
  const y = [[0.25, 0.75], [0.3, 0.7], [0.95, 0.05], [0.4, 0.6]];
  // residuals of component 0: 0.05, 0.2, 0.05, 0; at a = 0.4, k = ⌈5 · 0.6⌉ = 3: the third smallest is 0.05
  const cal = calibrateIntervals(mean, y, { level: 0.6 });
  assert.equal(cal.rank, 3);
  assert.equal(cal.n, 4);
  assert.ok(Math.abs(cal.quantile[0]! - 0.05) < 1e-12 && Math.abs(cal.quantile[1]! - 0.05) < 1e-12, `${cal.quantile}`);
  const iv = predictIntervals(cal, [[0.98, 0.02]], { clip: [0, 1] });
  assert.ok(Math.abs(iv.lower[0][0] - 0.93) < 1e-12 && iv.upper[0][0] === 1 && iv.lower[0][1] === 0 && Math.abs(iv.upper[0][1] - 0.07) < 1e-12, JSON.stringify(iv));
  // scaled: residual / sd
  const sd = [[0.1, 0.1], [0.1, 0.1], [0.05, 0.05], [1, 1]];
  const sc = calibrateIntervals(mean, y, { level: 0.6, method: 'scaled', sd }); // scores 0.5, 2, 1, 0 → third smallest 1
  assert.ok(Math.abs(sc.quantile[0]! - 1) < 1e-9);
  assert.ok(Math.abs(predictIntervals(sc, [[0.5, 0.5]], { sd: [[0.2, 0.2]] }).upper[0][0] - 0.7) < 1e-9);
  assert.throws(() => calibrateIntervals(mean, y, { method: 'scaled', sd: mean.map((r) => r.map(() => 0)) }), /every sd is 0/);
  // 4 rows cannot support 95%: the quantile is infinite (null) and the interval is the whole range
  const wide = calibrateIntervals(mean, y);
  assert.deepEqual(wide.quantile, [null, null]);
  assert.equal(wide.minRows, 19);
  assert.deepEqual(predictIntervals(wide, [[0.3, 0.7]], { clip: [0, 1] }), { lower: [[0, 0]], upper: [[1, 1]] });
  assert.deepEqual(rmsep([[0, 1], [1, 0]], [[0, 1], [0, 1]]).perComponent, [Math.SQRT1_2, Math.SQRT1_2]);
});

/**
 * Compositions with a heteroscedastic, biased predictor: y = ŷ + noise whose sd grows with ŷ; the
 * predictor reports a quarter of the true sd (overconfident, as q(y | x) can be).
 */
function synthetic(n: number, rng: Rng): { mean: number[][]; y: number[][]; sd: number[][] } {
  const mean: number[][] = [];
  const y: number[][] = [];
  const sd: number[][] = [];
  for (let i = 0; i < n; i++) {
    const g = [0, 1, 2].map(() => -Math.log(rng.nextOpen()) - Math.log(rng.nextOpen()));
    const s = g[0] + g[1] + g[2];
    const m = g.map((v) => v / s);
    const sig = m.map((v) => 0.01 + 0.08 * v);
    const noisy = m.map((v, k) => Math.max(0, v + 0.02 + sig[k] * gauss(rng)));
    const t = noisy.reduce((a, b) => a + b, 0);
    mean.push(m);
    y.push(noisy.map((v) => v / t));
    sd.push(sig.map((v) => v / 4));
  }
  return { mean, y, sd };
}

test('split-conformal intervals cover about 95% of fresh rows (absolute and scaled); the sd alone does not', () => {
  const rng = new Rng(11);
  const cal = synthetic(300, rng);
  const fresh = synthetic(2000, rng);
  for (const method of ['absolute', 'scaled'] as const) {
    const c = calibrateIntervals(cal.mean, cal.y, { level: 0.95, method, sd: cal.sd });
    const iv = predictIntervals(c, fresh.mean, { sd: fresh.sd, clip: [0, 1] });
    const cov = intervalCoverage(iv.lower, iv.upper, fresh.y);
    assert.ok(cov.overall > 0.92 && cov.overall < 0.98, `${method}: coverage ${cov.overall}`);
    for (const p of cov.perComponent) assert.ok(p > 0.9 && p < 0.99, `${method}: per component ${cov.perComponent}`);
    // at level 0.5 the same procedure covers about half: the intervals are not merely wide
    const half = predictIntervals(calibrateIntervals(cal.mean, cal.y, { level: 0.5, method, sd: cal.sd }), fresh.mean, { sd: fresh.sd });
    const c50 = intervalCoverage(half.lower, half.upper, fresh.y).overall;
    assert.ok(c50 > 0.44 && c50 < 0.58, `${method}: coverage at 50%: ${c50}`);
  }
  // ŷ ± 1.96 sd with the overconfident sd covers far less
  const naive = intervalCoverage(fresh.mean.map((r, i) => r.map((v, k) => v - 1.96 * fresh.sd[i][k])), fresh.mean.map((r, i) => r.map((v, k) => v + 1.96 * fresh.sd[i][k])), fresh.y);
  assert.ok(naive.overall < 0.7, `naive coverage ${naive.overall}`);
});

test('conformal prediction sets for classes cover about the nominal share of fresh rows', () => {
  const rng = new Rng(5);
  const draw = (n: number) => {
    const probs: number[][] = [];
    const cls: number[] = [];
    for (let i = 0; i < n; i++) {
      const l = [0, 1, 2].map(() => 1.5 * gauss(rng));
      const m = Math.max(...l);
      const e = l.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      const p = e.map((v) => v / s);
      const u = rng.next();
      cls.push(u < p[0] ? 0 : u < p[0] + p[1] ? 1 : 2);
      probs.push(p);
    }
    return { probs, cls };
  };
  const cal = draw(400);
  const fresh = draw(2000);
  const c = calibrateSets(cal.probs, cal.cls, 0.9);
  assert.ok(c.threshold !== null && c.threshold > 0 && c.threshold < 0.5, `threshold ${c.threshold}`);
  const cov = setCoverage(predictionSets(c, fresh.probs), fresh.cls);
  assert.ok(cov.coverage > 0.86 && cov.coverage < 0.94, `coverage ${cov.coverage}`);
  assert.ok(cov.meanSize > 1 && cov.meanSize < 3, `size ${cov.meanSize}`);
  const sc = classificationScores([[0.9, 0.1], [0.4, 0.6]], [0, 0]);
  assert.equal(sc.error, 0.5);
  assert.ok(Math.abs(sc.crossEntropy - (-Math.log(0.9) - Math.log(0.4)) / 2) < 1e-12);
});
