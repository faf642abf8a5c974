import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initEngine, engineInfo, describeEngine, nativeActive, nativeInfo, setNativeKernels, setMatMulFix, Rng } from './index.js';
import { assertClose } from '../testing/helpers.js';
import { Adam } from '../train/adam.js';
import { Vae } from '../models/vae.js';
import { bound } from '../objectives/bounds.js';
import { ParamStore } from '../nn/params.js';

await initEngine();
const active = nativeActive();
const why = active ? '' : `native kernels are not active: ${nativeInfo().reason ?? 'unknown'}`;

/** Runs `fn` with native kernels off (reference) and on; returns both results as arrays. */
function both(fn: () => tf.Tensor | tf.Tensor[]): { ref: Float32Array[]; nat: Float32Array[] } {
  const run = (on: boolean): Float32Array[] => {
    setNativeKernels(on);
    try {
      const out = fn();
      const list = Array.isArray(out) ? out : [out];
      const vals = list.map((t) => t.dataSync() as Float32Array).map((v) => new Float32Array(v));
      tf.dispose(list);
      return vals;
    } finally {
      setNativeKernels(true);
    }
  };
  return { ref: run(false), nat: run(true) };
}

function assertSame(fn: () => tf.Tensor | tf.Tensor[], msg: string, tol = 1e-5): void {
  const { ref, nat } = both(fn);
  assert.equal(nat.length, ref.length);
  nat.forEach((v, i) => assertClose(v, ref[i], { atol: tol, rtol: tol, msg: `${msg} (output ${i})` }));
}

test('engine reports the native layer with a reason when it is off', () => {
  const info = engineInfo()!;
  assert.ok(info.native);
  const line = describeEngine(info);
  if (info.native.active) {
    assert.match(line, /native=on \(OpenBLAS, \d+ threads/);
    assert.ok(info.native.kernels?.includes('BatchMatMul'));
  } else {
    assert.match(line, /native=off \(.+\)/);
    assert.ok(info.native.reason && info.native.reason.length > 0);
  }
});

test('UNTAPPED_NATIVE=0 keeps the addon out and says so; the wasm path still runs', () => {
  const code = `import('./dist/node.js').then(async (m) => { const i = await m.initEngine({ backend: 'wasm' }); console.log(m.describeEngine(i)); })`;
  const r = spawnSync(process.execPath, ['-e', code], { env: { ...process.env, UNTAPPED_NATIVE: '0' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /native=off \(switched off by UNTAPPED_NATIVE=0\)/);
});

test('the browser-safe core alone (no Node host) runs without native kernels and says why', () => {
  const code = `import('./dist/index.js').then(async (m) => { const i = await m.initEngine({ backend: 'wasm' }); console.log(m.describeEngine(i)); })`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /native=off \(no native kernels in this runtime \(they load through the Node entry, untapped\/node\)\)/);
  assert.match(r.stdout, /node none$/m);
});

test('native matMul equals the tfjs kernel: transposes, batches, broadcasts, edge sizes', { skip: why || false }, () => {
  const rng = new Rng(7);
  const cases: [number[], number[], boolean, boolean][] = [
    [[7, 5], [5, 3], false, false],
    [[5, 7], [5, 3], true, false],
    [[7, 5], [3, 5], false, true],
    [[5, 7], [3, 5], true, true],
    [[1, 1], [1, 1], false, false],
    [[1, 9], [9, 1], false, false],
    [[0, 3], [3, 4], false, false],
    [[3, 0], [0, 4], false, false],
    [[0, 3], [4, 0], true, true],
    [[4, 3], [3, 0], false, false],
    [[33, 17], [17, 65], false, false],
    [[100, 784], [500, 784], false, true],
    [[3, 4, 5], [3, 5, 6], false, false],
    [[3, 5, 4], [3, 6, 5], true, true],
    [[1, 4, 5], [3, 5, 6], false, false],
    [[3, 4, 5], [1, 6, 5], false, true],
    [[2, 3, 4, 5], [2, 3, 5, 2], false, false],
  ];
  for (const [sa, sb, ta, tb] of cases) {
    const a = rng.normal(sa);
    const b = rng.normal(sb);
    if (sa.at(ta ? -2 : -1) === 0) {
      // an empty inner dimension: the product is all zeros (the plain wasm kernel leaves the output
      // uninitialised here, so it is not the reference)
      const c = tf.matMul(a, b, ta, tb);
      assert.ok(c.size > 0 && Array.from(c.dataSync()).every((v) => v === 0), 'empty inner dimension gives zeros');
      tf.dispose([a, b, c]);
      continue;
    }
    assertSame(() => tf.matMul(a, b, ta, tb), `matMul ${JSON.stringify(sa)}${ta ? 'ᵀ' : ''} · ${JSON.stringify(sb)}${tb ? 'ᵀ' : ''}`, 1e-4);
    tf.dispose([a, b]);
  }
  // an inner-dimension mismatch is still tfjs's own error
  const a = tf.zeros([2, 3]);
  const b = tf.zeros([4, 2]);
  assert.throws(() => tf.matMul(a, b), /inner shapes|must match/);
  tf.dispose([a, b]);
});

test('native fused matMul equals the tfjs kernel for every activation, with and without bias', { skip: why || false }, () => {
  const rng = new Rng(8);
  for (const activation of ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid'] as const) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true]] as const) {
      const a = tf.mul(rng.normal(ta ? [9, 6] : [6, 9]), 3);
      const b = rng.normal(tb ? [11, 9] : [9, 11]);
      const bias = rng.normal([11]);
      assertSame(() => tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias, activation, leakyreluAlpha: 0.3 }), `fused ${activation} ${ta}/${tb}`, 1e-4);
      assertSame(() => tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, activation }), `fused ${activation} no bias`, 1e-4);
      tf.dispose([a, b, bias]);
    }
  }
  // gradients through the fused product (bias and activation) agree too
  const a = rng.normal([5, 4]);
  const b = rng.normal([4, 3]);
  const bias = rng.normal([3]);
  assertSame(() => {
    const g = tf.grads((x: tf.Tensor, w: tf.Tensor, c: tf.Tensor) => tf.sum(tf.fused.matMul({ a: x, b: w, bias: c, activation: 'relu' })));
    return g([a, b, bias]);
  }, 'fused matMul gradients', 1e-5);
  tf.dispose([a, b, bias]);
});

