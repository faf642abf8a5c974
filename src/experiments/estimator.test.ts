import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setupEngine } from '../testing/helpers.js';
import { Rng } from '../engine/rng.js';
import { defaultWeights, PAPER_WEIGHTS, UntappedEstimator, toMatrix } from './estimator.js';
import { fitPpca, ppcaPosteriorMap } from '../eval/ppca.js';
import { writeUtp, readUtp } from '../node/files.js';

await setupEngine();

const D = 6;
const E = [[1, 0.8, 0.2, 0.1, 0.5, 0.9], [0.1, 0.3, 0.9, 0.8, 0.2, 0.4], [0.6, 0.1, 0.1, 0.6, 0.9, 0.2]];
/** Linear mixtures of three endmembers with a brightness nuisance. */
function mixtures(n: number, seed: number): { x: number[][]; y: number[][] } {
  const r = new Rng(seed);
  const x: number[][] = [];
  const y: number[][] = [];
  for (let i = 0; i < n; i++) {
    const g = [0, 1, 2].map(() => -Math.log(r.next() + 1e-9));
    const s = g[0] + g[1] + g[2];
    const yi = g.map((v) => v / s);
    const b = 0.8 + 0.4 * r.next();
    y.push(yi);
    x.push(E[0].map((_, d) => b * (yi[0] * E[0][d] + yi[1] * E[1][d] + yi[2] * E[2][d])));
  }
  return { x, y };
}

test('estimator: fit on three sources, predict compositions, generate, encode, score, save and load', async () => {
  const lab = mixtures(60, 1);
  const unl = mixtures(300, 2);
  const tst = mixtures(100, 3);
  const est = new UntappedEstimator({ inputDim: D, classes: 3, latent: 1, hidden: { qy: [16], qz: [8], px: [16] } }, 1);
  const hist = await est.fit({ labelled: lab, unlabelled: { x: unl.x }, unfeatured: { y: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] } }, { epochs: 60, batchSize: 60, lr: 0.01, seed: 2 });
  assert.equal(hist.length, 60);
  const p = est.predict(tst.x, { samples: 3 });
  let mae = 0;
  p.mean.forEach((row, i) => row.forEach((v, k) => (mae += Math.abs(v - tst.y[i][k]))));
  mae /= 300;
  assert.ok(mae < 0.1, `composition MAE ${mae}`);
  assert.equal(p.samples!.length, 3);
  p.samples![0].forEach((row) => assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4));
  const g = est.generate([[1, 0, 0], [0, 1, 0]]);
  assert.equal(g.length, 2);
  assert.equal(g[0].length, D);
  const z = est.encode(tst.x.slice(0, 10));
  z.forEach((row) => assert.ok(row[0] > -1.5 && row[0] < 1.5));
  const sc = est.score({ labelled: { x: tst.x, y: tst.y }, unlabelled: { x: tst.x }, unfeatured: { y: [[1, 0, 0]] } });
  assert.ok([sc.labelled, sc.unlabelled, sc.unfeatured].every((v) => Number.isFinite(v)));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-est-')), 'model.utp');
  est.save(file);
  const back = UntappedEstimator.load(file);
  assert.deepEqual(back.predict(tst.x.slice(0, 5)).mean, est.predict(tst.x.slice(0, 5)).mean);
  back.dispose();
  est.dispose();
});

test('estimator: bad input is a clear error naming the source, row and column', async () => {
  assert.throws(() => toMatrix([[1, 2], [3]], 'unlabelled x'), /unlabelled x: row 1 has 1 values, expected 2/);
  assert.throws(() => toMatrix([[1, NaN]], 'labelled x'), /labelled x: row 0, column 1 is NaN/);
  assert.throws(() => toMatrix([], 'unfeatured y'), /unfeatured y: no rows/);
  const est = new UntappedEstimator({ inputDim: 2, classes: 3 });
  await assert.rejects(est.fit({}), /at least one of labelled, unlabelled, unfeatured/);
  await assert.rejects(est.fit({ labelled: { x: [[1, 2], [3, 4]], y: [[1, 0, 0]] } }), /labelled: 2 rows of x but 1 rows of y/);
  await assert.rejects(est.fit({ unfeatured: { y: [[0.5, 0.5, 0.5]] } }), /unfeatured y: row 0 sums to 1\.5, not 1/);
  await assert.rejects(est.fit({ unlabelled: { x: [[1, 2, 3]] } }), /unlabelled x: row 0 has 3 values, expected 2/);
  est.dispose();
});

test('estimator: centring subtracts the mean input, generate adds it back, and save/load keeps it', async () => {
  const { x, y } = mixtures(60, 3);
  const est = new UntappedEstimator({ inputDim: D, classes: 3 }, 2);
  await est.fit({ labelled: { x, y } }, { epochs: 1, batchSize: 30, center: true, progress: { silent: true } });
  const mu = E[0].map((_, d) => x.reduce((s, r) => s + r[d], 0) / x.length);
  assert.ok(est.xMean);
  est.xMean.forEach((v, d) => assert.ok(Math.abs(v - mu[d]) < 1e-6));
  const g = est.generate([[1, 0, 0]], [[0.3]])[0];
  const saved = est.xMean;
  est.xMean = null;
  const raw = est.generate([[1, 0, 0]], [[0.3]])[0];
  est.xMean = saved;
  g.forEach((v, d) => assert.ok(Math.abs(v - (raw[d] + mu[d])) < 1e-5));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-est-')), 'm.utp');
  est.save(file);
  const back = UntappedEstimator.load(file);
  assert.deepEqual(Array.from(back.xMean!), Array.from(est.xMean!));
  assert.deepEqual(back.predict(x.slice(0, 5)).mean, est.predict(x.slice(0, 5)).mean);
  est.dispose();
  back.dispose();
});

