import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupEngine, assertClose, take } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { fitPotential, potentialEnergy, potentialLogZ } from './potential.js';

await setupEngine();

test('potential energy matches eq 4.18 at hand-computed points', () => {
  const z = tf.tensor2d([[0, 2], [2, 0], [0, 0]]);
  const u = take(potentialEnergy(z));
  const mix = (z2: number) => -Math.log(Math.exp(-0.5 * ((z2 - 2) / 0.6) ** 2) + Math.exp(-0.5 * ((z2 + 2) / 0.6) ** 2));
  assertClose(u, [mix(2), mix(0), 0.5 * (2 / 0.4) ** 2 + mix(0)], { rtol: 1e-5 });
  z.dispose();
});

test('grid log Z converges (600² and 900² cells agree to 1e-4)', () => {
  assertClose(potentialLogZ(600), potentialLogZ(900), { atol: 1e-4 });
});

test('both fitted bounds lie below log Z; the auxiliary one beats the Gaussian', () => {
  const logZ = potentialLogZ();
  const g = fitPotential({ kind: 'gaussian', steps: 600, batch: 100, seed: 1 });
  const a = fitPotential({ kind: 'auxiliary', steps: 600, batch: 100, seed: 1 });
  const bg = g.bound(new Rng(5), 20000);
  const ba = a.bound(new Rng(5), 20000);
  assert.ok(bg < logZ && ba < logZ, `bounds ${bg}, ${ba} must be below log Z ${logZ}`);
  assert.ok(ba > bg + 0.1, `auxiliary bound ${ba} should beat the Gaussian ${bg}`);
  assert.ok(g.curve.at(-1)!.bound > g.curve[0].bound, 'the Gaussian bound improved during training');
  g.params.dispose();
  a.params.dispose();
});