test('native Softplus, Sigmoid and Exp equal tfjs across the float range, NaN and ±Inf included', { skip: why || false }, () => {
  const special = [0, -0, 1e-30, -1e-30, 1e-8, -1e-8, 0.5, -0.5, 1, -1, 13.9, -13.9, 20, -20, 50, -50, 87, -87, 88.7, 88.8, -87.4, -100, -103.9, -104, -200, 1e30, -1e30, Infinity, -Infinity, NaN];
  const rng = new Rng(9);
  const random = Array.from({ length: 5001 }, () => (rng.next() - 0.5) * 200);
  const x = tf.tensor1d([...special, ...random]);
  for (const [name, f] of [['softplus', tf.softplus], ['sigmoid', tf.sigmoid], ['exp', tf.exp]] as const) {
    const { ref, nat } = both(() => f(x));
    for (let i = 0; i < ref[0].length; i++) {
      const r = ref[0][i];
      const n = nat[0][i];
      // 1e-6: tfjs's softplus returns e^x below x = −13.9 (an approximation off by up to 5e-7
      // relative there); ours keeps the log1p and is the more accurate of the two. 1.2e-38: below
      // the smallest normal float tfjs flushes some results to 0 where ours underflow gradually.
      const ok = (Number.isNaN(r) && Number.isNaN(n)) || r === n || Math.abs(n - r) <= 1e-6 * Math.abs(r) + 1.2e-38;
      assert.ok(ok, `${name}(${x.dataSync()[i]}): native ${n}, tfjs ${r}`);
    }
  }
  x.dispose();
  // sizes that are not a multiple of the vector width, and empty tensors
  for (const n of [0, 1, 7, 9, 17]) {
    const y = rng.normal([n]);
    assertSame(() => [tf.softplus(y), tf.sigmoid(y), tf.exp(y)], `unary size ${n}`);
    y.dispose();
  }
});

