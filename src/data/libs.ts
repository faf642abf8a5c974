/**
 * A seeded simulator of LIBS (laser-induced breakdown spectroscopy) spectra in the spirit of the
 * ChemCam experiment of the "untapped" paper (Gemp et al., `000_…`, sec. 5). The calibration data
 * are not public, so the spectra are synthetic; the emission-line wavelengths are the well-known
 * strong atomic lines of each element, the strengths and all other constants are our own choices.
 *
 * **Compositions** are mass fractions on the simplex of nine oxides, {@link LIBS_OXIDES}
 * (SiO₂, TiO₂, Al₂O₃, FeO, MgO, CaO, Na₂O, K₂O, SO₃). Six named compounds ({@link LIBS_COMPOUNDS})
 * stand in for the paper's standards: three synthetic meteorite-like mixtures (Norite, Picrite,
 * Shergottite) and an Fe-rich clay diluted with 3, 8 and 15 % SO₃ (Nau2-Lo, -Med, -Hi).
 *
 * **Wavelengths.** `channels` (default 800) channels evenly spaced over 240–850 nm.
 *
 * **Emission model** for composition c, shot intensity s and relative plasma temperature T:
 * - plasma temperature (matrix effect): T = T_c·t with T_c = exp(0.3·tanh(Σ_o τ_o c_o / 0.3)) (so
 *   0.74 ≤ T_c ≤ 1.35), where the easily ionised Na₂O and K₂O cool the plasma (τ = −2), SO₃ too
 *   (τ = −0.2), FeO, MgO and CaO warm it (τ = 0.4, 0.3, 0.1), and t is a per-shot fluctuation;
 * - each line ℓ of oxide o (wavelength λ_ℓ, strength A_ℓ, upper level energy E_ℓ in eV; see
 *   {@link LIBS_LINES}) emits I_ℓ = s·A_ℓ·c_o·exp(E_ℓ(1 − 1/T)/kT₀) with kT₀ = 1 eV (a Boltzmann factor
 *   relative to the nominal temperature, so high-excitation lines react most to T);
 * - self-absorption saturates strong lines: the observed height is S(1 − exp(−I_ℓ/S)), S = 1.5;
 * - each line has a Lorentzian profile of half-width 0.35 nm (peak height 1), averaged over each
 *   channel's width;
 * - a smooth continuum (bremsstrahlung and recombination) s·T²·(0.03 + 0.12·exp(−(λ − 240 nm)/120 nm)).
 * Line heights are therefore neither proportional to the oxide's fraction nor independent of the
 * other oxides.
 */
import { Rng } from '../engine/rng.js';

/** The nine oxides, in the order of composition vectors. */
export const LIBS_OXIDES: readonly string[] = ['SiO2', 'TiO2', 'Al2O3', 'FeO', 'MgO', 'CaO', 'Na2O', 'K2O', 'SO3'];

/** First and last channel wavelength in nm. */
export const LIBS_RANGE: readonly [number, number] = [240, 850];

/** Default number of channels. */
export const LIBS_CHANNELS = 800;

/** One emission line: wavelength (nm), relative strength, and upper level energy (eV). */
export interface EmissionLine {
  wavelength: number;
  strength: number;
  upperEnergy: number;
}

