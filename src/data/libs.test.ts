import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  leaveCompoundsOut,
  LIBS_COMPOUNDS,
  LIBS_LINES,
  LIBS_OXIDES,
  libsChannel,
  libsSpectrum,
  libsWavelengths,
  plasmaTemperature,
  simulateLibs,
} from './index.js';

const C = 800;

function pure(o: number): number[] {
  const c = new Array<number>(LIBS_OXIDES.length).fill(0);
  c[o] = 1;
  return c;
}

/** Channels that are local maxima standing out by more than `frac` of the spectrum's range from the ±6-channel neighbourhood minimum. */
function peaks(s: Float32Array, frac = 0.02): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of s) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const out: number[] = [];
  for (let c = 1; c < s.length - 1; c++) {
    if (!(s[c] >= s[c - 1] && s[c] > s[c + 1])) continue;
    let m = Infinity;
    for (let j = Math.max(0, c - 6); j <= Math.min(s.length - 1, c + 6); j++) m = Math.min(m, s[j]);
    if (s[c] - m > frac * (hi - lo)) out.push(c);
  }
  return out;
}

test('compounds: at least six distinct compositions on the simplex of at least six oxides', () => {
  assert.ok(LIBS_OXIDES.length >= 6);
  assert.ok(LIBS_COMPOUNDS.length >= 6);
  const keys = new Set(LIBS_COMPOUNDS.map((c) => c.composition.map((v) => v.toFixed(4)).join(',')));
  assert.equal(keys.size, LIBS_COMPOUNDS.length);
  for (const c of LIBS_COMPOUNDS) {
    assert.equal(c.composition.length, LIBS_OXIDES.length);
    assert.ok(Math.abs(c.composition.reduce((a, b) => a + b, 0) - 1) < 1e-12, c.name);
    assert.ok(c.composition.every((v) => v >= 0));
  }
  assert.equal(LIBS_LINES.length, LIBS_OXIDES.length);
  for (const ls of LIBS_LINES) assert.ok(ls.length >= 3);
  const lam = libsWavelengths();
  assert.equal(lam.length, C);
  assert.ok(Math.abs(lam[0] - 240) < 1e-4 && Math.abs(lam[C - 1] - 850) < 1e-4);
  assert.equal(libsChannel(240), 0);
  assert.equal(libsChannel(850), C - 1);
});

test('simulateLibs: shapes, normalisation, seeded reproducibility', () => {
  const a = simulateLibs({ seed: 1 });
  assert.equal(a.n, 6 * 30);
  assert.equal(a.channels, C);
  assert.equal(a.x.length, a.n * C);
  assert.equal(a.y.length, a.n * LIBS_OXIDES.length);
  assert.deepEqual(a.compounds, LIBS_COMPOUNDS.map((c) => c.name));
  for (let r = 0; r < a.n; r++) {
    let s = 0;
    for (let c = 0; c < C; c++) {
      assert.ok(a.x[r * C + c] >= 0);
      s += a.x[r * C + c];
    }
    assert.ok(Math.abs(s / C - 1) < 1e-4, `row ${r} has mean ${s / C}`);
    const k = LIBS_OXIDES.length;
    const comp = LIBS_COMPOUNDS[a.compound[r]].composition;
    for (let o = 0; o < k; o++) assert.ok(Math.abs(a.y[r * k + o] - comp[o]) < 1e-6);
  }
  assert.deepEqual(simulateLibs({ seed: 1 }), a);
  const b = simulateLibs({ seed: 2 });
  assert.notDeepEqual(b.x, a.x);
  assert.deepEqual(b.y, a.y, 'labels do not depend on the seed');
  // Shot-to-shot nuisance: intensities and temperatures vary within a compound.
  const t0 = Array.from(a.temperature.subarray(0, 30));
  assert.ok(Math.max(...t0) - Math.min(...t0) > 0.02);
  const s0 = Array.from(a.intensity.subarray(0, 30));
  assert.ok(Math.max(...s0) / Math.min(...s0) > 1.3);
  const c = simulateLibs({ perCompound: [1, 2, 3, 0, 0, 4], channels: 500, normalize: false });
  assert.equal(c.n, 10);
  assert.deepEqual(Array.from(c.compound), [0, 1, 1, 2, 2, 2, 5, 5, 5, 5]);
  assert.equal(c.x.length, 10 * 500);
});

test('a pure oxide has its peaks at that oxide’s line positions, and only there', () => {
  for (let o = 0; o < LIBS_OXIDES.length; o++) {
    const s = libsSpectrum(pure(o));
    const found = peaks(s);
    const lineCh = LIBS_LINES[o].map((l) => libsChannel(l.wavelength));
    assert.ok(found.length >= 2, `${LIBS_OXIDES[o]}: peaks ${found}`);
    for (const p of found) {
      assert.ok(
        lineCh.some((c) => Math.abs(c - p) <= 1),
        `${LIBS_OXIDES[o]}: peak at channel ${p} (${libsWavelengths()[p].toFixed(1)} nm) is not one of its lines ${lineCh}`,
      );
    }
    // Lines closer than two channels (e.g. Al 308.2 / 309.3 nm) merge into one peak.
    for (const c of lineCh) assert.ok(found.some((p) => Math.abs(c - p) <= 2), `${LIBS_OXIDES[o]}: no peak at line channel ${c}`);
  }
  // Pure SiO2 shows nothing at the Na doublet or the Ca II 393 nm line.
  const si = peaks(libsSpectrum(pure(0)));
  for (const nm of [589.0, 393.37]) assert.ok(!si.some((p) => Math.abs(p - libsChannel(nm)) <= 1), `no peak at ${nm} nm`);
});

