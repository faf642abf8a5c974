import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { assertClose, setupEngine, take, finiteDifference } from '../testing/helpers.js';
import { ParamStore } from './params.js';
import { BatchNorm, withoutStatUpdates, Conv2d, ConvTranspose2d, conv2d, conv2dIm2col, conv2dTranspose, conv2dTransposeCol2im, convOutSize, convTransposeOutSize, imagePatches } from './conv.js';

await setupEngine();

const rand = (rng: Rng, shape: number[]) => rng.normal(shape);

const CONV_CASES = [
  [8, 4, 2, 1, 2, 3],
  [7, 3, 1, 0, 1, 2],
  [9, 5, 3, 2, 3, 2],
  [9, 4, 2, 1, 2, 2], // (H + 2p − k) not a multiple of s: the last row is dropped
  [28, 4, 2, 1, 1, 4],
];

test('conv2d and the im2col reference both equal tf.conv2d (with bias)', () => {
  const rng = new Rng(1);
  for (const [H, k, s, p, C, O] of CONV_CASES) {
    const x = rand(rng, [2, H, H + 1, C]);
    const f = rand(rng, [k, k, C, O]);
    const b = rand(rng, [O]);
    const ref = tf.tidy(() => tf.add(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, [[0, 0], [p, p], [p, p], [0, 0]]), b));
    assert.deepEqual(ref.shape.slice(1, 3), [convOutSize(H, k, s, p), convOutSize(H + 1, k, s, p)]);
    for (const [name, fn] of [['conv2d', conv2d], ['conv2dIm2col', conv2dIm2col]] as const) {
      const ours = fn(x, f, s, p, b);
      assert.deepEqual(ours.shape, ref.shape, name);
      assertClose(take(ours), Array.from(ref.dataSync()), { atol: 1e-4, rtol: 1e-4, msg: `${name} ${H} k${k} s${s} p${p}` });
    }
    tf.dispose([x, f, b, ref]);
  }
});

test('conv2dTranspose and the col2im reference equal tf.conv2dTranspose and are the adjoint of conv2d', () => {
  const rng = new Rng(2);
  for (const [H, k, s, p, C, O] of [
    [7, 4, 2, 1, 3, 2],
    [14, 4, 2, 1, 2, 1],
    [5, 3, 1, 1, 2, 2],
    [4, 3, 2, 0, 1, 2],
  ]) {
    const x = rand(rng, [2, H, H, C]);
    const f = rand(rng, [k, k, O, C]);
    const Ho = convTransposeOutSize(H, k, s, p);
    const ref = tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [2, Ho, Ho, O], s, p === 0 ? 'valid' : p);
    const ours = conv2dTranspose(x, f, s, p);
    const col = conv2dTransposeCol2im(x, f, s, p);
    assert.deepEqual(ours.shape, [2, Ho, Ho, O]);
    assertClose(Array.from(ours.dataSync()), Array.from(ref.dataSync()), { atol: 1e-4, rtol: 1e-4, msg: `transpose ${H} k${k} s${s} p${p}` });
    assertClose(take(col), take(ref), { atol: 1e-4, rtol: 1e-4, msg: `col2im ${H} k${k} s${s} p${p}` });
    // ⟨conv(u), x⟩ = ⟨u, convT(x)⟩ with the same filter, stride and padding
    const u = rand(rng, [2, Ho, Ho, O]);
    const cu = conv2dIm2col(u, f, s, p);
    assert.deepEqual(cu.shape, x.shape, 'the convolution maps the transposed output shape back');
    const lhs = take(tf.sum(tf.mul(cu, x)))[0];
    const rhs = take(tf.sum(tf.mul(u, ours)))[0];
    assertClose(lhs, rhs, { atol: 1e-3, rtol: 1e-4, msg: 'adjoint' });
    tf.dispose([x, f, ours, u, cu]);
  }
});

