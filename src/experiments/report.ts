/**
 * The report of a trained run: a sample grid, reconstructions of test digits, the test bound and the
 * importance-weighted log-likelihood, the training curve — as Markdown, JSON and PNG in the run
 * directory.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { engineInfo } from '../engine/backend.js';
import { imageGrid, pairsGrid, writePng } from '../node/png.js';
import { heatmapPng, lineChartPng, unitActivityPng } from '../node/chart.js';
import { type HLine, type LineSeries } from '../report/chart.js';
import { writeHtmlReport } from '../node/html.js';
import { writeFileAtomic } from '../node/files.js';
import { iwLogLikelihood } from '../eval/loglik.js';
import type { Dataset } from '../data/dataset.js';
import type { RunConfig } from '../config/run.js';
import type { RunnableModel } from '../models/family.js';
import type { EvalRecord } from '../train/trainer.js';
import type { ProgressOptions } from '../train/progress.js';
import { confusionMatrix, formatConfusion, labelledOnly } from '../eval/classify.js';
import { formatCsv } from '../io/table.js';
import { ACTIVE_THRESHOLD } from '../eval/active-units.js';
import { datasetBound, datasetError, importanceModel, needsLabels, scoresClasses, UNIT_KL_ROWS, type RunData } from './run.js';

/** Numbers of a run's report. */
export interface RunReport {
  testElbo: number;
  iw: { k: number; n: number; mean: number; stderr: number; seconds: number };
  /** Test error of q(y | x) and its confusion matrix, where the model classifies and the test rows have labels. */
  classification?: { error: number; confusion: number[][] };
  history: EvalRecord[];
  files: { samples: string; reconstructions?: string; markdown: string; json: string; html: string; charts: string[] };
}

/** The course report's test ELBO of an Nz = 20 VAE on MNIST at 100 epochs (`004_…` table 1). */
const COURSE_VAE_ELBO = -87.95;

/**
 * The run's charts from its evaluation history: `curve.png` (bounds in nats per example against
 * epochs, with the paper's value where one applies) and `error.png` (test error, where the model
 * classifies), each with its SVG and spec. Returns the Markdown lines that show them.
 */
function writeRunCharts(dir: string, history: EvalRecord[], paper: HLine[], charts: string[]): string[] {
  if (!history.length) return [];
  const epochs = history.map((h) => h.epoch);
  const bounds: LineSeries[] = [{ name: 'training objective (−loss)', x: epochs, y: history.map((h) => -h.trainLoss) }];
  const keys = [...new Set(history.flatMap((h) => Object.keys(h.metrics)))];
  for (const k of keys.filter((k) => k !== 'test_error')) bounds.push({ name: k.replace(/_/g, ' '), x: epochs, y: history.map((h) => h.metrics[k] ?? NaN) });
  const md = ['## Charts', ''];
  const cf = path.join(dir, 'curve.png');
  lineChartPng(cf, bounds.slice(0, 10), { title: 'Bounds per epoch (nats per example, higher is better)', xLabel: 'epoch', yLabel: 'nats per example', hLines: paper });
  charts.push(cf);
  md.push('![training curve](curve.svg)', '');
  if (keys.includes('test_error')) {
    const ef = path.join(dir, 'error.png');
    lineChartPng(ef, [{ name: 'test error of q(y | x)', x: epochs, y: history.map((h) => 100 * (h.metrics.test_error ?? NaN)) }], { title: 'Test error per epoch', xLabel: 'epoch', yLabel: 'error %' });
    charts.push(ef);
    md.push('![test error](error.svg)', '');
  }
  const units = unitKlHistory(history);
  if (units.length) {
    const uf = path.join(dir, 'units.png');
    unitActivityPng(uf, units.map((u) => ({ name: `epoch ${u.epoch}`, layers: u.layers })), {
      title: 'Active units over training: per-unit KL(q ‖ p) at each evaluation (thesis 003 appendix B fig. 4)',
      valueLabel: 'KL_u (nats)',
      threshold: ACTIVE_THRESHOLD,
    });
    charts.push(uf);
    const last = units.at(-1)!;
    md.push(
      '![active units over training](units.svg)',
      '',
      `Active units (mean KL > ${ACTIVE_THRESHOLD} nats over the first ${UNIT_KL_ROWS} evaluation rows) at epoch ${last.epoch}, per layer (z1 first): ${last.layers.map((l, i) => `z${i + 1} ${l.filter((v) => v > ACTIVE_THRESHOLD).length}/${l.length}`).join(', ')}.`,
      '',
    );
  }
  return md;
}

