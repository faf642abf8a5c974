import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '../testing/helpers.js';
import { UntappedEstimator, type Semi2Data } from './estimator.js';

await setupEngine();

const x = [
  [0.1, 0.2, 0.3],
  [0.3, 0.2, 0.1],
  [0.2, 0.2, 0.2],
];
const y = [
  [1, 0],
  [0, 1],
  [0.5, 0.5],
];
const sources: Record<string, Semi2Data> = {
  L: { labelled: { x, y } },
  U: { unlabelled: { x } },
  F: { unfeatured: { y } },
  LU: { labelled: { x, y }, unlabelled: { x } },
  LF: { labelled: { x, y }, unfeatured: { y } },
  UF: { unlabelled: { x }, unfeatured: { y } },
  LUF: { labelled: { x, y }, unlabelled: { x }, unfeatured: { y } },
};

for (const variational of [true, false]) {
  for (const [name, data] of Object.entries(sources)) {
    test(`sources ${name}, ${variational ? 'variational' : 'deterministic'}: one epoch trains, weights stay finite, no tensor is left behind`, async () => {
      const before = tf.memory().numTensors;
      const est = new UntappedEstimator({ inputDim: 3, classes: 2, latent: 1, variational, hidden: { qy: [4], qz: [4], px: [4] } }, 0);
      const w0 = est.model.params.snapshot();
      const hist = await est.fit(data, { epochs: 1, batchSize: 2, lr: 0.01, seed: 0, progress: { silent: true } });
      assert.equal(hist.length, 1);
      assert.ok(Number.isFinite(hist[0].trainLoss), `loss ${hist[0].trainLoss}`);
      const w1 = est.model.params.snapshot();
      let changed = 0;
      for (const [k, v] of w1) {
        assert.ok(v.data.every(Number.isFinite), `${k} finite`);
        if (v.data.some((a, i) => a !== w0.get(k)!.data[i])) changed++;
      }
      assert.ok(changed > 0, 'some parameter was trained');
      est.dispose();
      assert.equal(tf.memory().numTensors, before, 'fit → dispose gives every tensor back');
    });
  }
}

test('parameters no source reaches (the encoder q(z|x,y) with unfeatured labels only, deterministic) are left unchanged', async () => {
  const est = new UntappedEstimator({ inputDim: 3, classes: 2, latent: 1, variational: false, hidden: { qy: [4], qz: [4], px: [4] } }, 0);
  const w0 = est.model.params.snapshot();
  await est.fit(sources.F, { epochs: 2, batchSize: 2, lr: 0.01, seed: 0, progress: { silent: true } });
  const w1 = est.model.params.snapshot();
  const untouched = [...w1.keys()].filter((k) => w1.get(k)!.data.every((a, i) => a === w0.get(k)!.data[i]));
  assert.ok(untouched.some((k) => k.startsWith('qz.')), `unchanged: ${untouched.join(', ')}`);
  est.dispose();
});

test('a Bernoulli estimator refuses inputs outside [0, 1], naming the source, row, column and value', async () => {
  const est = new UntappedEstimator({ inputDim: 3, classes: 2, latent: 1, likelihood: 'bernoulli', hidden: { qy: [4], qz: [4], px: [4] } }, 0);
  await assert.rejects(est.fit({ labelled: { x, y }, unlabelled: { x: [[0, 0.5, 1], [0.2, 255, 0]] } }, { epochs: 1, progress: { silent: true } }), /unlabelled x: row 1, column 1 is 255: the Bernoulli likelihood needs inputs in \[0, 1\]/);
  est.dispose();
});
