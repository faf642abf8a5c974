import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { CHART_COLORS, heatmapSpec, lineChartSpec, scatterSpec, unitActivityCells, unitActivitySpec, UNIT_ACTIVITY_LOG10_FLOOR, widenRange, wrapTitle, type ChartSpec } from './index.js';
import { chartFontFiles, compileChart, fontAdvances, heatmapPng, lineChart, lineChartPng, scatter, scatterPng, unitActivityPng } from '../node/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'untapped-chart-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

type Enc = { scale?: { domain?: [number, number] }; axis?: { tickMinStep?: number; format?: string } };
/** The first layer's x and y encodings of a builder's spec. */
function enc(spec: ChartSpec): { x: Enc; y: Enc } {
  return (spec as unknown as { layer: { encoding: { x: Enc; y: Enc } }[] }).layer[0].encoding;
}

/** The text of every SVG `<text>` element inside groups of `role` (tspans joined by spaces). */
function svgTexts(svg: string, role?: string): string[] {
  const part = role ? svg.split(`role-${role}`).slice(1).join(' ') : svg;
  const out: string[] = [];
  for (const m of part.matchAll(/<text[^>]*>([\s\S]*?)<\/text>/g)) {
    const inner = m[1];
    const spans = [...inner.matchAll(/<tspan[^>]*>([\s\S]*?)<\/tspan>/g)].map((s) => s[1]);
    out.push((spans.length ? spans.join(' ') : inner).replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'"));
  }
  return out;
}

const hexRgb = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));

test('lineChartSpec: the axes cover every point and reference line; x spans the data exactly', () => {
  const spec = lineChartSpec(
    [
      { name: 'a', x: [1, 2, 3, 4], y: [5, -2, NaN, 7] },
      { name: 'b', x: [0.5, 9], y: [3, 4] },
    ],
    { hLines: [{ y: 12, label: 'paper' }] },
  );
  const { x, y } = enc(spec);
  assert.deepEqual(x.scale!.domain, [0.5, 9]);
  const [lo, hi] = y.scale!.domain!;
  assert.ok(lo <= -2 && hi >= 12, `y domain [${lo}, ${hi}] covers −2 … 12 (data and the reference line)`);
  assert.equal(x.axis!.tickMinStep, undefined, 'fractional x: no integer ticks forced');
  const fixed = enc(lineChartSpec([{ name: 'a', x: [0, 1], y: [0, 5] }], { yRange: [0, 1] })).y.scale!.domain;
  assert.deepEqual(fixed, [0, 1]);
});

test('lineChartSpec: a single-point curve gets an axis around it with integer epoch ticks, and the point is drawn', () => {
  const spec = lineChartSpec([{ name: 'loss', x: [3], y: [0.25] }], { xLabel: 'epoch' });
  const { x, y } = enc(spec);
  const [xl, xh] = x.scale!.domain!;
  assert.ok(xl < 3 && xh > 3 && xh - xl >= 2, `x domain [${xl}, ${xh}] has room around epoch 3`);
  assert.equal(x.axis!.tickMinStep, 1);
  assert.equal(x.axis!.format, 'd');
  const [yl, yh] = y.scale!.domain!;
  assert.ok(yl < 0.25 && yh > 0.25);
  assert.deepEqual(widenRange(0, 0), [-1, 1]);
  assert.deepEqual(widenRange(250, 250), [150, 350]);
  const img = lineChart([{ name: 'loss', x: [3], y: [0.25] }], { xLabel: 'epoch' });
  assert.match(img.svg, /role-point|role-symbol|mark-symbol/, 'the lone point is drawn as a symbol');
  const ticks = svgTexts(img.svg, 'axis-label').filter((t) => /^-?\d/.test(t));
  assert.ok(ticks.length >= 2 && ticks.every((t) => /^\d+$/.test(t) || t.includes('.')), `tick labels: ${ticks.join(' ')}`);
});

