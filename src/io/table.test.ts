import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkSameWidth, checkSimplexTable, formatCsv, parseCsv, parseJsonTable, parseNpy } from './table.js';
import { readTable } from '../node/data.js';

/** Builds an NPY v1 buffer for a 2-D float64 or int32 array (written here for the test). */
function npy(values: number[], shape: number[], descr: '<f8' | '<i4' | '>f4', fortran = false): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(header.length, 8);
  const size = descr === '<f8' ? 8 : 4;
  const body = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    if (descr === '<f8') body.writeDoubleLE(v, i * 8);
    else if (descr === '<i4') body.writeInt32LE(v, i * 4);
    else body.writeFloatBE(v, i * 4);
  });
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

test('CSV with an id column: values, ids, columns and line numbers', () => {
  const t = parseCsv('# comment\nid,a,b\ns1,1,2.5\n\n"s,2",-3,4e-1\n', 'f.csv');
  assert.deepEqual(t.columns, ['a', 'b']);
  assert.deepEqual(t.ids, ['s1', 's,2']);
  assert.deepEqual(Array.from(t.data), [1, 2.5, -3, Math.fround(0.4)]);
  assert.deepEqual(t.lines, [3, 5]);
  assert.equal(t.n, 2);
  assert.equal(t.width, 2);
});

test('CSV without an id column, tab separated', () => {
  const t = parseCsv('x\ty\n1\t2\n3\t4\n', 'f.tsv');
  assert.equal(t.width, 2);
  assert.deepEqual(Array.from(t.data), [1, 2, 3, 4]);
});

test('CSV errors name the file, line and column', () => {
  assert.throws(() => parseCsv('', 'e.csv'), /e\.csv: the file is empty/);
  assert.throws(() => parseCsv('id,a\n', 'e.csv'), /e\.csv: .*no data rows/);
  assert.throws(() => parseCsv('1,2\n3,4\n', 'e.csv'), /e\.csv: line 1 looks like data/);
  assert.throws(() => parseCsv('id,a,b\ns1,1,2\ns2,1\n', 'e.csv'), /e\.csv: line 3 has 2 cells but the header has 3/);
  assert.throws(() => parseCsv('id,a,b\ns1,1,abc\n', 'e.csv'), /e\.csv: line 2, column 3 \('b'\) is 'abc', not a finite number/);
  // beyond float32 (the tables' storage) a value would become Infinity: refused where it is, with the value as written
  assert.throws(() => parseCsv('id,a,b\ns1,1,-1e39\n', 'e.csv'), /e\.csv: line 2, column 3 \('b'\) is '-1e39', beyond the range of 32-bit floats/);
  assert.equal(parseCsv('id,a,b\ns1,1,3e38\n', 'e.csv').data[1], Math.fround(3e38));
  assert.throws(() => parseCsv('id,a,b\ns1,,1\n', 'e.csv'), /line 2, column 2 \('a'\) is empty/);
  assert.throws(() => parseCsv('a,b\n1,Infinity\n', 'e.csv'), /not a finite number/);
});

test('JSON: bare rows and the object form; errors', () => {
  const a = parseJsonTable('[[1,2],[3,4]]', 'a.json');
  assert.deepEqual(Array.from(a.data), [1, 2, 3, 4]);
  const b = parseJsonTable('{"columns":["p","q"],"ids":["u","v"],"rows":[[1,2],[3,4]]}', 'b.json');
  assert.deepEqual(b.ids, ['u', 'v']);
  assert.deepEqual(b.columns, ['p', 'q']);
  assert.throws(() => parseJsonTable('[[1,2],[3]]', 'c.json'), /c\.json: row 1 has 1 values, expected 2/);
  assert.throws(() => parseJsonTable('[[1,"x"]]', 'c.json'), /c\.json: row 0, column 1 is "x"/);
  assert.throws(() => parseJsonTable('[]', 'c.json'), /c\.json: no rows/);
  assert.throws(() => parseJsonTable('{', 'c.json'), /c\.json: not valid JSON/);
});

test('NPY: float64, int32, big-endian float32 and Fortran order', () => {
  const f = parseNpy(npy([1, 2, 3, 4, 5, 6], [2, 3], '<f8'), 'a.npy');
  assert.equal(f.n, 2);
  assert.equal(f.width, 3);
  assert.deepEqual(Array.from(f.data), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(parseNpy(npy([7, -8], [2], '<i4'), 'b.npy').data), [7, -8]);
  assert.deepEqual(Array.from(parseNpy(npy([1.5, 2.5], [1, 2], '>f4'), 'c.npy').data), [1.5, 2.5]);
  // Fortran order stores columns first: [[1,2,3],[4,5,6]] is 1,4,2,5,3,6
  assert.deepEqual(Array.from(parseNpy(npy([1, 4, 2, 5, 3, 6], [2, 3], '<f8', true), 'd.npy').data), [1, 2, 3, 4, 5, 6]);
  assert.throws(() => parseNpy(Buffer.from('hello world'), 'e.npy'), /e\.npy: not an NPY file/);
  const trunc = npy([1, 2, 3, 4], [2, 2], '<f8').subarray(0, -8);
  assert.throws(() => parseNpy(trunc, 't.npy'), /t\.npy: truncated/);
  assert.throws(() => parseNpy(npy([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], '<f8'), 's.npy'), /1-D or 2-D/);
});

test('readTable picks the format by extension and names missing files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-table-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.csv'), 'id,v\nr,1\n');
    fs.writeFileSync(path.join(dir, 'a.npy'), npy([1, 2], [1, 2], '<f8'));
    assert.equal(readTable(path.join(dir, 'a.csv')).n, 1);
    assert.equal(readTable(path.join(dir, 'a.npy')).width, 2);
    assert.throws(() => readTable(path.join(dir, 'nope.csv')), /nope\.csv: no such file/);
    fs.writeFileSync(path.join(dir, 'a.xlsx'), '');
    assert.throws(() => readTable(path.join(dir, 'a.xlsx')), /unknown file type '\.xlsx'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('simplex and width checks name the row', () => {
  const ok = parseCsv('id,a,b,c\nr1,0.2,0.3,0.5\nr2,1,0,0\n', 'y.csv');
  checkSimplexTable(ok);
  assert.throws(() => checkSimplexTable(parseCsv('id,a,b\nr1,0.5,0.5\nr2,0.6,0.6\n', 'y.csv')), /y\.csv: line 3 \(id 'r2'\): the composition sums to 1\.2/);
  assert.throws(() => checkSimplexTable(parseCsv('id,a,b\nr1,1.1,-0.1\n', 'y.csv')), /y\.csv: line 2 \(id 'r1'\), column 'b' is -0\.1.*≥ 0/);
  assert.throws(() => checkSameWidth(ok, parseCsv('a,b\n1,2\n', 'u.csv'), 'channels'), /u\.csv: 2 channels per row, but y\.csv has 3/);
});

test('formatCsv round-trips through parseCsv', () => {
  const text = formatCsv(['a', 'b'], [[0.25, 1], [3, -0.5]], ['x', 'y,z']);
  const t = parseCsv(text, 'r.csv');
  assert.deepEqual(t.ids, ['x', 'y,z']);
  assert.deepEqual(Array.from(t.data), [0.25, 1, 3, -0.5]);
});
