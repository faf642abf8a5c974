import { z } from 'zod';
import { runPotentialExperiment } from '../potential.js';
import { defineExperiment } from '../registry.js';
import { budgetEpochs, seed } from './options.js';

/** The 2-D potential of thesis eq 4.18: Gaussian vs auxiliary approximation. */
export const potentialAvae = defineExperiment({
  name: 'potential-avae',
  paper: '003_… (thesis) eq 4.18',
  summary: 'the 2-D potential: Gaussian vs auxiliary approximation, bounds against the grid log Z',
  report: 'report.md',
  options: z.object({
    budgetEpochs: budgetEpochs(10, 'units of 300 optimisation steps per approximation'),
    seed: seed(),
  }),
  tiny: { budgetEpochs: 1 },
  run(o, { out, log }) {
    const steps = o.budgetEpochs * 300;
    log(`potential-avae: Gaussian and auxiliary approximations of the 2-D potential (eq 4.18), ${steps} steps each (300 per --budget-epochs) → ${out}`);
    const r = runPotentialExperiment({ out, steps, seed: o.seed });
    log(`log Z (grid) ${r.logZ.toFixed(4)}`);
    for (const f of r.fits) log(`${f.kind}: bound ${f.bound.toFixed(4)} (gap ${(r.logZ - f.bound).toFixed(4)}), share of samples in the upper mode ${f.upperModeShare.toFixed(3)}`);
    return Promise.resolve(r);
  },
});
