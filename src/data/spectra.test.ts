import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abundanceGrid, absorptionCoefficient, chandrasekharH, CRISM_CHANNELS, CRISM_ENDMEMBERS, CRISM_ENDMEMBERS_CLEAR, CRISM_ENDMEMBERS_DUSTY, CRISM_SIMULATIONS, CRISM_GEOMETRIES, CRISM_MINERALS, crismWavelengths, endmemberSpectra, hapkeReflectance, mixSpectrum, simulateCrism, singleScatteringAlbedo, type Endmember } from './index.js';
import { readEndmembersFile } from '../node/index.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const D = CRISM_CHANNELS;

function row(x: Float32Array, r: number, d = D): Float32Array {
  return x.subarray(r * d, (r + 1) * d);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('abundanceGrid: the 66 points of step 0.1 on the simplex, each once', () => {
  const g = abundanceGrid();
  assert.equal(g.length, 66);
  const seen = new Set<string>();
  for (const r of g) {
    assert.equal(r.length, 3);
    assert.ok(Math.abs(r[0] + r[1] + r[2] - 1) < 1e-12, `row ${r} sums to 1`);
    for (const v of r) {
      assert.ok(v >= 0 && Math.abs(v * 10 - Math.round(v * 10)) < 1e-9, `entry ${v} is a multiple of 0.1`);
    }
    seen.add(r.map((v) => Math.round(v * 10)).join(','));
  }
  assert.equal(seen.size, 66);
  for (const corner of ['10,0,0', '0,10,0', '0,0,10', '3,3,4']) assert.ok(seen.has(corner), corner);
});

test('geometry table and wavelengths match the spec', () => {
  assert.deepEqual(
    CRISM_GEOMETRIES.map((g) => [g.incidence, g.emission]),
    [
      [33.9, 0],
      [42.7, 0],
      [12.7, 30],
    ],
  );
  assert.deepEqual([...CRISM_MINERALS], ['olivine', 'diopside', 'bytownite']);
  const lam = crismWavelengths();
  assert.equal(lam.length, 165);
  assert.ok(Math.abs(lam[0] - 0.9) < 1e-6 && Math.abs(lam[164] - 2.5) < 1e-6);
});

test('Hapke pieces: H(x) = 1 without scattering, hand-computed radiance factor', () => {
  assert.equal(chandrasekharH(0.7, 0), 1);
  assert.equal(chandrasekharH(0, 0.9), 1);
  // w = 0.75: γ = 0.5, H(1) = 3/2, H(0.5) = 2/1.5; RADF = (0.75/4)·(1/1.5)·1.5·(4/3) = 0.25.
  assert.ok(Math.abs(hapkeReflectance(0.75, 1, 0.5) - 0.25) < 1e-12);
  // Albedo rises with reflectance; larger grains are darker (more absorption on the longer path).
  assert.ok(hapkeReflectance(0.9, 0.8, 1) > hapkeReflectance(0.8, 0.8, 1));
  for (let m = 0; m < 3; m++) {
    const small = singleScatteringAlbedo(m, 63);
    const big = singleScatteringAlbedo(m, 108);
    for (let c = 0; c < D; c++) {
      assert.ok(big[c] < small[c], `mineral ${m} channel ${c}`);
      assert.ok(small[c] > 0 && small[c] < 1);
    }
  }
});

for (const [name, set] of [
  ['dusty', CRISM_ENDMEMBERS_DUSTY],
  ['clear', CRISM_ENDMEMBERS_CLEAR],
] as const) {
  test(`endmember shapes (${name}): olivine 1 µm band without 2 µm band, diopside 1 and 2.3 µm bands, flat bytownite${name === 'clear' ? ', the bright one' : ''}`, () => {
    endmemberShapes(set, name === 'clear');
  });
  test(`intimate mixing is not linear (${name}): 50/50 mixes are darker than the mean of the pure spectra`, () => {
    // dusty: diopside and bytownite are close in brightness, so their mix is the most nearly linear
    mixingNonLinear(set, name === 'clear' ? { max: 0.04, mean: -0.01 } : { max: 0.01, mean: -0.004 });
  });
}

function endmemberShapes(set: readonly Endmember[], brightBytownite: boolean): void {
  const em = endmemberSpectra({ geometry: 0, endmembers: set });
  const lam = crismWavelengths();
  const at = (m: number, um: number) => {
    let best = 0;
    for (let c = 0; c < D; c++) if (Math.abs(lam[c] - um) < Math.abs(lam[best] - um)) best = c;
    return em[m * D + best];
  };
  // Olivine: deep near 1.05 µm, nothing at 2.3 µm (reflectance keeps rising).
  assert.ok(at(0, 1.06) < 0.6 * at(0, 1.8));
  assert.ok(at(0, 2.3) >= at(0, 1.9));
  // Diopside: both bands.
  assert.ok(at(1, 1.04) < 0.7 * at(1, 1.6));
  assert.ok(at(1, 2.3) < 0.85 * at(1, 1.7));
  // Bytownite: weak band (< 15% deep) near 1.25 µm; in `clear` also the brightest.
  assert.ok(at(2, 1.25) < at(2, 1.8) && at(2, 1.25) > 0.85 * at(2, 1.8));
  if (brightBytownite) for (let c = 0; c < D; c++) assert.ok(em[2 * D + c] > em[c] - 0.02, `bytownite is the bright one at channel ${c}`);
}

/** Every 50/50 pair at every geometry: max |mix − linear| above `min.max`, mean (mix − linear) below `min.mean`. */
function mixingNonLinear(set: readonly Endmember[], min: { max: number; mean: number }): void {
  for (let g = 0; g < 3; g++) {
    const em = endmemberSpectra({ geometry: g, grainSize: 85.5, endmembers: set });
    for (const [a, b] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ]) {
      const ab = [0, 0, 0];
      ab[a] = 0.5;
      ab[b] = 0.5;
      const mix = mixSpectrum(ab, g, 85.5, set);
      let maxDiff = 0;
      let meanDiff = 0;
      for (let c = 0; c < D; c++) {
        const diff = mix[c] - (em[a * D + c] + em[b * D + c]) / 2;
        maxDiff = Math.max(maxDiff, Math.abs(diff));
        meanDiff += diff / D;
      }
      assert.ok(maxDiff > min.max, `geometry ${g}, minerals ${a}+${b}: max |mix − linear| = ${maxDiff}`);
      assert.ok(meanDiff < min.mean, `geometry ${g}, minerals ${a}+${b}: mean (mix − linear) = ${meanDiff}`);
    }
  }
}

