import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '../engine/rng.js';
import { formatCsv } from '../io/table.js';
import { cornerLabels, fitFiles, generateFromFit, hiddenWith, parseHiddenSpec, loadFitted, parseLabelArg, predictFile, predictionColumns, scorePrediction, splitValidation, type FitInfo } from './fit.js';
import { assertClose, linearMixing, setupEngine } from '../testing/helpers.js';
import { regressionStats } from '../eval/regression.js';

await setupEngine();

const D = 12;

/** A linear-mixing toy: three smooth "endmember" spectra, compositions on the simplex. */
function toy(n: number, seed: number): { x: number[][]; y: number[][]; E: number[][] } {
  return linearMixing(n, seed, { channels: D, base: 0.2, height: 0.6, first: 2, step: 4, width: 2.5, noise: 0.005 });
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-fit-'));
}

function write(dir: string, name: string, cols: string[], rows: number[][], ids = true): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, formatCsv(cols, rows, ids ? rows.map((_, i) => `s${i}`) : undefined));
  return f;
}

const ch = Array.from({ length: D }, (_, j) => `ch${j}`);
const comp = ['a', 'b', 'c'];

test('cornerLabels: on the simplex, each within spread of its corner', () => {
  const ys = cornerLabels(3, 30, new Rng(1), 0.1);
  ys.forEach((y, i) => {
    assert.ok(Math.abs(y.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.ok(y[i % 3] >= 0.9 - 1e-9, `label ${i} = ${y}`);
    assert.ok(y.every((v) => v >= 0));
  });
});

test('fit: bad files give errors naming file and line, and write nothing', async () => {
  const dir = tmp();
  try {
    const { x, y } = toy(20, 1);
    const fx = write(dir, 'x.csv', ch, x);
    const fy = write(dir, 'y.csv', comp, y);
    const out = path.join(dir, 'model');
    const bad = (name: string, text: string) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, text);
      return f;
    };
    const cases: [Parameters<typeof fitFiles>[0], RegExp][] = [
      [{ x: fx, y: write(dir, 'y1.csv', comp, y.map((r, i) => (i === 5 ? [0.5, 0.5, 0.5] : r))), out }, /y1\.csv: line 7 \(id 's5'\): the composition sums to 1\.5/],
      [{ x: fx, y: write(dir, 'y2.csv', comp, y.map((r, i) => (i === 0 ? [1.2, -0.2, 0] : r))), out }, /y2\.csv: line 2 \(id 's0'\), column 'b' is -0\.2/],
      [{ x: bad('x1.csv', 'id,c1,c2\ns0,1,2\ns1,1\n'), y: fy, out }, /x1\.csv: line 3 has 2 cells but the header has 3/],
      [{ x: bad('x2.csv', 'id,c1,c2\ns0,1,oops\n'), y: fy, out }, /x2\.csv: line 2, column 3 \('c2'\) is 'oops'/],
      [{ x: bad('x3.csv', ''), y: fy, out }, /x3\.csv: the file is empty/],
      [{ x: fx, y: fy, unlabelled: write(dir, 'u.csv', ch.slice(1), x.map((r) => r.slice(1))), out }, /u\.csv: 11 channels per row, but .*x\.csv has 12/],
      [{ x: fx, y: write(dir, 'y3.csv', comp, y.slice(1)), out }, /y3\.csv: 19 rows of labels for 20 rows/],
      [{ x: fx, y: fy, unfeatured: write(dir, 'f.csv', ['a', 'b'], [[0.5, 0.5]]), out }, /f\.csv: 2 components per row, but .*y\.csv has 3/],
    ];
    for (const [o, re] of cases) {
      await assert.rejects(fitFiles({ ...o, epochs: 1 }), re);
      assert.ok(!fs.existsSync(out) && !fs.existsSync(`${out}.partial`), `nothing written for ${re}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fit → predict → generate on a linear-mixing toy; an interrupted fit resumes to the same weights', async () => {
  const dir = tmp();
  try {
    const { x, y, E } = toy(300, 2);
    const fx = write(dir, 'x.csv', ch, x);
    const fy = write(dir, 'y.csv', comp, y);
    const fu = write(dir, 'u.csv', ch, toy(300, 3).x, false);
    const opts = { x: fx, y: fy, unlabelled: fu, unfeatured: 'corners:60', epochs: 60, batchSize: 50, lr: 0.01, seed: 4 };
    const a = await fitFiles({ ...opts, out: path.join(dir, 'a') });
    for (const f of ['model.utp', 'fit.json', 'loss.png', 'endmembers.png']) assert.ok(fs.existsSync(path.join(dir, 'a', f)), f);
    assert.ok(!fs.existsSync(path.join(dir, 'a.partial')));
    // endmembers.png: the three generated pure components and the labelled rows' mean spectrum (no preprocessing: the raw mean)
    const chart = JSON.parse(fs.readFileSync(path.join(dir, 'a', 'endmembers.vl.json'), 'utf8')) as { layer: { data?: { values: { series: string; y: number }[] } }[] };
    const values = chart.layer.flatMap((l) => l.data?.values ?? []);
    assert.deepEqual([...new Set(values.map((v) => v.series))], [...comp.map((c) => `endmember ${c}`), `mean of the ${x.length} labelled rows`]);
    const labelledMean = ch.map((_, j) => x.reduce((s, r) => s + r[j], 0) / x.length);
    assertClose(values.filter((v) => v.series.startsWith('mean')).map((v) => v.y), labelledMean, { atol: 1e-4 });
    const endA = a.estimator.generate([[1, 0, 0]], [a.info.zMean])[0];
    assertClose(values.filter((v) => v.series === `endmember ${comp[0]}`).map((v) => v.y), endA, { atol: 1e-5 });
    await assert.rejects(fitFiles({ ...opts, out: path.join(dir, 'a') }), /already exists/);

    // predictions on held-out spectra: closer than the uniform guess, rows on the simplex
    const test = toy(100, 5);
    const ft = write(dir, 't.csv', ch, test.x);
    const m = loadFitted(path.join(dir, 'a'));
    const p = predictFile(m, ft, 20);
    assert.deepEqual(p.labelNames, comp);
    const mse = (pred: number[][]) => pred.reduce((s, r, i) => s + r.reduce((t, v, k) => t + (v - test.y[i][k]) ** 2, 0), 0) / pred.length;
    const model = mse(p.mean);
    const uniform = mse(test.y.map(() => [1 / 3, 1 / 3, 1 / 3]));
    assert.ok(model < 0.3 * uniform, `squared error ${model} vs uniform guess ${uniform}`);
    p.mean.forEach((r) => assert.ok(Math.abs(r[0] + r[1] + r[2] - 1) < 1e-4));
    assert.ok(p.sd.every((r) => r.every((v) => v >= 0 && Number.isFinite(v))));
    assert.throws(() => predictFile(m, write(dir, 'w.csv', ch.slice(2), test.x.map((r) => r.slice(2))), 1), /w\.csv: 10 channels per row, but the model .* was fitted on 12/);

    // generated endmembers: closer to the true ones than the mean spectrum is
    const g = generateFromFit(m, parseLabelArg('corners', m));
    const meanX = E[0].map((_, j) => x.reduce((s, r) => s + r[j], 0) / x.length);
    const dist = (u: number[], v: number[]) => Math.sqrt(u.reduce((s, a, j) => s + (a - v[j]) ** 2, 0));
    const errModel = g.reduce((s, r, k) => s + dist(r, E[k]), 0) / 3;
    const errMean = E.reduce((s, e) => s + dist(meanX, e), 0) / 3;
    assert.ok(errModel < 0.7 * errMean, `endmember error ${errModel} vs mean spectrum ${errMean}`);
    assert.throws(() => parseLabelArg('0.5,0.6,0.1', m), /sums to 1\.2/);
    assert.throws(() => parseLabelArg('0.5,0.5', m), /has 2 values; the model has 3/);
    assert.throws(() => generateFromFit(m, [[1, 0, 0]], [[5]]), /outside the box/);

    // interrupt a second fit after epoch 24 (its checkpoint), resume it, compare with the first
    const out = path.join(dir, 'b');
    await assert.rejects(
      fitFiles({
        ...opts,
        out,
        log: (s) => {
          if (s.startsWith('epoch 24/')) throw new Error('killed');
        },
      }),
      /killed/,
    );
    assert.ok(!fs.existsSync(out) && fs.existsSync(path.join(`${out}.partial`, 'checkpoint.utp')));
    assert.throws(() => loadFitted(out), /unfinished fit: rerun .* --resume/);
    await assert.rejects(fitFiles({ ...opts, epochs: 61, out, resume: true }), /had other options or inputs \(epochs: \d+ then, 61 now\)/);
    await fitFiles({ ...opts, out, resume: true });
    const wa = m.estimator.model.params.snapshot();
    const b = loadFitted(out);
    for (const [k, v] of b.estimator.model.params.snapshot()) assert.deepEqual(Array.from(v.data), Array.from(wa.get(k)!.data), k);
    m.estimator.dispose();
    b.estimator.dispose();
    a.estimator.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('splitValidation: whole groups held out, about the fraction, fixed by the seed', () => {
  const groups = Array.from({ length: 30 }, (_, i) => Math.floor(i / 3));
  const a = splitValidation(30, 0.2, new Rng(1), groups);
  assert.equal(a.groups, 10);
  assert.equal(a.validation.length, 6);
  assert.equal(a.train.length + a.validation.length, 30);
  for (const i of a.validation) for (let j = 3 * Math.floor(i / 3); j < 3 * Math.floor(i / 3) + 3; j++) assert.ok(a.validation.includes(j), `row ${j} left its group`);
  assert.deepEqual(splitValidation(30, 0.2, new Rng(1), groups), a);
  assert.notDeepEqual(splitValidation(30, 0.2, new Rng(2), groups).validation, a.validation);
  assert.equal(splitValidation(5, 0.01, new Rng(1)).validation.length, 1); // at least one
  assert.equal(splitValidation(5, 0.99, new Rng(1)).train.length, 1); // at least one left to train on
  assert.throws(() => splitValidation(4, 0.5, new Rng(1), [7, 7, 7, 7]), /at least 2 are needed/);
});

/** A replicate toy: each sample measured 3 times in consecutive rows (like the mayonnaise data). */
function replicates(samples: number, seed: number): { x: number[][]; y: number[][] } {
  const t = toy(samples, seed);
  const rng = new Rng(seed + 100);
  const x = t.x.flatMap((r) => [0, 1, 2].map(() => r.map((v) => v + 0.01 * (rng.next() - 0.5))));
  return { x, y: t.y.flatMap((r) => [r, r, r]) };
}

test('fit with validation: saves the best weights (not the last), stops early, calibrates intervals; predict reports them; resume is bit-identical', async () => {
  const dir = tmp();
  try {
    const { x, y } = replicates(100, 7);
    const fx = write(dir, 'x.csv', ch, x);
    const fy = write(dir, 'y.csv', comp, y);
    const opts = { x: fx, y: fy, epochs: 60, batchSize: 32, lr: 0.1, seed: 3, validationFraction: 0.5, groupSize: 3, patience: 5, minEpochs: 0 };
    const outA = path.join(dir, 'a');
    const a = await fitFiles({ ...opts, out: outA });
    for (const f of ['model.utp', 'fit.json', 'loss.png', 'validation.png']) assert.ok(fs.existsSync(path.join(outA, f)), f);
    const info = JSON.parse(fs.readFileSync(path.join(outA, 'fit.json'), 'utf8')) as FitInfo;
    const v = info.validation!;
    assert.equal(v.source, 'fraction');
    assert.equal(v.rows, 150);
    assert.deepEqual(v.grouping, { groupSize: 3 });
    const held = v.heldOut!.index;
    assert.deepEqual(v.heldOut!.ids, held.map((i) => `s${i}`));
    for (const i of held) assert.ok(held.includes(3 * Math.floor(i / 3)) && held.includes(3 * Math.floor(i / 3) + 2), `replicates of row ${i} held out together`);
    // the curve went down and then not below its best for `patience` evaluations: stopped early
    const curve = info.history.map((h) => h.metrics!.val_rmsep);
    const bestAt = curve.indexOf(Math.min(...curve));
    assert.equal(info.stoppedBy, 'patience');
    assert.equal(v.minEpochs, 0);
    assert.equal(v.bestEpoch, info.history[bestAt].epoch);
    assert.equal(info.history.length, bestAt + 1 + 5);
    assert.ok(v.bestEpoch < info.history.at(-1)!.epoch);
    // the saved model scores the best value on the held-out rows: it is the best checkpoint
    const m = loadFitted(outA);
    const vx = held.map((i) => x[i]);
    const vy = held.map((i) => y[i]);
    const pv = m.estimator.predict(vx).mean;
    const err = Math.sqrt(pv.reduce((s, r, i) => s + r.reduce((t, p, k) => t + (p - vy[i][k]) ** 2, 0), 0) / (pv.length * 3));
    assert.ok(Math.abs(err - curve[bestAt]) < 1e-6, `saved model's validation RMSEP ${err} vs best ${curve[bestAt]}`);
    assert.ok(Math.abs(err - v.best.rmsep!) < 1e-6);
    // report.md: the figures of the saved weights on the validation rows, per component, as regressionStats gives them
    const report = fs.readFileSync(path.join(outA, 'report.md'), 'utf8');
    const st = regressionStats(Float64Array.from(pv.flat()), Float64Array.from(vy.flat()), pv.length, 3);
    comp.forEach((c, k) => assert.ok(report.includes(`| ${c} | ${st[k].rmsep.toPrecision(4)} | ${st[k].bias.toPrecision(3)} | ${st[k].sep.toPrecision(4)} | ${st[k].r2.toFixed(3)} |`), `${c} row in:\n${report}`));
    assert.match(report, new RegExp(`the best validation RMSEP on the 150 validation rows \\(early stop after 5 evaluations`));
    for (const f of ['report.html', 'validation-pv.png', 'validation-pv-residuals.png']) assert.ok(fs.existsSync(path.join(outA, f)), f);
    assert.match(fs.readFileSync(path.join(outA, 'report.html'), 'utf8'), /<title>untapped fit: a<\/title>/);

    // calibration: 150 rows support a 95% interval (rank ⌈151 · 0.95⌉ = 144); predict writes bounds clipped to [0, 1]
    const cal = info.calibration!;
    assert.equal(cal.at.kind, 'split-conformal');
    assert.equal(cal.at.n, 150);
    assert.equal(cal.at.rank, 144);
    assert.equal(cal.scores.length, 3);
    const fresh = replicates(100, 8);
    const ft = write(dir, 't.csv', ch, fresh.x);
    const fty = write(dir, 'ty.csv', comp, fresh.y);
    const p = predictFile(m, ft, 10);
    assert.match(p.note, /95% intervals per component: a ±[\d.]+, b ±[\d.]+, c ±[\d.]+ \(split-conformal on 150 validation rows, absolute residuals/);
    const cols = predictionColumns(p);
    assert.deepEqual(cols.columns.slice(6), ['a_lo95', 'a_hi95', 'b_lo95', 'b_hi95', 'c_lo95', 'c_hi95']);
    for (const r of cols.rows) for (let k = 0; k < 3; k++) assert.ok(r[6 + 2 * k] >= 0 && r[6 + 2 * k] <= r[k] && r[k] <= r[7 + 2 * k] && r[7 + 2 * k] <= 1, `${r}`);
    const sc = scorePrediction(m, p, fty);
    assert.ok(sc.coverage!.overall >= 0.9, `coverage on fresh rows ${JSON.stringify(sc.coverage)}`);
    assert.ok(sc.rmsep!.overall < 0.2);
    // another level is recalibrated from the stored scores; 150 rows cannot support 99.5%
    const p80 = predictFile(m, ft, 10, 0, { level: 0.8 });
    assert.ok(p80.interval!.upper[0][0] - p80.interval!.lower[0][0] <= p.interval!.upper[0][0] - p.interval!.lower[0][0]);
    const p99 = predictFile(m, ft, 10, 0, { level: 0.995 });
    assert.equal(p99.interval, undefined);
    assert.match(p99.note, /150 validation rows are too few for 99\.5% intervals \(need ≥ 199; at most 99\.34% with 150\)/);
    assert.throws(() => scorePrediction(m, p, write(dir, 'ty2.csv', comp, fresh.y.slice(1))), /ty2\.csv: 299 rows of labels for 300 predicted rows/);

    // interrupted after the best evaluation and resumed: the same weights and the same record
    const outB = path.join(dir, 'b');
    const stopAt = `epoch ${v.bestEpoch + 2}/`;
    await assert.rejects(
      fitFiles({
        ...opts,
        out: outB,
        log: (s) => {
          if (s.startsWith(stopAt)) throw new Error('killed');
        },
      }),
      /killed/,
    );
    await assert.rejects(fitFiles({ ...opts, patience: 7, out: outB, resume: true }), /had other options or inputs \(patience: \d+ then, 7 now\)/);
    assert.ok(fs.existsSync(path.join(`${outB}.partial`, 'checkpoint.utp')));
    const b = await fitFiles({ ...opts, out: outB, resume: true });
    const wa = m.estimator.model.params.snapshot();
    for (const [k, w] of b.estimator.model.params.snapshot()) assert.deepEqual(Array.from(w.data), Array.from(wa.get(k)!.data), k);
    assert.deepEqual(b.info.validation, info.validation);
    assert.deepEqual(b.info.calibration, info.calibration);
    assert.deepEqual(b.info.history.map((h) => h.metrics), info.history.map((h) => h.metrics));
    m.estimator.dispose();
    a.estimator.dispose();
    b.estimator.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fit without validation: predict says its spread is uncalibrated and writes no bounds; validation errors name the file', async () => {
  const dir = tmp();
  try {
    const { x, y } = replicates(10, 9);
    const fx = write(dir, 'x.csv', ch, x);
    const fy = write(dir, 'y.csv', comp, y);
    const out = path.join(dir, 'm');
    const r = await fitFiles({ x: fx, y: fy, out, epochs: 2, batchSize: 30 });
    r.estimator.dispose();
    const m = loadFitted(out);
    const p = predictFile(m, fx, 5);
    assert.equal(p.interval, undefined);
    assert.match(p.note, /no calibrated intervals: .* was fitted without validation rows.*not a calibrated uncertainty/);
    assert.equal(predictionColumns(p).columns.length, 6);
    assert.equal(scorePrediction(m, p, fy).coverage, undefined);
    m.estimator.dispose();
    const o2 = path.join(dir, 'n');
    const cases: [Partial<Parameters<typeof fitFiles>[0]>, RegExp][] = [
      [{ validationFraction: 0.2, groupSize: 4 }, /--group-size 4: the 30 labelled rows of .*x\.csv do not split into whole groups of 4/],
      [{ validationX: fx }, /need both files: --validation-x .* and --validation-y/],
      [{ validationX: write(dir, 'vx.csv', ch.slice(1), x.map((q) => q.slice(1))), validationY: fy }, /vx\.csv: 11 channels per row, but .*x\.csv has 12/],
      [{ validationX: fx, validationY: write(dir, 'vy.csv', comp, y.map((q, i) => (i === 2 ? [0.9, 0.9, 0] : q))) }, /vy\.csv: line 4 \(id 's2'\): the composition sums to 1\.8/],
      [{ validationFraction: 0.2, groups: write(dir, 'g.csv', ['g'], x.slice(1).map((_, i) => [i])) }, /g\.csv: 29 group values for 30 rows/],
      [{ patience: 3 }, /--patience counts evaluations without a better validation score: give validation rows/],
      [{ minEpochs: 3 }, /--min-epochs delays the early stop by validation score: give validation rows/],
      [{ validationFraction: 0.2, intervalMethod: 'scaled', model: { variational: false } }, /needs the sd of q\(y \| x\)/],
    ];
    for (const [extra, re] of cases) {
      await assert.rejects(fitFiles({ x: fx, y: fy, out: o2, epochs: 1, ...extra }), re);
      assert.ok(!fs.existsSync(o2) && !fs.existsSync(`${o2}.partial`), `nothing written for ${re}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fit with discrete labels and validation files: selection by cross-entropy, conformal class sets, their coverage', async () => {
  const dir = tmp();
  try {
    const cls = (y: number[][]) => y.map((r) => [r.indexOf(Math.max(...r))]);
    const tr = toy(150, 21);
    const va = toy(60, 22);
    const te = toy(200, 23);
    const o = {
      x: write(dir, 'x.csv', ch, tr.x),
      y: write(dir, 'y.csv', ['class'], cls(tr.y)),
      validationX: write(dir, 'vx.csv', ch, va.x),
      validationY: write(dir, 'vy.csv', ['class'], cls(va.y)),
      labels: 'discrete' as const,
      epochs: 15,
      batchSize: 50,
      lr: 0.03,
      seed: 1,
      out: path.join(dir, 'm'),
    };
    const r = await fitFiles(o);
    const info = r.info;
    assert.equal(info.validation!.source, 'files');
    assert.equal(info.validation!.metric, 'val_ce');
    assert.equal(info.validation!.minEpochs, 4); // default: 25% of 15 epochs
    const ce = info.history.map((h) => h.metrics!.val_ce);
    assert.equal(info.validation!.bestEpoch, info.history[ce.indexOf(Math.min(...ce))].epoch);
    assert.ok(info.history.every((h) => h.metrics!.val_error >= 0 && h.metrics!.val_error <= 1));
    assert.equal(info.calibration!.at.kind, 'split-conformal-set');
    const p = predictFile(r, write(dir, 'tx.csv', ch, te.x), 5);
    assert.match(p.note, /95% class sets: every class with probability ≥ [\d.e-]+ \(split-conformal on 60 validation rows/);
    assert.deepEqual(predictionColumns(p).columns.slice(6), ['class 0_in95set', 'class 1_in95set', 'class 2_in95set', 'class']);
    const sc = scorePrediction(r, p, write(dir, 'ty.csv', ['class'], cls(te.y)));
    assert.ok(sc.setCoverage!.coverage >= 0.85 && sc.setCoverage!.meanSize < 2, `set coverage ${JSON.stringify(sc)}`);
    assert.ok(sc.error! < 0.5, `error ${sc.error}`);
    // --y of generate for classes: an index, a name, or K values
    assert.deepEqual(parseLabelArg('2;class 0;0,1,0', r), [[0, 0, 1], [1, 0, 0], [0, 1, 0]]);
    assert.throws(() => parseLabelArg('3', r), /label 1 \('3'\) is not a class: give an index 0–2, a name \(class 0, class 1, class 2\)/);
    await assert.rejects(fitFiles({ ...o, out: path.join(dir, 'n'), validationY: write(dir, 'vy2.csv', ['class'], cls(va.y).map((c, i) => (i === 3 ? [5] : c))) }), /vy2\.csv: line 5 \(id 's3'\): class 5 is outside 0\.\.2/);
    r.estimator.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fit --deterministic with only labelled rows (issue 24, case 4): trains, writes the model, leaves no .partial', async () => {
  const dir = tmp();
  try {
    const fx = path.join(dir, 'x.csv');
    const fy = path.join(dir, 'y.csv');
    fs.writeFileSync(fx, 'a,b,c\n0.1,0.2,0.3\n0.3,0.2,0.1\n');
    fs.writeFileSync(fy, 'p,q\n1,0\n0,1\n');
    const out = path.join(dir, 'm');
    const r = await fitFiles({ x: fx, y: fy, out, epochs: 1, model: { variational: false } });
    assert.ok(Number.isFinite(r.info.history[0].trainLoss));
    r.estimator.dispose();
    assert.deepEqual(fs.readdirSync(dir).sort(), ['m', 'x.csv', 'y.csv']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a diverging fit (--lr 1e6, issue 24 case 6) is saved with a warning in the log, fit.json and every prediction note', async () => {
  const dir = tmp();
  try {
    const { x, y } = toy(40, 1);
    const out = path.join(dir, 'm');
    const logged: string[] = [];
    const r = await fitFiles({ x: write(dir, 'x.csv', ch, x), y: write(dir, 'y.csv', comp, y), out, epochs: 5, lr: 1e6, log: (m) => logged.push(m) });
    r.estimator.dispose();
    assert.ok(logged.some((l) => /^fit: warning: the training loss is diverging: .* more than 1000× above its best/.test(l)), logged.join('\n'));
    const info = JSON.parse(fs.readFileSync(path.join(out, 'fit.json'), 'utf8')) as FitInfo;
    assert.equal(info.warnings?.length, 1);
    const m = loadFitted(out);
    const p = predictFile(m, path.join(dir, 'x.csv'), 5);
    assert.match(p.note, /^WARNING: .* was saved from a fit whose loss diverged/);
    m.estimator.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a Bernoulli likelihood with inputs outside [0, 1] is an error naming the file, line, column and value (issue 24, case 1)', async () => {
  const dir = tmp();
  try {
    const { x, y } = toy(20, 1);
    const fy = write(dir, 'y.csv', comp, y);
    const out = path.join(dir, 'm');
    const fx = write(dir, 'x255.csv', ch, x.map((r, i) => (i === 3 ? r.map((v, j) => (j === 2 ? 255 : v)) : r)));
    const bern = { model: { likelihood: 'bernoulli' as const } };
    await assert.rejects(fitFiles({ x: fx, y: fy, out, epochs: 1, ...bern }), /x255\.csv: line 5 \(id 's3'\), column 'ch2' is 255: the Bernoulli likelihood .* needs inputs in \[0, 1\]/);
    const fu = write(dir, 'u.csv', ch, x.map((r, i) => (i === 7 ? r.map((v, j) => (j === 0 ? -0.5 : v)) : r)));
    await assert.rejects(fitFiles({ x: write(dir, 'x.csv', ch, x), y: fy, unlabelled: fu, out, epochs: 1, ...bern }), /u\.csv: line 9 \(id 's7'\), column 'ch0' is -0\.5: the Bernoulli/);
    assert.ok(!fs.existsSync(out) && !fs.existsSync(`${out}.partial`), 'nothing written');
    // the Gaussian likelihood takes any finite value
    const r = await fitFiles({ x: fx, y: fy, out, epochs: 1 });
    r.estimator.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fit: a model directory another live process is fitting into is refused, naming its pid; nothing is touched', async () => {
  const dir = tmp();
  try {
    const { x, y } = toy(20, 1);
    const out = path.join(dir, 'm');
    fs.mkdirSync(`${out}.partial`);
    fs.writeFileSync(path.join(`${out}.partial`, 'options.json'), '{}');
    fs.writeFileSync(`${out}.lock`, JSON.stringify({ pid: process.ppid, host: os.hostname(), started: '2026-11-29T00:00:00Z' }));
    await assert.rejects(fitFiles({ x: write(dir, 'x.csv', ch, x), y: write(dir, 'y.csv', comp, y), out, epochs: 1, force: true }), new RegExp(`model directory .*m is in use by another untapped process \\(pid ${process.ppid}, since 2026-11-29T00:00:00Z\\)`));
    assert.deepEqual(fs.readdirSync(`${out}.partial`), ['options.json']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fit --force replaces only a model directory fit wrote: never the current directory, an input file or a directory of other files (issue 24, case 8)', async () => {
  const dir = tmp();
  try {
    const { x, y } = toy(20, 1);
    const fx = write(dir, 'x.csv', ch, x);
    const fy = write(dir, 'y.csv', comp, y);
    const base = { x: fx, y: fy, epochs: 1, force: true };
    await assert.rejects(fitFiles({ ...base, out: '.' }), /--out \. is the current directory; give a new directory name/);
    await assert.rejects(fitFiles({ ...base, out: path.dirname(process.cwd()) }), /is the current directory or holds it/);
    await assert.rejects(fitFiles({ ...base, out: fx }), /--out .*x\.csv is an input file of this fit/);
    await assert.rejects(fitFiles({ ...base, out: dir }), /--out .* holds an input of this fit \(.*x\.csv\)/);
    const userDir = path.join(dir, 'results');
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'notes.md'), 'mine');
    await assert.rejects(fitFiles({ ...base, out: userDir }), /--out .*results is not a model directory written by `untapped fit` \(no fit\.json of one\); --force replaces only those/);
    assert.equal(fs.readFileSync(path.join(userDir, 'notes.md'), 'utf8'), 'mine');
    const userFile = path.join(dir, 'other.txt');
    fs.writeFileSync(userFile, 'mine');
    await assert.rejects(fitFiles({ ...base, out: userFile }), /is a file, not a model directory/);
    // a .partial holding the user's files is not emptied
    fs.mkdirSync(path.join(dir, 'm.partial'));
    fs.writeFileSync(path.join(dir, 'm.partial', 'data.csv'), 'mine');
    await assert.rejects(fitFiles({ ...base, out: path.join(dir, 'm') }), /m\.partial holds files that an unfinished fit does not write \(data\.csv\)/);
    fs.rmSync(path.join(dir, 'm.partial'), { recursive: true });
    // a model directory is replaced
    const m = path.join(dir, 'm');
    (await fitFiles({ ...base, out: m })).estimator.dispose();
    const first = fs.readFileSync(path.join(m, 'fit.json'), 'utf8');
    (await fitFiles({ ...base, out: m, seed: 5 })).estimator.dispose();
    assert.notEqual(fs.readFileSync(path.join(m, 'fit.json'), 'utf8'), first);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['m', 'other.txt', 'results', 'x.csv', 'y.csv']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fit --hidden: parsed per network, the others keep the defaults; the widths reach the saved model', async () => {
  assert.deepEqual(parseHiddenSpec('qy=20;px=50,50'), { qy: [20], px: [50, 50] });
  assert.deepEqual(parseHiddenSpec(' PX = ; qz=3 '), { px: [], qz: [3] });
  assert.deepEqual(hiddenWith({ px: [] }), { qy: [5], qz: [5], px: [] });
  assert.throws(() => parseHiddenSpec('qy=20;py=3'), /'py=3' is not net=widths with net qy, qz or px/);
  assert.throws(() => parseHiddenSpec('qy=2.5'), /qy width '2.5' is not a whole number ≥ 1/);
  assert.throws(() => parseHiddenSpec('qy=0'), /qy width '0' is not a whole number ≥ 1/);
  assert.throws(() => parseHiddenSpec('qy=4;qy=5'), /qy is given twice/);
  assert.throws(() => parseHiddenSpec(';'), /names no network/);
  const dir = tmp();
  try {
    const { x, y } = toy(30, 7);
    const out = path.join(dir, 'h');
    const r = await fitFiles({ x: write(dir, 'x.csv', ch, x), y: write(dir, 'y.csv', comp, y), unfeatured: 'none', out, epochs: 1, batchSize: 15, hidden: { qy: [7], px: [] } });
    r.estimator.dispose();
    const m = loadFitted(out);
    assert.deepEqual(m.estimator.model.config.hidden, { qy: [7], qz: [5], px: [] });
    // p(x | y, z) without a hidden layer: its parameters are one linear map from (y, z)
    const names = m.estimator.model.params.names();
    assert.deepEqual(names.filter((n) => n.startsWith('px.')), ['px.x.W', 'px.x.b']);
    assert.deepEqual(m.estimator.model.params.get('qy.dense0.W').shape, [D, 7]);
    m.estimator.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
