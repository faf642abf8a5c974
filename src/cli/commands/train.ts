/** `untapped train`: a model from a run config into a run directory (or the semi² model into a model directory). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { UsageError, engine, intArg, log, printEval } from '../common.js';
import { RunConfigSchema } from '../../config/run.js';
import { readConfigFile } from '../../node/data.js';
import { resolveSourcePaths, trainRun, RUN_FILES } from '../../experiments/run.js';
import { writeRunReport } from '../../experiments/report.js';
import { isSemi2Config, readSemi2Config, trainSemi2 } from '../../experiments/semi2-run.js';

/** Adds `untapped train`. */
export function addTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train a model from a JSON config into a run directory; a config with model type "untapped" trains the semi²-supervised model from its labelled, unlabelled and unfeatured sources (files or MNIST splits) into a model directory like `fit` writes (sources.validation and train.patience as fit\'s --validation-… and --patience; docs/fit.md)')
    .option('-c, --config <file>', 'run config (JSON); with --resume defaults to DIR/config.json (model type untapped: give the config again)')
    .requiredOption('-o, --out <dir>', 'run directory (must not hold a run unless --resume)')
    .option('--epochs <n>', 'override train.epochs', intArg('--epochs'))
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--iw <k>', 'importance samples for the final report', intArg('--iw'), 1000)
    .option('--iw-n <n>', 'test rows for the final report\'s IW estimate', intArg('--iw-n'), 1000)
    .option('--no-report', 'skip the final report')
    .option('--force', 'model type untapped: replace the model directory in --out (one that fit or train wrote), as fit --force')
    .action(async (o: { config?: string; out: string; epochs?: number; resume?: boolean; iw: number; iwN: number; report: boolean; force?: boolean }, cmd: Command) => {
      const info = await engine(cmd);
      const cfgFile = o.config ?? (o.resume ? path.join(o.out, RUN_FILES.config) : undefined);
      if (!cfgFile) throw new UsageError('train needs --config FILE (or --resume with an existing run directory)');
      if (!o.config && !fs.existsSync(o.out) && !fs.existsSync(`${o.out}.partial`)) throw new UsageError(`--resume: ${o.out} does not exist, so there is no run to resume; start one with --config FILE`);
      if (!o.config && (fs.existsSync(path.join(o.out, 'fit.json')) || fs.existsSync(`${o.out}.partial`))) {
        throw new UsageError(`${o.out} holds a model of type untapped: it resumes with the same config, --config FILE --resume`);
      }
      let raw: unknown = null;
      try {
        raw = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
      } catch {
        // unreadable or not JSON: the run-config reader below says which
      }
      if (isSemi2Config(raw)) {
        // the semi²-supervised model from three sources, into a model directory like `untapped fit` writes
        if (!o.config) throw new UsageError('an untapped-model run resumes with the same --config FILE --resume');
        const cfg = readSemi2Config(o.config);
        log(`${o.resume ? 'resuming' : 'training'} the untapped model into ${o.out} (backend ${info.backend})`);
        const r = await trainSemi2(cfg, o.config, o.out, { resume: o.resume ?? false, force: o.force ?? false, ...(o.epochs ? { epochs: o.epochs } : {}), log });
        r.estimator.dispose();
        return;
      }
      if (o.force) throw new UsageError('--force applies to model type untapped; a run directory is never replaced (choose another --out, or --resume)');
      // table sources are read relative to the config file's folder, and saved with absolute paths
      const config = resolveSourcePaths(readConfigFile(RunConfigSchema, cfgFile), path.dirname(path.resolve(cfgFile)));
      log(`${o.resume ? 'resuming' : 'training'} ${config.model.type} into ${o.out} (backend ${info.backend})`);
      const run = await trainRun(config, o.out, { resume: o.resume, epochs: o.epochs, onEval: printEval, engine: info, log });
      if (o.report) {
        const rep = writeRunReport(run.dir, run.config, run.model, run.data, run.result.history, { iw: o.iw, iwN: o.iwN, warnings: run.result.warnings });
        log(`test ELBO ${rep.testElbo.toFixed(2)}; log-likelihood (IW ${rep.iw.k}, ${rep.iw.n} rows) ${rep.iw.mean.toFixed(2)} ± ${rep.iw.stderr.toFixed(2)}`);
        log(`report: ${rep.files.markdown} (and ${rep.files.html})`);
      }
      if (run.result.warnings.length) log(`warning: the training loss diverged (see ${path.join(run.dir, RUN_FILES.log)}${o.report ? ' and the report' : ''}); the model may be useless`);
      run.model.dispose();
    });
}
