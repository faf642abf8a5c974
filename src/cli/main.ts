/**
 * The `untapped` command line. Every command prints human-readable progress on stderr; `--json`
 * prints exactly one JSON object on stdout. Errors are printed as `untapped: error: …` and exit with
 * status 1 (2 for usage errors).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { describeEngine } from '../engine/backend.js';
import { UsageError, engine, intArg, log, printEval } from './common.js';
import { addExperimentCommand } from './commands/experiment.js';
import { Rng } from '../engine/rng.js';
import { RunConfigSchema, type RunConfig } from '../config/run.js';
import { readConfigFile, validateConfig } from '../config/validate.js';
import { loadRun, trainRun, loadRunData, importanceModel, datasetBound, RUN_FILES } from '../experiments/run.js';
import { writeRunReport, writeSampleGrid, writeReconstructionGrid } from '../experiments/report.js';
import { iwLogLikelihood } from '../eval/loglik.js';
import { labelsFor } from '../models/registry.js';
import { SSL_MODEL_FILE, evaluateSslModel } from '../experiments/ssl.js';
import { formatConfusion } from '../eval/classify.js';
import { benchNames, benchProfileTable, compareNativeLosses, getBench, runBench, type BenchResult, type LossComparison } from '../bench/bench.js';
import { setNativeKernels } from '../engine/native.js';
import { isSemi2Config, readSemi2Config, trainSemi2 } from '../experiments/semi2-run.js';
import { activeUnits } from '../eval/active-units.js';
import type { Vae } from '../models/vae.js';
import { describeScores, fitFiles, generateFromFit, loadFitted, parseLabelArg, predictFile, predictionColumns, scorePrediction } from '../experiments/fit.js';
import { formatCsv, writeFileAtomic } from '../io/index.js';
import { lineChartPng } from '../report/chart.js';

/**
 * The embedded default run of `untapped quickstart`: a small VAE on dynamically binarised MNIST.
 * ReLU hidden units, because at a 3-epoch budget they learn much faster than softplus (test ELBO
 * after 2 epochs: −111 vs −123 here, and the same gap in a PyTorch run of the same model).
 */
