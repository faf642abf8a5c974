import { z } from 'zod';
import { vaeTableExperiment } from '../vae-table.js';
import { defineExperiment } from '../registry.js';
import { budgetEpochs, list, seed, trainLimit } from './options.js';

/** The VAE variants of the course report's table 1 on binarised MNIST. */
export const vaeTable = defineExperiment({
  name: 'vae-table',
  paper: "course report, table 1 (docs/vae-variants.md)",
  summary: 'VAE variants on binarised MNIST: test log-likelihood (IW), ELBO and active units per variant and latent size',
  report: 'table.md',
  mnist: true,
  options: z.object({
    budgetEpochs: budgetEpochs(10, 'epochs of every run'),
    seed: seed(),
    latents: z
      .string()
      .refine((v) => list(v).every((s) => Number.isInteger(Number(s)) && Number(s) >= 1), 'must be comma-separated positive integers')
      .refine((v) => new Set(list(v).map(Number)).size === list(v).length, 'must not repeat a latent size (each row writes its own folder)')
      .default('3,5,10,20,200')
      .describe('comma-separated latent sizes'),
    variants: z.string().optional().describe('comma-separated variants (default all: vae, iwae, vae-l2, iwae-l2, beta-vae, dvae, cvae, conv)'),
    trainLimit: trainLimit('use only the first n training images (quick runs)'),
    testLimit: z.number().int().min(1).default(1000).describe('test images for the log-likelihood'),
    iw: z.number().int().min(1).default(5000).describe('importance samples of the test log-likelihood'),
  }),
  tiny: { budgetEpochs: 1, latents: '2', variants: 'vae', trainLimit: 500, testLimit: 100, iw: 10 },
  async run(o, { out, log }) {
    const latents = list(o.latents).map(Number);
    log(`vae-table: VAE variants on binarised MNIST, ${o.budgetEpochs} epochs each, latents ${latents.join(', ')} → ${out}`);
    const r = await vaeTableExperiment({ out, budgetEpochs: o.budgetEpochs, latents, seed: o.seed, ...(o.variants ? { variants: list(o.variants) } : {}), ...(o.trainLimit ? { trainLimit: o.trainLimit } : {}), testLimit: o.testLimit, iw: o.iw, log });
    return { ...r, files: [r.files.markdown, r.files.json, r.files.activeUnits.png, r.files.activeUnits.svg, r.files.activeUnits.spec] };
  },
});
