/**
 * "Adding a model" for the semi-supervised side: a model written here — a linear M2 (p(y) uniform,
 * p(z) = N(0, I), p(x | y, z) Gaussian and linear in (y, z); q(y | x) softmax-linear, q(z | x, y)
 * Gaussian-linear) — returns only its log-terms with y observed or not, becomes a run-config type
 * with one `registerFamily(semiSupervisedFamily(…))` line, and then trains on labelled and unlabelled
 * table rows with J^α, classifies with q(y | x), gets IWAE(k) with y summed exactly, and resumes
 * bit-identically, with no other code.
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
import { Dense } from '../nn/layers.js';
import { GaussianHead } from '../nn/heads.js';
import { Normal } from '../dists/normal.js';
import { Concrete } from '../dists/concrete.js';
import { enumeratedLabels } from '../objectives/enumerate.js';
import type { LabelledTerms, UnlabelledTerms } from '../objectives/semi-supervised.js';
import { semiSupervisedFamily, type SemiSupervisedModel } from './families.js';
import { familyTypes, registerFamily } from './registry.js';
import { RunConfigSchema } from '../config/run.js';
import { validateConfig } from '../config/validate.js';
import { datasetBound, datasetError, loadRun, loadRunData, trainRun } from '../experiments/run.js';
import { setupEngine } from '../testing/helpers.js';

before(setupEngine);

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');

// ---- the new model: one file's worth ----
const LinearM2Schema = z
  .object({ type: z.literal('linear-m2'), latent: z.number().int().min(1).default(2), classes: z.number().int().min(2).optional(), inputDim: z.number().int().optional(), yEstimator: z.enum(['enumerate', 'concrete']).default('enumerate') })
  .strict();
type LinearM2Config = z.output<typeof LinearM2Schema>;

class LinearM2 implements SemiSupervisedModel {
  readonly params = new ParamStore();
  readonly config: { classes: number; inputDim: number; samples: number; yEstimator: 'enumerate' | 'concrete'; latent: number };
  private readonly qy: Dense;
  private readonly qz: GaussianHead;
  private readonly px: GaussianHead;
  readonly qyVariables: tf.Variable[];
  constructor(c: LinearM2Config, shape: { inputDim: number; classes: number }, rng: Rng) {
    const { inputDim: D, classes: K } = shape;
    this.config = { classes: K, inputDim: D, samples: 1, yEstimator: c.yEstimator, latent: c.latent };
    this.qy = new Dense(this.params, 'qy', D, K, rng);
    this.qz = new GaussianHead(this.params, 'qz', D + K, c.latent, rng);
    this.px = new GaussianHead(this.params, 'px', c.latent + K, D, rng);
    this.qyVariables = [this.qy.W, this.qy.b];
  }
  /** log p(x | y, z), log p(z), log q(z | x, y) at one z ~ q(z | x, y), per row. */
  private core(x: tf.Tensor, y: tf.Tensor, rng: Rng) {
    const q = this.qz.apply(tf.concat([x, y], -1));
    const zz = q.rsample(rng);
    const Z = this.config.latent;
    return { logPx: this.px.apply(tf.concat([zz, y], -1)).logProb(x), logPz: new Normal(tf.zeros([Z]), tf.ones([Z])).logProb(zz), logQz: q.logProb(zz) };
  }
  labelledTerms(x: tf.Tensor, y: tf.Tensor, rng: Rng, samples: number): LabelledTerms {
    return tf.tidy(() => {
      const xs = tf.tile(x, [samples, 1]);
      const ys = tf.tile(y, [samples, 1]);
      return { ...this.core(xs, ys, rng), logPy: tf.fill([xs.shape[0]], -Math.log(this.config.classes)), y: ys, qyLogits: this.qy.apply(xs) };
    });
  }
  unlabelledTerms(x: tf.Tensor, rng: Rng, samples: number, estimator: 'enumerate' | 'concrete'): UnlabelledTerms {
    return tf.tidy(() => {
      const xs = tf.tile(x, [samples, 1]);
      const qyLogits = this.qy.apply(xs);
      const K = this.config.classes;
      if (estimator === 'enumerate') {
        const y = enumeratedLabels(K, xs.shape[0]);
        return { estimator, perClass: { ...this.core(tf.tile(xs, [K, 1]), y, rng), logPy: tf.fill([K * xs.shape[0]], -Math.log(K)) }, qyLogits };
      }
      return { estimator, atSample: this.core(xs, new Concrete(qyLogits, 0.5).rsample(rng), rng), qyLogits };
    });
  }
  classify(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.softmax(this.qy.apply(x)));
  }
  samplePrior(y: tf.Tensor, rng: Rng): tf.Tensor {
    return tf.tidy(() => this.px.apply(tf.concat([rng.normal([y.shape[0], this.config.latent]), y], -1)).mean());
  }
  typical(y: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.px.apply(tf.concat([tf.zeros([y.shape[0], this.config.latent]), y], -1)).mean());
  }
  dispose(): void {
    this.params.dispose();
  }
}

// ---- its registration: one line ----
registerFamily(semiSupervisedFamily('linear-m2', 'linear M2 (test)', LinearM2Schema, (c, shape, rng) => new LinearM2(c, shape, rng)));

test('a semi-supervised model registered with one line trains with J^α from labelled and unlabelled rows, classifies, orders its bounds and resumes bit-identically', async () => {
  assert.ok(familyTypes().includes('linear-m2'));
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-family-ssl-'));
  const cfg = validateConfig(
    RunConfigSchema,
    { model: { type: 'linear-m2', latent: 2 }, sources: { labelled: { x: path.join(EXAMPLES, 'table.csv'), labelColumn: 'class', perClass: 5 }, test: { fraction: 0.2 } }, train: { epochs: 30, batchSize: 40, lr: 0.01, seed: 3 } },
    'linear-m2.json',
  );
  const data = loadRunData(cfg);
  assert.equal(data.labelled!.n, 15, '5 labelled rows per class');
  assert.ok(data.unlabelled!.n > 200, 'the rest unlabelled');
  const run = await trainRun(cfg, path.join(d, 'a'), { progress: { silent: true } });
  const { error } = datasetError(run.model, data.test!);
  const elbo = datasetBound(run.model, data.test!, 1, new RngClass(0));
  const iwae = datasetBound(run.model, data.test!, 50, new RngClass(0));
  run.model.dispose();
  // the three peaks are linearly separable; chance is 2/3
  assert.ok(error < 0.2, `test error of q(y | x) ${error}`);
  assert.ok(Number.isFinite(elbo) && iwae >= elbo - 0.05, `IWAE(50) ${iwae.toFixed(3)} ≥ ELBO ${elbo.toFixed(3)}`);
  const half = await trainRun(cfg, path.join(d, 'b'), { epochs: 15, progress: { silent: true } });
  half.model.dispose();
  const resumed = await trainRun(cfg, path.join(d, 'b'), { resume: true, epochs: 30, progress: { silent: true } });
  resumed.model.dispose();
  const a = loadRun(path.join(d, 'a'));
  const b = loadRun(path.join(d, 'b'));
  for (const [name, v] of a.model.params.entries()) {
    const w = b.model.params.entries().find(([n]) => n === name)![1];
    assert.deepEqual(Array.from(w.dataSync()), Array.from(v.dataSync()), `${name} after resume`);
  }
  // sample and generate come with the family
  const g = a.model.generate!(Int32Array.from([0, 2]));
  assert.deepEqual(g.shape, [2, 24]);
  g.dispose();
  a.model.dispose();
  b.model.dispose();
});
