import { z } from 'zod';
import { MOONS_NOISE, runMoonsComparison } from '../ssl.js';
import { defineExperiment } from '../registry.js';
import { budgetEpochs, budgetMinutes, seconds, seed } from './options.js';

/** Half-moons with 3 labels per class: ADGM and M2 at the same budget. */
export const moonsAdgm = defineExperiment({
  name: 'moons-adgm',
  paper: 'ADGM paper, appendix A §4.2',
  summary: 'half-moons with 3 labels per class: ADGM and M2 at the same budget',
  report: 'report.md',
  options: z.object({
    budgetEpochs: budgetEpochs(10),
    budgetMinutes: budgetMinutes(),
    noise: z.number().min(0, 'must be ≥ 0').default(MOONS_NOISE).describe("noise standard deviation (0.2 is the ADGM reference loader's, with a 2.8% Bayes error)"),
    seed: seed(),
    auxPriorX: z.boolean().default(false).describe("the ADGM with p(a | z, y, x) of appendix A eq 5 instead of the benchmarks' p(a | z, y)"),
  }),
  tiny: { budgetEpochs: 1 },
  async run(o, { out, log, backend }) {
    log(`moons-adgm: ADGM${o.auxPriorX ? ' with p(a | z, y, x)' : ''} and M2 on half-moons (1e4 points, 3 labels per class, noise ${o.noise}), ${o.budgetEpochs} epochs each, backend ${backend ?? '?'} → ${out}`);
    const r = await runMoonsComparison({
      out,
      epochs: o.budgetEpochs,
      budgetSeconds: seconds(o.budgetMinutes),
      noise: o.noise,
      seed: o.seed,
      ...(o.auxPriorX ? { auxPriorX: true } : {}),
      onEval: (t, e) => log(`${t} epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(3)}, test error ${(100 * (e.metrics.testError ?? NaN)).toFixed(2)}%`),
    });
    for (const [t, c] of Object.entries(r.curves)) log(`${t}: final test error ${(100 * (c.at(-1)?.testError ?? NaN)).toFixed(2)}% after ${c.at(-1)?.epoch ?? 0} epochs`);
    return r;
  },
});
