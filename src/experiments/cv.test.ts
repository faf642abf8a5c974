/**
 * `untapped cv`: folds keep replicate groups whole; every fold's preprocessing (PLS's and the tool's)
 * is fitted on its training rows only; the PLS RMSECV reported equals an independent computation;
 * the CLI writes cv.md / cv.json / predictions.csv and refuses bad input naming the file or option.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatCsv } from '../io/table.js';
import { crossValidatePls, fitPls } from '../eval/pls.js';
import { foldRows, groupFolds, regressionStats } from '../eval/regression.js';
import { crossValidatePlsPreprocessed, cvFiles, foldPreprocessing, nestedCrossValidatePls } from './cv.js';
import { setupEngine } from '../testing/helpers.js';

await setupEngine();

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/untapped');
const N = 40;
const D = 20;

/**
 * 40 rows × 20 channels in 20 duplicate pairs (rows 2g, 2g + 1 are replicates of sample g): a
 * baseline with a channel-dependent offset, a band whose height is the target y (about 85–95), a
 * per-sample scatter and a little per-row noise; the measured y adds an error of sd about 0.3 that
 * x does not carry (fixed formulas, no randomness).
 */
function table(): { x: number[][]; y: number[][] } {
  const x: number[][] = [];
  const y: number[][] = [];
  for (let i = 0; i < N; i++) {
    const g = Math.floor(i / 2);
    const t = 85 + 10 * ((g * 7) % 20) / 19 + 0.05 * Math.sin(3 * g);
    const u = (t - 90) / 5;
    x.push(Array.from({ length: D }, (_, j) => +(1 + 0.05 * j + 0.3 * u * Math.exp(-(((j - 8) / 3) ** 2)) + 0.02 * Math.cos(g + j) + 0.002 * Math.sin(7 * i + j)).toFixed(5)));
    y.push([+(t + 0.4 * Math.sin(11 * i + 1)).toFixed(3)]);
  }
  return { x, y };
}

function files(d: string): { x: string; y: string } {
  const { x, y } = table();
  const ids = x.map((_, i) => `s${i}`);
  const fx = path.join(d, 'x.csv');
  const fy = path.join(d, 'y.csv');
  fs.writeFileSync(fx, formatCsv(Array.from({ length: D }, (_, j) => `ch${j}`), x, ids));
  fs.writeFileSync(fy, formatCsv(['octane'], y, ids));
  return { x: fx, y: fy };
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-cv-'));
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env }, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const flat = (rows: number[][]) => Float32Array.from(rows.flat());

test('foldPreprocessing: the autoscale of fold f has the mean and sd of its training rows alone', () => {
  const { x } = table();
  const X = flat(x);
  const fold = groupFolds(N, 4, 3);
  const chains = foldPreprocessing(X, N, D, fold, 'autoscale');
  assert.equal(chains.length, 4);
  for (let f = 0; f < 4; f++) {
    const { train } = foldRows(fold, f);
    const step = chains[f]!.steps[0];
    assert.equal(step.kind, 'autoscale');
    if (step.kind !== 'autoscale') return;
    assert.equal(chains[f]!.rows, train.length);
    for (let j = 0; j < D; j++) {
      const v = train.map((i) => X[i * D + j]);
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
      assert.ok(Math.abs(step.mean[j] - m) < 1e-6 * Math.abs(m), `fold ${f} channel ${j}: mean ${step.mean[j]} vs ${m}`);
      assert.ok(Math.abs(step.scale[j] - sd) < 1e-5 * sd, `fold ${f} channel ${j}: sd ${step.scale[j]} vs ${sd}`);
    }
    // and not the mean of every row: the held-out rows would move it
    const all = x.reduce((a, r) => a + r[8], 0) / N;
    assert.ok(Math.abs(step.mean[8] - all) > 1e-4, `fold ${f}: mean of channel 8 equals the mean over all rows`);
  }
  assert.deepEqual(foldPreprocessing(X, N, D, fold, 'none'), [null, null, null, null]);
});

