import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../engine/rng.js';
import { assertClose, setupEngine } from '../testing/helpers.js';
import { Vae, VaeConfigSchema } from '../models/vae.js';
import { bound } from '../objectives/bounds.js';
import { Trainer, TrainingDivergedError, type DataSource, type Objective } from './trainer.js';
import { Adam } from './adam.js';
import { ParamStore } from '../nn/params.js';
import { decodeUtp } from '../io/format.js';
import { memoryStorage } from '../io/storage.js';
import { browserHost, host, setHost } from '../engine/host.js';

await setupEngine();

const D = 6;
const rows = new Rng(42);
const DATA = Float32Array.from({ length: 120 * D }, () => (rows.next() < 0.4 ? 1 : 0));
const source: DataSource = {
  name: 'unlabelled',
  size: 120,
  batchSize: 20,
  batch: (r) => {
    const out = new Float32Array(r.length * D);
    r.forEach((row, i) => out.set(DATA.subarray(row * D, (row + 1) * D), i * D));
    return { x: tf.tensor2d(out, [r.length, D]) };
  },
};

function setup(seed = 1, extra: Partial<ConstructorParameters<typeof Trainer>[0]> = {}, initSeed = seed) {
  const model = new Vae(VaeConfigSchema.parse({ type: 'vae', latent: [2], hidden: [[8]], inputDim: D }), new Rng(initSeed));
  const objective: Objective = (b, ctx) => tf.tidy(() => tf.neg(tf.mean(bound(model.terms(b.unlabelled.x, 1, ctx.rng), { kind: 'elbo' }))) as tf.Scalar);
  const losses: number[] = [];
  const trainer = new Trainer({ params: model.params, objective, sources: [source], epochs: 4, lr: 0.01, seed, progress: { silent: true }, evaluate: () => ({ probe: losses.length }), ...extra });
  return { model, trainer, losses };
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-train-'));

test('same seed → same losses and weights; another seed differs', async () => {
  const run = async (seed: number) => {
    const { model, trainer } = setup(seed);
    const r = await trainer.run();
    const w = Array.from(model.params.list()[0].dataSync());
    trainer.dispose();
    model.dispose();
    return { loss: r.history.map((h) => h.trainLoss), w };
  };
  const a = await run(1);
  const b = await run(1);
  const c = await run(2);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.loss, c.loss);
});

test('a run resumed from its checkpoint ends with exactly the weights of an uninterrupted run', async () => {
  const dir = tmp();
  const straight = setup(3);
  await straight.trainer.run();
  const want = straight.model.params.snapshot();
  straight.trainer.dispose();
  straight.model.dispose();

  const ck = path.join(dir, 'c.utp');
  const first = setup(3, { epochs: 2, checkpointFile: ck });
  await first.trainer.run();
  first.trainer.dispose();
  first.model.dispose();

  const wrongSeed = setup(4, { epochs: 4 });
  assert.throws(() => wrongSeed.trainer.restore(ck), /trained with seed 3, this run has seed 4/);
  wrongSeed.trainer.dispose();
  wrongSeed.model.dispose();
  const second = setup(3, { epochs: 4, checkpointFile: ck }, 99); // different init: restore must overwrite it
  second.trainer.restore(ck);
  assert.equal(second.trainer.epoch, 2);
  const r = await second.trainer.run();
  assert.deepEqual(r.history.map((h) => h.epoch), [1, 2, 3, 4]);
  const got = second.model.params.snapshot();
  for (const [k, v] of want) assert.deepEqual(Array.from(got.get(k)!.data), Array.from(v.data), `parameter ${k}`);
  second.trainer.dispose();
  second.model.dispose();
  fs.rmSync(dir, { recursive: true });
});

test('NaN in the loss stops with a diagnosis and keeps the last good checkpoint byte for byte', async () => {
  const dir = tmp();
  const ck = path.join(dir, 'c.utp');
  const log = path.join(dir, 'log.jsonl');
  const model = new Vae(VaeConfigSchema.parse({ type: 'vae', latent: [2], hidden: [[8]], inputDim: D }), new Rng(1));
  const objective: Objective = (b, ctx) =>
    tf.tidy(() => {
      const l = tf.neg(tf.mean(bound(model.terms(b.unlabelled.x, 1, ctx.rng), { kind: 'elbo' })));
      return (ctx.step === 14 ? tf.mul(l, NaN) : l) as tf.Scalar;
    });
  let atEval: Buffer | null = null;
  const trainer = new Trainer({ params: model.params, objective, sources: [source], epochs: 4, lr: 0.01, seed: 1, checkpointFile: ck, logFile: log, progress: { silent: true }, onEval: () => (atEval = fs.readFileSync(ck)) });
  let saved: Buffer | null = null;
  const p = trainer.run();
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof TrainingDivergedError);
    assert.match(e.message, /training diverged: loss NaN.*epoch 3, step 3 of 6 \(global step 14\).*checkpoint of epoch 2 is kept/s);
    return true;
  });
  saved = fs.readFileSync(ck);
  assert.ok(atEval !== null && saved.equals(atEval), 'checkpoint changed after the last evaluation');
  const c = decodeUtp(saved, ck) as unknown as { meta: { trainer: { epoch: number } } };
  assert.equal(c.meta.trainer.epoch, 2);
  const recs = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(recs.at(-1).type, 'diverged');
  trainer.dispose();
  model.dispose();
  fs.rmSync(dir, { recursive: true });
});

