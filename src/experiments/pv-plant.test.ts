import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellState, cellVoltage, conditionFaults, maximumPowerPoint, MULTI_SI_CELL, PV_CHANNELS, PV_CONDITION_SHARES, PV_CONDITIONS, simulatePvPlant, stringSeriesResistance, stringVoltage } from './pv-plant.js';

test('cell: the voltage solves the single-diode equation forward and in reverse bias; Voc 0.61 V at STC, about −2 mV/K', () => {
  for (const [g, t] of [
    [1000, 25],
    [300, -5],
    [50, 40],
  ]) {
    const c = cellState(MULTI_SI_CELL, g, t);
    for (const i of [0, 0.3 * c.iph, 0.95 * c.iph, c.iph + 0.5, c.iph + 2]) {
      const v = cellVoltage(c, i);
      const u = v + i * c.rs;
      const residual = c.iph - c.i0 * Math.expm1(u / c.nvt) - u / c.rsh - i;
      assert.ok(Math.abs(residual) < 1e-9, `g ${g}, t ${t}, i ${i}: residual ${residual}`);
      if (i > c.iph) assert.ok(v < 0, 'a cell driven above its photocurrent is in reverse bias');
    }
  }
  assert.ok(Math.abs(cellVoltage(cellState(MULTI_SI_CELL, 1000, 25), 0) - 0.61) < 1e-3);
  const dVoc = (cellVoltage(cellState(MULTI_SI_CELL, 1000, 35), 0) - cellVoltage(cellState(MULTI_SI_CELL, 1000, 25), 0)) / 10;
  assert.ok(dVoc < -1.6e-3 && dVoc > -2.6e-3, `dVoc/dT ${dVoc} V/K`);
});

const G = 800;
const T = 25;
const mpp = (c: (typeof PV_CONDITIONS)[number]) => maximumPowerPoint(conditionFaults(c, 0.15), G, T);

test('series resistance (RS4, RS8) lowers V at the maximum power point at unchanged G; the current barely moves', () => {
  const n = mpp('N');
  const r4 = mpp('RS4');
  const r8 = mpp('RS8');
  assert.ok(n.v > r4.v && r4.v > r8.v, `V: N ${n.v}, RS4 ${r4.v}, RS8 ${r8.v}`);
  for (const r of [r4, r8]) assert.ok(Math.abs(r.i / n.i - 1) < 0.03, `I ${r.i} vs ${n.i}`);
  // the drop is of the order of I·ΔR (the power point moves a little to soften it)
  const dR = 0.5 * stringSeriesResistance();
  assert.ok(n.v - r4.v > 0.6 * n.i * dR && n.v - r4.v < 1.2 * n.i * dR, `ΔV ${n.v - r4.v} vs I·ΔR ${n.i * dR}`);
  assert.equal(r4.bypassed + r8.bypassed + n.bypassed, 0);
});

test('shading a submodule (PS50) switches on its bypass diode and drops V by about a third of a module; PS75 two, IV six', () => {
  const n = mpp('N');
  const module = n.v / 8;
  const ps50 = mpp('PS50');
  assert.equal(ps50.bypassed, 1);
  const drop = (n.v - ps50.v) / module;
  assert.ok(drop > 0.25 && drop < 0.45, `PS50 drops ${drop} of a module's voltage`);
  assert.ok(Math.abs(ps50.i / n.i - 1) < 0.03, 'the string keeps its current past the bypassed submodule');
  assert.equal(mpp('PS75').bypassed, 2);
  assert.ok(mpp('PS75').v < ps50.v);
  assert.equal(mpp('IV').bypassed, 6);
  const psrs = mpp('PSRS');
  assert.equal(psrs.bypassed, 1);
  assert.ok(psrs.v < ps50.v, 'PSRS: the shaded submodule and the extra resistance together');
  // the bypass diode clamps the shaded submodule: without it the string would have to carry the shaded cells' reverse voltage
  const f = conditionFaults('PS50', 0.15);
  const v = stringVoltage(f, G, T, ps50.i);
  assert.ok(Math.abs(v - ps50.v) < 1e-6);
});

test('snow collapses the current; uniform shading of the lower cells (PS7) limits it with no bypass diode on', () => {
  const n = mpp('N');
  const s = maximumPowerPoint(conditionFaults('S', 0.15, 0.08), G, T);
  assert.ok(s.i < 0.2 * n.i, `snow I ${s.i} vs ${n.i}`);
  assert.ok(s.v > 0.75 * n.v, `snow V ${s.v} vs ${n.v} (logarithmic in the light)`);
  const ps7 = mpp('PS7');
  assert.ok(ps7.i < 0.6 * n.i && ps7.bypassed === 0, `PS7 I ${ps7.i}, bypassed ${ps7.bypassed}`);
});

test('simulatePvPlant: rows in table 6.1 shares, sorted unique timestamps, finite sensors, the same record for the same seed', () => {
  const r = simulatePvPlant({ rows: 1200, seed: 3 });
  assert.equal(r.n, 1200);
  assert.equal(r.x.length, 1200 * PV_CHANNELS.length);
  const counts = PV_CONDITIONS.map((_, k) => r.y.filter((c) => c === k).length);
  const total = Object.values(PV_CONDITION_SHARES).reduce((a, b) => a + b, 0);
  PV_CONDITIONS.forEach((c, k) => assert.ok(Math.abs(counts[k] - (1200 * PV_CONDITION_SHARES[c]) / total) <= 1, `${c}: ${counts[k]} rows`));
  for (let i = 1; i < r.n; i++) assert.ok(r.timestamps[i] > r.timestamps[i - 1], `timestamps ${i - 1}, ${i}: ${r.timestamps[i - 1]}, ${r.timestamps[i]}`);
  assert.ok(r.x.every(Number.isFinite));
  // one condition per day
  const byDay = new Map<number, Set<number>>();
  for (let i = 0; i < r.n; i++) (byDay.get(r.day[i]) ?? byDay.set(r.day[i], new Set()).get(r.day[i])!).add(r.y[i]);
  for (const s of byDay.values()) assert.equal(s.size, 1);
  const again = simulatePvPlant({ rows: 1200, seed: 3 });
  assert.deepEqual(Array.from(again.x), Array.from(r.x));
  assert.notDeepEqual(Array.from(simulatePvPlant({ rows: 1200, seed: 4 }).x.slice(0, 60)), Array.from(r.x.slice(0, 60)));
  assert.throws(() => simulatePvPlant({ rows: 10, shares: { XX: 1 } as never }), /unknown condition 'XX'; valid: PS7, RS4/);
});
