/**
 * A simulated PV string for condition monitoring (thesis `003_…` chapter 6 and appendix D, whose
 * measured data are not public): a 0.9 kWp roof-mounted string of eight multicrystalline modules
 * under a winter day/season sky at latitude 57° N, sampled once a minute, with the ten conditions of
 * table 6.1 (appendix D table II) and their class shares.
 *
 * Physics, from the cell up (all in SI units: A, V, Ω, W/m², °C):
 * - **Cell**: the single-diode model I = I_ph − I_0 (exp((V + I R_s)/(n V_t)) − 1) − (V + I R_s)/R_sh,
 *   I_ph proportional to the cell's irradiance (α_I = +0.05 %/K), I_0 with the usual T³ exp(−E_g/kT)
 *   temperature law (E_g = 1.12 eV), n = 1.3. A cell is solved for its voltage at a given string
 *   current (safeguarded Newton on the junction voltage, which the equation makes monotone); a
 *   shaded cell driven above its photocurrent goes into reverse bias through R_sh.
 * - **Module**: 60 cells in 3 submodules of 20 (two columns of ten rows each), one bypass diode per
 *   submodule (forward drop 0.5 V): a submodule's voltage is max(Σ cell voltages, −0.5 V).
 * - **String**: 8 modules in series plus 0.8 Ω of wiring; with the cells' 0.015 Ω each the string's
 *   series resistance is 8 Ω, so the faults RS4 and RS8 (+50 % and +100 %) add 4 Ω and 8 Ω — the
 *   resistor sizes their names suggest.
 * - **Inverter**: tracks the global maximum power point (a grid over the current, refined by golden
 *   section on the best bracket); I and V are reported there.
 * - **Sky**: solar position from day of year and hour; clear-sky beam from Meinel's air-mass law;
 *   plane-of-array beam on a south-facing 35° tilt plus isotropic diffuse; clouds as a
 *   transmittance process (AR(1) in logit space) that moves beam into diffuse. Temperatures follow a
 *   daily sine around a day mean; the module is warmer than the air by G/(U_0 + U_1 W) (Faiman,
 *   U_0 = 25, U_1 = 6.84); wind is an AR(1) process around a day mean.
 *
 * Conditions (table 6.1; the shading geometry is written down here because the papers only name it):
 * - N (clear sky), C (cloudy sky): no fault; C days have thick, moving cloud.
 * - S (snow): every cell sees 3–15 % of the plane-of-array light (a day's snow depth), the air is
 *   below freezing and the module stays near air temperature; the irradiance sensor is kept clear.
 *   The current collapses; the voltage, logarithmic in the light, falls much less.
 * - PS7: the bottom row of cells of every module (two cells of each submodule) under a uniform
 *   shade that passes diffuse light and 30 % of the beam.
 * - PS50: half the cells of one submodule (10 of 20, in module 1) in full shade (diffuse only).
 * - PS75: PS50 plus a quarter (5 cells) of a second submodule in full shade.
 * - IV: one cell in each of 6 submodules (two modules) with 3/4 of its area in full shade.
 * - RS4, RS8: +4 Ω and +8 Ω in series with the string.
 * - PSRS: PS50 and RS4 together.
 * Shading and resistance faults happen under the season's ordinary weather (mostly clear, some
 * cloud), so their signatures have to be told from the weather's.
 *
 * Everything here is plain arithmetic (no tensors), deterministic given the seed.
 */
import { Rng } from '../engine/rng.js';

/** The ten conditions of table 6.1, in the table's order. */
export const PV_CONDITIONS = ['PS7', 'RS4', 'PS50', 'RS8', 'PSRS', 'PS75', 'C', 'S', 'N', 'IV'] as const;
/** One condition of table 6.1. */
export type PvCondition = (typeof PV_CONDITIONS)[number];

/** Class shares of table 6.1 (appendix D table II), in % of the samples. */
export const PV_CONDITION_SHARES: Record<PvCondition, number> = { PS7: 10.68, RS4: 10.08, PS50: 10.83, RS8: 5.11, PSRS: 10.93, PS75: 10.6, C: 4.6, S: 27.64, N: 4.67, IV: 4.78 };

