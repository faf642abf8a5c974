/** `untapped generate DIR`: inputs for given labels from a fitted model. */
import * as path from 'node:path';
import { Command } from 'commander';
import { UsageError, engine, log, refuseOverwrite } from '../common.js';
import { chartFiles, modelDirFiles } from '../../node/replace.js';
import { generateFromFit, loadFitted, parseLabelArg } from '../../experiments/fit.js';
import { formatCsv } from '../../io/index.js';
import { writeFileAtomic } from '../../node/index.js';
import { isRunDir, loadRun, loadRunData } from '../../experiments/run.js';
import { lineChartPng } from '../../node/chart.js';
import { spectralAxis } from '../../data/axis.js';

/** Adds `untapped generate DIR`. */
export function addGenerateCommand(program: Command): void {
  program
    .command('generate')
    .description('generate the input (e.g. a spectrum) of given labels with a model directory written by `untapped fit`, or the typical input of given classes (--y "0;2") with a train run of m2/adgm/sdgm/cagem (the other latent variables at their prior means): CSV and PNG')
    .argument('<dir>', 'model directory')
    .requiredOption('--y <labels>', "label(s): '0.2,0.5,0.3' (a composition), a class index or name for discrete labels, one value per target for real targets ('92'), several separated by ';', or 'corners' for every pure component")
    .option('--z <values>', "nuisance(s), one per label, ';'-separated (default: the mean z of the labelled set, eq 18)")
    .option('-o, --out <prefix>', 'writes PREFIX.csv, PREFIX.png, PREFIX.svg and PREFIX.vl.json (the chart and its Vega-Lite spec)', 'generated')
    .option('--force', 'replace existing PREFIX.csv / PREFIX.png')
    .action(async (dir: string, o: { y: string; z?: string; out: string; force?: boolean }, cmd: Command) => {
      refuseOverwrite([`${o.out}.csv`, ...chartFiles(`${o.out}.png`)], o.force, [path.join(dir, 'fit.json'), path.join(dir, 'model.utp'), path.join(dir, 'config.json'), path.join(dir, 'checkpoint.utp'), ...modelDirFiles(dir)]);
      await engine(cmd);
      if (isRunDir(dir)) {
        // a train run: the typical input of each class (m2, adgm, sdgm, cagem)
        if (o.z !== undefined) throw new UsageError('--z applies to models written by untapped fit');
        const run = loadRun(dir, { checkSources: true });
        try {
          if (!run.model.generate) throw new UsageError(`a run of model type ${run.config.model.type} has no label to generate from${run.model.classes > 0 ? ' at the prior mean (use sample --class K for draws)' : ' (use sample)'}`);
          const K = run.model.classes;
          const ys = o.y.split(/[;,]/).map((v, i) => {
            const t = v.trim();
            const k = Number(t);
            if (t === '' || !Number.isInteger(k) || k < 0 || k >= K) throw new UsageError(`--y position ${i + 1}: '${v}' is not a class of this model (0…${K - 1})`);
            return k;
          });
          const g = run.model.generate(Int32Array.from(ys));
          const flat = g.dataSync() as Float32Array;
          g.dispose();
          const D = run.model.inputDim;
          const xs = ys.map((_, i) => Array.from(flat.subarray(i * D, (i + 1) * D)));
          const cols = loadRunData(run.config).columns;
          writeFileAtomic(`${o.out}.csv`, formatCsv(cols.length === D ? cols : xs[0].map((_, j) => `x${j}`), xs, ys.map((k) => `class ${k}`)));
          lineChartPng(`${o.out}.png`, xs.map((x, i) => ({ name: `class ${ys[i]}`, x: x.map((_, j) => j), y: x })), { title: `generated from ${path.basename(dir)} (${run.config.model.type}, z at its prior mean)`, xLabel: 'channel', yLabel: 'value' });
          log(`wrote ${o.out}.csv and ${o.out}.png (${xs.length} × ${D})`);
        } finally {
          run.model.dispose();
        }
        return;
      }
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
      // after SNV, MSC or Savitzky–Golay the spectra cannot be mapped back to the input space: say so in the log, the CSV and the chart
      const space = m.estimator.generatedSpace();
      // a one-hot label is named by its class; a composition by its components
      const names = ys.map((y) => (m.info.labels === 'discrete' && y.filter((v) => v === 1).length === 1 ? m.info.labelNames[y.indexOf(1)] : y.map((v) => +v.toFixed(3)).join('/')));
      writeFileAtomic(`${o.out}.csv`, (space ? `# ${space}\n` : '') + formatCsv(m.info.channels, xs, names));
      // the wavelength (or wavenumber) the header names, where it names one; else the channel index
      const axis = spectralAxis(m.info.channels);
      lineChartPng(
        `${o.out}.png`,
        xs.map((x, i) => ({ name: `y = (${names[i].replace(/\//g, ', ')})`, x: axis ? axis.values : x.map((_, j) => j), y: x })),
        { title: `generated from ${path.basename(dir)} (${m.info.labelNames.join(', ')})`, xLabel: axis?.title ?? 'channel', yLabel: space ? `value after '${m.estimator.generatedSpec()}' (preprocessed space)` : 'value' },
      );
      log(`wrote ${o.out}.csv, ${o.out}.png, .svg and .vl.json (${xs.length} × ${m.info.channels.length})`);
      if (space) log(`generate: ${space}`);
      m.estimator.dispose();
    });
}
