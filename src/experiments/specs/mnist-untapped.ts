import { z } from 'zod';
import { mnistUntappedExperiment } from '../mnist-untapped.js';
import { isModelList } from '../stats.js';
import { defineExperiment } from '../registry.js';
import { alphaRWarmup, budgetEpochs, budgetMinutes, list, models, seconds, seed, seeds, trainLimit } from './options.js';

/** The semi²-supervised MNIST task: labels for digits 0–4 only, unfeatured one-hots. */
export const mnistUntapped = defineExperiment({
  name: 'mnist-untapped',
  paper: '002_… §3',
  summary: 'labels for digits 0–4 only, unfeatured one-hots: the untapped model vs M2 per seed',
  report: 'report.md',
  mnist: true,
  options: z.object({
    seeds: seeds(),
    seed: seed(),
    budgetEpochs: budgetEpochs(10),
    budgetMinutes: budgetMinutes(),
    batchSize: z.number().int().min(1).default(10000).describe('rows per source per step (the paper: 10000)'),
    alphaRWarmup: alphaRWarmup(),
    models: models(),
    trainLimit: trainLimit('use only the first n training images (quick runs)'),
  }),
  tiny: { seeds: 1, budgetEpochs: 1, batchSize: 100, trainLimit: 500, models: 'untapped' },
  async run(o, { out, log }) {
    const ms = o.models ? list(o.models) : undefined;
    if (ms && !isModelList(ms)) throw new Error(`--models must be a comma-separated list of m2 and untapped, got '${o.models}'`);
    log(`mnist-untapped: labels for digits 0–4 only; untapped vs M2, ${o.seeds} seeds, up to ${o.budgetEpochs} epochs each${o.budgetMinutes ? ` or ${o.budgetMinutes} min` : ''} → ${out}`);
    return mnistUntappedExperiment({
      out,
      seeds: o.seeds,
      seed: o.seed,
      batchSize: o.batchSize,
      ...(o.alphaRWarmup ? { alphaRWarmup: o.alphaRWarmup } : {}),
      ...(ms ? { models: ms } : {}),
      epochs: o.budgetEpochs,
      budgetSeconds: seconds(o.budgetMinutes),
      trainLimit: o.trainLimit,
      onRun: (x) => log(`seed ${x.seed} ${x.model}: cross-entropy on 5–9 ${x.crossEntropy59.toFixed(3)}, KL ${x.kl.toFixed(3)}, extracted digits ${x.extracted.join('')} (${x.distinctDigits} distinct), ${x.epochs} epochs in ${x.seconds.toFixed(0)} s`),
    });
  },
});
