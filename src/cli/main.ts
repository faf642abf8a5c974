/**
 * The `untapped` command line. Every command prints human-readable progress on stderr; `--json`
 * prints exactly one JSON object on stdout. Errors are printed as `untapped: error: …` and exit with
 * status 1 (2 for usage errors).
 */
import { Command, CommanderError, Option } from 'commander';
import { UsageError, intArg, log } from './common.js';
import '../node/host.js';
import { RefusedOutputError } from '../node/replace.js';
import { addTrainCommand } from './commands/train.js';
import { addEvaluateCommand } from './commands/evaluate.js';
import { addSampleCommand } from './commands/sample.js';
import { addBenchCommand } from './commands/bench.js';
import { addExperimentCommand } from './commands/experiment.js';
import { addFitCommand } from './commands/fit.js';
import { addPredictCommand } from './commands/predict.js';
import { addGenerateCommand } from './commands/generate.js';
import { addQuickstartCommand } from './commands/quickstart.js';
import { addSimulateCommand } from './commands/simulate.js';
import { addScoreCommand } from './commands/score.js';
import { addCvCommand } from './commands/cv.js';

export { QUICKSTART_CONFIG } from './commands/quickstart.js';

/** Builds the command tree. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('untapped')
    .description('Deep generative models for labelled, unlabelled and unfeatured data (VAE family, M2, the semi²-supervised inverted VAE).')
    .option('-v, --verbose', 'print the engine choice and other details')
    .addOption(new Option('--backend <name>', 'force a tensor backend (also UNTAPPED_BACKEND)').choices(['tensorflow', 'wasm', 'cpu']))
    .option('--threads <n>', 'native (OpenBLAS) threads (also UNTAPPED_THREADS; default: all cores)', intArg('--threads'))
    .showHelpAfterError()
    .exitOverride();
  addTrainCommand(program);
  addEvaluateCommand(program);
  addSampleCommand(program);
  addBenchCommand(program);
  addExperimentCommand(program);
  addFitCommand(program);
  addCvCommand(program);
  addPredictCommand(program);
  addGenerateCommand(program);
  addScoreCommand(program);
  addSimulateCommand(program);
  addQuickstartCommand(program);
  return program;
}

let stdoutGuarded = false;

/**
 * A closed stdout (`untapped predict … | head -1`) ends the command quietly with status 0, as for
 * any Unix filter, instead of an uncaught EPIPE with a stack trace. Installed once per process.
 */
export function endQuietlyOnClosedStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') process.exit(0);
    log(`untapped: error: cannot write to stdout: ${e.message}`);
    process.exit(1);
  });
  // a closed stderr (`… 2>&1 | head`) loses the progress lines, not the work: the command goes on
  process.stderr.on('error', () => {});
}

/** Runs the CLI with `argv` (without node and script); returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedStdout();
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError || e instanceof RefusedOutputError) {
      log(`untapped: error: ${e.message}`);
      return 2;
    }
    const err = e as Error;
    log(`untapped: error: ${err.message}`);
    if (process.env.UNTAPPED_DEBUG) log(err.stack ?? '');
    return 1;
  }
}

