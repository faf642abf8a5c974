/**
 * `untapped experiment vae-table`: the VAE variants of the course report `004_…` (§4.2, table 1)
 * trained side by side on binarised MNIST, each a configuration of the one VAE family
 * (`models/vae.ts`) and the one objective (`objectives/bounds.ts`):
 *
 * | variant    | model                                                        | objective         |
 * | ---        | ---                                                          | ---               |
 * | `vae`      | MLP 784–500–N_z, ReLU (the report's tuned VAE, §4.2.1)        | ELBO              |
 * | `iwae`     | two stochastic layers N_z and ⌈N_z/2⌉, tanh, hidden [200, 200] and [100, 100] (§4.2.4, Burda et al.) | IWAE(k), k = 50 |
 * | `beta-vae` | as `vae`                                                     | ELBO with β = 4 (§4.2.6, eq 5) |
 * | `dvae`     | as `vae`, salt-and-pepper corruption 0.05 (§4.2.5, eq 4)      | ELBO              |
 * | `cvae`     | as `vae`, conditioned on the one-hot digit (§4.2.3, eq 3)      | ELBO of log p(x \| y) |
 * | `conv`     | two convolutions / transposed convolutions with batch norm (§4.2.2, appendix A.2) | ELBO |
 *
 * Every run: Adam (lr 10⁻³), batches of 100, the training images binarised dynamically, the same
 * seed; the test images binarised once with the seed shared by every run (`TEST_BINARIZE_SEED`).
 * Evaluation on the first `testLimit` test images: the ELBO (k = 1) and the importance-weighted
 * log-likelihood log p(x) with `iw` samples (5000 by default, `eval/loglik.ts`), the number of active
 * latent units (`eval/active-units.ts`) with a heat map of every unit's activity over all rows
 * (`active-units.png`), a sample grid and reconstructions, for 2-D latents the
 * manifold and the scatter of encodings (`report/latent.ts`), and for the conditional VAE the rate
 * at which a softmax-regression digit classifier (trained on the same training images) reads each
 * fixed label back from the samples.
 *
 * The report's numbers are copied as data ({@link REPORT_TABLE1}); note that the report calls them
 * log-likelihoods but describes them as values of the variational lower bound, after 100 epochs;
 * the thesis' (`003_…`) numbers are IW-5000 log-likelihoods at other latent sizes
 * ({@link THESIS_REFERENCE}). Both are printed beside ours for orientation, not as like-for-like
 * comparisons: the budgets here are far smaller.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { engineInfo } from '../engine/backend.js';
import { loadMnist } from '../node/mnist.js';
import { binarizeInto, binarizeStatic } from '../data/binarize.js';
import { gather, gatherLabels } from '../data/batches.js';
import type { Dataset } from '../data/dataset.js';
import { Vae, VaeConfigSchema, type VaeConfigInput } from '../models/vae.js';
import { bound, logWeights, type BoundKind } from '../objectives/bounds.js';
import { Trainer, type DataSource } from '../train/trainer.js';
import { iwLogLikelihood } from '../eval/loglik.js';
import { ACTIVE_THRESHOLD, activeUnits } from '../eval/active-units.js';
import { imageGrid, pairsGrid, writePng } from '../node/png.js';
import { writeLatentScatterPng, writeManifoldPng } from '../node/latent.js';
import { writeFileAtomic, makeDir } from '../node/files.js';
import { lockDir } from '../node/lock.js';
import { unitActivityPng } from '../node/chart.js';
import { TEST_BINARIZE_SEED } from './run.js';
import { DigitClassifier } from './mnist-untapped.js';

/** The variants, in table order. */
/**
 * The variants of the table. `vae` / `iwae` share one architecture (L = 1) and `vae-l2` / `iwae-l2`
 * another (the IWAE paper's L = 2, tanh), so each pair differs only in k: the 2 × 2 grid of Burda et
 * al.'s table that the thesis quotes.
 */
export const VAE_VARIANTS = ['vae', 'iwae', 'vae-l2', 'iwae-l2', 'beta-vae', 'dvae', 'cvae', 'conv'] as const;
/** One of {@link VAE_VARIANTS}. */
export type VaeVariant = (typeof VAE_VARIANTS)[number];

/**
 * Table 1 of the course report `004_…` (Sumba, Rahman, Madhu): "log-likelihoods" on binarised
 * MNIST — by the text, values of the variational lower bound after 100 epochs — by latent size N_z.
 */
