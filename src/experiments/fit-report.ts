/**
 * The report of a fit, for a chemometrician: `report.md` (and `report.html`, the same page with its
 * charts, written by the caller) in the model directory. It says what was fitted on what (files,
 * rows × channels, label space, preprocessing, networks, epochs, time, why training ended), shows
 * the training curve and, with validation rows, the validation curve, the figures of the saved
 * weights on the validation rows — per target RMSEP, bias, SEP and R² (`eval/regression.ts`), or for
 * classes the error and the confusion matrix — the predicted-vs-measured chart with the 1:1 line and
 * the residuals, and for compositions the generated endmembers beside the mean spectrum.
 *
 * The charts of predicted against measured values are drawn by {@link predictedVsMeasuredCharts},
 * which `predict --plot` uses too.
 */
import { scatterPng } from '../node/chart.js';
import { inputScaling } from '../models/standardize.js';
import { regressionStats } from '../eval/regression.js';
import { confusionMatrix, formatConfusion } from '../eval/classify.js';
import type { FitInfo } from './fit.js';

/** The residual chart written beside `FILE.png`: `FILE-residuals.png`. */
export function residualsFile(png: string): string {
  return png.replace(/(\.png)?$/i, '-residuals.png');
}

/**
 * Writes predicted against measured values with the 1:1 line (`file`, PNG with its SVG and
 * Vega-Lite spec), one colour per component or target, and beside it the residuals (predicted −
 * measured) against the measured values ({@link residualsFile}): compositions with each row's true
 * composition normalised to sum 1, one real target as it is, several real targets each
 * standardised by the mean and sd of its measured values (they may be in different units).
 * @param mean predictions, n rows of K; `y` the measured values, n rows of K.
 * @param what names the rows in the titles, e.g. `10 rows of test.csv`.
 * @throws Error when K > 10 (too many colours to tell apart) or the row counts differ.
 */
export function predictedVsMeasuredCharts(file: string, mean: number[][], y: number[][], names: string[], real: boolean, what: string): void {
  const K = names.length;
  if (K > 10) throw new Error(`predicted-vs-measured charts draw at most 10 components, the model has ${K}`);
  if (mean.length !== y.length) throw new Error(`predicted-vs-measured: ${mean.length} predicted rows against ${y.length} measured`);
  // several real targets may be in different units (an octane number and a fraction): each is drawn standardised by the
  // mean and sd of its measured values, the same affine map on both axes, so the 1:1 line still means "exact"
  const scaled = real && K > 1;
  const { mean: centre, sd: scale } = scaled ? inputScaling([Float32Array.from(y.flat())], K) : { mean: new Array<number>(K).fill(0), sd: new Array<number>(K).fill(1) };
  const pts: number[] = [];
  const cls: number[] = [];
  for (let i = 0; i < y.length; i++) {
    const sum = y[i].reduce((a, v) => a + v, 0);
    for (let k = 0; k < K; k++) {
      const measured = real ? y[i][k] : y[i][k] / (sum || 1);
      pts.push((measured - centre[k]) / scale[k], (mean[i][k] - centre[k]) / scale[k]);
      cls.push(k);
    }
  }
  const truth = real ? 'measured' : 'true composition';
  const unit = scaled ? ", each target standardised by its measured values' mean and sd" : '';
  scatterPng(file, pts, cls, { title: `predicted against ${truth} (${what}${unit})`, xLabel: scaled ? '(measured − mean) / sd' : real ? 'measured' : 'true', yLabel: scaled ? '(predicted − mean) / sd' : 'predicted (mean of q(y | x))', classNames: names, diagonal: true });
  // residuals against the measured value: a trend in them is a bias the RMSEP hides
  const res = pts.map((v, i) => (i % 2 === 1 ? v - pts[i - 1] : v));
  scatterPng(residualsFile(file), res, cls, { title: `residual (predicted − ${real ? 'measured' : 'true'}) against ${truth}${scaled ? ', in sds of each target' : ''}; 0 is exact`, xLabel: scaled ? '(measured − mean) / sd' : real ? 'measured' : 'true', yLabel: scaled ? 'residual / sd' : 'residual', classNames: names });
}

/** Validation rows as the report shows them: the saved weights' predictions and the labels. */
export interface ReportValidation {
  /** Mean of q(y | x) per row (class probabilities for classes), n × K. */
  predicted: number[][];
  /** The labels, n × K (one-hot rows for classes). */
  measured: number[][];
}

const fmt = (v: number, digits = 4) => (Number.isNaN(v) ? 'n/a' : v.toPrecision(digits));

/**
 * The Markdown of `report.md` (see the module doc). `files` are the charts in the directory it may
 * link (`loss.png`, `validation.png`, `validation-pv.png`, `endmembers.png`); links to others are left out.
 * `calibrationLine` says what `predict`'s calibrated intervals or sets are (`describeCalibration`).
 */
