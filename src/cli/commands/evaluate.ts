/** `untapped evaluate DIR`: test ELBO, IW log-likelihood and active units of a run; test error of an SSL experiment. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { engine, intArg, log } from '../common.js';
import { Rng } from '../../engine/rng.js';
import { loadRun, loadRunData, importanceModel, datasetBound } from '../../experiments/run.js';
import { iwLogLikelihood } from '../../eval/loglik.js';
import { labelsFor } from '../../models/registry.js';
import { SSL_MODEL_FILE, evaluateSslModel } from '../../experiments/ssl.js';
import { formatConfusion } from '../../eval/classify.js';
import { activeUnits } from '../../eval/active-units.js';
import type { Vae } from '../../models/vae.js';

/** Adds `untapped evaluate DIR`. */
export function addEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate a trained run on the MNIST test set: ELBO and importance-weighted log-likelihood; for a semi-supervised experiment directory, test error and confusion matrix')
    .argument('<dir>', 'run directory')
    .option('--iw <k>', 'importance samples per test image', intArg('--iw'), 5000)
    .option('--n <count>', 'evaluate only the first N test images', intArg('--n'))
    .option('--seed <s>', 'seed of the importance sampler', intArg('--seed', 0), 1)
    .option('--json', 'print one JSON object on stdout')
    .action(async (dir: string, o: { iw: number; n?: number; seed: number; json?: boolean }, cmd: Command) => {
      const info = await engine(cmd);
      const sslFile = path.join(dir, SSL_MODEL_FILE);
      if (fs.existsSync(sslFile)) {
        const t0 = performance.now();
        const r = evaluateSslModel(sslFile, o.n ?? 10000);
        const out = { dir, backend: info.backend, experiment: r.experiment, n: r.n, testError: r.error, confusion: r.confusion, seconds: (performance.now() - t0) / 1000 };
        if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
        else log(`${dir} (${r.experiment}): test error ${(100 * r.error).toFixed(2)}% on ${r.n} images\n${formatConfusion(r.confusion)}`);
        return;
      }
      const { config, model } = loadRun(dir);
      const { test } = loadRunData(config, o.n ? { testLimit: o.n } : { testLimit: 10000 });
      const rng = new Rng(o.seed);
      const t0 = performance.now();
      const elbo = datasetBound(model, test, 1, rng);
      const iw = iwLogLikelihood(importanceModel(model), test.x, test.dim, { k: o.iw, rng, labels: labelsFor(model, test.y) });
      // active units (thesis appendix A fig. 4a) for models that expose per-unit statistics
      const units = 'klPerUnit' in model && 'posteriorMeans' in model ? activeUnits(model as Vae, test.x, test.dim, { rng: new Rng(o.seed), labels: labelsFor(model, test.y) }) : null;
      const out = {
        dir,
        backend: info.backend,
        n: iw.n,
        testElbo: elbo,
        iw: { k: iw.k, mean: iw.mean, stderr: iw.stderr },
        ...(units ? { activeUnits: { threshold: units.threshold, active: units.active, activeByVariance: units.activeByVariance, perLayer: units.layers.map((l) => ({ dim: l.dim, active: l.active, activeByVariance: l.activeByVariance })) } } : {}),
        seconds: (performance.now() - t0) / 1000,
      };
      if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
      else {
        log(`${dir}: test ELBO ${elbo.toFixed(2)}, log-likelihood (IW ${iw.k}, ${iw.n} images) ${iw.mean.toFixed(2)} ± ${iw.stderr.toFixed(2)} nats [${out.seconds.toFixed(0)} s]`);
        if (units) log(`active units (mean KL > ${units.threshold} nats): ${units.layers.map((l, i) => `z${i + 1} ${l.active}/${l.dim}`).join(', ')}; by Cov_x(E_q[u]) > ${units.threshold}: ${units.layers.map((l, i) => `z${i + 1} ${l.activeByVariance}/${l.dim}`).join(', ')}`);
      }
      model.dispose();
    });
}