export const REPORT_TABLE1: Record<string, Record<number, number>> = {
  'VAE original': { 3: -136.0, 5: -115.0, 10: -99.0, 20: -95.0, 200: -98.0 },
  'VAE implementation': { 3: -137.64, 5: -116.93, 10: -95.22, 20: -87.95, 200: -90.31 },
  'VAE tuned': { 3: -140.68, 5: -110.32, 10: -89.78, 20: -80.97, 200: -83.41 },
  'VAE CNN': { 3: -134.99, 5: -113.61, 10: -94.41, 20: -77.78, 200: -75.47 },
  IWAE: { 3: -124.89, 5: -122.45, 10: -177.95, 20: -114.72, 200: -107.02 },
  DVAE: { 3: -109.48, 5: -102.58, 10: -98.26, 20: -92.89, 200: -94.5 },
  'β-VAE': { 3: -154.17, 5: -141.21, 10: -136.14, 20: -137.06, 200: -138.79 },
  CVAE: { 3: -116.27, 5: -98.99, 10: -80.85, 20: -75.43, 200: -76.39 },
};

/** The report's rows each variant is compared with. */
export const REPORT_ROWS: Record<VaeVariant, string[]> = {
  vae: ['VAE tuned', 'VAE implementation'],
  iwae: [],
  'vae-l2': [],
  'iwae-l2': ['IWAE'],
  'beta-vae': ['β-VAE'],
  dvae: ['DVAE'],
  cvae: ['CVAE'],
  conv: ['VAE CNN'],
};

/**
 * Test log-likelihoods (IW 5000) on permutation-invariant, dynamically binarised MNIST quoted by the
 * thesis `003_…` (table 5.1; appendix A table 1, from Burda et al. 2015), where a variant has one.
 */
export const THESIS_REFERENCE: Partial<Record<VaeVariant, { value: number; what: string }>> = {
  vae: { value: -86.76, what: 'VAE (IWAE paper), L=1, 50 latent units, k=1; 003 app. A table 1' },
  iwae: { value: -84.78, what: 'IWAE, L=1, 50 latent units, k=50; 003 app. A table 1' },
  'vae-l2': { value: -85.33, what: 'VAE (IWAE paper), L=2 (100+50 units), k=1; 003 table 5.1' },
  'iwae-l2': { value: -82.9, what: 'IWAE, L=2 (100+50 units), k=50; 003 table 5.1' },
};

/** Options of {@link vaeTableExperiment}. */
export interface VaeTableOptions {
  /** Output directory (created; table.md, table.json, the active-units heat map and one folder of pictures per row). */
  out: string;
  /** Training epochs of every run. */
  budgetEpochs: number;
  /** Latent sizes N_z (the bottom layer's for `iwae`). */
  latents: number[];
  /** Variants to run (default all of {@link VAE_VARIANTS}). */
  variants?: string[];
  /** Seed of every run (default 1). */
  seed?: number;
  /** Use the first N training images (default all 60 000). */
  trainLimit?: number;
  /** Evaluate on the first N test images (default 1000: IW 5000 on all 10 000 costs 5·10⁷ decoder passes per run). */
  testLimit?: number;
  /** Importance samples of the test log-likelihood (default 5000). */
  iw?: number;
  /** Importance samples k of the `iwae` and `iwae-l2` variants' training bound (default 50). */
  iwaeK?: number;
  /** Progress lines (default: none). */
  log?: (s: string) => void;
}

/** One row of the table. */
export interface VaeTableRow {
  variant: VaeVariant;
  latent: number;
  model: Record<string, unknown>;
  objective: { bound: BoundKind; samples: number; beta: number };
  /** Test log-likelihood estimate (IW `iw.k`), nats per image, and its standard error. */
  iw: { k: number; n: number; mean: number; stderr: number };
  /** Test ELBO (k = 1), nats per image. */
  testElbo: number;
  /**
   * Active units (KL > 0.01) and Burda's covariance count, over all stochastic layers, and per unit
   * (one array per layer, bottom first) Burda's A_u = Cov_x(E_q[u | x]) and the mean KL in nats.
   */
  activeUnits: { kl: number; variance: number; total: number; unitVariance: number[][]; unitKl: number[][] };
  /** The report's table-1 numbers at this N_z (row name → value), when it has them. */
  report: Record<string, number>;
  thesis: { value: number; what: string } | null;
  /** Conditional VAE only: fraction of samples with a fixed label that a digit classifier assigns to that label. */
  conditionalAccuracy?: { overall: number; perLabel: number[]; samplesPerLabel: number; classifierTestAccuracy: number };
  epochs: number;
  steps: number;
  seed: number;
  params: number;
  seconds: { train: number; eval: number; wall: number };
  files: string[];
}

