/** `untapped evaluate DIR`: test ELBO, IW log-likelihood and active units of a run; test error of an SSL experiment. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { UsageError, engine, intArg, log } from '../common.js';
import { describeScores, loadFitted, oneHotRows, predictFile, scorePrediction } from '../../experiments/fit.js';
import { readTable } from '../../node/data.js';
import { Rng } from '../../engine/rng.js';
import { loadRun, loadRunData, importanceModel, datasetBound, needsLabels } from '../../experiments/run.js';
import { classificationOf } from '../../experiments/report.js';
import { iwLogLikelihood } from '../../eval/loglik.js';
import { SSL_MODEL_FILE, evaluateSslModel } from '../../experiments/ssl.js';
import { formatConfusion } from '../../eval/classify.js';
import { activeUnits } from '../../eval/active-units.js';
import type { Vae } from '../../models/vae.js';

/** Adds `untapped evaluate DIR`. */
export function addEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate a trained run (any model type) on its test rows (MNIST test set, or the sources.test table): ELBO, importance-weighted log-likelihood, active units (VAE), and for models with q(y | x) the test error and confusion matrix; a model from untapped fit on the rows of --x (bounds (7) and (8); with --y, RMSEP or error and interval coverage); also the directory of a semi-supervised MNIST experiment')
    .argument('<dir>', 'run directory')
    .option('--iw <k>', 'importance samples per test image', intArg('--iw'), 5000)
    .option('--n <count>', 'evaluate only the first N test rows (MNIST default: 10000)', intArg('--n'))
    .option('--seed <s>', 'seed of the importance sampler', intArg('--seed', 0), 1)
    .option('--json', 'print one JSON object on stdout')
    .option('--x <file>', 'a model from untapped fit: the rows to evaluate on (its channels)')
    .option('--y <file>', 'a model from untapped fit: the labels of the --x rows (layout as fit --y)')
    .action(async (dir: string, o: { iw: number; n?: number; seed: number; json?: boolean; x?: string; y?: string }, cmd: Command) => {
      const info = await engine(cmd);
      if (fs.existsSync(path.join(dir, 'fit.json'))) {
        // the semi²-supervised model of `untapped fit` (or a train config of type untapped)
        if (!o.x) throw new UsageError(`${dir} holds a model written by untapped fit: give the rows to evaluate on, --x FILE (and their labels, --y FILE)`);
        const m = loadFitted(dir);
        try {
          const t0 = performance.now();
          const t = readTable(o.x);
          const y = o.y ? readTable(o.y) : null;
          const K = m.info.labelNames.length;
          if (t.width !== m.info.channels.length) throw new UsageError(`${o.x}: ${t.width} columns per row, but ${dir} was fitted on ${m.info.channels.length} channels`);
          if (y && y.n !== t.n) throw new UsageError(`${o.y}: ${y.n} rows of labels for the ${t.n} rows of ${o.x}`);
          const yRows = y ? (y.width === 1 && m.info.labels === 'discrete' ? oneHotRows(y.data, K) : y.data) : null;
          const bounds = m.estimator.score({ unlabelled: { x: { data: t.data, width: t.width } }, ...(yRows ? { labelled: { x: { data: t.data, width: t.width }, y: { data: yRows, width: K } } } : {}) }, o.seed);
          const p = predictFile(m, o.x, 100, o.seed);
          const scores = o.y ? scorePrediction(m, p, o.y) : null;
          const out = { dir, type: 'untapped', backend: info.backend, n: t.n, bounds, ...(scores ? { scores } : {}), seconds: (performance.now() - t0) / 1000 };
          if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
          else {
            log(`${dir} (untapped) on ${o.x} (${t.n} rows): unlabelled bound (8) ${bounds.unlabelled?.toFixed(2)}${bounds.labelled !== undefined ? `, labelled bound (7) ${bounds.labelled.toFixed(2)}` : ''} nats per row`);
            if (scores) for (const line of describeScores(scores, m.info.labelNames, o.y!)) log(line);
          }
        } finally {
          m.estimator.dispose();
        }
        return;
      }
      if (o.x || o.y) throw new UsageError('--x and --y are for models written by untapped fit; a train run is evaluated on its own test source (sources.test)');
      const sslFile = path.join(dir, SSL_MODEL_FILE);
      if (fs.existsSync(sslFile)) {
        const t0 = performance.now();
        const r = evaluateSslModel(sslFile, o.n ?? 10000);
        const out = { dir, backend: info.backend, experiment: r.experiment, n: r.n, testError: r.error, confusion: r.confusion, seconds: (performance.now() - t0) / 1000 };
        if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
        else log(`${dir} (${r.experiment}): test error ${(100 * r.error).toFixed(2)}% on ${r.n} images\n${formatConfusion(r.confusion)}`);
        return;
      }
      const { config, model } = loadRun(dir, { checkSources: true });
      const data = loadRunData(config, o.n ? { testLimit: o.n } : config.data ? { testLimit: 10000 } : {});
      const on = data.test ? 'test' : 'training';
      const test = data.test ?? data.labelled ?? data.unlabelled!;
      const rng = new Rng(o.seed);
      const t0 = performance.now();
      const labels = needsLabels(model) ? test.y : undefined;
      const elbo = datasetBound(model, test, 1, rng);
      const iw = iwLogLikelihood(importanceModel(model), test.x, test.dim, { k: o.iw, rng, ...(labels ? { labels } : {}) });
      // active units (thesis appendix A fig. 4a) for models that expose per-unit statistics
      const inst = model.instance;
      const units = 'klPerUnit' in inst && 'posteriorMeans' in inst ? activeUnits(inst as unknown as Vae, test.x, test.dim, { rng: new Rng(o.seed), ...(labels ? { labels } : {}) }) : null;
      const cls = model.classify && data.test && data.testLabelled ? classificationOf(model, data.test) : null;
      const out = {
        dir,
        type: config.model.type,
        backend: info.backend,
        on,
        n: iw.n,
        [data.test ? 'testElbo' : 'trainElbo']: elbo,
        iw: { k: iw.k, mean: iw.mean, stderr: iw.stderr },
        ...(cls ? { testError: cls.error, confusion: cls.confusion } : {}),
        ...(units ? { activeUnits: { threshold: units.threshold, active: units.active, activeByVariance: units.activeByVariance, perLayer: units.layers.map((l) => ({ dim: l.dim, active: l.active, activeByVariance: l.activeByVariance })) } } : {}),
        seconds: (performance.now() - t0) / 1000,
      };
      if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
      else {
        log(`${dir} (${config.model.type}, ${on} rows): ELBO ${elbo.toFixed(2)}, log-likelihood (IW ${iw.k}, ${iw.n} rows) ${iw.mean.toFixed(2)} ± ${iw.stderr.toFixed(2)} nats [${out.seconds.toFixed(0)} s]`);
        if (!data.test) log('(the run has no test source: these numbers are on its training rows)');
        if (cls) log(`test error of q(y | x): ${(100 * cls.error).toFixed(2)}% on ${data.test!.n} rows\n${formatConfusion(cls.confusion)}`);
        if (units) log(`active units (mean KL > ${units.threshold} nats): ${units.layers.map((l, i) => `z${i + 1} ${l.active}/${l.dim}`).join(', ')}; by Cov_x(E_q[u]) > ${units.threshold}: ${units.layers.map((l, i) => `z${i + 1} ${l.activeByVariance}/${l.dim}`).join(', ')}`);
      }
      model.dispose();
    });
}