test('custom gradients of conv2d / conv2dTranspose equal the autodiff gradients of the im2col / col2im references', () => {
  const rng = new Rng(10);
  const cases: [number, number, number, number, number, number][] = [[8, 4, 2, 1, 2, 3], [9, 4, 2, 1, 2, 2], [7, 3, 1, 0, 1, 2], [9, 5, 3, 2, 3, 2]];
  for (const [H, k, s, p, C, O] of cases) {
    const x = rand(rng, [2, H, H, C]);
    const f = rand(rng, [k, k, C, O]);
    const Ho = convOutSize(H, k, s, p);
    const r = rand(rng, [2, Ho, Ho, O]);
    const loss = (fn: typeof conv2d) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.tanh(fn(a, b, s, p)), r));
    const [gx, gf] = tf.grads(loss(conv2d))([x, f]);
    const [rx, rf] = tf.grads(loss(conv2dIm2col))([x, f]);
    assertClose(take(gx), take(rx), { atol: 1e-4, rtol: 1e-4, msg: `conv d/dx ${H} k${k} s${s} p${p}` });
    assertClose(take(gf), take(rf), { atol: 1e-4, rtol: 1e-4, msg: `conv d/df ${H} k${k} s${s} p${p}` });
    // transposed: input of the convolution's output shape, filter [k, k, C, O] read as [k, k, O', C'] with O' = C
    const tin = rand(rng, [2, Ho, Ho, O]);
    const rt = rand(rng, [2, convTransposeOutSize(Ho, k, s, p), convTransposeOutSize(Ho, k, s, p), C]);
    const tloss = (fn: typeof conv2dTranspose) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.tanh(fn(a, b, s, p)), rt));
    const [tx, tf_] = tf.grads(tloss(conv2dTranspose))([tin, f]);
    const [ux, uf] = tf.grads(tloss(conv2dTransposeCol2im))([tin, f]);
    assertClose(take(tx), take(ux), { atol: 1e-4, rtol: 1e-4, msg: `transpose d/dx ${H} k${k} s${s} p${p}` });
    assertClose(take(tf_), take(uf), { atol: 1e-4, rtol: 1e-4, msg: `transpose d/df ${H} k${k} s${s} p${p}` });
    tf.dispose([x, f, r, tin, rt]);
  }
});

test('patches are ordered (row offset, column offset, channel) and zero-padded', () => {
  const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
  const p = imagePatches(x, 2, 1, 1);
  assert.deepEqual(p.shape, [1, 3, 3, 4]);
  const v = take(p);
  assert.deepEqual(v.slice(0, 4), [0, 0, 0, 1], 'top-left patch sees only pixel (0, 0) in its last position');
  assert.deepEqual(v.slice(16, 20), [1, 2, 3, 4], 'centre patch is the whole image');
  x.dispose();
});

test('conv layers: gradients match central finite differences (float32, tiny input)', () => {
  const ps = new ParamStore();
  const rng = new Rng(3);
  const conv = new Conv2d(ps, 'c', 2, 3, rng, { kernel: 4, stride: 2, pad: 1 });
  const deconv = new ConvTranspose2d(ps, 'd', 3, 2, rng, { kernel: 4, stride: 2, pad: 1 });
  const x = tf.variable(rand(rng, [2, 6, 6, 2]), true, 'conv-test-x');
  const r = rand(rng, [2, 6, 6, 2]);
  const f = () => tf.tidy(() => tf.sum(tf.mul(tf.tanh(deconv.apply(tf.tanh(conv.apply(x)))), r)) as tf.Scalar);
  const vars = [...ps.list(), x];
  const { grads } = tf.variableGrads(f, vars);
  const h = 1e-2;
  let checked = 0;
  for (const v of vars) {
    const g = grads[v.name].dataSync();
    const vals = Float32Array.from(v.dataSync());
    for (const i of [0, Math.floor(vals.length / 2), vals.length - 1]) {
      const fd = finiteDifference(v, i, h, f);
      assertClose(g[i], fd, { atol: 2e-3, rtol: 2e-2, msg: `d f / d ${v.name}[${i}]` });
      checked++;
    }
  }
  assert.equal(checked, 15);
  tf.dispose([...Object.values(grads), x, r]);
  ps.dispose();
});