test('crossValidatePlsPreprocessed: without a chain it is crossValidatePls; with autoscale it equals a hand-made per-fold loop', () => {
  const { x, y } = table();
  const X = flat(x);
  const Y = flat(y);
  const fold = groupFolds(Array.from({ length: N }, (_, i) => Math.floor(i / 2)), 5, 1);
  const plain = crossValidatePlsPreprocessed(X, Y, N, D, 1, fold, { maxComponents: 6 });
  const ref = crossValidatePls(X, Y, N, D, 1, fold, 6);
  assert.deepEqual(plain.rmsecv, ref.rmsecv);
  assert.equal(plain.components, ref.components);
  // autoscale by hand in every fold (training mean and sd), PLS at each count, pooled RMSE
  const rmsecv = [1, 2, 3, 4, 5, 6].map((a) => {
    let se = 0;
    for (let f = 0; f < 5; f++) {
      const { train, test } = foldRows(fold, f);
      const at = (i: number, j: number) => X[i * D + j];
      const m = Array.from({ length: D }, (_, j) => train.reduce((s, i) => s + at(i, j), 0) / train.length);
      const sd = m.map((mj, j) => Math.sqrt(train.reduce((s, i) => s + (at(i, j) - mj) ** 2, 0) / (train.length - 1)));
      const scaled = (rows: number[]) => Float32Array.from(rows.flatMap((i) => m.map((mj, j) => (at(i, j) - mj) / sd[j])));
      const p = fitPls(scaled(train), train.length, D, Float32Array.from(train.map((i) => Y[i])), 1, { components: a }).predict(scaled(test), test.length);
      test.forEach((i, r) => (se += (p[r] - Y[i]) ** 2));
    }
    return Math.sqrt(se / N);
  });
  const pre = crossValidatePlsPreprocessed(X, Y, N, D, 1, fold, { maxComponents: 6, preprocess: 'autoscale' });
  pre.rmsecv.forEach((v, a) => assert.ok(Math.abs(v - rmsecv[a]) < 1e-5 * rmsecv[a], `${a + 1} components: ${v} vs ${rmsecv[a]}`));
  assert.notDeepEqual(pre.rmsecv, plain.rmsecv);
});

