import * as fs from 'node:fs';
import { z } from 'zod';
import { crismExperiment } from '../crism.js';
import { CRISM_DEFAULT_SIMULATION, CRISM_SIMULATIONS, isCrismSimulationName } from '../../data/spectra.js';
import { readEndmembersFile } from '../../node/data.js';
import { isModelList } from '../stats.js';
import { defineExperiment } from '../registry.js';
import { alphaRWarmup, budgetEpochs, budgetMinutes, list, models, seed, seeds } from './options.js';

/** Simulated CRISM-like unmixing: PLS, M2 and the untapped model at equal epochs. */
export const crism = defineExperiment({
  name: 'crism',
  paper: '000_… §4',
  summary: 'simulated CRISM-like unmixing: PLS, M2 and the untapped model at equal epochs',
  report: 'report.md',
  options: z.object({
    budgetEpochs: budgetEpochs(1000),
    budgetMinutes: budgetMinutes(),
    seeds: seeds(),
    seed: seed(),
    alphaR: z.number().min(0, 'must be a number ≥ 0').default(0.01).describe('weight α_r of the unfeatured bound for the untapped model (appendix A.2.2)'),
    alphaRWarmup: alphaRWarmup(),
    endmembers: z
      .string()
      .refine((v) => isCrismSimulationName(v) || fs.existsSync(v), `must be ${Object.keys(CRISM_SIMULATIONS).join(', ')} or an existing JSON file`)
      .default(CRISM_DEFAULT_SIMULATION)
      .describe("the endmembers' optical constants: dusty, clear (a bright feldspar, further from linear mixing) or a JSON file (see docs/spectroscopy.md)"),
    centreMax: z
      .number()
      .refine((v) => v >= 1 / 3 && v <= 1, 'must be a share in [1/3, 1]')
      .default(0.5)
      .describe("largest share of any mineral in the labelled centre region (0.5: the paper's 12 grid points; 0.6 gives 15)"),
    models: models(),
  }),
  tiny: { budgetEpochs: 2, seeds: 1 },
  async run(o, { out, log }) {
    const ms = o.models ? list(o.models) : undefined;
    if (ms && !isModelList(ms)) throw new Error(`--models must be a comma-separated list of m2 and untapped, got '${o.models}'`);
    const endmembers = isCrismSimulationName(o.endmembers) ? o.endmembers : readEndmembersFile(o.endmembers);
    log(`crism: simulated CRISM-like unmixing (000_… §4): PLS, M2 and the untapped model, ${o.budgetEpochs} epochs per model${o.budgetMinutes ? ` or ${o.budgetMinutes} min` : ''}, ${o.seeds} seeds → ${out}`);
    return crismExperiment({ out, epochs: o.budgetEpochs, seeds: o.seeds, seed: o.seed, alphaR: o.alphaR, ...(o.alphaRWarmup ? { alphaRWarmup: o.alphaRWarmup } : {}), ...(ms ? { models: ms } : {}), centreMax: o.centreMax, endmembers, ...(o.budgetMinutes ? { budgetMinutes: o.budgetMinutes } : {}), log });
  },
});
