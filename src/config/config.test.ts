import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunConfigSchema, validateConfig, ConfigError } from './index.js';

test('defaults fill an empty config', () => {
  const c = validateConfig(RunConfigSchema, {}, 'x.json');
  assert.equal(c.model.type, 'vae');
  assert.deepEqual(c.model.latent, [20]);
  assert.equal(c.train.lr, 1e-3);
  assert.equal(c.objective.bound, 'elbo');
});

test('unknown key names the valid keys, at the top level and inside a model', () => {
  assert.throws(
    () => validateConfig(RunConfigSchema, { trian: {} }, 'run.json'),
    (e: unknown) => e instanceof ConfigError && /run\.json/.test(e.message) && /unknown key 'trian'; valid keys: model, objective, data, sources, train/.test(e.message),
  );
  assert.throws(
    () => validateConfig(RunConfigSchema, { model: { type: 'vae', latnet: [2] } }, 'run.json'),
    /model: unknown key 'latnet'; valid keys: type, latent, hidden/,
  );
  assert.throws(() => validateConfig(RunConfigSchema, { train: { epohcs: 3 } }, 'r'), /train: unknown key 'epohcs'; valid keys: epochs, batchSize, lr/);
});

test('negative learning rate, k < 1 and a wrong type are errors naming the key', () => {
  assert.throws(() => validateConfig(RunConfigSchema, { train: { lr: -0.1 } }, 'r'), /train\.lr: learning rate must be > 0/);
  assert.throws(() => validateConfig(RunConfigSchema, { objective: { samples: 0 } }, 'r'), /objective\.samples: samples \(k\) must be ≥ 1/);
  assert.throws(() => validateConfig(RunConfigSchema, { train: { epochs: 'ten' } }, 'r'), /train\.epochs/);
  assert.throws(() => validateConfig(RunConfigSchema, { model: { type: 'gan' } }, 'r'), /model\.type/);
});