/** What {@link vaeTableExperiment} returns. */
export interface VaeTableResult {
  rows: VaeTableRow[];
  /** The tables and the heat map of the units' activity (`active-units.png`, its `.svg` and `.vl.json`). */
  files: { markdown: string; json: string; activeUnits: { png: string; svg: string; spec: string } };
}

const LR = 1e-3;
const BATCH = 100;

/** The name of a row in the heat map of active units. */
export const vaeTableRowName = (r: Pick<VaeTableRow, 'variant' | 'latent'>): string => `${r.variant} N_z=${r.latent}`;

/** Writes the heat map of every row's per-unit activity (log10 A_u; rows of an old table.json without it are not reused). */
function writeActivityChart(file: string, rows: VaeTableRow[]): void {
  unitActivityPng(file, rows.map((r) => ({ name: vaeTableRowName(r), layers: r.activeUnits.unitVariance })), {
    threshold: ACTIVE_THRESHOLD,
    title: 'Active units: Cov_x(E_q[z_u | x]) of each latent unit over the test images (Burda et al.)',
  });
}

/** The IWAE paper's L = 2 architecture (`004_…` §4.2.4): latents N_z and ⌈N_z/2⌉, tanh layers 200-200 and 100-100. */
function iwaeArch(nz: number): VaeConfigInput {
  return { type: 'vae', latent: [nz, Math.ceil(nz / 2)], hidden: [[200, 200], [100, 100]], activation: 'tanh' };
}

/** Model config and objective of one variant at latent size `nz`. */
export function variantSetup(variant: VaeVariant, nz: number, iwaeK = 50): { model: VaeConfigInput; objective: { bound: BoundKind; samples: number; beta: number } } {
  const base: VaeConfigInput = { type: 'vae', latent: [nz], hidden: [[500]], activation: 'relu', likelihood: 'bernoulli' };
  const elbo = { bound: 'elbo' as BoundKind, samples: 1, beta: 1 };
  switch (variant) {
    case 'vae':
      return { model: base, objective: elbo };
    case 'iwae':
      return { model: base, objective: { bound: 'iwae', samples: iwaeK, beta: 1 } };
    case 'vae-l2':
      return { model: iwaeArch(nz), objective: elbo };
    case 'iwae-l2':
      return { model: iwaeArch(nz), objective: { bound: 'iwae', samples: iwaeK, beta: 1 } };
    case 'beta-vae':
      return { model: base, objective: { ...elbo, beta: 4 } };
    case 'dvae':
      return { model: { ...base, corruption: 0.05 }, objective: elbo };
    case 'cvae':
      return { model: { ...base, conditional: 10 }, objective: elbo };
    case 'conv':
      return { model: { type: 'vae', arch: 'conv', channels: [32, 64], latent: [nz], hidden: [[]], activation: 'relu' }, objective: elbo };
  }
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`vae-table: ${what} must be an integer ≥ 1, got ${String(v)}`);
  return v;
}

/** Checks the options; throws naming the first bad one. */
export function checkVaeTableOptions(o: VaeTableOptions): Required<Omit<VaeTableOptions, 'log' | 'trainLimit'>> & { trainLimit?: number } {
  if (typeof o.out !== 'string' || o.out.length === 0) throw new Error('vae-table: out must be a non-empty directory path');
  const budgetEpochs = positiveInt(o.budgetEpochs, 'budgetEpochs');
  if (!Array.isArray(o.latents) || o.latents.length === 0) throw new Error('vae-table: latents must list at least one latent size');
  o.latents.forEach((z) => positiveInt(z, `latent size ${z}`));
  const variants = o.variants ?? [...VAE_VARIANTS];
  if (variants.length === 0) throw new Error(`vae-table: no variants given; valid: ${VAE_VARIANTS.join(', ')}`);
  for (const v of variants) {
    if (!(VAE_VARIANTS as readonly string[]).includes(v)) throw new Error(`vae-table: unknown variant '${v}'; valid: ${VAE_VARIANTS.join(', ')}`);
  }
  const seed = o.seed ?? 1;
  if (!Number.isInteger(seed)) throw new Error(`vae-table: seed must be an integer, got ${seed}`);
  const trainLimit = o.trainLimit === undefined ? undefined : positiveInt(o.trainLimit, 'trainLimit');
  const testLimit = positiveInt(o.testLimit ?? 1000, 'testLimit');
  const iw = positiveInt(o.iw ?? 5000, 'iw (importance samples k)');
  const iwaeK = positiveInt(o.iwaeK ?? 50, 'iwaeK (importance samples k of the IWAE bound)');
  return { out: o.out, budgetEpochs, latents: o.latents, variants, seed, trainLimit, testLimit, iw, iwaeK };
}