/** What each condition is (table 6.1's wording). */
export const PV_CONDITION_DESCRIPTIONS: Record<PvCondition, string> = {
  PS7: 'uniform shading on all lower cells of the modules',
  RS4: '50% increase in string series resistance',
  PS50: 'partial shading on 50% of a submodule',
  RS8: '100% increase in string series resistance',
  PSRS: 'combined 50% shading on a submodule with 50% increase in string Rs',
  PS75: 'shading on 50% of a submodule + 25% of another submodule',
  C: 'cloudy sky day',
  S: 'snow on the modules',
  N: 'clear sky day',
  IV: 'shading on 3/4 of cell area of 6 submodules',
};

/** The sensor channels, in the order of the simulated table (table I of appendix D). */
export const PV_CHANNELS = ['I', 'V', 'G', 'T_ext', 'T_mod', 'W'] as const;

/** Units of {@link PV_CHANNELS}. */
export const PV_UNITS: Record<(typeof PV_CHANNELS)[number], string> = { I: 'A', V: 'V', G: 'W/m²', T_ext: '°C', T_mod: '°C', W: 'm/s' };

// ---- the cell ---------------------------------------------------------------------------------

const K_B = 1.380649e-23;
const Q_E = 1.602176634e-19;

/** Single-diode cell parameters at standard test conditions (1000 W/m², 25 °C). */
export interface CellParameters {
  /** Short-circuit current at STC (A). */
  isc: number;
  /** Open-circuit voltage at STC (V). */
  voc: number;
  /** Ideality factor. */
  n: number;
  /** Series resistance (Ω). */
  rs: number;
  /** Shunt resistance (Ω). */
  rsh: number;
  /** Relative temperature coefficient of the photocurrent (1/K). */
  alphaI: number;
  /** Band gap (eV). */
  eg: number;
}

/** A multicrystalline cell of a ~112 W 60-cell module (Isc 3.9 A, Voc 0.61 V). */
export const MULTI_SI_CELL: CellParameters = { isc: 3.9, voc: 0.61, n: 1.3, rs: 0.015, rsh: 10, alphaI: 5e-4, eg: 1.12 };

/** The cell's photocurrent (A) and diode parameters at irradiance g (W/m²) and temperature t (°C). */
export interface CellState {
  iph: number;
  i0: number;
  /** n V_t (V). */
  nvt: number;
  rs: number;
  rsh: number;
}

/** The state of a cell with parameters `p` at irradiance `g` (W/m²) and cell temperature `t` (°C). */
export function cellState(p: CellParameters, g: number, t: number): CellState {
  const T = t + 273.15;
  const Tref = 298.15;
  const nvtRef = (p.n * K_B * Tref) / Q_E;
  const i0Ref = p.isc / Math.expm1(p.voc / nvtRef);
  const i0 = i0Ref * (T / Tref) ** 3 * Math.exp(((p.eg * Q_E) / (p.n * K_B)) * (1 / Tref - 1 / T));
  return { iph: Math.max(0, (p.isc * g) / 1000) * (1 + p.alphaI * (t - 25)), i0, nvt: (p.n * K_B * T) / Q_E, rs: p.rs, rsh: p.rsh };
}

/**
 * The cell's terminal voltage (V) at current `i` (A): the root u of
 * I_ph − I_0 (exp(u/nV_t) − 1) − u/R_sh − i (decreasing in the junction voltage u), minus i R_s.
 */
export function cellVoltage(c: CellState, i: number): number {
  const f = (u: number) => c.iph - c.i0 * Math.expm1(u / c.nvt) - u / c.rsh - i;
  // bracket: f(lo) > 0 > f(hi)
  let lo = Math.min(0, (c.iph - i) * c.rsh) - 1;
  let hi = c.nvt * Math.log(1 + Math.max(c.iph + Math.abs(i), 1e-12) / c.i0) + 1e-3;
  let u = i <= c.iph ? c.nvt * Math.log(1 + (c.iph - i) / c.i0) : (c.iph - i) * c.rsh;
  for (let it = 0; it < 60; it++) {
    const fu = f(u);
    if (Math.abs(fu) < 1e-12) break;
    if (fu > 0) lo = u;
    else hi = u;
    const d = -(c.i0 / c.nvt) * Math.exp(u / c.nvt) - 1 / c.rsh;
    let next = u - fu / d;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - u) < 1e-10) {
      u = next;
      break;
    }
    u = next;
  }
  return u - i * c.rs;
}

// ---- the string -------------------------------------------------------------------------------