/** The emission lines of each oxide's cation, in {@link LIBS_OXIDES} order. */
export const LIBS_LINES: readonly (readonly EmissionLine[])[] = [
  // Si I and Si II
  [
    { wavelength: 251.61, strength: 1.0, upperEnergy: 4.95 },
    { wavelength: 288.16, strength: 1.3, upperEnergy: 5.08 },
    { wavelength: 390.55, strength: 0.5, upperEnergy: 5.08 },
    { wavelength: 634.71, strength: 0.35, upperEnergy: 10.07 },
  ],
  // Ti II and Ti I
  [
    { wavelength: 334.94, strength: 1.2, upperEnergy: 3.75 },
    { wavelength: 336.12, strength: 0.9, upperEnergy: 3.69 },
    { wavelength: 368.52, strength: 0.5, upperEnergy: 4.59 },
    { wavelength: 498.17, strength: 0.6, upperEnergy: 3.33 },
  ],
  // Al I
  [
    { wavelength: 308.22, strength: 0.8, upperEnergy: 4.02 },
    { wavelength: 309.27, strength: 1.0, upperEnergy: 4.02 },
    { wavelength: 394.4, strength: 0.9, upperEnergy: 3.14 },
    { wavelength: 396.15, strength: 1.1, upperEnergy: 3.14 },
  ],
  // Fe II and Fe I
  [
    { wavelength: 259.94, strength: 1.0, upperEnergy: 4.77 },
    { wavelength: 273.96, strength: 0.6, upperEnergy: 5.62 },
    { wavelength: 404.58, strength: 0.5, upperEnergy: 4.55 },
    { wavelength: 438.35, strength: 0.6, upperEnergy: 4.31 },
  ],
  // Mg II and Mg I
  [
    { wavelength: 279.55, strength: 1.5, upperEnergy: 4.43 },
    { wavelength: 280.27, strength: 1.0, upperEnergy: 4.42 },
    { wavelength: 285.21, strength: 1.2, upperEnergy: 4.35 },
    { wavelength: 518.36, strength: 0.5, upperEnergy: 5.11 },
  ],
  // Ca II and Ca I
  [
    { wavelength: 393.37, strength: 1.5, upperEnergy: 3.15 },
    { wavelength: 396.85, strength: 1.3, upperEnergy: 3.12 },
    { wavelength: 422.67, strength: 1.0, upperEnergy: 2.93 },
    { wavelength: 616.22, strength: 0.3, upperEnergy: 3.91 },
  ],
  // Na I (alkali lines are strong even at low concentration)
  [
    { wavelength: 588.99, strength: 8, upperEnergy: 2.1 },
    { wavelength: 589.59, strength: 6, upperEnergy: 2.1 },
    { wavelength: 818.33, strength: 1.2, upperEnergy: 3.62 },
    { wavelength: 819.48, strength: 1.6, upperEnergy: 3.62 },
  ],
  // K I
  [
    { wavelength: 404.41, strength: 1.2, upperEnergy: 3.06 },
    { wavelength: 766.49, strength: 8, upperEnergy: 1.62 },
    { wavelength: 769.9, strength: 6, upperEnergy: 1.61 },
  ],
  // S II (high excitation: weak and very temperature-sensitive)
  [
    { wavelength: 543.28, strength: 0.25, upperEnergy: 15.9 },
    { wavelength: 545.38, strength: 0.3, upperEnergy: 15.9 },
    { wavelength: 547.36, strength: 0.2, upperEnergy: 15.9 },
  ],
];

/** Plasma-temperature coefficients τ_o of the matrix effect (module comment), in oxide order. */
const TAU = [0, 0, 0, 0.4, 0.3, 0.1, -2, -2, -0.2];
const SATURATION = 1.5;
const HALF_WIDTH = 0.35;

/** A named composition (mass fractions over {@link LIBS_OXIDES}, summing to 1). */
export interface LibsCompound {
  name: string;
  composition: number[];
}

function normalised(v: number[]): number[] {
  const s = v.reduce((a, b) => a + b, 0);
  return v.map((x) => x / s);
}

/** The Fe-rich clay base of the Nau2 compounds (wt %, oxide order), before the SO₃ is added. */
const NAU2_BASE = normalised([55, 0.1, 4, 32, 0.8, 3, 0.2, 0.05, 0]);

function withSulfur(s: number): number[] {
  return NAU2_BASE.map((v, i) => (1 - s) * v + (i === 8 ? s : 0));
}

/**
 * The six default compounds: Norite, Picrite, Shergottite (meteorite-like oxide mixtures, our
 * own round numbers) and Nau2-Lo / -Med / -Hi (an Fe-rich clay with 3, 8 and 15 % SO₃).
 */