/** Training source: dynamically binarised images and their labels. */
function mnistSource(ds: Dataset): DataSource {
  return {
    name: 'train',
    size: ds.n,
    batchSize: Math.min(BATCH, ds.n),
    batch(rows, rng) {
      const x = binarizeInto(new Float32Array(rows.length * ds.dim), gather(ds.x, ds.dim, rows), rng);
      return { x: tf.tensor2d(x, [rows.length, ds.dim]), y: tf.tensor1d(gatherLabels(ds.y, rows), 'int32') };
    },
  };
}

/** Labels of rows [s, s + b) when the model is conditional, else undefined. */
function labelsOf(model: Vae, ds: Dataset, s: number, b: number): Int32Array | undefined {
  return model.numClasses > 0 ? ds.y.subarray(s, s + b) : undefined;
}

/** Mean test ELBO (k = 1, analytic KL where there is one), in evaluation mode. */
function testElbo(model: Vae, ds: Dataset, rng: Rng): number {
  let sum = 0;
  for (let s = 0; s < ds.n; s += 500) {
    const b = Math.min(500, ds.n - s);
    const v = tf.tidy(() => tf.sum(bound(model.terms(tf.tensor2d(ds.x.subarray(s * ds.dim, (s + b) * ds.dim), [b, ds.dim]), 1, rng, labelsOf(model, ds, s, b)), { kind: 'elbo' })));
    sum += v.dataSync()[0];
    v.dispose();
  }
  return sum / ds.n;
}

/** IW log-likelihood over a data set, labels passed to a conditional model; `maxRows` bounds memory. */
function iwOverData(model: Vae, ds: Dataset, k: number, rng: Rng, maxRows: number, log: (s: string) => void, label: string): { mean: number; stderr: number; n: number } {
  const per = Math.max(1, Math.floor(maxRows / k));
  const vals = new Float64Array(ds.n);
  let reported = 0;
  for (let s = 0; s < ds.n; s += per) {
    const b = Math.min(per, ds.n - s);
    const y = labelsOf(model, ds, s, b);
    const r = iwLogLikelihood({ logWeights: (x, kk, rr) => tf.tidy(() => logWeights(model.terms(x, kk, rr, y))) }, ds.x.subarray(s * ds.dim, (s + b) * ds.dim), ds.dim, { k, rng, maxRows, progress: { silent: true } });
    vals.set(r.perExample, s);
    const tenths = Math.floor((10 * (s + b)) / ds.n);
    if (tenths > reported) {
      reported = tenths;
      log(`  ${label}: IW-${k} log-likelihood, ${10 * tenths}% of ${ds.n} images`);
    }
  }
  let mean = 0;
  for (const v of vals) mean += v / ds.n;
  let ss = 0;
  for (const v of vals) ss += (v - mean) ** 2;
  return { mean, stderr: ds.n > 1 ? Math.sqrt(ss / (ds.n - 1) / ds.n) : 0, n: ds.n };
}

/** How often a classifier reads the fixed label back from a conditional VAE's samples. */
function conditionalAccuracy(model: Vae, clf: DigitClassifier, perLabel: number, rng: Rng): { overall: number; perLabel: number[] } {
  const rates: number[] = [];
  for (let c = 0; c < model.numClasses; c++) {
    const s = model.sample(perLabel, rng, c);
    const p = clf.probs(s.dataSync() as Float32Array, perLabel);
    s.dispose();
    let hit = 0;
    for (const row of p) if (row.indexOf(Math.max(...row)) === c) hit++;
    rates.push(hit / perLabel);
  }
  return { overall: rates.reduce((a, b) => a + b, 0) / rates.length, perLabel: rates };
}

/** Fraction of `ds` the classifier labels correctly. */
function classifierAccuracy(clf: DigitClassifier, ds: Dataset): number {
  let hit = 0;
  for (let s = 0; s < ds.n; s += 1000) {
    const b = Math.min(1000, ds.n - s);
    const p = clf.probs(ds.x.subarray(s * ds.dim, (s + b) * ds.dim), b);
    p.forEach((row, i) => {
      if (row.indexOf(Math.max(...row)) === ds.y[s + i]) hit++;
    });
  }
  return hit / ds.n;
}