test('batch norm: batch statistics in training, running averages in evaluation, zero gradient for the averages', () => {
  const ps = new ParamStore();
  const bn = new BatchNorm(ps, 'bn', 2, { momentum: 0.5 });
  const x = tf.tensor4d([1, 10, 3, 20, 5, 30, 7, 40], [2, 2, 1, 2]); // channel 0: 1,3,5,7; channel 1: 10..40
  const before = tf.memory().numTensors;
  const y = bn.apply(x, true);
  const { mean, variance } = tf.moments(y, [0, 1, 2]);
  assertClose(take(mean), [0, 0], { atol: 1e-5 });
  assertClose(take(variance), [1, 1], { atol: 1e-3, rtol: 1e-3 });
  y.dispose();
  assert.equal(tf.memory().numTensors, before, 'no leak in training mode');
  // running mean ← 0.5·0 + 0.5·batch mean; running var ← 0.5·1 + 0.5·unbiased batch var
  assertClose(Array.from(bn.runMean.dataSync()), [2, 12.5], { atol: 1e-4 });
  assertClose(Array.from(bn.runVar.dataSync()), [0.5 + 0.5 * (20 / 3), 0.5 + 0.5 * (500 / 3)], { rtol: 1e-4 });
  // evaluation: (x − running mean) / √(running var + ε), independent of the rest of the batch
  const one = tf.tensor4d([1, 10], [1, 1, 1, 2]);
  const e = take(bn.apply(one, false));
  const rv = Array.from(bn.runVar.dataSync());
  assertClose(e, [(1 - 2) / Math.sqrt(rv[0] + 1e-5), (10 - 12.5) / Math.sqrt(rv[1] + 1e-5)], { atol: 1e-5 });
  assert.throws(() => bn.apply(one, true), /at least 2 values per channel/);
  // gradients: γ and β get real ones, the running averages exactly zero (not missing)
  for (const training of [true, false]) {
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(bn.apply(x, training))) as tf.Scalar, ps.list());
    assert.equal(Object.keys(grads).length, 4, `every parameter has a gradient (training ${training})`);
    assert.deepEqual(take(grads[bn.runMean.name]), [0, 0]);
    assert.deepEqual(take(grads[bn.runVar.name]), [0, 0]);
    tf.dispose([grads[bn.gamma.name], grads[bn.beta.name]]);
  }
  tf.dispose([x, one]);
  ps.dispose();
});

test('batch norm: withoutStatUpdates normalises with the batch but holds the running averages, also after a throw', () => {
  const ps = new ParamStore();
  const bn = new BatchNorm(ps, 'bn', 2, { momentum: 0.5 });
  const x = tf.tensor2d([1, 10, 3, 20, 5, 30, 7, 40], [4, 2]);
  const held = take(withoutStatUpdates(() => bn.apply(x, true)));
  assertClose(Array.from(bn.runMean.dataSync()), [0, 0]);
  assertClose(Array.from(bn.runVar.dataSync()), [1, 1]);
  const free = take(bn.apply(x, true)); // same output: the batch statistics do not depend on the averages
  assertClose(held, free, { atol: 1e-6 });
  assertClose(Array.from(bn.runMean.dataSync()), [2, 12.5], { atol: 1e-4 });
  assert.throws(() => withoutStatUpdates(() => { throw new Error('inside'); }), /inside/);
  bn.apply(x, true); // the scope closed despite the throw: the averages move again
  assertClose(Array.from(bn.runMean.dataSync()), [3, 18.75], { atol: 1e-4 });
  x.dispose();
  ps.dispose();
});

test('conv helpers refuse bad geometry', () => {
  const x = tf.zeros([1, 4, 4, 1]);
  assert.throws(() => imagePatches(x, 0, 1, 0), /kernel must be an integer ≥ 1/);
  assert.throws(() => imagePatches(x, 3, 1, 3), /pad \(3\) must be smaller than the kernel/);
  assert.throws(() => imagePatches(x, 9, 1, 0), /does not fit/);
  assert.throws(() => conv2d(x, tf.zeros([3, 3, 2, 1]), 1, 1), /input has 1 channels, the filter expects 2/);
  assert.throws(() => conv2d(x, tf.zeros([9, 9, 1, 1]), 1, 0), /does not fit/);
  assert.throws(() => conv2dTranspose(x, tf.zeros([3, 3, 1, 2]), 1, 1), /input has 1 channels, the filter expects 2/);
  assert.throws(() => imagePatches(tf.zeros([4, 4]), 3, 1, 0), /expected images \[N, H, W, C\]/);
  x.dispose();
});
