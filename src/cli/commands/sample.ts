/** `untapped sample DIR`: samples (and reconstructions) of a trained run as PNG. */
import { Command } from 'commander';
import * as path from 'node:path';
import { engine, intArg, log, refuseOverwrite } from '../common.js';
import { loadRun, loadRunData, RUN_FILES } from '../../experiments/run.js';
import { writeSampleGrid, writeReconstructionGrid } from '../../experiments/report.js';

/** Adds `untapped sample DIR`. */
export function addSampleCommand(program: Command): void {
  program
    .command('sample')
    .description('write a PNG grid of samples from a trained run (or of reconstructions of test images)')
    .argument('<dir>', 'run directory')
    .option('--n <count>', 'number of images', intArg('--n'), 64)
    .requiredOption('-o, --out <file>', 'PNG file to write')
    .option('--reconstruct', 'reconstruct the first N test images instead of sampling')
    .option('--seed <s>', 'sampling seed', intArg('--seed', 0), 1)
    .option('--force', 'replace an existing --out file')
    .action(async (dir: string, o: { n: number; out: string; reconstruct?: boolean; seed: number; force?: boolean }, cmd: Command) => {
      refuseOverwrite([o.out], o.force, [path.join(dir, RUN_FILES.config), path.join(dir, RUN_FILES.checkpoint)]);
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
}