test('a pure-corner abundance gives the pure spectrum (geometry and grain size of the pixel)', () => {
  for (let m = 0; m < 3; m++) {
    const ab = [0, 0, 0];
    ab[m] = 1;
    for (let g = 0; g < 3; g++) {
      const pure = endmemberSpectra({ geometry: g, grainSize: 70 });
      assert.ok(maxAbsDiff(mixSpectrum(ab, g, 70), row(pure, m)) < 1e-6, `mineral ${m}, geometry ${g}`);
    }
  }
  // Same through the simulator, with the jitter on (it leaves pure samples pure) and no noise.
  const data = simulateCrism({ n: 700, seed: 5, noise: 0, gain: 0, outlierFraction: 0 });
  const grid = abundanceGrid();
  let checked = 0;
  for (let r = 0; r < data.n; r++) {
    const nom = grid[data.nominal[r]];
    const m = nom.indexOf(1);
    if (m < 0) continue;
    assert.deepEqual(Array.from(row(data.y, r, 3)), nom);
    const pure = endmemberSpectra({ geometry: data.geometry[r], grainSize: data.grainSize[r] });
    assert.ok(maxAbsDiff(row(data.x, r), row(pure, m)) < 1e-5, `row ${r}`);
    checked++;
  }
  assert.ok(checked >= 20, `checked ${checked} pure pixels`);
});

