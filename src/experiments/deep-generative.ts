/**
 * Two thesis experiments on deep generative models, each a set of run configs trained through the
 * one run pipeline (`experiments/run.ts`: `trainRun`), so every row is also a run directory that
 * `untapped evaluate`, `sample` and `train --resume` accept:
 *
 * - `lvae-table` (thesis `003_…` §5.1.1, appendix B §3.1, fig. 3): the hierarchical VAE without and
 *   with batch norm (BN, on every hidden and μ/σ layer) and deterministic warm-up (WU), and the LVAE with both, for L = 1 … 5
 *   stochastic layers (64-32-16-8-4, MLPs 512-256-128-64-32, leaky ReLU, Adam 10⁻³) at one epoch
 *   budget: train and test L₁ (the ELBO), test L_k (IW log-likelihood) and active units per layer.
 * - `cagem` (§4.3, appendix C, table 4.2): CaGeM-0 with C = 5, 10, 20 clusters and CaGeM-20/50/100
 *   (labels spread evenly over the classes): the IW log-likelihood, and the test error of q(y | x)
 *   for the labelled variants.
 *
 * Both write `table.md` and `table.json` with the papers' numbers beside ours and the budget, and
 * `active-units.png`, the per-unit KL of every stochastic layer of every row (appendix B fig. 4 at
 * the end of training); each run directory also holds its own `units.png` over training.
 * The papers train for 2000 epochs (LVAE) or with warm-up over 100 epochs (CaGeM); the budgets here
 * are far smaller, so the numbers are for orientation and for the ordering of the variants.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../engine/rng.js';
import { engineInfo } from '../engine/backend.js';
import { binarizeStatic } from '../data/binarize.js';
import { subsetRows, type Dataset } from '../data/dataset.js';
import { concatRows } from '../data/sources.js';
import { iwLogLikelihood } from '../eval/loglik.js';
import { RunConfigSchema, type RunConfig } from '../config/run.js';
import { validateConfig } from '../config/validate.js';
import { writeFileAtomic, makeDir } from '../node/files.js';
import { unitActivityPng } from '../node/chart.js';
import { drawableKl, writeRunReport } from './report.js';
import { ACTIVE_THRESHOLD } from '../eval/active-units.js';
import { datasetBound, datasetError, importanceModel, loadRunData, runActiveUnits, scoresClasses, trainRun, UNIT_KL_ROWS } from './run.js';

/** What every row of both tables measures. */
export interface DeepRow {
  name: string;
  /** The run directory. */
  dir: string;
  epochs: number;
  trainSeconds: number;
  /** ELBO on (up to) `n` training images, binarised once. */
  trainL1: number;
  /** ELBO on the test images. */
  testL1: number;
  /** IW log-likelihood on the test images. */
  testIw: { k: number; n: number; mean: number; stderr: number };
  /** Test error of q(y | x) where the model was trained with labels. */
  testError?: number;
  /** Active units (mean KL > 0.01 nats) per stochastic layer, bottom first, and the per-unit KL. */
  active?: number[];
  unitKl?: number[][];
}

/** Options shared by both experiments. */
export interface DeepOptions {
  out: string;
  budgetEpochs: number;
  seed: number;
  /** First n MNIST training images (quick runs). */
  trainLimit?: number;
  /** Test images for the bounds and the IW log-likelihood. */
  testLimit: number;
  /** Importance samples of the test log-likelihood. */
  iw: number;
  batchSize: number;
  log: (s: string) => void;
}

