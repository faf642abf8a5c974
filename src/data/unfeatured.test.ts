import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../engine/rng.js';
import { resampledLabels } from './unfeatured.js';

test('resampledLabels: compositions on the segments between labelled ones, classes drawn from the labelled rows', () => {
  // two labelled compositions: every resampled label is λ·a + (1 − λ)·b, or a or b themselves
  const y = [0.2, 0.8, 0.6, 0.4, 0.6, 0.4];
  const out = resampledLabels(y, 3, 2, 400, new Rng(1), 'simplex');
  assert.equal(out.length, 400);
  let lo = 1;
  let hi = 0;
  for (const r of out) {
    assert.ok(Math.abs(r[0] + r[1] - 1) < 1e-6, 'on the simplex');
    assert.ok(r[0] >= 0.2 - 1e-6 && r[0] <= 0.6 + 1e-6, `inside the labelled range: ${r[0]}`);
    lo = Math.min(lo, r[0]);
    hi = Math.max(hi, r[0]);
  }
  assert.ok(lo < 0.25 && hi > 0.55, `fills the range [${lo}, ${hi}]`);
  const classes = [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0]; // classes 0, 2, 2 of K = 4
  const c = resampledLabels(classes, 3, 4, 300, new Rng(2), 'discrete');
  const counts = [0, 0, 0, 0];
  for (const r of c) counts[r.indexOf(1)]++;
  assert.equal(counts[1] + counts[3], 0, 'only labelled classes');
  assert.ok(counts[2] > 1.5 * counts[0], `labelled frequencies (${counts})`);
  assert.deepEqual(resampledLabels(y, 3, 2, 5, new Rng(3), 'simplex'), resampledLabels(y, 3, 2, 5, new Rng(3), 'simplex'), 'seeded');
  assert.throws(() => resampledLabels(y, 4, 2, 5, new Rng(1), 'simplex'), /expected 4 × 2 labels/);
  assert.throws(() => resampledLabels(y, 3, 2, 0, new Rng(1), 'simplex'), /count must be an integer ≥ 1/);
});