export const LIBS_COMPOUNDS: readonly LibsCompound[] = [
  { name: 'Norite', composition: normalised([51.5, 0.6, 17.5, 8.5, 10.0, 9.5, 1.8, 0.5, 0.1]) },
  { name: 'Picrite', composition: normalised([44.5, 0.9, 8.5, 12.5, 25.0, 7.0, 1.1, 0.3, 0.2]) },
  { name: 'Shergottite', composition: normalised([49.5, 1.0, 6.5, 19.0, 11.0, 10.5, 1.4, 0.2, 0.9]) },
  { name: 'Nau2-Lo', composition: withSulfur(0.03) },
  { name: 'Nau2-Med', composition: withSulfur(0.08) },
  { name: 'Nau2-Hi', composition: withSulfur(0.15) },
];

/** The paper's held-out compounds (table 3): the three Nau2 standards. */
export const LIBS_TEST_COMPOUNDS: readonly string[] = ['Nau2-Lo', 'Nau2-Med', 'Nau2-Hi'];

function checkChannels(who: string, channels: number): void {
  if (!Number.isInteger(channels) || channels < 2) throw new Error(`${who}: channels must be an integer ≥ 2, got ${channels}`);
}

function checkComposition(who: string, c: ArrayLike<number>): void {
  const k = LIBS_OXIDES.length;
  if (c.length !== k) throw new Error(`${who}: composition must have ${k} entries (${LIBS_OXIDES.join(', ')}), got ${c.length}`);
  let s = 0;
  for (let i = 0; i < k; i++) {
    if (!(c[i] >= 0)) throw new Error(`${who}: composition entries must be ≥ 0, got ${c[i]} for ${LIBS_OXIDES[i]}`);
    s += c[i];
  }
  if (Math.abs(s - 1) > 1e-6) throw new Error(`${who}: composition must sum to 1, sums to ${s}`);
}

/** Channel wavelengths in nm: `channels` points evenly spaced over {@link LIBS_RANGE}. */
export function libsWavelengths(channels = LIBS_CHANNELS): Float32Array {
  checkChannels('libsWavelengths', channels);
  const [lo, hi] = LIBS_RANGE;
  const out = new Float32Array(channels);
  for (let c = 0; c < channels; c++) out[c] = lo + ((hi - lo) * c) / (channels - 1);
  return out;
}

/** Channel index nearest to wavelength `nm` for a grid of `channels` channels. */
export function libsChannel(nm: number, channels = LIBS_CHANNELS): number {
  checkChannels('libsChannel', channels);
  const [lo, hi] = LIBS_RANGE;
  return Math.min(channels - 1, Math.max(0, Math.round(((nm - lo) * (channels - 1)) / (hi - lo))));
}

interface Profiles {
  /** Flattened line list: oxide of each line and the line itself. */
  oxide: number[];
  lines: EmissionLine[];
  /** Per line, its channel-averaged Lorentzian profile, `channels` values. */
  profile: Float64Array[];
  /** Continuum shape 0.03 + 0.12·exp(−(λ − 240)/120) per channel. */
  continuum: Float64Array;
}

const profileCache = new Map<number, Profiles>();

function profiles(channels: number): Profiles {
  const hit = profileCache.get(channels);
  if (hit) return hit;
  const lam = libsWavelengths(channels);
  const step = (LIBS_RANGE[1] - LIBS_RANGE[0]) / (channels - 1);
  const oxide: number[] = [];
  const lines: EmissionLine[] = [];
  const profile: Float64Array[] = [];
  LIBS_LINES.forEach((ls, o) => {
    for (const line of ls) {
      const p = new Float64Array(channels);
      for (let c = 0; c < channels; c++) {
        const a = (lam[c] - step / 2 - line.wavelength) / HALF_WIDTH;
        const b = (lam[c] + step / 2 - line.wavelength) / HALF_WIDTH;
        p[c] = ((Math.atan(b) - Math.atan(a)) * HALF_WIDTH) / step;
      }
      oxide.push(o);
      lines.push(line);
      profile.push(p);
    }
  });
  const continuum = new Float64Array(channels);
  for (let c = 0; c < channels; c++) continuum[c] = 0.03 + 0.12 * Math.exp(-(lam[c] - LIBS_RANGE[0]) / 120);
  const out = { oxide, lines, profile, continuum };
  profileCache.set(channels, out);
  return out;
}

