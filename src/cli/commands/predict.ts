/** `untapped predict DIR`: labels with their uncertainty from a fitted model. */
import * as path from 'node:path';
import { Command } from 'commander';
import { UsageError, engine, intArg, log, numArg, refuseOverwrite } from '../common.js';
import { chartFiles, modelDirFiles } from '../../node/replace.js';
import { describeScores, loadFitted, predictFile, predictionColumns, scorePrediction } from '../../experiments/fit.js';
import { formatCsv } from '../../io/index.js';
import { readTable, writeFileAtomic } from '../../node/index.js';
import { predictedVsMeasuredCharts, residualsFile } from '../../experiments/fit-report.js';
import { isRunDir, loadRun, predictRun } from '../../experiments/run.js';

/** Adds `untapped predict DIR`. */
export function addPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('predict labels (compositions, class probabilities or real-valued targets) with their uncertainty for the rows of a file, using a model directory written by `untapped fit` (or, for a train run of m2/adgm/sdgm/cagem, the class probabilities p0…pK−1 of q(y | x) and the predicted class): the mean of q(y | x), its sd over draws (not calibrated), and — when the fit had validation rows — split-conformal intervals per component (or class prediction sets) calibrated on them')
    .argument('<dir>', 'model directory')
    .requiredOption('--x <file>', 'inputs, with the same channels as the fit')
    .option('-o, --out <file>', 'CSV to write (default: stdout): id, the mean of each component (or real target), its sd, then <name>_lo95 and <name>_hi95 per component (compositions) or <name>_in95set (1 when the class is in the 95% set); for classes the predicted class and its class_name last')
    .option('--samples <n>', 'draws of q(y | x) for the sd', intArg('--samples'), 100)
    .option('--seed <n>', 'seed of the draws', intArg('--seed', 0), 0)
    .option('--level <p>', "nominal coverage of the intervals or sets (default: the fit's, 0.95), recalibrated from the validation scores kept in fit.json", numArg('--level'))
    .option('--y <file>', 'known labels of the rows of --x (layout as fit --y): report RMSEP (or error and cross-entropy) and the coverage of the intervals or sets')
    .option('--report <file>', 'with --y: write those measures as JSON')
    .option('--plot <file.png>', 'with --y, for compositions or real targets: predicted against true (measured), one colour per component or target, with the 1:1 line, and FILE-residuals.png beside it (PNG, with the SVG and spec beside each)')
    .option('--force', 'replace existing --out / --report / --plot files')
    .action(async (dir: string, o: { x: string; out?: string; samples: number; seed: number; level?: number; y?: string; report?: string; plot?: string; force?: boolean }, cmd: Command) => {
      refuseOverwrite([o.out, o.report, ...chartFiles(o.plot), ...chartFiles(o.plot && residualsFile(o.plot))], o.force, [o.x, o.y, path.join(dir, 'fit.json'), path.join(dir, 'model.utp'), path.join(dir, 'config.json'), path.join(dir, 'checkpoint.utp'), ...modelDirFiles(dir)]);
      if (o.plot && !o.y) throw new UsageError('--plot draws predicted against true; give --y FILE');
      if (o.plot && !/\.png$/i.test(o.plot)) throw new UsageError(`--plot ${o.plot}: give a file name ending in .png (the SVG and spec are written beside it)`);
      await engine(cmd);
      if (o.level !== undefined && !(o.level > 0 && o.level < 1)) throw new UsageError(`--level must be in (0, 1), got ${o.level}`);
      if (o.report && !o.y && !isRunDir(dir)) throw new UsageError('--report writes the measures against --y; give --y FILE');
      if (isRunDir(dir)) {
        // a run of `untapped train --config` (m2, adgm, sdgm, cagem): class probabilities of q(y | x)
        if (o.y || o.level !== undefined) throw new UsageError(`${dir} is a train run: --y and --level apply to models written by untapped fit (a run scores the rows itself when --x has its label column)`);
        const run = loadRun(dir);
        try {
          const p = predictRun(run, o.x);
          const K = p.classes;
          const rows = p.ids.map((_, i) => [...p.probs.subarray(i * K, (i + 1) * K), p.predicted[i]]);
          // named classes: p_<name> columns, and the predicted name after the predicted index
          const names = p.classNames;
          const csv = formatCsv([...Array.from({ length: K }, (_, k) => (names ? `p_${names[k]}` : `p${k}`)), 'class'], rows, { name: p.idColumn, cells: p.ids }, 6, names ? { name: 'class_name', cells: Array.from(p.predicted, (k) => names[k]) } : undefined);
          if (names) log(`predict: classes ${names.map((c, k) => `${k} = '${c}'`).join(', ')}`);
          if (o.out) {
            writeFileAtomic(o.out, csv);
            log(`wrote ${o.out}: ${p.ids.length} rows`);
          } else process.stdout.write(csv);
          if (p.truth) {
            const blank = p.ids.length - p.truth.scored;
            log(`predict: error ${(100 * p.truth.error).toFixed(2)}% against the label column of ${o.x} (${p.truth.scored} rows${blank ? `; ${blank} with an empty label predicted, not scored` : ''})`);
            if (o.report) writeFileAtomic(o.report, JSON.stringify({ x: o.x, model: dir, n: p.truth.scored, error: p.truth.error }, null, 2) + '\n');
          }
        } finally {
          run.model.dispose();
        }
        return;
      }
      const m = loadFitted(dir);
      // what --plot cannot draw is refused before anything is predicted or written
      if (o.plot && m.info.labels === 'discrete') {
        m.estimator.dispose();
        throw new UsageError('--plot draws predicted against true compositions or measured targets; this model predicts classes (--y gives the error and the confusion matrix)');
      }
      if (o.plot && m.info.labelNames.length > 10) {
        m.estimator.dispose();
        throw new UsageError(`--plot draws at most 10 components, the model has ${m.info.labelNames.length}`);
      }
      const p = predictFile(m, o.x, o.samples, o.seed, o.level !== undefined ? { level: o.level } : {});
      const scores = o.y ? scorePrediction(m, p, o.y) : null;
      const t = predictionColumns(p);
      // classes: the predicted class's name after its index
      const csv = formatCsv(t.columns, t.rows, p.ids, 6, p.predicted ? { name: 'class_name', cells: p.predicted.map((k) => p.labelNames[k]) } : undefined);
      log(`predict: ${p.note}`);
      if (o.out) {
        writeFileAtomic(o.out, csv);
        log(`wrote ${o.out}: ${p.ids.length} rows`);
      } else process.stdout.write(csv);
      if (scores) {
        for (const line of describeScores(scores, p.labelNames, o.y!)) log(`predict: ${line}`);
        if (o.report) {
          writeFileAtomic(o.report, JSON.stringify({ x: o.x, y: o.y, model: dir, ...scores, note: p.note }, null, 2) + '\n');
          log(`wrote ${o.report}`);
        }
        if (o.plot) {
          const y = readTable(o.y!);
          const measured = Array.from({ length: y.n }, (_, i) => Array.from(y.data.subarray(i * y.width, i * y.width + p.labelNames.length)));
          predictedVsMeasuredCharts(o.plot, p.mean, measured, p.labelNames, m.info.labels === 'real', `${y.n} rows of ${y.file}`);
          log(`wrote ${o.plot} and ${residualsFile(o.plot)} (residuals), each with its .svg`);
        }
      }
      m.estimator.dispose();
    });
}