/** Cells per module, submodules per module, modules in the string. */
export const PV_LAYOUT = { cellsPerSubmodule: 20, submodules: 3, modules: 8 } as const;

/** Forward drop of a bypass diode (V). */
const BYPASS_DROP = 0.5;
/** Wiring resistance of the string (Ω). */
const WIRING_OHMS = 0.8;

/** The string's series resistance without a fault (Ω): the cells' plus the wiring. */
export function stringSeriesResistance(cell: CellParameters = MULTI_SI_CELL): number {
  return PV_LAYOUT.modules * PV_LAYOUT.submodules * PV_LAYOUT.cellsPerSubmodule * cell.rs + WIRING_OHMS;
}

/** A submodule as groups of identical cells: `count` cells at a `light` factor (their irradiance over the plane-of-array's). */
export type Submodule = { count: number; light: number }[];

/** What the conditions do to the string: the submodules' light and the extra series resistance. */
export interface StringFaults {
  /** Per submodule (module-major, `modules × submodules`), the groups of cells by light factor. */
  submodules: Submodule[];
  /** Extra series resistance (Ω). */
  extraOhms: number;
}

/**
 * The submodules and extra resistance of a condition, for a sky with diffuse fraction `diffuse`
 * (of the plane-of-array irradiance) and, for snow, the transmittance `snow` of the snow cover.
 */
export function conditionFaults(condition: PvCondition, diffuse: number, snow = 0.08): StringFaults {
  const n = PV_LAYOUT.cellsPerSubmodule;
  const count = PV_LAYOUT.modules * PV_LAYOUT.submodules;
  const full = (): Submodule => [{ count: n, light: 1 }];
  const subs = Array.from({ length: count }, full);
  const shade = (beamPassed: number) => diffuse + (1 - diffuse) * beamPassed; // light factor of a shaded cell
  const shadeCells = (s: number, cells: number, light: number) => {
    subs[s] = [
      { count: n - cells, light: 1 },
      { count: cells, light },
    ];
  };
  let extraOhms = 0;
  const rBase = stringSeriesResistance();
  switch (condition) {
    case 'N':
    case 'C':
      break;
    case 'S':
      for (let s = 0; s < count; s++) subs[s] = [{ count: n, light: snow }];
      break;
    case 'PS7':
      for (let s = 0; s < count; s++) shadeCells(s, 2, shade(0.3));
      break;
    case 'PS50':
      shadeCells(1, n / 2, shade(0));
      break;
    case 'PS75':
      shadeCells(1, n / 2, shade(0));
      shadeCells(4, n / 4, shade(0));
      break;
    case 'IV':
      for (const s of [0, 1, 2, 9, 10, 11]) shadeCells(s, 1, 0.25 + 0.75 * shade(0));
      break;
    case 'RS4':
      extraOhms = 0.5 * rBase;
      break;
    case 'RS8':
      extraOhms = 1.0 * rBase;
      break;
    case 'PSRS':
      shadeCells(1, n / 2, shade(0));
      extraOhms = 0.5 * rBase;
      break;
  }
  return { submodules: subs, extraOhms };
}

/** The string's voltage (V) at current `i` (A), plane-of-array irradiance `g` and cell temperature `t`. */
export function stringVoltage(faults: StringFaults, g: number, t: number, i: number, cell: CellParameters = MULTI_SI_CELL): number {
  const cache = new Map<number, number>();
  const vCell = (light: number) => {
    let v = cache.get(light);
    if (v === undefined) {
      v = cellVoltage(cellState(cell, g * light, t), i);
      cache.set(light, v);
    }
    return v;
  };
  let v = 0;
  for (const sub of faults.submodules) {
    let vs = 0;
    for (const grp of sub) vs += grp.count * vCell(grp.light);
    v += Math.max(vs, -BYPASS_DROP);
  }
  return v - i * (WIRING_OHMS + faults.extraOhms);
}

/** The maximum power point of the string: current (A), voltage (V), power (W), and the bypass diodes conducting there. */
export interface PowerPoint {
  i: number;
  v: number;
  p: number;
  bypassed: number;
}

/**
 * The global maximum power point: P(I) = I·V(I) on a grid of `grid` currents from 0 to the largest
 * photocurrent, then golden-section search inside the best grid cell.
 */
