import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { CHART_COLORS, type ChartFrame, formatTicks, lineChart, lineChartPng, niceTicks, scatter, scatterPng } from './index.js';
import { GLYPH_H, GLYPH_W, glyph, glyphDrop, hasGlyph, textWidth } from './font.js';

const tmp = mkdtempSync(join(tmpdir(), 'untapped-chart-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

type Px = [number, number, number];

function rgb(png: PNG, x: number, y: number): Px {
  const o = 4 * (y * png.width + x);
  assert.equal(png.data[o + 3], 255, `pixel (${x}, ${y}) is opaque`);
  return [png.data[o], png.data[o + 1], png.data[o + 2]];
}

function count(png: PNG, c: readonly number[], region: (x: number, y: number) => boolean): number {
  let k = 0;
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      if (!region(x, y)) continue;
      const o = 4 * (y * png.width + x);
      if (png.data[o] === c[0] && png.data[o + 1] === c[1] && png.data[o + 2] === c[2]) k++;
    }
  }
  return k;
}

const WHITE: Px = [255, 255, 255];
const inPlot = (f: ChartFrame) => (x: number, y: number) => x >= f.plot.left && x <= f.plot.right && y >= f.plot.top && y <= f.plot.bottom;

test('lineChartPng: decodes at the requested size; lines in series colours; background elsewhere; legend', () => {
  const file = join(tmp, 'sub', 'curves.png');
  const xs = [0, 2, 4, 6, 8, 10];
  const frame = lineChartPng(
    file,
    [
      { name: 'flat', x: xs, y: xs.map(() => 2.5) },
      { name: 'rising', x: xs, y: xs.map((v) => v) },
    ],
    { title: 'Test chart', xLabel: 'epoch', yLabel: 'loss', width: 400, height: 300, yRange: [0, 10] },
  );
  const png = PNG.sync.read(readFileSync(file));
  assert.equal(png.width, 400);
  assert.equal(png.height, 300);
  assert.equal(frame.width, 400);
  assert.deepEqual(frame.yRange, [0, 10]);
  assert.deepEqual(frame.xRange, [0, 10]);
  assert.deepEqual(readdirSync(join(tmp, 'sub')), ['curves.png'], 'no temporary file left');
  // On the lines.
  assert.deepEqual(rgb(png, ...frame.px(5, 2.5)), [...CHART_COLORS[0]]);
  assert.deepEqual(rgb(png, ...frame.px(3, 2.5)), [...CHART_COLORS[0]]);
  assert.deepEqual(rgb(png, ...frame.px(7, 7)), [...CHART_COLORS[1]]);
  // Far from both lines (and from grid lines): background.
  assert.deepEqual(rgb(png, ...frame.px(1.3, 8.7)), WHITE);
  assert.deepEqual(rgb(png, ...frame.px(8.7, 5.3)), WHITE);
  assert.deepEqual(rgb(png, 0, 0), WHITE);
  assert.deepEqual(rgb(png, 399, 299), WHITE);
  // The flat line is a horizontal band: two pixels thick, not more.
  const [cx, cy] = frame.px(4.5, 2.5);
  const thick = [-2, -1, 0, 1, 2].filter((d) => rgb(png, cx, cy + d).join() === CHART_COLORS[0].join()).length;
  assert.equal(thick, 2);
  // The legend (right of the plot area) shows both colours; the title and labels are drawn in black.
  const legend = (x: number) => x > frame.plot.right + 2;
  assert.ok(count(png, CHART_COLORS[0], legend) >= 16);
  assert.ok(count(png, CHART_COLORS[1], legend) >= 16);
  assert.ok(count(png, [0, 0, 0], (_x, y) => y < frame.plot.top - 2) > 20, 'title');
  assert.ok(count(png, [0, 0, 0], (x) => x < 20) > 10, 'vertical y label');
  assert.ok(count(png, [0, 0, 0], (_x, y) => y > frame.plot.bottom + 8) > 20, 'tick labels and x label');
  // Axes: the column just left of the plot area is black all the way down.
  for (let y = frame.plot.top; y <= frame.plot.bottom; y++) assert.deepEqual(rgb(png, frame.plot.left - 1, y), [0, 0, 0]);
});

