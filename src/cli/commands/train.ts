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

/**
 * The config a run in `out` was started with: `config.json` of a run directory, or of an untapped
 * model directory (in `out.partial` while it trains).
 * @throws UsageError for an untapped model directory written before directories kept their config.
 */
function savedConfig(out: string): string {
  const semi2 = fs.existsSync(path.join(out, 'fit.json')) || fs.existsSync(`${out}.partial`);
  if (!semi2) return path.join(out, RUN_FILES.config);
  for (const f of [path.join(`${out}.partial`, 'config.json'), path.join(out, 'config.json')]) if (fs.existsSync(f)) return f;
  throw new UsageError(`${out} holds a model of type untapped without its config.json (written by an older version, or by fit before it saved one): resume with the same config, --config FILE --resume`);
}

/** Adds `untapped train`. */
export function addTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train a model from a JSON config into a run directory; a config with model type "untapped" trains the semi²-supervised model from its labelled, unlabelled and unfeatured sources (files or MNIST splits) into a model directory like `fit` writes (sources.validation and train.patience as fit\'s --validation-… and --patience; docs/fit.md)')
    .option('-c, --config <file>', 'run config (JSON); with --resume defaults to the config.json the run directory keeps (every model type; a model directory of fit keeps one too)')
    .requiredOption('-o, --out <dir>', 'run directory (must not hold a run unless --resume)')
    .option('--epochs <n>', 'override train.epochs', intArg('--epochs'))
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--iw <k>', 'importance samples for the final report', intArg('--iw'), 1000)
    .option('--iw-n <n>', 'test rows for the final report\'s IW estimate', intArg('--iw-n'), 1000)
    .option('--no-report', 'skip the final report')
    .option('--force', 'model type untapped: replace the model directory in --out (one that fit or train wrote), as fit --force')
    .action(async (o: { config?: string; out: string; epochs?: number; resume?: boolean; iw: number; iwN: number; report: boolean; force?: boolean }, cmd: Command) => {
      const info = await engine(cmd);
      if (o.resume && !o.config && !fs.existsSync(o.out) && !fs.existsSync(`${o.out}.partial`)) throw new UsageError(`--resume: ${o.out} does not exist, so there is no run to resume; start one with --config FILE`);
      const cfgFile = o.config ?? (o.resume ? savedConfig(o.out) : undefined);
      if (!cfgFile) throw new UsageError('train needs --config FILE (or --resume with an existing run directory)');
      let raw: unknown = null;
      try {
        raw = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
      } catch {
        // unreadable or not JSON: the run-config reader below says which
      }
      // --resume with a config of the other kind: say so, rather than fail on the directory's files
      const semi2Dir = fs.existsSync(path.join(o.out, 'fit.json')) || fs.existsSync(`${o.out}.partial`);
      if (o.resume && o.config && isSemi2Config(raw) && !semi2Dir && fs.existsSync(path.join(o.out, RUN_FILES.config))) {
        throw new UsageError(`${o.out} holds a run of another model type; ${o.config} is a config of model type untapped. Resume the run with its own config (leave out --config)`);
      }
      if (o.resume && o.config && raw !== null && !isSemi2Config(raw) && semi2Dir) {
        throw new UsageError(`${o.out} holds a model of type untapped (written by fit or train); ${o.config} is not an untapped config. Resume it with its own config (leave out --config)`);
      }
      if (isSemi2Config(raw)) {
        // the semi²-supervised model from three sources, into a model directory like `untapped fit` writes
        const cfg = readSemi2Config(cfgFile);
        log(`${o.resume ? 'resuming' : 'training'} the untapped model into ${o.out} (backend ${info.backend})`);
        const r = await trainSemi2(cfg, cfgFile, o.out, { resume: o.resume ?? false, force: o.force ?? false, ...(o.epochs ? { epochs: o.epochs } : {}), log });
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
