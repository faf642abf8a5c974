import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose } from '../testing/helpers.js';
import {
  applyPreprocessing,
  checkFittedPreprocessing,
  fitPreprocessing,
  formatPreprocessSpec,
  invertPreprocessing,
  isInvertible,
  NotInvertibleError,
  outputWidth,
  parsePreprocessSpec,
  preprocessedWidth,
  PreprocessSpecError,
  undoPreprocessing,
} from './preprocess.js';

/** Rows as one flat array. */
const flat = (rows: number[][]) => Float64Array.from(rows.flat());
/** Row i of a flat n × D array. */
const row = (x: ArrayLike<number>, i: number, D: number) => Array.from(x).slice(i * D, (i + 1) * D);
/** Deterministic, irregular test values (no generator needed). */
const wavy = (n: number, D: number) => Float64Array.from({ length: n * D }, (_, k) => 1 + 0.3 * Math.sin(1.7 * k) + 0.2 * Math.cos(0.31 * k * k) + 0.05 * Math.floor(k / D));
/** Spectrum-like rows: one band shape, scaled and shifted per row (scatter), with a little irregularity. */
const spectra = (n: number, D: number) =>
  Float64Array.from({ length: n * D }, (_, k) => {
    const i = Math.floor(k / D);
    const j = k % D;
    return 0.1 * i + (1 + 0.2 * i) * Math.exp(-(((j - D / 2) / (D / 5)) ** 2)) + 0.02 * Math.sin(1.7 * k);
  });

test('snv: a known row against hand-computed values (Barnes et al. 1989: sd with n − 1)', () => {
  // row 2,4,4,4,5,5,7,9: mean 5, squared deviations 9+1+1+1+0+0+4+16 = 32, sd = √(32/7) = 2.1380899
  const x = flat([[2, 4, 4, 4, 5, 5, 7, 9]]);
  const f = fitPreprocessing('snv', x, 8);
  const sd = Math.sqrt(32 / 7);
  assertClose(applyPreprocessing(f, x, 8), [-3, -1, -1, -1, 0, 0, 2, 4].map((d) => d / sd), { atol: 1e-6 });
  // 1…8: mean 4.5, deviations ±0.5 … ±3.5, squared sum 42, sd √(42/7) = √6
  assertClose(applyPreprocessing(f, flat([[1, 2, 3, 4, 5, 6, 7, 8]]), 8).subarray(0, 2), [-3.5 / Math.sqrt(6), -2.5 / Math.sqrt(6)], { atol: 1e-6 });
});

test('snv and msc remove a row offset and scale: x and 3x + 1 give the same row', () => {
  const D = 9;
  const x = spectra(4, D);
  const y = x.map((v) => 3 * v + 1);
  for (const spec of ['snv', 'msc']) {
    const f = fitPreprocessing(spec, x, D);
    assertClose(applyPreprocessing(f, y, D), applyPreprocessing(f, x, D), { atol: 1e-5, msg: spec });
  }
});

test('msc: a row a + b·reference comes back as the reference (Geladi et al. 1985)', () => {
  // training rows 2r + 1 and 4r − 1 of r = (1, 2, 4, 3, 5): the reference is their mean, 3r = (3, 6, 12, 9, 15)
  const r = [1, 2, 4, 3, 5];
  const train = flat([r.map((v) => 2 * v + 1), r.map((v) => 4 * v - 1)]);
  const f = fitPreprocessing('msc', train, 5);
  const step = f.steps[0];
  assert.equal(step.kind, 'msc');
  assertClose(step.kind === 'msc' ? step.reference : [], [3, 6, 12, 9, 15]);
  const ref = [3, 6, 12, 9, 15];
  // each training row and a new row 0.5·ref + 2 regress exactly on ref: (x − a) / b = ref
  const out = applyPreprocessing(f, flat([...[0, 1].map((i) => row(train, i, 5)), ref.map((v) => 0.5 * v + 2)]), 5);
  for (let i = 0; i < 3; i++) assertClose(row(out, i, 5), ref, { atol: 1e-5, msg: `row ${i}` });
  // a row falling where the reference rises is not a positive multiple of it: an error naming the row
  assert.throws(() => applyPreprocessing(f, flat([ref, ref.map((v) => 20 - v)]), 5), /msc: row 1 is not a positive multiple of the reference spectrum \(least-squares slope b = -1\.00\)/);
  // a caller names the rows (here as lines of a file with a header)
  assert.throws(() => applyPreprocessing(f, flat([ref, ref.map((v) => 20 - v)]), 5, { rowName: (i) => `x.csv: line ${i + 2}` }), /preprocessing 'msc': msc: x\.csv: line 3 is not a positive multiple/);
});