/** The composition's relative plasma temperature T_c = exp(0.3·tanh(Σ_o τ_o c_o / 0.3)) (1 for a neutral matrix). */
export function plasmaTemperature(composition: ArrayLike<number>): number {
  checkComposition('plasmaTemperature', composition);
  let s = 0;
  for (let o = 0; o < TAU.length; o++) s += TAU[o] * composition[o];
  return Math.exp(0.3 * Math.tanh(s / 0.3));
}

/** Options of {@link libsSpectrum}. */
export interface LibsSpectrumOptions {
  /** Number of channels (default 800). */
  channels?: number;
  /** Per-shot temperature factor t multiplying the composition's temperature (default 1). */
  temperature?: number;
  /** Shot intensity s (laser coupling; default 1). */
  intensity?: number;
  /** Which part to return: the whole spectrum (default), the lines only, or the continuum only. */
  part?: 'total' | 'lines' | 'continuum';
}

/**
 * The noise-free LIBS spectrum of `composition` (nine mass fractions summing to 1 within 1e-6, in
 * {@link LIBS_OXIDES} order), from the emission model of the module comment. Not normalised.
 */
export function libsSpectrum(composition: ArrayLike<number>, opts: LibsSpectrumOptions = {}): Float32Array {
  const who = 'libsSpectrum';
  const channels = opts.channels ?? LIBS_CHANNELS;
  checkChannels(who, channels);
  checkComposition(who, composition);
  const t = opts.temperature ?? 1;
  const s = opts.intensity ?? 1;
  if (!(t > 0 && Number.isFinite(t))) throw new Error(`${who}: temperature must be a positive number, got ${t}`);
  if (!(s >= 0 && Number.isFinite(s))) throw new Error(`${who}: intensity must be a finite number ≥ 0, got ${s}`);
  const out = new Float32Array(channels);
  emit(composition, plasmaTemperature(composition) * t, s, profiles(channels), opts.part ?? 'total', out, 0);
  return out;
}

/** Adds the spectrum for temperature `temp` and intensity `s` into `out[off .. off + channels)`. */
function emit(
  composition: ArrayLike<number>,
  temp: number,
  s: number,
  pr: Profiles,
  part: 'total' | 'lines' | 'continuum',
  out: Float32Array,
  off: number,
): void {
  const channels = pr.continuum.length;
  const acc = new Float64Array(channels);
  if (part !== 'continuum') {
    for (let l = 0; l < pr.lines.length; l++) {
      const c = composition[pr.oxide[l]];
      if (c === 0) continue;
      const line = pr.lines[l];
      const raw = s * line.strength * c * Math.exp(line.upperEnergy * (1 - 1 / temp));
      const h = SATURATION * (1 - Math.exp(-raw / SATURATION));
      const p = pr.profile[l];
      for (let i = 0; i < channels; i++) acc[i] += h * p[i];
    }
  }
  if (part !== 'lines') {
    const k = s * temp * temp;
    for (let i = 0; i < channels; i++) acc[i] += k * pr.continuum[i];
  }
  for (let i = 0; i < channels; i++) out[off + i] = acc[i];
}

