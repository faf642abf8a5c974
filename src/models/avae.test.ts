import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupEngine, take } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { bound } from '../objectives/bounds.js';
import { Adam } from '../train/adam.js';
import { AvaeConfigSchema, Avae } from './avae.js';
import { createModel } from './registry.js';

await setupEngine();

const D = 12;
const x = tf.tidy(() => tf.cast(tf.less(new Rng(2).uniform([16, D]), 0.3), 'float32'));
const make = () => new Avae(AvaeConfigSchema.parse({ type: 'avae', latent: 3, auxiliary: 2, hidden: [16], inputDim: D }), new Rng(1));

test('AVAE terms have shape [k, B]; the IWAE bound rises with k and lies above the ELBO on average', () => {
  const m = make();
  const t = m.terms(x, 5, new Rng(3));
  for (const v of [t.logLik, t.logPrior, t.logQ]) assert.deepEqual(v.shape, [5, 16]);
  tf.dispose([t.logLik, t.logPrior, t.logQ]);
  const avg = (k: number, kind: 'elbo' | 'iwae') => {
    const r = new Rng(4);
    let s = 0;
    for (let rep = 0; rep < 20; rep++) {
      const tt = m.terms(x, k, r);
      s += take(tf.mean(bound(tt, { kind })))[0];
      tf.dispose([tt.logLik, tt.logPrior, tt.logQ]);
    }
    return s / 20;
  };
  const elbo = avg(10, 'elbo');
  const iw10 = avg(10, 'iwae');
  const iw100 = avg(100, 'iwae');
  assert.ok(elbo < iw10 && iw10 < iw100, `ELBO ${elbo} < IW10 ${iw10} < IW100 ${iw100}`);
  m.dispose();
});

test('AVAE is a registered model type and learns: the ELBO rises over 150 Adam steps', () => {
  const m = createModel(AvaeConfigSchema.parse({ type: 'avae', latent: 3, auxiliary: 2, hidden: [16] }), D, new Rng(1));
  const vars = m.params.entries().map(([name, variable]) => ({ name, variable }));
  const adam = new Adam(vars);
  const rng = new Rng(5);
  const losses: number[] = [];
  for (let s = 0; s < 150; s++) {
    const { value, grads } = tf.variableGrads(() => tf.neg(tf.mean(bound(m.terms(x, 1, rng), { kind: 'elbo' }))) as tf.Scalar, vars.map((v) => v.variable));
    losses.push(value.dataSync()[0]);
    const g = vars.map((v) => grads[v.variable.name]);
    adam.apply(g, 1e-2);
    tf.dispose([value, ...g]);
  }
  const first = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
  const last = losses.slice(-10).reduce((a, b) => a + b) / 10;
  assert.ok(last < first - 1, `loss ${first} → ${last}`);
  const s = m.sample(4, new Rng(6));
  assert.deepEqual(s.shape, [4, D]);
  const rc = m.reconstruct(x);
  assert.deepEqual(rc.shape, [16, D]);
  tf.dispose([s, rc]);
  adam.dispose();
  m.dispose();
});

test('two-layer AVAE (eqs 19–20): terms [k, B], IW bound above the ELBO on average, samples and reconstructions', () => {
  const m = new Avae(AvaeConfigSchema.parse({ type: 'avae', latent: [4, 2], auxiliary: [3, 2], hidden: [16], inputDim: D }), new Rng(1));
  assert.equal(m.depth, 2);
  assert.ok(m.params.names().includes('pz.z.W') && m.params.names().includes('qa2.a.W'));
  const r = new Rng(4);
  let elbo = 0;
  let iw = 0;
  for (let rep = 0; rep < 10; rep++) {
    const t = m.terms(x, 50, r);
    assert.deepEqual(t.logPrior.shape, [50, 16]);
    elbo += take(tf.mean(bound(t, { kind: 'elbo' })))[0] / 10;
    iw += take(tf.mean(bound(t, { kind: 'iwae' })))[0] / 10;
    tf.dispose([t.logLik, t.logPrior, t.logQ]);
  }
  assert.ok(elbo < iw, `ELBO ${elbo} < IW50 ${iw}`);
  const before = tf.memory().numTensors;
  const s = m.sample(3, new Rng(2));
  const rc = m.reconstruct(x);
  const qa = m.encodeAux(x);
  assert.deepEqual(s.shape, [3, D]);
  assert.deepEqual(rc.shape, [16, D]);
  tf.dispose([s, rc, qa.loc, qa.scale ?? []]);
  assert.equal(tf.memory().numTensors, before, 'no tensors leak from sample/reconstruct/encodeAux');
  assert.throws(() => new Avae(AvaeConfigSchema.parse({ type: 'avae', latent: [4, 2], auxiliary: 3, inputDim: D }), new Rng(1)), /one size per stochastic layer \(2\), got 1/);
  m.dispose();
});
