import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { anomalyThreshold, auroc, checkTimestamps, elboPerRow } from './anomaly.js';

await setupEngine();

test('anomalyThreshold: the share of training rows below it is ⌊f·n⌋/n, for several f and n', () => {
  const rng = new Rng(1);
  for (const n of [7, 100, 1001]) {
    const e = Array.from({ length: n }, () => -10 * rng.next() - 5);
    for (const f of [0, 0.01, 0.05, 0.5]) {
      const t = anomalyThreshold(e, f);
      const below = e.filter((v) => v < t).length;
      assert.equal(below, Math.floor(f * n), `n ${n}, f ${f}`);
    }
  }
  assert.throws(() => anomalyThreshold([1, 2], 1), /false-alarm rate must be in \[0, 1\)/);
});

test('auroc equals the share of (positive, negative) pairs ordered right, ties counting half', () => {
  const rng = new Rng(2);
  const s = Array.from({ length: 60 }, () => Math.round(10 * rng.next()) / 2); // many ties
  const pos = s.map(() => rng.next() < 0.4);
  let good = 0;
  let pairs = 0;
  for (let i = 0; i < s.length; i++) {
    for (let j = 0; j < s.length; j++) {
      if (!pos[i] || pos[j]) continue;
      pairs++;
      good += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  assert.ok(Math.abs(auroc(s, pos) - good / pairs) < 1e-12);
  assert.equal(auroc([1, 2, 3, 4], [false, false, true, true]), 1);
  assert.throws(() => auroc([1, 2], [true, true]), /need positives and negatives/);
});

test('checkTimestamps: ISO times in order pass; a missing, unreadable, repeated or earlier one names its row', () => {
  const where = (i: number) => `f.csv: line ${i + 2}`;
  const t = checkTimestamps(['2017-01-09T08:00:00Z', '2017-01-09T08:01:00Z'], where);
  assert.equal(t[1] - t[0], 60_000);
  assert.throws(() => checkTimestamps(['2017-01-09T08:00:00Z', ''], where), /f\.csv: line 3: the timestamp is missing/);
  assert.throws(() => checkTimestamps(['yesterday'], where), /line 2: the timestamp 'yesterday' is not a date/);
  assert.throws(() => checkTimestamps(['2017-01-09T08:00:00Z', '2017-01-09T08:00:00Z'], where), /line 3: .* repeats the row before/);
  assert.throws(() => checkTimestamps(['2017-01-09T08:01:00Z', '2017-01-09T08:00:00Z'], where), /line 3: .* comes before the row before/);
});

test('elboPerRow: the mean over draws of the model bound, batch by batch', () => {
  // a toy "model" whose bound is −Σx² plus a standard normal draw per row
  const D = 3;
  const model = {
    inputDim: D,
    bound: (x: tf.Tensor, _k: number, rng: Rng) => tf.tidy(() => tf.add(tf.neg(tf.sum(tf.square(x), -1)), rng.normal([x.shape[0]]))),
  };
  const x = Float32Array.from({ length: 7 * D }, (_, i) => (i % 5) / 5);
  const got = elboPerRow(model, x, new Rng(3), { draws: 4, batchSize: 3 });
  // the same draws by hand: batches of 3, 3, 1 rows, four draws each
  const rng = new Rng(3);
  const want = new Float64Array(7);
  for (const [s, b] of [
    [0, 3],
    [3, 3],
    [6, 1],
  ]) {
    for (let d = 0; d < 4; d++) {
      const noise = rng.normal([b]).dataSync();
      for (let i = 0; i < b; i++) {
        let sq = 0;
        for (let j = 0; j < D; j++) sq += x[(s + i) * D + j] ** 2;
        want[s + i] += (-sq + noise[i]) / 4;
      }
    }
  }
  for (let i = 0; i < 7; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-5, `row ${i}: ${got[i]} vs ${want[i]}`);
  assert.throws(() => elboPerRow(model, x.subarray(1), new Rng(1)), /not whole rows of 3/);
});