test('lineChart: NaN leaves a gap, hLines are dashed and widen the auto range, lines are clipped to yRange', () => {
  const xs = [0, 1, 2, 3, 4];
  const { png: buf, frame } = lineChart(
    [{ name: 'gappy', x: xs, y: [1, 2, NaN, 2, 1] }],
    { hLines: [{ y: 9.7, label: 'paper' }], width: 300, height: 200 },
  );
  const png = PNG.sync.read(buf);
  assert.ok(frame.yRange[0] < 1 && frame.yRange[1] > 9.7, `auto range ${frame.yRange} covers data and the reference line`);
  assert.deepEqual(rgb(png, ...frame.px(0.5, 1.5)), [...CHART_COLORS[0]]);
  assert.notDeepEqual(rgb(png, ...frame.px(2, 2)), [...CHART_COLORS[0]], 'no line through the NaN');
  const [, hy] = frame.px(0, 9.7);
  const ref = [70, 70, 70];
  assert.deepEqual(rgb(png, frame.plot.left + 1, hy), ref);
  assert.deepEqual(rgb(png, frame.plot.left + 6, hy), WHITE, 'dashed: a gap');
  assert.ok(count(png, ref, (_x, y) => y !== hy && Math.abs(y - hy) < 12) > 10, 'its label next to it');

  // Huge values with a fixed range: nothing of the series' colour outside the plot area (except the legend).
  const wild = lineChart([{ name: 'wild', x: [0, 1, 2, 3], y: [0, 1e30, -1e30, 0.5] }], { yRange: [0, 1], width: 300, height: 200 });
  const w = PNG.sync.read(wild.png);
  const f = wild.frame;
  const outside = (x: number, y: number) => !inPlot(f)(x, y) && x <= f.plot.right;
  assert.equal(count(w, CHART_COLORS[0], outside), 0);
  assert.ok(count(w, CHART_COLORS[0], inPlot(f)) > 50, 'steep segments are drawn, clipped');
  // A single point still shows.
  const dot = lineChart([{ name: 'one', x: [3], y: [7] }], { width: 200, height: 150 });
  assert.deepEqual(rgb(PNG.sync.read(dot.png), ...dot.frame.px(3, 7)), [...CHART_COLORS[0]]);
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
  assert.throws(() => lineChartPng(f, [ok], { yRange: [1, 1] }), /yRange must be two finite numbers \[lo, hi\] with lo < hi, got \[1, 1\]/);
  assert.throws(() => lineChartPng(f, [ok], { width: 50 }), /width must be an integer in 120\.\.10000 pixels, got 50/);
  assert.throws(() => lineChartPng(f, [ok], { height: 100.5 }), /height must be an integer/);
  assert.throws(() => lineChartPng(f, [{ ...ok, name: 'x'.repeat(30) }], { width: 150, height: 150 }), /leaves a plot area of only/);
  assert.throws(() => lineChartPng(f, [ok], { hLines: [{ y: NaN, label: 'ref' }] }), /hLines\[0\] \('ref'\) has y = NaN/);
  assert.throws(() => lineChartPng('', [ok]), /lineChartPng: file must be a non-empty path/);
  assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('bad')), [], 'nothing written on error');
});

test('scatterPng: points in class colours, background elsewhere, legend of the classes present', () => {
  const file = join(tmp, 'scatter.png');
  // Class 0 at the left, class 3 at the right.
  const pts = Float32Array.from([0, 0, 0, 1, 10, 0, 10, 1]);
  const labels = [0, 0, 3, 3];
  const frame = scatterPng(file, pts, labels, { width: 320, height: 240, title: 'classes', classNames: ['zero', 'one', 'two', 'three'] });
  const png = PNG.sync.read(readFileSync(file));
  assert.equal(png.width, 320);
  assert.equal(png.height, 240);
  assert.deepEqual(rgb(png, ...frame.px(0, 0)), [...CHART_COLORS[0]]);
  assert.deepEqual(rgb(png, ...frame.px(10, 1)), [...CHART_COLORS[3]]);
  assert.deepEqual(rgb(png, ...frame.px(5.3, 0.37)), WHITE, 'between the clusters');
  assert.ok(frame.xRange[0] < 0 && frame.xRange[1] > 10, 'range padded around the points');
  const legend = (x: number) => x > frame.plot.right + 2;
  assert.ok(count(png, CHART_COLORS[0], legend) > 0);
  assert.ok(count(png, CHART_COLORS[3], legend) > 0);
  assert.equal(count(png, CHART_COLORS[1], () => true), 0, 'absent classes are not in the legend');
  // The in-memory renderer gives the same picture.
  assert.deepEqual(PNG.sync.read(scatter(pts, labels, { width: 320, height: 240, title: 'classes', classNames: ['zero', 'one', 'two', 'three'] }).png).data, png.data);
});

