import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../config/validate.js';
import { loadSemi2Sources, readSemi2Config, Semi2RunConfigSchema, trainSemi2 } from './semi2-run.js';
import { fitFiles } from './fit.js';
import { formatCsv } from '../io/table.js';
import { linearMixing, setupEngine } from '../testing/helpers.js';

await setupEngine();

function cfgFile(dir: string, v: unknown): string {
  const f = path.join(dir, 'run.json');
  fs.writeFileSync(f, JSON.stringify(v));
  return f;
}

test('untapped run config: MNIST splits give digits 0–4 labelled, N unlabelled and cycling one-hots', () => {
  const cfg = Semi2RunConfigSchema.parse({
    model: { type: 'untapped', labels: 'discrete', classes: 10, likelihood: 'bernoulli' },
    sources: { labelled: { mnist: { digits: [0, 1, 2, 3, 4], perClass: 7 } }, unlabelled: { mnist: { limit: 300 } }, unfeatured: { oneHots: 25 } },
  });
  const { data, K, D, info } = loadSemi2Sources(cfg, '.');
  assert.equal(K, 10);
  assert.equal(D, 784);
  const y = data.labelled!.y as { data: Float32Array; width: number };
  assert.equal(y.data.length / 10, 35);
  const perClass = new Array(10).fill(0);
  for (let i = 0; i < 35; i++) perClass[y.data.subarray(i * 10, i * 10 + 10).indexOf(1)]++;
  assert.deepEqual(perClass, [7, 7, 7, 7, 7, 0, 0, 0, 0, 0]);
  assert.equal((data.unlabelled!.x as { data: Float32Array }).data.length, 300 * 784);
  const f = data.unfeatured!.y as number[][];
  assert.equal(f.length, 25);
  assert.deepEqual(f[13], [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(info.inputs.unfeatured, { corners: 25 });
});

test('untapped run config: file sources relative to the config; bad configs name the key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-s2run-'));
  try {
    fs.writeFileSync(path.join(dir, 'x.csv'), 'id,a,b,c\nr0,1,2,3\nr1,4,5,6\n');
    fs.writeFileSync(path.join(dir, 'y.csv'), 'id,p,q\nr0,0.25,0.75\nr1,1,0\n');
    const cfg = readSemi2Config(cfgFile(dir, { model: { type: 'untapped', classes: 2 }, sources: { labelled: { x: 'x.csv', y: 'y.csv' }, unfeatured: { corners: 4 } } }));
    const { data, K, D } = loadSemi2Sources(cfg, dir);
    assert.equal(K, 2);
    assert.equal(D, 3);
    assert.equal((data.unfeatured!.y as number[][]).length, 4);
    assert.throws(() => readSemi2Config(cfgFile(dir, { model: { type: 'untapped', box: [1, -1] }, sources: { labelled: { x: 'x.csv', y: 'y.csv' } } })), (e: Error) => e instanceof ConfigError && /model\.box: box must be \[lo, hi\]/.test(e.message));
    assert.throws(() => readSemi2Config(cfgFile(dir, { model: { type: 'untapped' }, sources: { labeled: {} } })), /sources: unknown key 'labeled'/);
    const mnistSimplex = Semi2RunConfigSchema.parse({ model: { type: 'untapped' }, sources: { labelled: { mnist: {} } } });
    assert.throws(() => loadSemi2Sources(mnistSimplex, dir), /needs model\.labels 'discrete'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('examples/untapped-mnist.json validates', () => {
  const file = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../examples/untapped-mnist.json');
  const cfg = readSemi2Config(file);
  assert.equal(cfg.model.labels, 'discrete');
  assert.deepEqual(cfg.sources.labelled, { mnist: { digits: [0, 1, 2, 3, 4], perClass: 100 } });
});

/** A small linear-mixing table: x [n, 8] from compositions y [n, 3]. */
const mixing = (n: number, seed: number) => linearMixing(n, seed, { channels: 8, base: 0.3, height: 0.5, first: 1, step: 3, width: 2, noise: 0.01 });

test('fit is a short-hand for train: its config.json trains the same weights; train --resume reads the config a directory keeps', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-s2run-'));
  try {
    const { x, y } = mixing(80, 1);
    const ch = Array.from({ length: 8 }, (_, j) => `c${j}`);
    const fx = path.join(dir, 'x.csv');
    const fy = path.join(dir, 'y.csv');
    const fu = path.join(dir, 'u.csv');
    fs.writeFileSync(fx, formatCsv(ch, x));
    fs.writeFileSync(fy, formatCsv(['a', 'b', 'c'], y));
    fs.writeFileSync(fu, formatCsv(ch, mixing(60, 2).x));
    const fitOpts = { x: fx, y: fy, unlabelled: fu, unfeatured: 'corners:30', latent: 2, epochs: 6, batchSize: 20, lr: 0.01, seed: 3, center: true, validationFraction: 0.25, patience: 0, weights: { alphaR: 0.5, qyPrior: 0 } };
    const a = await fitFiles({ ...fitOpts, out: path.join(dir, 'a') });
    const cfgPath = path.join(dir, 'a', 'config.json');
    const cfg = readSemi2Config(cfgPath);
    assert.deepEqual(cfg.sources.unfeatured, { corners: 30 });
    assert.equal(cfg.sources.labelled && 'x' in cfg.sources.labelled && cfg.sources.labelled.x, fx);
    assert.equal(cfg.train.center, true);
    const b = await trainSemi2(cfg, cfgPath, path.join(dir, 'b'));
    const wa = a.estimator.model.params.snapshot();
    for (const [k, v] of b.estimator.model.params.snapshot()) assert.deepEqual(Array.from(v.data), Array.from(wa.get(k)!.data), k);
    assert.deepEqual(b.info.zMean, a.info.zMean);
    assert.ok(fs.existsSync(path.join(dir, 'b', 'config.json')));

    // interrupted after epoch 3, resumed from the config.json in b2.partial: the same weights as b
    const out = path.join(dir, 'b2');
    await assert.rejects(trainSemi2(cfg, cfgPath, out, { log: (s) => { if (s.startsWith('epoch 3/')) throw new Error('killed'); } }), /killed/);
    const kept = path.join(`${out}.partial`, 'config.json');
    assert.ok(fs.existsSync(kept));
    const c = await trainSemi2(readSemi2Config(kept), kept, out, { resume: true });
    for (const [k, v] of c.estimator.model.params.snapshot()) assert.deepEqual(Array.from(v.data), Array.from(wa.get(k)!.data), k);

    // an interrupted fit resumes through train from the config.json it keeps (the options agree)
    const out2 = path.join(dir, 'f2');
    await assert.rejects(fitFiles({ ...fitOpts, out: out2, log: (s) => { if (s.startsWith('epoch 3/')) throw new Error('killed'); } }), /killed/);
    const kept2 = path.join(`${out2}.partial`, 'config.json');
    const d = await trainSemi2(readSemi2Config(kept2), kept2, out2, { resume: true });
    for (const [k, v] of d.estimator.model.params.snapshot()) assert.deepEqual(Array.from(v.data), Array.from(wa.get(k)!.data), k);
    for (const m of [a, b, c, d]) m.estimator.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
