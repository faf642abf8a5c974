import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { formatCsv } from '../io/table.js';
import { checkInside, fromLogit, parseBounds, toLogit } from '../data/bounded.js';
import { fitFiles, fittedRunnable, generateFromFit, loadFitted, predictFile, rangeLabels, type FitInfo } from './fit.js';
import { Rng } from '../engine/rng.js';
import { assertClose, setupEngine } from '../testing/helpers.js';

await setupEngine();

/** Writes rows as `dir/name` with ids s0, s1, …; returns the path. */
function writeCsv(dir: string, name: string, cols: string[], rows: number[][]): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, formatCsv(cols, rows, rows.map((_, i) => `s${i}`)));
  return f;
}

test('bounds: parsed per target; the logit map and its inverse against hand-computed values', () => {
  const b = parseBounds(' 0:100 , -1:1', 2);
  assert.deepEqual(b, { lo: [0, -1], hi: [100, 1] });
  // y = 75 in (0, 100): t = log(75 / 25) = log 3; y = 0 in (−1, 1): t = log(1 / 1) = 0
  const t = toLogit(b, [75, 0, 20, 0.5]);
  assertClose(Array.from(t), [Math.log(3), 0, Math.log(20 / 80), Math.log(1.5 / 0.5)], { atol: 1e-6 });
  assertClose(fromLogit(b, t), [75, 0, 20, 0.5], { atol: 1e-4 });
  // far out on the logit scale the values stay inside the bounds
  const far = fromLogit(b, [60, -60, -800, 800]);
  assert.ok(far[0] <= 100 && far[1] >= -1 && far[2] >= 0 && far[3] <= 1 && far.every(Number.isFinite));
  assert.throws(() => parseBounds('0:100', 2, ['a', 'b']), /1 range for 2 targets \(a, b\)/);
  assert.throws(() => parseBounds('5:5', 1), /lower bound 5 is not below the upper bound 5/);
  assert.throws(() => parseBounds('0-100', 1), /'0-100' is not lo:hi/);
  assert.throws(() => checkInside(b, [50, 0, 100, 0], 'y.csv', (i) => `data row ${i + 1}`, ['moisture', 'z']), /y\.csv: data row 2, target moisture: 100 is not strictly inside the bounds \(0, 100\)/);
  // range labels stop short of the bounds
  const r = rangeLabels([0.01, 0.5, 0.99], 3, 1, 200, new Rng(1), { lo: [0], hi: [1] });
  assert.ok(r.every(([v]) => v >= 0.005 && v <= 0.995));
  assert.ok(Math.min(...r.map(([v]) => v)) < 0.02 && Math.max(...r.map(([v]) => v)) > 0.98);
});

