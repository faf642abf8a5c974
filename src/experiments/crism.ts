/**
 * `untapped experiment crism` (`000_…` §4, appendix A.2.2) on the simulated CRISM-like laboratory
 * data of `data/spectra.ts` (the real spectra are not public).
 *
 * Split, following §4 and fig. 4: the "centre" of the abundance grid (the nominal abundances whose
 * three components all lie in [0.2, 0.5]: 12 of the 66 grid points) supplies 500 labelled spectra
 * and up to 992 unlabelled spectra (both drawn at random per seed from the centre pixels; the
 * unlabelled set may include labelled pixels, as the paper's "entire set of triangles serves as
 * x_u"); 501 unfeatured compositions are drawn near the corners (each with ≥ 0.9 of one mineral,
 * `cornerLabels`). So the models never see a spectrum with less than 20% or more than 50% of any
 * mineral, and never see a pure one.
 *
 * Why 12 points: the paper's 992 spectra are "the entire set of triangles", and 992 / 5354 of the
 * 66 grid points is 12.2 points; the reference implementation (`load_crism.py`) keeps the
 * abundances strictly inside (1/3 − 0.7/3, 1/3 + 0.7/3) = (0.1, 0.567), which on the 0.1 grid is
 * [0.2, 0.5], 12 points. Until 2026-11-22 this experiment used every component ≥ 0.2 (15 points,
 * up to 0.6 of one mineral); `centreMax: 0.6` restores that split.
 *
 * Models at equal budget (same epochs, batch 100, lr 0.003, tanh, x→y [5], (x,y)→z [5],
 * (y,z)→x [20], 1-D z): the untapped model with (α_f, α_f^d, α_r, α_r^d) = (1, 1, 0.01, 1) and
 * M2 = the same with α_r = 0 (it gets no unfeatured labels). The mean spectrum of the labelled and
 * unlabelled sets is subtracted before training (and added back to generated spectra), as the
 * reference implementation does. PLS (8 components, predictions
 * projected on the simplex) is fitted on the 500 labelled spectra.
 *
 * Simulation: `endmembers` picks the optical constants (`'dusty'`, the default, `'clear'`, or a set
 * of one's own); the split, the corner labels and the training draws do not depend on it.
 *
 * Measures, per seed:
 * - endmember extraction error ‖x̄ − x‖₂ (fig. 5): x̄ = mean of p(x | y = e_k, z̄) with z̄ the mean
 *   over the labelled set of the median of q(z | x, y) (eq 18); x the true pure spectrum (mean over
 *   the three geometries at the median grain size, `endmemberSpectra`);
 * - composition KL on all spectra (table 2): mean KL(y ‖ ȳ), ȳ the mean of q(y | x) (PLS: its
 *   prediction), `eval/composition.ts`;
 * - nuisance by geometry (fig. 6a): the median of q(z | x, ȳ) for every spectrum, and η², the share
 *   of its variance explained by the geometry (1 = z separates the geometries perfectly).
 */
import path from 'node:path';
import { Rng } from '../engine/rng.js';
import {
  abundanceGrid,
  CRISM_DEFAULT_SIMULATION,
  CRISM_GEOMETRIES,
  CRISM_MINERALS,
  CRISM_SIMULATIONS,
  endmemberSpectra,
  isCrismSimulationName,
  simulateCrism,
  type CrismData,
  type CrismSimulationName,
  type Endmember,
} from '../data/spectra.js';
import { fitPls } from '../eval/pls.js';
import { compositionKl, endmemberError } from '../eval/composition.js';
import { writeFileAtomic, makeDir } from '../node/files.js';
import { lockDir } from '../node/lock.js';
import { lineChartPng, scatterPng } from '../node/chart.js';
import { cornerLabels } from './fit.js';
import { PAPER_WEIGHTS, UntappedEstimator } from './estimator.js';
import { finishReport, fmtMeanSd, isModelList, meanSd, type ComparedModel } from './stats.js';

const mean = (a: number[]): number => meanSd(a).mean;

/** The paper's numbers (`000_…` fig. 5 and table 2). */
export const CRISM_PAPER = { endmemberError: { m2: 0.358, untapped: 0.311 }, kl: { pls: 0.036, m2: 0.061, untapped: 0.058 } };

