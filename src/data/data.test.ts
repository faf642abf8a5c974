import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../engine/rng.js';
import { type Dataset, parseIdx, encodeIdx, checkFinite, checkDataset, subsetRows, validationSplit, binarizeInto, binarizeStatic, thresholdBinarize, labelledSubset, epochBatches, numBatches, gather } from './index.js';
import { readIdx, loadMnist, MNIST_SIZES } from '../node/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'untapped-data-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function toy(n: number, dim: number, labels: number[], numClasses: number, name = 'toy'): Dataset {
  const x = new Float32Array(n * dim);
  for (let i = 0; i < x.length; i++) x[i] = i;
  return { name, x, y: Int32Array.from(labels), n, dim, shape: [dim], numClasses };
}

// ---------------------------------------------------------------- IDX

test('IDX: ubyte round trip through a file', () => {
  const data = new Uint8Array(3 * 4 * 5);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) & 255;
  const buf = encodeIdx([3, 4, 5], data);
  assert.equal(buf.length, 4 + 3 * 4 + 60);
  assert.deepEqual([...buf.subarray(0, 4)], [0, 0, 0x08, 3]);
  const p = join(tmp, 'round-trip-idx3-ubyte');
  writeFileSync(p, buf);
  const f = readIdx(p);
  assert.deepEqual(f.dims, [3, 4, 5]);
  assert.equal(f.type, 'ubyte');
  assert.ok(f.data instanceof Uint8Array);
  assert.deepEqual([...f.data], [...data]);
});

test('IDX: multi-byte types are big-endian and round-trip', () => {
  const cases = [
    Int8Array.from([-128, -1, 0, 127]),
    Int16Array.from([-32768, -2, 258, 32767]),
    Int32Array.from([-2147483648, -3, 65536 + 1, 2147483647]),
    Float32Array.from([-1.5, 0, 3.25, 1e30]),
    Float64Array.from([-Math.PI, 0, 1e-300, 2 ** 60]),
  ];
  for (const data of cases) {
    const buf = encodeIdx([2, 2], data);
    const f = parseIdx(buf, 'mem');
    assert.equal(f.data.constructor, data.constructor);
    assert.deepEqual([...f.data], [...data]);
  }
  // Big-endian on disk: the short 258 = 0x0102 is stored as 01 02.
  const s = encodeIdx([1], Int16Array.from([258]));
  assert.deepEqual([...s], [0, 0, 0x0b, 1, 0, 0, 0, 1, 0x01, 0x02]);
});

test('IDX: truncated file error names the file and byte counts', () => {
  const full = encodeIdx([60000, 28, 28], new Uint8Array(60000 * 784));
  const p = join(tmp, 'train-images-idx3-ubyte');
  writeFileSync(p, full.subarray(0, 16 + 1000));
  assert.throws(
    () => readIdx(p),
    (e: Error) => {
      assert.match(e.message, /train-images-idx3-ubyte: truncated: header says 60000×28×28 = 47040000 bytes of data, file has 1000/);
      assert.ok(e.message.includes(p), 'message includes the path');
      return true;
    },
  );
  // Truncated inside the header itself.
  assert.throws(() => parseIdx(full.subarray(0, 10), 'short.idx'), /short\.idx: truncated header: 3 dimensions need a 16-byte header, file has 10 bytes/);
});

