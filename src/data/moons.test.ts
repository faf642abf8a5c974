import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDataset, makeMoons, moonsBayesClassify, moonsSplits } from './index.js';

test('makeMoons: shape, labels, seeded reproducibility', () => {
  const a = makeMoons(200, { seed: 3 });
  checkDataset(a);
  assert.equal(a.name, 'moons');
  assert.equal(a.n, 200);
  assert.equal(a.dim, 2);
  assert.deepEqual(a.shape, [2]);
  assert.equal(a.numClasses, 2);
  assert.ok(a.x instanceof Float32Array && a.y instanceof Int32Array);
  const b = makeMoons(200, { seed: 3 });
  assert.deepEqual(a.x, b.x);
  assert.deepEqual(a.y, b.y);
  const c = makeMoons(200, { seed: 4 });
  assert.notDeepEqual(a.x, c.x);
  // Default seed is 0.
  assert.deepEqual(makeMoons(50).x, makeMoons(50, { seed: 0 }).x);
  // Shuffled: the labels are not sorted.
  const firstHalf = Array.from(a.y.subarray(0, 100));
  assert.ok(firstHalf.includes(0) && firstHalf.includes(1), 'classes are interleaved by the shuffle');
});

test('makeMoons: classes split evenly (class 0 gets the odd one)', () => {
  for (const [n, want0] of [
    [200, 100],
    [7, 4],
    [1, 1],
  ]) {
    const ds = makeMoons(n, { seed: 1 });
    const ones = ds.y.reduce((s, v) => s + v, 0);
    assert.equal(n - ones, want0, `n = ${n}`);
    assert.ok(ds.y.every((v) => v === 0 || v === 1));
  }
});

test('makeMoons: with noise 0 every point lies exactly on its half circle', () => {
  const ds = makeMoons(101, { noise: 0, seed: 9 });
  let top = 0;
  for (let i = 0; i < ds.n; i++) {
    const x = ds.x[2 * i];
    const y = ds.x[2 * i + 1];
    if (ds.y[i] === 0) {
      // (cos t, sin t), t in [0, π]: on the unit circle, upper half.
      assert.ok(Math.abs(x * x + y * y - 1) < 1e-6, `row ${i}: (${x}, ${y}) off the unit circle`);
      assert.ok(y >= -1e-7, `row ${i}: class 0 below the x axis`);
      if (y > 0.999) top++;
    } else {
      // (1 − cos t, 0.5 − sin t): circle of radius 1 around (1, 0.5), lower half.
      assert.ok(Math.abs((x - 1) ** 2 + (y - 0.5) ** 2 - 1) < 1e-6, `row ${i}: (${x}, ${y}) off the lower circle`);
      assert.ok(y <= 0.5 + 1e-7, `row ${i}: class 1 above y = 0.5`);
    }
  }
  assert.equal(top, 1, 'evenly spaced angles reach the top of the arc once (t = π/2)');
  // Both end points of each arc are present: (1, 0), (−1, 0), (0, 0.5), (2, 0.5).
  const has = (px: number, py: number) => {
    for (let i = 0; i < ds.n; i++) if (Math.abs(ds.x[2 * i] - px) < 1e-6 && Math.abs(ds.x[2 * i + 1] - py) < 1e-6) return true;
    return false;
  };
  for (const [px, py] of [
    [1, 0],
    [-1, 0],
    [0, 0.5],
    [2, 0.5],
  ]) {
    assert.ok(has(px, py), `end point (${px}, ${py})`);
  }
});

