/**
 * Mends from a fresh user's review of the spectroscopy commands (issue 27): channels compared by
 * name and order, not only by count; pca:k larger than the rows allow refused before anything is
 * written (fit and cv); generate --force never replaces the model directory's own files;
 * predict --plot on a class model refused before predicting; a leftover DIR.partial is a refused
 * output (exit 2); the chart of a chain whose centring was undone names only what remains.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/untapped');
const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** A 30-row table of 20 named channels: three classes, each a band at its own place plus a shared baseline. */
function tables(d: string): { x: string; y: string; cls: string; names: string[]; rows: number[][] } {
  const names = Array.from({ length: 20 }, (_, j) => `nm${1000 + 10 * j}`);
  const rows = Array.from({ length: 30 }, (_, i) => names.map((_, j) => 0.2 + 0.1 * Math.sin(i) + 0.5 * Math.exp(-((j - 4 - 5 * (i % 3)) ** 2) / 3) + 0.01 * Math.cos(7 * i + j)));
  const x = path.join(d, 'x.csv');
  fs.writeFileSync(x, `id,${names.join(',')}\n` + rows.map((r, i) => `s${i},${r.map((v) => v.toFixed(5)).join(',')}`).join('\n') + '\n');
  const y = path.join(d, 'y.csv');
  fs.writeFileSync(y, 'id,a,b\n' + rows.map((_, i) => `s${i},${((i % 5) / 5 + 0.1).toFixed(2)},${(0.9 - (i % 5) / 5).toFixed(2)}`).join('\n') + '\n');
  const cls = path.join(d, 'c.csv');
  fs.writeFileSync(cls, 'id,class\n' + rows.map((_, i) => `s${i},${i % 3}`).join('\n') + '\n');
  return { x, y, cls, names, rows };
}

test('channels are compared by name and order: a reordered or renamed test file is refused, naming the first column that differs', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-r28-'));
  const t = tables(d);
  const m = path.join(d, 'm');
  let r = cli(['fit', '--x', t.x, '--y', t.y, '--epochs', '2', '--out', m]);
  assert.equal(r.code, 0, r.err);
  const rev = path.join(d, 'rev.csv');
  const order = t.names.map((_, j) => t.names.length - 1 - j);
  fs.writeFileSync(rev, `id,${order.map((j) => t.names[j]).join(',')}\n` + t.rows.map((row, i) => `s${i},${order.map((j) => row[j].toFixed(5)).join(',')}`).join('\n') + '\n');
  r = cli(['predict', m, '--x', rev]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /rev\.csv: data column 1 of 20 \(after any id column\) is 'nm1190', but in the model .* it is 'nm1000' \('nm1000' is data column 20 here: the columns are in another order\)/);
  // as unlabelled rows of a fit too; nothing is written
  r = cli(['fit', '--x', t.x, '--y', t.y, '--unlabelled', rev, '--epochs', '1', '--out', path.join(d, 'm2')]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /rev\.csv: data column 1 of 20 .* is 'nm1190', but in .*x\.csv it is 'nm1000'/);
  assert.ok(!fs.existsSync(path.join(d, 'm2')) && !fs.existsSync(path.join(d, 'm2.partial')));
  // the same names in the same order pass
  r = cli(['predict', m, '--x', t.x, '--out', path.join(d, 'p.csv')]);
  assert.equal(r.code, 0, r.err);
});

