import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { assertClose, setupEngine } from '../testing/helpers.js';
import { iwLogLikelihood, logAddExp } from './loglik.js';

await setupEngine();

test('chunked importance sampling equals log-mean-exp over all k weights, for any memory budget', () => {
  const n = 7;
  const k = 23;
  const rng = new Rng(5);
  const W = Array.from({ length: n }, () => Array.from({ length: k }, () => rng.next() * 40 - 120));
  // x carries the example index in column 0; the mock serves each example's weights in order.
  const x = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) x[i * 2] = i;
  const want = W.map((w) => w.reduce((a, b) => logAddExp(a, b), -Infinity) - Math.log(k));
  for (const maxRows of [1, 5, 23, 24, 100, 10000]) {
    const cursor = new Map<number, number>();
    const model = {
      logWeights: (xb: tf.Tensor, c: number) => {
        const idx = Array.from(xb.dataSync()).filter((_, j) => j % 2 === 0);
        const out = new Float32Array(c * idx.length);
        idx.forEach((ex, b) => {
          const at = cursor.get(ex) ?? 0;
          for (let j = 0; j < c; j++) out[j * idx.length + b] = W[ex][at + j];
          cursor.set(ex, at + c);
        });
        return tf.tensor2d(out, [c, idx.length]);
      },
    };
    const before = tf.memory().numTensors;
    const r = iwLogLikelihood(model, x, 2, { k, rng, maxRows, progress: { silent: true } });
    assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
    for (let i = 0; i < n; i++) assert.equal(cursor.get(i), k, `example ${i} got ${cursor.get(i)} samples with maxRows ${maxRows}`);
    assertClose(Array.from(r.perExample), want, { atol: 2e-4, rtol: 0, msg: `maxRows ${maxRows}` });
    assertClose(r.mean, want.reduce((a, b) => a + b, 0) / n, { atol: 2e-4 });
  }
  assert.throws(() => iwLogLikelihood({ logWeights: () => tf.zeros([1, 1]) }, x, 2, { k: 0, rng }), /k must be an integer ≥ 1/);
});
