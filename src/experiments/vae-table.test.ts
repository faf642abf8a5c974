import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { setupEngine } from '../testing/helpers.js';
import { loadMnist } from '../node/mnist.js';
import { binarizeInto } from '../data/binarize.js';
import { gather } from '../data/batches.js';
import { Vae, VaeConfigSchema } from '../models/vae.js';
import { bound } from '../objectives/bounds.js';
import { unitActivityCells, type ChartSpec } from '../report/chart.js';
import { DigitClassifier } from './mnist-untapped.js';
import { REPORT_TABLE1, VAE_VARIANTS, checkVaeTableOptions, vaeTableExperiment, vaeTableRowName, variantSetup, type VaeTableRow } from './vae-table.js';

await setupEngine();

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-vae-table-'));

/**
 * The heat map of active units holds one cell per (row, unit), and per row as many cells above
 * the threshold (log10 > −2, the value the colour shows) as the row's covariance count of active units.
 */
function checkActivityChart(specFile: string, rows: VaeTableRow[]): void {
  const cells = unitActivityCells(JSON.parse(fs.readFileSync(specFile, 'utf8')) as ChartSpec);
  assert.equal(cells.length, rows.reduce((n, r) => n + r.activeUnits.total, 0), 'one cell per (row, unit)');
  assert.deepEqual([...new Set(cells.map((c) => c.model))], rows.map(vaeTableRowName), 'one heat-map row per table row, in order');
  for (const r of rows) {
    const mine = cells.filter((c) => c.model === vaeTableRowName(r));
    assert.equal(new Set(mine.map((c) => c.unit)).size, r.activeUnits.total, `${vaeTableRowName(r)}: distinct units`);
    assert.equal(mine.filter((c) => c.log10 > Math.log10(0.01)).length, r.activeUnits.variance, `${vaeTableRowName(r)}: cells above the threshold = active units (cov.)`);
    assert.ok(mine.every((c) => c.row.endsWith(`: ${r.activeUnits.variance} of ${r.activeUnits.total} active`)), `${vaeTableRowName(r)}: the count in the row label`);
  }
}

test('vae-table: bad options are refused before any training, naming what is valid', () => {
  const ok = { out: '/tmp/x', budgetEpochs: 1, latents: [2] };
  assert.throws(() => checkVaeTableOptions({ ...ok, variants: ['vae', 'ladder'] }), /unknown variant 'ladder'; valid: vae, iwae, vae-l2, iwae-l2, beta-vae, dvae, cvae, conv/);
  assert.throws(() => checkVaeTableOptions({ ...ok, iw: 0 }), /iw \(importance samples k\) must be an integer ≥ 1, got 0/);
  assert.throws(() => checkVaeTableOptions({ ...ok, iwaeK: 0 }), /iwaeK .* must be an integer ≥ 1, got 0/);
  assert.throws(() => checkVaeTableOptions({ ...ok, latents: [] }), /at least one latent size/);
  assert.throws(() => checkVaeTableOptions({ ...ok, latents: [2, 0.5] }), /latent size 0.5 must be an integer ≥ 1/);
  assert.throws(() => checkVaeTableOptions({ ...ok, budgetEpochs: 0 }), /budgetEpochs must be an integer ≥ 1/);
  assert.throws(() => checkVaeTableOptions({ ...ok, out: '' }), /out must be a non-empty directory path/);
  assert.deepEqual(checkVaeTableOptions(ok).variants, [...VAE_VARIANTS]);
  // every variant is a valid VAE config
  for (const v of VAE_VARIANTS) VaeConfigSchema.parse(variantSetup(v, 5).model);
  assert.equal(variantSetup('iwae', 5, 7).objective.samples, 7);
  assert.equal(variantSetup('iwae-l2', 5, 7).objective.samples, 7);
  // each VAE/IWAE pair shares its architecture and differs only in k
  for (const [v, w] of [['vae', 'iwae'], ['vae-l2', 'iwae-l2']] as const) {
    assert.deepEqual(variantSetup(v, 5).model, variantSetup(w, 5).model);
    assert.deepEqual(variantSetup(v, 5).objective, { bound: 'elbo', samples: 1, beta: 1 });
    assert.deepEqual(variantSetup(w, 5).objective, { bound: 'iwae', samples: 50, beta: 1 });
  }
  assert.deepEqual((variantSetup('iwae-l2', 5).model as { latent: number[] }).latent, [5, 3]);
});