test('line chart: the SVG holds the full title and legend names; reference lines drawn and labelled; PNG decodes at its size', () => {
  const title = 'generated for y = pure SiO2 (Si lines: 251.6, 288.2, 390.6, 634.7 nm) and a second sentence that keeps going on';
  const names = ['training loss (−J of eq 15), a rather long series name', 'validation'];
  const series = names.map((name, k) => ({ name, x: [1, 2, 3, 4, 5], y: [5, 4, 3.5, 3.2, 3].map((v) => v + k) }));
  const file = join(tmp, 'sub', 'curve.png');
  const frame = lineChartPng(file, series, { title, xLabel: 'epoch', yLabel: 'loss', hLines: [{ y: 2.5, label: 'paper (table 2)' }] });
  const svg = readFileSync(join(tmp, 'sub', 'curve.svg'), 'utf8');
  assert.equal(svgTexts(svg, 'title').join(' '), title, 'title text nodes hold the whole title');
  const legend = svgTexts(svg, 'legend');
  for (const n of names) assert.ok(legend.includes(n), `legend holds '${n}' untruncated (has: ${legend.join(' | ')})`);
  assert.ok(svgTexts(svg).includes('paper (table 2)'), 'reference label');
  assert.match(svg, /stroke-dasharray="6,4"/, 'dashed reference line');
  const png = PNG.sync.read(readFileSync(file));
  assert.equal(png.width, 720);
  assert.equal(png.height, 450);
  assert.deepEqual([frame.width, frame.height], [720, 450]);
  assert.ok(existsSync(join(tmp, 'sub', 'curve.vl.json')));
  // Pixels of both series' colours are present (anti-aliasing aside, a 2-px stroke has full-colour pixels).
  for (let k = 0; k < 2; k++) {
    const [r, g, b] = hexRgb(CHART_COLORS[k]);
    let hits = 0;
    for (let i = 0; i < png.data.length; i += 4) if (Math.abs(png.data[i] - r) + Math.abs(png.data[i + 1] - g) + Math.abs(png.data[i + 2] - b) < 30) hits++;
    assert.ok(hits > 50, `series ${k} colour appears (${hits} pixels)`);
  }
  // Without reference lines there is no dashed rule.
  const plain = lineChart(series, { title: 'x' });
  assert.doesNotMatch(plain.svg, /stroke-dasharray="6,4"/);
  const big = lineChart(series, { width: 400, height: 300, scale: 2 });
  const bp = PNG.sync.read(big.png);
  assert.deepEqual([bp.width, bp.height], [800, 600]);
});

test('lineChartPng: bad input is a clear error', () => {
  const f = join(tmp, 'bad.png');
  const ok = { name: 'a', x: [0, 1], y: [0, 1] };
  assert.throws(() => lineChartPng(f, []), /lineChartPng: no series to draw/);
  assert.throws(() => lineChartPng(f, [ok, { name: 'b', x: [0, 1, 2], y: [0, 1] }]), /series 1 \('b'\) has 3 x values but 2 y values/);
  assert.throws(() => lineChartPng(f, [{ name: 'e', x: [], y: [] }]), /series 0 \('e'\) has no points/);
  assert.throws(() => lineChartPng(f, [{ name: 'n', x: [0, NaN], y: [0, 1] }]), /series 0 \('n'\) has x\[1\] = NaN/);
  assert.throws(() => lineChartPng(f, [{ name: 'n', x: [0, 1], y: [NaN, NaN] }]), /no finite y value/);
  assert.throws(() => lineChartPng(f, Array.from({ length: 11 }, () => ok)), /at most 10 series, got 11/);
  assert.throws(() => lineChartPng(f, [ok], { yRange: [1, 1] }), /yRange must be two finite numbers/);
  assert.throws(() => lineChartPng(f, [ok], { width: 50 }), /width must be an integer in 120\.\.10000 pixels, got 50/);
  assert.throws(() => lineChartPng(f, [ok], { hLines: [{ y: NaN, label: 'ref' }] }), /hLines\[0\] \('ref'\) has y = NaN/);
  assert.throws(() => lineChartPng('', [ok]), /lineChartPng: file must be a non-empty path/);
  assert.ok(!existsSync(f));
});

test('scatter: domains cover the points, legend of the classes present, the 1:1 line with equal axes', () => {
  const pts = Float32Array.from([0, 0, 1, 2, -3, 0.5, 4, 4]);
  const labels = [0, 2, 2, 0];
  const spec = scatterSpec(pts, labels, { classNames: ['zero', 'one', 'two'] });
  const { x, y } = enc(spec);
  assert.ok(x.scale!.domain![0] <= -3 && x.scale!.domain![1] >= 4);
  assert.ok(y.scale!.domain![0] <= 0 && y.scale!.domain![1] >= 4);
  const img = scatter(pts, labels, { classNames: ['zero', 'one', 'two'], title: 'latent' });
  const legend = svgTexts(img.svg, 'legend');
  assert.ok(legend.includes('zero') && legend.includes('two') && !legend.includes('one'), `legend: ${legend.join(', ')}`);
  const d = scatterSpec(pts, labels, { diagonal: true });
  assert.deepEqual(enc(d).x.scale!.domain, enc(d).y.scale!.domain);
  const file = join(tmp, 'pred.png');
  scatterPng(file, pts, labels, { diagonal: true, xLabel: 'true', yLabel: 'predicted' });
  assert.match(readFileSync(join(tmp, 'pred.svg'), 'utf8'), /stroke-dasharray="6,4"/, 'the 1:1 line');
  assert.equal(PNG.sync.read(readFileSync(file)).width, 720);
  assert.throws(() => scatterPng(file, new Float32Array(3), []), /n × 2 values/);
  assert.throws(() => scatterPng(file, pts, [0, 1, 2, 10]), /point 3 has label 10/);
  assert.throws(() => scatterPng(file, Float32Array.from([0, NaN]), [0]), /point 0 is \(0, NaN\)/);
});

