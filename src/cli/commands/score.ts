/** `untapped score DIR --x FILE`: condition monitoring — classify each row and flag anomalies by the ELBO. */
import * as path from 'node:path';
import { Command } from 'commander';
import { UsageError, engine, intArg, log, numArg, refuseOverwrite } from '../common.js';
import { formatCsv } from '../../io/index.js';
import { writeFileAtomic } from '../../node/index.js';
import { writeChart } from '../../node/chart.js';
import { chartFiles, modelDirFiles } from '../../node/replace.js';
import { timelineSpec } from '../../report/chart.js';
import { scoreTable, type ScoredTable } from '../../experiments/monitor.js';

/** The rows of the output CSV: probabilities (and the predicted class), ELBO, flag, threshold. */
function scoreColumns(s: ScoredTable): { columns: string[]; rows: number[][]; text?: { name: string; cells: string[] } } {
  const K = s.labelNames?.length ?? 0;
  const discrete = s.predicted !== undefined;
  const columns = [...(s.probs ? s.labelNames!.map((n) => `${discrete ? 'p' : 'y'}_${n}`) : []), ...(discrete ? ['class'] : []), 'elbo', 'anomaly', 'threshold'];
  const rows = Array.from({ length: s.n }, (_, i) => [...(s.probs ? Array.from(s.probs.subarray(i * K, (i + 1) * K)) : []), ...(discrete ? [s.predicted![i]] : []), s.elbo[i], s.flagged[i], s.threshold]);
  return { columns, rows, ...(discrete ? { text: { name: 'class_name', cells: Array.from(s.predicted!, (k) => s.labelNames![k]) } } : {}) };
}

/** Per true class: rows and flagged rows (for a table with labels). */
function flaggedByClass(s: ScoredTable): Record<string, { rows: number; flagged: number; new?: true }> | undefined {
  if (!s.truth || !s.truthNames) return undefined;
  const out: Record<string, { rows: number; flagged: number; new?: true }> = {};
  const K = s.labelNames?.length ?? 0;
  s.truth.forEach((k, i) => {
    const name = k < 0 ? '(no label)' : s.truthNames![k];
    // a condition the model was not trained on (--new-labels) is marked new
    const r = (out[name] ??= { rows: 0, flagged: 0, ...(k >= K ? { new: true as const } : {}) });
    r.rows++;
    r.flagged += s.flagged[i];
  });
  return out;
}

