import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compositionKl, endmemberError } from './index.js';

test('compositionKl: 0 for equal rows, hand-computed value, direction and clipping', () => {
  const y = new Float32Array([0.2, 0.3, 0.5, 1, 0, 0]);
  assert.ok(Math.abs(compositionKl(y, y, 2, 3)) < 1e-12);
  const t = [0.5, 0.5, 0.25, 0.75];
  const p = [0.25, 0.75, 0.5, 0.5];
  // Row 0: 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75); row 1: 0.25 ln(0.25/0.5) + 0.75 ln(0.75/0.5).
  const r0 = 0.5 * Math.log(2) + 0.5 * Math.log(2 / 3);
  const r1 = 0.25 * Math.log(0.5) + 0.75 * Math.log(1.5);
  assert.ok(Math.abs(compositionKl(t, p, 2, 2) - (r0 + r1) / 2) < 1e-12);
  // KL(true ‖ pred), not the reverse: swapping the arguments gives the other value.
  const t2 = [0.9, 0.1];
  const p2 = [0.6, 0.4];
  assert.ok(Math.abs(compositionKl(t2, p2, 1, 2) - (0.9 * Math.log(0.9 / 0.6) + 0.1 * Math.log(0.1 / 0.4))) < 1e-12);
  assert.ok(Math.abs(compositionKl(p2, t2, 1, 2) - (0.6 * Math.log(0.6 / 0.9) + 0.4 * Math.log(0.4 / 0.1))) < 1e-12);
  // A predicted zero where the truth has mass is clipped to eps: finite, t·ln(t/eps).
  const kz = compositionKl([1, 0], [0, 1], 1, 2);
  assert.ok(Math.abs(kz - (Math.log(1 / 1e-6) + 1e-6 * Math.log(1e-6))) < 1e-9, `${kz}`);
  assert.ok(Math.abs(compositionKl([1, 0], [0, 1], 1, 2, 1e-3) - (Math.log(1e3) + 1e-3 * Math.log(1e-3))) < 1e-9);
  assert.throws(() => compositionKl([1, 0], [1], 1, 2), /compositionKl: predY has 1 values, expected 1 × 2 = 2/);
  assert.throws(() => compositionKl([1, 0], [1, 0], 1, 2, 0), /eps must be in \(0, 1\)/);
});

test('endmemberError: per-endmember Euclidean distance and its mean', () => {
  const truth = new Float32Array([0, 0, 0, 1, 1, 1]);
  const gen = new Float32Array([3, 4, 0, 1, 1, 3]);
  const e = endmemberError(gen, truth, 2, 3);
  assert.deepEqual(e.perMineral, [5, 2]);
  assert.equal(e.mean, 3.5);
  assert.deepEqual(endmemberError(truth, truth, 2, 3), { perMineral: [0, 0], mean: 0 });
  assert.throws(() => endmemberError(gen, truth, 3, 3), /endmemberError: generated has 6 values, expected 3 × 3 = 9/);
});
