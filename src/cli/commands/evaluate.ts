/** `untapped evaluate DIR`: test ELBO, IW log-likelihood and active units of a run; test error of an SSL experiment. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { UsageError, engine, intArg, log } from '../common.js';
import { describeScores, fittedRunnable, loadFitted, oneHotRows, predictTable, scoreTable, tableRows } from '../../experiments/fit.js';
import { readTable } from '../../node/data.js';
import { rowLocation, type Table } from '../../io/table.js';
import { Rng } from '../../engine/rng.js';
import { loadRun, loadRunData, importanceModel, datasetBound, needsLabels, runActiveUnits, runClassNames, scoresClasses } from '../../experiments/run.js';
import { classificationOf } from '../../experiments/report.js';
import { iwLogLikelihood } from '../../eval/loglik.js';
import { SSL_MODEL_FILE, evaluateSslModel } from '../../experiments/ssl.js';
import { formatConfusion } from '../../eval/classify.js';

/** Adds `untapped evaluate DIR`. */
export function addEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate a trained run (any model type) on its test rows (MNIST test set, or the sources.test table): ELBO, importance-weighted log-likelihood, active units per layer (vae, lvae, cagem), and for models with q(y | x) the test error and confusion matrix; a model from untapped fit on the rows of --x, else on the labelled rows it was fitted on, validation rows left out (bounds (7) and (8), IW log-likelihood; with labels, RMSEP and KL or error, and interval coverage on --x rows); also the directory of a semi-supervised MNIST experiment')
    .argument('<dir>', 'run directory')
    .option('--iw <k>', 'importance samples per test image', intArg('--iw'), 5000)
    .option('--n <count>', 'evaluate only the first N test rows (MNIST default: 10000; a model from untapped fit: the IW log-likelihood on the first N rows)', intArg('--n'))
    .option('--seed <s>', 'seed of the importance sampler', intArg('--seed', 0), 1)
    .option('--json', 'print one JSON object on stdout')
    .option('--x <file>', 'a model from untapped fit: the rows to evaluate on (its channels; default: the labelled rows it was fitted on, validation rows left out)')
    .option('--y <file>', 'a model from untapped fit: the labels of the --x rows (layout as fit --y)')
    .action(async (dir: string, o: { iw: number; n?: number; seed: number; json?: boolean; x?: string; y?: string }, cmd: Command) => {
      const info = await engine(cmd);
      if (fs.existsSync(path.join(dir, 'fit.json'))) {
        // the semi²-supervised model of `untapped fit` (or a train config of type untapped): on the rows
        // of --x, else on the fit's own labelled rows (the files it was trained on)
        const m = loadFitted(dir);
        const model = fittedRunnable(m);
        try {
          let t: Table;
          let y: Table | null;
          let on: 'given' | 'training' = 'given';
          let held = 0;
          if (o.x) {
            t = readTable(o.x);
            y = o.y ? readTable(o.y) : null;
          } else {
            if (o.y) throw new UsageError('--y gives the labels of the --x rows; give --x too');
            const ix = m.info.inputs.x;
            const iy = m.info.inputs.y;
            if (!ix || !('file' in ix) || !fs.existsSync(ix.file)) throw new UsageError(`${dir}: give the rows to evaluate on, --x FILE (and their labels, --y FILE); the fit's labelled rows${ix && 'file' in ix ? ` (${ix.file})` : ''} are not a file here`);
            t = readTable(ix.file);
            y = iy && 'file' in iy && fs.existsSync(iy.file) ? readTable(iy.file) : null;
            on = 'training';
            // the rows held out for validation (and calibration) are not training rows
            const out = new Set(m.info.validation?.heldOut?.index ?? []);
            if (out.size) {
              const keep = Array.from({ length: t.n }, (_, r) => r).filter((r) => !out.has(r));
              held = out.size;
              t = tableRows(t, keep);
              if (y) y = tableRows(y, keep);
            }
          }
          const t0 = performance.now();
          const K = m.info.labelNames.length;
          if (t.width !== m.info.channels.length) throw new UsageError(`${t.file}: ${t.width} columns per row, but ${dir} was fitted on ${m.info.channels.length} channels`);
          if (y && y.n !== t.n) throw new UsageError(`${y.file}: ${y.n} rows of labels for the ${t.n} rows of ${t.file}`);
          const p = predictTable(m, t, 100, o.seed);
          // the labels are checked against the model (naming file and line) before the bounds use them
          const scores = y ? scoreTable(m, p, y) : null;
          if (scores && on === 'training') {
            delete scores.coverage;
            delete scores.setCoverage;
          }
          let yRows = y ? (y.width === 1 && m.info.labels === 'discrete' ? oneHotRows(y.data, K) : y.data) : null;
          // a bounded target: measured values outside the model's bounds are scored (RMSEP above), but have no density on its logit scale
          const b = m.estimator.yBounds;
          const outside = b && yRows ? Array.from(yRows).findIndex((v, i) => !(v > b.lo[i % K] && v < b.hi[i % K])) : -1;
          if (outside >= 0) {
            log(`evaluate: ${y!.file}: ${rowLocation(y!, Math.floor(outside / K))} holds ${yRows![outside]}, outside the model's bounds (${b!.lo[outside % K]}, ${b!.hi[outside % K]}) set by fit --bounds: the labelled bound (7) is left out; RMSEP and the other scores include the row`);
            yRows = null;
          }
          const bounds = m.estimator.score({ unlabelled: { x: { data: t.data, width: t.width } }, ...(yRows ? { labelled: { x: { data: t.data, width: t.width }, y: { data: yRows, width: K } } } : {}) }, o.seed);
          // importance-weighted log p(x) (y summed exactly for classes), as for every run; a deterministic model has no densities
          const variational = m.estimator.model.config.variational;
          const rows = Math.min(o.n ?? t.n, t.n);
          const iw = variational ? iwLogLikelihood(importanceModel(model), t.data.subarray(0, rows * t.width), t.width, { k: o.iw, rng: new Rng(o.seed) }) : null;
          const out = {
            dir,
            type: 'untapped',
            backend: info.backend,
            on,
            file: t.file,
            n: t.n,
            ...(held ? { validationRowsLeftOut: held } : {}),
            [variational ? 'bounds' : 'reconstruction']: bounds,
            ...(iw ? { iw: { k: iw.k, n: iw.n, mean: iw.mean, stderr: iw.stderr } } : {}),
            ...(scores ? { scores } : {}),
            seconds: (performance.now() - t0) / 1000,
          };
          if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
          else {
            const where = `${t.file} (${t.n} ${on === 'training' ? 'labelled training ' : ''}row${t.n === 1 ? '' : 's'}${held ? `; the ${held} validation rows left out` : ''})`;
            if (variational) log(`${dir} (untapped) on ${where}: unlabelled bound (8) ${bounds.unlabelled?.toFixed(2)}${bounds.labelled !== undefined ? `, labelled bound (7) ${bounds.labelled.toFixed(2)}` : ''} nats per row`);
            else log(`${dir} (untapped, deterministic) on ${where}: reconstruction terms (unlabelled ${bounds.unlabelled?.toFixed(4)}${bounds.labelled !== undefined ? `, labelled ${bounds.labelled.toFixed(4)}` : ''}) per row; a deterministic model has no densities, so no bounds or log-likelihood`);
            if (iw) log(`log-likelihood log p(x) (IW ${iw.k}, ${iw.n} row${iw.n === 1 ? '' : 's'}) ${iw.mean.toFixed(2)}${iw.n > 1 ? ` ± ${iw.stderr.toFixed(2)}` : ''} nats`);
            if (on === 'training') log('(no --x given: these numbers are on the labelled rows the model was fitted on; interval coverage is measured only on new rows)');
            if (scores) for (const line of describeScores(scores, m.info.labelNames, y!.file)) if (!(on === 'training' && line.startsWith('no calibrated'))) log(line);
          }
        } finally {
          model.dispose();
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
      const { config, model, meta } = loadRun(dir, { checkSources: true });
      const classNames = runClassNames(meta);
      const data = loadRunData(config, o.n ? { testLimit: o.n } : config.data ? { testLimit: 10000 } : {});
      const on = data.test ? 'test' : 'training';
      const test = data.test ?? data.labelled ?? data.unlabelled!;
      const rng = new Rng(o.seed);
      const t0 = performance.now();
      const labels = needsLabels(model) ? test.y : undefined;
      const elbo = datasetBound(model, test, 1, rng);
      const iw = iwLogLikelihood(importanceModel(model), test.x, test.dim, { k: o.iw, rng, ...(labels ? { labels } : {}) });
      // active units (thesis appendix A fig. 4a) for models that expose per-unit statistics
      const units = runActiveUnits(model, test, new Rng(o.seed));
      const cls = scoresClasses(model, data) ? classificationOf(model, data.test!) : null;
      const out = {
        dir,
        type: config.model.type,
        backend: info.backend,
        on,
        n: iw.n,
        [data.test ? 'testElbo' : 'trainElbo']: elbo,
        iw: { k: iw.k, mean: iw.mean, stderr: iw.stderr },
        ...(cls ? { testError: cls.error, testScored: cls.scored, confusion: cls.confusion, ...(classNames ? { classNames } : {}) } : {}),
        ...(units ? { activeUnits: { threshold: units.threshold, active: units.active, activeByVariance: units.activeByVariance, perLayer: units.layers.map((l) => ({ dim: l.dim, active: l.active, activeByVariance: l.activeByVariance })) } } : {}),
        seconds: (performance.now() - t0) / 1000,
      };
      if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
      else {
        log(`${dir} (${config.model.type}, ${on} rows): ELBO ${elbo.toFixed(2)}, log-likelihood (IW ${iw.k}, ${iw.n} rows) ${iw.mean.toFixed(2)} ± ${iw.stderr.toFixed(2)} nats [${out.seconds.toFixed(0)} s]`);
        if (!data.test) log('(the run has no test source: these numbers are on its training rows)');
        if (cls) log(`test error of q(y | x): ${(100 * cls.error).toFixed(2)}% on ${cls.scored} rows${cls.scored < data.test!.n ? ` (${data.test!.n - cls.scored} with an empty label not scored)` : ''}\n${formatConfusion(cls.confusion)}${classNames ? `\nclasses: ${classNames.map((c, k) => `${k} = '${c}'`).join(', ')}` : ''}`);
        if (units) log(`active units (mean KL > ${units.threshold} nats): ${units.layers.map((l, i) => `z${i + 1} ${l.active}/${l.dim}`).join(', ')}; by Cov_x(E_q[u]) > ${units.threshold}: ${units.layers.map((l, i) => `z${i + 1} ${l.activeByVariance}/${l.dim}`).join(', ')}`);
      }
      model.dispose();
    });
}
