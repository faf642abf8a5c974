import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { abundanceGrid } from '../data/spectra.js';
import { centreGridPoints, crismExperiment, etaSquared } from './crism.js';
import { libsUnfeatured } from './libs.js';
import { setupEngine } from '../testing/helpers.js';

await setupEngine();

test('centre of the abundance grid: the paper\'s 12 points in [0.2, 0.5], the reference\'s (0.1, 0.567); 15 up to 0.6', () => {
  const g = abundanceGrid();
  const c = centreGridPoints();
  assert.equal(c.length, 12);
  // the reference implementation's rule: every component strictly inside 1/3 ± 0.7/3
  const ref = g.flatMap((p, i) => (p.every((v) => v > 0.1 + 1e-9 && v < 1 / 3 + 0.7 / 3) ? [i] : []));
  assert.deepEqual(c, ref);
  const wide = centreGridPoints(0.2, 0.6);
  assert.equal(wide.length, 15);
  for (const i of wide) assert.ok(g[i].every((v) => v >= 0.2 - 1e-9 && v <= 0.6 + 1e-9), `${g[i]}`);
  assert.ok(wide.some((i) => g[i].some((v) => v > 0.55)), 'the wide centre reaches 0.6');
});

test('η² against a hand computation; 1 for perfectly separated groups, 0 for equal means', () => {
  // groups {1, 3} and {5, 7}: mean 4, total SS 20, between SS 2·(2−4)² + 2·(6−4)² = 16
  assert.ok(Math.abs(etaSquared([1, 3, 5, 7], [0, 0, 1, 1], 2) - 0.8) < 1e-12);
  assert.equal(etaSquared([2, 2, 5, 5], [0, 0, 1, 1], 2), 1);
  assert.equal(etaSquared([1, 3, 3, 1], [0, 0, 1, 1], 2), 0);
});

test('LIBS unfeatured labels: 0.85 on one oxide, the rest equal, on the simplex', () => {
  const y = libsUnfeatured(9, 18);
  assert.equal(y.length, 18);
  y.forEach((r, i) => {
    assert.ok(Math.abs(r.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    assert.equal(r[i % 9], 0.85);
  });
});

test('crism experiment: a 2-epoch run writes its report with finite numbers for every model', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-crism-'));
  try {
    const r = await crismExperiment({ out, epochs: 2, seeds: 1 });
    const s = r.seeds[0];
    assert.ok(s.m2 && s.untapped, 'both models trained by default');
    for (const v of [s.pls.kl, s.m2.kl, s.untapped.kl, s.m2.endmemberError.mean, s.untapped.endmemberError.mean, s.untapped.zEta2]) assert.ok(Number.isFinite(v) && v >= 0, `${v}`);
    assert.equal(s.m2.endmemberError.perMineral.length, 3);
    for (const f of ['report.md', 'results.json', 'endmembers-untapped.png', 'nuisance-m2.png']) assert.ok(fs.existsSync(path.join(out, f)), f);
    assert.match(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /\| composition KL, all spectra \| [0-9.]+ ± /);
    // PLS does not train for epochs: on the dusty (default) simulation it extrapolates from the centre far better than on clear
    assert.ok(s.pls.kl < 0.11, `PLS KL on the dusty simulation ${s.pls.kl}`);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')).simulation, 'dusty');
    // measured during training at every epoch here (a tenth of 2 rounds to 1); the last point is the final model
    for (const m of [s.m2, s.untapped]) {
      assert.deepEqual(m.curve.map((c) => c.epoch), [1, 2]);
      assert.ok(Math.abs(m.curve[1].kl - m.kl) < 1e-6 && Math.abs(m.curve[1].endmemberError - m.endmemberError.mean) < 1e-5, JSON.stringify(m.curve));
    }
    for (const f of ['curve-kl.png', 'curve-endmember.png']) assert.ok(fs.existsSync(path.join(out, f)), f);
    assert.match(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /\| 2 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [01] of 1 \|/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('crism experiment: models: [untapped] on the clear simulation trains only that model, with an α_r warm-up, and reports M2 as —', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-crism-'));
  try {
    const r = await crismExperiment({ out, epochs: 2, seeds: 1, models: ['untapped'], alphaRWarmup: 1, endmembers: 'clear' });
    const s = r.seeds[0];
    // further from linear mixing: PLS fitted on the centre extrapolates badly to the corners
    assert.ok(s.pls.kl > 0.11, `PLS KL on the clear simulation ${s.pls.kl}`);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')).simulation, 'clear');
    assert.equal(s.m2, undefined);
    assert.ok(s.untapped && Number.isFinite(s.untapped.endmemberError.mean));
    assert.ok(!fs.existsSync(path.join(out, 'endmembers-m2.png')));
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    assert.match(md, /\| endmember error ‖x̄ − x‖₂ \(mean of 3\) \| — \| — \| [0-9.]+ ± /);
    assert.match(md, /over the first 1 epochs/);
    assert.match(md, /3 geometries, clear endmembers\)/);
    await assert.rejects(crismExperiment({ out, epochs: 1, seeds: 1, endmembers: 'muddy' as never }), /endmembers must be one of dusty, clear or a list of three endmembers, got 'muddy'/);
    await assert.rejects(crismExperiment({ out, epochs: 1, seeds: 1, models: [] }), /models must be a non-empty list/);
    await assert.rejects(crismExperiment({ out, epochs: 1, seeds: 1, centreMax: 0.2 }), /centreMax must be in \[1\/3, 1\], got 0\.2/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
