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

test('untapped fit --preprocess: bad specs name the token; predict applies SNV (3x + 1 predicts as x); generate says its rows are preprocessed', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-cli-pre-'));
  try {
    const D = 12;
    const head = 'id,' + Array.from({ length: D }, (_, j) => `c${j}`).join(',');
    const row = (i: number, f: (v: number) => number) => {
      const t = (i % 10) / 9;
      return `r${i},` + Array.from({ length: D }, (_, j) => f((1 + 0.1 * (i % 3)) * (0.5 + 0.4 * (t * Math.sin(j / 2) + (1 - t) * Math.cos(j / 2)))).toFixed(5)).join(',');
    };
    const ids = Array.from({ length: 30 }, (_, i) => i);
    fs.writeFileSync(path.join(d, 'x.csv'), [head, ...ids.map((i) => row(i, (v) => v))].join('\n') + '\n');
    fs.writeFileSync(path.join(d, 'x3.csv'), [head, ...ids.map((i) => row(i, (v) => 3 * v + 1))].join('\n') + '\n');
    fs.writeFileSync(path.join(d, 'y.csv'), ['id,a,b', ...ids.map((i) => `r${i},${((i % 10) / 9).toFixed(4)},${(1 - (i % 10) / 9).toFixed(4)}`)].join('\n') + '\n');
    const fit = (...extra: string[]) => cli(['fit', '--x', path.join(d, 'x.csv'), '--y', path.join(d, 'y.csv'), '--epochs', '2', '--batch-size', '15', '--unfeatured', 'corners:10', ...extra]);
    let r = fit('--preprocess', 'snv,sg:9:2:3', '--out', path.join(d, 'bad'));
    assert.equal(r.code, 2);
    assert.match(r.err, /--preprocess: preprocessing spec 'snv,sg:9:2:3': step 2 \('sg:9:2:3'\): the derivative must be 0 \(smoothing\), 1 or 2, got 3/);
    r = fit('--preprocess', 'center', '--center', '--out', path.join(d, 'bad'));
    assert.equal(r.code, 2);
    assert.match(r.err, /the chain already centres its rows; drop --center/);
    // a train config of type untapped takes the same spec, checked with the config
    const cfg = path.join(d, 'run.json');
    fs.writeFileSync(cfg, JSON.stringify({ model: { type: 'untapped' }, sources: { labelled: { x: 'x.csv', y: 'y.csv' } }, train: { epochs: 1, preprocess: 'snv,smooth' } }));
    r = cli(['train', '--config', cfg, '--out', path.join(d, 'bad')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /train\.preprocess: preprocessing spec 'snv,smooth': step 2 \('smooth'\) is not a step/);
    assert.ok(!fs.existsSync(path.join(d, 'bad')) && !fs.existsSync(path.join(d, 'bad.partial')));

    const out = path.join(d, 'm');
    r = fit('--preprocess', 'snv,sg:5:2:1', '--out', out);
    assert.equal(r.code, 0, r.err);
    const p1 = cli(['predict', out, '--x', path.join(d, 'x.csv')]);
    const p3 = cli(['predict', out, '--x', path.join(d, 'x3.csv')]);
    assert.equal(p1.code, 0, p1.err);
    assert.equal(p3.code, 0, p3.err);
    const means = (csv: string) => csv.trim().split('\n').slice(1).map((l) => l.split(',').slice(1, 3).map(Number));
    const m1 = means(p1.out);
    const m3 = means(p3.out);
    assert.equal(m1.length, 30);
    m1.forEach((v, i) => v.forEach((a, k) => assert.ok(Math.abs(a - m3[i][k]) < 1e-4, `row ${i}, component ${k}: ${a} for x, ${m3[i][k]} for 3x + 1`)));

    r = cli(['generate', out, '--y', '0.3,0.7', '--out', path.join(d, 'g')]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /generate: generated rows are in the preprocessed space of 'snv,sg:5:2:1', not in the input space: snv removes each row's mean and scale/);
    const g = fs.readFileSync(path.join(d, 'g.csv'), 'utf8').split('\n');
    assert.match(g[0], /^# generated rows are in the preprocessed space of 'snv,sg:5:2:1'/);
    assert.match(g[1], /,c0,c1,/);
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});