test('matrix effect: line intensities are not linear in composition', () => {
  const comp = (pairs: [number, number][]) => {
    const c = new Array<number>(LIBS_OXIDES.length).fill(0);
    for (const [o, v] of pairs) c[o] = v;
    return c;
  };
  const siCh = libsChannel(288.16);
  const lines = (c: number[]) => libsSpectrum(c, { part: 'lines' });
  // Same SiO2 fraction, different matrix: Na₂O cools the plasma, so the Si line drops.
  const withCa = lines(comp([
    [0, 0.5],
    [5, 0.5],
  ]))[siCh];
  const withNa = lines(comp([
    [0, 0.5],
    [6, 0.5],
  ]))[siCh];
  assert.ok(withCa > 1.1 * withNa, `Si 288 nm with CaO ${withCa} vs with Na2O ${withNa}`);
  assert.ok(plasmaTemperature(comp([[6, 1]])) < 1 && plasmaTemperature(comp([[3, 1]])) > 1);
  // Self-absorption: doubling MgO (0.5 → 1) less than doubles its strong line.
  const mgCh = libsChannel(279.55);
  const half = lines(comp([
    [4, 0.5],
    [5, 0.5],
  ]))[mgCh];
  const full = lines(pure(4))[mgCh];
  assert.ok(full < 1.9 * half && full > half, `Mg 279.55 nm: ${half} at 50 %, ${full} at 100 %`);
  // A 50/50 mix of two compounds is not the mean of their spectra.
  const a = LIBS_COMPOUNDS[0].composition;
  const b = LIBS_COMPOUNDS[5].composition;
  const mix = libsSpectrum(a.map((v, i) => 0.5 * v + 0.5 * b[i]));
  const sa = libsSpectrum(a);
  const sb = libsSpectrum(b);
  let worst = 0;
  for (let c = 0; c < C; c++) worst = Math.max(worst, Math.abs(mix[c] - (sa[c] + sb[c]) / 2) / ((sa[c] + sb[c]) / 2));
  assert.ok(worst > 0.05, `largest relative departure from linear mixing ${worst}`);
});

test('leaveCompoundsOut: train on three compounds, test on the three others', () => {
  const data = simulateLibs({ seed: 4, perCompound: 10 });
  const { train, test: held } = leaveCompoundsOut(data);
  assert.equal(train.n, 30);
  assert.equal(held.n, 30);
  assert.deepEqual([...new Set(train.compound)].map((i) => data.compounds[i]), ['Norite', 'Picrite', 'Shergottite']);
  assert.deepEqual([...new Set(held.compound)].map((i) => data.compounds[i]), ['Nau2-Lo', 'Nau2-Med', 'Nau2-Hi']);
  assert.deepEqual(held.x.subarray(0, C), data.x.subarray(30 * C, 31 * C));
  assert.equal(train.x.length, 30 * C);
  assert.equal(held.y.length, 30 * LIBS_OXIDES.length);
  assert.deepEqual(held.compounds, data.compounds);
  const byIndex = leaveCompoundsOut(data, [0, 'Picrite']);
  assert.equal(byIndex.test.n, 20);
  assert.equal(byIndex.train.n, 40);
  assert.throws(() => leaveCompoundsOut(data, ['Basalt']), /leaveCompoundsOut: unknown compound "Basalt"/);
  assert.throws(() => leaveCompoundsOut(data, [0, 1, 2, 3, 4, 5]), /no spectra left for training/);
  assert.throws(() => leaveCompoundsOut(data, []), /the test compounds have no spectra/);
});

test('bad inputs are clear errors', () => {
  assert.throws(() => libsSpectrum([1, 0]), /composition must have 9 entries/);
  assert.throws(() => libsSpectrum([0.5, 0.6, 0, 0, 0, 0, 0, 0, 0]), /composition must sum to 1, sums to 1\.1/);
  assert.throws(() => libsSpectrum(pure(0), { temperature: 0 }), /temperature must be a positive number/);
  assert.throws(() => simulateLibs({ perCompound: [1, 2] }), /perCompound has 2 entries for 6 compounds/);
  assert.throws(() => simulateLibs({ perCompound: 0 }), /perCompound gives no spectra/);
  assert.throws(() => simulateLibs({ noise: -1 }), /noise must be a finite number ≥ 0, got -1/);
  assert.throws(() => simulateLibs({ channels: 1 }), /channels must be an integer ≥ 2, got 1/);
});