test('heat map: every cell and value; names on the axes; ragged input refused', () => {
  const m = [
    [50, 2],
    [3, 40],
  ];
  const file = join(tmp, 'confusion.png');
  heatmapPng(file, m, { rowNames: ['cat', 'dog'], colNames: ['cat', 'dog'], xLabel: 'predicted', yLabel: 'true', title: 'confusion' });
  const svg = readFileSync(join(tmp, 'confusion.svg'), 'utf8');
  const texts = svgTexts(svg);
  for (const v of ['50', '2', '3', '40', 'cat', 'dog', 'predicted', 'true', 'confusion']) assert.ok(texts.includes(v), `'${v}' in the SVG`);
  assert.equal((svg.match(/<path[^>]*role-mark|class="mark-rect/g) ?? []).length >= 1, true);
  assert.throws(() => heatmapSpec([[1, 2], [3]]), /row 1 has 1 values, row 0 has 2/);
  assert.throws(() => heatmapSpec([[1]], { rowNames: ['a', 'b'] }), /2 row names for 1 rows/);
});

test('unit-activity heat map: one cell per (row, unit), log10 with the threshold as the colour break, counts in the row labels', () => {
  const rows = [
    { name: 'vae', layers: [[0.5, 0.01, 0.0100001, 1e-5, 0]] },
    { name: 'iwae-l2', layers: [[2, 3e-3], [0.04]] },
  ];
  const spec = unitActivitySpec(rows, { title: 'active units' });
  const cells = unitActivityCells(spec);
  assert.equal(cells.length, 8);
  const vae = cells.filter((c) => c.model === 'vae');
  assert.deepEqual(vae.map((c) => c.active), [true, false, true, false, false], 'active means strictly above 0.01');
  assert.deepEqual(vae.map((c) => c.log10 > -2), [true, false, true, false, false], 'the drawn value is above log10(0.01) exactly for the active units');
  assert.equal(vae[4].log10, UNIT_ACTIVITY_LOG10_FLOOR, 'a variance of 0 is drawn at the floor');
  assert.ok(Math.abs(vae[3].log10 + 5) < 1e-12);
  assert.deepEqual(cells.map((c) => c.unit), ['z1:1', 'z1:2', 'z1:3', 'z1:4', 'z1:5', 'z1:1', 'z1:2', 'z2:1'], 'layer:index when some row has two layers');
  assert.equal(vae[0].row, 'vae: 2 of 5 active');
  assert.equal(cells[7].row, 'iwae-l2: 2 of 3 active');
  assert.deepEqual(unitActivityCells(unitActivitySpec([{ name: 'a', layers: [[1, 2]] }])).map((c) => c.unit), ['1', '2']);
  // the colour scale breaks at the threshold: greys up to it, blues above
  const color = (spec as unknown as { layer: { encoding: { color: { scale: { domain: number[]; range: string[] } } } }[] }).layer[0].encoding.color.scale;
  assert.equal(color.domain.length, 4);
  assert.equal(color.domain[1], -2);
  assert.ok(color.domain[0] <= UNIT_ACTIVITY_LOG10_FLOOR && color.domain[2] > -2 && color.domain[2] - color.domain[1] < 1e-4 && color.domain[3] >= Math.log10(2));
  const file = join(tmp, 'active.png');
  const f = unitActivityPng(file, rows, { title: 'active units' });
  assert.ok(existsSync(f.files.svg) && existsSync(f.files.spec));
  const texts = svgTexts(readFileSync(f.files.svg, 'utf8'));
  for (const v of ['vae: 2 of 5 active', 'iwae-l2: 2 of 3 active', 'active units']) assert.ok(texts.includes(v), `'${v}' in the SVG: ${texts.join(' | ')}`);
  assert.ok(texts.some((t) => t.endsWith('active above −2 (0.01)')), 'the threshold in the legend title');
  assert.ok(texts.some((t) => /^[−-]2$/.test(t)), 'the threshold is a legend tick');
  assert.throws(() => unitActivitySpec([]), /no rows to draw/);
  assert.throws(() => unitActivitySpec([{ name: 'a', layers: [[1, NaN]] }]), /row 0 \('a'\), layer 1, unit 2 has activity NaN/);
  assert.throws(() => unitActivitySpec([{ name: 'a', layers: [[]] }]), /layer without units/);
  assert.throws(() => unitActivitySpec(rows, { threshold: 0 }), /threshold must be a finite number > 0/);
});

test('titles wrap at spaces without losing words; specs compile to Vega; font metrics are DejaVu Sans', () => {
  const t = 'a b c '.repeat(40).trim();
  const lines = wrapTitle(t, 300);
  assert.ok(lines.length > 1);
  assert.equal(lines.join(' '), t);
  const vg = compileChart(lineChartSpec([{ name: 'a', x: [0, 1], y: [1, 2] }])) as { marks?: unknown[] };
  assert.ok(Array.isArray(vg.marks) && vg.marks.length > 0);
  const adv = fontAdvances(readFileSync(chartFontFiles()[0]));
  assert.ok(adv('W'.codePointAt(0)!) > adv('i'.codePointAt(0)!));
  assert.ok(adv('0'.codePointAt(0)!) > 0.5 && adv('0'.codePointAt(0)!) < 0.7, 'DejaVu Sans digits are about 0.64 em');
});
