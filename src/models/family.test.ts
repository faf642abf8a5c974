/**
 * "Adding a model" (docs/architecture.md) as a test: a model written here — a linear-Gaussian VAE,
 * the variational form of probabilistic PCA — becomes a run-config type with one `registerFamily`
 * line, and then trains from a table, checkpoints, resumes, and gets its bounds (ELBO, IWAE(k)) and
 * IW log-likelihood from the pipeline, with no other code.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Rng } from '../engine/rng.js';
import { Rng as RngClass } from '../engine/rng.js';
import { ParamStore } from '../nn/params.js';
import { GaussianHead } from '../nn/heads.js';
import { Normal } from '../dists/normal.js';
import type { LogTerms } from '../objectives/bounds.js';
import { latentFamily } from './families.js';
import { familyTypes, modelFamily, registerFamily } from './registry.js';
import { RunConfigSchema } from '../config/run.js';
import { validateConfig } from '../config/validate.js';
import { datasetBound, loadRun, loadRunData, trainRun } from '../experiments/run.js';
import { setupEngine } from '../testing/helpers.js';

before(setupEngine);

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');

// ---- the new model: one file's worth ----
const LinearVaeSchema = z.object({ type: z.literal('linear-vae'), latent: z.number().int().min(1).default(2), inputDim: z.number().int().optional() }).strict();
type LinearVaeConfig = z.output<typeof LinearVaeSchema>;

/** q(z | x) = N(Ax + a, diag σ_q²), p(z) = N(0, I), p(x | z) = N(Wz + b, diag σ_x²). */
class LinearVae {
  readonly params = new ParamStore();
  private readonly enc: GaussianHead;
  private readonly dec: GaussianHead;
  constructor(
    readonly config: LinearVaeConfig,
    readonly D: number,
    rng: Rng,
  ) {
    this.enc = new GaussianHead(this.params, 'q.z', D, config.latent, rng);
    this.dec = new GaussianHead(this.params, 'p.x', config.latent, D, rng);
  }
  terms(x: tf.Tensor, k: number, rng: Rng): LogTerms {
    return tf.tidy(() => {
      const q = this.enc.apply(x);
      const zz = q.rsample(rng, k); // [k, B, Z]
      const Z = this.config.latent;
      return { logLik: this.dec.apply(zz).logProb(x), logPrior: new Normal(tf.zeros([Z]), tf.ones([Z])).logProb(zz), logQ: q.logProb(zz) };
    });
  }
  sample(n: number, rng: Rng): tf.Tensor {
    return tf.tidy(() => this.dec.apply(rng.normal([n, this.config.latent])).mean());
  }
  dispose(): void {
    this.params.dispose();
  }
}

// ---- its registration: one line ----
registerFamily(latentFamily('linear-vae', 'linear-Gaussian VAE (probabilistic PCA)', LinearVaeSchema, (c, D, rng) => new LinearVae(c, D, rng)));

test('a model registered with one line trains from a table, improves its test ELBO, orders its bounds and resumes bit-identically', async () => {
  assert.ok(familyTypes().includes('linear-vae'));
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-family-'));
  const cfg = validateConfig(
    RunConfigSchema,
    { model: { type: 'linear-vae', latent: 2 }, sources: { labelled: { x: path.join(EXAMPLES, 'table.csv'), labelColumn: 'class' }, test: { fraction: 0.2 } }, train: { epochs: 4, batchSize: 40, lr: 0.01, seed: 3 } },
    'linear-vae.json',
  );
  // an unknown key of the new type names its keys, as for the built-in ones
  assert.throws(() => validateConfig(RunConfigSchema, { model: { type: 'linear-vae', latnet: 2 } }, 'c.json'), /model: unknown key 'latnet'; valid keys: type, latent, inputDim/);
  const data = loadRunData(cfg);
  const untrained = modelFamily('linear-vae').create(cfg.model as never, { inputDim: 24, classes: 0 }, new RngClass(3).fork('init'));
  const elbo0 = datasetBound(untrained, data.test!, 1, new RngClass(0));
  untrained.dispose();
  const run = await trainRun(cfg, path.join(d, 'a'), { progress: { silent: true } });
  const elbo = datasetBound(run.model, data.test!, 1, new RngClass(0));
  const iwae = datasetBound(run.model, data.test!, 50, new RngClass(0));
  run.model.dispose();
  assert.ok(elbo > elbo0 + 10, `training raised the test ELBO: ${elbo0.toFixed(2)} → ${elbo.toFixed(2)}`);
  assert.ok(iwae >= elbo - 0.05, `IWAE(50) ${iwae.toFixed(3)} ≥ ELBO ${elbo.toFixed(3)}`);
  const half = await trainRun(cfg, path.join(d, 'b'), { epochs: 2, progress: { silent: true } });
  half.model.dispose();
  const resumed = await trainRun(cfg, path.join(d, 'b'), { resume: true, epochs: 4, progress: { silent: true } });
  resumed.model.dispose();
  const a = loadRun(path.join(d, 'a'));
  const b = loadRun(path.join(d, 'b'));
  for (const [name, v] of a.model.params.entries()) {
    const w = b.model.params.entries().find(([n]) => n === name)![1];
    assert.deepEqual(Array.from(w.dataSync()), Array.from(v.dataSync()), `${name} after resume`);
  }
  a.model.dispose();
  b.model.dispose();
});
