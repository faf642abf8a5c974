/** `untapped cv`: K-fold cross-validation of the tool and of PLS on the same folds. */
import { Command } from 'commander';
import { UsageError, engine, intArg, log } from '../common.js';
import { cvFiles, type CvModel } from '../../experiments/cv.js';
import { preprocessOption } from '../../experiments/fit.js';

/** Adds `untapped cv`. */
export function addCvCommand(program: Command): void {
  program
    .command('cv')
    .description('K-fold cross-validation of the tool (fitted per fold with `fit`\'s defaults) and of PLS (components chosen by RMSECV on the same folds, and nested: chosen by an inner CV of each fold\'s training rows; PLS-DA for classes) on the same splits, replicates of a sample kept in one fold and the preprocessing refitted on every fold\'s training rows: writes RMSECV, bias, SEP and R² per target (or the CV error rate) to DIR/cv.md and cv.json, the out-of-fold predictions to DIR/predictions.csv and a predicted-vs-measured chart (docs/fit.md)')
    .requiredOption('--x <file>', 'labelled inputs, one row per sample (as fit --x)')
    .requiredOption('--y <file>', 'their labels (as fit --y)')
    .option('--labels <kind>', "label space: simplex, discrete or real (default: detected as fit does)")
    .option('--groups <file>', 'one group value per row of --x (rows sharing a value, e.g. replicates of a sample, stay in one fold)')
    .option('--group-size <n>', 'consecutive rows of --x are replicates of one sample in groups of N, kept in one fold', intArg('--group-size'))
    .option('--folds <k>', 'number of folds (≥ 2)', intArg('--folds', 0), 5)
    .option('--preprocess <spec>', "preprocessing chain (as fit --preprocess, e.g. 'snv,sg:11:2:1,center'), refitted on every fold's training rows for both models; without it, the tool takes fit's default (for classes pca:k, refitted per fold on the tool's rows) and PLS the raw channels")
    .option('--unlabelled <file>', 'unlabelled inputs, added to the tool\'s training rows in every fold (PLS does not use them)')
    .option('--epochs <n>', "epochs of every fold's fit (default: fit's, 2000)", intArg('--epochs'))
    .option('--seed <n>', 'seed of the fold assignment and of the fits', intArg('--seed', 0), 0)
    .option('--pls-max <n>', 'largest number of PLS components tried', intArg('--pls-max'), 10)
    .option('--models <list>', 'comma-separated models to cross-validate: untapped, pls', 'untapped,pls')
    .requiredOption('-o, --out <dir>', 'directory to write (cv.md, cv.json, predictions.csv, predicted-vs-measured.png, folds/)')
    .option('--force', 'replace an existing DIR written by cv')
    .action(async (o: { x: string; y: string; labels?: string; groups?: string; groupSize?: number; folds: number; preprocess?: string; unlabelled?: string; epochs?: number; seed: number; plsMax: number; models: string; out: string; force?: boolean }, cmd: Command) => {
      if (o.folds < 2) throw new UsageError(`--folds must be at least 2 (each fold is held out once while the others train), got ${o.folds}`);
      if (o.labels !== undefined && !['simplex', 'discrete', 'real'].includes(o.labels)) throw new UsageError(`--labels must be simplex, discrete or real, got '${o.labels}'`);
      if (o.groups !== undefined && o.groupSize !== undefined) throw new UsageError('give either --groups FILE or --group-size N, not both');
      const models = o.models.split(',').map((m) => m.trim().toLowerCase());
      const bad = models.find((m) => m !== 'untapped' && m !== 'pls');
      if (bad !== undefined) throw new UsageError(`--models: '${bad}' is not a model; give a comma-separated list of untapped and pls`);
      try {
        preprocessOption(o);
      } catch (e) {
        throw new UsageError(`--preprocess: ${(e as Error).message}`);
      }
      if (models.includes('untapped')) await engine(cmd);
      await cvFiles({
        x: o.x,
        y: o.y,
        out: o.out,
        ...(o.labels ? { labels: o.labels as 'simplex' | 'discrete' | 'real' } : {}),
        ...(o.groups !== undefined ? { groups: o.groups } : {}),
        ...(o.groupSize !== undefined ? { groupSize: o.groupSize } : {}),
        folds: o.folds,
        ...(o.preprocess !== undefined ? { preprocess: o.preprocess } : {}),
        ...(o.unlabelled !== undefined ? { unlabelled: o.unlabelled } : {}),
        ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
        seed: o.seed,
        plsMax: o.plsMax,
        models: [...new Set(models)] as CvModel[],
        force: o.force ?? false,
        log,
      });
    });
}
