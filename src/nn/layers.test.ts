import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { assertClose, setupEngine, take } from '../testing/helpers.js';
import { ParamStore } from './params.js';
import { Mlp } from './layers.js';

await setupEngine();

/** The block-wise repeat the factored path stands for. */
const tileTo = (t: tf.Tensor, rows: number) => tf.tile(t, [rows / t.shape[0], 1]);

for (const batchNorm of [false, true]) {
  test(`Mlp.applyParts with short (repeated) parts equals apply on the tiled concatenation, values and gradients${batchNorm ? ', batch norm' : ''}`, () => {
    const rng = new Rng(3);
    const ps = new ParamStore();
    const net = new Mlp(ps, 'n', 5 + 3 + 2, [7, 4], rng, 'tanh', { batchNorm });
    const K = 3;
    const B = 4;
    const x = rng.normal([B, 5]); // once per example
    const y = rng.normal([K * B, 3]); // per (class, example)
    const a = rng.normal([B, 2]);
    const loss = (parts: tf.Tensor[]) => () => tf.sum(tf.square(net.applyParts(parts))) as tf.Scalar;
    const factored = [x, y, a];
    const tiled = [tileTo(x, K * B), y, tileTo(a, K * B)];
    // gradients are taken with the tape on, so batch norm uses the batch's statistics in both
    const gF = tf.variableGrads(loss(factored), ps.list().filter((v) => v.trainable));
    const gT = tf.variableGrads(loss(tiled), ps.list().filter((v) => v.trainable));
    assertClose(take(gF.value), take(gT.value), { rtol: 1e-5, atol: 1e-5 });
    for (const name of Object.keys(gT.grads)) assertClose(take(gF.grads[name]), take(gT.grads[name]), { rtol: 1e-4, atol: 1e-5 });
    assertClose(take(net.applyParts(factored)), take(net.apply(tf.concat(tiled, -1))), { rtol: 1e-5, atol: 1e-5 });
    assert.throws(() => net.applyParts([rng.normal([B, 5]), rng.normal([5, 3]), rng.normal([B, 2])]), /do not repeat evenly/);
    assert.throws(() => net.applyParts([rng.normal([B, 4]), rng.normal([K * B, 3]), rng.normal([B, 2])]), /widths 4\+3\+2 do not make the 10/);
  });
}
