import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setupEngine } from '../testing/helpers.js';
import { loadSources } from '../node/data.js';
import { baseColumns, timeSegments, windowColumns, windowEnds, windowInputs } from './window.js';

await setupEngine();

test('windowColumns / baseColumns: oldest copy first, the newest keeps the name', () => {
  assert.deepEqual(windowColumns(['I', 'V'], 3), ['I@-2', 'V@-2', 'I@-1', 'V@-1', 'I', 'V']);
  assert.deepEqual(baseColumns(windowColumns(['I', 'V'], 3), 3), ['I', 'V']);
});

test('timeSegments: a step over 10 typical steps starts a segment; windowEnds and windowInputs against an explicit loop', () => {
  const min = (m: number) => new Date(Date.UTC(2017, 0, 9, 8, m)).toISOString();
  const ids = [min(0), min(1), min(2), min(3), min(200), min(201), min(202), min(203), min(204)];
  const seg = timeSegments({ ids, idColumn: 'timestamp', n: ids.length });
  assert.deepEqual(Array.from(seg), [0, 0, 0, 0, 1, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(timeSegments({ ids, idColumn: 'id', n: ids.length })), new Array(9).fill(0));
  const ends = windowEnds(seg, 3);
  assert.deepEqual(Array.from(ends), [2, 3, 6, 7, 8]);
  const D = 2;
  const x = Float32Array.from({ length: 9 * D }, (_, i) => i);
  const got = windowInputs(x, D, 3, ends);
  const want: number[] = [];
  for (const i of ends) for (let r = i - 2; r <= i; r++) for (let d = 0; d < D; d++) want.push(x[r * D + d]);
  assert.deepEqual(Array.from(got), want);
});

test('sources.window: each row is its last w rows, labelled by its own label; nights are not bridged', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-window-'));
  try {
    const min = (m: number) => new Date(Date.UTC(2017, 0, 9, 8, m)).toISOString();
    const times = [0, 1, 2, 3, 4, 300, 301, 302];
    const lines = ['timestamp,a,b,condition', ...times.map((m, i) => `${min(m)},${i},${10 * i},${i % 2 ? 'x' : 'y'}`)];
    const f = path.join(dir, 't.csv');
    fs.writeFileSync(f, lines.join('\n') + '\n');
    const s = loadSources({ labelled: { x: f, labelColumn: 'condition' }, window: 2 }, dir, 0);
    // windows end at rows 1–4 (first stretch) and 6–7 (after the gap): 6 rows of 4 values
    assert.deepEqual(s.columns, ['a@-1', 'b@-1', 'a', 'b']);
    assert.equal(s.labelled!.n, 6);
    assert.deepEqual(Array.from(s.labelled!.x.subarray(0, 4)), [0, 0, 1, 10]);
    assert.deepEqual(Array.from(s.labelled!.x.subarray(16, 20)), [5, 50, 6, 60]);
    // the label of a window is its last row's: rows 1, 2, 3, 4, 6, 7 → x, y, x, y, y, x (names sorted: x = 0, y = 1)
    assert.deepEqual(Array.from(s.labelled!.y), [0, 1, 0, 1, 1, 0]);
    assert.throws(() => loadSources({ labelled: { x: f, labelColumn: 'condition' }, window: 9 }, dir, 0), /no stretch of 9 consecutive rows/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
