/**
 * `report.html`: a report's Markdown as one self-contained HTML page, each chart drawn as an
 * interactive Vega view (tooltips; drag to pan, wheel to zoom, double-click to reset). The Vega
 * runtime is inlined from the installed `vega` package and pictures are embedded as data URLs, so
 * the page opens offline and fetches nothing.
 *
 * A chart is recognised by its spec beside it: a Markdown image `NAME.png` or `NAME.svg` with
 * `NAME.vl.json` in the report's directory (what the chart writers of `chart.ts` leave). Charts of
 * the directory that the Markdown does not show are added at the end.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { writeFileAtomic } from './files.js';
import { compileChart } from './render.js';
import type { ChartSpec } from '../report/chart.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Inline Markdown: code spans, images, links, bold and italics (HTML in the text is escaped). */
function inline(text: string, image: (alt: string, src: string) => string): string {
  const parts = text.split(/(`[^`]*`)/);
  return parts
    .map((p) => {
      if (p.startsWith('`') && p.endsWith('`') && p.length >= 2) return `<code>${esc(p.slice(1, -1))}</code>`;
      const stash: string[] = [];
      let s = p.replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (_, alt: string, src: string) => {
        stash.push(image(alt, src));
        return `\uE000${stash.length - 1}\uE001`;
      });
      s = esc(s)
        .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, t: string, href: string) => `<a href="${href}">${t}</a>`)
        .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
        .replace(/(^|[\s(])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>');
      return s.replace(/\uE000(\d+)\uE001/g, (_, i: string) => stash[Number(i)]);
    })
    .join('');
}

/** The cells of a table row: split at `|`, except escaped ones and those inside code spans or parentheses (`q(y | x)`). */
function cells(line: string): string[] {
  const t = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  let code = false;
  for (let i = 0; i < t.length; i++) {
    const ch = t[i];
    if (ch === '\\' && t[i + 1] === '|') {
      cur += '|';
      i++;
      continue;
    }
    if (ch === '`') code = !code;
    else if (!code && ch === '(') depth++;
    else if (!code && ch === ')') depth = Math.max(0, depth - 1);
    if (ch === '|' && !code && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/**
 * The HTML body of a Markdown text: headings, paragraphs, lists, fenced code, tables and inline
 * markup. `image(alt, src)` gives the HTML of each image (a chart view, an embedded picture).
 */
export function markdownToHtml(md: string, image: (alt: string, src: string) => string = (alt, src) => `<img alt="${esc(alt)}" src="${esc(src)}">`): string {
  const lines = md.replace(/\r\n/g, '\n').split('\n');
  const out: string[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push(`<p>${inline(para.join(' '), image)}</p>`);
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^```/.test(line)) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !/^```/.test(lines[i]); i++) code.push(lines[i]);
      out.push(`<pre><code>${esc(code.join('\n'))}</code></pre>`);
      continue;
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) {
      flush();
      out.push(`<h${h[1].length}>${inline(h[2], image)}</h${h[1].length}>`);
      continue;
    }
    if (/^\s*\|.*\|\s*$/.test(line) && i + 1 < lines.length && /^\s*\|?\s*:?-{2,}/.test(lines[i + 1])) {
      flush();
      const head = cells(line);
      const align = cells(lines[i + 1]).map((c) => (c.endsWith(':') ? (c.startsWith(':') ? 'center' : 'right') : 'left'));
      const rows: string[] = [];
      for (i += 2; i < lines.length && /^\s*\|/.test(lines[i]); i++) rows.push(`<tr>${cells(lines[i]).map((c, j) => `<td style="text-align:${align[j] ?? 'left'}">${inline(c, image)}</td>`).join('')}</tr>`);
      i--;
      out.push(`<table><thead><tr>${head.map((c, j) => `<th style="text-align:${align[j] ?? 'left'}">${inline(c, image)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`);
      continue;
    }
    if (/^\s*[-*]\s+/.test(line)) {
      flush();
      const items: string[] = [];
      for (; i < lines.length && /^\s*[-*]\s+/.test(lines[i]); i++) {
        let item = lines[i].replace(/^\s*[-*]\s+/, '');
        while (i + 1 < lines.length && /^\s{2,}\S/.test(lines[i + 1]) && !/^\s*[-*]\s+/.test(lines[i + 1])) item += ' ' + lines[++i].trim();
        items.push(`<li>${inline(item, image)}</li>`);
      }
      i--;
      out.push(`<ul>${items.join('')}</ul>`);
      continue;
    }
    if (line.trim() === '') flush();
    else para.push(line.trim());
  }
  flush();
  return out.join('\n');
}

let runtime: string | undefined;

/** The Vega runtime (`vega.min.js` of the installed package), for inlining. */
export function vegaRuntime(): string {
  if (runtime) return runtime;
  const req = createRequire(import.meta.url);
  // The package exports only its ES module (build/vega.module.js); the browser build lies beside it.
  const file = path.join(path.dirname(req.resolve('vega')), 'vega.min.js');
  return (runtime = readFileSync(file, 'utf8'));
}

const MIME: Record<string, string> = { '.png': 'image/png', '.svg': 'image/svg+xml', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif' };

const STYLE = `body{font-family:"DejaVu Sans",system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.25em .6em}th{background:#f3f3f3}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto}code{font-family:"DejaVu Sans Mono",monospace;font-size:90%}
img{max-width:100%}.chart{margin:1em 0}.chart-note{color:#666;font-size:85%}
#tip{position:fixed;display:none;background:#fff;border:1px solid #999;padding:.3em .5em;font-size:12px;white-space:pre;pointer-events:none;box-shadow:1px 1px 4px #0003}`;

/** Page script: one Vega view per chart (SVG renderer) and a small tooltip box. */
const SCRIPT = `(function(){
var tip=document.getElementById('tip');
function fmt(v){return typeof v==='number'?(Math.abs(v)>=1e5||(v!==0&&Math.abs(v)<1e-3)?v.toExponential(3):String(+v.toPrecision(5))):String(v);}
function tooltip(handler,event,item,value){
  if(value==null||value===''){tip.style.display='none';return;}
  tip.textContent=typeof value==='object'?Object.keys(value).map(function(k){return k+': '+fmt(value[k]);}).join('\\n'):fmt(value);
  tip.style.left=(event.clientX+12)+'px';tip.style.top=(event.clientY+12)+'px';tip.style.display='block';
}
document.querySelectorAll('script[type="application/vega+json"]').forEach(function(s){
  var el=document.getElementById(s.dataset.target);
  try{
    var view=new vega.View(vega.parse(JSON.parse(s.textContent)),{renderer:'svg',container:el,hover:true,tooltip:tooltip});
    view.runAsync().catch(function(e){el.textContent='chart failed: '+e.message;console.error(e);});
  }catch(e){el.textContent='chart failed: '+e.message;console.error(e);}
});
})();`;

/** Options of {@link writeHtmlReport}. */
export interface HtmlReportOptions {
  /** The page title (default: the Markdown's first heading, else 'untapped report'). */
  title?: string;
  /** File name inside the directory (default 'report.html'). */
  file?: string;
}

/**
 * Writes `report.html` into `dir` from the Markdown text `md` (whose image links are relative to
 * `dir`), see the module comment. Returns the file written.
 */
export function writeHtmlReport(dir: string, md: string, opts: HtmlReportOptions = {}): string {
  const specs: { id: string; spec: object }[] = [];
  const shown = new Set<string>();
  const chartView = (stem: string, alt: string): string | undefined => {
    const specFile = path.join(dir, `${stem}.vl.json`);
    if (!existsSync(specFile)) return undefined;
    let vg: object;
    try {
      vg = compileChart(JSON.parse(readFileSync(specFile, 'utf8')) as ChartSpec);
    } catch {
      return undefined;
    }
    const id = `chart-${specs.length}`;
    specs.push({ id, spec: vg });
    shown.add(path.normalize(stem));
    return `<figure class="chart"><div id="${id}" role="img" aria-label="${esc(alt)}"></div><figcaption class="chart-note">${esc(alt)} · <a href="${esc(stem)}.svg">SVG</a> · <a href="${esc(stem)}.png">PNG</a></figcaption></figure>`;
  };
  const image = (alt: string, src: string): string => {
    if (/^[a-z]+:/i.test(src)) return `<img alt="${esc(alt)}" src="${esc(src)}">`;
    const ext = path.extname(src).toLowerCase();
    const stem = src.slice(0, src.length - ext.length);
    if (ext === '.png' || ext === '.svg') {
      const view = chartView(stem, alt);
      if (view) return view;
    }
    const file = path.join(dir, src);
    if (MIME[ext] && existsSync(file)) return `<img alt="${esc(alt)}" src="data:${MIME[ext]};base64,${readFileSync(file).toString('base64')}">`;
    return `<img alt="${esc(alt)}" src="${esc(src)}">`;
  };
  let body = markdownToHtml(md, image);
  const rest = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.vl.json'))
        .map((f) => f.slice(0, -'.vl.json'.length))
        .filter((stem) => !shown.has(path.normalize(stem)))
        .sort()
    : [];
  if (rest.length) body += `\n<h2>Charts</h2>\n${rest.map((s) => chartView(s, s) ?? '').join('\n')}`;
  const title = opts.title ?? /^#\s+(.*)$/m.exec(md)?.[1] ?? 'untapped report';
  const data = specs.map((s) => `<script type="application/vega+json" data-target="${s.id}">${JSON.stringify(s.spec).replace(/</g, '\\u003c')}</script>`).join('\n');
  const vegaJs = specs.length ? `<script>${vegaRuntime().replace(/<\/script/gi, '<\\/script')}</script>\n<script>${SCRIPT}</script>` : '';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline' 'unsafe-eval'">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
${body}
<div id="tip"></div>
${data}
${vegaJs}
</body></html>
`;
  const file = path.join(dir, opts.file ?? 'report.html');
  writeFileAtomic(file, html);
  return file;
}

/**
 * `md` for Markdown viewers: every image link to a chart's PNG (`NAME.png` with `NAME.vl.json`
 * beside it) points to its SVG instead, and a "Charts" section links the SVG of every chart in
 * `dir` (`NAME.vl.json` beside `NAME.svg`) that it does not show yet.
 */
export function linkChartSvgs(dir: string, md: string): string {
  if (!existsSync(dir)) return md;
  const isChart = (stem: string) => !/^[a-z]+:/i.test(stem) && existsSync(path.join(dir, `${stem}.vl.json`)) && existsSync(path.join(dir, `${stem}.svg`));
  let out = md.replace(/(!\[[^\]]*\]\()([^)\s]+)\.png\)/g, (m, head: string, stem: string) => (isChart(stem) ? `${head}${stem}.svg)` : m));
  const stems = readdirSync(dir)
    .filter((f) => f.endsWith('.vl.json'))
    .map((f) => f.slice(0, -'.vl.json'.length))
    .filter(isChart)
    .sort();
  const missing = stems.filter((s) => !out.includes(`(${s}.svg)`));
  if (missing.length) out = `${out.replace(/\s*$/, '')}\n\n## Charts\n\n${missing.map((s) => `![${s}](${s}.svg)`).join('\n\n')}\n`;
  return out;
}
