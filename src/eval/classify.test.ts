import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmaxRows, confusionMatrix, errorRate, formatConfusion } from './classify.js';

test('confusionMatrix: rows are true classes, columns predictions', () => {
  const t = [0, 0, 1, 1, 1, 2];
  const p = [0, 1, 1, 1, 2, 0];
  assert.deepEqual(confusionMatrix(t, p, 3), [
    [1, 1, 0],
    [0, 2, 1],
    [1, 0, 0],
  ]);
  assert.deepEqual(confusionMatrix(Int32Array.from([1]), Int32Array.from([1]), 2), [
    [0, 0],
    [0, 1],
  ]);
  assert.deepEqual(confusionMatrix([], [], 2), [
    [0, 0],
    [0, 0],
  ]);
  assert.throws(() => confusionMatrix([0, 1], [0], 2), /confusionMatrix: 2 true labels but 1 predictions/);
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), /true label at row 1 is 3, outside 0\.\.2/);
  assert.throws(() => confusionMatrix([0, 1], [0, -1], 3), /predicted label at row 1 is -1, outside 0\.\.2/);
  assert.throws(() => confusionMatrix([0], [0], 0), /k must be a positive integer, got 0/);
});

test('errorRate: fraction of mismatches', () => {
  assert.equal(errorRate([0, 1, 2, 3], [0, 1, 2, 3]), 0);
  assert.equal(errorRate([0, 1, 2, 3], [0, 2, 2, 0]), 0.5);
  assert.equal(errorRate(Int32Array.from([1, 1, 1]), Float32Array.from([0, 0, 0])), 1);
  assert.throws(() => errorRate([], []), /errorRate: no labels/);
  assert.throws(() => errorRate([0, 1], [0, 1, 1]), /errorRate: 2 true labels but 3 predictions/);
});

test('argmaxRows: largest entry per row, ties to the lowest index', () => {
  const probs = Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.5, 0, -3, -1, -2, 0, 0, 1]);
  assert.deepEqual(Array.from(argmaxRows(probs, 3)), [1, 0, 1, 2]);
  assert.deepEqual(Array.from(argmaxRows(Float32Array.from([-Infinity, -5]), 2)), [1]);
  assert.deepEqual(Array.from(argmaxRows(new Float32Array(0), 4)), []);
  assert.throws(() => argmaxRows(Float32Array.from([1, 2, 3]), 2), /argmaxRows: 3 values do not form rows of 2/);
  assert.throws(() => argmaxRows(Float32Array.from([1, 2, 0, NaN]), 2), /argmaxRows: row 1, column 1 is NaN/);
  assert.throws(() => argmaxRows(Float32Array.from([1]), 0), /k must be a positive integer/);
});

test('formatConfusion: a Markdown table with totals and per-class error', () => {
  const md = formatConfusion([
    [3, 1],
    [0, 0],
  ]);
  const lines = md.trimEnd().split('\n');
  assert.equal(lines.length, 5, 'header, separator, 2 classes, total');
  assert.equal(lines[0], '| true \\ predicted | 0 | 1 | total | error |');
  assert.match(lines[1], /^\| ---: \| ---: \| ---: \| ---: \| ---: \|$/);
  assert.equal(lines[2], '| **0** | 3 | 1 | 4 | 25.00% |');
  assert.equal(lines[3], '| **1** | 0 | 0 | 0 | – |');
  assert.equal(lines[4], '| **total** | 3 | 1 | 4 | 25.00% |');
  // Every line has the same number of cells.
  for (const l of lines) assert.equal(l.split('|').length, lines[0].split('|').length, l);
  assert.throws(() => formatConfusion([]), /formatConfusion: the matrix is empty/);
  assert.throws(() => formatConfusion([[1, 2], [3]]), /must be square \(2 × 2\) but row 1 has 1 entries/);
});
