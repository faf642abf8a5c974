import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeUtp, decodeUtp, writeUtp, readUtp, FormatError } from './format.js';

const sample = () => ({
  kind: 'checkpoint',
  meta: { config: { a: 1 }, note: 'ü' },
  tensors: new Map([
    ['w', { shape: [2, 3], data: new Float32Array([1, 2, 3, -4, 5.5, Number.MIN_VALUE]) }],
    ['b', { shape: [3], data: new Float32Array([0, -0, 1e30]) }],
    ['empty', { shape: [0, 4], data: new Float32Array(0) }],
  ]),
});

test('round trip keeps names, shapes, values and metadata', () => {
  const c = decodeUtp(encodeUtp(sample()), 'mem');
  assert.equal(c.kind, 'checkpoint');
  assert.deepEqual(c.meta, { config: { a: 1 }, note: 'ü' });
  assert.deepEqual([...c.tensors.keys()], ['w', 'b', 'empty']);
  assert.deepEqual(c.tensors.get('w')!.shape, [2, 3]);
  assert.deepEqual(Array.from(c.tensors.get('w')!.data), Array.from(sample().tensors.get('w')!.data));
  assert.deepEqual(Array.from(c.tensors.get('b')!.data), [0, -0, 1e30].map((v) => Math.fround(v)));
});

test('damaged, truncated, foreign and future files are clear errors naming the file', () => {
  const buf = encodeUtp(sample());
  const flipped = Buffer.from(buf);
  flipped[flipped.length - 5] ^= 0xff;
  assert.throws(() => decodeUtp(flipped, 'f.utp'), (e: unknown) => e instanceof FormatError && /f\.utp: damaged: payload checksum/.test(e.message));
  assert.throws(() => decodeUtp(buf.subarray(0, buf.length - 4), 'f.utp'), /f\.utp: truncated or padded/);
  assert.throws(() => decodeUtp(buf.subarray(0, 20), 'f.utp'), /truncated/);
  assert.throws(() => decodeUtp(Buffer.from('PK\x03\x04 hello world, not ours'), 'z.utp'), /z\.utp: not an untapped file/);
  const future = Buffer.from(buf);
  future.writeUInt32LE(99, 8);
  assert.throws(() => decodeUtp(future, 'f.utp'), /format version 99 is not supported/);
  const badHeader = Buffer.from(buf);
  badHeader[17] = 0x7b; // corrupt JSON
  badHeader[16] = 0x7b;
  assert.throws(() => decodeUtp(badHeader, 'f.utp'), /damaged header/);
  assert.throws(() => readUtp('/nonexistent/x.utp'), /x\.utp: file not found/);
});

test('atomic write replaces the file whole and leaves no temporary behind', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'utp-'));
  const f = path.join(dir, 'm.utp');
  writeUtp(f, sample());
  const first = fs.readFileSync(f);
  const s2 = sample();
  s2.meta.note = 'second';
  writeUtp(f, s2);
  assert.equal(readUtp(f).meta.note, 'second');
  assert.notDeepEqual(fs.readFileSync(f), first);
  assert.deepEqual(fs.readdirSync(dir), ['m.utp']);
  fs.rmSync(dir, { recursive: true });
});
