import { z } from 'zod';
import { runPvMonitoring } from '../pv-monitoring.js';
import { defineExperiment } from '../registry.js';
import { budgetEpochs, seed } from './options.js';

/** PV condition monitoring: the three studies of appendix D on the simulated PV string. */
export const pvMonitoring = defineExperiment({
  name: 'pv-monitoring',
  paper: 'thesis 003_… ch. 6 and appendix D (tables 6.1, 6.2, fig. 6.3)',
  summary: 'PV condition monitoring on a simulated string: SDGM vs MLP vs MLR supervised, by labelled rows, and the progressive protocol with the ELBO anomaly AUROC',
  report: 'report.md',
  options: z.object({
    rows: z.number().int().min(200).default(15000).describe('simulated rows (one a minute, daylight)'),
    budgetEpochs: budgetEpochs(10, 'epochs of each SDGM'),
    seed: seed(),
    labelCounts: z.array(z.number().int().min(10)).min(1).default([100, 500, 1500]).describe('study (ii): labelled training rows, comma-separated'),
    perCategory: z.number().int().min(1).default(500).describe('study (iii): labelled rows of each category as it joins'),
    steps: z.number().int().min(1).max(6).default(6).describe('study (iii): categories that join, in table 6.1 order'),
    studies: z.array(z.enum(['i', 'ii', 'iii'])).min(1).default(['i', 'ii', 'iii']).describe('studies to run, comma-separated: i, ii, iii'),
    split: z.enum(['rows', 'days']).default('rows').describe("test rows: a random 20% of the rows (the papers' protocol; optimistic, test minutes sit beside training minutes of the same day), or whole held-out days (a new day, as in use)"),
  }),
  tiny: { rows: 600, budgetEpochs: 1, labelCounts: [20], perCategory: 20, steps: 2 },
  async run(o, { out, log }) {
    return runPvMonitoring({ out, rows: o.rows, epochs: o.budgetEpochs, seed: o.seed, labelCounts: o.labelCounts, perCategory: o.perCategory, steps: o.steps, studies: o.studies, split: o.split, log });
  },
});