test('cvFiles: replicate pairs share a fold; the tool and PLS are fitted per fold on the training rows; PLS figures match crossValidatePls', async () => {
  const d = tmp();
  const { x, y } = files(d);
  const out = path.join(d, 'cv');
  const lines: string[] = [];
  const res = await cvFiles({ x, y, out, labels: 'real', groupSize: 2, folds: 4, epochs: 3, seed: 2, preprocess: 'autoscale', plsMax: 5, log: (s) => lines.push(s) });
  // replicates together
  for (let g = 0; g < N / 2; g++) assert.equal(res.fold[2 * g], res.fold[2 * g + 1], `sample ${g} split across folds`);
  const json = JSON.parse(fs.readFileSync(path.join(out, 'cv.json'), 'utf8'));
  assert.equal(json.status, 'done');
  assert.deepEqual(json.fold, Array.from(res.fold, (f) => f + 1));
  assert.deepEqual(json.foldGroups.reduce((a: number, b: number) => a + b, 0), N / 2);
  // the tool's chain in fold f: autoscale of the training rows alone, as PLS's
  const { x: rows } = table();
  for (let f = 0; f < 4; f++) {
    const { train } = foldRows(res.fold, f);
    const tool = res.untapped!.chains[f]!.steps[0];
    const pls = res.pls!.chains[f]!.steps[0];
    assert.equal(res.untapped!.chains[f]!.rows, train.length);
    if (tool.kind !== 'autoscale' || pls.kind !== 'autoscale') assert.fail('autoscale expected');
    const m8 = train.reduce((s, i) => s + rows[i][8], 0) / train.length;
    assert.ok(Math.abs(tool.mean[8] - m8) < 1e-6 && Math.abs(pls.mean[8] - m8) < 1e-6, `fold ${f}: ${tool.mean[8]}, ${pls.mean[8]} vs ${m8}`);
  }
  // PLS: the reported RMSECV and figures against an independent computation
  const X = flat(rows);
  const Y = flat(table().y);
  const ref = crossValidatePlsPreprocessed(X, Y, N, D, 1, res.fold, { maxComponents: 5, preprocess: 'autoscale' });
  assert.equal(json.pls.components, ref.components);
  const st = regressionStats(ref.predictions, Y, N, 1)[0];
  assert.ok(Math.abs(json.pls.perTarget.octane.rmsep - st.rmsep) < 1e-9, `${json.pls.perTarget.octane.rmsep} vs ${st.rmsep}`);
  assert.ok(Math.abs(json.pls.perTarget.octane.rmsep - Math.min(...ref.rmsecv)) < 1e-6);
  assert.ok(json.untapped.perTarget.octane.rmsep > 0 && Number.isFinite(json.untapped.perTarget.octane.rmsep));
  // predictions.csv: id, fold, measured, the tool, PLS; the models of the folds; the chart
  const csv = fs.readFileSync(path.join(out, 'predictions.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'id,fold,measured_octane,untapped_octane,pls_octane,pls_nested_octane');
  // nested PLS: the same predictions as nestedCrossValidatePls on the same folds and groups
  const nest = nestedCrossValidatePls(X, Y, N, D, 1, res.fold, Array.from({ length: N }, (_, i) => Math.floor(i / 2)), { maxComponents: 5, preprocess: 'autoscale', seed: 2 });
  assert.deepEqual(json.plsNested.componentsPerFold, nest.components);
  assert.ok(Math.abs(json.plsNested.perTarget.octane.rmsep - regressionStats(nest.predictions, Y, N, 1)[0].rmsep) < 1e-9);
  assert.equal(csv.length, N + 1);
  const c1 = csv[1].split(',');
  assert.equal(c1[0], 's0');
  assert.equal(Number(c1[1]), res.fold[0] + 1);
  assert.ok(Math.abs(Number(c1[4]) - ref.predictions[0]) < 1e-3);
  for (let f = 1; f <= 4; f++) assert.ok(fs.existsSync(path.join(out, 'folds', `fold-${f}`, 'model.utp')));
  assert.ok(fs.existsSync(path.join(out, 'predicted-vs-measured.png')));
  const md = fs.readFileSync(path.join(out, 'cv.md'), 'utf8');
  assert.match(md, /\| octane \| untapped \| [\d.]+ \|/);
  assert.match(md, /\| octane \| PLS \| [\d.]+ \|/);
  assert.equal(lines.filter((l) => /^cv: fold \d\/4: untapped RMSEP [\d.]+; PLS RMSEP [\d.]+ on \d+ rows$/.test(l)).length, 4, lines.join('\n'));
});

test('cvFiles: classes give the CV error rate of the tool and PLS-DA', async () => {
  const d = tmp();
  const { x } = files(d);
  const fy = path.join(d, 'c.csv');
  const { y } = table();
  fs.writeFileSync(fy, formatCsv(['class'], y.map((r) => [r[0] < 90 ? 0 : 1]), y.map((_, i) => `s${i}`)));
  const u = path.join(d, 'u.csv');
  fs.writeFileSync(u, formatCsv(Array.from({ length: D }, (_, j) => `ch${j}`), table().x.map((r) => r.map((v, j) => v * 1.01 + 0.001 * j))));
  const res = await cvFiles({ x, y: fy, out: path.join(d, 'cv'), labels: 'discrete', groupSize: 2, folds: 3, epochs: 2, models: ['pls', 'untapped'], unlabelled: u });
  // the unlabelled rows reach every fold's fit
  const info = JSON.parse(fs.readFileSync(path.join(d, 'cv', 'folds', 'fold-2', 'fit.json'), 'utf8'));
  assert.equal(info.inputs.unlabelled.rows, N);
  assert.ok(res.pls!.error!.rate >= 0 && res.pls!.error!.rate < 0.2, `PLS-DA error ${res.pls!.error!.rate}`);
  assert.equal(res.untapped!.error!.n, N);
  const md = fs.readFileSync(path.join(d, 'cv', 'cv.md'), 'utf8');
  assert.match(md, /\| PLS-DA \| [\d.]+% \| \d+ \/ 40 \|/);
  const csv = fs.readFileSync(path.join(d, 'cv', 'predictions.csv'), 'utf8').split('\n')[0];
  assert.equal(csv, 'id,fold,measured_class,untapped_class,pls_class,pls_nested_class');
  assert.match(md, /\| PLS-DA \(nested\) \| [\d.]+% \| \d+ \/ 40 \|/);
});

test('untapped cv (CLI): writes cv.md and cv.json; refuses bad folds, groups and --out naming them', () => {
  const d = tmp();
  const { x, y } = files(d);
  const out = path.join(d, 'cv');
  let r = cli(['cv', '--x', x, '--y', y, '--labels', 'real', '--group-size', '2', '--folds', '3', '--models', 'pls', '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.ok(fs.existsSync(path.join(out, 'cv.md')) && fs.existsSync(path.join(out, 'cv.json')));
  assert.match(r.err, /cv: PLS: \d+ components? chosen by the pooled RMSECV/);
  // --out exists
  r = cli(['cv', '--x', x, '--y', y, '--models', 'pls', '--out', out]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /--out .*cv already exists; .*--force/);
  r = cli(['cv', '--x', x, '--y', y, '--models', 'pls', '--out', out, '--force']);
  assert.equal(r.code, 0, r.err);
  // --force replaces only what cv wrote
  const mine = path.join(d, 'mine');
  fs.mkdirSync(mine);
  r = cli(['cv', '--x', x, '--y', y, '--models', 'pls', '--out', mine, '--force']);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /not a directory written by `untapped cv`/);
  // folds < 2
  r = cli(['cv', '--x', x, '--y', y, '--folds', '1', '--out', path.join(d, 'a')]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /--folds must be at least 2/);
  // fewer groups than folds
  const g = path.join(d, 'g.csv');
  fs.writeFileSync(g, formatCsv(['group'], Array.from({ length: N }, (_, i) => [i % 3]), Array.from({ length: N }, (_, i) => `s${i}`)));
  r = cli(['cv', '--x', x, '--y', y, '--groups', g, '--folds', '5', '--models', 'pls', '--out', path.join(d, 'b')]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /--folds 5: only 3 groups of rows \(--groups .*g\.csv\)/);
  // a groups file with another row count, naming both files
  const g2 = path.join(d, 'g2.csv');
  fs.writeFileSync(g2, formatCsv(['group'], Array.from({ length: N - 1 }, (_, i) => [i])));
  r = cli(['cv', '--x', x, '--y', y, '--groups', g2, '--models', 'pls', '--out', path.join(d, 'c')]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /g2\.csv: 39 group values for 40 rows in .*x\.csv/);
  // --group-size that does not divide the rows
  r = cli(['cv', '--x', x, '--y', y, '--group-size', '3', '--models', 'pls', '--out', path.join(d, 'e')]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /--group-size 3: the 40 rows of .*x\.csv do not split/);
  for (const o of ['a', 'b', 'c', 'e']) assert.ok(!fs.existsSync(path.join(d, o)), `${o} written after a refusal`);
});

test('nested PLS: a held-out row never influences its own prediction; the count comes from an inner CV of the training rows', () => {
  const { x: rows, y: ys } = table();
  const X = flat(rows);
  const Y = flat(ys);
  const groups = Array.from({ length: N }, (_, i) => Math.floor(i / 2));
  const fold = groupFolds(groups, 4, 1);
  const a = nestedCrossValidatePls(X, Y, N, D, 1, fold, groups, { maxComponents: 6 });
  // change every label (and input) of fold 0's held-out rows: fold 0's predictions stay, the others may move
  const { test: held } = foldRows(fold, 0);
  const Y2 = Float32Array.from(Y, (v, i) => (held.includes(i) ? v + 50 * Math.sin(i) : v));
  const X2 = Float32Array.from(X, (v, j) => (held.includes(Math.floor(j / D)) ? v * 1.01 : v));
  const b = nestedCrossValidatePls(X, Y2, N, D, 1, fold, groups, { maxComponents: 6 });
  for (const i of held) assert.equal(b.predictions[i], a.predictions[i]);
  assert.deepEqual(b.components[0], a.components[0]);
  assert.notDeepEqual(Array.from(b.predictions), Array.from(a.predictions));
  const c = nestedCrossValidatePls(X2, Y, N, D, 1, fold, groups, { maxComponents: 6 });
  // the held-out inputs do not choose fold 0's count either
  assert.equal(c.components[0], a.components[0]);
  // fold 0 by hand: an inner CV over the training groups chooses the count, PLS on all training rows predicts
  const { train } = foldRows(fold, 0);
  const inner = groupFolds(train.map((i) => groups[i]), 4, 0);
  const xt = Float32Array.from(train.flatMap((i) => Array.from(X.subarray(i * D, (i + 1) * D))));
  const yt = Float32Array.from(train.map((i) => Y[i]));
  const cv = crossValidatePls(xt, yt, train.length, D, 1, inner, 6);
  assert.equal(a.components[0], cv.components);
  const p = fitPls(xt, train.length, D, yt, 1, { components: cv.components }).predict(Float32Array.from(held.flatMap((i) => Array.from(X.subarray(i * D, (i + 1) * D)))), held.length);
  held.forEach((i, r) => assert.ok(Math.abs(a.predictions[i] - p[r]) < 1e-5));
});
