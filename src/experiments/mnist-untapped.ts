/**
 * `untapped experiment mnist-untapped` (`002_…` §3 and appendix D; `000_…` §6): labels only for
 * digits 0–4, unlabelled x from all of MNIST, unfeatured y = the ten one-hots with z ~ U(−1.5, 1.5)²
 * observed (bound 20). The same run with α_r = 0 is M2. For each seed and model:
 *
 * - **digit extraction** (eq 18): one image per one-hot, decoded at z̄ = mean over the labelled set
 *   of the median of q(z | x_l, y_l);
 * - **permutation of dims 5–9**: a softmax-regression classifier trained on all of MNIST labels the
 *   five images of one-hots 5–9; each dimension gets the digit its image is most probably, and
 *   clashes are settled greedily by the highest probability (a bijection onto 5–9);
 * - **cross-entropy on digits 5–9** (`002_…`'s measure: M2 2.30, untapped 2.07): −log of q(y | x)'s
 *   probability of the dimension assigned to the true digit, over test images of 5–9, with the
 *   full 10-way softmax;
 * - **KL on all test digits** (`000_…` table 4: M2 4.312, untapped 2.896): KL(one-hot ‖ ȳ) =
 *   −log ȳ_true after the permutation, ȳ clipped at 1e-6;
 * - **distinct digits**: how many different digits the classifier sees in the ten extracted images.
 *
 * Setup of `002_…` appendix D: tanh; x→y [50, 50] (Concrete), (x, y)→z [10, 10] on the box,
 * (y, z)→x [250, 500] Bernoulli; α_f = α_r = 1, α_f^d = 10 (cross-entropy), α_r^d = 0.1 (L2);
 * batch 10 000; lr 0.01. Adam's gradients are clipped by global norm (10) rather than elementwise
 * to (−1, 1). Pixel intensities in [0, 1] are used as they are (Bernoulli cross-entropy).
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { loadMnist } from '../node/mnist.js';
import type { Dataset } from '../data/dataset.js';
import { gather } from '../data/batches.js';
import { Adam } from '../train/adam.js';
import { ParamStore } from '../nn/params.js';
import { imageGrid, writePng } from '../node/png.js';
import { writeFileAtomic, makeDir } from '../node/files.js';
import { lockDir } from '../node/lock.js';
import { UntappedEstimator } from './estimator.js';
import { oneHot } from '../dists/categorical.js';
import { meanSd } from './stats.js';

/** The papers' numbers for this experiment. */
export const MNIST_UNTAPPED_PAPER = { crossEntropy59: { m2: 2.3, untapped: 2.07 }, kl: { m2: 4.312, untapped: 2.896 } };

/** A softmax-regression digit classifier (784 → 10), the "logistic regression" of the protocol. */
export class DigitClassifier {
  private readonly ps = new ParamStore();
  private readonly W: tf.Variable;
  private readonly b: tf.Variable;

  constructor(train: Dataset, opts: { epochs?: number; seed?: number } = {}) {
    const D = train.dim;
    this.W = this.ps.add('W', tf.zeros([D, 10]));
    this.b = this.ps.add('b', tf.zeros([10]));
    const adam = new Adam([{ name: 'W', variable: this.W }, { name: 'b', variable: this.b }]);
    const rng = new Rng(opts.seed ?? 0);
    for (let e = 0; e < (opts.epochs ?? 3); e++) {
      const perm = rng.permutation(train.n);
      for (let s = 0; s + 500 <= train.n; s += 500) {
        const rows = perm.subarray(s, s + 500);
        const x = tf.tensor2d(gather(train.x, D, rows), [500, D]);
        const y = oneHot(Array.from(rows, (r) => train.y[r]), 10);
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(x, this.W), this.b)) as tf.Scalar, [this.W, this.b]);
        const g = [grads[this.W.name], grads[this.b.name]];
        adam.apply(g, 0.01);
        tf.dispose([x, y, value, ...g]);
      }
    }
    adam.dispose();
  }

  /** p(digit | image) for images [n, 784] → [n, 10]. */
  probs(x: Float32Array, n: number): number[][] {
    return tf.tidy(() => tf.softmax(tf.add(tf.matMul(tf.tensor2d(x, [n, this.W.shape[0]]), this.W), this.b)).arraySync() as number[][]);
  }

  /** Frees the weights. */
  dispose(): void {
    this.ps.dispose();
  }
}

/**
 * Assigns digits 5–9 to dimensions 5–9: each dimension takes the digit its image is most probably
 * when that digit is unique to it; clashes are settled greedily by the highest probability.
 * `probs[k]` is p(digit | image of one-hot k) for k = 0..9. Returns perm with perm[dim] = digit.
 */