/** Options of {@link crismExperiment}. */
export interface CrismExperimentOptions {
  out: string;
  /** Epochs per model (passes over the unlabelled spectra; the paper: 5000). */
  epochs?: number;
  seeds?: number;
  /** First seed (default 0). */
  seed?: number;
  /** Stop each model after this many minutes. */
  budgetMinutes?: number;
  /** Simulation seed (default 0: the same data for every model seed). */
  dataSeed?: number;
  /**
   * The endmembers' optical models: a built-in set by name (`'dusty'`, the default, or `'clear'`;
   * see `CRISM_SIMULATIONS` in `data/spectra.ts`) or a set of your own (three `Endmember`s).
   */
  endmembers?: CrismSimulationName | readonly Endmember[];
  /** Weight α_r of the unfeatured bound for the untapped model (default 0.01, appendix A.2.2; M2 keeps 0). */
  alphaR?: number;
  /** Epochs of linear warm-up of α_r from 0 for the untapped model (default 0: full weight from the start). */
  alphaRWarmup?: number;
  /**
   * Objective variants for the untapped model's reverse bound (default the paper's: both true); see
   * `Semi2Weights.reverseTrainsQ` and `Semi2Weights.reverseEntropy` in `models/semi2.ts`.
   */
  reverse?: { trainsQ?: boolean; entropy?: boolean };
  /** Floor of every Gaussian scale (q(y | x), q(z | x, y), p(x | y, z)); default the library's 1e-4. */
  minScale?: number;
  /** Which models to train (default both); a model left out is reported as "—". */
  models?: readonly ComparedModel[];
  /** Largest share of any mineral in the centre region (default 0.5: the paper's 12 grid points; 0.6 gives 15). */
  centreMax?: number;
  log?: (s: string) => void;
}

/** Per-model results of one seed. */
export interface CrismModelResult {
  endmemberError: { perMineral: number[]; mean: number };
  kl: number;
  /** Share of the variance of z explained by the geometry. */
  zEta2: number;
  trainSeconds: number;
  epochs: number;
  /** The two measures at every evaluation during training (every tenth of the epochs, and the last). */
  curve: { epoch: number; endmemberError: number; kl: number }[];
}

/** Results of one seed. */
export interface CrismSeedResult {
  seed: number;
  pls: { kl: number };
  m2?: CrismModelResult;
  untapped?: CrismModelResult;
}

/** Grid points whose components all lie in [`min`, `max`] (the centre of the simplex; default the paper's 12 points). */
export function centreGridPoints(min = 0.2, max = 0.5): number[] {
  return abundanceGrid().flatMap((p, i) => (p.every((v) => v >= min - 1e-9 && v <= max + 1e-9) ? [i] : []));
}

/** η²: the share of the variance of `v` explained by the groups `g` (between-group / total). */
export function etaSquared(v: ArrayLike<number>, g: ArrayLike<number>, groups: number): number {
  const n = v.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v[i] / n;
  const sum = new Float64Array(groups);
  const cnt = new Float64Array(groups);
  let total = 0;
  for (let i = 0; i < n; i++) {
    sum[g[i]] += v[i];
    cnt[g[i]] += 1;
    total += (v[i] - mean) ** 2;
  }
  let between = 0;
  for (let k = 0; k < groups; k++) if (cnt[k] > 0) between += cnt[k] * (sum[k] / cnt[k] - mean) ** 2;
  return total > 0 ? between / total : 0;
}

function rowsOf(d: CrismData, idx: number[], what: 'x' | 'y'): { data: Float32Array; width: number } {
  const w = what === 'x' ? d.channels : 3;
  const src = what === 'x' ? d.x : d.y;
  const out = new Float32Array(idx.length * w);
  idx.forEach((r, i) => out.set(src.subarray(r * w, (r + 1) * w), i * w));
  return { data: out, width: w };
}