export function maximumPowerPoint(faults: StringFaults, g: number, t: number, cell: CellParameters = MULTI_SI_CELL, grid = 120): PowerPoint {
  const iMax = cellState(cell, g * Math.max(...faults.submodules.flatMap((s) => s.map((c) => c.light))), t).iph;
  if (!(iMax > 0)) return { i: 0, v: 0, p: 0, bypassed: 0 };
  const power = (i: number) => i * stringVoltage(faults, g, t, i, cell);
  let best = 0;
  let bestP = -Infinity;
  for (let k = 0; k <= grid; k++) {
    const p = power((iMax * k) / grid);
    if (p > bestP) {
      bestP = p;
      best = k;
    }
  }
  let a = (iMax * Math.max(0, best - 1)) / grid;
  let b = (iMax * Math.min(grid, best + 1)) / grid;
  const r = (Math.sqrt(5) - 1) / 2;
  let c = b - r * (b - a);
  let d = a + r * (b - a);
  let pc = power(c);
  let pd = power(d);
  for (let it = 0; it < 40; it++) {
    if (pc > pd) {
      b = d;
      d = c;
      pd = pc;
      c = b - r * (b - a);
      pc = power(c);
    } else {
      a = c;
      c = d;
      pc = pd;
      d = a + r * (b - a);
      pd = power(d);
    }
  }
  const i = (a + b) / 2;
  const v = stringVoltage(faults, g, t, i, cell);
  return { i, v, p: i * v, bypassed: countBypassed(faults, g, t, i, cell) };
}

/** How many bypass diodes conduct at current i. */
function countBypassed(faults: StringFaults, g: number, t: number, i: number, cell: CellParameters): number {
  let n = 0;
  for (const sub of faults.submodules) {
    let vs = 0;
    for (const grp of sub) vs += grp.count * cellVoltage(cellState(cell, g * grp.light, t), i);
    if (vs < -BYPASS_DROP) n++;
  }
  return n;
}

// ---- the sky ----------------------------------------------------------------------------------

/** Site: latitude (degrees north) and the modules' tilt (degrees, facing south). */
const SITE = { latitude: 57.0, tilt: 35 };

/** Sun elevation sine and the cosine of the incidence angle on the tilted plane, at day of year `doy` and solar hour `h`. */
export function sunGeometry(doy: number, hour: number): { sinElevation: number; cosIncidence: number } {
  const rad = Math.PI / 180;
  const decl = -23.44 * rad * Math.cos((2 * Math.PI * (doy + 10)) / 365);
  const ha = 15 * rad * (hour - 12);
  const lat = SITE.latitude * rad;
  const sinEl = Math.sin(lat) * Math.sin(decl) + Math.cos(lat) * Math.cos(decl) * Math.cos(ha);
  const latEff = (SITE.latitude - SITE.tilt) * rad; // a south-facing tilted plane sees the sun as a horizontal plane at latitude − tilt
  const cosInc = Math.sin(latEff) * Math.sin(decl) + Math.cos(latEff) * Math.cos(decl) * Math.cos(ha);
  return { sinElevation: sinEl, cosIncidence: cosInc };
}

/**
 * Plane-of-array irradiance (W/m²) and its diffuse fraction, for a sun geometry and a cloud
 * transmittance `cloud` in [0, 1] (1: clear). Clear-sky beam normal irradiance 1353·0.7^(AM^0.678)
 * (Meinel); clear diffuse 10 % of the beam on the horizontal; cloud moves beam into diffuse.
 */
export function planeOfArray(sun: { sinElevation: number; cosIncidence: number }, cloud: number): { g: number; diffuse: number } {
  if (sun.sinElevation <= 0.01) return { g: 0, diffuse: 1 };
  const am = 1 / sun.sinElevation;
  const dni = 1353 * 0.7 ** (am ** 0.678);
  const tiltView = (1 + Math.cos((SITE.tilt * Math.PI) / 180)) / 2;
  const beamClear = dni * Math.max(0, sun.cosIncidence);
  const diffClear = 0.1 * dni * sun.sinElevation * tiltView;
  const beam = beamClear * cloud;
  // scattered light from the cloud: part of the beam lost comes back as diffuse
  const diffuse = diffClear + 0.35 * (1 - cloud) * (dni * sun.sinElevation) * tiltView;
  const g = beam + diffuse;
  return { g, diffuse: g > 0 ? diffuse / g : 1 };
}

// ---- days and the table ------------------------------------------------------------------------

