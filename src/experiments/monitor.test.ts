import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setupEngine } from '../testing/helpers.js';
import { RunConfigSchema } from '../config/run.js';
import { validateConfig } from '../config/validate.js';
import { formatCsv } from '../io/table.js';
import { PV_CHANNELS, PV_CONDITIONS, simulatePvPlant, type PvCondition } from './pv-plant.js';
import { loadRun, predictRun, trainRun } from './run.js';
import { scoreTable } from './monitor.js';

await setupEngine();

/** A simulated PV record as a CSV (timestamp, channels, condition). */
function pvCsv(file: string, rows: number, seed: number, conditions: PvCondition[], edit?: (lines: string[]) => string[]): string {
  const d = simulatePvPlant({ rows, seed, shares: Object.fromEntries(conditions.map((c) => [c, 1])) });
  const x = Array.from({ length: d.n }, (_, i) => d.x.subarray(i * PV_CHANNELS.length, (i + 1) * PV_CHANNELS.length));
  let text = formatCsv([...PV_CHANNELS], x, { name: 'timestamp', cells: d.timestamps }, 6, { name: 'condition', cells: Array.from(d.y, (k) => PV_CONDITIONS[k]) });
  if (edit) text = edit(text.trimEnd().split('\n')).join('\n') + '\n';
  fs.writeFileSync(file, text);
  return file;
}

