/**
 * `untapped simulate`: the simulators' tables are what the simulators draw (moons: balanced classes,
 * points on the two arcs; CRISM: compositions on the simplex, reflectances in [0, 1]), and they feed
 * the run pipeline as they are: a moons table trains an M2 with 3 labels per class, a CRISM pair fits
 * and is evaluated on its own rows (RMSEP and KL).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTable } from '../node/data.js';
import { makeMoons } from '../data/moons.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/untapped');
const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('simulate moons writes the simulator’s points as a table that trains an M2 from 3 labels per class', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-sim-'));
  const file = path.join(d, 'moons.csv');
  let r = cli(['simulate', 'moons', '--out', file, '--n', '300', '--seed', '4']);
  assert.equal(r.code, 0, r.err);
  const t = readTable(file);
  assert.deepEqual(t.columns, ['x1', 'x2', 'class']);
  const want = makeMoons(300, { noise: 0.1, seed: 4 });
  for (let i = 0; i < 300; i += 37) {
    assert.ok(Math.abs(t.data[i * 3] - want.x[2 * i]) < 1e-5 && Math.abs(t.data[i * 3 + 1] - want.x[2 * i + 1]) < 1e-5, `row ${i}: the simulator's point`);
    assert.equal(t.data[i * 3 + 2], want.y[i]);
  }
  const ones = Array.from({ length: 300 }, (_, i) => t.data[i * 3 + 2]).filter((c) => c === 1).length;
  assert.equal(ones, 150, 'balanced classes');
  const cfg = path.join(d, 'm2.json');
  fs.writeFileSync(cfg, JSON.stringify({ model: { type: 'm2', latent: 2, hidden: [16], likelihood: 'gaussian' }, sources: { labelled: { x: 'moons.csv', labelColumn: 'class', perClass: 3 }, test: { fraction: 0.2 } }, train: { epochs: 1, batchSize: 50 } }));
  r = cli(['train', '--config', cfg, '--out', path.join(d, 'run'), '--no-report']);
  assert.equal(r.code, 0, r.err);
  r = cli(['simulate', 'moons', '--out', file]);
  assert.equal(r.code, 2);
  assert.match(r.err, /moons\.csv already exists; choose another name or pass --force/);
});

test('simulate crism writes spectra in [0, 1] and compositions on the simplex, which fit reads as --x/--y', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-sim-'));
  const pre = path.join(d, 'crism');
  let r = cli(['simulate', 'crism', '--out', pre, '--n', '120', '--seed', '1']);
  assert.equal(r.code, 0, r.err);
  const x = readTable(`${pre}-x.csv`);
  const y = readTable(`${pre}-y.csv`);
  assert.equal(x.n, 120);
  assert.equal(x.width, 165);
  assert.deepEqual(y.columns, ['olivine', 'diopside', 'bytownite']);
  assert.ok(x.data.every((v) => v >= 0 && v <= 1));
  for (let i = 0; i < y.n; i++) assert.ok(Math.abs(y.data[3 * i] + y.data[3 * i + 1] + y.data[3 * i + 2] - 1) < 1e-4, `row ${i} on the simplex`);
  r = cli(['fit', '--x', `${pre}-x.csv`, '--y', `${pre}-y.csv`, '--epochs', '2', '--out', path.join(d, 'm')]);
  assert.equal(r.code, 0, r.err);
  // evaluated on its own rows (found by absolute path from another directory): RMSEP and the papers' KL
  const ev = spawnSync(process.execPath, [BIN, 'evaluate', path.join(d, 'm'), '--json', '--iw', '5', '--n', '20'], { encoding: 'utf8', cwd: os.tmpdir() });
  assert.equal(ev.status, 0, ev.stderr);
  const j = JSON.parse(ev.stdout) as { on: string; scores: { rmsep: { overall: number }; kl: number }; iw: { n: number } };
  assert.equal(j.on, 'training');
  assert.equal(j.iw.n, 20);
  assert.ok(j.scores.kl > 0 && Number.isFinite(j.scores.kl) && j.scores.rmsep.overall > 0, JSON.stringify(j.scores));
  r = cli(['simulate', 'crism', '--out', pre, '--simulation', 'muddy']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--simulation: 'muddy' is not one of dusty, clear/);
});
