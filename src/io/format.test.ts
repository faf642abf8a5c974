import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mock } from 'node:test';
import fsCjs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { encodeUtp, decodeUtp, FormatError, UTP_VERSION } from './format.js';
import { writeUtp, readUtp, writeFileAtomic, removeStaleTemps, pidAlive, FileWriteError } from '../node/files.js';

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

test('the checksum is SHA-256 as node:crypto computes it (files written before the pure SHA-256 still load)', () => {
  const buf = Buffer.from(encodeUtp(sample()));
  const want = createHash('sha256').update(buf.subarray(0, 16)).update(buf.subarray(48)).digest();
  assert.deepEqual(buf.subarray(16, 48), want);
  // a file whose checksum node:crypto wrote (as every earlier untapped did) decodes
  const again = Buffer.from(buf);
  again.fill(0, 16, 48);
  createHash('sha256').update(again.subarray(0, 16)).update(again.subarray(48)).digest().copy(again, 16);
  assert.deepEqual(decodeUtp(again, 'old.utp').tensors.get('w')!.data, sample().tensors.get('w')!.data);
});

test('damaged, truncated, foreign and future files are clear errors naming the file', () => {
  const buf = encodeUtp(sample());
  const flipped = Buffer.from(buf);
  flipped[flipped.length - 5] ^= 0xff;
  assert.throws(() => decodeUtp(flipped, 'f.utp'), (e: unknown) => e instanceof FormatError && /f\.utp: (damaged: checksum|truncated)/.test(e.message));
  assert.throws(() => decodeUtp(buf.subarray(0, buf.length - 4), 'f.utp'), /f\.utp: truncated or padded/);
  assert.throws(() => decodeUtp(buf.subarray(0, 20), 'f.utp'), /truncated/);
  assert.throws(() => decodeUtp(Buffer.from('PK\x03\x04 hello world, not ours'), 'z.utp'), /z\.utp: not an untapped file/);
  const future = Buffer.from(buf);
  future.writeUInt32LE(99, 8);
  assert.throws(() => decodeUtp(future, 'f.utp'), /format version 99 is not supported/);
  const badHeader = Buffer.from(buf);
  badHeader[49] = 0x7b; // corrupt JSON
  badHeader[48] = 0x7b;
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

test('damage in the header (config, tensor table) is detected by the checksum', () => {
  const c = { ...sample(), meta: { config: { activation: 'tanh' }, note: 'x' } };
  const buf = Buffer.from(encodeUtp(c));
  const at = buf.indexOf('tanh');
  assert.ok(at > 0);
  const relu = Buffer.from(buf);
  relu.write('relu', at, 'ascii');
  assert.throws(() => decodeUtp(relu, 'm.utp'), (e: unknown) => e instanceof FormatError && /m\.utp: damaged: checksum/.test(e.message));
  const off = buf.indexOf('"offset":24');
  assert.ok(off > 0);
  const moved = Buffer.from(buf);
  moved.write('"offset":20', off, 'ascii');
  assert.throws(() => decodeUtp(moved, 'm.utp'), /m\.utp: damaged: checksum/);
  const kind = Buffer.from(buf);
  kind.write('X', buf.indexOf('checkpoint'), 'ascii');
  assert.throws(() => decodeUtp(kind, 'm.utp'), /damaged: checksum/);
  const digest = Buffer.from(buf);
  digest[20] ^= 1;
  assert.throws(() => decodeUtp(digest, 'm.utp'), /damaged: checksum/);
  // every single-byte flip anywhere in the file is an error
  for (let i = 0; i < buf.length; i += 7) {
    const b = Buffer.from(buf);
    b[i] ^= 0x10;
    assert.throws(() => decodeUtp(b, 'm.utp'), FormatError, `flip at byte ${i}`);
  }
});

test('a version-1 file (checksum over the payload only) is a clear error', () => {
  const buf = encodeUtp(sample());
  const v1 = Buffer.from(buf);
  v1.writeUInt32LE(1, 8);
  assert.equal(UTP_VERSION, 2);
  assert.throws(() => decodeUtp(v1, 'old.utp'), /old\.utp: format version 1, written by an earlier untapped .*does not cover the header.*again/);
});

test('a failed atomic write removes its temporary file and names the file and the cause', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'utp-'));
  // the target is a directory
  fs.mkdirSync(path.join(dir, 'out.csv'));
  assert.throws(() => writeFileAtomic(path.join(dir, 'out.csv'), 'a\n'), (e: unknown) => e instanceof FileWriteError && e.code === 'EISDIR' && e.message === `cannot write ${path.join(dir, 'out.csv')}: it is a directory`);
  assert.deepEqual(fs.readdirSync(dir), ['out.csv']);
  // the directory does not exist
  assert.throws(() => writeFileAtomic(path.join(dir, 'nope', 'x.utp'), 'a'), new RegExp(`cannot write .*nope/x\\.utp: the directory .*nope does not exist`));
  // a full disk and a read-only directory, failing in the middle of the write
  for (const [code, said] of [
    ['ENOSPC', 'no space left on the device'],
    ['EACCES', 'permission denied'],
  ]) {
    const m = mock.method(fsCjs, 'writeFileSync', () => {
      throw Object.assign(new Error(`${code}: write`), { code });
    });
    syncBuiltinESMExports();
    try {
      assert.throws(() => writeUtp(path.join(dir, 'm.utp'), sample()), (e: unknown) => e instanceof FileWriteError && e.code === code && e.message.startsWith(`cannot write ${path.join(dir, 'm.utp')}: ${said}`));
    } finally {
      m.mock.restore();
      syncBuiltinESMExports();
    }
    assert.deepEqual(fs.readdirSync(dir), ['out.csv'], `no temporary file after ${code}`);
  }
  fs.rmSync(dir, { recursive: true });
});

test('temporary files of killed writers (dead pids) are removed by the next write; a live writer’s are kept', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'utp-'));
  let dead = 999_999;
  while (pidAlive(dead)) dead--;
  fs.writeFileSync(path.join(dir, `.checkpoint.utp.tmp-${dead}`), 'half');
  fs.writeFileSync(path.join(dir, `.other.json.tmp-${process.ppid}`), 'live');
  fs.writeFileSync(path.join(dir, 'user.tmp-1'), 'not ours');
  writeUtp(path.join(dir, 'checkpoint.utp'), sample());
  assert.deepEqual(fs.readdirSync(dir).sort(), [`.other.json.tmp-${process.ppid}`, 'checkpoint.utp', 'user.tmp-1']);
  assert.deepEqual(removeStaleTemps(dir), []);
  fs.rmSync(dir, { recursive: true });
});

test('atomic write through a symbolic link replaces the file it points to; a device is written into, never replaced', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'utp-'));
  fs.writeFileSync(path.join(dir, 'real.csv'), 'old');
  fs.symlinkSync(path.join(dir, 'real.csv'), path.join(dir, 'link.csv'));
  writeFileAtomic(path.join(dir, 'link.csv'), 'new');
  assert.ok(fs.lstatSync(path.join(dir, 'link.csv')).isSymbolicLink(), 'the link stays');
  assert.equal(fs.readFileSync(path.join(dir, 'real.csv'), 'utf8'), 'new');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['link.csv', 'real.csv']);
  if (fs.existsSync('/dev/null')) {
    writeFileAtomic('/dev/null', 'discarded');
    assert.ok(fs.statSync('/dev/null').isCharacterDevice(), '/dev/null is still the device');
    assert.ok(!fs.readdirSync('/dev').some((n) => n.startsWith('.null.tmp-')));
  }
  fs.rmSync(dir, { recursive: true });
});