test('IDX: wrong magic, unknown type, zero dimensions, trailing bytes', () => {
  const good = encodeIdx([2, 2], Uint8Array.from([1, 2, 3, 4]));
  const bad1 = Buffer.from(good);
  bad1[0] = 0x1f; // e.g. a gzipped file
  assert.throws(() => parseIdx(bad1, 'a.gz'), /a\.gz: not an IDX file: bad magic number, first two bytes are 0x1f 0x00/);
  const bad2 = Buffer.from(good);
  bad2[2] = 0x0a;
  assert.throws(() => parseIdx(bad2, 'b.idx'), /b\.idx: not an IDX file: unknown type code 0x0a/);
  const bad3 = Buffer.from([0, 0, 8, 0]);
  assert.throws(() => parseIdx(bad3, 'c.idx'), /c\.idx: IDX header says 0 dimensions/);
  assert.throws(() => parseIdx(Buffer.from([0, 0]), 'd.idx'), /d\.idx: not an IDX file: 2 bytes/);
  const extra = Buffer.concat([good, Buffer.from([9, 9, 9])]);
  const p = join(tmp, 'extra-idx2-ubyte');
  writeFileSync(p, extra);
  assert.throws(() => readIdx(p), /extra-idx2-ubyte: 3 extra bytes after the data: header says 2×2 = 4 bytes of data, file has 7/);
  // Multi-byte types report the element size.
  const f = encodeIdx([3], Float32Array.from([1, 2, 3]));
  assert.throws(() => parseIdx(f.subarray(0, f.length - 1), 'f.idx'), /f\.idx: truncated: header says 3 × 4 bytes \(float\) = 12 bytes of data, file has 11/);
  assert.throws(() => readIdx(join(tmp, 'missing-file')), /missing-file: cannot read IDX file/);
  assert.throws(() => encodeIdx([2, 3], new Uint8Array(5)), /2×3 = 6 elements but data has 5/);
});

// ---------------------------------------------------------------- MNIST