test('tensor count does not grow across training steps', async () => {
  const { model, trainer } = setup(5, { epochs: 1 });
  const rng = new Rng(0);
  const counts: number[] = [];
  for (let i = 0; i < 12; i++) {
    trainer.trainStep({ unlabelled: source.batch(rng.permutation(120).subarray(0, 20), rng) }, { rng, epoch: 0, step: i }, 0.01);
    counts.push(tf.memory().numTensors);
  }
  assert.equal(new Set(counts.slice(2)).size, 1, `tensor counts ${counts}`);
  trainer.dispose();
  model.dispose();
});

test('Adam: first step moves each weight by lr·g/(|g|+ε′); clipping rescales to the clip norm', () => {
  const ps = new ParamStore();
  const a = ps.add('a', tf.tensor1d([1, -2, 3]));
  const adam = new Adam([{ name: 'a', variable: a }], { clipNorm: 1 });
  const g = tf.tensor1d([3, 0, -4]); // norm 5
  const norm = adam.gradNorm([g]);
  assertClose(norm, 5);
  assertClose(adam.clipScale(norm), 0.2);
  adam.apply([g], 0.1, norm);
  // bias-corrected m̂ = g, v̂ = g², so the step is lr · g / (|g| + ε)
  assertClose(a.dataSync(), [1 - 0.1, -2, 3 + 0.1], { atol: 1e-6 });
  assert.equal(adam.t, 1);
  assert.throws(() => new Adam([], { clipNorm: -1 }), /clipNorm must be ≥ 0/);
  g.dispose();
  adam.dispose();
  ps.dispose();
});

test('bad trainer options are clear errors', () => {
  const ps = new ParamStore();
  const o = { params: ps, objective: () => tf.scalar(0), sources: [source], epochs: 1, lr: 0.1, seed: 0 };
  assert.throws(() => new Trainer({ ...o, lr: -1 }), /learning rate must be > 0/);
  assert.throws(() => new Trainer({ ...o, epochs: 1.5 }), /epochs must be a non-negative integer/);
  assert.throws(() => new Trainer({ ...o, sources: [{ ...source, size: 0 }] }), /data source 'unlabelled' is empty/);
});

/** A validation curve that falls to its minimum at epoch 4, then rises: what a collapse looks like. */
const CURVE = [5, 4, 3, 2, 2.5, 3, 3.5, 4, 4.5, 5];
const curveEval = (epoch: number) => ({ val: CURVE[epoch - 1] });

test('select: the run ends with the weights of the best evaluation, not the last; patience 0 never stops early', async () => {
  const seen = new Map<number, Map<string, { shape: number[]; data: Float32Array }>>();
  const holder: { model?: Vae } = {};
  const { model, trainer } = setup(6, { epochs: 8, evaluate: curveEval, select: { metric: 'val', mode: 'min', patience: 0 }, onEval: (r) => seen.set(r.epoch, holder.model!.params.snapshot()) });
  holder.model = model;
  const r = await trainer.run();
  assert.equal(r.stoppedBy, 'epochs');
  assert.equal(r.epochs, 8);
  assert.deepEqual(r.best, { metric: 'val', epoch: 4, value: 2 });
  assert.deepEqual(trainer.selection(), { metric: 'val', mode: 'min', bestEpoch: 4, bestValue: 2, sinceBest: 4 });
  const got = model.params.snapshot();
  for (const [k, v] of seen.get(4)!) assert.deepEqual(Array.from(got.get(k)!.data), Array.from(v.data), `parameter ${k} is the epoch-4 value`);
  const last = seen.get(8)!;
  assert.ok([...last].some(([k, v]) => v.data.some((x, i) => x !== got.get(k)!.data[i])), 'the last weights differ from the best');
  trainer.dispose();
  model.dispose();
});