/** Options of {@link simulateLibs}. */
export interface LibsOptions {
  /** Seed of the {@link Rng} (default 0). */
  seed?: number;
  /** Spectra (shots) per compound: one number for all, or one per compound (default 30). */
  perCompound?: number | number[];
  /** The compounds (default {@link LIBS_COMPOUNDS}). */
  compounds?: readonly LibsCompound[];
  /** Number of channels (default 800). */
  channels?: number;
  /** Noise scale: per-channel standard deviation noise·(√signal + 0.05) before normalisation (default 0.005). */
  noise?: number;
  /** Standard deviation of the log shot intensity (laser coupling; default 0.2). */
  shotVariation?: number;
  /** Standard deviation of the log plasma-temperature factor per shot (default 0.03). */
  temperatureJitter?: number;
  /** Divide each spectrum by its mean over the channels (default true), as ChemCam spectra are normalised to total emission. */
  normalize?: boolean;
}

/** A simulated LIBS dataset (see {@link simulateLibs}). */
export interface LibsData {
  /** Spectra, `n × channels` row-major, non-negative. */
  x: Float32Array;
  /** Compositions, `n × 9` row-major (mass fractions, rows on the simplex). */
  y: Float32Array;
  /** Index of each spectrum's compound in `compounds`. */
  compound: Int32Array;
  /** Each shot's plasma temperature T (relative; composition and shot fluctuation together). */
  temperature: Float32Array;
  /** Each shot's intensity s (laser coupling). */
  intensity: Float32Array;
  n: number;
  channels: number;
  /** Channel wavelengths in nm. */
  wavelengths: Float32Array;
  oxides: string[];
  /** Compound names; `compound[i]` indexes this list. */
  compounds: string[];
}

/**
 * Simulates LIBS shots of each compound (default 30 of each of the six {@link LIBS_COMPOUNDS}),
 * ordered by compound. Each shot draws its intensity s = exp(shotVariation·ε) and temperature factor
 * t = exp(temperatureJitter·ε) (the nuisance), emits the spectrum of {@link libsSpectrum}, adds
 * Gaussian noise of standard deviation noise·(√signal + 0.05) per channel, clips at 0 and (by default)
 * divides by the spectrum's mean. `y` is the compound's composition. Draws come from the forks
 * 'shot' and 'noise' of `Rng(seed)`. Throws on a bad option or composition.
 */
export function simulateLibs(opts: LibsOptions = {}): LibsData {
  const who = 'simulateLibs';
  const compounds = opts.compounds ?? LIBS_COMPOUNDS;
  if (compounds.length < 1) throw new Error(`${who}: need at least one compound`);
  compounds.forEach((c) => checkComposition(`${who}: compound '${c.name}'`, c.composition));
  const per = opts.perCompound ?? 30;
  const counts = typeof per === 'number' ? compounds.map(() => per) : per;
  if (counts.length !== compounds.length) {
    throw new Error(`${who}: perCompound has ${counts.length} entries for ${compounds.length} compounds`);
  }
  for (const c of counts) if (!Number.isInteger(c) || c < 0) throw new Error(`${who}: perCompound must be integers ≥ 0, got ${c}`);
  const channels = opts.channels ?? LIBS_CHANNELS;
  checkChannels(who, channels);
  const noise = opts.noise ?? 0.005;
  const shot = opts.shotVariation ?? 0.2;
  const tj = opts.temperatureJitter ?? 0.03;
  for (const [name, v] of [
    ['noise', noise],
    ['shotVariation', shot],
    ['temperatureJitter', tj],
  ] as const) {
    if (!Number.isFinite(v) || v < 0) throw new Error(`${who}: ${name} must be a finite number ≥ 0, got ${v}`);
  }
  const n = counts.reduce((a, b) => a + b, 0);
  if (n < 1) throw new Error(`${who}: perCompound gives no spectra`);

  const k = LIBS_OXIDES.length;
  const pr = profiles(channels);
  const root = new Rng(opts.seed ?? 0);
  const shotDraws = root.fork('shot').fillNormal(new Float32Array(2 * n));
  const noiseDraws = root.fork('noise').fillNormal(new Float32Array(n * channels));
  const x = new Float32Array(n * channels);
  const y = new Float32Array(n * k);
  const compound = new Int32Array(n);
  const temperature = new Float32Array(n);
  const intensity = new Float32Array(n);
  let r = 0;
  compounds.forEach((cmp, ci) => {
    const tc = plasmaTemperature(cmp.composition);
    for (let j = 0; j < counts[ci]; j++, r++) {
      compound[r] = ci;
      for (let o = 0; o < k; o++) y[r * k + o] = cmp.composition[o];
      const s = Math.exp(shot * shotDraws[2 * r]);
      const t = tc * Math.exp(tj * shotDraws[2 * r + 1]);
      intensity[r] = s;
      temperature[r] = t;
      const off = r * channels;
      emit(cmp.composition, t, s, pr, 'total', x, off);
      let sum = 0;
      for (let c = 0; c < channels; c++) {
        const v = x[off + c];
        const noisy = Math.max(0, v + noise * (Math.sqrt(v) + 0.05) * noiseDraws[off + c]);
        x[off + c] = noisy;
        sum += noisy;
      }
      if ((opts.normalize ?? true) && sum > 0) {
        const scale = channels / sum;
        for (let c = 0; c < channels; c++) x[off + c] *= scale;
      }
    }
  });
  return {
    x,
    y,
    compound,
    temperature,
    intensity,
    n,
    channels,
    wavelengths: libsWavelengths(channels),
    oxides: [...LIBS_OXIDES],
    compounds: compounds.map((c) => c.name),
  };
}

