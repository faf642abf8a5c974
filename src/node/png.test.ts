import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { imageGrid, pairsGrid, writePng } from './index.js';

const tmp = mkdtempSync(join(tmpdir(), 'untapped-png-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Gray level at (x, y) of a decoded PNG, asserting the pixel is gray and opaque. */
function gray(png: PNG, x: number, y: number): number {
  const o = 4 * (y * png.width + x);
  const [r, g, b, a] = png.data.subarray(o, o + 4);
  assert.ok(r === g && g === b && a === 255, `pixel (${x}, ${y}) is ${r},${g},${b},${a}`);
  return r;
}

test('imageGrid: layout, size, clamping and pixel values survive a PNG round trip', () => {
  // 3 images of 2×3: image k has value (k+1)/4 everywhere, except a few probes.
  const n = 3;
  const h = 2;
  const w = 3;
  const imgs = new Float32Array(n * h * w);
  for (let k = 0; k < n; k++) imgs.fill((k + 1) / 4, k * h * w, (k + 1) * h * w);
  imgs[0] = 2; // clamps to 1 → 255
  imgs[1] = -3; // clamps to 0 → 0
  imgs[2] = NaN; // → 0
  const buf = imageGrid(imgs, n, h, w, { cols: 2, pad: 1, background: 1 });
  const png = PNG.sync.read(buf);
  // 2 columns, 2 rows: width 2·3 + 3·1 = 9, height 2·2 + 3·1 = 7.
  assert.equal(png.width, 9);
  assert.equal(png.height, 7);
  assert.equal(png.colorType, 0, 'written as 8-bit grayscale');
  assert.equal(gray(png, 0, 0), 255, 'border is background');
  assert.equal(gray(png, 1, 1), 255, 'clamped high');
  assert.equal(gray(png, 2, 1), 0, 'clamped low');
  assert.equal(gray(png, 3, 1), 0, 'NaN');
  assert.equal(gray(png, 1, 2), Math.round(0.25 * 255));
  // Image 1 sits in the second column: x from 1 + 3 + 1 = 5.
  assert.equal(gray(png, 5, 1), Math.round(0.5 * 255));
  assert.equal(gray(png, 4, 1), 255, 'padding between columns');
  // Image 2 in the second row, first column: y from 1 + 2 + 1 = 4.
  assert.equal(gray(png, 1, 4), Math.round(0.75 * 255));
  // The fourth cell is empty: background.
  assert.equal(gray(png, 6, 5), 255);
});

test('imageGrid: integer upscaling and default layout', () => {
  const imgs = Float32Array.from([0, 1, 1, 0]); // one 2×2 checkerboard
  const png = PNG.sync.read(imageGrid(imgs, 1, 2, 2, { pad: 0, scale: 3 }));
  assert.equal(png.width, 6);
  assert.equal(png.height, 6);
  for (let y = 0; y < 6; y++) {
    for (let x = 0; x < 6; x++) {
      const expected = (Math.floor(x / 3) + Math.floor(y / 3)) % 2 === 1 ? 255 : 0;
      assert.equal(gray(png, x, y), expected, `(${x}, ${y})`);
    }
  }
  // Default: ⌈√10⌉ = 4 columns, 3 rows, pad 1.
  const def = PNG.sync.read(imageGrid(new Float32Array(10 * 4 * 5), 10, 4, 5));
  assert.equal(def.width, 4 * 5 + 5);
  assert.equal(def.height, 3 * 4 + 4);
  assert.throws(() => imageGrid(new Float32Array(5), 2, 2, 2), /expected 2 images of 2×2 = 8 values, got 5/);
  assert.throws(() => imageGrid(imgs, 1, 2, 2, { scale: 1.5 }), /scale must be a positive integer/);
});

test('pairsGrid puts each reconstruction below its original', () => {
  const n = 3;
  const orig = new Float32Array(n).fill(1); // 1×1 images
  const rec = new Float32Array(n).fill(0);
  orig[2] = 0.4;
  rec[2] = 0.6;
  const png = PNG.sync.read(pairsGrid(orig, rec, n, 1, 1, { cols: 2, pad: 1, background: 0.5 }));
  // 2 columns × (2 pair-rows → 4 grid rows): width 2 + 3 = 5, height 4 + 5 = 9.
  assert.equal(png.width, 5);
  assert.equal(png.height, 9);
  assert.equal(gray(png, 1, 1), 255, 'original 0');
  assert.equal(gray(png, 1, 3), 0, 'reconstruction 0 below it');
  assert.equal(gray(png, 3, 1), 255, 'original 1');
  assert.equal(gray(png, 3, 3), 0, 'reconstruction 1');
  assert.equal(gray(png, 1, 5), Math.round(0.4 * 255), 'original 2 starts the second pair-row');
  assert.equal(gray(png, 1, 7), Math.round(0.6 * 255), 'reconstruction 2');
  assert.equal(gray(png, 3, 5), 128, 'empty cell');
  assert.equal(gray(png, 3, 7), 128, 'empty cell');
});

test('writePng writes atomically and creates the directory', () => {
  const path = join(tmp, 'sub', 'dir', 'grid.png');
  const buf = imageGrid(new Float32Array(4).fill(0.5), 1, 2, 2);
  writePng(path, buf);
  assert.ok(existsSync(path));
  assert.ok(!existsSync(`${path}.tmp`), 'temporary file renamed away');
  assert.deepEqual(readFileSync(path), buf);
  // Overwrite in place.
  const buf2 = imageGrid(new Float32Array(4).fill(1), 1, 2, 2);
  writePng(path, buf2);
  assert.deepEqual(readFileSync(path), buf2);
  // A directory in the way is a clear error and leaves no temp file.
  assert.throws(() => writePng(join(tmp, 'sub'), buf), /cannot write .*sub: it is a directory/);
  assert.ok(!existsSync(join(tmp, 'sub.tmp')));
});