test('native Sum equals tfjs over leading, trailing and middle axes', { skip: why || false }, () => {
  const rng = new Rng(10);
  const x = rng.normal([4, 5, 6, 3]);
  const axesList: (number | number[])[] = [0, 1, 2, 3, -1, [0, 1], [1, 2], [2, 3], [0, 1, 2, 3], [1, 2, 3], [0, 2]];
  for (const axes of axesList) {
    for (const keepDims of [false, true]) {
      const { ref, nat } = both(() => tf.sum(x, axes, keepDims));
      assertClose(nat[0], ref[0], { atol: 1e-5, rtol: 1e-5, msg: `sum axes ${JSON.stringify(axes)}` });
      const shapeRef = (() => { setNativeKernels(false); const s = tf.sum(x, axes, keepDims); setNativeKernels(true); const sh = s.shape; s.dispose(); return sh; })();
      const s = tf.sum(x, axes, keepDims);
      assert.deepEqual(s.shape, shapeRef);
      s.dispose();
    }
  }
  const e = tf.zeros([0, 3]);
  assertSame(() => tf.sum(e, 0), 'sum of an empty axis');
  const nan = tf.tensor2d([[1, NaN], [Infinity, 2]]);
  assertSame(() => [tf.sum(nan, 0), tf.sum(nan, 1)], 'sum with NaN and Inf');
  const ints = tf.tensor1d([1, 2, 3], 'int32');
  assert.deepEqual(Array.from(tf.sum(ints).dataSync()), [6]); // int32 falls back to the tfjs kernel
  tf.dispose([x, e, nan, ints]);
});

test('shared Identity: a clone keeps its values after the original is disposed', () => {
  const a = tf.tensor1d([1, 2, 3]);
  const b = tf.clone(a);
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3]);
  b.dispose();
  setMatMulFix(true);
});

test('native Adam (with clipping) equals the tfjs update over several steps', { skip: why || false }, () => {
  const rng = new Rng(11);
  const run = (on: boolean): { params: number[]; norms: number[] } => {
    setNativeKernels(on);
    try {
      const ps = new ParamStore();
      const w = ps.add('w', rng.fork('w').normal([13, 7]));
      const b = ps.add('b', rng.fork('b').normal([7]));
      const adam = new Adam([{ name: 'w', variable: w }, { name: 'b', variable: b }], { clipNorm: 2 });
      const gr = rng.fork('g');
      const norms: number[] = [];
      for (let s = 0; s < 5; s++) {
        const g = [tf.mul(gr.normal([13, 7]), 1 + s), gr.normal([7])];
        const norm = adam.gradNorm(g);
        norms.push(norm);
        adam.apply(g, 0.01, norm);
        tf.dispose(g);
      }
      const params = [...w.dataSync(), ...b.dataSync()];
      const st = adam.state();
      assert.equal(st.t, 5);
      adam.dispose();
      ps.dispose();
      return { params, norms };
    } finally {
      setNativeKernels(true);
    }
  };
  const ref = run(false);
  const nat = run(true);
  assertClose(nat.norms, ref.norms, { rtol: 1e-5 });
  assertClose(nat.params, ref.params, { atol: 1e-6, rtol: 1e-5 });
});

test('VAE: gradients and 100 training losses agree with native kernels on and off', { skip: why || false }, () => {
  const D = 64;
  const data = new Rng(12).uniform([40, D]);
  const x = tf.tidy(() => tf.cast(tf.less(data, 0.3), 'float32'));
  const train = (on: boolean): { losses: number[]; grads: number[] } => {
    setNativeKernels(on);
    try {
      const model = new Vae({ type: 'vae', latent: [8], hidden: [[32, 32]], activation: 'softplus', likelihood: 'bernoulli', minScale: 1e-4, inputDim: D }, new Rng(3));
      const vars = model.params.list();
      const adam = new Adam(model.params.entries().map(([name, variable]) => ({ name, variable })), { clipNorm: 100 });
      const rng = new Rng(5);
      const losses: number[] = [];
      let firstGrads: number[] = [];
      for (let s = 0; s < 100; s++) {
        const { value, grads } = tf.variableGrads(() => tf.neg(tf.mean(bound(model.terms(x, 1, rng), { kind: 'elbo' }))) as tf.Scalar, vars);
        const list = vars.map((v) => grads[v.name]);
        if (s === 0) firstGrads = list.flatMap((g) => Array.from(g.dataSync()));
        losses.push(value.dataSync()[0]);
        adam.apply(list, 1e-2, adam.gradNorm(list));
        tf.dispose([value, ...list]);
      }
      adam.dispose();
      model.dispose();
      return { losses, grads: firstGrads };
    } finally {
      setNativeKernels(true);
    }
  };
  const ref = train(false);
  const nat = train(true);
  assertClose(nat.grads, ref.grads, { atol: 1e-5, rtol: 1e-4, msg: 'first-step gradients' });
  assertClose(nat.losses, ref.losses, { atol: 0, rtol: 1e-4, msg: 'training losses' });
  assert.ok(ref.losses[99] < ref.losses[0] - 5, `the VAE learned (${ref.losses[0]} → ${ref.losses[99]})`);
  tf.dispose([data, x]);
});
