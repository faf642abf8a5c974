/**
 * `train.initFrom`: a run that starts from another run's weights (the LVAE's fine-tuning stage,
 * thesis `003_…` appendix B §3), and the errors when the weights do not fit.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunConfigSchema, type RunConfig } from '../config/run.js';
import { readConfigFile } from '../node/data.js';
import { validateConfig } from '../config/validate.js';
import { readUtp } from '../node/files.js';
import { resolveSourcePaths, trainRun } from './run.js';
import { setupEngine } from '../testing/helpers.js';

before(setupEngine);

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');

function config(over: { model?: Record<string, unknown>; train?: Record<string, unknown>; objective?: Record<string, unknown> } = {}): RunConfig {
  const file = path.join(EXAMPLES, 'lvae-table.json');
  const base = resolveSourcePaths(readConfigFile(RunConfigSchema, file), EXAMPLES);
  return validateConfig(RunConfigSchema, { ...base, model: { ...base.model, ...over.model }, objective: { ...base.objective, ...over.objective }, train: { ...base.train, epochs: 1, ...over.train } }, file);
}

const weightsOf = (dir: string) => new Map([...readUtp(path.join(dir, 'checkpoint.utp')).tensors].filter(([k]) => !k.startsWith('adam.')));

test('train.initFrom starts from the weights of another run (a fine-tuning stage with IWAE(10) and a stepped learning rate); the optimiser starts afresh', async () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-init-'));
  const first = await trainRun(config(), path.join(d, 'a'), { progress: { silent: true } });
  first.model.dispose();
  // a learning rate so small that one epoch leaves the weights where they started
  const tuned = await trainRun(config({ train: { initFrom: path.join(d, 'a'), lr: 1e-12, lrSchedule: { kind: 'step', every: 1, gamma: 0.75 } }, objective: { bound: 'iwae', samples: 10 } }), path.join(d, 'b'), { progress: { silent: true } });
  tuned.model.dispose();
  const fresh = await trainRun(config({ train: { lr: 1e-12 } }), path.join(d, 'c'), { progress: { silent: true } });
  fresh.model.dispose();
  const a = weightsOf(path.join(d, 'a'));
  const b = weightsOf(path.join(d, 'b'));
  const c = weightsOf(path.join(d, 'c'));
  let far = 0;
  for (const [k, t] of a) {
    const u = b.get(k)!.data;
    const v = c.get(k)!.data;
    for (let i = 0; i < t.data.length; i++) {
      assert.ok(Math.abs(u[i] - t.data[i]) <= 1e-5 * Math.max(1, Math.abs(t.data[i])), `${k}[${i}]: ${u[i]} is not the initial ${t.data[i]}`);
      if (Math.abs(v[i] - t.data[i]) > 1e-3) far++;
    }
  }
  assert.ok(far > 100, 'a run without initFrom starts from its own initial weights');
  // the fine-tuning run's optimiser began at step 0: one epoch's steps, not two
  const steps = (dir: string) => (readUtp(path.join(dir, 'checkpoint.utp')).meta.trainer as { step: number }).step;
  assert.equal(steps(path.join(d, 'b')), steps(path.join(d, 'a')));
});

test('train.initFrom: a directory without a checkpoint, another model type, or other layer sizes are errors naming the directory', async () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-init-'));
  const first = await trainRun(config(), path.join(d, 'a'), { progress: { silent: true } });
  first.model.dispose();
  await assert.rejects(trainRun(config({ train: { initFrom: path.join(d, 'none') } }), path.join(d, 'x1'), { progress: { silent: true } }), /train\.initFrom: .*none holds no checkpoint\.utp/);
  await assert.rejects(trainRun(config({ model: { latent: [8, 4, 3] }, train: { initFrom: path.join(d, 'a') } }), path.join(d, 'x3'), { progress: { silent: true } }), /train\.initFrom: the weights of .*a do not fit this model section: parameter '.*' has shape/);
  const m2 = path.join(EXAMPLES, 'm2-table.json');
  const base = resolveSourcePaths(readConfigFile(RunConfigSchema, m2), EXAMPLES);
  await assert.rejects(trainRun(validateConfig(RunConfigSchema, { ...base, train: { ...base.train, epochs: 1, initFrom: path.join(d, 'a') } }, m2), path.join(d, 'x4'), { progress: { silent: true } }), /is a run of model type 'lvae', this config's is 'm2'/);
});
