/**
 * Members of issue 24's kinds found by a review after the fixes: a huge class value fails at once
 * (no allocation of a billion classes), `fit --force` never deletes the user's files inside a model
 * directory, and a chart's SVG and spec beside its PNG are outputs that need --force too. Later
 * mends: number flags, fit --resume while another fit holds the lock, train --resume with fewer epochs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSources } from '../node/data.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/untapped');
const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('a class value of 1e9 is an error naming its line at once, in fit and in table sources', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-mend-'));
  fs.writeFileSync(path.join(d, 'x.csv'), 'id,a,b\nr0,0.1,0.2\nr1,0.3,0.1\nr2,0.5,0.6\n');
  fs.writeFileSync(path.join(d, 'l.csv'), 'id,label\nr0,0\nr1,1\nr2,1e9\n');
  const r = cli(['fit', '--labels', 'discrete', '--x', path.join(d, 'x.csv'), '--y', path.join(d, 'l.csv'), '--epochs', '1', '--out', path.join(d, 'm')]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /l\.csv: line 4 \(id 'r2'\): class 1000000000 makes 1000000001 classes/);
  fs.writeFileSync(path.join(d, 't.csv'), 'id,a,b,class\nr0,0.1,0.2,0\nr1,0.3,0.1,1\nr2,0.5,0.6,1000000000\n');
  assert.throws(() => loadSources({ labelled: { x: path.join(d, 't.csv'), labelColumn: 'class' } }, d, 0), /labelled row 3 \(r2\) has class 1000000000, which makes 1000000001 classes .* for 3 rows/);
});

test('fit --force refuses a model directory that holds the user\'s files; generate and predict --plot refuse an existing SVG or spec without --force', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-mend-'));
  const rows = Array.from({ length: 12 }, (_, i) => `r${i},${(i % 5) / 5},${(i % 3) / 3},${(i % 4) / 4}`);
  fs.writeFileSync(path.join(d, 'x.csv'), 'id,a,b,c\n' + rows.join('\n') + '\n');
  fs.writeFileSync(path.join(d, 'y.csv'), 'id,p,q\n' + rows.map((_, i) => `r${i},${(i % 4) / 4},${1 - (i % 4) / 4}`).join('\n') + '\n');
  const m = path.join(d, 'm');
  let r = cli(['fit', '--x', path.join(d, 'x.csv'), '--y', path.join(d, 'y.csv'), '--epochs', '1', '--out', m]);
  assert.equal(r.code, 0, r.err);
  fs.writeFileSync(path.join(m, 'notes.md'), 'mine\n');
  r = cli(['fit', '--x', path.join(d, 'x.csv'), '--y', path.join(d, 'y.csv'), '--epochs', '1', '--out', m, '--force']);
  assert.equal(r.code, 2);
  assert.match(r.err, /also holds files fit did not write \(notes\.md\); --force would delete them/);
  assert.equal(fs.readFileSync(path.join(m, 'notes.md'), 'utf8'), 'mine\n');
  fs.rmSync(path.join(m, 'notes.md'));
  r = cli(['fit', '--x', path.join(d, 'x.csv'), '--y', path.join(d, 'y.csv'), '--epochs', '1', '--out', m, '--force']);
  assert.equal(r.code, 0, `a model directory of fit's own files is replaced: ${r.err}`);
  fs.writeFileSync(path.join(d, 'g.svg'), 'mine\n');
  r = cli(['generate', m, '--y', '0.5,0.5', '--out', path.join(d, 'g')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /g\.svg already exists/);
  assert.equal(fs.readFileSync(path.join(d, 'g.svg'), 'utf8'), 'mine\n');
  fs.writeFileSync(path.join(d, 'pl.vl.json'), 'mine\n');
  r = cli(['predict', m, '--x', path.join(d, 'x.csv'), '--y', path.join(d, 'y.csv'), '--plot', path.join(d, 'pl.png')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /pl\.vl\.json already exists/);
});

test('a number flag that is not a number names the flag; fit --resume while another fit writes --out names that process; train --resume --epochs below the done epochs refuses', async () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-mend-'));
  const EX = path.resolve(path.dirname(BIN), '../examples');
  const fitArgs = ['fit', '--labels', 'discrete', '--x', path.join(EX, 'table-labelled-x.csv'), '--y', path.join(EX, 'table-labelled-y.csv'), '--epochs', '2'];
  let r = cli([...fitArgs, '--lr', 'abc', '--out', path.join(d, 'm')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--lr must be a number, got 'abc'/);
  // a live process holds the lock of --out: resume and a fresh fit both name it (not "no interrupted fit")
  const out = path.join(d, 'busy');
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  await new Promise((res) => other.once('spawn', res));
  try {
    fs.writeFileSync(`${out}.lock`, JSON.stringify({ pid: other.pid, host: os.hostname(), started: '2026-01-01T00:00:00Z', argv: ['fit', '--out', out] }));
    for (const extra of [['--resume'], []]) {
      r = cli([...fitArgs, '--out', out, ...extra]);
      assert.equal(r.code, 1, extra.join(' '));
      assert.match(r.err, new RegExp(`model directory .*busy is in use by another untapped process \\(pid ${other.pid}`), extra.join(' '));
    }
  } finally {
    other.kill('SIGKILL');
    await new Promise((res) => other.once('exit', res));
  }
  const run = path.join(d, 'run');
  r = cli(['train', '--config', path.join(EX, 'vae-table.json'), '--epochs', '2', '--out', run, '--no-report']);
  assert.equal(r.code, 0, r.err);
  r = cli(['train', '--resume', '--out', run, '--epochs', '1', '--no-report']);
  assert.equal(r.code, 1);
  assert.match(r.err, /has already trained 2 epochs; --epochs 1 is fewer/);
});

test('review mends: experiment --out refuses a train run or another experiment; fit --resume on a finished fit says so; evaluate without --x leaves the validation rows out; sample of a composition fit writes its y; simulate refuses a directory or .csv as prefix', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-mend-'));
  const EX = path.resolve(path.dirname(BIN), '../examples');
  const run = path.join(d, 'run');
  let r = cli(['train', '--config', path.join(EX, 'vae-table.json'), '--epochs', '1', '--out', run, '--no-report']);
  assert.equal(r.code, 0, r.err);
  r = cli(['experiment', 'potential-avae', '--out', run]);
  assert.equal(r.code, 2);
  assert.match(r.err, /holds a model \(a train run\), not the output of an experiment/);
  fs.mkdirSync(path.join(d, 'exp'));
  fs.writeFileSync(path.join(d, 'exp', '.untapped-experiment.json'), JSON.stringify({ experiment: 'crism' }));
  r = cli(['experiment', 'potential-avae', '--out', path.join(d, 'exp')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /holds the output of experiment crism, not of potential-avae/);
  // a composition fit with validation rows
  const pre = path.join(d, 'c');
  r = cli(['simulate', 'crism', '--out', pre, '--n', '60']);
  assert.equal(r.code, 0, r.err);
  const fitArgs = ['fit', '--x', `${pre}-x.csv`, '--y', `${pre}-y.csv`, '--epochs', '2', '--validation-fraction', '0.25', '--out', path.join(d, 'm')];
  r = cli(fitArgs);
  assert.equal(r.code, 0, r.err);
  r = cli([...fitArgs, '--resume']);
  assert.equal(r.code, 2);
  assert.match(r.err, /holds a finished fit \(2 epochs\); --resume continues only an interrupted one/);
  r = cli(['evaluate', path.join(d, 'm'), '--json', '--iw', '3', '--n', '5']);
  assert.equal(r.code, 0, r.err);
  const ev = JSON.parse(r.out) as { n: number; validationRowsLeftOut: number; scores: { coverage?: unknown; kl: number } };
  assert.equal(ev.validationRowsLeftOut, 15);
  assert.equal(ev.n, 45);
  assert.equal(ev.scores.coverage, undefined, 'no coverage on training rows');
  r = cli(['sample', path.join(d, 'm'), '--out', path.join(d, 's.csv'), '--n', '4']);
  assert.equal(r.code, 0, r.err);
  const lines = fs.readFileSync(path.join(d, 's.csv'), 'utf8').trim().split('\n');
  assert.deepEqual(lines[0].split(',').slice(-3), ['y_olivine', 'y_diopside', 'y_bytownite']);
  for (const l of lines.slice(1)) {
    const y = l.split(',').slice(-3).map(Number);
    assert.ok(Math.abs(y[0] + y[1] + y[2] - 1) < 1e-4 && y.every((v) => v >= 0), `a composition: ${y}`);
  }
  r = cli(['simulate', 'libs', '--out', path.join(d, 'l.csv')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /give the prefix without \.csv/);
  r = cli(['simulate', 'crism', '--out', `${d}/`]);
  assert.equal(r.code, 2);
  assert.match(r.err, /is a directory; give a file prefix/);
});
