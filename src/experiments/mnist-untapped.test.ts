import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignPermutation } from './mnist-untapped.js';

/** p(digit | image) rows for one-hots 0..9, with the given most-probable digit per dimension. */
function probs(best: number[], second: number[] = []): number[][] {
  return best.map((b, k) => {
    const row = new Array<number>(10).fill(0.01);
    row[b] = 0.8;
    if (second[k] !== undefined) row[second[k]] = 0.15;
    return row;
  });
}

test('permutation: unique most-probable digits are assigned as they are', () => {
  assert.deepEqual(assignPermutation(probs([0, 1, 2, 3, 4, 8, 6, 5, 9, 7])), [0, 1, 2, 3, 4, 8, 6, 5, 9, 7]);
});

test('permutation: a clash goes to the more probable dimension; the other takes its next best free digit', () => {
  const p = probs([0, 1, 2, 3, 4, 8, 8, 5, 9, 7], [0, 0, 0, 0, 0, 6, 6, 6, 6, 6]);
  p[6][8] = 0.7; // dimension 6 is less sure it shows an 8 than dimension 5 (0.8)
  const perm = assignPermutation(p);
  assert.deepEqual(perm.slice(0, 5), [0, 1, 2, 3, 4]);
  assert.equal(perm[5], 8);
  assert.equal(perm[6], 6);
  assert.deepEqual([...perm.slice(5)].sort(), [5, 6, 7, 8, 9], 'a bijection onto 5–9');
});