/**
 * The per-unit KL of every stochastic layer at each evaluation of a history, where the run recorded
 * it (`detail.unitKl`, bottom layer first), in epoch order.
 */
export function unitKlHistory(history: EvalRecord[]): { epoch: number; layers: number[][] }[] {
  return history.flatMap((h) => {
    const u = h.detail?.unitKl;
    return Array.isArray(u) && u.length && u.every((l) => Array.isArray(l) && l.length) ? [{ epoch: h.epoch, layers: (u as number[][]).map(drawableKl) }] : [];
  });
}

/** Per-unit KLs as a heat map draws them: a negative mean of one-draw estimates (a collapsed unit) as 0. */
export function drawableKl(kl: ArrayLike<number>): number[] {
  return Array.from(kl, (v) => Math.max(0, v));
}

/** n draws from a model [n, D] as a Float32Array; `y` fixes their classes where the model has them. */
export function sampleRows(model: RunnableModel, n: number, seed = 0, y?: Int32Array): Float32Array {
  const s = model.sample(n, new Rng(seed), y);
  const out = s.dataSync() as Float32Array;
  s.dispose();
  return out;
}

/** Writes `samples.png` (n model samples of images of `shape` [H, W]) to `file`. */
export function writeSampleGrid(model: RunnableModel, n: number, shape: number[], file: string, seed = 0, y?: Int32Array): void {
  writePng(file, imageGrid(sampleRows(model, n, seed, y), n, shape[0], shape[1], { scale: 2 }));
}

/** Writes n samples as CSV rows (header: the input columns, then `class` where the model has classes, and `class_name` for a run trained on class names) to `file`. */
export function writeSampleCsv(model: RunnableModel, n: number, columns: string[], file: string, seed = 0, y?: Int32Array, classNames?: string[]): void {
  const K = model.classes;
  let labels: Int32Array | undefined;
  let x: Float32Array;
  if (K > 0 && !y && model.sampleJoint) {
    // the model's own p(y | ·) picks each draw's class
    const j = model.sampleJoint(n, new Rng(seed));
    x = j.x.dataSync() as Float32Array;
    j.x.dispose();
    labels = j.y;
  } else {
    labels = K > 0 ? (y ?? Int32Array.from({ length: n }, (_, i) => i % K)) : undefined;
    x = sampleRows(model, n, seed, labels);
  }
  const D = model.inputDim;
  const cols = columns.length === D ? columns : Array.from({ length: D }, (_, j) => `x${j}`);
  const rows = Array.from({ length: n }, (_, i) => (labels ? [...x.subarray(i * D, (i + 1) * D), labels[i]] : x.subarray(i * D, (i + 1) * D)));
  // a run trained on class names: the name of each draw's class after its index
  const names = labels && classNames ? { name: 'class_name', cells: Array.from(labels, (k) => classNames[k]) } : undefined;
  writeFileAtomic(file, formatCsv(labels ? [...cols, 'class'] : cols, rows, undefined, 6, names));
}

/** Whether a model can reconstruct (the VAE family). */
function reconstructor(model: RunnableModel): { reconstruct(x: tf.Tensor, y?: Int32Array): tf.Tensor } | null {
  const m = model.instance as { reconstruct?: unknown };
  return typeof m.reconstruct === 'function' ? (m as { reconstruct(x: tf.Tensor, y?: Int32Array): tf.Tensor }) : null;
}

