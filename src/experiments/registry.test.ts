import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setupEngine } from '../testing/helpers.js';
import { experimentNames, getExperiment, runExperiment } from './specs/index.js';

await setupEngine();

test('registry: every experiment declares a name, paper, summary, report, and tiny options its schema accepts', () => {
  const names = experimentNames();
  assert.deepEqual(names, ['moons-adgm', 'mnist100-m2', 'mnist100-adgm', 'mnist100-sdgm', 'mnist100-m1m2', 'potential-avae', 'mnist-untapped', 'crism', 'libs', 'real-nir', 'vae-table', 'pv-monitoring', 'lvae-table', 'cagem']);
  for (const n of names) {
    const s = getExperiment(n);
    assert.equal(s.name, n);
    assert.ok(s.paper.length > 0 && s.summary.length > 0 && s.report.length > 0, n);
    assert.ok(s.options.safeParse(s.tiny).success, `${n}: tiny options`);
    assert.ok(s.options.safeParse({}).success, `${n}: the defaults alone are valid options`);
  }
  assert.throws(() => getExperiment('mnist1000-m9'), /unknown experiment 'mnist1000-m9'; available: moons-adgm, /);
});

// Every experiment, MNIST ones included, at its tiny budget: about 60 s in all on 2 cores (moons-adgm
// ~20 s: one epoch over its 10⁴ points for two models; each MNIST one under 10 s). UNTAPPED_TIMING=1
// prints the seconds per experiment.
for (const name of experimentNames()) {
  test(`registry: ${name} runs at its tiny budget and writes its report`, async () => {
    const spec = getExperiment(name);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), `untapped-exp-${name}-`));
    const t0 = performance.now();
    try {
      const r = await runExperiment(spec, spec.tiny, { out, log: () => {} });
      const report = path.join(out, spec.report);
      assert.ok(fs.existsSync(report) && fs.statSync(report).size > 0, `${name}: ${spec.report} written`);
      for (const f of r.files) assert.ok(fs.existsSync(f), `${name}: ${f} exists`);
      // every chart as PNG, SVG and spec; report.html beside the report
      assert.ok(r.files.includes(path.join(out, 'report.html')) && fs.existsSync(path.join(out, 'report.html')), `${name}: report.html written`);
      for (const spec of fs.readdirSync(out).filter((f) => f.endsWith('.vl.json'))) {
        const stem = spec.slice(0, -'.vl.json'.length);
        assert.ok(fs.existsSync(path.join(out, `${stem}.png`)) && fs.existsSync(path.join(out, `${stem}.svg`)), `${name}: ${stem}.png and .svg`);
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
      if (process.env.UNTAPPED_TIMING) process.stderr.write(`${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }
  });
}
