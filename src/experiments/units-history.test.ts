/**
 * Active units over training (thesis `003_…` appendix B fig. 4): a run records the per-unit KL of
 * every stochastic layer at each evaluation (`EvalRecord.detail.unitKl`), keeps it in its
 * checkpoint's history, and draws it as `units.png` in its report.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../engine/rng.js';
import { RunConfigSchema } from '../config/run.js';
import { readConfigFile } from '../node/data.js';
import { validateConfig } from '../config/validate.js';
import { readUtp } from '../node/files.js';
import type { EvalRecord } from '../train/trainer.js';
import { resolveSourcePaths, runActiveUnits, trainRun, UNIT_KL_ROWS } from './run.js';
import { unitKlHistory, writeRunReport } from './report.js';
import { setupEngine } from '../testing/helpers.js';

before(setupEngine);

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');

function exampleConfig(type: string, train: Record<string, unknown>) {
  const file = path.join(EXAMPLES, `${type}-table.json`);
  const base = resolveSourcePaths(readConfigFile(RunConfigSchema, file), EXAMPLES);
  return validateConfig(RunConfigSchema, { ...base, train: { ...base.train, ...train } }, file);
}

test('an LVAE run records the per-unit KL of every layer at each evaluation: the recorded numbers are those of runActiveUnits, kept in the checkpoint, drawn as units.png', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-units-'));
  const cfg = exampleConfig('lvae', { epochs: 3, evalEvery: 1 });
  const run = await trainRun(cfg, path.join(dir, 'run'), { progress: { silent: true } });
  try {
    const h = run.result.history;
    assert.deepEqual(h.map((r) => r.epoch), [1, 2, 3]);
    const latent = (cfg.model as { latent: number[] }).latent;
    for (const r of h) {
      const u = r.detail?.unitKl as number[][];
      assert.deepEqual(u.map((l) => l.length), latent, `epoch ${r.epoch}: one KL per unit of every layer`);
      assert.ok(u.flat().every(Number.isFinite));
    }
    // the last record is the statistic of the final weights on the first evaluation rows, same noise
    const again = runActiveUnits(run.model, run.data.test!, new Rng(cfg.train.seed).fork('units-3'), UNIT_KL_ROWS)!;
    const last = h[2].detail!.unitKl as number[][];
    again.layers.forEach((l, i) => l.kl.forEach((v, u) => assert.ok(Math.abs(v - last[i][u]) <= 1e-3 * Math.max(1e-3, Math.abs(v)), `layer ${i + 1} unit ${u + 1}: ${v} vs recorded ${last[i][u]}`)));
    // the top layer's analytic KL is ≥ 0, and training moves it from one evaluation to the next
    assert.ok(last[latent.length - 1].every((v) => v >= 0));
    assert.notDeepEqual(h[0].detail!.unitKl, last);
    // kept in the checkpoint's history (a resumed run draws the whole course)
    const saved = (readUtp(path.join(run.dir, 'checkpoint.utp')).meta.trainer as { history: EvalRecord[] }).history;
    assert.deepEqual(saved.map((r) => r.detail?.unitKl), h.map((r) => r.detail?.unitKl));
    const rep = writeRunReport(run.dir, run.config, run.model, run.data, h, { iw: 2, iwN: 10 });
    assert.ok(rep.files.charts.includes(path.join(run.dir, 'units.png')));
    assert.ok(fs.statSync(path.join(run.dir, 'units.png')).size > 1000);
    assert.match(fs.readFileSync(rep.files.markdown, 'utf8'), new RegExp(`at epoch 3, per layer \\(z1 first\\): z1 \\d+/${latent[0]}`));
  } finally {
    run.model.dispose();
  }
});

test('a model without per-unit statistics records no unit KL and draws no units.png; unitKlHistory skips records without it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-units-'));
  const run = await trainRun(exampleConfig('m2', { epochs: 1 }), path.join(dir, 'run'), { progress: { silent: true } });
  try {
    assert.equal(run.result.history[0].detail, undefined);
    assert.deepEqual(unitKlHistory(run.result.history), []);
  } finally {
    run.model.dispose();
  }
  const rec = (epoch: number, detail?: Record<string, unknown>): EvalRecord => ({ epoch, step: 0, trainLoss: 0, metrics: {}, lr: 0, trainSeconds: 0, time: '', ...(detail ? { detail } : {}) });
  // a negative mean of the one-sample estimates (a collapsed lower unit) is drawn as 0
  assert.deepEqual(unitKlHistory([rec(1), rec(2, { unitKl: [[0.5, -0.001], [2]] }), rec(3, { unitKl: [] })]), [{ epoch: 2, layers: [[0.5, 0], [2]] }]);
});