/** Sample grid, reconstructions and (2-D latents) latent views of a trained model into `dir`. */
function writePictures(model: Vae, variant: VaeVariant, test: Dataset, dir: string, seed: number): string[] {
  makeDir(dir);
  const [h, w] = test.shape;
  const files: string[] = [];
  const C = model.numClasses;
  // samples: 100, for a conditional VAE one row per digit
  const n = 100;
  const s = C > 0 ? model.sample(n, new Rng(seed).fork('samples'), Array.from({ length: n }, (_, i) => Math.floor(i / 10) % C)) : model.sample(n, new Rng(seed).fork('samples'));
  files.push(path.join(dir, 'samples.png'));
  writePng(files.at(-1)!, imageGrid(s.dataSync() as Float32Array, n, h, w, { cols: 10, scale: 2 }));
  s.dispose();
  const m = Math.min(20, test.n);
  const x = test.x.subarray(0, m * test.dim);
  const r = tf.tidy(() => model.reconstruct(tf.tensor2d(x, [m, test.dim]), C > 0 ? test.y.subarray(0, m) : undefined));
  files.push(path.join(dir, 'reconstructions.png'));
  writePng(files.at(-1)!, pairsGrid(x, r.dataSync() as Float32Array, m, h, w, { scale: 2 }));
  r.dispose();
  if (model.config.latent[0] === 2) {
    files.push(path.join(dir, 'manifold.png'));
    writeManifoldPng(files.at(-1)!, (z, panel) => model.decode(z, C > 0 ? new Array<number>(z.shape[0]).fill(panel) : undefined).mean(), test.shape, { steps: C > 0 ? 10 : 20, panels: C > 0 ? C : 1 });
    files.push(path.join(dir, 'latent.png'));
    const k = Math.min(test.n, 5000);
    writeLatentScatterPng(files.at(-1)!, (xb, lb) => model.encode(xb, C > 0 ? lb : undefined).mean(), test.x.subarray(0, k * test.dim), test.y.subarray(0, k), test.dim, {
      title: `${variant}: E[q(z1|x${C > 0 ? ',y' : ''})] of ${k} test images`,
    });
  }
  return files;
}

const fmt = (v: number | undefined, d = 2) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));