test('select: mode max picks the highest value; a missing metric is an error naming it', async () => {
  const a = setup(6, { epochs: 5, evaluate: curveEval, select: { metric: 'val', mode: 'max' } });
  assert.deepEqual((await a.trainer.run()).best, { metric: 'val', epoch: 1, value: 5 });
  a.trainer.dispose();
  a.model.dispose();
  const b = setup(6, { epochs: 2, evaluate: curveEval, select: { metric: 'loss', mode: 'min' } });
  await assert.rejects(b.trainer.run(), /returned no metric 'loss' \(it returned: val\)/);
  b.trainer.dispose();
  b.model.dispose();
  const ps = new ParamStore();
  assert.throws(() => new Trainer({ params: ps, objective: () => tf.scalar(0), sources: [source], epochs: 1, lr: 0.1, seed: 0, select: { metric: 'v', mode: 'min', patience: -1 } }), /select\.patience must be a non-negative integer/);
});

test('select: early stop after `patience` evaluations without improvement (evaluating every 2 epochs)', async () => {
  // evaluations at epochs 2, 4, 6, 8, 10 see 4, 2, 3, 4, 5: the best is epoch 4; patience 2 stops after epoch 8
  const { model, trainer } = setup(6, { epochs: 10, evalEvery: 2, evaluate: curveEval, select: { metric: 'val', mode: 'min', patience: 2 } });
  const r = await trainer.run();
  assert.equal(r.stoppedBy, 'patience');
  assert.equal(r.epochs, 8);
  assert.deepEqual(r.history.map((h) => h.epoch), [2, 4, 6, 8]);
  assert.deepEqual(r.best, { metric: 'val', epoch: 4, value: 2 });
  trainer.dispose();
  model.dispose();
});

test('select: a run interrupted after the best evaluation resumes bit-identically (best weights, patience count, stop)', async () => {
  const dir = tmp();
  const sel = { metric: 'val', mode: 'min' as const, patience: 3 };
  const straight = setup(7, { epochs: 10, evaluate: curveEval, select: sel });
  const rs = await straight.trainer.run();
  assert.equal(rs.stoppedBy, 'patience');
  assert.equal(rs.epochs, 7);
  const want = straight.model.params.snapshot();
  straight.trainer.dispose();
  straight.model.dispose();

  const ck = path.join(dir, 'c.utp');
  const first = setup(7, { epochs: 10, evaluate: curveEval, select: sel, checkpointFile: ck, onEval: (r) => {
    if (r.epoch === 5) throw new Error('killed');
  } });
  await assert.rejects(first.trainer.run(), /killed/);
  first.trainer.dispose();
  first.model.dispose();

  const other = setup(7, { epochs: 10, evaluate: curveEval, select: { ...sel, metric: 'other' } });
  assert.throws(() => other.trainer.restore(ck), /trained with selection by min 'val', this run has selection by min 'other'/);
  other.trainer.dispose();
  other.model.dispose();
  const second = setup(7, { epochs: 10, evaluate: curveEval, select: sel, checkpointFile: ck }, 99);
  second.trainer.restore(ck);
  assert.deepEqual(second.trainer.selection(), { metric: 'val', mode: 'min', bestEpoch: 4, bestValue: 2, sinceBest: 1 });
  const r = await second.trainer.run();
  assert.equal(r.stoppedBy, 'patience');
  assert.equal(r.epochs, 7);
  assert.deepEqual(r.best, rs.best);
  const got = second.model.params.snapshot();
  for (const [k, v] of want) assert.deepEqual(Array.from(got.get(k)!.data), Array.from(v.data), `parameter ${k}`);
  second.trainer.dispose();
  second.model.dispose();

  // a checkpoint written once patience has run out resumes to an immediate stop with the same weights
  const third = setup(7, { epochs: 10, evaluate: curveEval, select: sel, checkpointFile: ck }, 98);
  third.trainer.restore(ck);
  assert.equal(third.trainer.epoch, 7);
  const r3 = await third.trainer.run();
  assert.equal(r3.stoppedBy, 'patience');
  assert.equal(r3.epochs, 7);
  for (const [k, v] of want) assert.deepEqual(Array.from(third.model.params.snapshot().get(k)!.data), Array.from(v.data), `parameter ${k}`);
  third.trainer.dispose();
  third.model.dispose();
  fs.rmSync(dir, { recursive: true });
});

test('select: no early stop before minEpochs, even when patience has run out', async () => {
  // best at epoch 4; patience 2 alone would stop after epoch 6, minEpochs 8 lets it run to 8
  const { model, trainer } = setup(6, { epochs: 10, evaluate: curveEval, select: { metric: 'val', mode: 'min', patience: 2, minEpochs: 8 } });
  const r = await trainer.run();
  assert.equal(r.stoppedBy, 'patience');
  assert.equal(r.epochs, 8);
  assert.deepEqual(r.best, { metric: 'val', epoch: 4, value: 2 });
  trainer.dispose();
  model.dispose();
});

