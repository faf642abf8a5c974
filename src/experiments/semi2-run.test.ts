import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../config/validate.js';
import { loadSemi2Sources, readSemi2Config, Semi2RunConfigSchema } from './semi2-run.js';
import { setupEngine } from '../testing/helpers.js';

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