/** Trains one config into `dir` and measures its row. */
async function trainRow(name: string, cfg: RunConfig, dir: string, o: DeepOptions): Promise<DeepRow> {
  const parsed = validateConfig(RunConfigSchema, cfg, name);
  const run = await trainRun(parsed, dir, { progress: { silent: true }, onEval: (r) => o.log(`${name}: epoch ${r.epoch}, ${Object.entries(r.metrics).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`) });
  try {
    const rng = new Rng(o.seed).fork(`measure-${name}`);
    const test = run.data.test!;
    // training images as the model saw them: binarised (once, seeded) where training binarised them per batch
    const parts = [run.data.labelled, run.data.unlabelled].filter((d): d is Dataset => d !== undefined);
    const all = parts.length === 1 ? parts[0] : concatRows(parts, 'training rows');
    const first = subsetRows(all, Array.from({ length: Math.min(o.testLimit, all.n) }, (_, i) => i), 'train-subset');
    const train = run.data.dynamic ? binarizeStatic(first, new Rng(o.seed).fork('train-binarize')) : first;
    const iw = iwLogLikelihood(importanceModel(run.model), test.x, test.dim, { k: o.iw, rng });
    const units = runActiveUnits(run.model, test, rng.fork('units'), UNIT_KL_ROWS);
    const last = run.result.history.at(-1);
    const row: DeepRow = {
      name,
      dir,
      epochs: run.result.epochs,
      trainSeconds: last?.trainSeconds ?? 0,
      trainL1: datasetBound(run.model, train, 1, rng),
      testL1: datasetBound(run.model, test, 1, rng),
      testIw: { k: iw.k, n: iw.n, mean: iw.mean, stderr: iw.stderr },
      ...(scoresClasses(run.model, run.data) ? { testError: datasetError(run.model, test).error } : {}),
      ...(units ? { active: units.layers.map((l) => l.active), unitKl: units.layers.map((l) => drawableKl(l.kl)) } : {}),
    };
    writeRunReport(dir, run.config, run.model, run.data, run.result.history, { iw: Math.min(o.iw, 100), iwN: Math.min(100, test.n) });
    o.log(`${name}: train L1 ${row.trainL1.toFixed(2)}, test L1 ${row.testL1.toFixed(2)}, test IW-${iw.k} ${iw.mean.toFixed(2)} ± ${iw.stderr.toFixed(2)}${row.testError !== undefined ? `, test error ${(100 * row.testError).toFixed(2)}%` : ''}${row.active ? `, active units per layer ${row.active.map((a, i) => `${a}/${row.unitKl![i].length}`).join(' ')}` : ''}`);
    return row;
  } finally {
    run.model.dispose();
  }
}

/** The MNIST data section of a row's config. */
function mnistData(o: Omit<DeepOptions, 'log'>, extra: Record<string, unknown> = {}) {
  return { dataset: 'mnist', binarize: 'dynamic', testLimit: o.testLimit, ...(o.trainLimit ? { trainLimit: o.trainLimit } : {}), ...extra };
}

/**
 * Refuses an `--out` that already holds files (an earlier table's rows would stand beside the new
 * ones), and warns when the warm-up outlasts the budget (β never reaches 1: the bound is not trained).
 */
function checkStart(o: DeepOptions & { warmupEpochs?: number }, name: string): void {
  if (fs.existsSync(o.out) && fs.readdirSync(o.out).length > 0) throw new Error(`${name}: ${o.out} already holds files (an earlier table?); choose a new --out`);
  if (o.warmupEpochs !== undefined && o.warmupEpochs > o.budgetEpochs) o.log(`${name}: warning: --warmup-epochs ${o.warmupEpochs} exceeds --budget-epochs ${o.budgetEpochs}, so the KL weight never reaches 1`);
}

/** Writes table.md / table.json / active-units.png; returns the files. */
function writeTable(o: DeepOptions, title: string, head: string[], lines: string[], notes: string[], rows: DeepRow[], extra: object): string[] {
  const md = path.join(o.out, 'table.md');
  const json = path.join(o.out, 'table.json');
  const eng = engineInfo();
  const budget = `${o.budgetEpochs} epochs per row, batch ${o.batchSize}, ${o.trainLimit ? `the first ${o.trainLimit}` : 'all 60000'} training images (dynamic binarisation), the first ${o.testLimit} test images (static binarisation), IW ${o.iw}, seed ${o.seed}; ${eng ? `${eng.backend}, tfjs ${eng.versions.tfjs}` : ''}`;
  const files = [md, json];
  const withUnits = rows.filter((r) => r.unitKl?.length);
  if (withUnits.length) {
    const png = path.join(o.out, 'active-units.png');
    unitActivityPng(png, withUnits.map((r) => ({ name: r.name, layers: r.unitKl! })), { title: `${title}: per-unit KL(q ‖ p) at the end of training`, valueLabel: 'KL_u (nats)', threshold: ACTIVE_THRESHOLD });
    files.push(png, path.join(o.out, 'active-units.svg'), path.join(o.out, 'active-units.vl.json'));
  }
  const text = [`# ${title}`, '', `Budget: ${budget}.`, '', head.join(' | ').replace(/^/, '| ').replace(/$/, ' |'), head.map(() => '---').join(' | ').replace(/^/, '| ').replace(/$/, ' |'), ...lines, '', ...notes, '', ...(withUnits.length ? ['![active units](active-units.svg)', ''] : [])].join('\n');
  writeFileAtomic(md, text);
  writeFileAtomic(json, JSON.stringify({ budget, rows, ...extra }, null, 2) + '\n');
  return files;
}

// ---- lvae-table -----------------------------------------------------------------------------------

/** The model variants of appendix B fig. 3, in its order. */
export const LVAE_VARIANTS = ['vae', 'vae-bn', 'vae-bn-wu', 'lvae-bn-wu'] as const;
/** One of {@link LVAE_VARIANTS}. */
export type LvaeVariant = (typeof LVAE_VARIANTS)[number];