test('the three geometries give different reflectance for the same composition', () => {
  const s = [0, 1, 2].map((g) => mixSpectrum([0.3, 0.3, 0.4], g, 85.5));
  for (const [p, q] of [
    [0, 1],
    [0, 2],
    [1, 2],
  ]) {
    let mad = 0;
    for (let c = 0; c < D; c++) mad += Math.abs(s[p][c] - s[q][c]) / D;
    assert.ok(mad > 0.03, `geometries ${p} and ${q}: mean |difference| ${mad}`);
  }
  // More oblique illumination is darker: Angle 2 (12.7°) > Position 1 (33.9°) > Position 2 (42.7°).
  assert.ok(s[2][100] > s[0][100] && s[0][100] > s[1][100]);
});

test('simulateCrism: defaults, shapes, ranges, simplex rows, seeded reproducibility', () => {
  const a = simulateCrism();
  assert.equal(a.n, 5354);
  assert.equal(a.channels, 165);
  assert.equal(a.x.length, 5354 * 165);
  assert.equal(a.y.length, 5354 * 3);
  assert.deepEqual(
    [0, 1, 2].map((g) => a.geometry.filter((v) => v === g).length),
    [1866, 1742, 1746],
  );
  for (let i = 0; i < a.x.length; i++) assert.ok(a.x[i] >= 0 && a.x[i] <= 1, `x[${i}] = ${a.x[i]}`);
  const grid = abundanceGrid();
  const perNominal = new Int32Array(66);
  for (let r = 0; r < a.n; r++) {
    const yr = row(a.y, r, 3);
    assert.ok(Math.abs(yr[0] + yr[1] + yr[2] - 1) < 1e-5, `row ${r} sums to ${yr[0] + yr[1] + yr[2]}`);
    const nom = grid[a.nominal[r]];
    for (let i = 0; i < 3; i++) {
      assert.ok(yr[i] >= 0);
      if (nom[i] === 0) assert.equal(yr[i], 0, 'a mineral that was not weighed in stays absent');
      assert.ok(Math.abs(yr[i] - nom[i]) < 0.15, `row ${r}: ${yr[i]} far from nominal ${nom[i]}`);
    }
    assert.ok(a.grainSize[r] >= 63 && a.grainSize[r] <= 108);
    perNominal[a.nominal[r]]++;
  }
  assert.ok(Math.min(...perNominal) >= 70, 'every grid point is represented');
  // The jitter moves interior points off their nominal values.
  let moved = 0;
  for (let r = 0; r < a.n; r++) if (Math.abs(a.y[3 * r] - grid[a.nominal[r]][0]) > 1e-3) moved++;
  assert.ok(moved > a.n / 2, `${moved} rows jittered`);

  const b = simulateCrism({ n: 400, seed: 3 });
  const c = simulateCrism({ n: 400, seed: 3 });
  assert.deepEqual(b, c);
  const e = simulateCrism({ n: 400, seed: 4 });
  assert.notDeepEqual(b.x, e.x);
  assert.notDeepEqual(b.y, e.y);
  assert.deepEqual(simulateCrism({ n: 50 }).x, simulateCrism({ n: 50, seed: 0 }).x);
  // No jitter: y is exactly the nominal grid point.
  const nj = simulateCrism({ n: 200, jitter: 0 });
  for (let r = 0; r < nj.n; r++) assert.deepEqual(Array.from(row(nj.y, r, 3)), grid[nj.nominal[r]].map(Math.fround));
});

test('simulateCrism: noise level and outlier fraction as requested', () => {
  const clean = simulateCrism({ n: 3000, seed: 8, noise: 0, outlierFraction: 0 });
  const noisy = simulateCrism({ n: 3000, seed: 8, noise: 0.01, outlierFraction: 0 });
  let ss = 0;
  for (let i = 0; i < clean.x.length; i++) ss += (noisy.x[i] - clean.x[i]) ** 2;
  const sd = Math.sqrt(ss / clean.x.length);
  assert.ok(Math.abs(sd - 0.01) < 0.0005, `noise std ${sd}`);
  assert.equal(
    clean.outlier.reduce((s, v) => s + v, 0),
    0,
  );

  const d = simulateCrism({ seed: 2, outlierFraction: 0.05 });
  const k = d.outlier.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(k / d.n - 0.05) < 0.012, `outlier fraction ${k / d.n}`);
  // Outliers are the dark container: their mean reflectance is well below the others'.
  let mo = 0;
  let mi = 0;
  for (let r = 0; r < d.n; r++) {
    let s = 0;
    for (let c = 0; c < D; c++) s += d.x[r * D + c] / D;
    if (d.outlier[r]) mo += s / k;
    else mi += s / (d.n - k);
  }
  assert.ok(mo < 0.7 * mi, `outlier mean ${mo} vs inlier mean ${mi}`);
});

