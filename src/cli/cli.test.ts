import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeIdx } from '../data/idx.js';
import { mnistDataDir } from '../node/mnist.js';
import { readUtp } from '../node/files.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/untapped');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-cli-'));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env }, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function writeJson(file: string, v: unknown): string {
  fs.writeFileSync(file, JSON.stringify(v));
  return file;
}

const TINY = { model: { type: 'vae', latent: [4], hidden: [[32]] }, data: { trainLimit: 400, testLimit: 100 }, train: { epochs: 1, batchSize: 50 } };

test('--help lists the commands and exits 0', () => {
  const r = cli(['--help']);
  assert.equal(r.code, 0);
  for (const c of ['train', 'evaluate', 'sample', 'bench', 'quickstart']) assert.match(r.out, new RegExp(`\\b${c}\\b`));
});

test('an unknown config key and a negative learning rate are clear errors; nothing is written', () => {
  const d = tmp();
  const bad = writeJson(path.join(d, 'bad.json'), { ...TINY, train: { ...TINY.train, epocs: 3 } });
  let r = cli(['train', '--config', bad, '--out', path.join(d, 'run')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad\.json: invalid config/);
  assert.match(r.err, /train: unknown key 'epocs'; valid keys: epochs, batchSize, lr/);
  const neg = writeJson(path.join(d, 'neg.json'), { ...TINY, train: { ...TINY.train, lr: -0.001 } });
  r = cli(['train', '--config', neg, '--out', path.join(d, 'run')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /train\.lr: learning rate must be > 0/);
  assert.equal(fs.existsSync(path.join(d, 'run')), false);
  fs.rmSync(d, { recursive: true });
});

test('a missing run directory, a damaged checkpoint and a bad --iw are clear errors', () => {
  const d = tmp();
  let r = cli(['evaluate', path.join(d, 'nope')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /nope: no such run directory/);
  r = cli(['evaluate', d, '--iw', '0']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--iw must be a positive integer/);
  r = cli(['experiment', 'crism', '--seed', '-1']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--seed must be an integer ≥ 0, got '-1'/);
  r = cli(['experiment', 'crism', '--models', 'm2,m3']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--models must be a comma-separated list of m2 and untapped, got 'm2,m3'/);
  r = cli(['experiment', 'libs', '--models', 'm2']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--models applies to mnist-untapped and crism, not libs; options of libs: --out, --budget-epochs/);
  fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(TINY));
  fs.writeFileSync(path.join(d, 'checkpoint.utp'), 'UNTAPPED garbage');
  r = cli(['sample', d, '--out', path.join(d, 'g.png')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /checkpoint\.utp: (truncated|damaged|format version \d+ is not supported)/);
  fs.rmSync(d, { recursive: true });
});

test('a truncated IDX file and NaN in the data stop before anything is written', () => {
  const d = tmp();
  const src = mnistDataDir();
  const trunc = path.join(d, 'trunc');
  fs.mkdirSync(trunc);
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(trunc, f));
  const img = path.join(trunc, 'train-images-idx3-ubyte');
  fs.truncateSync(img, 16 + 784 * 1000);
  let r = cli(['train', '--config', writeJson(path.join(d, 't.json'), { ...TINY, data: { ...TINY.data, dir: trunc } }), '--out', path.join(d, 'run')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /train-images-idx3-ubyte: truncated/);
  assert.equal(fs.existsSync(path.join(d, 'run')), false);

  const nan = path.join(d, 'nan');
  fs.mkdirSync(nan);
  const n = 60;
  const x = new Float32Array(n * 784).fill(0.5);
  x[3 * 784 + 100] = NaN;
  const y = new Uint8Array(n).map((_, i) => i % 10);
  for (const [im, lb] of [['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'], ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']]) {
    fs.writeFileSync(path.join(nan, im), encodeIdx([n, 28, 28], x));
    fs.writeFileSync(path.join(nan, lb), encodeIdx([n], y));
  }
  r = cli(['train', '--config', writeJson(path.join(d, 'n.json'), { ...TINY, data: { dir: nan } }), '--out', path.join(d, 'run')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /train-images-idx3-ubyte': row 3, column 100 is NaN/);
  assert.equal(fs.existsSync(path.join(d, 'run')), false);
  fs.rmSync(d, { recursive: true });
});

test('train → evaluate --json → sample; a second train into the same directory overwrites nothing', () => {
  const d = tmp();
  const cfg = writeJson(path.join(d, 'c.json'), TINY);
  const run = path.join(d, 'run');
  let r = cli(['-v', 'train', '--config', cfg, '--out', run, '--iw', '5', '--iw-n', '20']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /engine: backend=/);
  for (const f of ['config.json', 'checkpoint.utp', 'log.jsonl', 'report.md', 'report.json', 'samples.png', 'reconstructions.png']) assert.ok(fs.existsSync(path.join(run, f)), f);
  const logStart = JSON.parse(fs.readFileSync(path.join(run, 'log.jsonl'), 'utf8').split('\n')[0]);
  assert.ok(['wasm', 'cpu', 'tensorflow'].includes(logStart.engine.backend), 'the log records the backend');
  r = cli(['evaluate', run, '--iw', '10', '--n', '30', '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.n, 30);
  assert.equal(j.iw.k, 10);
  assert.ok(j.iw.mean < 0 && j.iw.mean > -800, `IW estimate ${j.iw.mean}`);
  assert.equal(j.activeUnits.perLayer[0].dim, 4);
  assert.ok(j.activeUnits.active >= 0 && j.activeUnits.active <= 4, `active units ${j.activeUnits.active}`);
  r = cli(['sample', run, '--n', '16', '--out', path.join(d, 'g.png')]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual([...fs.readFileSync(path.join(d, 'g.png')).subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
  // an existing PNG is not replaced without --force (issue 24, case 7); the run's own files never
  const png = fs.readFileSync(path.join(d, 'g.png'));
  r = cli(['sample', run, '--n', '4', '--out', path.join(d, 'g.png')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /g\.png already exists; choose another name or pass --force/);
  assert.ok(fs.readFileSync(path.join(d, 'g.png')).equals(png));
  r = cli(['sample', run, '--n', '4', '--out', path.join(run, 'checkpoint.utp'), '--force']);
  assert.equal(r.code, 2);
  assert.match(r.err, /checkpoint\.utp is an input of this command/);
  r = cli(['sample', run, '--n', '4', '--seed', '3', '--out', path.join(d, 'g.png'), '--force']);
  assert.equal(r.code, 0, r.err);
  assert.ok(!fs.readFileSync(path.join(d, 'g.png')).equals(png));
  const before = fs.readFileSync(path.join(run, 'checkpoint.utp'));
  r = cli(['train', '--config', cfg, '--out', run]);
  assert.equal(r.code, 2);
  assert.match(r.err, /already holds a run \(its checkpoint\.utp\); use --resume/);
  assert.ok(fs.readFileSync(path.join(run, 'checkpoint.utp')).equals(before));
  fs.rmSync(d, { recursive: true });
});

test('a conditional VAE trains from a run config: labels reach training, evaluation and the pictures', () => {
  const d = tmp();
  const cfg = writeJson(path.join(d, 'c.json'), { ...TINY, model: { ...TINY.model, conditional: 10 } });
  const run = path.join(d, 'run');
  let r = cli(['train', '--config', cfg, '--out', run, '--iw', '5', '--iw-n', '20']);
  assert.equal(r.code, 0, r.err);
  for (const f of ['report.md', 'samples.png', 'reconstructions.png']) assert.ok(fs.existsSync(path.join(run, f)), f);
  r = cli(['evaluate', run, '--iw', '10', '--n', '30', '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.ok(j.iw.mean < 0 && j.iw.mean > -800 && j.iw.mean >= j.testElbo - 5, `log p(x | y) ${j.iw.mean}, ELBO ${j.testElbo}`);
  assert.equal(j.activeUnits.perLayer[0].dim, 4);
  // a label space narrower than the data's classes is refused before training
  const narrow = writeJson(path.join(d, 'n.json'), { ...TINY, model: { ...TINY.model, conditional: 5 } });
  r = cli(['train', '--config', narrow, '--out', path.join(d, 'run5')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /model\.conditional is 5 but the data have 10 classes/);
  fs.rmSync(d, { recursive: true });
});

test('a run killed with SIGKILL mid-epoch resumes from its last checkpoint and ends where an uninterrupted run ends', async () => {
  const d = tmp();
  const cfg = writeJson(path.join(d, 'c.json'), { model: { type: 'vae', latent: [8], hidden: [[200]] }, data: { trainLimit: 3000, testLimit: 200 }, train: { epochs: 4, batchSize: 50 } });
  const killed = path.join(d, 'killed');
  const child = spawn(process.execPath, [BIN, 'train', '--config', cfg, '--out', killed, '--no-report'], { stdio: 'ignore' });
  const log = path.join(killed, 'log.jsonl');
  const t0 = Date.now();
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
      if (text.includes('"type":"eval"')) {
        clearInterval(poll);
        setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 150);
      } else if (Date.now() - t0 > 60_000) {
        clearInterval(poll);
        reject(new Error('no checkpoint within 60 s'));
      }
    }, 20);
  });
  await new Promise((r) => child.once('exit', r));
  const atKill = fs.readFileSync(log, 'utf8');
  assert.ok(!atKill.includes('"type":"end"'), 'the run finished before it could be killed; make the test run longer');
  const epochAtKill = readUtp(path.join(killed, 'checkpoint.utp')).meta.trainer as { epoch: number };
  assert.ok(epochAtKill.epoch >= 1 && epochAtKill.epoch < 4);
  let r = cli(['train', '--out', killed, '--resume', '--no-report']);
  assert.equal(r.code, 0, r.err);
  const recs = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(recs.filter((x) => x.type === 'resume').length, 1);
  assert.deepEqual(recs.filter((x) => x.type === 'eval').map((x) => x.epoch), [1, 2, 3, 4]);
  const straight = path.join(d, 'straight');
  r = cli(['train', '--config', cfg, '--out', straight, '--no-report']);
  assert.equal(r.code, 0, r.err);
  const a = readUtp(path.join(killed, 'checkpoint.utp'));
  const b = readUtp(path.join(straight, 'checkpoint.utp'));
  for (const [k, v] of b.tensors) assert.deepEqual(Array.from(a.tensors.get(k)!.data), Array.from(v.data), `tensor ${k}`);
  const curve = (c: typeof a) => (c.meta.trainer as { history: { epoch: number; trainLoss: number; metrics: unknown }[] }).history.map((h) => [h.epoch, h.trainLoss, h.metrics]);
  assert.deepEqual(curve(a), curve(b), 'the resumed run reports the same training curve');
  fs.rmSync(d, { recursive: true });
});

test('experiment: an unknown name and a bad budget are usage errors naming what is valid', () => {
  let r = cli(['experiment', 'mnist1000-m9']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown experiment 'mnist1000-m9'; available: moons-adgm, mnist100-m2, mnist100-adgm, mnist100-sdgm, mnist100-m1m2, potential-avae, mnist-untapped/);
  r = cli(['experiment', 'moons-adgm', '--budget-minutes', '-1']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--budget-minutes must be > 0/);
  r = cli(['experiment', 'mnist100-adgm', '--clip-norm', '-1']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--clip-norm must be a number ≥ 0, got -1/);
  r = cli(['experiment', 'mnist100-sdgm', '--samples', '0']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--samples/);
  r = cli(['experiment', 'mnist100-m2', '--lr', '0']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--lr must be a number > 0, got 0/);
  r = cli(['experiment', 'crism', '--lr', '0.01']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--lr applies to mnist100-m2, mnist100-adgm and mnist100-sdgm, not crism/);
  r = cli(['experiment', 'mnist100-adgm', '--kl-warmup', '-2']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--kl-warmup must be a number of epochs ≥ 0, got -2/);
  r = cli(['experiment', 'crism', '--resume', '--out', 'x']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--resume applies to mnist100-m2, mnist100-adgm and mnist100-sdgm, not crism/);
  r = cli(['experiment', 'mnist100-m2', '--resume']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--resume needs --out DIR/);
  r = cli(['experiment', 'mnist100-adgm', '--alpha', '-1']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--alpha must be a number ≥ 0, got -1/);
  r = cli(['experiment', 'moons-adgm', '--alpha', '10']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--alpha applies to mnist100-m2, mnist100-adgm, mnist100-sdgm and cagem, not moons-adgm/);
  r = cli(['experiment', 'mnist100-sdgm', '--aux-prior-x']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--aux-prior-x applies to moons-adgm and mnist100-adgm, not mnist100-sdgm/);
  r = cli(['experiment', 'crism', '--centre-max', '0.25']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--centre-max must be a share in \[1\/3, 1\], got 0\.25/);
  r = cli(['experiment', 'libs', '--centre-max', '0.6']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--centre-max applies to crism, not libs/);
  r = cli(['experiment', 'crism', '--endmembers', 'muddy']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--endmembers must be dusty, clear or an existing JSON file, got 'muddy'/);
  r = cli(['experiment', 'libs', '--endmembers', 'dusty']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--endmembers applies to crism, not libs/);
});

test('experiment --help lists the registered experiments; experiment NAME --help lists its options with defaults; an unknown option lists them', () => {
  let r = cli(['experiment', '--help']);
  assert.equal(r.code, 0);
  for (const n of ['moons-adgm', 'mnist100-m1m2', 'potential-avae', 'crism', 'libs', 'real-nir', 'vae-table']) assert.match(r.out, new RegExp(`\\b${n} \\[options\\]`));
  assert.match(r.out, /simulated CRISM-like unmixing/);
  r = cli(['experiment', 'libs', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /--budget-epochs <n>\s+epochs per model \(default: 500\)/);
  assert.match(r.out, /--weights <kind>/);
  assert.doesNotMatch(r.out, /--centre-max/);
  r = cli(['experiment', 'libs', '--frobnicate', '3']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown option '--frobnicate' for experiment libs; options of libs: --out, --budget-epochs, --budget-minutes, --seeds, --seed, --weights/);
});

test('experiment crism: a bad endmember file names the file and the key, and leaves no output directory', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-cli-em-'));
  try {
    const file = path.join(dir, 'em.json');
    fs.writeFileSync(file, JSON.stringify([{ name: 'olivine', refractiveIndex: 1.66, density: 3.32, continuum: [1, 0.45], bands: [] }]));
    const out = path.join(dir, 'run');
    const r = cli(['experiment', 'crism', '--endmembers', file, '--out', out]);
    assert.notEqual(r.code, 0);
    assert.ok(r.err.includes(`${file}: endmembers must be an array of 3 endmembers`), r.err);
    assert.equal(fs.existsSync(out), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('experiment --out: a directory of the user’s files (or the current directory) is refused before anything runs (issue 24, case 7)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-cli-exp-'));
  try {
    const mine = path.join(dir, 'mine');
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, 'report.md'), 'my notes\n');
    let r = cli(['experiment', 'potential-avae', '--out', mine]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--out .*mine holds files that are not the output of an untapped experiment \(report\.md\); choose a new or empty directory/);
    assert.deepEqual(fs.readdirSync(mine), ['report.md']);
    r = cli(['experiment', 'potential-avae', '--out', '.']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--out \. is the current directory/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bench: an unknown benchmark name is a usage error listing the valid ones', () => {
  const r = cli(['bench', '--only', 'vae,gan']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown benchmark 'gan'; valid: vae, m2, adgm/);
});

test('fit → predict → generate from CSV files; bad files exit 1 naming file and line', () => {
  const d = tmp();
  const D = 8;
  const head = 'id,' + Array.from({ length: D }, (_, j) => `c${j}`).join(',');
  const xs: string[] = [head];
  const ys: string[] = ['id,a,b'];
  for (let i = 0; i < 40; i++) {
    const t = (i % 10) / 9;
    xs.push(`r${i},` + Array.from({ length: D }, (_, j) => (t * Math.sin(j) + (1 - t) * Math.cos(j)).toFixed(4)).join(','));
    ys.push(`r${i},${t.toFixed(4)},${(1 - t).toFixed(4)}`);
  }
  fs.writeFileSync(path.join(d, 'x.csv'), xs.join('\n') + '\n');
  fs.writeFileSync(path.join(d, 'y.csv'), ys.join('\n') + '\n');
  fs.writeFileSync(path.join(d, 'bad.csv'), ys.slice(0, 5).join('\n') + '\nr4,0.5,x\n' + ys.slice(6).join('\n') + '\n');
  const out = path.join(d, 'model');
  let r = cli(['fit', '--x', path.join(d, 'x.csv'), '--y', path.join(d, 'bad.csv'), '--out', out, '--epochs', '2']);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad\.csv: line 6, column 3 \('b'\) is 'x', not a finite number/);
  assert.ok(!fs.existsSync(out) && !fs.existsSync(`${out}.partial`));
  r = cli(['fit', '--x', path.join(d, 'x.csv'), '--y', path.join(d, 'y.csv'), '--unfeatured', 'corners:10', '--out', out, '--epochs', '3', '--batch-size', '20']);
  assert.equal(r.code, 0, r.err);
  r = cli(['predict', out, '--x', path.join(d, 'x.csv')]);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.equal(lines[0], 'id,a,b,a_sd,b_sd');
  assert.equal(lines.length, 41);
  const [, a, b] = lines[1].split(',').map(Number);
  assert.ok(Math.abs(a + b - 1) < 1e-4, lines[1]);
  r = cli(['generate', out, '--y', '0.3,0.7;corners', '--out', path.join(d, 'g')]);
  assert.equal(r.code, 0, r.err);
  assert.equal(fs.readFileSync(path.join(d, 'g.csv'), 'utf8').trim().split('\n').length, 4);
  assert.ok(fs.statSync(path.join(d, 'g.png')).size > 1000);
  r = cli(['generate', out, '--y', '1,', '--out', path.join(d, 'g-empty')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /--y label 1, value 2 is empty \('1,'\)/);
  r = cli(['generate', out, '--y', '0.3,0.8']);
  assert.equal(r.code, 1);
  assert.match(r.err, /sums to 1\.1, not 1/);
  r = cli(['predict', path.join(d, 'nope'), '--x', path.join(d, 'x.csv')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /not a model directory written by `untapped fit`/);
  // nothing is written over without --force
  fs.writeFileSync(path.join(d, 'keep.csv'), 'precious\n');
  r = cli(['predict', out, '--x', path.join(d, 'x.csv'), '--out', path.join(d, 'keep.csv')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /keep\.csv already exists; .*--force/);
  assert.equal(fs.readFileSync(path.join(d, 'keep.csv'), 'utf8'), 'precious\n');
  r = cli(['generate', out, '--y', 'corners', '--out', path.join(d, 'g')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /g\.csv and .*g\.png and .*g\.svg and .*g\.vl\.json already exist/);
  r = cli(['generate', out, '--y', 'corners', '--out', path.join(d, 'g'), '--force']);
  assert.equal(r.code, 0, r.err);
  // --force never replaces an input (the data, the model's own files) or a directory
  const xBefore = fs.readFileSync(path.join(d, 'x.csv'));
  r = cli(['predict', out, '--x', path.join(d, 'x.csv'), '--out', path.join(d, 'x.csv'), '--force']);
  assert.equal(r.code, 2);
  assert.match(r.err, /x\.csv is an input of this command/);
  assert.ok(fs.readFileSync(path.join(d, 'x.csv')).equals(xBefore));
  r = cli(['predict', out, '--x', path.join(d, 'x.csv'), '--out', path.join(out, 'fit.json'), '--force']);
  assert.equal(r.code, 2);
  assert.match(r.err, /fit\.json is an input of this command/);
  r = cli(['predict', out, '--x', path.join(d, 'x.csv'), '--out', out, '--force']);
  assert.equal(r.code, 2);
  assert.match(r.err, /is a directory; give a file name/);
  // an interrupted fit's checkpoint is not discarded silently
  fs.mkdirSync(path.join(d, 'm2.partial'));
  fs.writeFileSync(path.join(d, 'm2.partial', 'checkpoint.utp'), 'x');
  r = cli(['fit', '--x', path.join(d, 'x.csv'), '--y', path.join(d, 'y.csv'), '--out', path.join(d, 'm2'), '--epochs', '2']);
  assert.equal(r.code, 2, 'a refused output: exit 2, as the README says');
  assert.match(r.err, /m2\.partial holds an interrupted fit; pass --resume .* or --force/);
  assert.ok(fs.existsSync(path.join(d, 'm2.partial', 'checkpoint.utp')));
  // bad resample counts and 1-based classes say what is wrong
  r = cli(['fit', '--x', path.join(d, 'x.csv'), '--y', path.join(d, 'y.csv'), '--unfeatured', 'resample:abc', '--out', path.join(d, 'm3'), '--epochs', '2']);
  assert.equal(r.code, 1);
  assert.match(r.err, /resample:N needs a positive integer N/);
  fs.writeFileSync(path.join(d, 'c.csv'), 'id,class\n' + Array.from({ length: 40 }, (_, i) => `r${i},${1 + (i % 3)}`).join('\n') + '\n');
  r = cli(['fit', '--x', path.join(d, 'x.csv'), '--y', path.join(d, 'c.csv'), '--labels', 'discrete', '--out', path.join(d, 'm4'), '--epochs', '2']);
  assert.equal(r.code, 1);
  assert.match(r.err, /c\.csv: classes are 0\.\.3 .* 0 has no rows \(1-based labels\?/);
  fs.writeFileSync(path.join(d, 'c2.csv'), 'id,class\n' + Array.from({ length: 40 }, (_, i) => `r${i},${i === 7 ? 100000 : i % 2}`).join('\n') + '\n');
  r = cli(['fit', '--x', path.join(d, 'x.csv'), '--y', path.join(d, 'c2.csv'), '--labels', 'discrete', '--out', path.join(d, 'm6'), '--epochs', '2']);
  assert.equal(r.code, 1);
  assert.match(r.err, /c2\.csv: line 9 \(id 'r7'\): class 100000 makes 100001 classes \(0\.\.100000\), but there are only 40 rows, so at least 99961 classes have no row \(a typo/);
  assert.ok(!fs.existsSync(path.join(d, 'm6')) && !fs.existsSync(path.join(d, 'm6.partial')));
  r = cli(['fit', '--x', path.join(d, 'x.csv'), '--y', path.join(d, 'y.csv'), '--level', '0.9', '--out', path.join(d, 'm5'), '--epochs', '2']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--level needs validation rows/);
});

test('predict into a pipe closed early (| head -1) ends quietly with status 0 (issue 24, case 13)', async () => {
  const d = tmp();
  const rows = (n: number, seed: number) => Array.from({ length: n }, (_, i) => `s${i},${[0, 1, 2].map((j) => (((i * 7 + j * 3 + seed) % 10) / 10).toFixed(2)).join(',')}`);
  fs.writeFileSync(path.join(d, 'x.csv'), ['id,a,b,c', ...rows(20, 1)].join('\n') + '\n');
  fs.writeFileSync(path.join(d, 'y.csv'), ['id,p,q', ...Array.from({ length: 20 }, (_, i) => `s${i},${(i % 5) / 5},${1 - (i % 5) / 5}`)].join('\n') + '\n');
  fs.writeFileSync(path.join(d, 'big.csv'), ['id,a,b,c', ...rows(6000, 2)].join('\n') + '\n');
  assert.equal(cli(['fit', '--x', path.join(d, 'x.csv'), '--y', path.join(d, 'y.csv'), '--epochs', '1', '--out', path.join(d, 'm')]).code, 0);
  const child = spawn(process.execPath, [BIN, 'predict', path.join(d, 'm'), '--x', path.join(d, 'big.csv'), '--samples', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const first = await new Promise<string>((resolve) => child.stdout.once('data', (b: Buffer) => resolve(b.toString())));
  child.stdout.destroy(); // the reader goes away, as head does after its line
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.match(first, /^id,p,q,p_sd,q_sd/);
  assert.equal(code, 0, err);
  assert.doesNotMatch(err, /EPIPE|Error|at .*\.js/);
  fs.rmSync(d, { recursive: true });
});

test('train: a second writer refuses naming the first one’s pid; a run stopped before its first checkpoint is taken over or resumed from nothing; a directory of user files is refused (issue 24, cases 7, 10, 11)', async () => {
  const d = tmp();
  const cfg = writeJson(path.join(d, 'c.json'), TINY);
  // the user's own files are not replaced by a run's report
  const mine = path.join(d, 'mine');
  fs.mkdirSync(mine);
  fs.writeFileSync(path.join(mine, 'report.md'), 'my notes\n');
  let r = cli(['train', '--config', cfg, '--out', mine, '--no-report']);
  assert.equal(r.code, 1);
  assert.match(r.err, /mine holds files that are not an untapped run \(report\.md\), which the run would replace; choose a new or empty directory/);
  assert.deepEqual(fs.readdirSync(mine), ['report.md']);
  assert.equal(fs.readFileSync(path.join(mine, 'report.md'), 'utf8'), 'my notes\n');
  // another live writer holds the directory
  const run = path.join(d, 'run');
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  await new Promise((res) => other.once('spawn', res));
  fs.writeFileSync(`${run}.lock`, JSON.stringify({ pid: other.pid, host: os.hostname(), started: new Date().toISOString(), argv: ['train'] }));
  r = cli(['train', '--config', cfg, '--out', run, '--no-report']);
  other.kill('SIGKILL');
  await new Promise((res) => other.once('exit', res));
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`run directory .*run is in use by another untapped process \\(pid ${other.pid}, since`));
  assert.ok(!fs.existsSync(run), 'nothing written');
  // its process gone, the lock is stale: a run goes ahead and releases the lock at the end
  r = cli(['train', '--config', cfg, '--out', run, '--no-report']);
  assert.equal(r.code, 0, r.err);
  assert.ok(!fs.existsSync(`${run}.lock`));
  // killed before its first checkpoint: only config.json (and the start of a log) are left
  fs.rmSync(path.join(run, 'checkpoint.utp'));
  r = cli(['train', '--config', cfg, '--out', run, '--no-report']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /taking over a run that stopped before its first checkpoint/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'log.jsonl'), 'utf8').split('\n')[0]).type, 'start');
  fs.rmSync(path.join(run, 'checkpoint.utp'));
  r = cli(['train', '--out', run, '--resume', '--no-report']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /stopped before its first checkpoint; it starts again from the beginning/);
  assert.ok(fs.existsSync(path.join(run, 'checkpoint.utp')));
  fs.rmSync(d, { recursive: true });
});
