import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { formatCsv } from '../io/table.js';
import { readTable } from '../node/data.js';
import { applyPreprocessing, fitPreprocessing, undoPreprocessing } from '../data/preprocess.js';
import { defaultClassPreprocess, fitFiles, fittedRunnable, generateFromFit, loadFitted, predictFile, preprocessOption, type FitInfo } from './fit.js';
import { assertClose, linearMixing, setupEngine } from '../testing/helpers.js';

await setupEngine();

const D = 16;
const ch = Array.from({ length: D }, (_, j) => `ch${j}`);
const comp = ['a', 'b', 'c'];

/** Linear mixtures of three bands, each row then scaled and shifted (multiplicative and additive scatter). */
function toy(n: number, seed: number): { x: number[][]; y: number[][] } {
  const t = linearMixing(n, seed, { channels: D, base: 0.2, height: 0.6, first: 3, step: 4, width: 2.5, noise: 0.005 });
  return { x: t.x.map((r, i) => r.map((v) => (1 + 0.3 * Math.sin(i)) * v + 0.1 * Math.cos(2 * i))), y: t.y };
}

function write(dir: string, name: string, cols: string[], rows: number[][]): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, formatCsv(cols, rows, rows.map((_, i) => `s${i}`)));
  return f;
}

test('fit --preprocess: fitted on the training rows only, saved, and applied by the loaded model in predict, evaluate and score', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-pre-'));
  try {
    const { x, y } = toy(40, 1);
    const u = toy(30, 2).x;
    const fx = write(dir, 'x.csv', ch, x);
    const fy = write(dir, 'y.csv', comp, y);
    const fu = write(dir, 'u.csv', ch, u);
    const out = path.join(dir, 'm');
    const spec = 'snv,sg:5:2:1,autoscale';
    const r = await fitFiles({ x: fx, y: fy, unlabelled: fu, unfeatured: 'corners:30', out, epochs: 3, batchSize: 20, seed: 1, preprocess: spec, validationFraction: 0.25 });
    const mem = r.estimator.predict(x).mean;
    r.estimator.dispose();

    const m = loadFitted(out);
    const info = JSON.parse(fs.readFileSync(path.join(out, 'fit.json'), 'utf8')) as FitInfo;
    assert.equal((info.options as { preprocess?: string }).preprocess, spec);
    const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as { train: { preprocess?: string } };
    assert.equal(cfg.train.preprocess, spec);
    // the chain is fitted on the labelled training rows then the unlabelled rows — not on the held-out validation rows
    const held = new Set(info.validation!.heldOut!.index);
    const X = readTable(fx);
    const U = readTable(fu);
    const rowsOf = (t: typeof X) => Array.from({ length: t.n }, (_, i) => Array.from(t.data.subarray(i * D, (i + 1) * D)));
    const trainRows = [...rowsOf(X).filter((_, i) => !held.has(i)), ...rowsOf(U)];
    const want = fitPreprocessing(spec, Float32Array.from(trainRows.flat()), D);
    assert.ok(held.size > 0);
    assert.deepEqual(m.estimator.preprocessing, want);
    const withValidation = fitPreprocessing(spec, Float32Array.from([...rowsOf(X), ...rowsOf(U)].flat()), D);
    assert.notDeepEqual(m.estimator.preprocessing, withValidation);

    // predict on the training file (loaded model) = the in-memory model = the bare networks on the preprocessed rows
    const p = predictFile(m, fx, 5, 0);
    assertClose(p.mean.flat(), mem.flat(), { atol: 1e-6 });
    const pre = applyPreprocessing(want, X.data, D);
    const bare = tf.tidy(() => m.estimator.model.predict(tf.tensor2d(pre, [x.length, D])).arraySync() as number[][]);
    assertClose(p.mean.flat(), bare.flat(), { atol: 1e-6 });
    // evaluate's IW log-likelihood and score go through the run adapter: it applies the same chain
    const run = fittedRunnable(m);
    try {
      const viaRun = tf.tidy(() => run.classify(tf.tensor2d(Float32Array.from(x.flat()), [x.length, D])).arraySync() as number[][]);
      assertClose(viaRun.flat(), p.mean.flat(), { atol: 1e-6 });
      // SNV removes a row's scale and offset: 3x + 1 predicts as x
      const fx3 = write(dir, 'x3.csv', ch, x.map((row) => row.map((v) => 3 * v + 1)));
      assertClose(predictFile(m, fx3, 5, 0).mean.flat(), p.mean.flat(), { atol: 1e-5 });
      // generate: the autoscale at the end is undone; the rows stay in the space of snv and the derivative
      assert.match(m.estimator.generatedSpace()!, /preprocessed space of 'snv,sg:5:2:1', not in the input space: snv removes/);
      const g = generateFromFit(m, [[1, 0, 0]]);
      const raw = tf.tidy(() => m.estimator.model.generate(tf.tensor2d([[1, 0, 0]]), tf.tensor2d([m.info.zMean])).dataSync() as Float32Array);
      assertClose(g[0], undoPreprocessing(want, raw, D).rows, { atol: 1e-5 });
      assert.equal(undoPreprocessing(want, raw, D).remaining.length, 2);
    } finally {
      run.dispose();
    }
    // a row SNV cannot normalise is an error naming the file and line
    const flatRow = write(dir, 'flat.csv', ch, [x[0], new Array<number>(D).fill(0.5)]);
    assert.throws(() => predictFile(m, flatRow, 5, 0), /flat\.csv: line 3 \(id 's1'\) is constant/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fit --preprocess autoscale: generate maps back to the input space exactly', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-pre-'));
  try {
    const { x, y } = toy(30, 3);
    const out = path.join(dir, 'm');
    const r = await fitFiles({ x: write(dir, 'x.csv', ch, x), y: write(dir, 'y.csv', comp, y), unfeatured: 'none', out, epochs: 2, batchSize: 15, seed: 2, preprocess: 'autoscale' });
    r.estimator.dispose();
    const m = loadFitted(out);
    const f = m.estimator.preprocessing!;
    assert.equal(m.estimator.generatedSpace(), null);
    const step = f.steps[0];
    assert.equal(step.kind, 'autoscale');
    // generated = network output · training sd + training mean, per channel
    const g = generateFromFit(m, [[0.2, 0.3, 0.5]]);
    const raw = tf.tidy(() => m.estimator.model.generate(tf.tensor2d([[0.2, 0.3, 0.5]]), tf.tensor2d([m.info.zMean])).dataSync() as Float32Array);
    const mean = Array.from({ length: D }, (_, j) => x.reduce((s, row) => s + row[j], 0) / x.length);
    const sd = Array.from({ length: D }, (_, j) => Math.sqrt(x.reduce((s, row) => s + (row[j] - mean[j]) ** 2, 0) / (x.length - 1)));
    assertClose(g[0], Array.from(raw, (v, j) => v * sd[j] + mean[j]), { atol: 1e-5 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('preprocessOption: canonical spec, none, and --center with a chain that centres', () => {
  assert.equal(preprocessOption({ preprocess: 'SNV, sg:11:2' }), 'snv,sg:11:2:0');
  assert.equal(preprocessOption({ preprocess: 'none' }), null);
  assert.equal(preprocessOption({}), null);
  assert.equal(preprocessOption({ preprocess: 'snv', center: true }), 'snv');
  assert.throws(() => preprocessOption({ preprocess: 'snv,autoscale', center: true }), /--center and --preprocess 'snv,autoscale': the chain already centres its rows/);
  assert.throws(() => preprocessOption({ preprocess: 'snv,sg:6:2' }), /step 2 \('sg:6:2'\): the window must be odd/);
  assert.throws(() => preprocessOption({ preprocess: 'snv,pca:5', center: true }), /principal-component scores have mean 0/);
});

test('classes: the default chain is pca:k (k = min(15, D, rows − 1)), saved and applied; generate maps the scores back to D channels', async () => {
  // k = min(15, D, rows − 1, the directions the rows vary along)
  const rowsOf = (n: number, d: number, rank: number) =>
    Float32Array.from({ length: n * d }, (_, i) => {
      const r = Math.floor(i / d), j = i % d;
      let v = 0;
      for (let c = 0; c < rank; c++) v += Math.sin(1.3 * r * (c + 1) + 0.7 * c) * Math.cos(0.05 * j * (c + 1));
      return v;
    });
  assert.equal(defaultClassPreprocess(rowsOf(120, 40, 40), 40), 'pca:15');
  assert.equal(defaultClassPreprocess(rowsOf(9, 40, 40), 40), 'pca:8');
  assert.equal(defaultClassPreprocess(rowsOf(120, 40, 6), 40), 'pca:6');
  assert.equal(defaultClassPreprocess(rowsOf(120, 15, 15), 15), null);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-pre-'));
  try {
    const { x, y } = toy(24, 4);
    const u = toy(20, 5).x;
    const cls = y.map((r) => [r.indexOf(Math.max(...r))]);
    const fx = write(dir, 'x.csv', ch, x);
    const fy = write(dir, 'y.csv', ['class'], cls);
    const fu = write(dir, 'u.csv', ch, u);
    const out = path.join(dir, 'm');
    const r = await fitFiles({ x: fx, y: fy, labels: 'discrete', unlabelled: fu, out, epochs: 3, batchSize: 20, seed: 1 });
    const mem = r.estimator.predict(x).mean;
    r.estimator.dispose();
    const m = loadFitted(out);
    // 44 training rows of 16 channels: k = min(15, 16, 43) = 15 scores, fitted on the labelled and unlabelled rows
    const want = fitPreprocessing('pca:15', Float32Array.from([...x, ...u].flat()), D);
    assert.equal((m.info.options as { preprocess?: string }).preprocess, 'pca:15');
    assert.equal(m.estimator.model.config.inputDim, 15);
    assertClose(m.estimator.preprocessing!.steps.flatMap((s) => (s.kind === 'pca' ? s.scale : [])), (want.steps[0] as { scale: number[] }).scale, { rtol: 1e-9 });
    // the file holds the rows as written to CSV, whose rounding the whitening of small directions magnifies: compare loosely with
    // the in-memory rows, exactly with the networks on the file's rows as the chain maps them
    const p = predictFile(m, fx, 5, 0);
    assertClose(p.mean.flat(), mem.flat(), { atol: 2e-3 });
    const fileRows = readTable(fx).data;
    const bare = tf.tidy(() => m.estimator.model.predict(tf.tensor2d(applyPreprocessing(m.estimator.preprocessing!, fileRows, D), [x.length, 15])).arraySync() as number[][]);
    assertClose(p.mean.flat(), bare.flat(), { atol: 1e-6 });
    // generated scores come back as spectra of 16 channels: mean + Σ score·s·v
    assert.equal(m.estimator.generatedSpace(), null);
    const g = generateFromFit(m, [[0, 1, 0]]);
    assert.equal(g[0].length, D);
    const raw = tf.tidy(() => m.estimator.model.generate(tf.tensor2d([[0, 1, 0]]), tf.tensor2d([m.info.zMean])).dataSync() as Float32Array);
    assertClose(g[0], undoPreprocessing(m.estimator.preprocessing!, raw, 15).rows, { atol: 1e-5 });
    // a test file with other channels than the fit is refused, naming it
    const narrow = write(dir, 'narrow.csv', ch.slice(0, 10), x.map((row) => row.slice(0, 10)));
    assert.throws(() => predictFile(m, narrow, 5, 0), /narrow\.csv/);
    // the run adapter reads rows of 16 channels too (disposing it frees the model: last)
    const run = fittedRunnable(m);
    try {
      assert.equal(run.inputDim, D);
      const viaRun = tf.tidy(() => run.classify(tf.tensor2d(fileRows, [x.length, D])).arraySync() as number[][]);
      assertClose(viaRun.flat(), p.mean.flat(), { atol: 1e-6 });
    } finally {
      run.dispose();
    }
    // --preprocess none: the raw channels
    const r2 = await fitFiles({ x: fx, y: fy, labels: 'discrete', unlabelled: fu, out: path.join(dir, 'raw'), epochs: 1, batchSize: 20, seed: 1, preprocess: 'none' });
    assert.equal(r2.estimator.preprocessing, null);
    assert.equal(r2.estimator.model.config.inputDim, D);
    r2.estimator.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