/** The filter output for a unit impulse at channel p of a row of D channels. */
function impulseResponse(spec: string, D: number, p: number): number[] {
  const x = new Float64Array(D);
  x[p] = 1;
  return Array.from(applyPreprocessing(fitPreprocessing(spec, x, D), x, D));
}

test('sg: convolution coefficients against the published tables (Savitzky & Golay 1964)', () => {
  // out[k] = Σ_i c_i x[k + i] (i = −m…m): an impulse at p gives out[p − i] = c_i, the coefficients reversed.
  // Table I (smoothing, quadratic/cubic), tables III and V (1st and 2nd derivative, quadratic), norms as printed
  const cases: [string, number[], number][] = [
    ['sg:5:2:0', [-3, 12, 17, 12, -3], 35],
    ['sg:7:2:0', [-2, 3, 6, 7, 6, 3, -2], 21],
    ['sg:7:3:0', [-2, 3, 6, 7, 6, 3, -2], 21], // cubic smoothing = quadratic smoothing
    ['sg:5:2:1', [-2, -1, 0, 1, 2], 10],
    ['sg:7:2:1', [-3, -2, -1, 0, 1, 2, 3], 28],
    ['sg:5:2:2', [2, -1, -2, -1, 2], 7],
    ['sg:7:2:2', [5, 0, -3, -4, -3, 0, 5], 42],
  ];
  const D = 15;
  const p = 7;
  for (const [spec, c, norm] of cases) {
    const m = (c.length - 1) / 2;
    const out = impulseResponse(spec, D, p);
    const want = new Array<number>(D).fill(0);
    for (let i = -m; i <= m; i++) want[p - i] = c[i + m] / norm;
    assertClose(out, want, { atol: 1e-9, msg: spec });
  }
});

test('sg: a quadratic is reproduced exactly away from the edges; its derivatives are the true ones', () => {
  // x_j = 0.5 j² − 3 j + 2: x'_j = j − 3, x''_j = 1
  const D = 20;
  const x = Float64Array.from({ length: D }, (_, j) => 0.5 * j * j - 3 * j + 2);
  const apply = (spec: string) => Array.from(applyPreprocessing(fitPreprocessing(spec, x, D), x, D));
  for (const [spec, truth] of [
    ['sg:7:2:0', (j: number) => x[j]],
    ['sg:9:3:0', (j: number) => x[j]],
    ['sg:7:2:1', (j: number) => j - 3],
    ['sg:5:2:1', (j: number) => j - 3],
    ['sg:11:4:1', (j: number) => j - 3],
    ['sg:5:2:2', () => 1],
    ['sg:9:3:2', () => 1],
  ] as const) {
    const m = (Number(spec.split(':')[1]) - 1) / 2;
    const out = apply(spec);
    const interior = out.slice(m, D - m);
    assertClose(interior, Array.from({ length: D - 2 * m }, (_, k) => truth(k + m)), { atol: 1e-9, msg: spec });
    // the edge channels repeat the nearest full-window value (ml-savitzky-golay's pad 'post', 'replicate')
    for (let j = 0; j < m; j++) {
      assert.equal(out[j], out[m], `${spec}: channel ${j}`);
      assert.equal(out[D - 1 - j], out[D - 1 - m], `${spec}: channel ${D - 1 - j}`);
    }
  }
});

