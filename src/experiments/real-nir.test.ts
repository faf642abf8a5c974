import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupEngine } from '../testing/helpers.js';
import fs from 'node:fs';
import os from 'node:os';
import { gasolineSplit, mayonnaiseSplit, plsError, realNirExperiment, realNirRun, realNirSplit } from './real-nir.js';

await setupEngine();

const DATA = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'realdata');
const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;

test('real-nir splits: sizes, standardised training columns, labels, baselines', () => {
  const m = mayonnaiseSplit(DATA, 0);
  assert.deepEqual([m.labelled.n, m.unlabelled.n, m.test.n, m.D, m.K], [12, 108, 42, 351, 6]);
  // every training column has mean 0 and sd 1 over labelled + unlabelled rows
  for (const j of [0, 100, 350]) {
    const v = [...Array.from({ length: 12 }, (_, i) => m.labelled.x[i * m.D + j]), ...Array.from({ length: 108 }, (_, i) => m.unlabelled.x[i * m.D + j])];
    const mu = mean(v);
    assert.ok(Math.abs(mu) < 1e-4, `column ${j} mean ${mu}`);
    assert.ok(Math.abs(Math.sqrt(v.reduce((s, x) => s + (x - mu) ** 2, 0) / 119) - 1) < 1e-3);
  }
  const perClass = Array.from({ length: 6 }, (_, k) => Array.from({ length: 12 }, (_, i) => m.labelled.y[i * 6 + k]).reduce((s, x) => s + x, 0));
  assert.deepEqual(perClass, [2, 2, 2, 2, 2, 2]);
  assert.ok(Math.abs(m.baseline - 30 / 42) < 1e-9, `majority baseline ${m.baseline}`);
  const g = gasolineSplit(DATA, 0);
  assert.deepEqual([g.labelled.n, g.unlabelled.n, g.test.n, g.D, g.K], [10, 40, 10, 401, 2]);
  for (let i = 0; i < 10; i++) assert.ok(Math.abs(g.test.y[2 * i] + g.test.y[2 * i + 1] - 1) < 1e-6);
  // another seed draws other labelled rows
  assert.notDeepEqual(Array.from(gasolineSplit(DATA, 1).labelled.y), Array.from(g.labelled.y));
  assert.throws(() => realNirSplit('gasoline', '/nonexistent', 0), /gasoline_nir\.csv not found/);
});

test('PLS on 10 labelled gasoline spectra beats predicting the mean octane', () => {
  const g = gasolineSplit(DATA, 0);
  const p = plsError(g);
  assert.ok(p.error < 0.5 * g.baseline, `PLS RMSEP ${p.error} against the mean's ${g.baseline}`);
});

test('guard: on real mayonnaise spectra the default semi-supervised fit is not worse than the labelled rows alone and beats the majority class; the papers\' weights are worse', async () => {
  const res: Record<string, number[]> = { labelled: [], semi: [], 'paper-semi': [] };
  let baseline = 0;
  for (const seed of [0, 1]) {
    const s = mayonnaiseSplit(DATA, seed);
    baseline = s.baseline;
    for (const v of ['labelled', 'semi', 'paper-semi'] as const) res[v].push((await realNirRun(s, v, seed, 150)).testError);
  }
  const [lab, semi, paper] = [mean(res.labelled), mean(res.semi), mean(res['paper-semi'])];
  assert.ok(semi <= lab + 0.05, `semi-supervised ${semi.toFixed(3)} against labelled-only ${lab.toFixed(3)} (${JSON.stringify(res)})`);
  assert.ok(semi < baseline, `semi-supervised ${semi.toFixed(3)} against the majority class ${baseline.toFixed(3)}`);
  assert.ok(paper > semi + 0.05, `the papers' weights ${paper.toFixed(3)} should be clearly worse here than the defaults ${semi.toFixed(3)}`);
});

test('guard: on real gasoline spectra (10 labelled rows × 401 channels) M2 and the labelled-only fit beat predicting the mean, and the unlabelled rows do not make it worse', async () => {
  // before the fan-in prior on q(y | x) (qyPrior), M2 and the labelled-only fit were worse than the mean here
  const res: Record<string, number[]> = { labelled: [], semi: [], semi2: [] };
  const baseline: number[] = [];
  for (const seed of [0, 1]) {
    const s = gasolineSplit(DATA, seed);
    baseline.push(s.baseline);
    for (const v of ['labelled', 'semi', 'semi2'] as const) res[v].push((await realNirRun(s, v, seed, 300)).testError);
  }
  const [lab, semi, semi2, mu] = [mean(res.labelled), mean(res.semi), mean(res.semi2), mean(baseline)];
  const all = JSON.stringify(res);
  assert.ok(semi < 0.75 * mu, `M2 RMSEP ${semi.toFixed(3)} against the mean's ${mu.toFixed(3)} (${all})`);
  assert.ok(lab < 0.75 * mu, `labelled-only RMSEP ${lab.toFixed(3)} against the mean's ${mu.toFixed(3)} (${all})`);
  assert.ok(semi2 < 0.75 * mu, `semi² RMSEP ${semi2.toFixed(3)} against the mean's ${mu.toFixed(3)} (${all})`);
  // not worse than the labelled rows alone beyond seed noise (the sd over seeds is about 0.2 octane)
  for (const [name, v] of [['M2', semi], ['semi²', semi2]] as const) assert.ok(v <= lab + 0.3, `${name} ${v.toFixed(3)} against labelled-only ${lab.toFixed(3)} (${all})`);
});

test('real-nir writes its report when no variant lets the unlabelled bound train q(y | x) (tiny budget)', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-real-nir-'));
  try {
    const r = await realNirExperiment({ data: DATA, out, sets: ['gasoline'], variants: ['labelled', 'semi2'], epochs: 4, seeds: 1 });
    assert.equal(r.runs.length, 2);
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    assert.match(md, /\| semi2 \| \d/);
    assert.match(md, /no gradient-ratio chart/);
    assert.ok(fs.existsSync(path.join(out, 'gasoline-test-error.png')));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