test('bad inputs are clear errors', () => {
  assert.throws(() => simulateCrism({ n: 0 }), /simulateCrism: n must be a positive integer, got 0/);
  assert.throws(() => simulateCrism({ outlierFraction: 1.5 }), /outlierFraction must be a number in \[0, 1\], got 1\.5/);
  assert.throws(() => simulateCrism({ noise: -1 }), /noise must be a number/);
  assert.throws(() => simulateCrism({ grainRange: [100, 50] }), /grainRange must be/);
  assert.throws(() => mixSpectrum([0.5, 0.6, 0], 0, 80), /abundance must sum to 1, sums to 1\.1/);
  assert.throws(() => mixSpectrum([0.5, 0.5], 0, 80), /abundance must have 3 entries, got 2/);
  assert.throws(() => mixSpectrum([1, 0, 0], 3, 80), /geometry must be an integer in 0\.\.2, got 3/);
  assert.throws(() => mixSpectrum([1, 0, 0], 0, -5), /grain size must be a positive number/);
  assert.throws(() => endmemberSpectra({ geometry: 7 }), /endmemberSpectra: geometry must be an integer/);
});

/** Root-mean-square distance, over the 66 grid points and all channels, of the mixture from the abundance-weighted mean of the pure spectra. */
function rmsFromLinear(set: readonly Endmember[]): number {
  const pure = [0, 1, 2].map((k) => mixSpectrum([0, 1, 2].map((j) => (j === k ? 1 : 0)), 0, 85.5, set));
  let ss = 0;
  let n = 0;
  for (const a of abundanceGrid()) {
    const m = mixSpectrum(a, 0, 85.5, set);
    for (let c = 0; c < D; c++) {
      ss += (m[c] - (a[0] * pure[0][c] + a[1] * pure[1][c] + a[2] * pure[2][c])) ** 2;
      n++;
    }
  }
  return Math.sqrt(ss / n);
}

test('endmember sets: the default dusty has a darker bytownite than clear, is still non-linear but closer to linear; same draws for the same seed', () => {
  assert.equal(CRISM_SIMULATIONS.clear, CRISM_ENDMEMBERS_CLEAR);
  assert.equal(CRISM_SIMULATIONS.dusty, CRISM_ENDMEMBERS_DUSTY);
  assert.equal(CRISM_ENDMEMBERS, CRISM_ENDMEMBERS_DUSTY);
  const mean = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0) / v.length;
  const clear = endmemberSpectra({ endmembers: CRISM_ENDMEMBERS_CLEAR });
  const dusty = endmemberSpectra();
  // olivine and diopside are the same minerals in both sets
  assert.ok(maxAbsDiff(row(clear, 0), row(dusty, 0)) < 1e-7 && maxAbsDiff(row(clear, 1), row(dusty, 1)) < 1e-7);
  const bc = mean(row(clear, 2));
  const bd = mean(row(dusty, 2));
  assert.ok(bc > 0.6 && bd < 0.52 && bd > 0.45, `bytownite mean reflectance clear ${bc}, dusty ${bd}`);
  const lc = rmsFromLinear(CRISM_ENDMEMBERS_CLEAR);
  const ld = rmsFromLinear(CRISM_ENDMEMBERS_DUSTY);
  assert.ok(ld > 0.01 && ld < 0.75 * lc, `rms distance from linear mixing: clear ${lc}, dusty ${ld}`);
  // the explicit default equals the implicit one; the random draws do not depend on the set
  const a = simulateCrism({ n: 300, seed: 4 });
  assert.deepEqual(simulateCrism({ n: 300, seed: 4, endmembers: CRISM_ENDMEMBERS_DUSTY }).x, a.x);
  const b = simulateCrism({ n: 300, seed: 4, endmembers: CRISM_ENDMEMBERS_CLEAR });
  assert.deepEqual(b.y, a.y);
  assert.deepEqual(b.grainSize, a.grainSize);
  assert.deepEqual(b.outlier, a.outlier);
  assert.ok(maxAbsDiff(a.x, b.x) > 0.05);
});