/** Writes a grid of the first n rows of `ds` above their reconstructions to `file`. */
export function writeReconstructionGrid(model: RunnableModel, ds: Dataset, n: number, file: string, shape = ds.shape): void {
  const rec = reconstructor(model);
  if (!rec) throw new Error('this model type has no deterministic reconstruction (use sample instead)');
  const m = Math.min(n, ds.n);
  const x = ds.x.subarray(0, m * ds.dim);
  const r = tf.tidy(() => rec.reconstruct(tf.tensor2d(x, [m, ds.dim]), needsLabels(model) ? ds.y.subarray(0, m) : undefined));
  writePng(file, pairsGrid(x, r.dataSync() as Float32Array, m, shape[0], shape[1], { scale: 2 }));
  r.dispose();
}

/** Evaluates a trained model on `test` and writes the report files into `dir`. */
export function writeRunReport(
  dir: string,
  config: RunConfig,
  model: RunnableModel,
  data: RunData,
  history: EvalRecord[],
  opts: { iw: number; iwN: number; progress?: ProgressOptions; title?: string; warnings?: string[] },
): RunReport {
  const warnings = opts.warnings ?? [];
  const image = data.shape.length === 2;
  const test = data.test ?? data.labelled ?? data.unlabelled!;
  const on = data.test ? 'test' : 'training';
  const files: RunReport['files'] = {
    samples: path.join(dir, image ? 'samples.png' : 'samples.csv'),
    ...(image && reconstructor(model) ? { reconstructions: path.join(dir, 'reconstructions.png') } : {}),
    markdown: path.join(dir, 'report.md'),
    json: path.join(dir, 'report.json'),
    html: path.join(dir, 'report.html'),
    charts: [],
  };
  if (image) writeSampleGrid(model, 64, data.shape, files.samples);
  else writeSampleCsv(model, 64, data.columns, files.samples);
  if (files.reconstructions) writeReconstructionGrid(model, test, 20, files.reconstructions, data.shape);
  const rng = new Rng(config.train.seed).fork('report');
  const testElbo = datasetBound(model, test, 1, rng);
  const n = Math.min(opts.iwN, test.n);
  const t0 = performance.now();
  const iw = iwLogLikelihood(importanceModel(model), test.x.subarray(0, n * test.dim), test.dim, { k: opts.iw, rng, progress: opts.progress, ...(needsLabels(model) ? { labels: test.y } : {}) });
  const seconds = (performance.now() - t0) / 1000;
  const classification = scoresClasses(model, data) ? classificationOf(model, data.test!) : undefined;
  const report: RunReport = { testElbo, iw: { k: iw.k, n: iw.n, mean: iw.mean, stderr: iw.stderr, seconds }, ...(classification ? { classification } : {}), history, files };
  const eng = engineInfo();
  const last = history.at(-1);
  const mnistVae = Boolean(config.data) && config.model.type === 'vae';
  const chartMd = writeRunCharts(dir, history, mnistVae ? [{ y: COURSE_VAE_ELBO, label: `course report (004_… table 1): ${COURSE_VAE_ELBO}` }] : [], files.charts);
  if (classification) {
    const hf = path.join(dir, 'confusion.png');
    heatmapPng(hf, classification.confusion, { title: 'Confusion matrix of q(y | x) on the test rows', xLabel: 'predicted class', yLabel: 'true class', valueLabel: 'rows' });
    files.charts.push(hf);
    chartMd.push('![confusion matrix](confusion.svg)', '');
  }
  const md = [
    `# ${opts.title ?? 'untapped run report'}`,
    '',
    `Model: \`${JSON.stringify(config.model)}\``,
    `Objective: \`${JSON.stringify(config.objective)}\``,
    config.data
      ? `Data: MNIST, ${config.data.binarize} binarisation${config.data.trainLimit ? `, first ${config.data.trainLimit} training images` : ''}${data.labelled && data.unlabelled ? `, ${data.labelled.n} labelled and ${data.unlabelled.n} unlabelled` : !data.labelled && config.data.perClass === 0 ? ', no labels (data.perClass 0)' : ''}; test set statically binarised (seed fixed for every run).`
      : `Data: ${Object.entries(data.describe).map(([k, v]) => `${k} ${v}`).join('; ')}.`,
    `Budget: ${last?.epoch ?? 0} epochs, ${last?.step ?? 0} steps, ${(last?.trainSeconds ?? 0).toFixed(0)} s of training, batch ${config.train.batchSize}, seed ${config.train.seed}.`,
    `Engine: ${eng ? `${eng.backend}${eng.fixes.length ? ` (${eng.fixes.join(', ')})` : ''}, tfjs ${eng.versions.tfjs}, node ${eng.versions.node}` : 'unknown'}.`,
    '',
    ...(warnings.length ? ['## Warnings', '', ...warnings.map((w) => `- **${w}**`), ''] : []),
    '## Numbers (nats per example, higher is better)',
    '',
    '| metric | value |',
    '| --- | --- |',
    `| ${on} ELBO (${test.n} rows) | ${testElbo.toFixed(2)} |`,
    `| ${on} log-likelihood, IW ${iw.k} (${iw.n} rows) | ${iw.mean.toFixed(2)} ± ${iw.stderr.toFixed(2)} (s.e.) |`,
    ...(classification ? [`| test error of q(y | x) (${data.test!.n} rows) | ${(100 * classification.error).toFixed(2)}% |`] : []),
    '',
    ...(classification ? ['Confusion matrix (rows: true class, columns: predicted):', '', formatConfusion(classification.confusion), ''] : []),
    ...(mnistVae ? ['Reference: the course report (`004_…` table 1) gets −87.95 for an Nz=20 VAE at 100 epochs; the thesis (`003_…` table 5.1) reports IWAE numbers near −85 for two stochastic layers.', ''] : []),
    '## Training curve',
    '',
    '| epoch | train loss | test metrics | seconds |',
    '| --- | --- | --- | --- |',
    ...history.map((h) => `| ${h.epoch} | ${h.trainLoss.toFixed(2)} | ${Object.entries(h.metrics).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')} | ${h.trainSeconds.toFixed(0)} |`),
    '',
    ...chartMd,
    ...(image ? ['## Pictures', '', '![samples](samples.png)', '', `Samples: means of p(x | ·) with the latent variables drawn from the prior${model.classes > 0 ? (model.sampleJoint ? ' (each class drawn from the model\'s own p(y | ·))' : ' (the classes in turn)') : ''}.`, ''] : ['## Samples', '', `\`samples.csv\`: 64 draws from the model (means of p(x | ·)${model.classes > 0 ? `; the class of each draw in the last column, ${model.sampleJoint ? "drawn from the model's own p(y | ·)" : 'the classes in turn'}` : ''}).`, '']),
    ...(files.reconstructions ? ['![reconstructions](reconstructions.png)', '', 'Reconstructions: each test image (odd rows) above the mean of p(x|z) at z = E[q(z|x)] (even rows).', ''] : []),
  ].join('\n');
  writeFileAtomic(files.markdown, md);
  writeHtmlReport(dir, md, { title: opts.title ?? 'untapped run report' });
  writeFileAtomic(files.json, JSON.stringify({ testElbo, iw: report.iw, ...(classification ? { classification } : {}), history, config, engine: eng, ...(warnings.length ? { warnings } : {}) }, null, 2) + '\n');
  return report;
}

/** Test error and confusion matrix of a model's q(y | x) on labelled rows. */
export function classificationOf(model: RunnableModel, ds: Dataset): { error: number; confusion: number[][]; scored: number } {
  const { error, predicted, scored } = datasetError(model, ds);
  // rows with an empty label (y = −1) are predicted, not scored
  const l = labelledOnly(ds.y, predicted);
  return { error, confusion: confusionMatrix(l.trueY, l.predY, model.classes), scored };
}
