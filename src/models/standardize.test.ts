import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setupEngine, assertClose, take } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { RunConfigSchema } from '../config/run.js';
import { validateConfig } from '../config/validate.js';
import { readTable } from '../node/data.js';
import { formatCsv } from '../io/table.js';
import { importanceModel, loadRun, trainRun } from '../experiments/run.js';
import { iwLogLikelihood } from '../eval/loglik.js';
import { inputScaling, withInputScaling } from './standardize.js';
import { modelFamily } from './registry.js';

await setupEngine();

test('inputScaling: the channel means and (n − 1) standard deviations; a constant channel keeps σ = 1; a NaN names its channel', () => {
  const a = Float32Array.from([1, 10, 5, 2, 20, 5]);
  const b = Float32Array.from([3, 30, 5]);
  const s = inputScaling([a, b], 3, ['u', 'v', 'w']);
  assertClose(s.mean, [2, 20, 5], { atol: 1e-6 });
  assertClose(s.sd, [1, 10, 1], { atol: 1e-6 });
  assert.throws(() => inputScaling([Float32Array.from([1, NaN])], 2, ['u', 'v']), /channel v has the value NaN/);
});

test('withInputScaling: the networks see (x − μ)/σ, densities gain −Σ log σ, draws come back as μ + σ x̃', () => {
  const D = 4;
  const inner = modelFamily('vae').create({ ...validateConfig(RunConfigSchema, { model: { type: 'vae', latent: [2], hidden: [[8]], likelihood: 'gaussian' } }, 't').model, inputDim: D } as never, { inputDim: D, classes: 0 }, new Rng(1));
  const scaling = { mean: [1, -2, 100, 0], sd: [2, 0.5, 50, 1] };
  const m = withInputScaling(inner, scaling);
  const x = tf.tensor2d([
    [1, -2, 100, 0],
    [3, -1.5, 50, 2],
  ]);
  const xt = tf.tensor2d([
    [0, 0, 0, 0],
    [1, 1, -1, 2],
  ]);
  const logJac = Math.log(2) + Math.log(0.5) + Math.log(50);
  assertClose(take(m.logWeights(x, 3, new Rng(5))), take(inner.logWeights(xt, 3, new Rng(5))).map((v) => v - logJac), { atol: 1e-4 });
  assertClose(take(m.bound(x, 1, new Rng(6))), take(inner.bound(xt, 1, new Rng(6))).map((v) => v - logJac), { atol: 1e-4 });
  const s = take(m.sample(2, new Rng(7)));
  const st = take(inner.sample(2, new Rng(7)));
  assertClose(s, st.map((v, i) => scaling.mean[i % D] + scaling.sd[i % D] * v), { atol: 1e-4 });
  m.dispose();
});

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('sources.standardize: a run on the table and a run on the table in other units (×1000, +5) learn the same model; log-likelihoods differ by D·log 1000', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-std-'));
  try {
    const t = readTable(path.join(ROOT, 'examples', 'table.csv'));
    const D = t.width - 1;
    const rows = Array.from({ length: t.n }, (_, i) => Array.from(t.data.subarray(i * t.width, (i + 1) * t.width)));
    const other = rows.map((r) => r.map((v, j) => (j < D ? 1000 * v + 5 : v)));
    fs.writeFileSync(path.join(dir, 'a.csv'), formatCsv(t.columns, rows, undefined, 9));
    fs.writeFileSync(path.join(dir, 'b.csv'), formatCsv(t.columns, other, undefined, 9));
    const cfg = (file: string) =>
      validateConfig(RunConfigSchema, { model: { type: 'vae', latent: [3], hidden: [[16]], likelihood: 'gaussian' }, sources: { labelled: { x: path.join(dir, file), labelColumn: 'class' }, test: { fraction: 0.2 }, standardize: true }, train: { epochs: 3, batchSize: 50, lr: 0.003, seed: 2 } }, 't');
    const ra = await trainRun(cfg('a.csv'), path.join(dir, 'ra'));
    const rb = await trainRun(cfg('b.csv'), path.join(dir, 'rb'));
    const a = loadRun(path.join(dir, 'ra'));
    const b = loadRun(path.join(dir, 'rb'));
    const test = (r: typeof ra) => r.data.test!;
    const ll = (m: typeof a.model, d: ReturnType<typeof test>) => iwLogLikelihood(importanceModel(m), d.x, d.dim, { k: 50, rng: new Rng(3) }).mean;
    const la = ll(a.model, test(ra));
    const lb = ll(b.model, test(rb));
    assert.ok(Math.abs(la - lb - D * Math.log(1000)) < 0.05, `log-likelihoods ${la} and ${lb}: difference ${la - lb}, D·log 1000 = ${D * Math.log(1000)}`);
    // without standardisation the ×1000 table is another problem altogether
    const raw = await trainRun({ ...cfg('b.csv'), sources: { ...cfg('b.csv').sources!, standardize: false } }, path.join(dir, 'rc'));
    const lc = ll(raw.model, test(rb));
    assert.ok(lc < lb - 50, `unstandardised ${lc} vs standardised ${lb}`);
    for (const r of [ra, rb, raw]) r.model.dispose();
    a.model.dispose();
    b.model.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('examples/sdgm-pv.json validates, standardises, and its table examples/pv.csv has the PV channels and conditions', () => {
  const file = path.join(ROOT, 'examples', 'sdgm-pv.json');
  const cfg = validateConfig(RunConfigSchema, JSON.parse(fs.readFileSync(file, 'utf8')), file);
  assert.equal(cfg.sources?.standardize, true);
  const t = readTable(path.join(ROOT, 'examples', 'pv.csv'), { text: ['condition'] });
  assert.deepEqual(t.columns, ['I', 'V', 'G', 'T_ext', 'T_mod', 'W', 'condition']);
  assert.equal(t.n, 3000);
  assert.ok(t.ids[0].startsWith('2017-01-09T'));
});
