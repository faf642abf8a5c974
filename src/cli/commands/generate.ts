/** `untapped generate DIR`: inputs for given labels from a fitted model. */
import * as path from 'node:path';
import { Command } from 'commander';
import { UsageError, engine, log, refuseOverwrite } from '../common.js';
import { generateFromFit, loadFitted, parseLabelArg } from '../../experiments/fit.js';
import { formatCsv, writeFileAtomic } from '../../io/index.js';
import { lineChartPng } from '../../report/chart.js';

/** Adds `untapped generate DIR`. */
export function addGenerateCommand(program: Command): void {
  program
    .command('generate')
    .description('generate the input (e.g. a spectrum) of given labels with a model directory written by `untapped fit`: CSV and PNG')
    .argument('<dir>', 'model directory')
    .requiredOption('--y <labels>', "label(s): '0.2,0.5,0.3', several separated by ';', or 'corners' for every pure component")
    .option('--z <values>', "nuisance(s), one per label, ';'-separated (default: the mean z of the labelled set, eq 18)")
    .option('-o, --out <prefix>', 'writes PREFIX.csv and PREFIX.png', 'generated')
    .option('--force', 'replace existing PREFIX.csv / PREFIX.png')
    .action(async (dir: string, o: { y: string; z?: string; out: string; force?: boolean }, cmd: Command) => {
      refuseOverwrite([`${o.out}.csv`, `${o.out}.png`], o.force, [path.join(dir, 'fit.json'), path.join(dir, 'model.utp')]);
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
}
