import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../engine/rng.js';
import { type Dataset, checkLabelArray, classCounts, labelledSubset } from './index.js';

function toy(labels: number[], numClasses: number, name = 'toy'): Dataset {
  const n = labels.length;
  const x = new Float32Array(n * 2);
  for (let i = 0; i < x.length; i++) x[i] = i;
  return { name, x, y: Int32Array.from(labels), n, dim: 2, shape: [2], numClasses };
}

test('checkLabelArray: accepts valid labels, names source, row and value otherwise', () => {
  const y = [0, 2, 1, 2];
  assert.equal(checkLabelArray(y, 3, 'labels.csv'), y, 'returns its argument');
  assert.throws(() => checkLabelArray([0, 1, 3], 3, 'labels.csv'), /^Error: labels\.csv: row 2 has label 3, outside 0\.\.2$/);
  assert.throws(() => checkLabelArray(Int32Array.from([0, -1]), 2, 'y.idx'), /y\.idx: row 1 has label -1, outside 0\.\.1/);
  assert.throws(() => checkLabelArray([0.5], 2, 'f.json'), /f\.json: row 0 has label 0\.5, which is not an integer/);
  assert.throws(() => checkLabelArray([0, NaN], 2, 'f.json'), /row 1 has label NaN/);
  assert.throws(() => checkLabelArray([0], 0, 'f.json'), /f\.json: the number of classes must be a positive integer, got 0/);
  // The first bad row is the one reported.
  assert.throws(() => checkLabelArray([0, 7, 9], 3, 'src'), /row 1 has label 7/);
  assert.deepEqual(Array.from(classCounts([2, 0, 2, 2], 4, 'src')), [1, 0, 3, 0]);
});

test('labelledSubset: validation errors name the row, value, class and counts', () => {
  const bad = toy([0, 1, 1, 2], 2, 'bad');
  assert.throws(() => labelledSubset(bad, 1, new Rng(1)), /labelledSubset\(data 'bad'\): row 3 has label 2, outside 0\.\.1/);
  const ds = toy([0, 0, 0, 1, 2, 2, 2], 3, 'few');
  assert.throws(
    () => labelledSubset(ds, 2, new Rng(1)),
    /labelledSubset\(data 'few'\): asked for 2 examples per class but class 1 has only 1 \(of 7 rows\)/,
  );
  const short = { ...ds, y: Int32Array.from([0, 0]) };
  assert.throws(() => labelledSubset(short, 1, new Rng(1)), /y has 2 labels, expected n = 7/);
});

test('labelledSubset: an empty class is a warning, returned and passed to onWarning', () => {
  const ds = toy([0, 2, 0, 2, 0, 2], 4, 'gappy');
  const seen: string[] = [];
  const r = labelledSubset(ds, 2, new Rng(3), { onWarning: (m) => seen.push(m) });
  assert.equal(r.warnings.length, 2);
  assert.match(r.warnings[0], /class 1 has no examples/);
  assert.match(r.warnings[1], /class 3 has no examples/);
  assert.deepEqual(seen, r.warnings);
  assert.equal(r.labelled.n, 4);
  assert.deepEqual(
    Array.from(r.labelled.y).sort((a, b) => a - b),
    [0, 0, 2, 2],
  );
  assert.equal(r.rest.n, 2);
  // Without a callback the warnings are still returned.
  assert.equal(labelledSubset(ds, 1, new Rng(3)).warnings.length, 2);
  // No warnings when every class is present.
  assert.deepEqual(labelledSubset(toy([0, 1, 1, 0], 2), 1, new Rng(3)).warnings, []);
});
