/**
 * The browser-safe boundary: no file of `src/` outside the Node side imports a `node:` module or
 * uses `process` (the core asks its host instead; see `engine/host.ts`). The Node side is
 * `src/node/`, `src/node.ts`, the programs `src/experiments/`, `src/cli/`, `src/bench/`, the test
 * support `src/testing/`, and the tests (`*.test.ts`). `npm run check` also compiles the main entry
 * without Node's types (`tsconfig.core.json`), which catches what this scan cannot (`Buffer`, …).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_SIDE = [/^node\//, /^node\.ts$/, /^experiments\//, /^cli\//, /^bench\//, /^testing\//, /\.test\.ts$/];

/** The source with comments removed (block comments, and line comments that start a line or follow a space). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
}

/** A line without its quoted strings ('…', "…"; the text of `…` templates, keeping their \${…} parts), so prose in messages is not code. */
function withoutStrings(line: string): string {
  return line
    .replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''")
    .replace(/`(?:[^`\\$]|\\.|\$(?!\{))*(\$\{|`)/g, (m, end: string) => (end === '`' ? '``' : '`${'))
    .replace(/\}(?:[^`\\$]|\\.|\$(?!\{))*`/g, '}`');
}

/** What a file does that the core must not: `node:` imports and uses of `process`, with line numbers. */
export function nodeUses(text: string): string[] {
  const out: string[] = [];
  code(text)
    .split('\n')
    .forEach((line, i) => {
      if (/(from\s*|import\s*\(?\s*|require\s*\(\s*)['"]node:/.test(line)) out.push(`line ${i + 1}: imports a node: module`);
      const c = withoutStrings(line);
      if (/\bprocess\s*(\.|\[|\?\.)/.test(c) || /\bprocess\b\s*[,;)]/.test(c)) out.push(`line ${i + 1}: uses process`);
    });
  return out;
}

/** The TypeScript sources: from dist/node/boundary.test.js, src is ../../src. */
function sourceRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
}

function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(path.join(dir, e.name), r));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(r);
  }
  return out;
}

test('the scan finds node: imports and process uses, and not in comments', () => {
  assert.deepEqual(nodeUses("import * as fs from 'node:fs';"), ['line 1: imports a node: module']);
  assert.deepEqual(nodeUses("const m = await import('node:os');"), ['line 1: imports a node: module']);
  assert.deepEqual(nodeUses('x\nconst v = process.env.X;'), ['line 2: uses process']);
  assert.deepEqual(nodeUses("const v = process?.env;"), ['line 1: uses process']);
  assert.deepEqual(nodeUses("const v = process['env'];"), ['line 1: uses process']);
  assert.deepEqual(nodeUses('/** reads `process.env` through the host */\n// import from node:fs\nconst a = 1;'), []);
  assert.deepEqual(nodeUses("import { Progress } from './progress.js'; // the process of training"), []);
  assert.deepEqual(nodeUses("throw new Error('held by another process, wait for the process.');"), []);
  assert.deepEqual(nodeUses('const m = `run by another process; ${n} files`;'), []);
  assert.deepEqual(nodeUses('const m = `threads: ${process.env.T}`;'), ['line 1: uses process']);
  assert.deepEqual(nodeUses('const p = process;'), ['line 1: uses process']);
});

test('no file of src/ outside the Node side imports a node: module or uses process', () => {
  const root = sourceRoot();
  assert.ok(fs.existsSync(path.join(root, 'index.ts')), `no sources at ${root}`);
  const files = walk(root).filter((f) => !NODE_SIDE.some((re) => re.test(f)));
  assert.ok(files.includes('index.ts') && files.includes('train/trainer.ts'), 'the scan sees the core');
  const bad = files.flatMap((f) => nodeUses(fs.readFileSync(path.join(root, f), 'utf8')).map((u) => `src/${f} ${u}`));
  assert.deepEqual(bad, [], `the core must stay browser-safe (move Node code to src/node/ and reach it through the host):\n${bad.join('\n')}`);
});