/** Rows `rows` of `data`, as a {@link LibsData} sharing its names. */
function libsRows(data: LibsData, rows: number[]): LibsData {
  const d = data.channels;
  const k = data.oxides.length;
  const x = new Float32Array(rows.length * d);
  const y = new Float32Array(rows.length * k);
  const compound = new Int32Array(rows.length);
  const temperature = new Float32Array(rows.length);
  const intensity = new Float32Array(rows.length);
  rows.forEach((r, i) => {
    x.set(data.x.subarray(r * d, (r + 1) * d), i * d);
    y.set(data.y.subarray(r * k, (r + 1) * k), i * k);
    compound[i] = data.compound[r];
    temperature[i] = data.temperature[r];
    intensity[i] = data.intensity[r];
  });
  return {
    ...data,
    x,
    y,
    compound,
    temperature,
    intensity,
    n: rows.length,
    oxides: [...data.oxides],
    compounds: [...data.compounds],
  };
}

/**
 * Leave-compounds-out split (paper sec. 5.2, table 3): every spectrum of a compound in
 * `testCompounds` (names or indices into `data.compounds`; default the three Nau2 standards) goes to
 * `test`, all others to `train`. Both keep `data.compounds` as their name list, so `compound`
 * indices mean the same in both. Throws on an unknown compound or if either side would be empty.
 */
export function leaveCompoundsOut(
  data: LibsData,
  testCompounds: readonly (string | number)[] = LIBS_TEST_COMPOUNDS,
): { train: LibsData; test: LibsData } {
  const who = 'leaveCompoundsOut';
  const held = new Set<number>();
  for (const c of testCompounds) {
    const i = typeof c === 'number' ? c : data.compounds.indexOf(c);
    if (!Number.isInteger(i) || i < 0 || i >= data.compounds.length) {
      throw new Error(`${who}: unknown compound ${JSON.stringify(c)} (have ${data.compounds.join(', ')})`);
    }
    held.add(i);
  }
  const train: number[] = [];
  const test: number[] = [];
  for (let r = 0; r < data.n; r++) (held.has(data.compound[r]) ? test : train).push(r);
  if (test.length === 0) throw new Error(`${who}: the test compounds have no spectra`);
  if (train.length === 0) throw new Error(`${who}: no spectra left for training`);
  return { train: libsRows(data, train), test: libsRows(data, test) };
}