/** The Markdown report. */
function markdown(rows: VaeTableRow[], o: ReturnType<typeof checkVaeTableOptions>, total: number): string {
  const eng = engineInfo();
  const lines = [
    '# VAE variants on binarised MNIST (`004_…` table 1)',
    '',
    `Budget: ${o.budgetEpochs} epoch(s) per run on ${o.trainLimit ?? 60000} training images (dynamic binarisation), batch ${BATCH}, Adam lr ${LR}, seed ${o.seed}.`,
    `Test: first ${rows[0]?.iw.n ?? o.testLimit} test images, binarised once (shared seed); log p(x) by importance sampling with ${o.iw} samples (IW-${o.iw}); ELBO with k = 1.`,
    `Engine: ${eng ? `${eng.backend}, tfjs ${eng.versions.tfjs}, node ${eng.versions.node}` : 'unknown'}. Total wall time ${total.toFixed(0)} s.`,
    '',
    '| variant | N_z | test log p(x) (IW) | ± s.e. | test ELBO | report 004 table 1 | thesis 003 | active units (KL / cov.) | epochs | seed | train s | eval s | wall s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => {
      const rep = Object.entries(r.report).map(([k, v]) => `${fmt(v)} (${k})`).join('; ') || '—';
      const th = r.thesis ? `${fmt(r.thesis.value)}¹` : '—';
      return `| ${r.variant} | ${r.latent} | ${fmt(r.iw.mean)} | ${fmt(r.iw.stderr)} | ${fmt(r.testElbo)} | ${rep} | ${th} | ${r.activeUnits.kl} / ${r.activeUnits.variance} of ${r.activeUnits.total} | ${r.epochs} | ${r.seed} | ${r.seconds.train.toFixed(0)} | ${r.seconds.eval.toFixed(0)} | ${r.seconds.wall.toFixed(0)} |`;
    }),
    '',
    'Numbers are nats per image, higher is better. The conditional VAE\'s numbers are log p(x | y) (the label is given), as in the report. ' +
      'Every variant is evaluated the same way: β = 1, the clean (uncorrupted) input, batch norm with its running averages. ' +
      'The test ELBO is a mean of single-sample bounds: for a model trained with IWAE(k) it can be far below log p(x), because that objective tolerates a few samples with near-zero weight (e.g. where p(z₁ | z₂) is very narrow) that dominate a single-sample mean.',
    '',
    '**Sources.** Report: Sumba, Rahman, Madhu, *Improving Variational Autoencoders* (`004_…`), table 1, copied as data; the text says these are values of the variational lower bound after 100 epochs, with the binarisation unspecified, and the report only has N_z ∈ {3, 5, 10, 20, 200} (— elsewhere). ' +
      '¹ Thesis: Maaløe, *Deep Generative Models for Semi-Supervised Machine Learning* (`003_…`), IW-5000 test log-likelihoods on dynamically binarised MNIST at other sizes and budgets (thousands of epochs): ' +
      Object.entries(THESIS_REFERENCE).map(([k, v]) => `${k}: ${v!.value} (${v!.what})`).join('; ') + '.',
    '',
    '**Variants** (one VAE family, `src/models/vae.ts`): ' +
      VAE_VARIANTS.map((v) => {
        const s = variantSetup(v, 0, o.iwaeK);
        const { type: _t, latent: _l, ...rest } = s.model;
        return `\`${v}\`: ${JSON.stringify(rest)}, ${s.objective.bound}${s.objective.samples > 1 ? `(k=${s.objective.samples})` : ''}${s.objective.beta !== 1 ? `, β=${s.objective.beta}` : ''}`;
      }).join('; ') + '. The `vae-l2` and `iwae-l2` variants have two stochastic layers, N_z and ⌈N_z/2⌉. Each of the pairs vae/iwae and vae-l2/iwae-l2 shares its architecture and differs only in k.',
    '',
    'Active units: per-unit KL(q ‖ p) averaged over the test images above 0.01 nats (thesis appendix A fig. 4a); after the slash Burda et al.\'s Cov_x(E_q[u]) > 0.01.',
    '',
  ];
  const cv = rows.filter((r) => r.conditionalAccuracy);
  if (cv.length) {
    lines.push('## Conditional sampling', '', 'Samples drawn with the label fixed, classified by a softmax-regression digit classifier trained on the same training images: the fraction assigned to the fixed label (chance: 10 %).', '');
    lines.push('| N_z | overall | per label 0–9 | classifier test accuracy |', '| --- | --- | --- | --- |');
    for (const r of cv) {
      const a = r.conditionalAccuracy!;
      lines.push(`| ${r.latent} | ${(100 * a.overall).toFixed(1)}% | ${a.perLabel.map((v) => `${Math.round(100 * v)}`).join(', ')} | ${(100 * a.classifierTestAccuracy).toFixed(1)}% |`);
    }
    lines.push('', `${cv[0].conditionalAccuracy!.samplesPerLabel} samples per label (means of p(x | z, y), z from the prior).`, '');
  }
  if (rows.length) {
    lines.push(
      '## Active units',
      '',
      '![active units](active-units.png)',
      '',
      `Each cell is one latent unit u of one row: log10 of A_u = Cov_x(E_q[u | x]) over the test images (Burda et al.'s activity statistic; units of the second stochastic layer of \`vae-l2\` / \`iwae-l2\` are labelled z2:…). ` +
        `A unit is active when A_u > ${ACTIVE_THRESHOLD} (log10 > ${String(Math.log10(ACTIVE_THRESHOLD)).replace('-', '−')}): active units are blue, inactive ones grey, and each row's label gives its count (the covariance count of the table above). A_u below 10⁻¹⁰ is drawn at −10.`,
      '',
    );
  }
  lines.push('## Pictures', '');
  for (const r of rows) {
    lines.push(`### ${r.variant}, N_z = ${r.latent}`, '');
    for (const f of r.files) lines.push(`![${path.basename(f, '.png')}](${path.relative(o.out, f).split(path.sep).join('/')})`);
    lines.push('');
  }
  lines.push(
    'Samples: means of p(x | z) with z from the prior (conditional VAE: one row per digit label). Reconstructions: test images (odd rows) above the mean of p(x | z) at z = E[q(z | x)]. ' +
      'Manifold (2-D latents): decoded means on a grid of prior quantiles 5 %…95 % (conditional VAE: one panel per label). Latent: E[q(z₁ | x)] of test images coloured by digit.',
    '',
  );
  return lines.join('\n');
}