export function fitReportMarkdown(dir: string, info: FitInfo, v: ReportValidation | null, files: readonly string[], calibrationLine?: string): string {
  const has = (f: string) => files.includes(f);
  const o = info.options as { epochs?: number; latent?: number; hidden?: { qy: number[]; qz: number[]; px: number[] }; preprocess?: string; center?: boolean; bounds?: string; seed?: number; weights?: Record<string, unknown> };
  const K = info.labelNames.length;
  const kind = { simplex: 'components (compositions)', discrete: 'classes', real: K === 1 ? 'real-valued target' : 'real-valued targets' }[info.labels];
  const src = (s: FitInfo['inputs'][string] | undefined) => (!s ? '—' : 'file' in s ? `${s.file} (${s.rows} rows × ${s.columns} columns)` : 'corners' in s ? `${s.corners} near the simplex corners` : 'resample' in s ? `${s.resample} resampled from the labelled rows` : `${s.range} uniform over the labelled range widened by 5% on either side${o.bounds ? ', stopping 0.5% short of the bounds' : ''}`);
  const L: string[] = [];
  L.push(`# untapped fit: ${dir}`, '');
  L.push(`${K} ${kind} (${info.labelNames.join(', ')}) from ${info.channels.length} channels; written ${info.created}.`, '');
  L.push('| | |', '| --- | --- |');
  L.push(`| labelled x | ${src(info.inputs.x)} |`, `| labels y | ${src(info.inputs.y)} |`);
  if (info.inputs.unlabelled) L.push(`| unlabelled x | ${src(info.inputs.unlabelled)} |`);
  if (info.inputs.unfeatured) L.push(`| unfeatured y | ${src(info.inputs.unfeatured)} |`);
  if (info.validation) L.push(`| validation rows | ${info.validation.rows} (${info.validation.source === 'fraction' ? `${info.validation.fraction} of the labelled rows${info.validation.grouping !== undefined && info.validation.grouping !== 'rows' ? ', replicate groups kept whole' : ''}; not trained on` : 'files'}) |`);
  if (o.bounds) L.push(`| bounds | ${o.bounds} (the model works on the logit scale; predictions are the median of q(y \\| x), always inside) |`);
  L.push(`| preprocessing | ${o.preprocess ?? 'none'}${o.center ? ', then the mean spectrum subtracted' : ''} |`);
  const widths = (h: number[]) => (h.length ? `[${h.join(', ')}]` : 'none (linear)');
  if (o.hidden) L.push(`| networks (hidden widths) | q(y \\| x) ${widths(o.hidden.qy)}, q(z \\| x, y) ${widths(o.hidden.qz)}, p(x \\| y, z) ${widths(o.hidden.px)}; z of dimension ${o.latent ?? 1} |`);
  if (o.weights) L.push(`| weights | ${Object.entries(o.weights).map(([k, w]) => `${k} ${String(w)}`).join(', ')} |`);
  const last = info.history.at(-1);
  L.push(`| training | ${last ? `${last.epoch} of ${o.epochs ?? '?'} epochs` : 'no evaluation'}, ${info.trainSeconds.toFixed(1)} s, seed ${o.seed ?? 0}; ended by ${info.stoppedBy ?? 'epochs'} |`, '');
  if (info.warnings?.length) L.push(`**Warning:** ${info.warnings.join('; ')} — the saved model may be useless.`, '');
  if (has('loss.png')) L.push('## Training', '', '![training loss per evaluation](loss.png)', '');
  if (info.validation) {
    const val = info.validation;
    L.push('## Validation', '');
    const metric = { val_rmsep: 'RMSEP', val_rmsep_sd: "RMSEP relative to each target's training sd (pooled over the targets)", val_ce: 'cross-entropy', val_error: 'error' }[val.metric] ?? val.metric;
    L.push(`The saved weights are those of epoch ${val.bestEpoch}, the best validation ${metric} on the ${val.rows} validation rows (early stop after ${val.patience} evaluations without improvement, not before epoch ${val.minEpochs}).`, '');
    if (has('validation.png')) L.push('![validation score per evaluation](validation.png)', '');
    if (v && info.labels !== 'discrete') {
      const n = v.measured.length;
      const stats = regressionStats(Float64Array.from(v.predicted.flat()), Float64Array.from(v.measured.flat()), n, K);
      L.push(`Figures of the saved weights on the validation rows (e = predicted − measured; ${info.labels === 'real' ? "the targets' units" : 'composition units'}):`, '');
      L.push('| target | RMSEP | bias | SEP | R² |', '| --- | ---: | ---: | ---: | ---: |');
      stats.forEach((s, k) => L.push(`| ${info.labelNames[k]} | ${fmt(s.rmsep)} | ${fmt(s.bias, 3)} | ${fmt(s.sep)} | ${Number.isNaN(s.r2) ? 'n/a' : s.r2.toFixed(3)} |`));
      L.push('');
      if (has('validation-pv.png')) L.push('![predicted against measured on the validation rows, with the 1:1 line](validation-pv.png)', '', '![residuals against measured on the validation rows](validation-pv-residuals.png)', '');
    }
    if (v && info.labels === 'discrete') {
      const arg = (r: number[]) => r.indexOf(Math.max(...r));
      const t = v.measured.map(arg);
      const p = v.predicted.map(arg);
      const wrong = t.filter((c, i) => c !== p[i]).length;
      L.push(`Error of the saved weights on the validation rows: ${((100 * wrong) / t.length).toFixed(1)}% (${wrong} of ${t.length}). Confusion matrix (rows: true, columns: predicted; ${info.labelNames.map((c, k) => `${k} = ${c}`).join(', ')}):`, '');
      L.push(formatConfusion(confusionMatrix(t, p, K)), '');
    }
    if (calibrationLine) L.push(`Calibration for \`predict\`: ${calibrationLine}.`, '');
  } else L.push('No validation rows: the last weights are saved. Give `--validation-fraction 0.2` (or `--validation-x`/`--validation-y`) for a validation curve, early stopping on it, its figures here, and calibrated intervals in `predict`.', '');
  if (has('endmembers.png')) L.push('## Endmembers', '', 'Each pure component generated at z̄ (the labelled rows\' mean nuisance), beside the mean spectrum of the labelled rows:', '', '![generated endmembers and the mean labelled spectrum](endmembers.png)', '');
  L.push('Predictions: `untapped predict DIR --x new.csv [--y measured.csv --plot pv.png]`; spectra at given labels: `untapped generate DIR --y …` (docs/fit.md).', '');
  return L.join('\n');
}