test('estimator: α_r warm-up starts the unfeatured bound at weight 0 and reaches its full weight', async () => {
  // one step per epoch (every source fits one batch), so each step's noise is its epoch's own
  const lab = mixtures(30, 1);
  const unl = mixtures(30, 2);
  const corners = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  const run = async (alphaR: number, alphaRWarmup?: number): Promise<number[][]> => {
    const est = new UntappedEstimator({ inputDim: D, classes: 3, latent: 1, hidden: { qy: [8], qz: [4], px: [8] } }, 1);
    await est.fit({ labelled: lab, unlabelled: { x: unl.x }, unfeatured: { y: corners } }, { epochs: 2, batchSize: 30, lr: 0.01, seed: 2, weights: { alphaR }, progress: { silent: true }, ...(alphaRWarmup ? { alphaRWarmup } : {}) });
    const g = est.generate(corners);
    est.dispose();
    return g;
  };
  const maxDiff = (a: number[][], b: number[][]): number => Math.max(...a.flatMap((r, i) => r.map((v, j) => Math.abs(v - b[i][j]))));
  const off = await run(1e-12); // α_r ≈ 0 (α_r = 0 would skip the term and its random draws)
  const on = await run(1);
  // a warm-up far longer than the run keeps α_r ≤ 2e-9: the same model as α_r ≈ 0
  const long = await run(1, 1e9);
  assert.ok(maxDiff(long, off) < 1e-4, `a long warm-up should match α_r ≈ 0 (max diff ${maxDiff(long, off)})`);
  // the unfeatured bound changes the model when it has weight
  assert.ok(maxDiff(on, off) > 1e-3, `α_r = 1 should change the model (max diff ${maxDiff(on, off)})`);
  // a warm-up over one epoch of two: the second epoch runs at full weight, so it differs from both
  const half = await run(1, 1);
  assert.ok(maxDiff(half, off) > 1e-3 && maxDiff(half, on) > 1e-6);
});

test('estimator: qyComponents fits q(y | x)\'s input map, a PPCA of the labelled and unlabelled rows; later fits keep it; save/load gives the same predictions', async () => {
  const lab = mixtures(20, 1);
  const unl = mixtures(40, 2);
  const k = 2;
  const est = new UntappedEstimator({ inputDim: D, classes: 3, latent: 1, qyComponents: k, hidden: { qy: [8], qz: [4], px: [8] } }, 1);
  await est.fit({ labelled: lab, unlabelled: { x: unl.x } }, { epochs: 3, batchSize: 20, seed: 2, progress: { silent: true } });
  const all = Float64Array.from([...lab.x, ...unl.x].flat());
  const want = fitPpca(all, D, k);
  const got = est.model.qyProjection()!;
  assert.ok(Array.from(got.mean).every((v, j) => Math.abs(v - want.mean[j]) < 1e-5));
  const P = ppcaPosteriorMap(want);
  assert.ok(Array.from(got.P).every((v, i) => Math.abs(v - P[i]) < 1e-4 * (1 + Math.abs(P[i]))), 'the map is the PPCA posterior mean');
  // another fit on other rows keeps the map its weights were trained with
  await est.fit({ labelled: mixtures(20, 5) }, { epochs: 1, progress: { silent: true } });
  assert.deepEqual(Array.from(est.model.qyProjection()!.P), Array.from(got.P));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-est-'));
  const file = path.join(dir, 'm.utp');
  est.save(file);
  const back = UntappedEstimator.load(file);
  assert.equal(back.model.config.qyComponents, k);
  assert.deepEqual(back.predict(unl.x.slice(0, 5)).mean, est.predict(unl.x.slice(0, 5)).mean);
  // a file whose q(y | x) reads components but that lacks the map is refused, naming the file
  const c = readUtp(file);
  delete (c.meta as { qyProjection?: unknown }).qyProjection;
  const broken = path.join(dir, 'broken.utp');
  writeUtp(broken, c);
  assert.throws(() => UntappedEstimator.load(broken), /broken\.utp: the model's q\(y \| x\) reads 2 components but the file has no qyProjection/);
  const unfitted = new UntappedEstimator({ inputDim: D, classes: 3, qyComponents: k });
  assert.throws(() => unfitted.save(path.join(dir, 'u.utp')), /not fitted yet/);
  await assert.rejects(new UntappedEstimator({ inputDim: D, classes: 3, qyComponents: 5 }).fit({ labelled: mixtures(3, 1) }, { epochs: 1, progress: { silent: true } }), /qyComponents 5 needs at least 5 input rows/);
  unfitted.dispose();
  back.dispose();
  est.dispose();
});

test('estimator: the default weights put the fan-in prior on q(y | x)\'s first layer; the papers\' weights do not', () => {
  assert.equal(defaultWeights(401).qyPrior, 1);
  assert.equal(PAPER_WEIGHTS.qyPrior, 0);
});