test('makeMoons: noise has the requested spread and keeps order and labels', () => {
  const clean = makeMoons(4000, { noise: 0, seed: 5 });
  const noisy = makeMoons(4000, { noise: 0.2, seed: 5 });
  assert.deepEqual(noisy.y, clean.y, 'same seed, same order whatever the noise');
  let ss = 0;
  let sum = 0;
  for (let i = 0; i < clean.x.length; i++) {
    const d = noisy.x[i] - clean.x[i];
    sum += d;
    ss += d * d;
  }
  const m = clean.x.length;
  assert.ok(Math.abs(sum / m) < 0.02, `noise mean ${sum / m}`);
  const sd = Math.sqrt(ss / m);
  assert.ok(Math.abs(sd - 0.2) < 0.01, `noise std ${sd}, expected 0.2`);
  // Default noise is 0.1.
  const def = makeMoons(4000, { seed: 5 });
  let ss1 = 0;
  for (let i = 0; i < m; i++) ss1 += (def.x[i] - clean.x[i]) ** 2;
  assert.ok(Math.abs(Math.sqrt(ss1 / m) - 0.1) < 0.006);
});

test('makeMoons: bad n or noise is a clear error', () => {
  assert.throws(() => makeMoons(0), /makeMoons: n must be a positive integer, got 0/);
  assert.throws(() => makeMoons(-5), /n must be a positive integer, got -5/);
  assert.throws(() => makeMoons(10.5), /n must be a positive integer, got 10\.5/);
  assert.throws(() => makeMoons(NaN), /n must be a positive integer, got NaN/);
  assert.throws(() => makeMoons(10, { noise: -0.1 }), /noise must be a finite number ≥ 0, got -0\.1/);
  assert.throws(() => makeMoons(10, { noise: Infinity }), /noise must be a finite number/);
});

test('moonsSplits: independent, reproducible train and test sets', () => {
  const a = moonsSplits({ train: 100, test: 60, seed: 2 });
  const b = moonsSplits({ train: 100, test: 60, seed: 2 });
  assert.equal(a.train.n, 100);
  assert.equal(a.test.n, 60);
  assert.equal(a.train.name, 'moons-train');
  assert.equal(a.test.name, 'moons-test');
  assert.deepEqual(a.train.x, b.train.x);
  assert.deepEqual(a.test.x, b.test.x);
  // Different forks: the first 60 training points differ from the test points.
  const same = moonsSplits({ train: 60, test: 60, seed: 2 });
  assert.notDeepEqual(same.train.x, same.test.x);
  assert.notDeepEqual(moonsSplits({ train: 100, test: 60, seed: 3 }).train.x, a.train.x);
  assert.throws(() => moonsSplits({ train: 0, test: 10 }), /moonsSplits: train must be a positive integer, got 0/);
  assert.throws(() => moonsSplits({ train: 10, test: 2.5 }), /moonsSplits: test must be a positive integer, got 2\.5/);
});

test('moonsBayesClassify: the error floor is ≈ 2.8% at noise 0.2, < 0.3% at noise 0.1, and beats a linear boundary', () => {
  const err = (noise: number) => {
    const d = makeMoons(4000, { noise, seed: 5 });
    const pred = moonsBayesClassify(d.x, noise);
    let wrong = 0;
    for (let i = 0; i < d.n; i++) if (pred[i] !== d.y[i]) wrong++;
    return { bayes: wrong / d.n, d };
  };
  const hi = err(0.2);
  assert.ok(hi.bayes > 0.015 && hi.bayes < 0.045, `noise 0.2: ${hi.bayes}`);
  assert.ok(err(0.1).bayes < 0.003);
  // the best line through the data's centre (tried every 1°) does worse than the Bayes classifier
  let bestLinear = 1;
  for (let deg = 0; deg < 180; deg++) {
    const [c, s] = [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
    let wrong = 0;
    for (let i = 0; i < hi.d.n; i++) if ((c * (hi.d.x[2 * i] - 0.5) + s * (hi.d.x[2 * i + 1] - 0.25) > 0 ? 0 : 1) !== hi.d.y[i]) wrong++;
    bestLinear = Math.min(bestLinear, wrong / hi.d.n, 1 - wrong / hi.d.n);
  }
  assert.ok(bestLinear > hi.bayes + 0.05, `linear ${bestLinear} vs Bayes ${hi.bayes}`);
  assert.throws(() => moonsBayesClassify(hi.d.x, 0), /noise must be > 0/);
});