test('score: a VAE trained on normal days flags snow rows and few normal ones; the threshold is the training ELBOs\' quantile; bad tables name file, row and column', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-score-'));
  try {
    const train = pvCsv(path.join(dir, 'train.csv'), 2400, 1, ['N', 'C']);
    const cfg = validateConfig(RunConfigSchema, { model: { type: 'vae', latent: [3], hidden: [[32]], likelihood: 'gaussian' }, sources: { unlabelled: { x: train, labelColumn: 'condition' }, standardize: true }, train: { epochs: 15, batchSize: 100, lr: 0.003, seed: 1 } }, 't');
    const run = await trainRun(cfg, path.join(dir, 'run'));
    run.model.dispose();
    const runDir = path.join(dir, 'run');

    const normal = scoreTable(runDir, pvCsv(path.join(dir, 'normal.csv'), 900, 2, ['N', 'C']), { falseAlarm: 0.02 });
    assert.equal(normal.trainFlagged, Math.floor(0.02 * normal.trainRows));
    assert.equal(normal.idColumn, 'timestamp');
    assert.ok(normal.times && normal.times.length === 900);
    const share = (s: typeof normal) => s.flagged.reduce((a, b) => a + b, 0) / s.n;
    const snow = scoreTable(runDir, pvCsv(path.join(dir, 'snow.csv'), 600, 3, ['S']), { falseAlarm: 0.02, newLabels: true });
    assert.ok(share(snow) > 0.8, `snow rows flagged: ${share(snow)}`);
    assert.ok(share(normal) < 0.25, `normal rows of other days flagged: ${share(normal)}`);
    // a calibration table of held-out normal rows sets the threshold instead: its quantile, on its rows
    const calFile = pvCsv(path.join(dir, 'cal.csv'), 700, 6, ['N', 'C']);
    const cal = scoreTable(runDir, path.join(dir, 'normal.csv'), { falseAlarm: 0.05, calibrate: calFile });
    assert.equal(cal.thresholdFrom, calFile);
    assert.equal(cal.trainRows, 700);
    assert.equal(cal.trainFlagged, Math.floor(0.05 * 700));

    // bad tables: a missing channel, a missing / repeated / out-of-order timestamp, no timestamp column
    const bad = (name: string, edit: (l: string[]) => string[]) => pvCsv(path.join(dir, name), 200, 4, ['N'], edit);
    const dropG = (l: string[]) => l.map((r) => r.split(',').filter((_, j) => j !== 3).join(','));
    assert.throws(() => scoreTable(runDir, bad('s1.csv', dropG)), /s1\.csv: no column 'G'; the model in .* was trained on I, V, G, T_ext, T_mod, W/);
    const blank = (l: string[]) => l.map((r, i) => (i === 4 ? r.replace(/^[^,]*/, '') : r));
    assert.throws(() => scoreTable(runDir, bad('s2.csv', blank)), /s2\.csv: line 5 .*: the timestamp is missing/);
    const swap = (l: string[]) => [l[0], l[1], l[3], l[2], ...l.slice(4)];
    assert.throws(() => scoreTable(runDir, bad('s3.csv', swap)), /s3\.csv: line 4 .*comes before the row before/);
    const dup = (l: string[]) => [l[0], l[1], l[1], ...l.slice(2)];
    assert.throws(() => scoreTable(runDir, bad('s4.csv', dup)), /s4\.csv: line 3 .*repeats the row before/);
    const noTime = (l: string[]) => l.map((r, i) => (i === 0 ? r.replace(/^timestamp/, 'id') : r));
    assert.throws(() => scoreTable(runDir, bad('s5.csv', noTime)), /s5\.csv: no timestamp column \(the first column must be 'timestamp', as in the training table/);

    // a classifier: a label it was not trained on is an error naming the row, unless --new-labels
    const m2 = validateConfig(RunConfigSchema, { model: { type: 'm2', latent: 2, hidden: [16], likelihood: 'gaussian' }, sources: { labelled: { x: train, labelColumn: 'condition' }, standardize: true }, train: { epochs: 2, batchSize: 100, lr: 0.003, seed: 1 } }, 't');
    (await trainRun(m2, path.join(dir, 'm2'))).model.dispose();
    const withSnow = pvCsv(path.join(dir, 'mixed.csv'), 300, 5, ['N', 'S']);
    assert.throws(() => scoreTable(path.join(dir, 'm2'), withSnow), /mixed\.csv: line \d+ .*column 'condition' is 'S', a condition the model was not trained on \(C, N\)/);
    const mixed = scoreTable(path.join(dir, 'm2'), withSnow, { newLabels: true });
    assert.deepEqual(mixed.truthNames, ['C', 'N', 'S']);
    assert.ok(mixed.predicted && mixed.probs && mixed.probs.length === 300 * 2);

    // windows of 3 rows: train, predict and score see the same windows (none across a night)
    const w3 = validateConfig(RunConfigSchema, { ...m2, sources: { ...m2.sources!, window: 3 } }, 't');
    (await trainRun(w3, path.join(dir, 'w3'))).model.dispose();
    const scored = scoreTable(path.join(dir, 'w3'), path.join(dir, 'normal.csv'));
    const days = new Set(scored.ids.map((t) => t.slice(0, 10))).size;
    assert.equal(scored.window, 3);
    assert.equal(scored.columns.length, 18);
    assert.ok(scored.n <= 900 - 2 * days && scored.n >= 900 - 2 * (days + 2), `${scored.n} windows of 900 rows over ${days} days`);
    const w3run = loadRun(path.join(dir, 'w3'));
    const p = predictRun(w3run, path.join(dir, 'normal.csv'));
    w3run.model.dispose();
    assert.deepEqual(p.ids, scored.ids);
    assert.equal(p.idColumn, 'timestamp');
    // a window model needs the rows in time order for predict as for score
    const w3again = loadRun(path.join(dir, 'w3'));
    assert.throws(() => predictRun(w3again, path.join(dir, 's3.csv')), /s3\.csv: line 4 .*comes before the row before/);
    w3again.model.dispose();

    // --calibrate takes normal rows (no unseen condition), and enough of them for the rate
    assert.throws(() => scoreTable(path.join(dir, 'm2'), path.join(dir, 'normal.csv'), { calibrate: withSnow }), /mixed\.csv: line \d+ .*'S', a condition the model was not trained on; --calibrate takes normal rows/);
    assert.throws(() => scoreTable(path.join(dir, 'm2'), path.join(dir, 'normal.csv'), { falseAlarm: 0.001, trainRows: 500 }), /500 training rows are too few for a false-alarm rate of 0\.001.*at least 1000 rows/);
    // a channel twice is an error
    const twice = bad('s6.csv', (l) => l.map((r, i) => (i === 0 ? r.replace(',V,', ',I,') : r)));
    assert.throws(() => scoreTable(runDir, twice), /s6\.csv: two columns are named 'I'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('score: a Bernoulli model refuses inputs outside [0, 1], naming file, line and column', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-score-b-'));
  try {
    const rows = Array.from({ length: 60 }, (_, i) => [((i * 7) % 10) / 10, ((i * 3) % 10) / 10, (i % 2) as number]);
    const f = path.join(dir, 't.csv');
    fs.writeFileSync(f, formatCsv(['a', 'b', 'class'], rows));
    const cfg = validateConfig(RunConfigSchema, { model: { type: 'vae', latent: [2], hidden: [[8]], likelihood: 'bernoulli' }, sources: { unlabelled: { x: f, labelColumn: 'class' } }, train: { epochs: 1, batchSize: 20, seed: 1 } }, 't');
    (await trainRun(cfg, path.join(dir, 'run'))).model.dispose();
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, formatCsv(['a', 'b', 'class'], [[0.2, 0.3, 0], [5, 0.1, 1]]));
    assert.throws(() => scoreTable(path.join(dir, 'run'), bad), /bad\.csv: line 3, column 'a' is 5, outside \[0, 1\], the support of the model's Bernoulli likelihood/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
