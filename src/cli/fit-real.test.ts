/**
 * `untapped fit` with a real-valued target (one column, e.g. an octane number): detected without
 * --labels, fit → predict (mean and sd per target, RMSEP against --y) → generate at a given value;
 * a continuous target given with --labels simplex is refused naming file, row and column.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/untapped');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env }, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** 30 rows: x of 6 channels a linear function of the octane-like y, plus a little noise (fixed numbers). */
function files(d: string): { x: string; y: string } {
  const xs: string[] = ['id,c0,c1,c2,c3,c4,c5'];
  const ys: string[] = ['id,octane'];
  for (let i = 0; i < 30; i++) {
    const y = 84 + (i * 7) / 29 + 0.01 * Math.sin(7 * i);
    const u = (y - 87.5) / 2;
    xs.push(`s${i},${[0.5, -0.3, 0.8, 0.1, -0.6, 0.2].map((a, j) => (a * u + 0.02 * Math.cos(i * (j + 1))).toFixed(5)).join(',')}`);
    ys.push(`s${i},${y.toFixed(3)}`);
  }
  const x = path.join(d, 'x.csv');
  const y = path.join(d, 'y.csv');
  fs.writeFileSync(x, xs.join('\n') + '\n');
  fs.writeFileSync(y, ys.join('\n') + '\n');
  return { x, y };
}

test('fit with a one-column real target (detected), predict gives octane and octane_sd and RMSEP, generate --y 92 writes the spectrum', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-real-'));
  const { x, y } = files(d);
  const out = path.join(d, 'm');
  let r = cli(['fit', '--x', x, '--y', y, '--out', out, '--epochs', '3', '--unfeatured', 'range:50']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /30 labelled rows × 6 channels, 1 real target, 50 unfeatured labels/);
  const info = JSON.parse(fs.readFileSync(path.join(out, 'fit.json'), 'utf8'));
  assert.equal(info.labels, 'real');
  assert.deepEqual(info.inputs.unfeatured, { range: 50 });
  const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
  assert.equal(cfg.model.labels, 'real');
  const rep = path.join(d, 'rep.json');
  r = cli(['predict', out, '--x', x, '--y', y, '--report', rep]);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  // the report a chemometrician reads: RMSEP, bias, SEP and R² per target, from the printed predictions
  const pred = lines.slice(1).map((l) => Number(l.split(',')[1]));
  const truth = fs.readFileSync(y, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',').at(-1)));
  const e = pred.map((v, i) => v - truth[i]);
  const bias = e.reduce((a, b) => a + b, 0) / e.length;
  const tm = truth.reduce((a, b) => a + b, 0) / truth.length;
  const r2 = 1 - e.reduce((a, b) => a + b * b, 0) / truth.reduce((a, b) => a + (b - tm) ** 2, 0);
  const t = JSON.parse(fs.readFileSync(rep, 'utf8')).perTarget[0];
  assert.ok(Math.abs(t.bias - bias) < 1e-4 && Math.abs(t.r2 - r2) < 1e-4, `report ${JSON.stringify(t)} vs bias ${bias}, R² ${r2}`);
  assert.match(r.err, /octane: RMSEP [\d.]+, bias -?[\d.e-]+, SEP [\d.]+, R² -?[\d.]+/);
  // --plot: predicted against the measured octane as it is (not normalised like a composition)
  r = cli(['predict', out, '--x', x, '--y', y, '--plot', path.join(d, 'pv.png'), '--out', path.join(d, 'p.csv')]);
  assert.equal(r.code, 0, r.err);
  const spec = JSON.parse(fs.readFileSync(path.join(d, 'pv.vl.json'), 'utf8')) as { data?: { values?: { x: number }[] }; layer?: { data?: { values?: { x: number }[] } }[] };
  const pts = spec.data?.values ?? spec.layer?.[0]?.data?.values ?? [];
  assert.deepEqual(pts.map((p) => +p.x.toFixed(3)), truth.map((v) => +v.toFixed(3)));
  // a --plot name that is not a PNG is refused before anything is written
  const bad = cli(['predict', out, '--x', x, '--y', y, '--plot', path.join(d, 'pv.txt')]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--plot .*pv\.txt: give a file name ending in \.png/);
  assert.ok(!fs.existsSync(path.join(d, 'pv.txt')));
  // and the residuals beside it: predicted − measured against measured
  const rs = JSON.parse(fs.readFileSync(path.join(d, 'pv-residuals.vl.json'), 'utf8')) as typeof spec;
  const rp = (rs.data?.values ?? rs.layer?.[0]?.data?.values ?? []) as { x: number; y: number }[];
  rp.forEach((p, i) => assert.ok(Math.abs(p.y - e[i]) < 1e-3 && Math.abs(p.x - truth[i]) < 1e-3, `residual ${i}: ${JSON.stringify(p)} vs ${e[i]}`));
  assert.equal(rp.length, truth.length);
  assert.equal(lines[0], 'id,octane,octane_sd');
  assert.equal(lines.length, 31);
  const [, mean, sd] = lines[1].split(',').map(Number);
  assert.ok(mean > 70 && mean < 100 && sd > 0, lines[1]);
  assert.match(r.err, /RMSEP against .*y\.csv \(30 rows\): \d+\.\d+; per target octane/);
  r = cli(['generate', out, '--y', '92;85', '--out', path.join(d, 'g')]);
  assert.equal(r.code, 0, r.err);
  const g = fs.readFileSync(path.join(d, 'g.csv'), 'utf8').trim().split('\n');
  assert.equal(g.length, 3);
  assert.match(g[1], /^92,/);
  assert.equal(g[1].split(',').length, 7);
  r = cli(['generate', out, '--y', '92,1', '--out', path.join(d, 'g2')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /--y label 1 \('92,1'\) has 2 values; the model has 1 \(octane\)/);
  r = cli(['evaluate', out, '--x', x, '--y', y]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out + r.err, /RMSEP/);
  // M2 (α_r = 0) with real labels
  r = cli(['fit', '--x', x, '--y', y, '--labels', 'real', '--m2', '--out', path.join(d, 'm2'), '--epochs', '2']);
  assert.equal(r.code, 0, r.err);
});

