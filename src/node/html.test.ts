import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vega from 'vega';
import { imageGrid, writePng } from './png.js';
import { lineChartPng, scatterPng } from './chart.js';
import { linkChartSvgs, markdownToHtml, writeHtmlReport } from './html.js';

const tmp = mkdtempSync(join(tmpdir(), 'untapped-html-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** A report directory with two charts (one shown by the Markdown, one not) and a sample grid. */
function reportDir(): { dir: string; md: string } {
  const dir = join(tmp, `r${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  lineChartPng(join(dir, 'curve.png'), [{ name: 'ADGM', x: [1, 2, 3], y: [20, 8, 4] }], { title: 'test error', xLabel: 'epoch', yLabel: 'error %', hLines: [{ y: 0.96, label: 'paper 0.96%' }] });
  scatterPng(join(dir, 'latent.png'), Float32Array.from([0, 1, 2, 3]), [0, 1], { title: 'latent' });
  writePng(join(dir, 'samples.png'), imageGrid(new Float32Array(4 * 16).fill(0.5), 4, 4, 4));
  const md = ['# Half-moons <run>', '', 'Budget: 3 epochs, **10 s**; see `curve.json`.', '', '| model | error |', '|---|---:|', '| ADGM | 4.00% |', '', '- one', '- two', '', '```', 'a < b', '```', '', '![curve](curve.png)', '', '![samples](samples.png)', ''].join('\n');
  return { dir, md };
}

/** The compiled Vega specs embedded in a page. */
function embeddedSpecs(html: string): object[] {
  return [...html.matchAll(/<script type="application\/vega\+json"[^>]*>([\s\S]*?)<\/script>/g)].map((m) => JSON.parse(m[1]) as object);
}

test('markdownToHtml: headings, tables with alignment, lists, code, inline markup, escaping', () => {
  const html = markdownToHtml('# T <x>\n\n| a | b |\n|---|---:|\n| error of q(y | x) | `2` |\n\n- p **q**\n- r\n\n```\n<tag>\n```\n\ntext [link](u.md) *em*');
  assert.match(html, /<h1>T &lt;x&gt;<\/h1>/);
  assert.match(html, /<th style="text-align:right">b<\/th>/);
  assert.match(html, /<td style="text-align:left">error of q\(y \| x\)<\/td><td style="text-align:right"><code>2<\/code><\/td>/);
  assert.match(html, /<ul><li>p <strong>q<\/strong><\/li><li>r<\/li><\/ul>/);
  assert.match(html, /<pre><code>&lt;tag&gt;<\/code><\/pre>/);
  assert.match(html, /<a href="u.md">link<\/a> <em>em<\/em>/);
});

test('report.html: self-contained (Vega inlined, pictures embedded, nothing fetched), every chart an interactive view', async () => {
  const { dir, md } = reportDir();
  const file = writeHtmlReport(dir, md);
  const html = readFileSync(file, 'utf8');
  assert.match(html, /<title>Half-moons &lt;run&gt;<\/title>/);
  assert.match(html, /<td style="text-align:right">4.00%<\/td>/, 'the numbers');
  assert.match(html, /Budget: 3 epochs, <strong>10 s<\/strong>/, 'the budget');
  // Nothing refers to the network: no src/href with a scheme other than data:, a CSP forbidding requests.
  for (const m of html.matchAll(/\s(?:src|href)="([^"]*)"/g)) assert.ok(!/^(https?:)?\/\//.test(m[1]), `no remote reference (${m[1].slice(0, 60)})`);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.match(html, /<img alt="samples" src="data:image\/png;base64,/, 'the sample grid is embedded');
  assert.ok(html.includes('vega') && html.length > 300_000, 'the Vega runtime is inlined');
  // Both charts: the one the Markdown shows and the one it does not (under "Charts").
  const specs = embeddedSpecs(html);
  assert.equal(specs.length, 2);
  assert.match(html, /<h2>Charts<\/h2>/);
  // Each embedded (compiled) spec runs in Vega and draws its title and reference line.
  const svgs = await Promise.all(specs.map((s) => new vega.View(vega.parse(s as vega.Spec), { renderer: 'none' }).toSVG()));
  assert.ok(svgs[0].includes('paper 0.96%') && svgs[0].includes('test error'));
  assert.ok(svgs[1].includes('latent'));
  // Interactivity: zoom/pan bound to the scales, tooltips on the marks.
  assert.ok(JSON.stringify(specs[0]).includes('zoom'), 'zoom parameter');
  assert.ok(JSON.stringify(specs[0]).includes('tooltip'), 'tooltips');
});

test('linkChartSvgs: Markdown links the SVG of every chart, shown or not; pictures stay PNG', () => {
  const { dir, md } = reportDir();
  const out = linkChartSvgs(dir, md);
  assert.ok(out.includes('![latent](latent.svg)'));
  assert.equal(out.split('(curve.svg)').length, 2, 'the chart the report shows now links its SVG, once');
  assert.ok(!out.includes('curve.png') && out.includes('![samples](samples.png)'));
  assert.equal(linkChartSvgs(dir, out), out, 'idempotent');
  assert.ok(existsSync(join(dir, 'latent.svg')));
});

/** Debian's chromium, if installed (`UNTAPPED_CHROMIUM` overrides). */
function chromium(): string | undefined {
  if (process.env.UNTAPPED_CHROMIUM) return process.env.UNTAPPED_CHROMIUM;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      const p = execFileSync('which', [name], { encoding: 'utf8' }).trim();
      if (p) return p;
    } catch {
      // not installed under this name
    }
  }
  return undefined;
}

const browser = chromium();

test('report.html in headless Chromium: no console error, no request leaves the machine, charts drawn; screenshot kept', { skip: browser ? false : 'chromium is not installed (Debian: apt-get install chromium); the headless-browser check of report.html is skipped' }, async () => {
  const puppeteer = (await import('puppeteer-core')).default;
  const { dir, md } = reportDir();
  const file = writeHtmlReport(dir, md);
  const b = await puppeteer.launch({ executablePath: browser!, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await b.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith('file:') && !u.startsWith('data:')) requests.push(u);
      void (u.startsWith('file:') || u.startsWith('data:') ? r.continue() : r.abort());
    });
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    // (page functions as strings: this package is compiled without the DOM types)
    await page.waitForFunction("document.querySelectorAll('.chart svg').length === 2", { timeout: 20_000 });
    const texts = (await page.evaluate("[...document.querySelectorAll('.chart svg text')].map((t) => t.textContent || '')")) as string[];
    assert.ok(texts.includes('paper 0.96%'), 'the reference line label is drawn');
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
    const shot = process.env.UNTAPPED_ARTIFACTS ? join(process.env.UNTAPPED_ARTIFACTS, 'report-html.png') : join(dir, 'report-html.png');
    mkdirSync(join(shot, '..'), { recursive: true });
    writeFileSync(shot, await page.screenshot({ fullPage: true }));
    assert.ok(existsSync(shot));
  } finally {
    await b.close();
  }
});
