/** `untapped predict DIR`: labels with their uncertainty from a fitted model. */
import * as path from 'node:path';
import { Command } from 'commander';
import { UsageError, engine, intArg, log, refuseOverwrite } from '../common.js';
import { describeScores, loadFitted, predictFile, predictionColumns, scorePrediction } from '../../experiments/fit.js';
import { formatCsv, writeFileAtomic } from '../../io/index.js';

/** Adds `untapped predict DIR`. */
export function addPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('predict labels (compositions or class probabilities) with their uncertainty for the rows of a file, using a model directory written by `untapped fit`: the mean of q(y | x), its sd over draws (not calibrated), and — when the fit had validation rows — split-conformal intervals per component (or class prediction sets) calibrated on them')
    .argument('<dir>', 'model directory')
    .requiredOption('--x <file>', 'inputs, with the same channels as the fit')
    .option('-o, --out <file>', 'CSV to write (default: stdout): id, the mean of each component, its sd, then <name>_lo95 and <name>_hi95 per component (compositions) or <name>_in95set (1 when the class is in the 95% set)')
    .option('--samples <n>', 'draws of q(y | x) for the sd', intArg('--samples'), 100)
    .option('--seed <n>', 'seed of the draws', intArg('--seed', 0), 0)
    .option('--level <p>', "nominal coverage of the intervals or sets (default: the fit's, 0.95), recalibrated from the validation scores kept in fit.json", Number)
    .option('--y <file>', 'known labels of the rows of --x (layout as fit --y): report RMSEP (or error and cross-entropy) and the coverage of the intervals or sets')
    .option('--report <file>', 'with --y: write those measures as JSON')
    .option('--force', 'replace existing --out / --report files')
    .action(async (dir: string, o: { x: string; out?: string; samples: number; seed: number; level?: number; y?: string; report?: string; force?: boolean }, cmd: Command) => {
      refuseOverwrite([o.out, o.report], o.force, [o.x, o.y, path.join(dir, 'fit.json'), path.join(dir, 'model.utp')]);
      await engine(cmd);
      if (o.level !== undefined && !(o.level > 0 && o.level < 1)) throw new UsageError(`--level must be in (0, 1), got ${o.level}`);
      if (o.report && !o.y) throw new UsageError('--report writes the measures against --y; give --y FILE');
      const m = loadFitted(dir);
      const p = predictFile(m, o.x, o.samples, o.seed, o.level !== undefined ? { level: o.level } : {});
      const scores = o.y ? scorePrediction(m, p, o.y) : null;
      const t = predictionColumns(p);
      const csv = formatCsv(t.columns, t.rows, p.ids);
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
      }
      m.estimator.dispose();
    });
}