test('fit --bounds 0:1: predictions and draws stay inside, even far outside the training spectra; saved and loaded; bad labels refused', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-bounded-'));
  try {
    const D = 10;
    const ch = Array.from({ length: D }, (_, j) => `nm${1000 + 10 * j}`);
    const rng = new Rng(3);
    const y = Array.from({ length: 40 }, () => 0.02 + 0.96 * rng.next());
    const spectrum = (v: number, i: number) => Array.from({ length: D }, (_, j) => 0.3 + 0.5 * v * Math.exp(-((j - 4) ** 2) / 4) + 0.01 * Math.sin(3 * i + j));
    const x = y.map(spectrum);
    const write = (name: string, cols: string[], rows: number[][]) => writeCsv(dir, name, cols, rows);
    const fx = write('x.csv', ch, x);
    const fy = write('y.csv', ['fraction'], y.map((v) => [v]));
    const out = path.join(dir, 'm');
    const r = await fitFiles({ x: fx, y: fy, labels: 'real', bounds: '0:1', unfeatured: 'range:100', out, epochs: 40, batchSize: 20, lr: 0.01, seed: 1 });
    assert.deepEqual(r.estimator.yBounds, { lo: [0], hi: [1] });
    r.estimator.dispose();
    const m = loadFitted(out);
    assert.deepEqual(m.estimator.yBounds, { lo: [0], hi: [1] });
    // spectra far beyond the training ones (the band 20 times as high): still inside (0, 1)
    const wild = write('wild.csv', ch, [spectrum(20, 0), spectrum(-20, 1), x[0]]);
    const p = predictFile(m, wild, 50, 0);
    for (const row of p.mean) assert.ok(row[0] > 0 && row[0] < 1, `prediction ${row[0]}`);
    const draws = m.estimator.predict([spectrum(20, 0), spectrum(-20, 1)], { samples: 50, seed: 2 }).samples!;
    assert.ok(draws.flat(2).every((v) => v > 0 && v < 1), 'every draw of q(y | x) inside (0, 1)');
    // the point prediction is σ of the mean of q on the logit scale (the median of q(y | x))
    const logitMean = tf.tidy(() => m.estimator.model.predict(tf.tensor2d(Float32Array.from([spectrum(20, 0), spectrum(-20, 1), x[0]].flat()), [3, D])).dataSync() as Float32Array);
    assertClose(p.mean.map((r) => r[0]), fromLogit({ lo: [0], hi: [1] }, logitMean), { atol: 1e-5 });
    // generate takes y in its units; a label on a bound is refused
    assert.equal(generateFromFit(m, [[0.5]])[0].length, D);
    assert.throws(() => generateFromFit(m, [[1]]), /generate --y: label 1, target 0: 1 is not strictly inside the bounds \(0, 1\); the model's bounds were set by fit --bounds/);
    // sample draws y from the fitted prior on the logit scale and writes it back in its units, inside the bounds
    const run = fittedRunnable(m);
    const drawn = run.sampleWithLabels(200, new Rng(5));
    const t = drawn.y.dataSync() as Float32Array;
    drawn.x.dispose();
    drawn.y.dispose();
    const ys = fromLogit({ lo: [0], hi: [1] }, t);
    assert.ok(ys.every((v) => v > 0 && v < 1));
    // the draws follow p(t) = N(μ, σ²) fitted on the logit of the labelled values
    const lt = Array.from(toLogit({ lo: [0], hi: [1] }, y));
    const mu = lt.reduce((a, v) => a + v, 0) / lt.length;
    const tm = Array.from(t).reduce((a, v) => a + v, 0) / t.length;
    assert.ok(Math.abs(tm - mu) < 0.4, `mean of the draws ${tm} vs the labelled logits' mean ${mu}`);
    m.estimator.dispose();
    // a labelled value on a bound, bounds for compositions, and a wrong count are refused before anything is written
    const fy0 = write('y0.csv', ['fraction'], y.map((v, i) => [i === 3 ? 0 : v]));
    await assert.rejects(fitFiles({ x: fx, y: fy0, labels: 'real', bounds: '0:1', out: path.join(dir, 'b'), epochs: 1 }), /y0\.csv: data row 4 \(id 's3'\), target fraction: 0 is not strictly inside the bounds \(0, 1\)/);
    await assert.rejects(fitFiles({ x: fx, y: fy, labels: 'real', bounds: '0:1,0:2', out: path.join(dir, 'b'), epochs: 1 }), /2 ranges for 1 target \(fraction\)/);
    const fc = write('c.csv', ['a', 'b'], y.map((v) => [v, 1 - v]));
    await assert.rejects(fitFiles({ x: fx, y: fc, labels: 'simplex', bounds: '0:1,0:1', out: path.join(dir, 'b'), epochs: 1 }), /--bounds is for real targets/);
    assert.ok(!fs.existsSync(path.join(dir, 'b')) && !fs.existsSync(path.join(dir, 'b.partial')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('several real targets in different units: the saved weights are chosen by RMSEPs relative to each target\'s training sd, pooled', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-multi-'));
  try {
    const D = 10;
    const ch = Array.from({ length: D }, (_, j) => `nm${1000 + 10 * j}`);
    const rng = new Rng(8);
    // octane-like (≈ 85–90) and a fraction (≈ 0.6–0.9): units 100 times apart
    const t = Array.from({ length: 48 }, () => [rng.next(), rng.next()]);
    const y = t.map(([a, b]) => [85 + 5 * a, 0.6 + 0.3 * b]);
    const x = t.map(([a, b], i) => Array.from({ length: D }, (_, j) => 0.3 + 0.4 * a * Math.exp(-((j - 2) ** 2) / 3) + 0.4 * b * Math.exp(-((j - 7) ** 2) / 3) + 0.005 * Math.sin(5 * i + j)));
    const write = (name: string, cols: string[], rows: number[][]) => writeCsv(dir, name, cols, rows);
    const out = path.join(dir, 'm');
    const r = await fitFiles({ x: write('x.csv', ch, x), y: write('y.csv', ['octane', 'frac'], y), labels: 'real', unfeatured: 'none', validationFraction: 0.25, out, epochs: 40, batchSize: 36, lr: 0.01, seed: 2 });
    r.estimator.dispose();
    const info = JSON.parse(fs.readFileSync(path.join(out, 'fit.json'), 'utf8')) as FitInfo;
    assert.equal(info.validation!.metric, 'val_rmsep_sd');
    // the recorded score is the pooled RMSEP over each target's training sd; the saved epoch is its minimum
    const held = new Set(info.validation!.heldOut!.index);
    const trainY = y.filter((_, i) => !held.has(i));
    const sd = [0, 1].map((k) => {
      const m = trainY.reduce((a, r) => a + r[k], 0) / trainY.length;
      return Math.sqrt(trainY.reduce((a, r) => a + (r[k] - m) ** 2, 0) / (trainY.length - 1));
    });
    const m = loadFitted(out);
    const vx = [...held].map((i) => x[i]);
    const vy = [...held].map((i) => y[i]);
    const p = m.estimator.predict(vx).mean;
    const per = [0, 1].map((k) => Math.sqrt(p.reduce((a, row, i) => a + (row[k] - vy[i][k]) ** 2, 0) / p.length));
    const pooled = Math.sqrt(((per[0] / sd[0]) ** 2 + (per[1] / sd[1]) ** 2) / 2);
    const curve = info.history.map((h) => h.metrics!.val_rmsep_sd);
    const bestAt = curve.indexOf(Math.min(...curve));
    assert.equal(info.validation!.bestEpoch, info.history[bestAt].epoch);
    assert.ok(Math.abs(pooled - curve[bestAt]) < 1e-4 * Math.max(1, pooled), `${pooled} vs ${curve[bestAt]}`);
    // the validation chart draws each target standardised by its measured values (the fraction is not a dot at 0 beside octane)
    const spec = fs.readFileSync(path.join(out, 'validation-pv.vl.json'), 'utf8');
    const pts = [...spec.matchAll(/\{"x":(-?[\d.e-]+),"y":(-?[\d.e-]+),"class":"(octane|frac)"\}/g)].map((q) => ({ x: Number(q[1]), y: Number(q[2]), c: q[3] }));
    assert.equal(pts.length, 2 * vy.length);
    ['octane', 'frac'].forEach((c, k) => {
      const xs = vy.map((row) => row[k]);
      const mu = xs.reduce((a, v) => a + v, 0) / xs.length;
      const s = Math.sqrt(xs.reduce((a, v) => a + (v - mu) ** 2, 0) / (xs.length - 1));
      const drawn = pts.filter((q) => q.c === c);
      drawn.forEach((q, i) => {
        assert.ok(Math.abs(q.x - (xs[i] - mu) / s) < 1e-3, `${c} row ${i}: x ${q.x} vs ${(xs[i] - mu) / s}`);
        assert.ok(Math.abs(q.y - (p[i][k] - mu) / s) < 1e-3, `${c} row ${i}: y ${q.y}`);
      });
    });
    m.estimator.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