test('center and autoscale: hand-computed means and sds, and the exact inverse', () => {
  // columns (1, 3, 5): mean 3, sd √(8/2) = 2; (10, 16, 13): mean 13, sd √(18/2) = 3
  const x = flat([[1, 10], [3, 16], [5, 13]]);
  const c = fitPreprocessing('center', x, 2);
  assertClose(applyPreprocessing(c, x, 2), [-2, -3, 0, 3, 2, 0]);
  const a = fitPreprocessing('autoscale', x, 2);
  assertClose(applyPreprocessing(a, x, 2), [-1, -1, 0, 1, 1, 0]);
  for (const f of [c, a]) {
    assert.ok(isInvertible(f));
    const fresh = flat([[7.25, -1.5], [0.125, 40]]);
    assertClose(invertPreprocessing(f, applyPreprocessing(f, fresh, 2), 2), fresh, { atol: 1e-5 });
  }
  // a channel without spread is centred, not divided by 0
  const k = fitPreprocessing('autoscale', flat([[1, 4], [3, 4], [5, 4]]), 2);
  assertClose(applyPreprocessing(k, flat([[3, 6]]), 2), [0, 2]);
});

test('a chain is fitted step by step: centre after snv subtracts the mean of the SNV rows', () => {
  const D = 6;
  const x = wavy(5, D);
  const chain = fitPreprocessing('snv,center', x, D);
  const snv = applyPreprocessing(fitPreprocessing('snv', x, D), x, D);
  const mean = Array.from({ length: D }, (_, j) => [0, 1, 2, 3, 4].reduce((s, i) => s + snv[i * D + j], 0) / 5);
  const step = chain.steps[1];
  assertClose(step.kind === 'center' ? step.mean : [], mean, { atol: 1e-6 });
  assertClose(applyPreprocessing(chain, x, D), Array.from(snv, (v, k) => v - mean[k % D]), { atol: 1e-6 });
});

