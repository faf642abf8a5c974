import { z } from 'zod';
import { cagemExperiment, LVAE_VARIANTS, lvaeTableExperiment, type LvaeVariant } from '../deep-generative.js';
import { defineExperiment } from '../registry.js';
import { budgetEpochs, list, seed, trainLimit } from './options.js';

/** A list of integers in [min, max] (`none`: the empty list, where `allowNone`). */
const integers = (v: string) => (v.trim() === 'none' ? [] : list(v).map(Number));
const ints = (what: string, min: number, max = Infinity) =>
  z
    .string()
    .refine((v) => v.trim() === 'none' || list(v).every((s) => s !== '' && Number.isInteger(Number(s)) && Number(s) >= min && Number(s) <= max), `must be comma-separated integers in ${min}…${max === Infinity ? '' : max}`)
    .describe(what);
/** Row lists: each value once (each row writes its own folder). */
const rows = (what: string, min: number, max = Infinity, allowNone = false) =>
  ints(what, min, max)
    .refine((v) => allowNone || v.trim() !== 'none', 'must list at least one value')
    .refine((v) => new Set(list(v)).size === list(v).length, 'must not repeat a value (each row writes its own folder)');
const testLimit = () => z.number().int().min(1).default(2000).describe('test images for the bounds and the IW log-likelihood');
const iw = () => z.number().int().min(1).default(5000).describe('importance samples of the test log-likelihood');
const batchSize = (def: number) => z.number().int().min(2).default(def).describe('batch size');

/** Appendix B fig. 3: VAE vs VAE+BN vs VAE+BN+WU vs LVAE+BN+WU for L = 1…5 at one epoch budget. */
export const lvaeTable = defineExperiment({
  name: 'lvae-table',
  paper: 'thesis 003 §5.1.1, appendix B fig. 3 and table 1',
  summary: 'deep VAEs (bottom-up, ± batch norm, ± warm-up) and the LVAE for L = 1…5 on MNIST: train/test ELBO, IW log-likelihood, active units per layer',
  report: 'table.md',
  mnist: true,
  options: z.object({
    budgetEpochs: budgetEpochs(20, 'epochs of every run'),
    seed: seed(),
    layers: rows('comma-separated numbers of stochastic layers', 1, 5).default('1,2,3,4,5'),
    variants: z
      .string()
      .refine((v) => list(v).every((s) => (LVAE_VARIANTS as readonly string[]).includes(s)), `must be comma-separated variants of ${LVAE_VARIANTS.join(', ')}`)
      .default(LVAE_VARIANTS.join(','))
      .describe(`comma-separated variants (${LVAE_VARIANTS.join(', ')})`),
    warmupEpochs: z.number().int().min(0, 'must be an integer ≥ 0').optional().describe('epochs of KL warm-up of the -wu variants (default half the budget; 0: none)'),
    trainLimit: trainLimit('use only the first n training images (quick runs)'),
    testLimit: testLimit(),
    iw: iw(),
    batchSize: batchSize(256),
  }),
  tiny: { budgetEpochs: 1, layers: '2', variants: 'vae-bn-wu,lvae-bn-wu', trainLimit: 300, testLimit: 50, iw: 5, batchSize: 100 },
  async run(o, { out, log }) {
    log(`lvae-table: ${o.variants} for L = ${o.layers}, ${o.budgetEpochs} epochs each → ${out}`);
    const r = await lvaeTableExperiment({ ...o, out, log, layers: list(o.layers).map(Number), variants: list(o.variants) as LvaeVariant[] });
    return { files: r.files };
  },
});

/** Table 4.2: CaGeM-0 with C clusters and CaGeM with 20/50/100 labels. */
export const cagem = defineExperiment({
  name: 'cagem',
  paper: 'thesis 003 §4.3, table 4.2, appendix C table 1',
  summary: 'CaGeM-0 (C = 5, 10, 20 clusters) and CaGeM-20/50/100 on MNIST: IW log-likelihood and test error',
  report: 'table.md',
  mnist: true,
  options: z.object({
    budgetEpochs: budgetEpochs(20, 'epochs of every run'),
    seed: seed(),
    clusters: rows('comma-separated cluster counts C of the unsupervised CaGeM-0 rows (none: no such row)', 2, Infinity, true).default('5,10,20'),
    labels: rows('comma-separated label counts of the semi-supervised rows, multiples of 10 (none: no such row)', 10, Infinity, true).refine((v) => integers(v).every((n) => n % 10 === 0), 'must be multiples of 10 (spread evenly over the digits)').default('20,50,100'),
    latent: ints('sizes of z1 and z2', 1).refine((v) => list(v).length === 2, 'must be two sizes: z1,z2').default('64,32'),
    hidden: ints('hidden widths at the z1 and z2 levels', 1).refine((v) => list(v).length === 2, 'must be two widths').default('1024,512'),
    warmupEpochs: z.number().int().min(0, 'must be an integer ≥ 0').optional().describe('epochs of KL warm-up (default half the budget; 0: none)'),
    alpha: z.number().min(0, 'must be ≥ 0').optional().describe('weight of the labelled cross-entropies (default 0.1·N/N_l)'),
    trainLimit: trainLimit('use only the first n training images (quick runs)'),
    testLimit: testLimit(),
    iw: iw(),
    batchSize: batchSize(100),
  }),
  check: (o) => (integers(o.clusters).length + integers(o.labels).length === 0 ? '--clusters none --labels none leaves no row to train' : undefined),
  tiny: { budgetEpochs: 1, clusters: '3', labels: '20', latent: '4,4', hidden: '32,16', trainLimit: 300, testLimit: 50, iw: 5 },
  async run(o, { out, log }) {
    const pair = (v: string) => list(v).map(Number) as [number, number];
    log(`cagem: CaGeM-0 with C = ${o.clusters}, CaGeM with ${o.labels} labels, ${o.budgetEpochs} epochs each → ${out}`);
    const r = await cagemExperiment({ ...o, out, log, clusters: integers(o.clusters), labels: integers(o.labels), latent: pair(o.latent), hidden: pair(o.hidden) });
    return { files: r.files };
  },
});
