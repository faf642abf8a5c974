/** `untapped sample DIR`: samples (and reconstructions) of a trained run as PNG. */
import { modelDirFiles } from '../../node/replace.js';
import { fromLogit } from '../../data/bounded.js';
import { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError, engine, intArg, log, refuseOverwrite } from '../common.js';
import { loadRun, loadRunData, RUN_FILES, runClassNames } from '../../experiments/run.js';
import { writeSampleCsv, writeSampleGrid, writeReconstructionGrid } from '../../experiments/report.js';
import { fittedRunnable, loadFitted } from '../../experiments/fit.js';
import { Rng } from '../../engine/rng.js';
import { formatCsv } from '../../io/table.js';
import { writeFileAtomic } from '../../node/files.js';

/** The data files a fit directory was trained on (never replaced by --force: evaluate reads them again). */
function fitInputFiles(dir: string): string[] {
  try {
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'fit.json'), 'utf8')) as { inputs?: Record<string, { file?: unknown }> };
    return Object.values(info.inputs ?? {}).flatMap((s) => (typeof s?.file === 'string' ? [s.file] : []));
  } catch {
    return [];
  }
}

/**
 * The class of `--class`: an index 0…K−1 or, for a run trained on class names, one of the names.
 * @throws UsageError naming the valid classes.
 */
function classArg(v: string, K: number, names?: string[]): number {
  if (names?.includes(v)) return names.indexOf(v);
  const k = Number(v);
  if (v.trim() !== '' && Number.isInteger(k) && k >= 0 && k < K) return k;
  throw new UsageError(`--class '${v}' is not a class of this model: ${names ? names.map((c, i) => `${i} or '${c}'`).join(', ') : `0…${K - 1}`}`);
}

/** Adds `untapped sample DIR`. */
export function addSampleCommand(program: Command): void {
  program
    .command('sample')
    .description('draw samples from a trained run (any model type, also a model directory of untapped fit): a PNG grid for image data, a CSV of rows (.csv) for table data or on request; or reconstructions of test images (VAE family)')
    .argument('<dir>', 'run directory')
    .option('--n <count>', 'number of samples', intArg('--n'), 64)
    .requiredOption('-o, --out <file>', 'file to write: .png (images) or .csv (rows; the class of each draw in a last column where the model has classes)')
    .option('--class <k>', 'draw every sample from class k, an index or, for a run trained on class names, a name (models with classes: conditional VAE, m2, adgm, sdgm, cagem, untapped with discrete labels)')
    .option('--reconstruct', 'reconstruct the first N test images instead of sampling')
    .option('--seed <s>', 'sampling seed', intArg('--seed', 0), 1)
    .option('--force', 'replace an existing --out file')
    .action(async (dir: string, o: { n: number; out: string; class?: string; reconstruct?: boolean; seed: number; force?: boolean }, cmd: Command) => {
      refuseOverwrite([o.out], o.force, [path.join(dir, RUN_FILES.config), path.join(dir, RUN_FILES.checkpoint), path.join(dir, 'fit.json'), path.join(dir, 'model.utp'), ...fitInputFiles(dir), ...modelDirFiles(dir)]);
      await engine(cmd);
      if (fs.existsSync(path.join(dir, 'fit.json'))) {
        // the semi²-supervised model (untapped fit, or a train config of type untapped): rows of p(x | y, z), z ~ p(z)
        if (o.reconstruct) throw new UsageError('--reconstruct applies to the VAE family; the untapped model has no deterministic reconstruction (use sample)');
        if (!o.out.toLowerCase().endsWith('.csv')) throw new UsageError(`${dir} holds a model fitted on table data: write the samples as CSV (--out FILE.csv)`);
        const m = loadFitted(dir);
        const model = fittedRunnable(m);
        try {
          const simplex = m.info.labels === 'simplex';
          const real = m.info.labels === 'real';
          if (o.class !== undefined && simplex) throw new UsageError('--class: the model has compositions, not classes; its draws take y from the Dirichlet prior (untapped generate --y gives a chosen composition)');
          if (o.class !== undefined && real) throw new UsageError('--class: the model has real-valued targets, not classes; its draws take y from the fitted prior (untapped generate --y 92 gives the spectrum at a chosen value)');
          const cls = o.class === undefined ? undefined : classArg(o.class, model.classes, m.info.labelNames);
          // each row: the means of p(x | y, z) for z ~ p(z), then the label it was drawn for (a class, or the composition's components)
          const s = model.sampleWithLabels(o.n, new Rng(o.seed), cls !== undefined ? new Int32Array(o.n).fill(cls) : undefined);
          const D = model.inputDim;
          const K = model.classes;
          const xs = s.x.dataSync() as Float32Array;
          const ys = s.y.dataSync() as Float32Array;
          s.x.dispose();
          s.y.dispose();
          const b = m.estimator.yBounds;
          const rows = Array.from({ length: o.n }, (_, i) => {
            const lab = ys.subarray(i * K, (i + 1) * K);
            // real targets in their units (a bounded one mapped back from the logit scale)
            return [...xs.subarray(i * D, (i + 1) * D), ...(simplex ? lab : real ? (b ? fromLogit(b, lab) : Array.from(lab)) : [lab.indexOf(1)])];
          });
          const names = simplex || real ? undefined : { name: 'class_name', cells: rows.map((r) => m.info.labelNames[r[r.length - 1]]) };
          // after SNV, MSC or Savitzky–Golay the rows stay in the preprocessed space: said in the CSV and the log
          const space = m.estimator.generatedSpace();
          writeFileAtomic(o.out, (space ? `# ${space}\n` : '') + formatCsv([...m.info.channels, ...(simplex || real ? m.info.labelNames.map((l) => `y_${l}`) : ['class'])], rows, undefined, 6, names));
          if (space) log(`sample: ${space}`);
        } finally {
          model.dispose();
        }
        log(`wrote ${o.out}`);
        return;
      }
      const { config, model, meta } = loadRun(dir, { checkSources: true });
      const names = runClassNames(meta);
      const csv = o.out.toLowerCase().endsWith('.csv');
      const data = loadRunData(config, config.data ? { testLimit: o.n } : {});
      const image = data.shape.length === 2;
      try {
        if (!csv && !image) throw new UsageError(`${dir} was trained on table data: write the samples as CSV (--out FILE.csv)`);
        if (o.class !== undefined && !(model.classes > 0)) throw new UsageError(`--class: model type ${config.model.type} has no classes to draw from`);
        const cls = o.class === undefined ? undefined : classArg(o.class, model.classes, names);
        const y = cls !== undefined ? new Int32Array(o.n).fill(cls) : undefined;
        if (o.reconstruct) {
          if (!image) throw new UsageError('--reconstruct draws a PNG grid of images; this run was trained on table data');
          const test = data.test ?? data.labelled ?? data.unlabelled!;
          writeReconstructionGrid(model, test, o.n, o.out, data.shape);
        } else if (csv) writeSampleCsv(model, o.n, data.columns, o.out, o.seed, y, names);
        else writeSampleGrid(model, o.n, data.shape, o.out, o.seed, y);
      } catch (e) {
        model.dispose();
        throw e;
      }
      log(`wrote ${o.out}`);
      model.dispose();
    });
}
