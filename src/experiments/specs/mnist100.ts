import { z } from 'zod';
import { MNIST100_PAPER, MNIST100_PAPER_M1M2, REFERENCE_CLIP_NORM, mnist100Experiment, mnist100M1M2 } from '../ssl.js';
import { fmtTime } from '../../train/progress.js';
import { defineExperiment } from '../registry.js';
import { budgetEpochs, budgetMinutes, seconds, seed, trainLimit } from './options.js';

const mnist100Options = {
  budgetEpochs: budgetEpochs(10),
  budgetMinutes: budgetMinutes(),
  seed: seed(),
  trainLimit: trainLimit(),
  batchNorm: z.boolean().default(true).describe('no batch norm in the hidden layers (default on, as the ADGM reference code)'),
  clipNorm: z.number().min(0, 'must be a number ≥ 0').default(REFERENCE_CLIP_NORM).describe('clip the gradient at this global norm, 0 for none (as the ADGM reference code)'),
  samples: z.number().int().min(1).default(1).describe('Monte Carlo samples of (a, z) per example (the reference code: 5)'),
  lr: z.number().positive('must be a number > 0').default(3e-4).describe("Adam learning rate (the thesis' and the reference code's)"),
  alpha: z.number().min(0, 'must be a number ≥ 0').optional().describe("classification weight α (default 0.1·N/N_l = 60; the ADGM paper's β from 0.1 to 2 is α from 60 to 1200)"),
  klWarmup: z.number().min(0, 'must be a number of epochs ≥ 0').default(0).describe('epochs of linear KL warm-up of z and a (0: none, as the reference code)'),
  resume: z.boolean().default(false).describe('continue the run in --out from its checkpoint (written every epoch); the budgets count the whole run'),
};

/** MNIST with 100 labels for one model type (the ADGM also takes --aux-prior-x). */
function mnist100Spec<T extends 'm2' | 'adgm' | 'sdgm'>(type: T) {
  const options =
    type === 'adgm'
      ? z.object({ ...mnist100Options, auxPriorX: z.boolean().default(false).describe("the ADGM with p(a | z, y, x) of appendix A eq 5 instead of the benchmarks' p(a | z, y)") })
      : z.object(mnist100Options);
  return defineExperiment({
    name: `mnist100-${type}`,
    paper: '003_… (thesis) appendix A §4.4, table 4.1',
    summary: `${type.toUpperCase()} on MNIST with 100 labels: test error per epoch, confusion matrix, checkpoint every epoch`,
    report: 'curve.json',
    mnist: true,
    options,
    tiny: { budgetEpochs: 1, trainLimit: 500 },
    async run(o, { out, log, backend }) {
      const auxPriorX = 'auxPriorX' in o && o.auxPriorX;
      const name = `mnist100-${type}`;
      log(`${name}: ${type.toUpperCase()} on MNIST with 100 labels, up to ${o.budgetEpochs} epochs${o.budgetMinutes ? ` or ${o.budgetMinutes} min` : ''}; batch norm ${o.batchNorm ? 'on' : 'off'}, clipping ${o.clipNorm > 0 ? `at norm ${o.clipNorm}` : 'off'}, ${o.samples} sample(s), Adam ${o.lr}, α ${o.alpha ?? '0.1·N/N_l'}${o.klWarmup ? `, KL warm-up over ${o.klWarmup} epochs` : ''}${auxPriorX ? ', p(a | z, y, x)' : ''}; backend ${backend ?? '?'} → ${out}${o.resume ? ' (resuming)' : ''}`);
      const r = await mnist100Experiment({
        type,
        model: { batchNorm: o.batchNorm, samples: o.samples, ...(auxPriorX ? { auxPriorX: true } : {}) },
        resume: o.resume,
        clipNorm: o.clipNorm,
        lr: o.lr,
        ...(o.alpha !== undefined ? { alpha: o.alpha } : {}),
        ...(o.klWarmup ? { warmupEpochs: o.klWarmup } : {}),
        out,
        epochs: o.budgetEpochs,
        budgetSeconds: seconds(o.budgetMinutes),
        seed: o.seed,
        trainLimit: o.trainLimit,
        onEval: (e) => log(`epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(2)}, test error ${(100 * (e.metrics.testError ?? NaN)).toFixed(2)}% (${fmtTime(e.trainSeconds)} training)`),
      });
      log(`final test error ${(100 * (r.history.at(-1)?.metrics.testError ?? NaN)).toFixed(2)}% after ${r.history.at(-1)?.epoch ?? 0} epochs (${fmtTime(r.seconds)}); thesis at full length: ${(100 * MNIST100_PAPER[type]).toFixed(2)}%`);
      if (r.auxiliary) log(`auxiliary a on the test set: ${r.auxiliary.activeUnits} of ${r.auxiliary.units} units active (variance of E[a|x] > 0.01), mean posterior sd ${r.auxiliary.meanScale.toFixed(2)}`);
      r.model.dispose();
      return r;
    },
  });
}

export const mnist100M2 = mnist100Spec('m2');
export const mnist100Adgm = mnist100Spec('adgm');
export const mnist100Sdgm = mnist100Spec('sdgm');

/** M1 (a VAE) then M2 on its latent space, with 100 labels. */
export const mnist100M1M2Spec = defineExperiment({
  name: 'mnist100-m1m2',
  paper: '003_… (thesis) §4.1, table 4.1 (Kingma et al. 2014)',
  summary: 'M1 (a VAE) on MNIST, then M2 on its latent space with 100 labels',
  report: 'curve.json',
  mnist: true,
  options: z.object({
    budgetEpochs: budgetEpochs(10, 'epochs of M2'),
    budgetMinutes: budgetMinutes(),
    seed: seed(),
    trainLimit: trainLimit(),
    m1Epochs: z.number().int().min(1).default(10).describe('epochs of the M1 VAE before M2'),
  }),
  tiny: { budgetEpochs: 1, m1Epochs: 1, trainLimit: 500 },
  async run(o, { out, log }) {
    log(`mnist100-m1m2: M1 (VAE) for ${o.m1Epochs} epochs, then M2 on its latent space with 100 labels for up to ${o.budgetEpochs} epochs${o.budgetMinutes ? ` or ${o.budgetMinutes} min` : ''} → ${out}`);
    const r = await mnist100M1M2({
      out,
      m1Epochs: o.m1Epochs,
      epochs: o.budgetEpochs,
      budgetSeconds: seconds(o.budgetMinutes),
      seed: o.seed,
      trainLimit: o.trainLimit,
      onM1Epoch: (e, l) => log(`M1 epoch ${e}: train loss ${l.toFixed(2)}`),
      onEval: (e) => log(`M2 epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(2)}, test error ${(100 * (e.metrics.testError ?? NaN)).toFixed(2)}%`),
    });
    log(`final test error ${(100 * (r.history.at(-1)?.metrics.testError ?? NaN)).toFixed(2)}%; thesis: ${(100 * MNIST100_PAPER_M1M2).toFixed(2)}%`);
    r.model.dispose();
    return r;
  },
});
