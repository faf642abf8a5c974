import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Dataset, checkDataset, complementColumns, lowVarianceColumns, selectColumns } from './index.js';
import { loadMnist } from '../node/index.js';

// 4 rows × 3 columns: column 0 constant, column 1 std exactly 0.5 (population), column 2 tiny spread.
const X = Float32Array.from([1, 0, 0.5, 1, 1, 0.52, 1, 0, 0.5, 1, 1, 0.52]);

test('lowVarianceColumns: population std below the threshold, strictly', () => {
  assert.deepEqual(lowVarianceColumns(X, 3), [0, 2]);
  // Column 1 has population std 0.5 (sample std would be 0.577): 0.5 is not < 0.5, but is < 0.5001.
  assert.deepEqual(lowVarianceColumns(X, 3, 0.5), [0, 2]);
  assert.deepEqual(lowVarianceColumns(X, 3, 0.5001), [0, 1, 2]);
  assert.deepEqual(lowVarianceColumns(X, 3, 0), []);
  // Column 2's std is 0.01: kept at threshold 0.01 (not strictly below), dropped just above.
  assert.deepEqual(lowVarianceColumns(X, 3, 0.0099), [0]);
  assert.deepEqual(lowVarianceColumns(X, 3, 0.0101), [0, 2]);
  // One row: every column has std 0.
  assert.deepEqual(lowVarianceColumns(Float32Array.from([3, 4]), 2), [0, 1]);
});

test('lowVarianceColumns: bad shapes and thresholds are errors', () => {
  assert.throws(() => lowVarianceColumns(X, 5), /12 values do not form one or more rows of 5/);
  assert.throws(() => lowVarianceColumns(new Float32Array(0), 3), /0 values do not form one or more rows of 3/);
  assert.throws(() => lowVarianceColumns(X, 0), /dim must be a positive integer, got 0/);
  assert.throws(() => lowVarianceColumns(X, 3, -1), /threshold must be a finite number ≥ 0, got -1/);
  assert.throws(() => lowVarianceColumns(X, 3, NaN), /threshold must be a finite number ≥ 0, got NaN/);
});

test('selectColumns: keeps the named columns in order, updates dim and shape', () => {
  const ds: Dataset = { name: 'grid', x: X, y: Int32Array.from([0, 1, 1, 0]), n: 4, dim: 3, shape: [3], numClasses: 2 };
  const s = selectColumns(ds, [2, 1]);
  checkDataset(s);
  assert.equal(s.dim, 2);
  assert.deepEqual(s.shape, [2]);
  assert.equal(s.n, 4);
  assert.equal(s.numClasses, 2);
  assert.deepEqual(Array.from(s.x), [0.5, 0, 0.52, 1, 0.5, 0, 0.52, 1].map((v) => Math.fround(v)));
  assert.deepEqual(s.y, ds.y);
  assert.notEqual(s.y, ds.y, 'labels are copied');
  assert.notEqual(s.x.buffer, ds.x.buffer);
  const keep = complementColumns(lowVarianceColumns(X, 3), 3);
  assert.deepEqual(keep, [1]);
  assert.deepEqual(Array.from(selectColumns(ds, keep).x), [0, 1, 0, 1]);
  assert.throws(() => selectColumns(ds, []), /selectColumns\(data 'grid'\): no columns to keep/);
  assert.throws(() => selectColumns(ds, [0, 3]), /column 3 at position 1 is outside 0\.\.2/);
  assert.throws(() => selectColumns(ds, [1.5]), /column 1\.5 at position 0 is outside/);
  assert.throws(() => selectColumns(ds, [2, 0, 2]), /column 2 appears twice, at positions 0 and 2/);
  assert.throws(() => complementColumns([4], 3), /column 4 at position 0 is outside 0\.\.2/);
});

test('MNIST: dropping pixels with std < 0.1 over the 60000 training images keeps 444 of 784', () => {
  const train = loadMnist('train');
  assert.equal(train.n, 60000);
  const drop = lowVarianceColumns(train.x, train.dim, 0.1);
  const keep = complementColumns(drop, train.dim);
  assert.equal(keep.length, 444);
  assert.equal(drop.length, 784 - 444);
  // The corners never vary; the centre always does.
  assert.ok(drop.includes(0) && drop.includes(783));
  assert.ok(keep.includes(14 * 28 + 14));
  const test = selectColumns(loadMnist('test', { limit: 100 }), keep);
  assert.equal(test.dim, 444);
  assert.deepEqual(test.shape, [444]);
});