test('a loss that grows by orders of magnitude (but stays finite) is a warning: log, callback, result, and kept across a resume', async () => {
  const dir = tmp();
  const ck = path.join(dir, 'c.utp');
  const log = path.join(dir, 'log.jsonl');
  const model = new Vae(VaeConfigSchema.parse({ type: 'vae', latent: [2], hidden: [[8]], inputDim: D }), new Rng(1));
  // from global step 8 (epoch 2) on the loss is 1e6 times larger: finite, but diverged
  const objective: Objective = (b, ctx) =>
    tf.tidy(() => {
      const l = tf.neg(tf.mean(bound(model.terms(b.unlabelled.x, 1, ctx.rng), { kind: 'elbo' })));
      return (ctx.step >= 8 ? tf.mul(l, 1e6) : l) as tf.Scalar;
    });
  const said: string[] = [];
  const make = (epochs: number) => new Trainer({ params: model.params, objective, sources: [source], epochs, lr: 1e-9, seed: 1, checkpointFile: ck, logFile: log, progress: { silent: true }, onWarning: (m) => said.push(m) });
  const t1 = make(2);
  const r1 = await t1.run();
  t1.dispose();
  assert.equal(said.length, 1);
  assert.match(said[0], /the training loss is diverging: .* at epoch 2 \(global step 8\), more than 1000× above its best, .* at epoch [12] .*lower learning rate/);
  assert.deepEqual(r1.warnings, said);
  assert.equal(r1.lossWatch.first!.step, 8);
  const recs = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(recs.filter((r) => r.type === 'warning' && r.kind === 'divergence').length, 1);
  assert.deepEqual(recs.at(-1).warnings, said);
  // resumed: the warning is still the run's (not repeated)
  const t2 = make(3);
  t2.restore(ck);
  const r2 = await t2.run();
  t2.dispose();
  assert.equal(said.length, 1);
  assert.deepEqual(r2.warnings, r1.warnings);
  model.dispose();
  fs.rmSync(dir, { recursive: true });
});

test('an ordinary run (loss falling, noisy) has no warning', async () => {
  const { model, trainer } = setup(1, { epochs: 3, onWarning: () => assert.fail('no warning expected') });
  const r = await trainer.run();
  assert.deepEqual(r.warnings, []);
  assert.equal(r.lossWatch.first, null);
  trainer.dispose();
  model.dispose();
});

test('storage: checkpoint and log in memory (as in a browser) resume bit-identically, with the bytes a file gets', async () => {
  const straight = setup(5);
  await straight.trainer.run();
  const want = straight.model.params.snapshot();
  straight.trainer.dispose();
  straight.model.dispose();

  const mem = memoryStorage();
  const first = setup(5, { epochs: 2, checkpointFile: 'run/c.utp', logFile: 'run/log.jsonl', storage: mem });
  await first.trainer.run();
  first.trainer.dispose();
  first.model.dispose();
  const afterTwo = mem.read('run/c.utp');
  assert.equal(decodeUtp(afterTwo, 'c').kind, 'checkpoint');
  assert.deepEqual(mem.text('run/log.jsonl').trim().split('\n').map((l) => JSON.parse(l).type), ['start', 'eval', 'eval', 'end']);
  const second = setup(5, { epochs: 4, checkpointFile: 'run/c.utp', storage: mem }, 99);
  second.trainer.restore('run/c.utp');
  await second.trainer.run();
  const got = second.model.params.snapshot();
  for (const [k, v] of want) assert.deepEqual(Array.from(got.get(k)!.data), Array.from(v.data), `parameter ${k}`);
  second.trainer.dispose();
  second.model.dispose();

  // the same run into a file writes the same bytes, except the clock (trainSeconds, time) in the metadata
  const dir = tmp();
  const ck = path.join(dir, 'c.utp');
  const onDisk = setup(5, { epochs: 2, checkpointFile: ck });
  await onDisk.trainer.run();
  onDisk.trainer.dispose();
  onDisk.model.dispose();
  const a = decodeUtp(fs.readFileSync(ck), ck);
  const b = decodeUtp(afterTwo, 'c');
  assert.deepEqual([...a.tensors.keys()], [...b.tensors.keys()]);
  for (const [k, v] of a.tensors) assert.deepEqual(Array.from(v.data), Array.from(b.tensors.get(k)!.data), `tensor ${k}`);
  fs.rmSync(dir, { recursive: true });
});

test('storage: without one (a browser host), a checkpoint or log file is an error saying what to pass', () => {
  const saved = host();
  setHost(browserHost);
  try {
    assert.throws(() => setup(1, { checkpointFile: 'c.utp' }), /c\.utp: no storage for the trainer's checkpoint; pass the storage option/);
    const t = setup(1); // no files: no storage needed
    t.trainer.dispose();
    t.model.dispose();
  } finally {
    setHost(saved);
  }
});