/** Options of {@link simulatePvPlant}. */
export interface PvPlantOptions {
  /** Number of rows (daylight minutes, G above `minIrradiance`); default 15000 (about the papers' dataset). */
  rows?: number;
  seed?: number;
  /** Conditions to simulate, with their shares (default: table 6.1's). */
  shares?: Partial<Record<PvCondition, number>>;
  /** Minutes between rows (default 1, the papers' sampling). */
  minutes?: number;
  /** Rows with plane-of-array irradiance below this are dropped (night, dusk); default 50 W/m². */
  minIrradiance?: number;
  /** First day of the record, as a date (default 2017-01-09). */
  start?: string;
}

/** A simulated record: one row per sample. */
export interface PvPlantRecord {
  /** ISO timestamps (UTC, taken as solar time), sorted and unique. */
  timestamps: string[];
  /** Rows × {@link PV_CHANNELS}, row-major. */
  x: Float32Array;
  /** Condition index (into {@link PV_CONDITIONS}) per row. */
  y: Int32Array;
  /** Day number (0-based, one condition per day) per row. */
  day: Int32Array;
  /** Bypass diodes conducting at the maximum power point, per row (a diagnostic, not a sensor). */
  bypassed: Int32Array;
  n: number;
}

/** A day's weather: cloudiness, temperatures, wind, snow transmittance. */
interface DayWeather {
  /** Mean cloud transmittance (1 clear) and its variability. */
  cloudMean: number;
  cloudSd: number;
  tMean: number;
  tAmp: number;
  windMean: number;
  snow: number;
}

function dayWeather(condition: PvCondition, rng: Rng): DayWeather {
  const u = () => rng.next();
  switch (condition) {
    case 'N':
      return { cloudMean: 0.97, cloudSd: 0.02, tMean: -2 + 6 * u(), tAmp: 3 + 2 * u(), windMean: 1 + 3 * u(), snow: 1 };
    case 'C':
      return { cloudMean: 0.15 + 0.25 * u(), cloudSd: 0.25, tMean: 0 + 5 * u(), tAmp: 1 + u(), windMean: 3 + 5 * u(), snow: 1 };
    case 'S':
      return { cloudMean: 0.5 + 0.45 * u(), cloudSd: 0.15, tMean: -7 + 6 * u(), tAmp: 2 + 2 * u(), windMean: 1 + 4 * u(), snow: 0.03 + 0.12 * u() };
    default:
      // fault days: the season's ordinary weather, mostly clear with some passing cloud
      return { cloudMean: 0.65 + 0.33 * u(), cloudSd: 0.12, tMean: -3 + 8 * u(), tAmp: 2 + 3 * u(), windMean: 1 + 5 * u(), snow: 1 };
  }
}

const logit = (p: number) => Math.log(p / (1 - p));
/** One standard normal draw (Box–Muller). */
const gauss = (rng: Rng) => Math.sqrt(-2 * Math.log(rng.nextOpen())) * Math.cos(2 * Math.PI * rng.next());
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Simulates the string's record: days of one condition each, in the shares asked for (rows, not
 * days, follow the shares: the last day of a condition is cut short), laid out on consecutive dates
 * in a shuffled order. Each row holds the six sensors at the maximum power point with measurement
 * noise (I 0.5 %, V 0.3 %, G 2 %, temperatures 0.3 K, wind 0.2 m/s).
 * @throws Error when a share is negative or all are zero, or rows < 1.
 */