/** Adds `untapped score`. */
export function addScoreCommand(program: Command): void {
  program
    .command('score')
    .description(
      'condition monitoring (thesis 003_… ch. 6): classify each row of a sensor table with q(y | x) and score it by the ELBO, flagging rows whose ELBO is below a threshold set from the training rows at --false-alarm; works on any train run on a table and on a fit directory. Writes per row the class probabilities, the predicted class, the ELBO (nats), the anomaly flag and the threshold; --plot draws the time line',
    )
    .argument('<dir>', 'run directory (untapped train) or model directory (untapped fit)')
    .requiredOption('--x <file>', "table of new rows with the model's channels (by name; extra columns are ignored; a 'timestamp' first column must be in time order)")
    .option('--false-alarm <f>', 'share of the training rows that would be flagged: the threshold is the f-quantile of their ELBOs', numArg('--false-alarm'), 0.01)
    .option('--draws <n>', 'Monte Carlo draws of the ELBO per row', intArg('--draws'), 10)
    .option('--train-rows <n>', 'at most this many training rows (a seeded subset) set the threshold', intArg('--train-rows'), 5000)
    .option('-o, --out <file>', 'CSV to write (default: stdout)')
    .option('--plot <file.png>', 'time line: the channels, the predicted condition, the ELBO with the threshold and the flagged rows (PNG, with its SVG and Vega-Lite spec)')
    .option('--report <file.json>', 'summary as JSON: threshold, flagged rows, and per labelled condition the share flagged')
    .option('--calibrate <file>', "normal rows the model was not trained on (e.g. held-out days; same channels): their ELBOs set the threshold instead of the training rows', which are optimistic, so that the false-alarm rate on new normal rows is --false-alarm")
    .option('--new-labels', "the label column may hold conditions the model was not trained on (e.g. injected faults): reported apart, per condition, and not scored for classification (default: an error naming the row)")
    .option('--seed <n>', 'seed of the draws', intArg('--seed', 0), 0)
    .option('--force', 'replace existing --out / --plot / --report files')
    .action(async (dir: string, o: { x: string; falseAlarm: number; draws: number; trainRows: number; out?: string; plot?: string; report?: string; newLabels?: boolean; calibrate?: string; seed: number; force?: boolean }, cmd: Command) => {
      if (!(o.falseAlarm >= 0 && o.falseAlarm < 1)) throw new UsageError(`--false-alarm must be in [0, 1), got ${o.falseAlarm}`);
      if (o.plot && !o.plot.toLowerCase().endsWith('.png')) throw new UsageError(`--plot ${o.plot}: give a .png file`);
      refuseOverwrite([o.out, o.report, ...chartFiles(o.plot)], o.force, [o.x, o.calibrate, path.join(dir, 'config.json'), path.join(dir, 'checkpoint.utp'), path.join(dir, 'fit.json'), path.join(dir, 'model.utp'), ...modelDirFiles(dir)]);
      await engine(cmd);
      const s = scoreTable(dir, o.x, { falseAlarm: o.falseAlarm, draws: o.draws, trainRows: o.trainRows, seed: o.seed, newLabels: o.newLabels ?? false, ...(o.calibrate ? { calibrate: o.calibrate } : {}) });
      const t = scoreColumns(s);
      const csv = formatCsv(t.columns, t.rows, { name: s.idColumn, cells: s.ids }, 6, t.text);
      const flagged = s.flagged.reduce((a, b) => a + b, 0);
      log(`score: threshold ${s.threshold.toFixed(2)} nats (ELBO quantile ${o.falseAlarm} of ${s.trainRows} ${o.calibrate ? `rows of ${o.calibrate}` : 'training rows'}, ${s.trainFlagged} of them below it); ${flagged} of ${s.n} rows of ${o.x} flagged (${((100 * flagged) / s.n).toFixed(2)}%)`);
      const byClass = flaggedByClass(s);
      if (byClass) {
        const line = (isNew: boolean) => Object.entries(byClass).filter(([, r]) => Boolean(r.new) === isNew).map(([c, r]) => `${c} ${r.flagged}/${r.rows}`).join(', ');
        log(`score: flagged by labelled condition: ${line(false)}`);
        if (Object.values(byClass).some((r) => r.new)) log(`score: flagged among conditions the model was not trained on: ${line(true)}`);
      }
      if (s.window > 1) log(`score: the model reads windows of ${s.window} rows; the first ${s.window - 1} rows of every stretch of ${o.x} have none and are left out (${s.n} rows scored)`);
      let error: number | undefined;
      if (s.truth && s.predicted) {
        let n = 0;
        let wrong = 0;
        const K = s.labelNames!.length;
        s.truth.forEach((k, i) => {
          if (k >= 0 && k < K) {
            n++;
            if (s.predicted![i] !== k) wrong++;
          }
        });
        if (n) {
          error = wrong / n;
          log(`score: classification error ${(100 * error).toFixed(2)}% on the ${n} rows labelled with a class of the model`);
        }
      }
      if (o.out) {
        writeFileAtomic(o.out, csv);
        log(`wrote ${o.out}: ${s.n} rows`);
      } else process.stdout.write(csv);
      if (o.report) {
        writeFileAtomic(o.report, JSON.stringify({ model: dir, x: o.x, n: s.n, falseAlarm: s.falseAlarm, threshold: s.threshold, thresholdFrom: s.thresholdFrom, thresholdRows: s.trainRows, thresholdRowsBelow: s.trainFlagged, flagged, ...(byClass ? { byClass } : {}), ...(error !== undefined ? { error } : {}) }, null, 2) + '\n');
        log(`wrote ${o.report}`);
      }
      if (o.plot) {
        const D = s.columns.length;
        // with a window, the newest copy of each channel (the row itself)
        const first = D - D / s.window;
        const shown = s.columns.slice(first, first + 12);
        const spec = timelineSpec(
          {
            time: s.times ?? null,
            channels: shown.map((name, d) => ({ name, values: Float32Array.from({ length: s.n }, (_, i) => s.x[i * D + first + d]) })),
            ...(s.predicted ? { predicted: { names: s.labelNames!, index: s.predicted } } : {}),
            elbo: s.elbo,
            threshold: s.threshold,
            flagged: Array.from(s.flagged, Boolean),
          },
          { title: `${path.basename(o.x)}: ${flagged} of ${s.n} rows flagged (ELBO below ${s.threshold.toFixed(1)} nats, false-alarm rate ${o.falseAlarm} on the training rows)${D / s.window > 12 ? `; the first 12 of ${D / s.window} channels` : ''}` },
        );
        const f = writeChart(o.plot, spec);
        log(`wrote ${f.files.png} (and ${path.basename(f.files.svg)}, ${path.basename(f.files.spec)})`);
      }
    });
}
