import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { assertClose, setupEngine } from '../testing/helpers.js';
import { latentMeans, manifoldPoints, normalQuantile } from './latent.js';
import { writeLatentScatterPng, writeManifoldPng } from '../node/latent.js';

await setupEngine();

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-latent-'));

test('normalQuantile inverts the standard normal CDF', () => {
  assertClose(normalQuantile(0.5), 0, { atol: 1e-12 });
  assertClose(normalQuantile(0.975), 1.959963985, { atol: 1e-7 });
  assertClose(normalQuantile(0.05), -1.644853627, { atol: 1e-7 });
  assertClose(normalQuantile(0.001), -3.090232306, { atol: 1e-7 });
  assertClose(normalQuantile(0.999), 3.090232306, { atol: 1e-7 });
  assert.throws(() => normalQuantile(1), /p must lie in \(0, 1\)/);
});

test('manifold grid: prior quantiles, z1 to the right, z2 upwards', () => {
  const p = manifoldPoints(3, 0.05);
  const q = normalQuantile(0.95);
  assertClose(Array.from(p), [-q, q, 0, q, q, q, -q, 0, 0, 0, q, 0, -q, -q, 0, -q, q, -q], { atol: 1e-6 });
  assert.throws(() => manifoldPoints(1), /steps must be an integer ≥ 2/);
});

test('writeManifoldPng decodes every cell (and every panel) into one image grid', () => {
  const dir = tmp();
  const file = path.join(dir, 'm.png');
  const seen: number[] = [];
  // a fake decoder: the image is uniformly grey at the level sigmoid(z1), panel p adds nothing
  const decode = (z: tf.Tensor, panel: number) => {
    seen.push(panel);
    return tf.tile(tf.sigmoid(tf.slice(z, [0, 0], [-1, 1])), [1, 12]);
  };
  writeManifoldPng(file, decode, [3, 4], { steps: 4, panels: 3, panelCols: 2, scale: 1 });
  assert.deepEqual(seen, [0, 1, 2]);
  const png = PNG.sync.read(fs.readFileSync(file));
  // 2 panel rows × 4 cells + 1 blank row; 2 panel columns × 4 + 1 blank; pad 1 around 3×4 images
  assert.equal(png.width, 9 * 4 + 10);
  assert.equal(png.height, 9 * 3 + 10);
  // first cell (row 0, col 0): z1 = Φ⁻¹(0.05) → sigmoid ≈ 0.162 → 41; last cell of the row: 0.838 → 214
  const at = (x: number, y: number) => png.data[(y * png.width + x) * 4];
  assert.ok(Math.abs(at(1, 1) - 41) <= 1, `first cell ${at(1, 1)}`);
  assert.ok(Math.abs(at(1 + 3 * 5, 1) - 214) <= 1, `fourth cell ${at(16, 1)}`);
  assert.throws(() => writeManifoldPng(file, () => tf.zeros([16, 5]), [3, 4], { steps: 4 }), /decode must return \[16, 12\] images of 3×4/);
  fs.rmSync(dir, { recursive: true });
});

test('latent scatter: posterior means by batch, coloured by label; non-2-D latents are refused', () => {
  const dir = tmp();
  const x = Float32Array.from({ length: 7 * 3 }, (_, i) => i);
  const labels = Int32Array.from([0, 1, 2, 0, 1, 2, 0]);
  const enc = (xb: tf.Tensor, lb: Int32Array) => tf.concat([tf.slice(xb, [0, 0], [-1, 1]), tf.reshape(tf.tensor1d(Array.from(lb)), [-1, 1])], 1);
  const pts = latentMeans(enc, x, labels, 3, 3);
  assert.deepEqual(Array.from(pts), [0, 0, 3, 1, 6, 2, 9, 0, 12, 1, 15, 2, 18, 0]);
  const frame = writeLatentScatterPng(path.join(dir, 's.png'), enc, x, labels, 3);
  assert.ok(frame.width > 0 && fs.existsSync(path.join(dir, 's.png')));
  assert.throws(() => latentMeans((xb) => tf.clone(xb), x, labels, 3), /need a 2-D latent/);
  fs.rmSync(dir, { recursive: true });
});