export function simulatePvPlant(o: PvPlantOptions = {}): PvPlantRecord {
  const rows = o.rows ?? 15000;
  if (!(Number.isInteger(rows) && rows >= 1)) throw new Error(`pv-plant: rows must be an integer ≥ 1, got ${rows}`);
  const shares = o.shares ?? PV_CONDITION_SHARES;
  for (const [k, v] of Object.entries(shares)) {
    if (!(PV_CONDITIONS as readonly string[]).includes(k)) throw new Error(`pv-plant: unknown condition '${k}'; valid: ${PV_CONDITIONS.join(', ')}`);
    if (!(v >= 0)) throw new Error(`pv-plant: the share of ${k} must be ≥ 0, got ${v}`);
  }
  const total = Object.values(shares).reduce((a, b) => a + (b ?? 0), 0);
  if (!(total > 0)) throw new Error('pv-plant: the shares sum to 0');
  const step = o.minutes ?? 1;
  const minG = o.minIrradiance ?? 50;
  const rng = new Rng(o.seed ?? 0);
  // rows per condition by largest remainders
  const conds = PV_CONDITIONS.filter((c) => (shares[c] ?? 0) > 0);
  const exact = conds.map((c) => (rows * (shares[c] ?? 0)) / total);
  const want = exact.map(Math.floor);
  const order = exact.map((e, k) => [e - Math.floor(e), k] as const).sort((a, b) => b[0] - a[0]);
  for (let r = 0, left = rows - want.reduce((a, b) => a + b, 0); r < left; r++) want[order[r][1]]++;

  // the days: each condition's days until its rows are reached
  type Day = { condition: PvCondition; doy: number; rows: { minute: number; v: number[]; bypassed: number }[] };
  const days: Day[] = [];
  conds.forEach((c, k) => {
    let need = want[k];
    const dayRng = rng.fork(`days-${c}`);
    while (need > 0) {
      const doy = 9 + Math.floor(dayRng.next() * 60); // January–early March
      const d = simulateDay(c, doy, dayRng, step, minG);
      if (d.length === 0) continue;
      const keep = d.slice(0, need);
      need -= keep.length;
      days.push({ condition: c, doy, rows: keep });
    }
  });
  const perm = rng.fork('calendar').permutation(days.length);
  const start = Date.parse(`${o.start ?? '2017-01-09'}T00:00:00Z`);
  if (!Number.isFinite(start)) throw new Error(`pv-plant: start '${o.start}' is not a date (YYYY-MM-DD)`);
  const D = PV_CHANNELS.length;
  const x = new Float32Array(rows * D);
  const y = new Int32Array(rows);
  const day = new Int32Array(rows);
  const bypassed = new Int32Array(rows);
  const timestamps: string[] = [];
  let r = 0;
  Array.from(perm).forEach((di, slot) => {
    const d = days[di];
    for (const row of d.rows) {
      timestamps.push(new Date(start + slot * 86_400_000 + row.minute * 60_000).toISOString().replace('.000Z', 'Z'));
      x.set(row.v, r * D);
      y[r] = PV_CONDITIONS.indexOf(d.condition);
      day[r] = slot;
      bypassed[r] = row.bypassed;
      r++;
    }
  });
  return { timestamps, x, y, day, bypassed, n: rows };
}

/** One day of a condition: the daylight rows (minute of the day, sensor values, bypass count). */
function simulateDay(condition: PvCondition, doy: number, rng: Rng, step: number, minG: number): { minute: number; v: number[]; bypassed: number }[] {
  const w = dayWeather(condition, rng);
  const out: { minute: number; v: number[]; bypassed: number }[] = [];
  const phi = Math.exp(-step / 20); // cloud memory ~20 min
  const phiW = Math.exp(-step / 30);
  let cl = logit(Math.min(0.995, Math.max(0.005, w.cloudMean))) + w.cloudSd * 4 * gauss(rng);
  const clMean = logit(Math.min(0.995, Math.max(0.005, w.cloudMean)));
  let wind = w.windMean;
  const noise = (sd: number) => sd * gauss(rng);
  for (let minute = 0; minute < 1440; minute += step) {
    const hour = minute / 60;
    cl = clMean + phi * (cl - clMean) + Math.sqrt(1 - phi * phi) * w.cloudSd * 4 * gauss(rng);
    wind = w.windMean + phiW * (wind - w.windMean) + Math.sqrt(1 - phiW * phiW) * 0.6 * w.windMean * gauss(rng);
    const sun = sunGeometry(doy, hour);
    const sky = planeOfArray(sun, sigmoid(cl));
    if (sky.g < minG) continue;
    const tExt = w.tMean + w.tAmp * Math.sin((2 * Math.PI * (hour - 9)) / 24);
    const W = Math.max(0, wind);
    const lightOnCells = condition === 'S' ? w.snow : 1;
    const tMod = tExt + (sky.g * lightOnCells) / (25 + 6.84 * W);
    const faults = conditionFaults(condition, sky.diffuse, w.snow);
    const mpp = maximumPowerPoint(faults, sky.g, tMod);
    out.push({
      minute,
      v: [mpp.i * (1 + noise(0.005)), mpp.v * (1 + noise(0.003)), sky.g * (1 + noise(0.02)), tExt + noise(0.3), tMod + noise(0.3), Math.max(0, W + noise(0.2))],
      bypassed: mpp.bypassed,
    });
  }
  return out;
}