/**
 * Rows of an earlier run in `out/table.json` that the current options would reproduce: same
 * epochs, seed, training and test sets, IW samples and k, and each row's model config and objective
 * equal to what {@link variantSetup} gives now. Anything unreadable or different is ignored.
 */
function reusableRows(file: string, o: ReturnType<typeof checkVaeTableOptions>, dim: number): Map<string, VaeTableRow> {
  const out = new Map<string, VaeTableRow>();
  let old: { options?: Record<string, unknown>; rows?: VaeTableRow[] };
  try {
    old = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return out;
  }
  const keys = ['budgetEpochs', 'seed', 'trainLimit', 'testLimit', 'iw', 'iwaeK'] as const;
  if (!old.options || keys.some((k) => old.options![k] !== o[k]) || !Array.isArray(old.rows)) return out;
  for (const r of old.rows) {
    if (!(VAE_VARIANTS as readonly string[]).includes(r.variant)) continue;
    const setup = variantSetup(r.variant, r.latent, o.iwaeK);
    const want = { ...VaeConfigSchema.parse(setup.model), inputDim: dim } as Record<string, unknown>;
    const same = Object.keys(want).every((k) => JSON.stringify(want[k]) === JSON.stringify(r.model[k])) && JSON.stringify(setup.objective) === JSON.stringify(r.objective);
    const perUnit = Array.isArray(r.activeUnits?.unitVariance) && r.activeUnits.unitVariance.reduce((n, l) => n + (Array.isArray(l) ? l.length : NaN), 0) === r.activeUnits.total;
    if (same && perUnit && r.files.every((f) => fs.existsSync(f))) out.set(`${r.variant}/${r.latent}`, r);
  }
  return out;
}

/**
 * Trains every variant at every latent size and writes `table.md`, `table.json` and pictures into
 * `opts.out`. Rows are written as they finish, so an interrupted run leaves a partial table, and a
 * rerun into the same directory reuses the rows an earlier run finished with the same settings.
 */