test('a continuous target with --labels simplex is refused naming file, row and column; range: is for real targets', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-real-'));
  const { x, y } = files(d);
  let r = cli(['fit', '--x', x, '--y', y, '--labels', 'simplex', '--out', path.join(d, 'm'), '--epochs', '2']);
  assert.equal(r.code, 1);
  assert.match(r.err, /y\.csv: line 2 \(id 's0'\), column 'octane' is 84: .*continuous target, not a composition.*--labels real/);
  assert.ok(!fs.existsSync(path.join(d, 'm')));
  // two columns with a value outside [0, 1]: refused too, naming the value (with --labels simplex or by default)
  const y2 = path.join(d, 'y2.csv');
  fs.writeFileSync(y2, 'a,b\n' + Array.from({ length: 30 }, (_, i) => `${0.5},${i === 4 ? 3.5 : 0.5}`).join('\n') + '\n');
  for (const extra of [['--labels', 'simplex'], []]) {
    r = cli(['fit', '--x', x, '--y', y2, ...extra, '--out', path.join(d, 'm'), '--epochs', '2']);
    assert.equal(r.code, 1);
    assert.match(r.err, /y2\.csv: line 6, column 'b' is 3\.5: a value outside \[0, 1\] is a continuous target/);
  }
  const y3 = path.join(d, 'y3.csv');
  fs.writeFileSync(y3, 'a,b\n' + Array.from({ length: 30 }, (_, i) => `${i / 29},${1 - i / 29}`).join('\n') + '\n');
  r = cli(['fit', '--x', x, '--y', y3, '--unfeatured', 'range:10', '--out', path.join(d, 'm'), '--epochs', '2']);
  assert.equal(r.code, 1);
  assert.match(r.err, /--unfeatured range:10: a range is for real targets/);
});
