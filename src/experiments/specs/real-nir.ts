import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { REAL_NIR_SETS, REAL_NIR_VARIANTS, realNirExperiment, type RealNirSet, type RealNirVariant } from '../real-nir.js';
import { defineExperiment } from '../registry.js';
import { budgetEpochs, list, seed, seeds } from './options.js';

/** data/realdata of this package (from dist/experiments/specs or src/experiments/specs). */
const PACKAGE_DATA = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'data', 'realdata');

const isSet = (v: string): v is RealNirSet => (REAL_NIR_SETS as readonly string[]).includes(v);
const isVariant = (v: string): v is RealNirVariant => (REAL_NIR_VARIANTS as readonly string[]).includes(v);

/** Real NIR spectra with few labels: labelled alone, + unlabelled, + resampled unfeatured labels. */
export const realNir = defineExperiment({
  name: 'real-nir',
  paper: 'docs/semi-supervised-real.md',
  summary: 'real NIR spectra with few labels: the labelled rows alone, + unlabelled rows, + unfeatured labels, PLS beside',
  report: 'report.md',
  options: z.object({
    budgetEpochs: budgetEpochs(1000, 'epochs per fit'),
    seeds: seeds(),
    seed: seed(),
    data: z.string().default(PACKAGE_DATA).describe('folder with gasoline_nir.csv, gasoline_octane.csv, mayonnaise_nir.csv, mayonnaise_meta.csv (default: data/realdata of this package)'),
    sets: z
      .string()
      .refine((v) => list(v).every(isSet), `must be a comma-separated list of ${REAL_NIR_SETS.join(', ')}`)
      .default(REAL_NIR_SETS.join(','))
      .describe('comma-separated data sets'),
    variants: z
      .string()
      .refine((v) => list(v).every(isVariant), `must be a comma-separated list of ${REAL_NIR_VARIANTS.join(', ')}`)
      .default(REAL_NIR_VARIANTS.join(','))
      .describe('comma-separated variants'),
  }),
  tiny: { budgetEpochs: 2, seeds: 1, sets: 'gasoline', variants: 'labelled,semi2' },
  async run(o, { out, log }) {
    const sets = list(o.sets).filter(isSet);
    const variants = list(o.variants).filter(isVariant);
    log(`real-nir: real NIR spectra with few labels (${sets.join(', ')}), ${variants.length} variants, ${o.budgetEpochs} epochs per fit, ${o.seeds} seeds → ${out}`);
    return realNirExperiment({ data: o.data, out, sets, variants, epochs: o.budgetEpochs, seeds: o.seeds, seed: o.seed, log });
  },
});
