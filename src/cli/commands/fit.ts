/** `untapped fit`: the semi²-supervised model from your own files. */
import { Command, Option } from 'commander';
import { UsageError, engine, intArg, log, numArg } from '../common.js';
import { fitFiles, parseHiddenSpec, preprocessOption } from '../../experiments/fit.js';

/** Adds `untapped fit`. */
export function addFitCommand(program: Command): void {
  program
    .command('fit')
    .description('fit the semi²-supervised model to your own files: spectra x with compositions, classes or real-valued targets y such as an octane number (CSV / JSON / NPY; layout in docs/fit.md), plus optional unlabelled spectra and unfeatured labels; with validation rows it saves the weights of the best validation score (RMSEP, or cross-entropy for classes), stops early, and calibrates the intervals that `predict` reports')
    .requiredOption('--x <file>', 'labelled inputs, one row per sample')
    .requiredOption('--y <file>', 'their labels: compositions (rows on the simplex), classes (--labels discrete) or real-valued targets, one column each (--labels real)')
    .option('--unlabelled <file>', 'unlabelled inputs (same channels as --x)')
    .option('--unfeatured <spec>', "unfeatured labels: a file; 'resample' / 'resample:N' (N labels resampled from the labelled rows; the default, N = 500); 'corners' / 'corners:N' (N labels near the simplex corners); for real targets 'range' / 'range:N' (N values uniform over the labelled range widened by 5% of its width on either side; inside --bounds); or 'none'")
    .requiredOption('-o, --out <dir>', 'model directory to write (built in DIR.partial, renamed when complete)')
    .addOption(new Option('--labels <kind>', "label space: compositions, classes, or real-valued targets (prior N(μ, σ²) fitted on the labelled y; predict gives mean and sd per target). Default: 'real' for a y file of one column with a non-integer value, else 'simplex'").choices(['simplex', 'discrete', 'real']))
    .option('--bounds <lo:hi,…>', "real targets (implies --labels real): bounds per target (e.g. '0:100' for a percentage); the model works on the logit scale log((y − lo)/(hi − y)), so every prediction lies inside; labelled values must lie strictly inside (docs/fit.md)")
    .option('--latent <d>', 'dimension of the nuisance z', intArg('--latent'), 1)
    .option('--hidden <spec>', "hidden-layer widths of q(y | x), q(z | x, y) and p(x | y, z) as 'qy=W,…;qz=W,…;px=W,…' (e.g. 'qy=20;px=50,50'; 'px=' for none: a linear map); networks not named keep the default qy=5;qz=5;px=20")
    .option('--epochs <n>', 'epochs (passes over the unlabelled set, or the labelled set when there is none)', intArg('--epochs'), 2000)
    .option('--batch-size <n>', 'rows per source per step', intArg('--batch-size'), 100)
    .option('--lr <rate>', 'Adam learning rate', numArg('--lr'), 3e-3)
    .option('--seed <n>', 'seed', intArg('--seed', 0), 0)
    .option('--budget-minutes <m>', 'stop after this many minutes of training', numArg('--budget-minutes'))
    .option('--alpha-r <w>', 'weight α_r of the reverse (unfeatured) bound, eq 15 (the papers\' CRISM setting: 0.01 with α_f^d = 1)', numArg('--alpha-r'), 1)
    .option('--alpha-fd <w>', 'weight α_f^d of the label term, eq 13/15 (default: the number of input channels D; docs/semi-supervised-real.md)', numArg('--alpha-fd'))
    .option('--unlabelled-qy <f>', "factor in [0, 1] on the unlabelled bound's gradient into q(y | x) (default 0: unlabelled rows train the generative model only; 1: the papers' objective)", numArg('--unlabelled-qy'))
    .option('--qy-prior <c>', 'strength of the Gaussian prior N(0, 1/(c · fan-in)) on the first-layer weights of q(y | x), spread over the labelled rows (default 1; 0: none, the papers\' objective; docs/semi-supervised-real.md)', numArg('--qy-prior'))
    .option('--qy-components <k>', 'q(y | x) reads the posterior mean of a k-component probabilistic PCA of the labelled and unlabelled inputs instead of x (default 0: x itself; saved with the model)', intArg('--qy-components', 0))
    .option('--m2', 'train M2 instead (α_r = 0: the unfeatured labels are ignored)')
    .option('--center', 'subtract the mean spectrum before training (kept with the model; the reference does this for CRISM and LIBS); the same as ending --preprocess with center')
    .option('--preprocess <spec>', "preprocessing chain, applied left to right, fitted on the training rows (never validation rows), saved with the model, applied by predict/evaluate/score: snv (row mean 0, sd 1), msc (scatter correction against the training mean spectrum), sg:W:P[:d] (Savitzky–Golay, window W odd ≥ 5, polynomial order P, derivative d = 0/1/2 per channel), center, autoscale (per-channel mean and sd), pca:k (last: k whitened principal-component scores); e.g. 'snv,sg:11:2:1,center'. generate undoes center/autoscale/pca; after snv, msc or sg its spectra stay in the preprocessed space. Default: none, except for classes: pca:k with k = min(15, rows − 1) when the table has more than 15 channels ('none' for the raw channels; docs/fit.md)")
    .option('--deterministic', "the reference's non-variational mode: point estimates trained as autoencoders (no posterior spread; predict's sd is 0)")
    .option('--validation-x <file>', 'held-out labelled inputs (same channels as --x): scored every evaluation, they choose the saved weights and calibrate the intervals of `predict`')
    .option('--validation-y <file>', 'labels of the rows of --validation-x (same layout as --y)')
    .option('--validation-fraction <f>', 'hold out this fraction of the labelled rows (whole groups, chosen by --seed) instead of --validation-x/-y', numArg('--validation-fraction'))
    .option('--group-size <n>', 'with --validation-fraction: consecutive rows of --x are replicates of one sample in groups of N, held out together', intArg('--group-size'))
    .option('--groups <file>', 'with --validation-fraction: one group value per row of --x (one numeric column, optional id column); rows sharing a value are held out together')
    .option('--patience <n>', 'stop after N evaluations (every 2% of the epochs) without a better validation score; 0 = never (default: 20% of the evaluations)', intArg('--patience', 0))
    .option('--min-epochs <n>', 'no early stop before this many epochs (default: 25% of --epochs, at least the α_r warm-up)', intArg('--min-epochs', 0))
    .option('--level <p>', 'nominal coverage of the calibrated intervals (or class sets) that predict reports', numArg('--level'), 0.95)
    .addOption(new Option('--interval-method <m>', "conformal scores: 'absolute' residuals |ŷ − y| per component (the same width for every row) or residuals 'scaled' by the sd of q(y | x) (wider where the model is less sure)").choices(['absolute', 'scaled']).default('absolute'))
    .option('--resume', 'continue an interrupted fit from DIR.partial')
    .option('--force', 'replace an existing DIR')
    .option('--progress', 'show a progress bar for every epoch')
    .action(async (o: { x: string; y: string; unlabelled?: string; unfeatured?: string; out: string; labels?: 'simplex' | 'discrete' | 'real'; latent: number; hidden?: string; bounds?: string; epochs: number; batchSize: number; lr: number; seed: number; budgetMinutes?: number; alphaR: number; alphaFd?: number; unlabelledQy?: number; qyPrior?: number; qyComponents?: number; m2?: boolean; center?: boolean; preprocess?: string; deterministic?: boolean; validationX?: string; validationY?: string; validationFraction?: number; groupSize?: number; groups?: string; patience?: number; minEpochs?: number; level: number; intervalMethod: 'absolute' | 'scaled'; resume?: boolean; force?: boolean; progress?: boolean }, cmd: Command) => {
      await engine(cmd);
      if (!(o.lr > 0)) throw new UsageError(`--lr must be > 0, got ${o.lr}`);
      if (o.validationFraction !== undefined && !(o.validationFraction > 0 && o.validationFraction < 1)) throw new UsageError(`--validation-fraction must be in (0, 1), got ${o.validationFraction}`);
      if (!(o.level > 0 && o.level < 1)) throw new UsageError(`--level must be in (0, 1), got ${o.level}`);
      if ((o.validationX === undefined) !== (o.validationY === undefined)) throw new UsageError('--validation-x and --validation-y go together (inputs and their labels)');
      if (o.validationX !== undefined && o.validationFraction !== undefined) throw new UsageError('give either --validation-x/--validation-y or --validation-fraction, not both');
      if ((o.groupSize !== undefined || o.groups !== undefined) && o.validationFraction === undefined) throw new UsageError('--group-size and --groups go with --validation-fraction');
      if (o.groupSize !== undefined && o.groups !== undefined) throw new UsageError('give either --group-size or --groups, not both');
      if ((o.patience !== undefined || o.minEpochs !== undefined) && o.validationX === undefined && o.validationFraction === undefined) throw new UsageError(`${o.patience !== undefined ? '--patience' : '--min-epochs'} needs validation rows (--validation-fraction, or --validation-x and --validation-y)`);
      if (!(o.alphaR >= 0)) throw new UsageError(`--alpha-r must be ≥ 0, got ${o.alphaR}`);
      const noValidation = o.validationX === undefined && o.validationFraction === undefined;
      for (const flag of ['level', 'intervalMethod'] as const) {
        if (noValidation && cmd.getOptionValueSource(flag) === 'cli') throw new UsageError(`--${flag.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} needs validation rows (--validation-fraction, or --validation-x and --validation-y)`);
      }
      if (o.alphaFd !== undefined && !(o.alphaFd >= 0)) throw new UsageError(`--alpha-fd must be ≥ 0, got ${o.alphaFd}`);
      if (o.unlabelledQy !== undefined && !(o.unlabelledQy >= 0 && o.unlabelledQy <= 1)) throw new UsageError(`--unlabelled-qy must be in [0, 1], got ${o.unlabelledQy}`);
      if (o.qyPrior !== undefined && !(o.qyPrior >= 0)) throw new UsageError(`--qy-prior must be ≥ 0, got ${o.qyPrior}`);
      if (o.budgetMinutes !== undefined && !(o.budgetMinutes > 0)) throw new UsageError(`--budget-minutes must be > 0, got ${o.budgetMinutes}`);
      try {
        preprocessOption(o);
      } catch (e) {
        throw new UsageError(`--preprocess: ${(e as Error).message}`);
      }
      let hidden: ReturnType<typeof parseHiddenSpec> | undefined;
      try {
        hidden = o.hidden === undefined ? undefined : parseHiddenSpec(o.hidden);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const r = await fitFiles({
        x: o.x,
        y: o.y,
        out: o.out,
        ...(o.labels ? { labels: o.labels } : {}),
        latent: o.latent,
        ...(hidden ? { hidden } : {}),
        ...(o.bounds !== undefined ? { bounds: o.bounds } : {}),
        epochs: o.epochs,
        batchSize: o.batchSize,
        lr: o.lr,
        seed: o.seed,
        weights: { alphaR: o.alphaR, ...(o.alphaFd !== undefined ? { alphaFd: o.alphaFd } : {}), ...(o.unlabelledQy !== undefined ? { unlabelledQy: o.unlabelledQy } : {}), ...(o.qyPrior !== undefined ? { qyPrior: o.qyPrior } : {}) },
        ...(o.unlabelled ? { unlabelled: o.unlabelled } : {}),
        ...(o.unfeatured ? { unfeatured: o.unfeatured } : {}),
        ...(o.budgetMinutes ? { budgetMinutes: o.budgetMinutes } : {}),
        m2: o.m2 ?? false,
        center: o.center ?? false,
        ...(o.preprocess !== undefined ? { preprocess: o.preprocess } : {}),
        ...(o.deterministic || o.qyComponents ? { model: { ...(o.deterministic ? { variational: false } : {}), ...(o.qyComponents ? { qyComponents: o.qyComponents } : {}) } } : {}),
        ...(o.validationX ? { validationX: o.validationX } : {}),
        ...(o.validationY ? { validationY: o.validationY } : {}),
        ...(o.validationFraction !== undefined ? { validationFraction: o.validationFraction } : {}),
        ...(o.groupSize !== undefined ? { groupSize: o.groupSize } : {}),
        ...(o.groups !== undefined ? { groups: o.groups } : {}),
        ...(o.patience !== undefined ? { patience: o.patience } : {}),
        ...(o.minEpochs !== undefined ? { minEpochs: o.minEpochs } : {}),
        intervalLevel: o.level,
        intervalMethod: o.intervalMethod,
        resume: o.resume ?? false,
        force: o.force ?? false,
        progressBars: o.progress ?? false,
        log,
      });
      r.estimator.dispose();
    });
}
