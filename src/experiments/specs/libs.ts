import { z } from 'zod';
import { libsExperiment } from '../libs.js';
import { defineExperiment } from '../registry.js';
import { budgetEpochs, budgetMinutes, seed, seeds } from './options.js';

/** Simulated LIBS leave-compounds-out: KL on the held-out compounds. */
export const libs = defineExperiment({
  name: 'libs',
  paper: '000_… §5, table 3',
  summary: 'simulated LIBS leave-compounds-out: KL on the held-out compounds for PLS, M2 and the untapped model',
  report: 'report.md',
  options: z.object({
    budgetEpochs: budgetEpochs(500),
    budgetMinutes: budgetMinutes(),
    seeds: seeds(),
    seed: seed(),
    weights: z.enum(['paper', 'library']).default('paper').describe("the paper's weights (appendix A.2.3) or the library's defaults (docs/semi-supervised-real.md)"),
  }),
  tiny: { budgetEpochs: 2, seeds: 1 },
  async run(o, { out, log }) {
    log(`libs: simulated LIBS leave-compounds-out (000_… §5): PLS, M2 and the untapped model, ${o.budgetEpochs} epochs per model${o.budgetMinutes ? ` or ${o.budgetMinutes} min` : ''}, ${o.seeds} seeds → ${out}`);
    return libsExperiment({ out, epochs: o.budgetEpochs, seeds: o.seeds, seed: o.seed, weights: o.weights, ...(o.budgetMinutes ? { budgetMinutes: o.budgetMinutes } : {}), log });
  },
});
