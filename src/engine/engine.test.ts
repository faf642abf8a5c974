import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine, engineInfo, setMatMulFix, matMulFixActive, Rng } from './index.js';
import { assertClose } from '../testing/helpers.js';

await initEngine();

test('engine records its backend choice', () => {
  const info = engineInfo();
  assert.ok(info);
  assert.equal(info.backend, tf.getBackend());
});

test('unknown backend name is a clear error', async () => {
  await assert.rejects(initEngine({ backend: 'gpu9000' }), /unknown backend 'gpu9000'.*valid: tensorflow, wasm, cpu/);
});

test('transposed matMul fix gives the same numbers as the unfixed kernel', (t) => {
  if (!matMulFixActive()) {
    t.skip('fix only applies to the wasm backend');
    return;
  }
  const rng = new Rng(1);
  const cases: [number[], number[], boolean, boolean][] = [
    [[7, 5], [3, 7], true, true],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [7, 3], true, false],
    [[2, 4, 1], [2, 6, 4], true, true],
    [[1, 1], [1, 1], true, false],
    [[0, 3], [4, 3], false, true],
    [[17, 33], [65, 17], true, true],
  ];
  for (const [sa, sb, ta, tb] of cases) {
    const a = rng.normal(sa);
    const b = rng.normal(sb);
    const fixed = tf.matMul(a, b, ta, tb);
    setMatMulFix(false);
    const plain = tf.matMul(a, b, ta, tb);
    setMatMulFix(true);
    assert.deepEqual(fixed.shape, plain.shape);
    assertClose(fixed.dataSync(), plain.dataSync(), { atol: 1e-5, rtol: 1e-5, msg: `matMul ${sa}x${sb} tA=${ta} tB=${tb}` });
    tf.dispose([a, b, fixed, plain]);
  }
});

test('transposed matMul gradient agrees with the unfixed kernel and leaks nothing', (t) => {
  if (!matMulFixActive()) {
    t.skip('wasm only');
    return;
  }
  const rng = new Rng(2);
  const x = rng.normal([9, 13]);
  const w = rng.normal([13, 4]);
  const f = (xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(tf.matMul(xx, ww)));
  const before = tf.memory().numTensors;
  const g1 = tf.grads(f)([x, w]);
  setMatMulFix(false);
  const g2 = tf.grads(f)([x, w]);
  setMatMulFix(true);
  for (let i = 0; i < 2; i++) assertClose(g1[i].dataSync(), g2[i].dataSync(), { atol: 1e-4, rtol: 1e-5 });
  tf.dispose([...g1, ...g2]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, w]);
});

test('Rng: same seed, same stream; different seeds differ; state round-trips', () => {
  const a = new Rng(123);
  const b = new Rng(123);
  const c = new Rng(124);
  const va = Array.from({ length: 5 }, () => a.nextU32());
  assert.deepEqual(va, Array.from({ length: 5 }, () => b.nextU32()));
  assert.notDeepEqual(va, Array.from({ length: 5 }, () => c.nextU32()));
  const s = a.getState();
  const next = a.next();
  a.setState(s);
  assert.equal(a.next(), next);
  assert.notDeepEqual(a.fork('x').getState(), a.fork('y').getState());
});

test('Rng normal and uniform moments', () => {
  const rng = new Rng(7);
  const n = 200000;
  const z = rng.fillNormal(new Float32Array(n));
  let m = 0;
  let v = 0;
  for (const x of z) m += x / n;
  for (const x of z) v += (x - m) ** 2 / n;
  assert.ok(Math.abs(m) < 0.01, `mean ${m}`);
  assert.ok(Math.abs(v - 1) < 0.015, `var ${v}`);
  const u = rng.fillUniform(new Float32Array(n));
  let mu = 0;
  for (const x of u) mu += x / n;
  assert.ok(Math.abs(mu - 0.5) < 0.005, `uniform mean ${mu}`);
  const p = rng.permutation(10);
  assert.deepEqual([...p].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('block-copy Tile equals the plain kernel for every rank, repeat pattern, dtype and empty shapes', (t) => {
  if (!matMulFixActive()) {
    t.skip('fix only applies to the wasm backend');
    return;
  }
  const rng = new Rng(3);
  const cases: [number[], number[]][] = [[[5], [3]], [[4, 3], [10, 1]], [[4, 3], [1, 3]], [[2, 3, 4], [2, 1, 3]], [[1, 1], [4, 5]], [[0, 3], [2, 2]], [[3, 2], [0, 1]], [[2, 1, 2, 3], [1, 2, 2, 1]]];
  for (const [shape, reps] of cases) {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      const base = rng.normal(shape);
      const x = dtype === 'float32' ? base : dtype === 'int32' ? tf.cast(tf.mul(base, 10), 'int32') : tf.greater(base, 0);
      const fast = tf.tile(x, reps);
      setMatMulFix(false);
      const plain = tf.tile(x, reps);
      setMatMulFix(true);
      assert.deepEqual(fast.shape, plain.shape);
      assert.equal(fast.dtype, plain.dtype);
      assert.deepEqual(Array.from(fast.dataSync()), Array.from(plain.dataSync()), `tile ${JSON.stringify(shape)} by ${JSON.stringify(reps)} (${dtype})`);
      tf.dispose([base, x, fast, plain]);
    }
  }
});