export function assignPermutation(probs: number[][]): number[] {
  const perm = [0, 1, 2, 3, 4, -1, -1, -1, -1, -1];
  const pairs: { dim: number; digit: number; p: number }[] = [];
  for (let dim = 5; dim < 10; dim++) for (let digit = 5; digit < 10; digit++) pairs.push({ dim, digit, p: probs[dim][digit] });
  pairs.sort((a, b) => b.p - a.p);
  const used = new Set<number>();
  for (const { dim, digit } of pairs) {
    if (perm[dim] !== -1 || used.has(digit)) continue;
    perm[dim] = digit;
    used.add(digit);
  }
  return perm;
}

/** One model's measurements for one seed. */
export interface MnistUntappedRun {
  model: 'untapped' | 'm2';
  seed: number;
  epochs: number;
  seconds: number;
  /** perm[dim] = digit. */
  permutation: number[];
  /** Digits the classifier sees in the ten extracted images. */
  extracted: number[];
  distinctDigits: number;
  crossEntropy59: number;
  kl: number;
  /** The ten extracted images, 784 values each. */
  images: Float32Array;
}

/** Options of {@link mnistUntappedExperiment}. */
export interface MnistUntappedOptions {
  out: string;
  seeds?: number;
  /** First seed (default 0); seeds run from it upwards. */
  seed?: number;
  epochs?: number;
  budgetSeconds?: number;
  trainLimit?: number;
  batchSize?: number;
  /**
   * Rows of unfeatured labels per digit (default 1: the ten one-hots). Each row gets its own z, so
   * more rows cover the z box better in every step; the reference implementation's MNIST demo uses
   * the one-hot labels of the whole training set (about 5000 per digit).
   */
  unfeaturedPerDigit?: number;
  /** Models to train per seed (default both). */
  models?: readonly ('untapped' | 'm2')[];
  /** Epochs of linear warm-up of α_r for the untapped model (default 0). */
  alphaRWarmup?: number;
  onRun?: (r: MnistUntappedRun) => void;
  onEpoch?: (model: string, seed: number, epoch: number, loss: number) => void;
}