test('endmember sets: a caller\'s own set is checked and copied, so changing it later takes effect; built-ins are frozen', () => {
  const own = structuredClone(CRISM_ENDMEMBERS_DUSTY) as Endmember[];
  assert.deepEqual(simulateCrism({ n: 120, seed: 1, endmembers: own }).x, simulateCrism({ n: 120, seed: 1, endmembers: CRISM_ENDMEMBERS_DUSTY }).x);
  const before = absorptionCoefficient(2, own);
  own[2].continuum = [4, 4];
  const after = absorptionCoefficient(2, own);
  assert.ok(Math.abs(after[0] - before[0] - 2) < 1e-9, `α at 0.9 µm: ${before[0]} → ${after[0]} (continuum 2 → 4)`);
  assert.ok(singleScatteringAlbedo(2, 80, own)[50] < singleScatteringAlbedo(2, 80, CRISM_ENDMEMBERS_DUSTY)[50]);
  assert.throws(() => {
    (CRISM_ENDMEMBERS_CLEAR[2] as Endmember).continuum = [1, 1];
  }, TypeError);
  assert.throws(() => {
    (CRISM_ENDMEMBERS_DUSTY[0].bands[0] as { strength: number }).strength = 0;
  }, TypeError);
});

test('endmember sets: bad sets and files are clear errors naming the key and the file', () => {
  const good = structuredClone(CRISM_ENDMEMBERS) as Endmember[];
  const with_ = (f: (s: Endmember[]) => void): Endmember[] => {
    const s = structuredClone(good);
    f(s);
    return s;
  };
  assert.throws(() => simulateCrism({ endmembers: good.slice(0, 2) }), /simulateCrism: endmembers must be an array of 3 endmembers \(olivine, diopside, bytownite\), got 2/);
  assert.throws(() => mixSpectrum([1, 0, 0], 0, 80, with_((s) => (s[1].refractiveIndex = 0.9))), /mixSpectrum: endmembers\[1\]\.refractiveIndex must be a finite number > 1, got 0\.9/);
  assert.throws(() => endmemberSpectra({ endmembers: with_((s) => (s[2].continuum = [1, -1])) }), /endmemberSpectra: endmembers\[2\]\.continuum\[1\] must be a finite number ≥ 0 \(cm⁻¹\), got -1/);
  assert.throws(() => singleScatteringAlbedo(0, 80, with_((s) => (s[0].bands[1].width = 0))), /endmembers\[0\]\.bands\[1\]\.width must be a finite number > 0/);
  assert.throws(() => absorptionCoefficient(0, with_((s) => (s[0].density = NaN))), /endmembers\[0\]\.density must be a finite number > 0/);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'untapped-em-'));
  try {
    const ok = path.join(dir, 'ok.json');
    fs.writeFileSync(ok, JSON.stringify({ endmembers: CRISM_ENDMEMBERS_DUSTY }));
    assert.deepEqual(endmemberSpectra({ endmembers: readEndmembersFile(ok) }), endmemberSpectra({ endmembers: CRISM_ENDMEMBERS_DUSTY }));
    const arr = path.join(dir, 'arr.json');
    fs.writeFileSync(arr, JSON.stringify(CRISM_ENDMEMBERS_CLEAR));
    assert.deepEqual(readEndmembersFile(arr), CRISM_ENDMEMBERS_CLEAR);
    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, '[{"name": "olivine",');
    assert.throws(() => readEndmembersFile(broken), (e: Error) => e.message.startsWith(`${broken}: not valid JSON`));
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify(with_((s) => ((s[2].bands[0] as unknown as Record<string, unknown>).strength = 'strong'))));
    assert.throws(() => readEndmembersFile(bad), (e: Error) => e.message === `${bad}: endmembers[2].bands[0].strength must be a finite number ≥ 0 (cm⁻¹), got "strong"`);
    assert.throws(() => readEndmembersFile(path.join(dir, 'missing.json')), /missing\.json: cannot read the endmember file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
