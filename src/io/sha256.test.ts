import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Sha256, sha256, toHex } from './sha256.js';

test('FIPS 180-2 example vectors', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.equal(toHex(sha256(enc(''))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(toHex(sha256(enc('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(toHex(sha256(enc('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  const million = new Uint8Array(1_000_000).fill(0x61);
  assert.equal(toHex(sha256(million)), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
});

test('agrees with node:crypto on random inputs of every length around the block boundaries, fed in random pieces', () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const lengths = [...Array.from({ length: 200 }, (_, i) => i), 1000, 4095, 4096, 4097, 65536 + 13];
  for (const n of lengths) {
    const data = randomBytes(n);
    const want = createHash('sha256').update(data).digest('hex');
    assert.equal(toHex(sha256(data)), want, `length ${n}, one piece`);
    const h = new Sha256();
    let at = 0;
    while (at < n) {
      const k = Math.min(n - at, rand(150));
      h.update(data.subarray(at, at + k));
      at += k;
    }
    assert.equal(toHex(h.digest()), want, `length ${n}, in pieces`);
  }
});

test('a digest is final', () => {
  const h = new Sha256();
  h.digest();
  assert.throws(() => h.digest(), /twice/);
  assert.throws(() => h.update(new Uint8Array(1)), /after digest/);
});