/** The paper's numbers quoted in its text (appendix B §3.1; fig. 3 is a plot): test L₁ and L₅₀₀₀. */
export const LVAE_PAPER = {
  'lvae-bn-wu': { layers: 5, testL1: -85.23, testL5000: -82.12 },
  'vae-bn-wu': { layers: 3, testL1: -87.49, testL5000: -82.74 },
} as const;

const SIZES = [64, 32, 16, 8, 4];
const WIDTHS = [512, 256, 128, 64, 32];

/** Options of {@link lvaeTableExperiment}. */
export interface LvaeTableOptions extends DeepOptions {
  layers: number[];
  variants: LvaeVariant[];
  /** Epochs of linear KL warm-up for the WU variants (default: half the budget, the paper's 200 of 2000 being a tenth of a much longer run). */
  warmupEpochs?: number;
}

/** The run config of one (variant, L) row. */
export function lvaeRowConfig(variant: LvaeVariant, L: number, o: Omit<LvaeTableOptions, 'log'>): RunConfig {
  if (!(Number.isInteger(L) && L >= 1 && L <= SIZES.length)) throw new Error(`lvae-table: layers must be 1…${SIZES.length}, got ${L}`);
  const wu = variant.endsWith('-wu');
  return {
    model: { type: 'lvae', inference: variant.startsWith('lvae') ? 'ladder' : 'bottom-up', latent: SIZES.slice(0, L), hidden: WIDTHS.slice(0, L), activation: 'leaky-relu', batchNorm: variant.includes('-bn'), batchNormHeads: variant.includes('-bn') },
    objective: { ...(wu && (o.warmupEpochs ?? 1) > 0 ? { warmupEpochs: o.warmupEpochs ?? Math.max(1, Math.round(o.budgetEpochs / 2)) } : {}) },
    data: mnistData(o),
    train: { epochs: o.budgetEpochs, batchSize: o.batchSize, lr: 0.001, seed: o.seed, evalEvery: Math.max(1, Math.ceil(o.budgetEpochs / 5)) },
  } as unknown as RunConfig;
}

/** Runs the LVAE table: every variant at every depth, one run directory each under `out`. */
export async function lvaeTableExperiment(o: LvaeTableOptions): Promise<{ rows: DeepRow[]; files: string[] }> {
  checkStart(o, 'lvae-table');
  makeDir(o.out);
  const rows: DeepRow[] = [];
  for (const v of o.variants) {
    for (const L of o.layers) {
      const name = `${v}-L${L}`;
      rows.push(await trainRow(name, lvaeRowConfig(v, L, o), path.join(o.out, name), o));
    }
  }
  const f = (v: number) => v.toFixed(2);
  const lines = rows.map((r) => {
    const [v, L] = [r.name.replace(/-L\d$/, ''), Number(r.name.slice(-1))];
    const p = (LVAE_PAPER as Record<string, { layers: number; testL1: number; testL5000: number }>)[v];
    const paper = p && p.layers === L ? `${f(p.testL1)} / ${f(p.testL5000)}` : '';
    return `| ${v} | ${L} | ${f(r.trainL1)} | ${f(r.testL1)} | ${f(r.testIw.mean)} ± ${f(r.testIw.stderr)} | ${f(r.testIw.mean - r.testL1)} | ${r.active?.map((a, i) => `${a}/${SIZES[i]}`).join(' ') ?? ''} | ${paper} | ${r.epochs} | ${r.trainSeconds.toFixed(0)} |`;
  });
  const files = writeTable(
    o,
    'Deep VAEs and the LVAE on MNIST (thesis 003 appendix B fig. 3)',
    ['model', 'L', 'train L1', 'test L1', `test L${o.iw} (IW)`, 'gap L_IW − L1', 'active units per layer (z1 first)', 'paper test L1 / L5000', 'epochs', 'train s'],
    lines,
    [
      'L1 is the ELBO and L_IW the importance-weighted log-likelihood, nats per image (higher is better); the gap between them is how loose the ELBO is (the LVAE\'s claim: a tighter bound).',
      'Paper: 2000 epochs (warm-up over the first 200), batch 256; its fig. 3 is a plot, and its text quotes the LVAE at L = 5 and the best VAE (L = 3, BN + WU). Active units: mean KL(q ‖ p) per unit > 0.01 nats over the first 1000 test images (all of them where fewer).',
    ],
    rows,
    { paper: LVAE_PAPER },
  );
  return { rows, files };
}

// ---- cagem ----------------------------------------------------------------------------------------