/** Runs the experiment and writes `results.json`, `report.md`, `endmembers.png`, `nuisance.png`. */
export async function crismExperiment(o: CrismExperimentOptions): Promise<{ seeds: CrismSeedResult[]; files: string[] }> {
  const log = o.log ?? (() => {});
  const epochs = o.epochs ?? 1000;
  const nSeeds = o.seeds ?? 5;
  const first = o.seed ?? 0;
  const names: readonly string[] = o.models ?? ['m2', 'untapped'];
  if (!isModelList(names)) throw new Error(`crism: models must be a non-empty list of 'm2' and 'untapped', got [${names.join(', ')}]`);
  const models = [...new Set(names)];
  if (o.alphaRWarmup !== undefined && !(o.alphaRWarmup >= 0)) throw new Error(`crism: alphaRWarmup must be a number of epochs ≥ 0, got ${o.alphaRWarmup}`);
  const simName = typeof o.endmembers === 'string' ? o.endmembers : o.endmembers === undefined ? CRISM_DEFAULT_SIMULATION : 'custom';
  if (typeof o.endmembers === 'string' && !isCrismSimulationName(o.endmembers)) {
    throw new Error(`crism: endmembers must be one of ${Object.keys(CRISM_SIMULATIONS).join(', ')} or a list of three endmembers, got '${o.endmembers}'`);
  }
  const endmembers = typeof o.endmembers === 'string' ? CRISM_SIMULATIONS[o.endmembers] : (o.endmembers ?? CRISM_SIMULATIONS[CRISM_DEFAULT_SIMULATION]);
  const data = simulateCrism({ seed: o.dataSeed ?? 0, endmembers });
  const truth = endmemberSpectra({ endmembers });
  makeDir(o.out);
  lockDir(o.out, `output directory ${o.out}`); // held until the process ends: a second run into it refuses
  const centreMax = o.centreMax ?? 0.5;
  if (!(centreMax >= 1 / 3 && centreMax <= 1)) throw new Error(`crism: centreMax must be in [1/3, 1], got ${o.centreMax}`);
  const centre = new Set(centreGridPoints(0.2, centreMax));
  const centreRows = Array.from(data.nominal).flatMap((g, i) => (centre.has(g) ? [i] : []));
  log(`crism: ${data.n} simulated spectra × ${data.channels} channels (${simName} endmembers); ${centreRows.length} in the centre region (${centre.size} grid points); ${epochs} epochs per model, ${nSeeds} seeds`);
  const allX = { data: data.x, width: data.channels };
  const results: CrismSeedResult[] = [];
  const files: string[] = [];
  for (let s = first; s < first + nSeeds; s++) {
    const rng = new Rng(s).fork('crism-split');
    const perm = Array.from(rng.permutation(centreRows.length));
    const lab = perm.slice(0, 500).map((i) => centreRows[i]);
    const perm2 = Array.from(rng.permutation(centreRows.length));
    const unl = perm2.slice(0, Math.min(992, centreRows.length)).map((i) => centreRows[i]);
    const corners = cornerLabels(3, 501, rng.fork('corners'));
    const labelled = { x: rowsOf(data, lab, 'x'), y: rowsOf(data, lab, 'y') };
    // PLS on the labelled spectra
    const pls = fitPls(labelled.x.data, lab.length, data.channels, labelled.y.data, 3, { components: 8, toSimplex: true });
    const plsKl = compositionKl(data.y, pls.predict(data.x, data.n), data.n, 3);
    const res: Partial<CrismSeedResult> = { seed: s, pls: { kl: plsKl } };
    for (const kind of models) {
      const est = new UntappedEstimator({ inputDim: data.channels, classes: 3, labels: 'simplex', latent: 1, ...(o.minScale !== undefined ? { minScale: o.minScale } : {}) }, s);
      /** Endmember error (fig. 5) and composition KL (table 2) of the model as it is now. */
      const measure = () => {
        const z = est.encode(labelled.x, labelled.y);
        const zBar = mean(z.map((r) => r[0]));
        const gen = est.generate(
          [0, 1, 2].map((k) => [0, 1, 2].map((j) => (j === k ? 1 : 0))),
          [[zBar], [zBar], [zBar]],
        );
        const pred = Float32Array.from(est.predict(allX).mean.flat());
        return { gen, pred, err: endmemberError(gen.flat(), truth, 3, data.channels), kl: compositionKl(data.y, pred, data.n, 3) };
      };
      const curve: CrismModelResult['curve'] = [];
      let last: ReturnType<typeof measure> | undefined;
      const t0 = performance.now();
      const hist = await est.fit(
        { labelled, unlabelled: { x: rowsOf(data, unl, 'x') }, ...(kind === 'untapped' ? { unfeatured: { y: corners } } : {}) },
        {
          epochs,
          batchSize: 100,
          lr: 3e-3,
          seed: s,
          weights: { ...PAPER_WEIGHTS, alphaR: kind === 'm2' ? 0 : (o.alphaR ?? 0.01), ...(o.reverse?.trainsQ === false ? { reverseTrainsQ: false } : {}), ...(o.reverse?.entropy === false ? { reverseEntropy: false } : {}) },
          ...(kind === 'untapped' && o.alphaRWarmup ? { alphaRWarmup: o.alphaRWarmup } : {}),
          progress: { silent: true },
          center: true,
          evalEvery: Math.max(1, Math.round(epochs / 10)),
          // deterministic (no random draws), so the training itself is the same with or without it
          evaluate: (epoch) => {
            last = measure();
            curve.push({ epoch, endmemberError: last.err.mean, kl: last.kl });
            return { endmemberError: last.err.mean, kl: last.kl };
          },
          ...(o.budgetMinutes ? { budgetSeconds: o.budgetMinutes * 60 } : {}),
        },
      );
      // the trainer evaluates after its last epoch, so `last` is the final model's
      const { gen, pred, err, kl } = last ?? measure();
      const zAll = est.encode(allX, { data: pred, width: 3 }).map((r) => r[0]); // at ȳ, without a second pass of q(y | x)
      const eta = etaSquared(zAll, data.geometry, CRISM_GEOMETRIES.length);
      const r: CrismModelResult = { endmemberError: err, kl, zEta2: eta, trainSeconds: hist.at(-1)?.trainSeconds ?? (performance.now() - t0) / 1000, epochs: hist.at(-1)?.epoch ?? 0, curve };
      res[kind] = r;
      log(`seed ${s} ${kind}: endmember error ${err.mean.toFixed(3)} (${err.perMineral.map((v) => v.toFixed(3)).join(', ')}), KL ${kl.toFixed(4)}, z η² by geometry ${eta.toFixed(2)} [${r.trainSeconds.toFixed(0)} s, ${r.epochs} epochs]`);
      if (s === first) {
        const chF = path.join(o.out, `endmembers-${kind}.png`);
        const wl = Array.from(data.wavelengths);
        lineChartPng(
          chF,
          CRISM_MINERALS.flatMap((m, k) => [
            { name: `${m} (true)`, x: wl, y: truth.subarray(k * data.channels, (k + 1) * data.channels) },
            { name: `${m} (${kind})`, x: wl, y: gen[k] },
          ]),
          { title: `endmembers, ${kind === 'm2' ? 'M2' : 'untapped'} (seed ${s}, error ${err.mean.toFixed(3)})`, xLabel: 'wavelength (um)', yLabel: 'reflectance' },
        );
        const zF = path.join(o.out, `nuisance-${kind}.png`);
        scatterPng(zF, Float32Array.from(zAll.flatMap((v, i) => [i, v])), data.geometry, { title: `z per spectrum (${kind}), eta^2 = ${eta.toFixed(2)}`, xLabel: 'spectrum (ordered by geometry)', yLabel: 'median of q(z|x,y)', classNames: CRISM_GEOMETRIES.map((g) => g.name) });
        files.push(chF, zF);
      }
      est.dispose();
    }
    log(`seed ${s} PLS: KL ${plsKl.toFixed(4)}`);
    results.push(res as CrismSeedResult);
    writeFileAtomic(path.join(o.out, 'results.json'), JSON.stringify({ simulation: simName, ...(simName === 'custom' ? { endmembers } : {}), epochs, alphaR: o.alphaR ?? 0.01, alphaRWarmup: o.alphaRWarmup ?? 0, minScale: o.minScale ?? null, models, seeds: results, paper: CRISM_PAPER }, null, 2) + '\n');
  }
  const fmt = fmtMeanSd;
  // Both measures against epochs, mean over seeds (evaluations at the same epochs in every seed, unless a time budget cut one short).
  const curveEpochs = [...new Set(results.flatMap((r) => models.flatMap((k) => r[k]!.curve.map((c) => c.epoch))))].sort((a, b) => a - b);
  const curveMean = (k: ComparedModel, e: number, f: 'endmemberError' | 'kl'): number | undefined => {
    const v = results.flatMap((r) => r[k]!.curve.filter((c) => c.epoch === e).map((c) => c[f]));
    return v.length === results.length ? mean(v) : undefined;
  };
  const curveRows: string[] = [];
  for (const f of ['endmemberError', 'kl'] as const) {
    const series = models.map((k) => {
      const pts = curveEpochs.flatMap((e) => {
        const v = curveMean(k, e, f);
        return v === undefined ? [] : [[e, v] as const];
      });
      return { name: k === 'm2' ? 'M2' : 'untapped', x: pts.map((p) => p[0]), y: pts.map((p) => p[1]) };
    });
    if (series.every((se) => se.x.length > 0)) {
      const file = path.join(o.out, f === 'kl' ? 'curve-kl.png' : 'curve-endmember.png');
      lineChartPng(file, series, { title: `${f === 'kl' ? 'composition KL, all spectra' : 'endmember error (mean of 3)'}, mean over ${results.length} seed(s)`, xLabel: 'epoch', yLabel: f === 'kl' ? 'KL' : 'error' });
      files.push(file);
    }
  }
  for (const e of curveEpochs) {
    const cells = models.flatMap((k) => [curveMean(k, e, 'endmemberError'), curveMean(k, e, 'kl')].map((v, i) => (v === undefined ? '—' : v.toFixed(i === 0 ? 3 : 4))));
    const below = models.length === 2 ? results.filter((r) => {
      const a = r.m2!.curve.find((c) => c.epoch === e);
      const b = r.untapped!.curve.find((c) => c.epoch === e);
      return a && b && b.endmemberError < a.endmemberError;
    }).length : undefined;
    curveRows.push(`| ${e} | ${cells.join(' | ')}${below === undefined ? '' : ` | ${below} of ${results.length}`} |`);
  }
  /** A model's column (mean ± sd over seeds), or "—" when the model was not trained. */
  const col = (k: 'm2' | 'untapped', f: (r: CrismModelResult) => number, digits?: number) =>
    models.includes(k) ? fmt(results.map((r) => f(r[k]!)), digits) : '—';
  const md = [
    '# CRISM-like unmixing (simulated), `000_…` §4',
    '',
    `${data.n} simulated spectra (${data.channels} channels, 3 geometries, ${simName} endmembers); 500 labelled + ${Math.min(992, centreRows.length)} unlabelled spectra from the centre of the simplex (every component in [0.2, ${centreMax}], ${centre.size} grid points), 501 unfeatured compositions near the corners. ${epochs} epochs per model, batch 100, lr 0.003, α_r = ${o.alphaR ?? 0.01}${o.alphaRWarmup ? ` (rising linearly from 0 over the first ${o.alphaRWarmup} epochs)` : ''} for the untapped model${o.minScale !== undefined ? `; Gaussian scales floored at ${o.minScale}` : ''}; seeds ${first}–${first + nSeeds - 1}; mean ± sd over seeds.`,
    '',
    '| measure | PLS | M2 | untapped | paper (PLS / M2 / untapped) |',
    '| --- | --- | --- | --- | --- |',
    `| endmember error ‖x̄ − x‖₂ (mean of 3) | — | ${col('m2', (r) => r.endmemberError.mean)} | ${col('untapped', (r) => r.endmemberError.mean)} | — / ${CRISM_PAPER.endmemberError.m2} / ${CRISM_PAPER.endmemberError.untapped} |`,
    ...CRISM_MINERALS.map((m, k) => `| … ${m} | — | ${col('m2', (r) => r.endmemberError.perMineral[k])} | ${col('untapped', (r) => r.endmemberError.perMineral[k])} | |`),
    `| composition KL, all spectra | ${fmt(results.map((r) => r.pls.kl), 4)} | ${col('m2', (r) => r.kl, 4)} | ${col('untapped', (r) => r.kl, 4)} | ${CRISM_PAPER.kl.pls} / ${CRISM_PAPER.kl.m2} / ${CRISM_PAPER.kl.untapped} |`,
    `| z: variance share explained by geometry (η²) | — | ${col('m2', (r) => r.zEta2, 2)} | ${col('untapped', (r) => r.zEta2, 2)} | |`,
    `| training seconds per model | — | ${col('m2', (r) => r.trainSeconds, 0)} | ${col('untapped', (r) => r.trainSeconds, 0)} | |`,
    '',
    ...(models.includes('m2') && models.includes('untapped')
      ? [
          `Untapped endmember error below M2's in ${results.filter((r) => r.untapped!.endmemberError.mean < r.m2!.endmemberError.mean).length} of ${results.length} seeds; its composition KL at or below M2's in ${results.filter((r) => r.untapped!.kl <= r.m2!.kl).length} of ${results.length}.`,
          '',
        ]
      : []),
    `Pictures (first seed): ${models.map((k) => `\`endmembers-${k}.png\``).join(', ')} (retrieved vs true spectra), ${models.map((k) => `\`nuisance-${k}.png\``).join(', ')} (z per spectrum by geometry, fig. 6a). Over training (mean over seeds): \`curve-endmember.png\`, \`curve-kl.png\`.`,
    '',
    '## During training (mean over seeds)',
    '',
    `| epoch | ${models.map((k) => `${k === 'm2' ? 'M2' : 'untapped'} endmember error | ${k === 'm2' ? 'M2' : 'untapped'} KL`).join(' | ')}${models.length === 2 ? ' | untapped error below M2\'s' : ''} |`,
    `| ---${' | ---'.repeat(2 * models.length + (models.length === 2 ? 1 : 0))} |`,
    ...curveRows,
    '',
  ].join('\n');
  return { seeds: results, files: finishReport(o.out, md, files, log) };
}