test('MNIST: sizes, ranges, first label, label histogram; cached reloads', () => {
  const train = loadMnist('train');
  const test_ = loadMnist('test');
  assert.equal(train.n, MNIST_SIZES.train);
  assert.equal(test_.n, MNIST_SIZES.test);
  assert.equal(train.x.length, 60000 * 784);
  assert.equal(test_.x.length, 10000 * 784);
  assert.equal(train.dim, 784);
  assert.deepEqual(train.shape, [28, 28]);
  assert.equal(train.numClasses, 10);
  assert.equal(train.name, 'mnist-train');
  checkDataset(train);
  checkDataset(test_);
  // Standard MNIST: the first training digit is a 5, the first test digit a 7.
  assert.equal(train.y[0], 5);
  assert.equal(test_.y[0], 7);
  for (const ds of [train, test_]) {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (let i = 0; i < ds.x.length; i++) {
      const v = ds.x[i];
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    assert.equal(min, 0);
    assert.equal(max, 1);
    const mean = sum / ds.x.length;
    assert.ok(mean > 0.12 && mean < 0.14, `mean intensity ${mean}`); // MNIST mean ≈ 0.13
    const hist = new Array(10).fill(0);
    for (const c of ds.y) hist[c]++;
    assert.equal(hist.reduce((a, b) => a + b, 0), ds.n);
    for (let c = 0; c < 10; c++) assert.ok(hist[c] > ds.n * 0.08 && hist[c] < ds.n * 0.12, `class ${c}: ${hist[c]}`);
  }
  // Known class counts of the standard training set.
  const h = new Array(10).fill(0);
  for (const c of train.y) h[c]++;
  assert.deepEqual(h, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);

  const again = loadMnist('train');
  assert.equal(again.x, train.x, 'cached: same array');
  assert.notEqual(again, train, 'fresh record each call');

  const few = loadMnist('train', { limit: 100 });
  assert.equal(few.n, 100);
  assert.equal(few.x.length, 100 * 784);
  assert.equal(few.y.length, 100);
  assert.equal(few.y[0], 5);
  assert.equal(few.x.buffer, train.x.buffer, 'limit is a view of the cache');
  assert.throws(() => loadMnist('train', { limit: -1 }), /limit must be a non-negative integer/);
});

test('MNIST: missing directory and mismatched counts are clear errors', () => {
  assert.throws(() => loadMnist('test', { dir: join(tmp, 'nowhere') }), /nowhere.*t10k-images-idx3-ubyte: cannot read IDX file/);
  const d2 = mkdtempSync(join(tmp, 'mnistbad-'));
  writeFileSync(join(d2, 't10k-images-idx3-ubyte'), encodeIdx([3, 28, 28], new Uint8Array(3 * 784)));
  writeFileSync(join(d2, 't10k-labels-idx1-ubyte'), encodeIdx([2], Uint8Array.from([1, 2])));
  assert.throws(() => loadMnist('test', { dir: d2 }), /has 3 images but .*t10k-labels-idx1-ubyte has 2 labels/);
  const d3 = mkdtempSync(join(tmp, 'mnistbad-'));
  writeFileSync(join(d3, 't10k-images-idx3-ubyte'), encodeIdx([3, 28, 28], new Uint8Array(3 * 784)));
  writeFileSync(join(d3, 't10k-labels-idx1-ubyte'), encodeIdx([3], Uint8Array.from([1, 12, 2])));
  assert.throws(() => loadMnist('test', { dir: d3 }), /t10k-labels-idx1-ubyte: label at index 1 is 12, expected 0\.\.9/);
  const d4 = mkdtempSync(join(tmp, 'mnistbad-'));
  writeFileSync(join(d4, 't10k-images-idx3-ubyte'), encodeIdx([3, 27, 28], new Uint8Array(3 * 27 * 28)));
  writeFileSync(join(d4, 't10k-labels-idx1-ubyte'), encodeIdx([3], Uint8Array.from([1, 1, 2])));
  assert.throws(() => loadMnist('test', { dir: d4 }), /expected ubyte \(or float\) images of shape n×28×28, got ubyte 3×27×28/);
  // float images outside [0, 1] (8-bit values stored as floats): the file, image, pixel and value
  const d5 = mkdtempSync(join(tmp, 'mnistbad-'));
  const px = new Float32Array(2 * 784).fill(0.5);
  px[784 + 30] = 255;
  writeFileSync(join(d5, 't10k-images-idx3-ubyte'), encodeIdx([2, 28, 28], px));
  writeFileSync(join(d5, 't10k-labels-idx1-ubyte'), encodeIdx([2], Uint8Array.from([1, 2])));
  assert.throws(() => loadMnist('test', { dir: d5 }), /t10k-images-idx3-ubyte: image 1 \(from 0\), pixel 30 \(row 1, column 2\) is 255: float images must be intensities in \[0, 1\]/);
});

// ---------------------------------------------------------------- dataset helpers

test('checkFinite names the row and column of the first bad value', () => {
  const ds = toy(20, 400, new Array(20).fill(0), 1, 'name');
  assert.equal(checkFinite(ds), ds);
  ds.x[12 * 400 + 300] = NaN;
  ds.x[15 * 400 + 3] = Infinity;
  assert.throws(() => checkFinite(ds), { message: "data 'name': row 12, column 300 is NaN" });
  ds.x[12 * 400 + 300] = 0;
  assert.throws(() => checkFinite(ds), { message: "data 'name': row 15, column 3 is Infinity" });
  ds.x[15 * 400 + 3] = -Infinity;
  assert.throws(() => checkFinite(ds), /row 15, column 3 is -Infinity/);
});

test('checkDataset catches inconsistent fields', () => {
  const ds = toy(3, 4, [0, 1, 0], 2);
  assert.throws(() => checkDataset({ ...ds, n: 4 }), /x has 12 values, expected n × dim = 4 × 4 = 16/);
  assert.throws(() => checkDataset({ ...ds, shape: [2, 3] }), /shape \[2, 3\] has 6 elements but dim is 4/);
  assert.throws(() => checkDataset({ ...ds, y: new Int32Array(2) }), /y has 2 labels, expected n = 3/);
});

test('subsetRows copies the chosen rows; validationSplit partitions the data', () => {
  const ds = toy(10, 3, [0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 3);
  const s = subsetRows(ds, [7, 2, 2]);
  assert.equal(s.n, 3);
  assert.deepEqual([...s.x], [21, 22, 23, 6, 7, 8, 6, 7, 8]);
  assert.deepEqual([...s.y], [1, 2, 2]);
  s.x[0] = -1;
  assert.equal(ds.x[21], 21, 'copy, not a view');
  assert.throws(() => subsetRows(ds, [0, 10]), /index 10 at position 1 is outside 0\.\.9/);

  const a = validationSplit(ds, 4, new Rng(3));
  const b = validationSplit(ds, 4, new Rng(3));
  assert.deepEqual([...a.valIndices], [...b.valIndices]);
  assert.equal(a.val.n, 4);
  assert.equal(a.train.n, 6);
  const all = [...a.valIndices, ...a.trainIndices].sort((p, q) => p - q);
  assert.deepEqual(all, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...a.val.y], [...a.valIndices].map((i) => ds.y[i]));
  assert.throws(() => validationSplit(ds, 11, new Rng(1)), /nVal must be an integer in 0\.\.10, got 11/);
});

// ---------------------------------------------------------------- binarisation

test('dynamic binarisation: binary values whose mean matches the source', () => {
  const train = loadMnist('train', { limit: 256 });
  const src = train.x;
  const out = new Float32Array(src.length);
  binarizeInto(out, src, new Rng(5));
  let srcSum = 0;
  let outSum = 0;
  for (let i = 0; i < src.length; i++) {
    assert.ok(out[i] === 0 || out[i] === 1);
    if (src[i] === 0) assert.equal(out[i], 0);
    if (src[i] === 1) assert.equal(out[i], 1);
    srcSum += src[i];
    outSum += out[i];
  }
  const m1 = srcSum / src.length;
  const m2 = outSum / src.length;
  // ~200k pixels: the sd of the binarised mean is well below 0.002.
  assert.ok(Math.abs(m1 - m2) < 0.003, `source mean ${m1}, binarised mean ${m2}`);
  // Fresh draws differ between calls (dynamic), unlike the source.
  const out2 = binarizeInto(new Float32Array(src.length), src, new Rng(6));
  let diff = 0;
  for (let i = 0; i < src.length; i++) diff += out[i] !== out2[i] ? 1 : 0;
  assert.ok(diff > 0);
  assert.throws(() => binarizeInto(new Float32Array(3), new Float32Array(4), new Rng(1)), /out has 3 values but src has 4/);
  // Exact probabilities on a uniform source.
  const half = new Float32Array(100000).fill(0.25);
  const bh = binarizeInto(new Float32Array(half.length), half, new Rng(9));
  const mh = bh.reduce((a, b) => a + b, 0) / bh.length;
  assert.ok(Math.abs(mh - 0.25) < 0.006, `mean ${mh}`);
});

test('static binarisation is reproducible by seed and differs across seeds', () => {
  const ds = loadMnist('test', { limit: 50 });
  const a = binarizeStatic(ds, new Rng(11));
  const b = binarizeStatic(ds, new Rng(11));
  const c = binarizeStatic(ds, new Rng(12));
  assert.deepEqual(a.x, b.x);
  assert.notDeepEqual(a.x, c.x);
  assert.deepEqual(a.y, ds.y);
  assert.notEqual(a.x, ds.x);
  assert.ok(a.x.every((v) => v === 0 || v === 1));
  const t = thresholdBinarize(ds, 0.5);
  for (let i = 0; i < ds.x.length; i++) assert.equal(t.x[i], ds.x[i] > 0.5 ? 1 : 0);
  assert.equal(t.n, ds.n);
});

// ---------------------------------------------------------------- labelled subsets

test('labelledSubset: perClass of each class, seeded, disjoint from rest, covers all', () => {
  const ds = loadMnist('train', { limit: 2000 });
  const a = labelledSubset(ds, 10, new Rng(21));
  const b = labelledSubset(ds, 10, new Rng(21));
  const c = labelledSubset(ds, 10, new Rng(22));
  assert.equal(a.labelled.n, 100);
  assert.equal(a.rest.n, 1900);
  const hist = new Array(10).fill(0);
  for (const y of a.labelled.y) hist[y]++;
  assert.deepEqual(hist, new Array(10).fill(10));
  assert.deepEqual(a.indices, b.indices);
  assert.notDeepEqual(a.indices, c.indices);
  const lab = new Set(a.indices);
  for (const i of a.restIndices) assert.ok(!lab.has(i), `row ${i} in both`);
  assert.equal(lab.size + a.restIndices.length, ds.n);
  assert.deepEqual([...a.indices, ...a.restIndices].sort((p, q) => p - q), Array.from({ length: ds.n }, (_, i) => i));
  // Rows really are the chosen ones.
  const r = a.indices[7];
  assert.equal(a.labelled.y[7], ds.y[r]);
  assert.deepEqual(a.labelled.x.subarray(7 * 784, 8 * 784), ds.x.subarray(r * 784, (r + 1) * 784));
  assert.deepEqual(a.warnings, []);
});

test('labelledSubset: errors and warnings', () => {
  const ds = toy(7, 2, [0, 0, 0, 1, 1, 2, 2], 4, 'small');
  const warned: string[] = [];
  const ok = labelledSubset(ds, 2, new Rng(1), { onWarning: (m) => warned.push(m) });
  assert.equal(ok.labelled.n, 6);
  assert.equal(ok.warnings.length, 1);
  assert.match(ok.warnings[0], /class 3 has no examples/);
  assert.deepEqual(warned, ok.warnings);
  assert.throws(() => labelledSubset(ds, 3, new Rng(1)), /asked for 3 examples per class but class 1 has only 2/);
  const bad = toy(4, 2, [0, 1, 5, 0], 2, 'bad');
  assert.throws(() => labelledSubset(bad, 1, new Rng(1)), /row 2 has label 5, outside 0\.\.1/);
  const neg = toy(3, 2, [0, -1, 1], 2, 'neg');
  assert.throws(() => labelledSubset(neg, 1, new Rng(1)), /row 1 has label -1/);
  assert.throws(() => labelledSubset(ds, 1.5, new Rng(1)), /perClass must be a non-negative integer/);
});

// ---------------------------------------------------------------- batches

test('epochBatches: seeded permutation cut into batches; gather copies rows', () => {
  const rng1 = new Rng(4);
  const batches = [...epochBatches(10, 4, rng1)].map((b) => [...b]);
  assert.deepEqual(batches.map((b) => b.length), [4, 4, 2]);
  assert.deepEqual(batches.flat().sort((p, q) => p - q), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const again = [...epochBatches(10, 4, new Rng(4))].map((b) => [...b]);
  assert.deepEqual(again, batches);
  const dropped = [...epochBatches(10, 4, new Rng(4), { dropLast: true })];
  assert.deepEqual(dropped.map((b) => b.length), [4, 4]);
  assert.equal(numBatches(10, 4), 3);
  assert.equal(numBatches(10, 4, true), 2);
  assert.equal([...epochBatches(0, 4, new Rng(1))].length, 0);
  // Successive epochs from the same generator are different shuffles.
  const e2 = [...epochBatches(10, 10, rng1)][0];
  assert.notDeepEqual([...e2], batches.flat());
  assert.throws(() => [...epochBatches(10, 0, new Rng(1))], /batchSize must be a positive integer/);

  const x = Float32Array.from([0, 1, 10, 11, 20, 21, 30, 31]);
  assert.deepEqual([...gather(x, 2, [3, 0])], [30, 31, 0, 1]);
  const out = new Float32Array(10).fill(-1);
  const g = gather(x, 2, [2, 1], out);
  assert.deepEqual([...g], [20, 21, 10, 11]);
  assert.equal(g.buffer, out.buffer);
  assert.throws(() => gather(x, 2, [4]), /index 4 at position 0 is outside 0\.\.3/);
  assert.throws(() => gather(x, 2, [0, 1], new Float32Array(3)), /out holds 3 values, need 2 rows × 2 = 4/);
});