export const QUICKSTART_CONFIG: RunConfig = validateConfig(
  RunConfigSchema,
  {
    model: { type: 'vae', latent: [20], hidden: [[500, 500]], activation: 'relu', likelihood: 'bernoulli' },
    objective: { bound: 'elbo', samples: 1 },
    data: { dataset: 'mnist', binarize: 'dynamic' },
    train: { epochs: 3, batchSize: 100, lr: 1e-3, seed: 1 },
  },
  'quickstart',
);

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

  program
    .command('train')
    .description('train a model from a JSON config into a run directory; a config with model type "untapped" trains the semi²-supervised model from its labelled, unlabelled and unfeatured sources (files or MNIST splits) into a model directory like `fit` writes (sources.validation and train.patience as fit\'s --validation-… and --patience; docs/fit.md)')
    .option('-c, --config <file>', 'run config (JSON); with --resume defaults to DIR/config.json')
    .requiredOption('-o, --out <dir>', 'run directory (must not hold a run unless --resume)')
    .option('--epochs <n>', 'override train.epochs', intArg('--epochs'))
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--iw <k>', 'importance samples for the final report', intArg('--iw'), 1000)
    .option('--iw-n <n>', 'test images for the final report\'s IW estimate', intArg('--iw-n'), 1000)
    .option('--no-report', 'skip the final report')
    .action(async (o: { config?: string; out: string; epochs?: number; resume?: boolean; iw: number; iwN: number; report: boolean }, cmd: Command) => {
      const info = await engine(cmd);
      const cfgFile = o.config ?? (o.resume ? path.join(o.out, RUN_FILES.config) : undefined);
      if (!cfgFile) throw new UsageError('train needs --config FILE (or --resume with an existing run directory)');
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
        const r = await trainSemi2(cfg, o.config, o.out, { resume: o.resume ?? false, ...(o.epochs ? { epochs: o.epochs } : {}), log });
        r.estimator.dispose();
        return;
      }
      const config = readConfigFile(RunConfigSchema, cfgFile);
      log(`${o.resume ? 'resuming' : 'training'} ${config.model.type} into ${o.out} (backend ${info.backend})`);
      const run = await trainRun(config, o.out, { resume: o.resume, epochs: o.epochs, onEval: printEval, engine: info });
      if (o.report) {
        const rep = writeRunReport(run.dir, run.config, run.model, run.data.test, run.result.history, { iw: o.iw, iwN: o.iwN });
        log(`test ELBO ${rep.testElbo.toFixed(2)}; log-likelihood (IW ${rep.iw.k}, ${rep.iw.n} images) ${rep.iw.mean.toFixed(2)} ± ${rep.iw.stderr.toFixed(2)}`);
        log(`report: ${rep.files.markdown}`);
      }
      run.model.dispose();
    });

  program
    .command('evaluate')
    .description('evaluate a trained run on the MNIST test set: ELBO and importance-weighted log-likelihood; for a semi-supervised experiment directory, test error and confusion matrix')
    .argument('<dir>', 'run directory')
    .option('--iw <k>', 'importance samples per test image', intArg('--iw'), 5000)
    .option('--n <count>', 'evaluate only the first N test images', intArg('--n'))
    .option('--seed <s>', 'seed of the importance sampler', intArg('--seed', 0), 1)
    .option('--json', 'print one JSON object on stdout')
    .action(async (dir: string, o: { iw: number; n?: number; seed: number; json?: boolean }, cmd: Command) => {
      const info = await engine(cmd);
      const sslFile = path.join(dir, SSL_MODEL_FILE);
      if (fs.existsSync(sslFile)) {
        const t0 = performance.now();
        const r = evaluateSslModel(sslFile, o.n ?? 10000);
        const out = { dir, backend: info.backend, experiment: r.experiment, n: r.n, testError: r.error, confusion: r.confusion, seconds: (performance.now() - t0) / 1000 };
        if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
        else log(`${dir} (${r.experiment}): test error ${(100 * r.error).toFixed(2)}% on ${r.n} images\n${formatConfusion(r.confusion)}`);
        return;
      }
      const { config, model } = loadRun(dir);
      const { test } = loadRunData(config, o.n ? { testLimit: o.n } : { testLimit: 10000 });
      const rng = new Rng(o.seed);
      const t0 = performance.now();
      const elbo = datasetBound(model, test, 1, rng);
      const iw = iwLogLikelihood(importanceModel(model), test.x, test.dim, { k: o.iw, rng, labels: labelsFor(model, test.y) });
      // active units (thesis appendix A fig. 4a) for models that expose per-unit statistics
      const units = 'klPerUnit' in model && 'posteriorMeans' in model ? activeUnits(model as Vae, test.x, test.dim, { rng: new Rng(o.seed), labels: labelsFor(model, test.y) }) : null;
      const out = {
        dir,
        backend: info.backend,
        n: iw.n,
        testElbo: elbo,
        iw: { k: iw.k, mean: iw.mean, stderr: iw.stderr },
        ...(units ? { activeUnits: { threshold: units.threshold, active: units.active, activeByVariance: units.activeByVariance, perLayer: units.layers.map((l) => ({ dim: l.dim, active: l.active, activeByVariance: l.activeByVariance })) } } : {}),
        seconds: (performance.now() - t0) / 1000,
      };
      if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
      else {
        log(`${dir}: test ELBO ${elbo.toFixed(2)}, log-likelihood (IW ${iw.k}, ${iw.n} images) ${iw.mean.toFixed(2)} ± ${iw.stderr.toFixed(2)} nats [${out.seconds.toFixed(0)} s]`);
        if (units) log(`active units (mean KL > ${units.threshold} nats): ${units.layers.map((l, i) => `z${i + 1} ${l.active}/${l.dim}`).join(', ')}; by Cov_x(E_q[u]) > ${units.threshold}: ${units.layers.map((l, i) => `z${i + 1} ${l.activeByVariance}/${l.dim}`).join(', ')}`);
      }
      model.dispose();
    });

  program
    .command('sample')
    .description('write a PNG grid of samples from a trained run (or of reconstructions of test images)')
    .argument('<dir>', 'run directory')
    .option('--n <count>', 'number of images', intArg('--n'), 64)
    .requiredOption('-o, --out <file>', 'PNG file to write')
    .option('--reconstruct', 'reconstruct the first N test images instead of sampling')
    .option('--seed <s>', 'sampling seed', intArg('--seed', 0), 1)
    .action(async (dir: string, o: { n: number; out: string; reconstruct?: boolean; seed: number }, cmd: Command) => {
      await engine(cmd);
      const { config, model } = loadRun(dir);
      if (o.reconstruct) {
        const { test } = loadRunData(config, { testLimit: o.n });
        writeReconstructionGrid(model, test, o.n, o.out);
      } else {
        writeSampleGrid(model, o.n, [28, 28], o.out, o.seed);
      }
      log(`wrote ${o.out}`);
      model.dispose();
    });

  program
    .command('bench')
    .description(`time training steps of reference models (${benchNames().join(', ')}) with native kernels on and off`)
    .option('--only <names>', `comma-separated benchmarks (default: all of ${benchNames().join(', ')})`)
    .addOption(new Option('--native <mode>', 'native kernels: on, off, or both (default: both when they load)').choices(['on', 'off', 'both']))
    .option('--steps <n>', 'timed steps after warm-up', intArg('--steps'), 50)
    .option('--warmup <n>', 'untimed warm-up steps', intArg('--warmup'), 10)
    .option('--profile', 'also time every kernel and print where a step spends its time')
    .option('--check-losses <n>', 'train each benchmark n steps with native kernels on and off from one seed and report the largest relative loss difference', intArg('--check-losses'))
    .option('--json', 'print one JSON object on stdout')
    .action(async (o: { only?: string; native?: 'on' | 'off' | 'both'; steps: number; warmup: number; profile?: boolean; checkLosses?: number; json?: boolean }, cmd: Command) => {
      const info = await engine(cmd);
      const defs = (o.only ? o.only.split(',').map((s) => s.trim()).filter(Boolean) : benchNames()).map((n) => {
        try {
          return getBench(n);
        } catch (e) {
          throw new UsageError(`--only: ${(e as Error).message}`);
        }
      });
      const mode = o.native ?? (info.native.active ? 'both' : 'off');
      if (mode !== 'off' && !info.native.active) throw new UsageError(`--native ${mode}: native kernels are not available (${info.native.reason})`);
      const modes = mode === 'both' ? [true, false] : [mode === 'on'];
      if (!o.json && !(cmd.optsWithGlobals() as { verbose?: boolean }).verbose) log(`engine: ${describeEngine(info)}`);
      const results: BenchResult[] = [];
      for (const def of defs) {
        for (const on of modes) {
          setNativeKernels(on);
          const r = runBench(def, { steps: o.steps, warmup: o.warmup, profile: o.profile });
          setNativeKernels(true);
          results.push(r);
          if (!o.json) {
            log(`${r.name} [${r.backend}, native ${r.native ? 'on' : 'off'}]: ${r.description}`);
            log(`  median ${r.medianMs.toFixed(1)} ms/step (p10 ${r.p10Ms.toFixed(1)}, p90 ${r.p90Ms.toFixed(1)}), ${r.samplesPerSecond.toFixed(0)} samples/s, peak RSS ${r.peakRssMiB.toFixed(0)} MiB, ${r.steps} steps after ${r.warmup} warm-up`);
            if (o.profile) log(benchProfileTable(r));
          }
        }
      }
      const checks: LossComparison[] = [];
      if (o.checkLosses) {
        if (!info.native.active) throw new UsageError(`--check-losses: native kernels are not available (${info.native.reason})`);
        for (const def of defs) {
          const c = compareNativeLosses(def, o.checkLosses);
          checks.push(c);
          if (!o.json) log(`${c.name}: ${c.steps} steps from one seed, native on vs off: largest relative loss difference ${c.maxRelDiff.toExponential(2)} (loss ${c.firstLoss.toFixed(2)} → ${c.lastLoss.toFixed(2)})`);
        }
      }
      if (o.json) process.stdout.write(JSON.stringify({ engine: info, results, ...(checks.length ? { lossChecks: checks } : {}) }) + '\n');
    });

  addExperimentCommand(program);

  program
    .command('fit')
    .description('fit the semi²-supervised model to your own files: spectra x with compositions y (CSV / JSON / NPY; layout in docs/fit.md), plus optional unlabelled spectra and unfeatured labels; with validation rows it saves the weights of the best validation score (RMSEP, or cross-entropy for classes), stops early, and calibrates the intervals that `predict` reports')
    .requiredOption('--x <file>', 'labelled inputs, one row per sample')
    .requiredOption('--y <file>', 'their labels: compositions (rows on the simplex) or, with --labels discrete, classes')
    .option('--unlabelled <file>', 'unlabelled inputs (same channels as --x)')
    .option('--unfeatured <spec>', "unfeatured labels: a file; 'resample' / 'resample:N' (N labels resampled from the labelled rows; the default, N = 500); 'corners' / 'corners:N' (N labels near the simplex corners); or 'none'")
    .requiredOption('-o, --out <dir>', 'model directory to write (built in DIR.partial, renamed when complete)')
    .addOption(new Option('--labels <kind>', 'label space').choices(['simplex', 'discrete']).default('simplex'))
    .option('--latent <d>', 'dimension of the nuisance z', intArg('--latent'), 1)
    .option('--epochs <n>', 'epochs (passes over the unlabelled set, or the labelled set when there is none)', intArg('--epochs'), 2000)
    .option('--batch-size <n>', 'rows per source per step', intArg('--batch-size'), 100)
    .option('--lr <rate>', 'Adam learning rate', Number, 3e-3)
    .option('--seed <n>', 'seed', intArg('--seed', 0), 0)
    .option('--budget-minutes <m>', 'stop after this many minutes of training', Number)
    .option('--alpha-r <w>', 'weight α_r of the reverse (unfeatured) bound, eq 15 (the papers\' CRISM setting: 0.01 with α_f^d = 1)', Number, 1)
    .option('--alpha-fd <w>', 'weight α_f^d of the label term, eq 13/15 (default: the number of input channels D; docs/semi-supervised-real.md)', Number)
    .option('--unlabelled-qy <f>', "factor in [0, 1] on the unlabelled bound's gradient into q(y | x) (default 0: unlabelled rows train the generative model only; 1: the papers' objective)", Number)
    .option('--m2', 'train M2 instead (α_r = 0: the unfeatured labels are ignored)')
    .option('--center', 'subtract the mean spectrum before training (kept with the model; the reference does this for CRISM and LIBS)')
    .option('--deterministic', "the reference's non-variational mode: point estimates trained as autoencoders (no posterior spread; predict's sd is 0)")
    .option('--validation-x <file>', 'held-out labelled inputs (same channels as --x): scored every evaluation, they choose the saved weights and calibrate the intervals of `predict`')
    .option('--validation-y <file>', 'labels of the rows of --validation-x (same layout as --y)')
    .option('--validation-fraction <f>', 'hold out this fraction of the labelled rows (whole groups, chosen by --seed) instead of --validation-x/-y', Number)
    .option('--group-size <n>', 'with --validation-fraction: consecutive rows of --x are replicates of one sample in groups of N, held out together', intArg('--group-size'))
    .option('--groups <file>', 'with --validation-fraction: one group value per row of --x (one numeric column, optional id column); rows sharing a value are held out together')
    .option('--patience <n>', 'stop after N evaluations (every 2% of the epochs) without a better validation score; 0 = never (default: 20% of the evaluations)', intArg('--patience', 0))
    .option('--min-epochs <n>', 'no early stop before this many epochs (default: 25% of --epochs, at least the α_r warm-up)', intArg('--min-epochs', 0))
    .option('--level <p>', 'nominal coverage of the calibrated intervals (or class sets) that predict reports', Number, 0.95)
    .addOption(new Option('--interval-method <m>', "conformal scores: 'absolute' residuals |ŷ − y| per component (the same width for every row) or residuals 'scaled' by the sd of q(y | x) (wider where the model is less sure)").choices(['absolute', 'scaled']).default('absolute'))
    .option('--resume', 'continue an interrupted fit from DIR.partial')
    .option('--force', 'replace an existing DIR')
    .option('--progress', 'show a progress bar for every epoch')
    .action(async (o: { x: string; y: string; unlabelled?: string; unfeatured?: string; out: string; labels: 'simplex' | 'discrete'; latent: number; epochs: number; batchSize: number; lr: number; seed: number; budgetMinutes?: number; alphaR: number; alphaFd?: number; unlabelledQy?: number; m2?: boolean; center?: boolean; deterministic?: boolean; validationX?: string; validationY?: string; validationFraction?: number; groupSize?: number; groups?: string; patience?: number; minEpochs?: number; level: number; intervalMethod: 'absolute' | 'scaled'; resume?: boolean; force?: boolean; progress?: boolean }, cmd: Command) => {
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
      if (o.alphaFd !== undefined && !(o.alphaFd >= 0)) throw new UsageError(`--alpha-fd must be ≥ 0, got ${o.alphaFd}`);
      if (o.unlabelledQy !== undefined && !(o.unlabelledQy >= 0 && o.unlabelledQy <= 1)) throw new UsageError(`--unlabelled-qy must be in [0, 1], got ${o.unlabelledQy}`);
      if (o.budgetMinutes !== undefined && !(o.budgetMinutes > 0)) throw new UsageError(`--budget-minutes must be > 0, got ${o.budgetMinutes}`);
      const r = await fitFiles({
        x: o.x,
        y: o.y,
        out: o.out,
        labels: o.labels,
        latent: o.latent,
        epochs: o.epochs,
        batchSize: o.batchSize,
        lr: o.lr,
        seed: o.seed,
        weights: { alphaR: o.alphaR, ...(o.alphaFd !== undefined ? { alphaFd: o.alphaFd } : {}), ...(o.unlabelledQy !== undefined ? { unlabelledQy: o.unlabelledQy } : {}) },
        ...(o.unlabelled ? { unlabelled: o.unlabelled } : {}),
        ...(o.unfeatured ? { unfeatured: o.unfeatured } : {}),
        ...(o.budgetMinutes ? { budgetMinutes: o.budgetMinutes } : {}),
        m2: o.m2 ?? false,
        center: o.center ?? false,
        ...(o.deterministic ? { model: { variational: false } } : {}),
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
    .action(async (dir: string, o: { x: string; out?: string; samples: number; seed: number; level?: number; y?: string; report?: string }, cmd: Command) => {
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

  program
    .command('generate')
    .description('generate the input (e.g. a spectrum) of given labels with a model directory written by `untapped fit`: CSV and PNG')
    .argument('<dir>', 'model directory')
    .requiredOption('--y <labels>', "label(s): '0.2,0.5,0.3', several separated by ';', or 'corners' for every pure component")
    .option('--z <values>', "nuisance(s), one per label, ';'-separated (default: the mean z of the labelled set, eq 18)")
    .option('-o, --out <prefix>', 'writes PREFIX.csv and PREFIX.png', 'generated')
    .action(async (dir: string, o: { y: string; z?: string; out: string }, cmd: Command) => {
      await engine(cmd);
      const m = loadFitted(dir);
      const ys = parseLabelArg(o.y, m);
      let zs: number[][] | undefined;
      if (o.z !== undefined) {
        zs = o.z.split(';').map((part, i) =>
          part.split(',').map((v) => {
            const x = Number(v.trim());
            if (!Number.isFinite(x)) throw new UsageError(`--z row ${i + 1}: '${v}' is not a number`);
            return x;
          }),
        );
        if (zs.length !== ys.length) throw new UsageError(`--z gives ${zs.length} rows for ${ys.length} labels`);
      }
      const xs = generateFromFit(m, ys, zs);
      const names = ys.map((y) => y.map((v) => +v.toFixed(3)).join('/'));
      writeFileAtomic(`${o.out}.csv`, formatCsv(m.info.channels, xs, names));
      lineChartPng(
        `${o.out}.png`,
        xs.map((x, i) => ({ name: `y = (${names[i].replace(/\//g, ', ')})`, x: x.map((_, j) => j), y: x })),
        { title: `generated from ${path.basename(dir)} (${m.info.labelNames.join(', ')})`, xLabel: 'channel', yLabel: 'value' },
      );
      log(`wrote ${o.out}.csv and ${o.out}.png (${xs.length} × ${m.info.channels.length})`);
      m.estimator.dispose();
    });

  program
    .command('quickstart')
    .description('the embedded default: train a small VAE on MNIST for a short budget and write its report')
    .option('-o, --out <dir>', 'run directory (default: runs/quickstart-<time>)')
    .option('--epochs <n>', 'epochs', intArg('--epochs'), QUICKSTART_CONFIG.train.epochs)
    .option('--iw <k>', 'importance samples for the report', intArg('--iw'), 500)
    .option('--iw-n <n>', 'test images for the IW estimate', intArg('--iw-n'), 1000)
    .action(async (o: { out?: string; epochs: number; iw: number; iwN: number }, cmd: Command) => {
      const info = await engine(cmd);
      const out = o.out ?? path.join('runs', `quickstart-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`);
      log(`quickstart: VAE (Nz=20, 500-500 relu, Bernoulli) on MNIST, ${o.epochs} epochs, backend ${info.backend} → ${out}`);
      const run = await trainRun(QUICKSTART_CONFIG, out, { epochs: o.epochs, onEval: printEval, engine: info });
      const rep = writeRunReport(run.dir, run.config, run.model, run.data.test, run.result.history, { iw: o.iw, iwN: o.iwN, title: 'untapped quickstart: VAE on MNIST' });
      log(`test ELBO ${rep.testElbo.toFixed(2)}; log-likelihood (IW ${rep.iw.k}, ${rep.iw.n} images) ${rep.iw.mean.toFixed(2)} ± ${rep.iw.stderr.toFixed(2)}`);
      log(`report: ${rep.files.markdown}\nsamples: ${rep.files.samples}\nreconstructions: ${rep.files.reconstructions}`);
      run.model.dispose();
    });
  return program;
}

/** Runs the CLI with `argv` (without node and script); returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      log(`untapped: error: ${e.message}`);
      return 2;
    }
    const err = e as Error;
    log(`untapped: error: ${err.message}`);
    if (process.env.UNTAPPED_DEBUG) log(err.stack ?? '');
    return 1;
  }
}

