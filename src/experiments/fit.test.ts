import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '../engine/rng.js';
import { formatCsv } from '../io/table.js';
import { cornerLabels, fitFiles, generateFromFit, loadFitted, parseLabelArg, predictFile } from './fit.js';
import { setupEngine } from '../testing/helpers.js';

await setupEngine();

const D = 12;

/** A linear-mixing toy: three smooth "endmember" spectra, compositions on the simplex. */
function toy(n: number, seed: number): { x: number[][]; y: number[][]; E: number[][] } {
  const rng = new Rng(seed);
  const E = [0, 1, 2].map((k) => Array.from({ length: D }, (_, j) => 0.2 + 0.6 * Math.exp(-(((j - 2 - 4 * k) / 2.5) ** 2))));
  const y: number[][] = [];
  const x: number[][] = [];
  for (let i = 0; i < n; i++) {
    const g = [0, 1, 2].map(() => -Math.log(rng.nextOpen()));
    const s = g[0] + g[1] + g[2];
    const yi = g.map((v) => v / s);
    y.push(yi);
    x.push(E[0].map((_, j) => yi[0] * E[0][j] + yi[1] * E[1][j] + yi[2] * E[2][j] + 0.005 * (rng.next() - 0.5)));
  }
  return { x, y, E };
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
    for (const f of ['model.utp', 'fit.json', 'loss.png']) assert.ok(fs.existsSync(path.join(dir, 'a', f)), f);
    assert.ok(!fs.existsSync(path.join(dir, 'a.partial')));
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
    await assert.rejects(fitFiles({ ...opts, epochs: 61, out, resume: true }), /options or inputs differ/);
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
