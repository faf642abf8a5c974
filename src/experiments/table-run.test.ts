/**
 * The one run pipeline on a user's table, for every registered model type: the example configs
 * `examples/<type>-table.json` train through the CLI, `evaluate --json` prints one JSON object,
 * `sample` (and `predict` where the model has q(y | x)) run on the run directory, and a run stopped
 * after one epoch and resumed ends bit-identical to an uninterrupted one.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { familyTypes, modelFamily } from '../models/registry.js';
import { RunConfigSchema } from '../config/run.js';
import { readConfigFile } from '../node/data.js';
import { validateConfig } from '../config/validate.js';
import { readUtp } from '../node/files.js';
import { loadSources } from '../node/data.js';
import { loadRunData, resolveSourcePaths, trainRun } from './run.js';
import { setupEngine } from '../testing/helpers.js';

before(setupEngine);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/untapped');
const EXAMPLES = path.join(ROOT, 'examples');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-table-'));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('every registered model type has an example table config that trains, evaluates (--json), samples, predicts and generates (where the math allows; a clear error where not)', () => {
  const d = tmp();
  for (const type of familyTypes()) {
    const cfg = path.join(EXAMPLES, `${type}-table.json`);
    assert.ok(fs.existsSync(cfg), `examples/${type}-table.json is missing`);
    const run = path.join(d, type);
    let r = cli(['train', '--config', cfg, '--epochs', '1', '--out', run, '--iw', '5', '--iw-n', '20']);
    assert.equal(r.code, 0, `${type} train: ${r.err}`);
    r = cli(['evaluate', run, '--json', '--iw', '5']);
    assert.equal(r.code, 0, `${type} evaluate: ${r.err}`);
    const lines = r.out.trim().split('\n');
    assert.equal(lines.length, 1, `${type} evaluate --json prints one line`);
    const ev = JSON.parse(lines[0]) as { type: string; testElbo: number; iw: { mean: number }; testError?: number };
    assert.equal(ev.type, type);
    assert.ok(Number.isFinite(ev.testElbo) && ev.testElbo < 0 + 1e9, `${type}: test ELBO ${ev.testElbo}`);
    const use = modelFamily(type).labelUse(readConfigFile(RunConfigSchema, path.join(run, 'config.json')).model as never);
    if (use === 'semi-supervised') assert.ok(ev.testError !== undefined && ev.testError >= 0 && ev.testError <= 1, `${type}: test error reported`);
    const samples = path.join(d, `${type}-samples.csv`);
    r = cli(['sample', run, '--out', samples, '--n', '6']);
    assert.equal(r.code, 0, `${type} sample: ${r.err}`);
    assert.equal(fs.readFileSync(samples, 'utf8').trim().split('\n').length, 7, `${type}: header + 6 sample rows`);
    r = cli(['predict', run, '--x', path.join(EXAMPLES, 'table.csv')]);
    if (use === 'semi-supervised') {
      assert.equal(r.code, 0, `${type} predict: ${r.err}`);
      const rows = r.out.trim().split('\n');
      assert.equal(rows.length, 301);
      const p = rows[1].split(',').slice(1, -1).map(Number);
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-4, `${type}: class probabilities sum to 1`);
    } else {
      assert.equal(r.code, 1, `${type} predict has no q(y | x)`);
      assert.match(r.err, /has no q\(y \| x\)/);
    }
    r = cli(['generate', run, '--y', '0;2', '--out', path.join(d, `${type}-g`)]);
    if (use === 'semi-supervised') {
      assert.equal(r.code, 0, `${type} generate: ${r.err}`);
      assert.equal(fs.readFileSync(path.join(d, `${type}-g.csv`), 'utf8').trim().split('\n').length, 3, `${type}: header + 2 generated rows`);
    } else {
      assert.equal(r.code, 2, `${type} generate`);
      assert.match(r.err, /no label to generate from/);
    }
  }
});

test('a run stopped after one epoch and resumed ends bit-identical to an uninterrupted run, for every model type', async () => {
  const d = tmp();
  for (const type of familyTypes()) {
    const file = path.join(EXAMPLES, `${type}-table.json`);
    const base = resolveSourcePaths(readConfigFile(RunConfigSchema, file), EXAMPLES);
    const cfg = validateConfig(RunConfigSchema, { ...base, train: { ...base.train, epochs: 2, batchSize: 50 } }, file);
    const straight = await trainRun(cfg, path.join(d, `${type}-a`), { progress: { silent: true } });
    straight.model.dispose();
    const first = await trainRun(cfg, path.join(d, `${type}-b`), { epochs: 1, progress: { silent: true } });
    first.model.dispose();
    const resumed = await trainRun(cfg, path.join(d, `${type}-b`), { resume: true, epochs: 2, progress: { silent: true } });
    resumed.model.dispose();
    const log = fs.readFileSync(path.join(d, `${type}-b`, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; epoch?: number });
    assert.ok(log.some((r) => r.type === 'resume' && r.epoch === 1), `${type}: the second run resumed from the epoch-1 checkpoint`);
    const a = readUtp(path.join(d, `${type}-a`, 'checkpoint.utp'));
    const b = readUtp(path.join(d, `${type}-b`, 'checkpoint.utp'));
    assert.deepEqual([...a.tensors.keys()].sort(), [...b.tensors.keys()].sort());
    for (const [k, t] of a.tensors) assert.deepEqual(Buffer.from(b.tensors.get(k)!.data.buffer), Buffer.from(t.data.buffer), `${type}: ${k} differs after resume`);
  }
});

test('a CSV label column with empty cells: those rows are unlabelled rows of the same table; predict scores only the labelled ones; a table with no label at all is an error', () => {
  const d = tmp();
  const f = path.join(d, 'p.csv');
  const rows = ['id,a,b,class'];
  for (let i = 0; i < 40; i++) rows.push(`r${i},${(0.1 + (i % 7) * 0.1).toFixed(2)},${(0.9 - (i % 5) * 0.1).toFixed(2)},${i % 4 === 0 ? i % 8 === 0 ? 0 : 1 : ''}`);
  fs.writeFileSync(f, rows.join('\n') + '\n');
  const s = loadSources({ labelled: { x: f, labelColumn: 'class' } }, d, 0);
  assert.equal(s.labelled!.n, 10, 'the 10 rows with a label');
  assert.deepEqual(Array.from(s.labelled!.y), [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  assert.equal(s.unlabelled!.n, 30, 'the 30 rows with an empty label');
  assert.ok(Array.from(s.unlabelled!.y).every((v) => v === -1));
  assert.deepEqual(Array.from(s.unlabelled!.x.subarray(0, 2)), [Math.fround(0.2), Math.fround(0.8)], 'row r1 (a 0.2, b 0.8) is the first unlabelled row');
  // a typo is still an error, an empty cell of an input column too
  fs.writeFileSync(path.join(d, 'q.csv'), 'id,a,b,class\nr1,0.1,0.2,0\nr2,0.3,,1\n');
  assert.throws(() => loadSources({ labelled: { x: path.join(d, 'q.csv'), labelColumn: 'class' } }, d, 0), /q\.csv: line 3, column 3 \('b'\) is empty/);
  fs.writeFileSync(path.join(d, 'e.csv'), 'id,a,class\nr1,0.1,\nr2,0.3,\n');
  assert.throws(() => loadSources({ labelled: { x: path.join(d, 'e.csv'), labelColumn: 'class' } }, d, 0), /every row's 'class' is empty/);
  const cfg = path.join(d, 'm2.json');
  fs.writeFileSync(cfg, JSON.stringify({ model: { type: 'm2', latent: 2, hidden: [8] }, sources: { labelled: { x: 'p.csv', labelColumn: 'class' } }, train: { epochs: 1, batchSize: 10 } }));
  let r = cli(['train', '--config', cfg, '--out', path.join(d, 'run'), '--no-report']);
  assert.equal(r.code, 0, r.err);
  r = cli(['predict', path.join(d, 'run'), '--x', f]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim().split('\n').length, 41, 'every row predicted');
  assert.match(r.err, /\(10 rows; 30 with an empty label predicted, not scored\)/);
});

test('class names in a CSV label column: classes sorted by name, the names kept with the run for evaluate and predict; an unknown name or a mix with indices is an error naming the file', () => {
  const d = tmp();
  const f = path.join(d, 'n.csv');
  const rows = ['id,a,b,condition'];
  const names = ['normal', 'fault-2', 'fault-10'];
  for (let i = 0; i < 36; i++) rows.push(`r${i},${((i % 3) * 0.3 + 0.05).toFixed(2)},${(0.2 + (i % 4) * 0.1).toFixed(2)},${i % 6 === 5 ? '' : names[i % 3]}`);
  fs.writeFileSync(f, rows.join('\n') + '\n');
  const s = loadSources({ labelled: { x: f, labelColumn: 'condition' } }, d, 0);
  assert.deepEqual(s.classNames, ['fault-2', 'fault-10', 'normal'], 'sorted by name, numbers in names in numeric order');
  assert.equal(s.classes, 3);
  assert.equal(s.labelled!.y[0], 2, "row r0 is 'normal', class 2");
  assert.equal(s.labelled!.y[1], 0, "row r1 is 'fault-2', class 0");
  assert.equal(s.unlabelled!.n, 6, 'the rows with an empty label');
  fs.writeFileSync(path.join(d, 't.csv'), 'id,a,b,condition\nt1,0.1,0.2,normal\nt2,0.3,0.4,fault-3\n');
  assert.throws(() => loadSources({ labelled: { x: f, labelColumn: 'condition' }, test: { x: path.join(d, 't.csv'), labelColumn: 'condition' } }, d, 0), /t\.csv: line 3 \(id 't2'\), column 'condition' is 'fault-3', not a class of the labelled rows \(fault-2, fault-10, normal\)/);
  fs.writeFileSync(path.join(d, 'i.csv'), 'id,a,b,condition\nt1,0.1,0.2,1\nt2,0.3,0.4,0\n');
  assert.throws(() => loadSources({ labelled: { x: path.join(d, 'i.csv'), labelColumn: 'condition' }, test: { x: f, labelColumn: 'condition' } }, d, 0), /the test labels are class names, but the labelled rows have class indices/);
  const cfg = path.join(d, 'm2.json');
  fs.writeFileSync(cfg, JSON.stringify({ model: { type: 'm2', latent: 2, hidden: [8] }, sources: { labelled: { x: 'n.csv', labelColumn: 'condition' }, test: { fraction: 0.3 } }, train: { epochs: 1, batchSize: 10 } }));
  let r = cli(['train', '--config', cfg, '--out', path.join(d, 'run'), '--no-report']);
  assert.equal(r.code, 0, r.err);
  r = cli(['evaluate', path.join(d, 'run'), '--json', '--iw', '2']);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual((JSON.parse(r.out) as { classNames: string[] }).classNames, ['fault-2', 'fault-10', 'normal']);
  r = cli(['predict', path.join(d, 'run'), '--x', f]);
  assert.equal(r.code, 0, r.err);
  const out = r.out.trim().split('\n');
  assert.equal(out[0], 'id,p_fault-2,p_fault-10,p_normal,class,class_name');
  for (const line of out.slice(1)) {
    const cells = line.split(',');
    assert.equal(cells[5], ['fault-2', 'fault-10', 'normal'][Number(cells[4])], 'class_name is the name of the predicted class');
  }
  assert.match(r.err, /classes 0 = 'fault-2', 1 = 'fault-10', 2 = 'normal'/);
  r = cli(['sample', path.join(d, 'run'), '--out', path.join(d, 's.csv'), '--n', '3', '--class', 'fault-10']);
  assert.equal(r.code, 0, r.err);
  const sampled = fs.readFileSync(path.join(d, 's.csv'), 'utf8').trim().split('\n');
  assert.deepEqual(sampled[0].split(',').slice(-2), ['class', 'class_name']);
  assert.ok(sampled.slice(1).every((l) => l.endsWith(',1,fault-10')), 'every draw of class 1, fault-10');
  r = cli(['sample', path.join(d, 'run'), '--out', path.join(d, 's2.csv'), '--class', 'fault-3']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--class 'fault-3' is not a class of this model: 0 or 'fault-2', 1 or 'fault-10', 2 or 'normal'/);
  // a word in a column of class indices is a typo, not a switch to names; NA is a missing label
  fs.writeFileSync(path.join(d, 'typo.csv'), 'id,a,class\nr1,0.1,0\nr2,0.3,1\nr3,0.2,l\nr4,0.4,NA\n');
  assert.throws(() => loadSources({ labelled: { x: path.join(d, 'typo.csv'), labelColumn: 'class' } }, d, 0), /typo\.csv: line 4 \(id 'r3'\), column 'class' is 'l', but line 2 \(id 'r1'\) is the number 0: a label column holds class indices 0…K−1 or class names, not both/);
  fs.writeFileSync(path.join(d, 'na.csv'), 'id,a,class\nr1,0.1,0\nr2,0.3,1\nr3,0.2,NA\nr4,0.4,nan\n');
  const na = loadSources({ labelled: { x: path.join(d, 'na.csv'), labelColumn: 'class' } }, d, 0);
  assert.equal(na.labelled!.n, 2);
  assert.equal(na.unlabelled!.n, 2, 'NA and nan are missing labels');
  // a test table with some empty labels: every row evaluated, only the labelled ones scored
  fs.writeFileSync(path.join(d, 'test.csv'), ['id,a,b,condition', 't1,0.05,0.2,normal', 't2,0.35,0.3,', 't3,0.65,0.4,fault-2', 't4,0.05,0.5,'].join('\n') + '\n');
  fs.writeFileSync(cfg, JSON.stringify({ model: { type: 'm2', latent: 2, hidden: [8] }, sources: { labelled: { x: 'n.csv', labelColumn: 'condition' }, test: { x: 'test.csv', labelColumn: 'condition' } }, train: { epochs: 1, batchSize: 10 } }));
  r = cli(['train', '--config', cfg, '--out', path.join(d, 'run2'), '--no-report']);
  assert.equal(r.code, 0, r.err);
  r = cli(['evaluate', path.join(d, 'run2'), '--json', '--iw', '2']);
  assert.equal(r.code, 0, r.err);
  const ev = JSON.parse(r.out) as { n: number; testScored: number; confusion: number[][] };
  assert.equal(ev.n, 4, 'the bound on every test row');
  assert.equal(ev.testScored, 2, 'the error on the two with a label');
  assert.equal(ev.confusion.flat().reduce((a, b) => a + b, 0), 2);
});

test('table sources: a missing label column, a class with no row, and Bernoulli data outside [0, 1] are errors naming the file', () => {
  const d = tmp();
  const f = path.join(d, 't.csv');
  fs.writeFileSync(f, 'id,a,b,label\nr1,0.1,0.2,0\nr2,0.3,0.4,2\nr3,0.5,1.6,0\n');
  assert.throws(() => loadSources({ labelled: { x: f, labelColumn: 'class' } }, d, 0), /t\.csv: no column 'class'/);
  assert.throws(() => loadSources({ labelled: { x: f, labelColumn: 'label' } }, d, 0), /class 1 of 0…2 \(from the largest label\) has no row/);
  assert.throws(() => loadSources({ unlabelled: { x: f, labelColumn: 'label' } }, d, 0, { unitInterval: 'Bernoulli' }), /t\.csv: line 4 \(id 'r3'\), column 'b' is 1\.6\d*, outside \[0, 1\]/);
  const ok = loadSources({ unlabelled: { x: f, labelColumn: 'label' } }, d, 0);
  assert.equal(ok.unlabelled!.dim, 2);
  assert.deepEqual(ok.columns, ['a', 'b']);
});

test('perClass keeps n labelled rows per class and makes the rest unlabelled; a test fraction is held out first', () => {
  const s = loadSources({ labelled: { x: path.join(EXAMPLES, 'table.csv'), labelColumn: 'class', perClass: 10 }, test: { fraction: 0.2 } }, EXAMPLES, 1);
  assert.equal(s.test!.n, 60);
  assert.equal(s.labelled!.n, 30);
  assert.equal(s.unlabelled!.n, 210);
  assert.equal(s.classes, 3);
  const counts = [0, 0, 0];
  for (const c of s.labelled!.y) counts[c]++;
  assert.deepEqual(counts, [10, 10, 10]);
  assert.ok(s.unlabelled!.y.every((v) => v === -1));
});

test('an unknown model type names the registered ones', () => {
  assert.throws(() => validateConfig(RunConfigSchema, { model: { type: 'nonesuch' } }, 'c.json'), /model\.type: 'nonesuch' is not one of the valid values; valid: 'vae', 'avae', 'lvae', 'm2', 'adgm', 'sdgm'/);
});

test('the untapped model trains from examples/untapped-table.json; evaluate --json on test rows and on its own rows (IW log-likelihood), sample, predict and generate run on it', () => {
  const d = tmp();
  const run = path.join(d, 'untapped');
  let r = cli(['train', '--config', path.join(EXAMPLES, 'untapped-table.json'), '--epochs', '1', '--out', run]);
  assert.equal(r.code, 0, r.err);
  r = cli(['evaluate', run, '--json', '--x', path.join(EXAMPLES, 'table-test-x.csv'), '--y', path.join(EXAMPLES, 'table-test-y.csv')]);
  assert.equal(r.code, 0, r.err);
  const ev = JSON.parse(r.out.trim()) as { type: string; n: number; bounds: { labelled: number; unlabelled: number }; scores: { error: number } };
  assert.equal(ev.type, 'untapped');
  assert.equal(ev.n, 60);
  assert.ok(Number.isFinite(ev.bounds.labelled) && Number.isFinite(ev.bounds.unlabelled));
  assert.ok(ev.scores.error >= 0 && ev.scores.error <= 1);
  // without --x: on the rows it was fitted on, with the IW log-likelihood as for every run
  r = cli(['evaluate', run, '--json', '--iw', '20']);
  assert.equal(r.code, 0, r.err);
  const own = JSON.parse(r.out.trim()) as { on: string; n: number; bounds: { unlabelled: number }; iw: { k: number; mean: number } };
  assert.equal(own.on, 'training');
  assert.equal(own.n, 30, 'the 30 labelled rows of table-labelled-x.csv');
  assert.equal(own.iw.k, 20);
  // IWAE(20) of log p(x) lies above the unlabelled bound (8) on the same rows (up to Monte Carlo noise)
  assert.ok(own.iw.mean >= own.bounds.unlabelled - 0.5, `IW ${own.iw.mean} vs bound (8) ${own.bounds.unlabelled}`);
  r = cli(['evaluate', run, '--y', path.join(EXAMPLES, 'table-test-y.csv')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--y gives the labels of the --x rows; give --x too/);
  const samples = path.join(d, 'u.csv');
  r = cli(['sample', run, '--out', samples, '--n', '5', '--class', '1']);
  assert.equal(r.code, 0, r.err);
  const lines = fs.readFileSync(samples, 'utf8').trim().split('\n');
  assert.equal(lines.length, 6);
  assert.ok(lines.slice(1).every((l) => l.endsWith(',1,class 1')), 'every draw is of class 1, named');
  r = cli(['sample', run, '--out', path.join(d, 'u.png')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /write the samples as CSV/);
  r = cli(['predict', run, '--x', path.join(EXAMPLES, 'table-test-x.csv')]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim().split('\n').length, 61);
  r = cli(['generate', run, '--y', '0,1,0', '--out', path.join(d, 'g')]);
  assert.equal(r.code, 0, r.err);
  assert.ok(fs.existsSync(path.join(d, 'g.csv')));
});

test('inconsistent sources are errors naming the file or key: columns differ, an unseen test class, labels a model cannot use, data and sources together', () => {
  const d = tmp();
  const a = path.join(d, 'a.csv');
  const b = path.join(d, 'b.csv');
  const t = path.join(d, 't.csv');
  fs.writeFileSync(a, 'id,x1,x2,class\nr1,0.1,0.2,0\nr2,0.3,0.4,1\nr3,0.5,0.6,0\nr4,0.7,0.8,1\n');
  fs.writeFileSync(b, 'id,x1,x3\nu1,0.1,0.2\n');
  fs.writeFileSync(t, 'id,x1,x2,class\nt1,0.1,0.2,2\n');
  assert.throws(() => loadSources({ labelled: { x: a, labelColumn: 'class' }, unlabelled: { x: b } }, d, 0), /b\.csv: input column 2 is 'x3' but 'x2' in .*a\.csv/);
  assert.throws(() => loadSources({ labelled: { x: a, labelColumn: 'class' }, test: { x: t, labelColumn: 'class' } }, d, 0), /t\.csv: line 2 \(id 't1'\): class 2, but the labelled rows have classes 0…1 only/);
  assert.throws(() => loadSources({ labelled: { x: a } }, d, 0), /sources\.labelled: give the labels as labelColumn/);
  assert.throws(() => loadSources({ labelled: { x: a, labelColumn: 'class' }, test: { fraction: 0.9 } }, d, 0), /sources\.test\.fraction 0\.9 holds out all 2 rows of class 0/);
  assert.throws(() => validateConfig(RunConfigSchema, { data: {}, sources: { unlabelled: { x: a } } }, 'c.json'), /sources: give the data either as data \(MNIST\) or as sources \(tables\), not both/);
  const ssl = validateConfig(RunConfigSchema, { model: { type: 'm2' }, sources: { unlabelled: { x: b } } }, 'c.json');
  assert.throws(() => loadRunData(ssl), /model type 'm2' needs labelled rows/);
  const cvae = validateConfig(RunConfigSchema, { model: { type: 'vae', conditional: 2 }, sources: { labelled: { x: a, labelColumn: 'class', perClass: 1 } } }, 'c.json');
  assert.throws(() => loadRunData(cvae), /conditional > 0 models p\(x \| y\): every training row needs a label/);
  const vaeAlpha = validateConfig(RunConfigSchema, { model: { type: 'vae' }, objective: { alpha: 3 }, sources: { unlabelled: { x: b } } }, 'c.json');
  assert.throws(() => modelFamily('vae').checkObjective(vaeAlpha.model as never, vaeAlpha.objective), /objective\.alpha applies to the semi-supervised models/);
});

test('test.fraction is stratified by class and never takes a whole class; a VAE holds it out of its unlabelled table', () => {
  const d = tmp();
  const f = path.join(d, 's.csv');
  const rows = ['id,a,b,class'];
  for (let i = 0; i < 20; i++) rows.push(`r${i},${(i % 7) / 10},${(i % 5) / 10},${i < 10 ? 0 : i < 17 ? 1 : 2}`);
  fs.writeFileSync(f, rows.join('\n') + '\n');
  const s = loadSources({ labelled: { x: f, labelColumn: 'class' }, test: { fraction: 0.3 } }, d, 4);
  const count = (y: Int32Array) => [0, 1, 2].map((c) => y.filter((v) => v === c).length);
  assert.deepEqual(count(s.test!.y), [3, 2, 1], 'round(0.3·n_c) per class: 10, 7, 3 rows');
  assert.deepEqual(count(s.labelled!.y), [7, 5, 2]);
  assert.equal(s.classes, 3);
  assert.throws(() => loadSources({ labelled: { x: f, labelColumn: 'class' }, test: { fraction: 0.9 } }, d, 4), /sources\.test\.fraction 0\.9 holds out all 3 rows of class 2/);
  assert.throws(() => loadSources({ labelled: { x: f, labelColumn: 'class', perClass: 4 } , test: { fraction: 0.5 } }, d, 4), /sources\.labelled\.perClass is 4, but class 1 has only 3 rows .* after the test rows are held out/);
  const u = loadSources({ unlabelled: { x: f, labelColumn: 'class' }, test: { fraction: 0.25 } }, d, 4);
  assert.equal(u.test!.n, 5);
  assert.equal(u.unlabelled!.n, 15);
});

test('a run refuses to evaluate on changed data; predict names a label outside the classes and a renamed column; resume names the changed keys', async () => {
  const d = tmp();
  const table = path.join(d, 't.csv');
  fs.copyFileSync(path.join(EXAMPLES, 'table.csv'), table);
  const base = resolveSourcePaths(readConfigFile(RunConfigSchema, path.join(EXAMPLES, 'm2-table.json')), EXAMPLES);
  const cfg = validateConfig(RunConfigSchema, { ...base, sources: { ...base.sources, labelled: { ...base.sources!.labelled!, x: table } }, train: { ...base.train, epochs: 1 } }, 'm2.json');
  const run = await trainRun(cfg, path.join(d, 'run'), { progress: { silent: true } });
  run.model.dispose();
  const lines = fs.readFileSync(table, 'utf8').split('\n');
  const bad = path.join(d, 'bad.csv');
  fs.writeFileSync(bad, lines.map((l, i) => (i === 3 ? l.replace(/,\d$/, ',5') : l)).join('\n'));
  let r = cli(['predict', path.join(d, 'run'), '--x', bad]);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad\.csv: line 4 \(id '\w+'\), column 'class' is 5, not a class of this model \(0…2\)/);
  const renamed = path.join(d, 'renamed.csv');
  fs.writeFileSync(renamed, lines.map((l, i) => (i === 2 ? l.replace('ch3', 'chX') : l)).join('\n'));
  r = cli(['predict', path.join(d, 'run'), '--x', renamed]);
  assert.equal(r.code, 1);
  assert.match(r.err, /input column 3 is 'chX' but the run was trained with 'ch3'/);
  fs.appendFileSync(table, 's999,' + Array(24).fill('0.5').join(',') + ',1\n');
  r = cli(['evaluate', path.join(d, 'run'), '--json', '--iw', '2']);
  assert.equal(r.code, 1);
  assert.match(r.err, /t\.csv has changed since .* was trained \(SHA-256 differs\)/);
  const changed = validateConfig(RunConfigSchema, { ...cfg, model: { ...cfg.model, latent: 3 }, train: { ...cfg.train, seed: 9 } }, 'm2.json');
  await assert.rejects(trainRun(changed, path.join(d, 'run'), { resume: true, progress: { silent: true } }), /differs from the run's config\.json at model\.latent, train\.seed/);
});