test('scatterPng: bad input is a clear error', () => {
  const f = join(tmp, 'bad-scatter.png');
  assert.throws(() => scatterPng(f, Float32Array.from([1, 2, 3]), [0]), /scatterPng: points must hold n × 2 values, got 3/);
  assert.throws(() => scatterPng(f, new Float32Array(0), []), /no points to draw/);
  assert.throws(() => scatterPng(f, Float32Array.from([1, 2, 3, 4]), [0]), /2 points but 1 labels/);
  assert.throws(() => scatterPng(f, Float32Array.from([1, 2, 3, 4]), [0, 10]), /point 1 has label 10; labels must be integers in 0\.\.9/);
  assert.throws(() => scatterPng(f, Float32Array.from([1, 2, 3, Infinity]), [0, 1]), /point 1 is \(3, Infinity\)/);
  assert.throws(() => scatterPng(f, Float32Array.from([1, 2]), [0], { pointRadius: -1 }), /pointRadius must be an integer in 0\.\.20/);
});

test('niceTicks and formatTicks: 1-2-5 steps inside the range, readable labels', () => {
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(formatTicks(niceTicks(0, 10, 5)), ['0', '2', '4', '6', '8', '10']);
  assert.deepEqual(formatTicks(niceTicks(-0.31, 0.31, 6)), ['-0.3', '-0.2', '-0.1', '0.0', '0.1', '0.2', '0.3']);
  assert.deepEqual(formatTicks(niceTicks(-142, -84, 6)), ['-140', '-130', '-120', '-110', '-100', '-90']);
  assert.deepEqual(formatTicks([0, 1e-5, 2e-5]), ['0', '1e-5', '2e-5']);
  assert.deepEqual(formatTicks([0, 5e6, 1e7]), ['0', '5e6', '1e7']);
  for (const [lo, hi] of [
    [0.001, 0.0013],
    [-5, 1e4],
    [3, 3.5],
  ]) {
    const t = niceTicks(lo, hi, 6);
    assert.ok(t.length >= 2 && t.length <= 13, `${lo}..${hi}: ${t}`);
    assert.ok(t.every((v) => v >= lo - 1e-12 && v <= hi + 1e-12), `${lo}..${hi}: ${t}`);
    assert.equal(new Set(formatTicks(t)).size, t.length, `distinct labels for ${t}`);
  }
});

test('font: every printable ASCII character has a 5×7 glyph; unknown characters are a box', () => {
  for (let c = 32; c < 127; c++) {
    const ch = String.fromCharCode(c);
    assert.ok(hasGlyph(ch), `missing glyph for '${ch}'`);
    assert.equal(glyph(ch).length, GLYPH_W * GLYPH_H);
    if (ch !== ' ') assert.ok(glyph(ch).some((v) => v === 1), `glyph '${ch}' is blank`);
  }
  assert.ok(!hasGlyph('✓'));
  assert.equal(glyph('✓').reduce((a, b) => a + b, 0), 2 * GLYPH_W + 2 * (GLYPH_H - 2), 'hollow box');
  // Distinct shapes for the characters that are easy to confuse.
  for (const [a, b] of ['0O', '1l', '1I', '5S', '8B', 'pP', 'g9', '-_']) assert.notDeepEqual(glyph(a), glyph(b), `${a} vs ${b}`);
  assert.equal(glyphDrop('p'), 2);
  assert.equal(glyphDrop('P'), 0);
  assert.equal(textWidth(''), 0);
  assert.equal(textWidth('ab'), 11);
  assert.equal(textWidth('ab', 3), 33);
});