test('undo: trailing centre/autoscale steps are undone; snv, msc and sg are not invertible', () => {
  const D = 11;
  const x = wavy(6, D);
  const f = fitPreprocessing('snv,sg:5:2:1,autoscale', x, D);
  assert.ok(!isInvertible(f));
  const pre = applyPreprocessing(f, x, D);
  const u = undoPreprocessing(f, pre, D);
  assert.equal(formatPreprocessSpec(u.remaining), 'snv,sg:5:2:1');
  assert.match(u.reason!, /snv removes each row's mean and scale/);
  // undone as far as it goes: the rows after snv and the derivative
  const partial = applyPreprocessing(fitPreprocessing('snv,sg:5:2:1', x, D), x, D);
  assertClose(u.rows, partial, { atol: 1e-5 });
  assert.throws(() => invertPreprocessing(f, pre, D), (e: Error) => e instanceof NotInvertibleError && /'snv,sg:5:2:1,autoscale' cannot be undone/.test(e.message) && /derivative/.test(e.message));
  for (const spec of ['msc', 'sg:5:2:0', 'sg:7:2:2']) assert.throws(() => invertPreprocessing(fitPreprocessing(spec, spectra(4, D), D), x, D), NotInvertibleError, spec);
  // a chain that ends in a non-invertible step undoes nothing
  const g = fitPreprocessing('center,snv', x, D);
  assert.equal(undoPreprocessing(g, x, D).remaining.length, 2);
  // the empty chain is the identity both ways
  const none = fitPreprocessing('none', x, D);
  assertClose(applyPreprocessing(none, x, D), x, { atol: 1e-6 });
  assertClose(invertPreprocessing(none, x, D), x, { atol: 1e-6 });
});

test('a fitted chain survives JSON.stringify / JSON.parse and maps rows identically', () => {
  const D = 13;
  const x = spectra(8, D);
  const f = fitPreprocessing('msc,sg:7:2:1,autoscale', x, D);
  const back = checkFittedPreprocessing(JSON.parse(JSON.stringify(f)), D, 'model.utp');
  assert.deepEqual(back, f);
  const fresh = spectra(3, D).map((v) => 2 * v - 0.5);
  assert.deepEqual(Array.from(applyPreprocessing(back, fresh, D)), Array.from(applyPreprocessing(f, fresh, D)));
  assert.throws(() => checkFittedPreprocessing({ ...f, width: 12 }, D, 'm.utp'), /m\.utp: preprocessing: fitted on rows of 12 channels, the model has 13/);
  const broken = JSON.parse(JSON.stringify(f)) as typeof f;
  (broken.steps[2] as { scale: number[] }).scale[4] = 0;
  assert.throws(() => checkFittedPreprocessing(broken, D, 'm.utp'), /step 3 \(autoscale\) scale must be > 0/);
});

test('spec parsing: canonical form, and errors naming the bad token', () => {
  assert.deepEqual(parsePreprocessSpec(' SNV , sg:11:2:1,center'), [{ kind: 'snv' }, { kind: 'sg', window: 11, order: 2, derivative: 1 }, { kind: 'center' }]);
  assert.equal(formatPreprocessSpec(parsePreprocessSpec('msc,sg:7:3,autoscale')), 'msc,sg:7:3:0,autoscale');
  assert.deepEqual(parsePreprocessSpec('none'), []);
  assert.deepEqual(parsePreprocessSpec(''), []);
  const bad: [string, RegExp][] = [
    ['snv,foo', /step 2 \('foo'\) is not a step; steps are snv, msc, sg:W:P\[:d\]/],
    ['snv,,center', /step 2 \(''\) is empty/],
    ['sg:4:2', /step 1 \('sg:4:2'\): the window must be odd and at least 5/],
    ['sg:3:2', /the window must be odd and at least 5 .*got 3/],
    ['center,sg:7:7', /step 2 \('sg:7:7'\): the polynomial order must be 1 … 6/],
    ['sg:7:0', /the polynomial order must be 1 … 6 .*got 0/],
    ['sg:7:2:3', /the derivative must be 0 \(smoothing\), 1 or 2, got 3/],
    ['sg:7:1:2', /a derivative of order 2 needs a polynomial of order ≥ 2, got 1/],
    ['sg:7', /Savitzky–Golay takes sg:W:P or sg:W:P:d .*got 1 value$/],
    ['sg', /got 0 values/],
    ['sg:7:x', /the polynomial order 'x' is not a whole number/],
    ['sg:7.0:2', /the window '7\.0' is not a whole number/],
    ['snv,none', /'none' stands alone/],
  ];
  for (const [spec, re] of bad) assert.throws(() => parsePreprocessSpec(spec), (e: Error) => e instanceof PreprocessSpecError && re.test(e.message) && e.message.includes(`'${spec}'`), spec);
});

test('fitting and applying: errors name the row, the column or the widths', () => {
  const x = flat([[1, 2, 3, 4, 5], [2, 2, 2, 2, 2]]);
  assert.throws(() => fitPreprocessing('snv', x, 5), /step 'snv'.*snv: row 1 is constant/);
  assert.throws(() => fitPreprocessing('sg:7:2:0', x, 5), /the window of 7 channels is wider than the 5 channels of a row/);
  assert.throws(() => fitPreprocessing('autoscale', flat([[1, 2]]), 2), /autoscale needs at least 2 training rows/);
  assert.throws(() => fitPreprocessing('center', flat([[1, NaN]]), 2), /row 0, column 1 is NaN/);
  assert.throws(() => fitPreprocessing('msc', flat([[1, 1, 1], [2, 2, 2]]), 3), /msc: the mean training spectrum is constant/);
  const f = fitPreprocessing('center', x, 5);
  assert.throws(() => applyPreprocessing(f, new Float32Array(8), 4), /rows of 4 channels, but the preprocessing 'center' was fitted on rows of 5/);
  assert.throws(() => applyPreprocessing(f, new Float32Array(7), 5), /7 values do not split into rows of 5/);
});

test('pca:k: hand-computed whitened scores of a known table, and the map back onto the span', () => {
  // four rows (±2, 0), (0, ±1): mean 0, covariance (÷ n) diag(2, 0.5); v_1 = (1, 0), s_1 = √2; v_2 = (0, 1), s_2 = √0.5
  const x = flat([[2, 0], [-2, 0], [0, 1], [0, -1]].map(([a, b]) => [a + 1, b + 3]));
  const f2 = fitPreprocessing('pca:2', x, 2);
  assert.equal(f2.width, 2);
  assert.equal(outputWidth(f2), 2);
  const s2 = applyPreprocessing(f2, x, 2);
  const r2 = Math.SQRT2;
  assertClose(Array.from(s2), [r2, 0, -r2, 0, 0, r2, 0, -r2], { atol: 1e-6 });
  // one score: the first direction only; the map back gives the projection onto it (plus the mean)
  const f1 = fitPreprocessing('pca:1', x, 2);
  const s1 = applyPreprocessing(f1, x, 2);
  assertClose(Array.from(s1), [r2, -r2, 0, 0], { atol: 1e-6 });
  assertClose(Array.from(invertPreprocessing(f1, s1, 1)), [3, 3, -1, 3, 1, 3, 1, 3], { atol: 1e-6 });
  // every score has variance 1 on the training rows (÷ n)
  const v = [0, 1].map((c) => [0, 1, 2, 3].reduce((a, i) => a + s2[i * 2 + c] ** 2, 0) / 4);
  assertClose(v, [1, 1], { atol: 1e-6 });
  assert.ok(isInvertible(f1));
});

test('pca:k after other steps: fitted on their output; scores → spectra → scores is the identity', () => {
  const D = 12;
  const rows = Array.from({ length: 20 }, (_, i) => Array.from({ length: D }, (_, j) => Math.sin(0.3 * j * (1 + (i % 5) / 7)) + 0.1 * i + 0.01 * ((i * 7 + j * 3) % 11)));
  const x = flat(rows);
  const f = fitPreprocessing('autoscale,pca:4', x, D);
  assert.equal(preprocessedWidth('autoscale,pca:4', D), 4);
  assert.equal(outputWidth(f), 4);
  const s = applyPreprocessing(f, x, D);
  assert.equal(s.length, 20 * 4);
  // the pca step is fitted on the autoscaled rows: the same as fitting pca:4 on them directly
  const auto = applyPreprocessing(fitPreprocessing('autoscale', x, D), x, D);
  assertClose(Array.from(applyPreprocessing(fitPreprocessing('pca:4', auto, D), auto, D)), Array.from(s), { atol: 1e-4 });
  // arbitrary scores map to spectra (in the input units) that map back to the same scores
  const scores = Float32Array.from([0.5, -1, 2, 0.1, -0.3, 0.7, 0, 1.5]);
  const back = invertPreprocessing(f, scores, 4);
  assert.equal(back.length, 2 * D);
  assertClose(Array.from(applyPreprocessing(f, back, D)), Array.from(scores), { atol: 1e-4 });
  const u = undoPreprocessing(f, scores, 4);
  assert.deepEqual(u.remaining, []);
  // the chain survives JSON and the check of a saved model (which reads k inputs)
  const again = checkFittedPreprocessing(JSON.parse(JSON.stringify(f)), 4, 'm.utp');
  assertClose(Array.from(applyPreprocessing(again, x, D)), Array.from(s), { atol: 0 });
  assert.throws(() => checkFittedPreprocessing(f, D, 'm.utp'), /m\.utp: preprocessing: gives 4 scores, the model reads 12/);
  assert.throws(() => checkFittedPreprocessing({ ...f, outWidth: D, steps: [...f.steps, { kind: 'center', mean: new Array<number>(D).fill(0) }] }, D, 'm.utp'), /step 2 \(pca\) is not the last/);
  assert.throws(() => checkFittedPreprocessing({ ...f, outWidth: 5 }, 4, 'm.utp'), /the output width 5 is not that of its steps \(4\)/);
  assert.throws(() => undoPreprocessing(f, new Float32Array(D), D), /rows of 12 values, but the preprocessing 'autoscale,pca:4' gives rows of 4/);
});

test('pca:k: errors name the step — not last, a bad k, more components than the rows allow', () => {
  assert.deepEqual(parsePreprocessSpec('snv, PCA:20'), [{ kind: 'snv' }, { kind: 'pca', components: 20 }]);
  assert.equal(formatPreprocessSpec(parsePreprocessSpec('snv,pca:20')), 'snv,pca:20');
  assert.throws(() => parsePreprocessSpec('pca:5,center'), /step 1 \('pca:5'\): pca:k must be the last step/);
  assert.throws(() => parsePreprocessSpec('pca'), /step 1 \('pca'\): principal components take pca:k/);
  assert.throws(() => parsePreprocessSpec('pca:0'), /pca:k with k a whole number ≥ 1/);
  const x = flat([[1, 2, 3], [2, 1, 0], [0, 0, 1]]);
  assert.throws(() => fitPreprocessing('pca:3', x, 3), /pca:3: 3 training rows of 3 channels have at most 2 principal components/);
  // rows along one line vary along one direction only
  assert.throws(() => fitPreprocessing('pca:2', flat([[1, 1], [2, 2], [3, 3], [4, 4]]), 2), /vary along only 1 directions; use pca:k with k ≤ 1/);
});