test('pca:k beyond the rows is refused before anything is written; generate --force keeps the model directory; predict --plot on classes is refused first; a leftover DIR.partial exits 2', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-r28-'));
  const t = tables(d);
  let r = cli(['fit', '--x', t.x, '--y', t.cls, '--labels', 'discrete', '--epochs', '1', '--preprocess', 'pca:40', '--out', path.join(d, 'big')]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /--preprocess pca:40: 30 training rows \(labelled\) of 20 channels have at most 20 principal components; use pca:k with k ≤ 20/);
  assert.ok(!fs.existsSync(path.join(d, 'big')) && !fs.existsSync(path.join(d, 'big.partial')));
  r = cli(['cv', '--x', t.x, '--y', t.cls, '--labels', 'discrete', '--folds', '3', '--epochs', '1', '--preprocess', 'pca:20', '--out', path.join(d, 'cv')]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /--preprocess pca:20: the smallest fold's training rows \(20\) of 20 channels have at most 19 principal components/);
  assert.ok(!fs.existsSync(path.join(d, 'cv')));

  // classes with the default pca: the model directory's own files are never an output, even with --force
  const m = path.join(d, 'm');
  r = cli(['fit', '--x', t.x, '--y', t.cls, '--labels', 'discrete', '--epochs', '2', '--out', m]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /preprocessing pca:\d+ \(the default for classes/);
  const before = fs.readFileSync(path.join(m, 'loss.png'));
  r = cli(['generate', m, '--y', '0', '--out', path.join(m, 'loss'), '--force']);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /loss\.(csv|png|svg|vl\.json)|is an input/);
  assert.deepEqual(fs.readFileSync(path.join(m, 'loss.png')), before);
  // predict --plot on classes: refused before the predictions are written
  const out = path.join(d, 'p.csv');
  r = cli(['predict', m, '--x', t.x, '--y', t.cls, '--plot', path.join(d, 'pv.png'), '--out', out]);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /this model predicts classes/);
  assert.ok(!fs.existsSync(out) && !fs.existsSync(path.join(d, 'pv.png')));
  // a validation fraction that leaves a class without a training row: refused, naming the classes, nothing written
  r = cli(['fit', '--x', t.x, '--y', t.cls, '--labels', 'discrete', '--epochs', '1', '--validation-fraction', '0.95', '--out', path.join(d, 'vf')]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /--validation-fraction 0\.95: holding out 2[89] of the 30 labelled rows leaves [12] to train on, fewer than the 3 classes; no training row would be left for 'class \d'/);
  assert.ok(!fs.existsSync(path.join(d, 'vf')) && !fs.existsSync(path.join(d, 'vf.partial')));
  // an interrupted fit's DIR.partial: a refused output, exit 2
  fs.mkdirSync(path.join(d, 'n.partial'));
  fs.writeFileSync(path.join(d, 'n.partial', 'options.json'), '{}');
  fs.writeFileSync(path.join(d, 'n.partial', 'checkpoint.utp'), 'x');
  r = cli(['fit', '--x', t.x, '--y', t.y, '--epochs', '1', '--out', path.join(d, 'n')]);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /n\.partial holds an interrupted fit; pass --resume/);
});

test('the chart of a chain whose centring is undone names what remains (snv), in generate and in endmembers.png', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-r28-'));
  const t = tables(d);
  const m = path.join(d, 'm');
  let r = cli(['fit', '--x', t.x, '--y', t.y, '--epochs', '2', '--preprocess', 'snv,center', '--out', m]);
  assert.equal(r.code, 0, r.err);
  r = cli(['generate', m, '--y', 'corners', '--out', path.join(d, 'g')]);
  assert.equal(r.code, 0, r.err);
  for (const spec of [path.join(d, 'g.vl.json'), path.join(m, 'endmembers.vl.json')]) {
    const text = fs.readFileSync(spec, 'utf8');
    assert.match(text, /value after 'snv' \(preprocessed space\)/, spec);
    assert.doesNotMatch(text, /snv,center/, spec);
  }
});

test('a bounded target: evaluate scores measured values outside the bounds (leaving out only the labelled bound); sample writes y_<target> inside the bounds', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-r28-'));
  const t = tables(d);
  const fy = path.join(d, 'pct.csv');
  fs.writeFileSync(fy, 'id,moisture\n' + t.rows.map((_, i) => `s${i},${(10 + 2.5 * i).toFixed(2)}`).join('\n') + '\n');
  const m = path.join(d, 'b');
  let r = cli(['fit', '--x', t.x, '--y', fy, '--bounds', '0:100', '--epochs', '3', '--out', m]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /1 real target.*bounds 0:100 \(logit scale\)/);
  assert.match(fs.readFileSync(path.join(m, 'report.md'), 'utf8'), /\| bounds \| 0:100 /);
  const out = path.join(d, 'out.csv');
  fs.writeFileSync(out, 'id,moisture\n' + t.rows.map((_, i) => `s${i},${i === 4 ? 120 : 50}`).join('\n') + '\n');
  r = cli(['evaluate', m, '--x', t.x, '--y', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /out\.csv: line 6 \(id 's4'\) holds 120, outside the model's bounds \(0, 100\) .* the labelled bound \(7\) is left out/);
  assert.match(r.err, /moisture: RMSEP [\d.]+/);
  r = cli(['sample', m, '--n', '20', '--out', path.join(d, 's.csv')]);
  assert.equal(r.code, 0, r.err);
  const lines = fs.readFileSync(path.join(d, 's.csv'), 'utf8').trim().split('\n');
  assert.equal(lines[0].split(',').at(-1), 'y_moisture');
  for (const l of lines.slice(1)) {
    const v = Number(l.split(',').at(-1));
    assert.ok(v > 0 && v < 100, `drawn moisture ${v}`);
  }
});