/** Table 4.2 of the thesis (IW-5000 test log-likelihood) and the CaGeM-100 test error of §4.3. */
export const CAGEM_PAPER = {
  'cagem-0-C5': -81.86,
  'cagem-0-C10': -81.6,
  'cagem-0-C20': -81.92,
  'cagem-20': -81.47,
  'cagem-50': -80.49,
  'cagem-100': -79.38,
  testError100: 0.0116,
} as const;

/** Options of {@link cagemExperiment}. */
export interface CagemOptions extends DeepOptions {
  /** Clusters C of the unsupervised CaGeM-0 rows. */
  clusters: number[];
  /** Labelled images of the semi-supervised rows (multiples of 10: evenly over the digits). */
  labels: number[];
  /** Model sizes: latent [z1, z2] and hidden widths (appendix C: [64, 32], [1024, 512]). */
  latent: [number, number];
  hidden: [number, number];
  /** Epochs of KL warm-up (appendix C: 100). */
  warmupEpochs?: number;
  /** Weight α of the labelled cross-entropies (appendix C: β·(N_u + N_l)/N_l; default 0.1·N/N_l with per-batch means, the MNIST-100 convention). */
  alpha?: number;
}

/** The run config of one CaGeM row: `labels` 0 is CaGeM-0 with C clusters. */
export function cagemRowConfig(labels: number, clusters: number, o: Omit<CagemOptions, 'log'>): RunConfig {
  if (labels % 10 !== 0) throw new Error(`cagem: labels must be a multiple of 10 (spread evenly over the 10 digits), got ${labels}`);
  const n = o.trainLimit ?? 60000;
  return {
    model: { type: 'cagem', classes: clusters, latent: o.latent, hidden: o.hidden, activation: 'relu', batchNorm: true },
    objective: { ...((o.warmupEpochs ?? 1) > 0 ? { warmupEpochs: o.warmupEpochs ?? Math.max(1, Math.round(o.budgetEpochs / 2)) } : {}), ...(labels > 0 ? { alpha: o.alpha ?? (0.1 * n) / labels } : {}) },
    data: mnistData(o, { perClass: labels / 10 }),
    train: { epochs: o.budgetEpochs, batchSize: o.batchSize, lr: 0.001, seed: o.seed, evalEvery: Math.max(1, Math.ceil(o.budgetEpochs / 5)) },
  } as unknown as RunConfig;
}

/** Runs the CaGeM table: CaGeM-0 for every C, then CaGeM-n for every label count n (C = 10). */
export async function cagemExperiment(o: CagemOptions): Promise<{ rows: DeepRow[]; files: string[] }> {
  checkStart(o, 'cagem');
  const specs = [...o.clusters.map((c) => ({ name: `cagem-0-C${c}`, labels: 0, clusters: c })), ...o.labels.map((l) => ({ name: `cagem-${l}`, labels: l, clusters: 10 }))];
  // every row's data before any training: a label count the training images cannot give fails now
  for (const s of specs) if (s.labels > 0) loadRunData(validateConfig(RunConfigSchema, cagemRowConfig(s.labels, s.clusters, o), s.name));
  makeDir(o.out);
  const rows: DeepRow[] = [];
  for (const s of specs) rows.push(await trainRow(s.name, cagemRowConfig(s.labels, s.clusters, o), path.join(o.out, s.name), o));
  const f = (v: number) => v.toFixed(2);
  const paper = CAGEM_PAPER as Record<string, number>;
  const lines = rows.map((r, i) => {
    const s = specs[i];
    return `| ${r.name} | ${s.labels} | ${s.clusters} | ${f(r.testL1)} | ${f(r.testIw.mean)} ± ${f(r.testIw.stderr)} | ${paper[r.name] !== undefined ? f(paper[r.name]) : ''} | ${r.testError !== undefined ? `${(100 * r.testError).toFixed(2)}%` : ''} | ${r.name === 'cagem-100' ? '1.16%' : ''} | ${r.epochs} | ${r.trainSeconds.toFixed(0)} |`;
  });
  const files = writeTable(
    o,
    'CaGeM on MNIST (thesis 003 table 4.2, appendix C)',
    ['model', 'labels', 'clusters C', 'test L1', `test L${o.iw} (IW)`, 'paper L5000', 'test error', 'paper error', 'epochs', 'train s'],
    lines,
    [
      `Networks: z1 ${o.latent[0]}, z2 ${o.latent[1]}, hidden ${o.hidden.join(' / ')} (appendix C: 64, 32, 1024 / 512), ReLU, batch norm, Adam 10⁻³; the labelled variants' α of the cross-entropies as in the config of each run directory.`,
      'The test error is of q(y | x) (at the mean of q(z1 | x)); CaGeM-0 has no error (its clusters need not match the digits). Paper: IW-5000 over the whole test set, after training to convergence.',
    ],
    rows,
    { paper: CAGEM_PAPER },
  );
  return { rows, files };
}