/** Runs the experiment and writes `results.json`, `report.md` and `digits-seed<N>.png`. */
export async function mnistUntappedExperiment(o: MnistUntappedOptions): Promise<{ runs: MnistUntappedRun[]; files: string[] }> {
  makeDir(o.out);
  lockDir(o.out, `output directory ${o.out}`); // held until the process ends: a second run into it refuses
  const train = loadMnist('train', o.trainLimit ? { limit: o.trainLimit } : {});
  const test = loadMnist('test');
  const D = train.dim;
  const lr = new DigitClassifier(loadMnist('train'));
  const lrAcc = (() => {
    const p = lr.probs(test.x, test.n);
    let ok = 0;
    p.forEach((row, i) => (ok += row.indexOf(Math.max(...row)) === test.y[i] ? 1 : 0));
    return ok / test.n;
  })();
  // labelled: every training image of digits 0–4
  const labRows = Array.from({ length: train.n }, (_, i) => i).filter((i) => train.y[i] <= 4);
  const labX = gather(train.x, D, labRows);
  const labY = new Float32Array(labRows.length * 10);
  labRows.forEach((r, i) => (labY[i * 10 + train.y[r]] = 1));
  const oneHots = Array.from({ length: 10 }, (_, k) => Array.from({ length: 10 }, (_, j) => (j === k ? 1 : 0)));
  const perDigit = o.unfeaturedPerDigit ?? 1;
  if (!Number.isInteger(perDigit) || perDigit < 1) throw new Error(`mnist-untapped: unfeaturedPerDigit must be an integer ≥ 1, got ${perDigit}`);
  const unfeatured = Array.from({ length: 10 * perDigit }, (_, i) => oneHots[i % 10]);
  const runs: MnistUntappedRun[] = [];
  const files: string[] = [];
  const first = o.seed ?? 0;
  const models = o.models ?? (['untapped', 'm2'] as const);
  for (let seed = first; seed < first + (o.seeds ?? 5); seed++) {
    const images: Float32Array[] = [];
    for (const model of models) {
      const est = new UntappedEstimator({ inputDim: D, classes: 10, labels: 'discrete', latent: 2, box: [-1.5, 1.5], hidden: { qy: [50, 50], qz: [10, 10], px: [250, 500] }, activation: 'tanh', likelihood: 'bernoulli' }, seed);
      const t0 = performance.now();
      const hist = await est.fit(
        { labelled: { x: { data: labX, width: D }, y: { data: labY, width: 10 } }, unlabelled: { x: { data: train.x, width: D } }, unfeatured: { y: unfeatured } },
        {
          epochs: o.epochs ?? 30,
          batchSize: o.batchSize ?? 10000,
          lr: 0.01,
          seed,
          weights: { alphaF: 1, alphaFd: 10, alphaR: model === 'm2' ? 0 : 1, alphaRd: 0.1, yLoss: 'ce', unlabelledQy: 1, qyPrior: 0 },
          ...(o.budgetSeconds ? { budgetSeconds: o.budgetSeconds } : {}),
          ...(o.alphaRWarmup && model === 'untapped' ? { alphaRWarmup: o.alphaRWarmup } : {}),
          onEpoch: (r) => o.onEpoch?.(model, seed, r.epoch, r.trainLoss),
        },
      );
      const seconds = (performance.now() - t0) / 1000;
      // eq 18: z̄ over the labelled set, then one image per one-hot
      const zs = est.encode({ data: labX, width: D }, { data: labY, width: 10 });
      const zbar = [0, 1].map((j) => zs.reduce((s, r) => s + r[j], 0) / zs.length);
      const gen = est.generate(oneHots, oneHots.map(() => zbar));
      const img = Float32Array.from(gen.flat()); // means of p(x | y, z̄): pixel probabilities
      const probs = lr.probs(img, 10);
      const extracted = probs.map((row) => row.indexOf(Math.max(...row)));
      const permutation = assignPermutation(probs);
      // digit of each dimension → dimension of each digit
      const dimOf = new Array<number>(10);
      permutation.forEach((digit, dim) => (dimOf[digit] = dim));
      const pred = est.predict({ data: test.x, width: D }).mean;
      let ce = 0;
      let n59 = 0;
      let kl = 0;
      for (let i = 0; i < test.n; i++) {
        const p = Math.max(pred[i][dimOf[test.y[i]]], 1e-6);
        kl -= Math.log(p);
        if (test.y[i] >= 5) {
          ce -= Math.log(p);
          n59++;
        }
      }
      const run: MnistUntappedRun = { model, seed, epochs: hist.length, seconds, permutation, extracted, distinctDigits: new Set(extracted).size, crossEntropy59: ce / n59, kl: kl / test.n, images: img };
      runs.push(run);
      images.push(img);
      o.onRun?.(run);
      est.dispose();
    }
    const f = path.join(o.out, `digits-seed${seed}.png`);
    // one row of ten images per model, in the order trained (default: untapped, then M2)
    const rows = new Float32Array(images.length * 10 * 784);
    images.forEach((img, i) => rows.set(img, i * 10 * 784));
    writePng(f, imageGrid(rows, images.length * 10, 28, 28, { cols: 10 }));
    files.push(f);
  }
  lr.dispose();
  const summary = (m: 'untapped' | 'm2') => {
    const r = runs.filter((x) => x.model === m);
    return { crossEntropy59: meanSd(r.map((x) => x.crossEntropy59)), kl: meanSd(r.map((x) => x.kl)), distinctDigits: meanSd(r.map((x) => x.distinctDigits)) };
  };
  const sum = { untapped: summary('untapped'), m2: summary('m2') };
  const jf = path.join(o.out, 'results.json');
  writeFileAtomic(jf, JSON.stringify({ experiment: 'mnist-untapped', classifierAccuracy: lrAcc, paper: MNIST_UNTAPPED_PAPER, summary: sum, runs: runs.map(({ images: _images, ...r }) => r) }, null, 2) + '\n');
  files.push(jf);
  const fmt = (s: { mean: number; sd: number }) => `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}`;
  const lines = [
    '# MNIST with labels for digits 0–4 only: untapped vs M2',
    '',
    `${o.seeds ?? 5} seeds (${first}–${first + (o.seeds ?? 5) - 1}), ${runs[0]?.epochs ?? 0} epochs each, batch ${o.batchSize ?? 10000}${o.alphaRWarmup ? `, α_r warmed up over ${o.alphaRWarmup} epochs` : ''}${(o.unfeaturedPerDigit ?? 1) > 1 ? `, ${o.unfeaturedPerDigit} unfeatured rows per digit` : ''}; digit classifier (softmax regression on all of MNIST) test accuracy ${(100 * lrAcc).toFixed(1)}%.`,
    '',
    '| model | cross-entropy on digits 5–9 | KL on all test digits | distinct digits among the 10 one-hots |',
    '|---|---:|---:|---:|',
    `| M2 (α_r = 0) | ${fmt(sum.m2.crossEntropy59)} | ${fmt(sum.m2.kl)} | ${fmt(sum.m2.distinctDigits)} |`,
    `| untapped | ${fmt(sum.untapped.crossEntropy59)} | ${fmt(sum.untapped.kl)} | ${fmt(sum.untapped.distinctDigits)} |`,
    `| paper: M2 / untapped | ${MNIST_UNTAPPED_PAPER.crossEntropy59.m2} / ${MNIST_UNTAPPED_PAPER.crossEntropy59.untapped} (\`002_…\`) | ${MNIST_UNTAPPED_PAPER.kl.m2} / ${MNIST_UNTAPPED_PAPER.kl.untapped} (\`000_…\` table 4) | 9 / 10 (figures) |`,
    '',
    `Digit extraction (eq 18), one row per model, top to bottom ${models.map((m) => (m === 'm2' ? 'M2' : m)).join(', ')}: \`digits-seed<N>.png\`.`,
  ];
  const rf = path.join(o.out, 'report.md');
  writeFileAtomic(rf, lines.join('\n') + '\n');
  files.push(rf);
  return { runs, files };
}
