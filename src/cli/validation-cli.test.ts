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

/** 60 rows of a two-component mixture, 3 replicates per sample in consecutive rows. */
function files(d: string): { x: string; y: string } {
  const D = 8;
  const xs = ['id,' + Array.from({ length: D }, (_, j) => `c${j}`).join(',')];
  const ys = ['id,a,b'];
  for (let i = 0; i < 60; i++) {
    const t = (Math.floor(i / 3) % 10) / 9;
    xs.push(`r${i},` + Array.from({ length: D }, (_, j) => (0.5 + 0.3 * (t * Math.sin(j) + (1 - t) * Math.cos(j)) + 0.002 * (i % 3)).toFixed(4)).join(','));
    ys.push(`r${i},${t.toFixed(4)},${(1 - t).toFixed(4)}`);
  }
  fs.writeFileSync(path.join(d, 'x.csv'), xs.join('\n') + '\n');
  fs.writeFileSync(path.join(d, 'y.csv'), ys.join('\n') + '\n');
  return { x: path.join(d, 'x.csv'), y: path.join(d, 'y.csv') };
}

test('fit --validation-fraction --group-size → fit.json, validation.png; predict writes calibrated bounds and measures coverage against --y', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-cli-val-'));
  try {
    const f = files(d);
    const out = path.join(d, 'model');
    let r = cli(['fit', '--x', f.x, '--y', f.y, '--out', out, '--epochs', '20', '--batch-size', '20', '--validation-fraction', '0.4', '--group-size', '3', '--patience', '0']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /36 labelled rows .* 24 validation rows \(20 groups kept whole\)/);
    assert.match(r.err, /saved the weights of epoch \d+ \(of 20; stopped by epochs\): validation RMSEP [\d.]+/);
    assert.match(r.err, /95% intervals per component: a ±[\d.]+, b ±[\d.]+ \(split-conformal on 24 validation rows/);
    assert.ok(fs.statSync(path.join(out, 'validation.png')).size > 1000);
    const info = JSON.parse(fs.readFileSync(path.join(out, 'fit.json'), 'utf8'));
    assert.equal(info.validation.patience, 0);
    assert.equal(info.stoppedBy, 'epochs');
    r = cli(['predict', out, '--x', f.x, '--y', f.y, '--report', path.join(d, 'rep.json'), '--plot', path.join(d, 'pv.png')]);
    assert.equal(r.code, 0, r.err);
    assert.ok(fs.existsSync(path.join(d, 'pv.png')) && fs.readFileSync(path.join(d, 'pv.svg'), 'utf8').includes('stroke-dasharray="6,4"') && fs.readFileSync(path.join(d, 'pv.svg'), 'utf8').includes('predicted against true'), 'predicted-vs-true chart');
    const lines = r.out.trim().split('\n');
    assert.equal(lines[0], 'id,a,b,a_sd,b_sd,a_lo95,a_hi95,b_lo95,b_hi95');
    assert.equal(lines.length, 61);
    assert.match(r.err, /RMSEP against .*y\.csv \(60 rows\): [\d.]+/);
    assert.match(r.err, /coverage of the 95% intervals: [\d.]+% of row-components/);
    const rep = JSON.parse(fs.readFileSync(path.join(d, 'rep.json'), 'utf8'));
    assert.ok(rep.coverage.overall >= 0 && rep.coverage.overall <= 1 && rep.level === 0.95);
    // an unreachable level: no bounds, and why (from the validation scores kept in fit.json)
    r = cli(['predict', out, '--x', f.x, '--level', '0.99']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /24 validation rows are too few for 99% intervals \(need ≥ 99; at most 96% with 24\): no calibrated intervals/);
    assert.equal(r.out.split('\n')[0], 'id,a,b,a_sd,b_sd');
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('train --config with sources.validation and train.patience: the untapped model keeps its best weights', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-cli-val-'));
  try {
    files(d);
    const cfg = {
      model: { type: 'untapped', latent: 1 },
      sources: { labelled: { x: 'x.csv', y: 'y.csv' }, validation: { fraction: 0.3, groupSize: 3 } },
      train: { epochs: 10, batchSize: 20, patience: 2, intervalLevel: 0.9 },
    };
    fs.writeFileSync(path.join(d, 'run.json'), JSON.stringify(cfg));
    const out = path.join(d, 'model');
    let r = cli(['train', '--config', path.join(d, 'run.json'), '--out', out]);
    assert.equal(r.code, 0, r.err);
    const info = JSON.parse(fs.readFileSync(path.join(out, 'fit.json'), 'utf8'));
    assert.equal(info.validation.rows, 18);
    assert.equal(info.validation.patience, 2);
    assert.equal(info.calibration.at.level, 0.9);
    fs.writeFileSync(path.join(d, 'bad.json'), JSON.stringify({ ...cfg, sources: { ...cfg.sources, validation: { fraction: 0.3, size: 3 } } }));
    r = cli(['train', '--config', path.join(d, 'bad.json'), '--out', path.join(d, 'm2')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /bad\.json/);
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});