export async function vaeTableExperiment(opts: VaeTableOptions): Promise<VaeTableResult> {
  const o = checkVaeTableOptions(opts);
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  makeDir(o.out);
  lockDir(o.out, `output directory ${o.out}`); // held until the process ends: a second run into it refuses
  const train = loadMnist('train', o.trainLimit ? { limit: o.trainLimit } : {});
  const test = binarizeStatic(loadMnist('test', { limit: o.testLimit }), new Rng(TEST_BINARIZE_SEED));
  log(`vae-table: ${o.variants.length} variant(s) × ${o.latents.length} latent size(s), ${o.budgetEpochs} epoch(s) on ${train.n} training images; IW-${o.iw} on ${test.n} test images`);
  const chart = path.join(o.out, 'active-units.png');
  const files = { markdown: path.join(o.out, 'table.md'), json: path.join(o.out, 'table.json'), activeUnits: { png: chart, svg: path.join(o.out, 'active-units.svg'), spec: path.join(o.out, 'active-units.vl.json') } };
  const rows: VaeTableRow[] = [];
  const earlier = reusableRows(files.json, o, train.dim);
  let reusedSeconds = 0; // wall time of the rows taken from the earlier run, counted in the total
  const writeTables = (): void => {
    const total = (performance.now() - t0) / 1000 + reusedSeconds;
    if (rows.length) writeActivityChart(chart, rows);
    writeFileAtomic(files.markdown, markdown(rows, o, total));
    writeFileAtomic(files.json, JSON.stringify({ options: { ...o, log: undefined }, engine: engineInfo(), totalSeconds: total, report004Table1: REPORT_TABLE1, thesis003: THESIS_REFERENCE, rows }, null, 2) + '\n');
  };
  let clf: { model: DigitClassifier; testAccuracy: number } | null = null;
  try {
    for (const nz of o.latents) {
      for (const variant of o.variants as VaeVariant[]) {
        const tRow = performance.now();
        const tag = `${variant} N_z=${nz}`;
        const done = earlier.get(`${variant}/${nz}`);
        if (done) {
          rows.push(done);
          reusedSeconds += done.seconds.wall;
          log(`${tag}: reusing the row of the earlier run in ${files.json} (log p(x) ≈ ${done.iw.mean.toFixed(2)})`);
          continue;
        }
        const setup = variantSetup(variant, nz, o.iwaeK);
        const rng = new Rng(o.seed);
        const model = new Vae({ ...VaeConfigSchema.parse(setup.model), inputDim: train.dim }, rng.fork('init'));
        try {
          const obj = setup.objective;
          log(`${tag}: training ${o.budgetEpochs} epoch(s), ${model.params.count()} parameters, ${obj.bound}${obj.samples > 1 ? ` k=${obj.samples}` : ''}${obj.beta !== 1 ? ` β=${obj.beta}` : ''}`);
          const trainer = new Trainer({
            params: model.params,
            sources: [mnistSource(train)],
            objective: (batch, ctx) =>
              tf.tidy(() => {
                const y = model.numClasses > 0 ? batch.train.y : undefined;
                return tf.neg(tf.mean(bound(model.terms(batch.train.x, obj.samples, ctx.rng, y), { kind: obj.bound, beta: obj.beta }))) as tf.Scalar;
              }),
            epochs: o.budgetEpochs,
            lr: LR,
            seed: o.seed,
            progress: { silent: true },
            onEval: (r) => log(`  ${tag}: epoch ${r.epoch}/${o.budgetEpochs}, training loss ${r.trainLoss.toFixed(2)}, ${r.trainSeconds.toFixed(0)} s`),
          });
          let result;
          try {
            result = await trainer.run();
          } finally {
            trainer.dispose();
          }
          const trainSeconds = result.history.at(-1)?.trainSeconds ?? 0;
          const tEval = performance.now();
          const erng = rng.fork('eval');
          const elbo = testElbo(model, test, erng);
          log(`  ${tag}: test ELBO ${elbo.toFixed(2)}`);
          const maxRows = model.config.arch === 'conv' ? 1000 : 10000;
          const iw = iwOverData(model, test, o.iw, erng, maxRows, log, tag);
          log(`  ${tag}: test log p(x) ≈ ${iw.mean.toFixed(2)} ± ${iw.stderr.toFixed(2)} (IW-${o.iw})`);
          const au = activeUnits(model, test.x, test.dim, { threshold: ACTIVE_THRESHOLD, rng: erng, labels: model.numClasses > 0 ? test.y : undefined });
          const rowDir = path.join(o.out, `${variant}-z${nz}`);
          const pics = writePictures(model, variant, test, rowDir, o.seed);
          let cond: VaeTableRow['conditionalAccuracy'];
          if (model.numClasses > 0) {
            if (!clf) {
              log('  training the digit classifier for the conditional-sampling check');
              const m = new DigitClassifier(train, { epochs: 3, seed: o.seed });
              clf = { model: m, testAccuracy: classifierAccuracy(m, test) };
            }
            const perLabel = 100;
            const acc = conditionalAccuracy(model, clf.model, perLabel, rng.fork('conditional'));
            cond = { ...acc, samplesPerLabel: perLabel, classifierTestAccuracy: clf.testAccuracy };
            log(`  ${tag}: the classifier assigns ${(100 * acc.overall).toFixed(1)}% of label-fixed samples to their label`);
          }
          const evalSeconds = (performance.now() - tEval) / 1000;
          const report: Record<string, number> = {};
          for (const name of REPORT_ROWS[variant]) if (REPORT_TABLE1[name][nz] !== undefined) report[name] = REPORT_TABLE1[name][nz];
          rows.push({
            variant,
            latent: nz,
            model: { ...model.config },
            objective: obj,
            iw: { k: o.iw, n: iw.n, mean: iw.mean, stderr: iw.stderr },
            testElbo: elbo,
            activeUnits: {
              kl: au.active,
              variance: au.activeByVariance,
              total: au.layers.reduce((s, l) => s + l.dim, 0),
              unitVariance: au.layers.map((l) => Array.from(l.meanVariance)),
              unitKl: au.layers.map((l) => Array.from(l.kl)),
            },
            report,
            thesis: THESIS_REFERENCE[variant] ?? null,
            ...(cond ? { conditionalAccuracy: cond } : {}),
            epochs: result.epochs,
            steps: result.steps,
            seed: o.seed,
            params: model.params.count(),
            seconds: { train: trainSeconds, eval: evalSeconds, wall: (performance.now() - tRow) / 1000 },
            files: pics,
          });
          log(`${tag}: done in ${((performance.now() - tRow) / 1000).toFixed(0)} s`);
        } finally {
          model.dispose();
        }
        writeTables();
      }
    }
    writeTables();
  } finally {
    (clf as { model: DigitClassifier } | null)?.model.dispose();
  }
  log(`vae-table: wrote ${files.markdown}, ${files.json} and ${files.activeUnits.png} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  return { rows, files };
}