test('vae-table: a tiny run writes the table, the report numbers beside ours, and pictures with latent views', async () => {
  const dir = tmp();
  const lines: string[] = [];
  const r = await vaeTableExperiment({ out: dir, budgetEpochs: 1, latents: [2, 3], variants: ['cvae', 'conv'], trainLimit: 200, testLimit: 20, iw: 5, log: (s) => lines.push(s) });
  assert.equal(r.rows.length, 4);
  assert.deepEqual(r.rows.map((x) => `${x.variant}${x.latent}`), ['cvae2', 'conv2', 'cvae3', 'conv3']);
  for (const row of r.rows) {
    assert.ok(Number.isFinite(row.iw.mean) && row.iw.mean < 0, `log-likelihood ${row.iw.mean}`);
    assert.ok(row.iw.mean >= row.testElbo - 5, 'IW estimate is not far below the ELBO');
    assert.equal(row.iw.k, 5);
    assert.equal(row.iw.n, 20);
    assert.equal(row.seed, 1);
    assert.equal(row.epochs, 1);
    assert.ok(row.seconds.wall >= row.seconds.train);
    for (const f of row.files) assert.ok(fs.existsSync(f), f);
    assert.equal(row.files.length, row.latent === 2 ? 4 : 2, 'latent views only for 2-D latents');
    assert.equal(row.activeUnits.unitVariance.flat().length, row.activeUnits.total);
    assert.equal(row.activeUnits.unitKl.flat().length, row.activeUnits.total);
  }
  // the heat map of active units, one for the whole table: PNG, SVG and spec beside table.md
  assert.deepEqual(Object.values(r.files.activeUnits).map((f) => path.basename(f)), ['active-units.png', 'active-units.svg', 'active-units.vl.json']);
  for (const f of Object.values(r.files.activeUnits)) assert.ok(fs.existsSync(f) && fs.statSync(f).size > 0, f);
  assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith('active-units.')).length, 3);
  checkActivityChart(r.files.activeUnits.spec, r.rows);
  assert.deepEqual(r.rows[2].report, { CVAE: REPORT_TABLE1.CVAE[3] });
  assert.deepEqual(r.rows[0].report, {}, 'the report has no N_z = 2');
  assert.ok(r.rows[0].conditionalAccuracy && r.rows[0].conditionalAccuracy.perLabel.length === 10);
  const md = fs.readFileSync(r.files.markdown, 'utf8');
  assert.match(md, /\| cvae \| 3 \| -\d+\.\d\d \| \d+\.\d\d \| -\d+\.\d\d \| -116\.27 \(CVAE\)/);
  assert.match(md, /!\[manifold\]\(cvae-z2\/manifold\.png\)/);
  assert.match(md, /## Active units\n\n!\[active units\]\(active-units\.png\)/);
  const json = JSON.parse(fs.readFileSync(r.files.json, 'utf8'));
  assert.equal(json.rows.length, 4);
  assert.equal(json.report004Table1['VAE CNN'][20], -77.78);
  assert.ok(lines.some((l) => /cvae N_z=2: training 1 epoch/.test(l)) && lines.some((l) => /wrote .*table\.md/.test(l)), 'progress goes through log');
  // a rerun into the same directory with the same settings reuses finished rows instead of training
  // (a row of an older table.json without the per-unit activity is trained again, not reused)
  const saved = JSON.parse(fs.readFileSync(r.files.json, 'utf8'));
  delete saved.rows.find((x: VaeTableRow) => x.variant === 'conv' && x.latent === 3).activeUnits.unitVariance;
  fs.writeFileSync(r.files.json, JSON.stringify(saved));
  const again: string[] = [];
  const r2 = await vaeTableExperiment({ out: dir, budgetEpochs: 1, latents: [3], variants: ['conv', 'cvae'], trainLimit: 200, testLimit: 20, iw: 5, log: (s) => again.push(s) });
  assert.deepEqual(r2.rows.map((x) => `${x.variant}${x.latent}`), ['conv3', 'cvae3']);
  assert.equal(r2.rows[1].iw.mean, r.rows[2].iw.mean);
  assert.ok(again.some((l) => /cvae N_z=3: reusing/.test(l)) && !again.some((l) => /cvae N_z=3: training/.test(l)), again.join('\n'));
  assert.ok(again.some((l) => /conv N_z=3: training 1 epoch/.test(l)), again.join('\n'));
  checkActivityChart(r2.files.activeUnits.spec, r2.rows); // reused rows keep their per-unit activity
  // ... but not when a setting differs
  const other: string[] = [];
  await vaeTableExperiment({ out: dir, budgetEpochs: 1, latents: [3], variants: ['cvae'], trainLimit: 200, testLimit: 20, iw: 6, log: (s) => other.push(s) });
  assert.ok(other.some((l) => /cvae N_z=3: training 1 epoch/.test(l)), other.join('\n'));
  fs.rmSync(dir, { recursive: true });
});

test('conditional VAE: samples with a fixed label are read back as that digit by a classifier (MNIST subset)', (t) => {
  // 200 Adam steps on 2000 images, latent 2; a softmax-regression classifier trained on the same
  // images. Observed: 89.6% of 500 label-fixed samples (50 per digit) get their label; an
  // unconditional decoder would give about 10%.
  const train = loadMnist('train', { limit: 2000 });
  const m = new Vae(VaeConfigSchema.parse({ type: 'vae', latent: [2], hidden: [[200]], activation: 'relu', conditional: 10, inputDim: 784 }), new Rng(1));
  const opt = tf.train.adam(3e-3);
  const rng = new Rng(2);
  for (let s = 0; s < 200; s++) {
    const rows = Int32Array.from({ length: 100 }, () => rng.int(train.n));
    const x = tf.tensor2d(binarizeInto(new Float32Array(100 * 784), gather(train.x, 784, rows), rng), [100, 784]);
    const y = Array.from(rows, (r) => train.y[r]);
    opt.minimize(() => tf.neg(tf.mean(bound(m.terms(x, 1, rng, y), { kind: 'elbo' }))) as tf.Scalar, false, m.params.list());
    x.dispose();
  }
  const clf = new DigitClassifier(train, { epochs: 5, seed: 1 });
  let hit = 0;
  for (let c = 0; c < 10; c++) {
    const s = m.sample(50, new Rng(100 + c), c);
    for (const row of clf.probs(s.dataSync() as Float32Array, 50)) if (row.indexOf(Math.max(...row)) === c) hit++;
    s.dispose();
  }
  const rate = hit / 500;
  t.diagnostic(`${(100 * rate).toFixed(1)}% of 500 label-fixed samples classified as their label`);
  assert.ok(rate > 0.6, `only ${(100 * rate).toFixed(1)}% of label-fixed samples are classified as their label`);
  opt.dispose();
  clf.dispose();
  m.dispose();
});
