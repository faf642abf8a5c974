/**
 * A seeded simulator of the CRISM-like laboratory experiment of the "untapped" paper (Gemp et al.,
 * `000_…`, sec. 4): intimate mixtures of three minerals — a forsteritic olivine, a diopside and a
 * bytownite feldspar — on a regular 66-point abundance grid, imaged in the short-wave infrared at the
 * three geometries of its table 1. The real spectra are not public, so everything here is synthetic;
 * the physics is a textbook Hapke model, the band parameters are our own (no spectral library used).
 *
 * **Wavelengths.** 165 channels evenly spaced over 0.9–2.5 µm (about 9.8 nm apart), roughly the range
 * of the lab's SWIR imaging sensor.
 *
 * **Endmembers.** Each mineral has an absorption coefficient α(λ) (per cm) made of a linear continuum
 * plus Gaussian absorption bands in wavelength, A·exp(−(λ − c)² / 2σ²) (see {@link CRISM_ENDMEMBERS}):
 * - olivine (Fo~90): a broad composite 1 µm band from three overlapping Fe²⁺ bands at 0.86, 1.06
 *   and 1.27 µm (the 1.06 µm M2 band strongest), a continuum falling slowly towards long
 *   wavelengths (red slope), and no 2 µm band;
 * - diopside (clinopyroxene): a Band I at 1.04 µm with a weak 0.93 µm shoulder, and a broad Band II
 *   at 2.30 µm;
 * - bytownite (plagioclase): a weak, broad band at 1.25 µm from minor Fe²⁺ on a flat continuum, so
 *   the spectrum is nearly featureless.
 *
 * Two built-in sets ({@link CRISM_SIMULATIONS}) differ only in the bytownite continuum: `dusty` (the
 * default since 2026-11-22, {@link CRISM_ENDMEMBERS_DUSTY}) and `clear` ({@link CRISM_ENDMEMBERS_CLEAR},
 * a quarter of the continuum absorption: a bright feldspar, further from linear mixing; the default
 * before). Every function that depends on the optical constants takes an optional set of one's own
 * ({@link checkEndmembers}, {@link readEndmembersFile}); {@link CRISM_ENDMEMBERS} is the default set.
 *
 * **Single-scattering albedo.** From α and the grain size D through Hapke's equivalent-slab model for
 * particles much larger than the wavelength: Θ = exp(−α⟨D⟩) with the mean ray path
 * ⟨D⟩ = (2/3)[n² − (1/n)(n² − 1)^{3/2}]·D, and w = Sₑ + (1 − Sₑ)(1 − Sᵢ)Θ / (1 − SᵢΘ), where the external
 * and internal surface reflection coefficients are Sₑ = (n − 1)²/(n + 1)² + 0.05 and
 * Sᵢ = 1 − 4/(n(n + 1)²) for the real refractive index n of each mineral. Larger grains are darker
 * and have deeper bands.
 *
 * **Intimate mixing.** The mixture's albedo is the cross-section-weighted mean of the endmember
 * albedos, w = Σᵢ fᵢwᵢ with fᵢ ∝ Mᵢ/(ρᵢDᵢ) for mass fractions Mᵢ (what was weighed out), densities ρᵢ
 * and grain sizes Dᵢ. Reflectance is then the Hapke bidirectional reflectance of isotropic scatterers
 * without opposition effect, reported as the radiance factor
 * RADF = π·r = (w/4)·μ₀/(μ₀ + μ)·H(μ₀)H(μ), μ₀ = cos θᵢ, μ = cos θₑ, with Hapke's approximation of
 * Chandrasekhar's H-function, H(x) = (1 + 2x)/(1 + 2γx), γ = √(1 − w). (RADF is what a camera records
 * when the white reference is taken once under normal illumination, so the three geometries give
 * clearly different brightness levels, as the nuisance variable of the paper's sec. 4.3 shows.)
 * Reflectance is not linear in abundance; at a corner of the simplex it is the pure mineral's.
 *
 * **Sampling** ({@link simulateCrism}): see its doc comment for the jitter, grain sizes, noise and
 * the container outliers.
 */
import { Rng } from '../engine/rng.js';

/** Number of spectral channels. */
export const CRISM_CHANNELS = 165;

/** First and last channel wavelength in µm. */
export const CRISM_WAVELENGTH_RANGE: readonly [number, number] = [0.9, 2.5];

/** The three endmember minerals, in the order of the abundance vectors. */
export const CRISM_MINERALS: readonly string[] = ['olivine', 'diopside', 'bytownite'];

/** An acquisition geometry: incidence and emission angles in degrees. */
export interface CrismGeometry {
  name: string;
  /** Incidence angle θᵢ (degrees). */
  incidence: number;
  /** Emission angle θₑ (degrees). */
  emission: number;
}

/** The three acquisition geometries of the paper's table 1. */
export const CRISM_GEOMETRIES: readonly CrismGeometry[] = [
  { name: 'Position 1', incidence: 33.9, emission: 0 },
  { name: 'Position 2', incidence: 42.7, emission: 0 },
  { name: 'Angle 2', incidence: 12.7, emission: 30 },
];

/**
 * How many of the default 5354 spectra come from each geometry (the reference dataset's split:
 * 1866 Position 1, 1742 Position 2, 1746 Angle 2).
 */
export const CRISM_GEOMETRY_COUNTS: readonly number[] = [1866, 1742, 1746];

/** Grain-size range of the samples in µm (paper sec. 4.3). */
export const CRISM_GRAIN_RANGE: readonly [number, number] = [63, 108];

/** An absorption band: centre and width (standard deviation) in µm, peak strength in cm⁻¹. */
export interface AbsorptionBand {
  center: number;
  width: number;
  strength: number;
}

/** The optical model of one endmember (see the module comment). */
export interface Endmember {
  name: string;
  /** Real refractive index n. */
  refractiveIndex: number;
  /** Density in g/cm³ (for the cross-section weights of the mixture). */
  density: number;
  /** Continuum absorption coefficient (cm⁻¹) at the first and the last wavelength; linear in between. */
  continuum: [number, number];
  /** Gaussian absorption bands added to the continuum. */
  bands: AbsorptionBand[];
}

/** Deep-freezes an endmember set, so the cache of absorption coefficients can never go stale. */
function freezeSet(set: Endmember[]): readonly Endmember[] {
  for (const em of set) {
    for (const b of em.bands) Object.freeze(b);
    Object.freeze(em.bands);
    Object.freeze(em.continuum);
    Object.freeze(em);
  }
  return Object.freeze(set);
}

const OLIVINE: Endmember = {
  name: 'olivine',
  refractiveIndex: 1.66,
  density: 3.32,
  continuum: [1.0, 0.45],
  bands: [
    { center: 0.86, width: 0.06, strength: 4 },
    { center: 1.06, width: 0.085, strength: 13 },
    { center: 1.27, width: 0.13, strength: 9 },
  ],
};

const DIOPSIDE: Endmember = {
  name: 'diopside',
  refractiveIndex: 1.68,
  density: 3.4,
  continuum: [0.9, 0.8],
  bands: [
    { center: 0.93, width: 0.06, strength: 2 },
    { center: 1.04, width: 0.09, strength: 5 },
    { center: 2.3, width: 0.2, strength: 2.2 },
  ],
};

const bytownite = (continuum: [number, number]): Endmember => ({
  name: 'bytownite',
  refractiveIndex: 1.57,
  density: 2.72,
  continuum,
  bands: [{ center: 1.25, width: 0.17, strength: 0.4 }],
});

/**
 * The `clear` simulation's endmembers, in {@link CRISM_MINERALS} order: a very clear bytownite
 * (continuum 0.5 → 0.45 cm⁻¹), so the pure feldspar is bright (mean RADF 0.64, against 0.47–0.48
 * for the other two) and its corner of the simplex is far from what a straight line through the
 * centre predicts: PLS fitted on the centre reaches a composition KL of only 0.15. Frozen.
 */
export const CRISM_ENDMEMBERS_CLEAR: readonly Endmember[] = freezeSet([OLIVINE, DIOPSIDE, bytownite([0.5, 0.45])]);

/**
 * The `dusty` simulation's endmembers (the default): the same minerals, but a dustier bytownite
 * (continuum 2.0 → 1.8 cm⁻¹), about as dark as the other two (mean RADF 0.49). Reflectance is still
 * non-linear in abundance, but closer to linear than `clear`: PLS fitted on the centre reaches a
 * composition KL of 0.078 instead of 0.15 (the paper's laboratory data: 0.036, the best of its
 * three methods, so the real mixtures are closer to linear still). Frozen.
 */
export const CRISM_ENDMEMBERS_DUSTY: readonly Endmember[] = freezeSet([structuredClone(OLIVINE), structuredClone(DIOPSIDE), bytownite([2.0, 1.8])]);

/** The default endmember set: {@link CRISM_ENDMEMBERS_DUSTY}. */
export const CRISM_ENDMEMBERS: readonly Endmember[] = CRISM_ENDMEMBERS_DUSTY;

/** Names of the built-in endmember sets (see {@link CRISM_SIMULATIONS}). */
export type CrismSimulationName = 'dusty' | 'clear';

/** The built-in endmember sets by name: `dusty` ({@link CRISM_ENDMEMBERS_DUSTY}, the default) and `clear` ({@link CRISM_ENDMEMBERS_CLEAR}). */
export const CRISM_SIMULATIONS: Readonly<Record<CrismSimulationName, readonly Endmember[]>> = Object.freeze({
  dusty: CRISM_ENDMEMBERS_DUSTY,
  clear: CRISM_ENDMEMBERS_CLEAR,
});

/** The name of the default endmember set. */
export const CRISM_DEFAULT_SIMULATION: CrismSimulationName = 'dusty';

/** True when `s` names a built-in endmember set. */
export function isCrismSimulationName(s: string): s is CrismSimulationName {
  return Object.prototype.hasOwnProperty.call(CRISM_SIMULATIONS, s);
}

/** The 165 channel wavelengths in µm, evenly spaced over {@link CRISM_WAVELENGTH_RANGE}. */
export function crismWavelengths(): Float32Array {
  const [lo, hi] = CRISM_WAVELENGTH_RANGE;
  const out = new Float32Array(CRISM_CHANNELS);
  for (let c = 0; c < CRISM_CHANNELS; c++) out[c] = lo + ((hi - lo) * c) / (CRISM_CHANNELS - 1);
  return out;
}

/**
 * The 66 nominal abundance vectors of the paper's fig. 4: every (a, b, c) with entries in
 * {0, 0.1, …, 1} summing to 1, ordered by a, then b (so row 0 is pure bytownite (0, 0, 1) and the
 * last row pure olivine (1, 0, 0)). Entries are exact multiples of 0.1 as doubles (i/10).
 */
export function abundanceGrid(): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i <= 10; i++) {
    for (let j = 0; j <= 10 - i; j++) rows.push([i / 10, j / 10, (10 - i - j) / 10]);
  }
  return rows;
}

/**
 * Checks an endmember set: three endmembers ({@link CRISM_MINERALS} order), each with a refractive
 * index > 1, a positive density, a non-negative finite continuum and bands of finite centre,
 * positive width and non-negative strength. Throws naming the key, e.g. `endmembers[2].continuum[1]`.
 */
export function checkEndmembers(who: string, set: readonly Endmember[]): void {
  if (!Array.isArray(set) || set.length !== CRISM_MINERALS.length) {
    throw new Error(`${who}: endmembers must be an array of ${CRISM_MINERALS.length} endmembers (${CRISM_MINERALS.join(', ')}), got ${Array.isArray(set) ? `${set.length}` : typeof set}`);
  }
  const bad = (key: string, what: string, v: unknown): never => {
    throw new Error(`${who}: endmembers${key} must be ${what}, got ${JSON.stringify(v)}`);
  };
  set.forEach((em, i) => {
    const at = `[${i}]`;
    if (typeof em !== 'object' || em === null) bad(at, 'an object', em);
    if (!(typeof em.refractiveIndex === 'number' && em.refractiveIndex > 1 && Number.isFinite(em.refractiveIndex))) bad(`${at}.refractiveIndex`, 'a finite number > 1', em.refractiveIndex);
    if (!(typeof em.density === 'number' && em.density > 0 && Number.isFinite(em.density))) bad(`${at}.density`, 'a finite number > 0 (g/cm³)', em.density);
    if (!Array.isArray(em.continuum) || em.continuum.length !== 2) bad(`${at}.continuum`, 'two numbers [first, last] in cm⁻¹', em.continuum);
    (em.continuum as unknown[]).forEach((v: unknown, j: number) => {
      if (!(typeof v === 'number' && v >= 0 && Number.isFinite(v))) bad(`${at}.continuum[${j}]`, 'a finite number ≥ 0 (cm⁻¹)', v);
    });
    if (!Array.isArray(em.bands)) bad(`${at}.bands`, 'an array of {center, width, strength}', em.bands);
    (em.bands as unknown[] as AbsorptionBand[]).forEach((band: AbsorptionBand, j: number) => {
      const bk = `${at}.bands[${j}]`;
      if (typeof band !== 'object' || band === null) bad(bk, 'an object {center, width, strength}', band);
      if (!(typeof band.center === 'number' && Number.isFinite(band.center))) bad(`${bk}.center`, 'a finite number (µm)', band.center);
      if (!(typeof band.width === 'number' && band.width > 0 && Number.isFinite(band.width))) bad(`${bk}.width`, 'a finite number > 0 (µm)', band.width);
      if (!(typeof band.strength === 'number' && band.strength >= 0 && Number.isFinite(band.strength))) bad(`${bk}.strength`, 'a finite number ≥ 0 (cm⁻¹)', band.strength);
    });
  });
}

/**
 * Parses an endmember set from JSON text (`file` names it in errors; Node: `readEndmembersFile`
 * reads the file): either an array of three endmembers or an object whose
 * `endmembers` key is one, each `{ name, refractiveIndex, density, continuum: [first, last],
 * bands: [{ center, width, strength }] }` in the units of {@link Endmember} ({@link CRISM_MINERALS}
 * order). Throws naming the file and the key.
 */
export function parseEndmembers(text: string, file: string): readonly Endmember[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const set = typeof raw === 'object' && raw !== null && !Array.isArray(raw) && 'endmembers' in raw ? (raw as { endmembers: unknown }).endmembers : raw;
  return checkedCopy(file, set as readonly Endmember[]);
}

/** `set` checked ({@link checkEndmembers}, errors prefixed by `who`), then deep-copied and frozen. */
function checkedCopy(who: string, set: readonly Endmember[]): readonly Endmember[] {
  checkEndmembers(who, set);
  return freezeSet(structuredClone(set as Endmember[]));
}

/**
 * Absorption coefficients per endmember set, keyed by a frozen set (a built-in one, or the copy that
 * `ownSet` makes of a caller's), so an entry can never go stale.
 */
const alphaCache = new WeakMap<readonly Endmember[], Float64Array[]>();

/**
 * The endmember set a public function works with: a built-in set as it is; any other set checked,
 * then deep-copied and frozen, once per call (the caller may change its objects between calls).
 */
function ownSet(who: string, set: readonly Endmember[] | undefined): readonly Endmember[] {
  if (set === undefined) return CRISM_ENDMEMBERS;
  if (Object.values(CRISM_SIMULATIONS).includes(set)) return set;
  return checkedCopy(who, set);
}

function alphaOf(set: readonly Endmember[]): Float64Array[] {
  let a = alphaCache.get(set);
  if (!a) {
    const lam = crismWavelengths();
    a = set.map((em) => {
      const v = new Float64Array(CRISM_CHANNELS);
      for (let c = 0; c < CRISM_CHANNELS; c++) {
        const t = c / (CRISM_CHANNELS - 1);
        let x = em.continuum[0] + (em.continuum[1] - em.continuum[0]) * t;
        for (const b of em.bands) x += b.strength * Math.exp(-((lam[c] - b.center) ** 2) / (2 * b.width * b.width));
        v[c] = x;
      }
      return v;
    });
    alphaCache.set(set, a);
  }
  return a;
}

/**
 * Absorption coefficient α(λ) in cm⁻¹ of endmember `m` (0..2) at the 165 channels, for the endmember
 * set `endmembers` (default {@link CRISM_ENDMEMBERS}).
 */
export function absorptionCoefficient(m: number, endmembers?: readonly Endmember[]): Float64Array {
  checkMineral('absorptionCoefficient', m);
  return alphaOf(ownSet('absorptionCoefficient', endmembers))[m].slice();
}

function checkMineral(who: string, m: number): void {
  if (!Number.isInteger(m) || m < 0 || m >= CRISM_MINERALS.length) {
    throw new Error(`${who}: mineral must be an integer in 0..${CRISM_MINERALS.length - 1}, got ${m}`);
  }
}

function checkGeometry(who: string, g: number): void {
  if (!Number.isInteger(g) || g < 0 || g >= CRISM_GEOMETRIES.length) {
    throw new Error(`${who}: geometry must be an integer in 0..${CRISM_GEOMETRIES.length - 1}, got ${g}`);
  }
}

function checkGrain(who: string, d: number): void {
  if (!Number.isFinite(d) || d <= 0) throw new Error(`${who}: grain size must be a positive number of µm, got ${d}`);
}

/** Slab-model constants of one endmember: Sₑ, Sᵢ and the mean path per unit grain size (cm per µm). */
function slabConstants(em: Endmember): { se: number; si: number; pathPerUm: number } {
  const n = em.refractiveIndex;
  const se = ((n - 1) * (n - 1)) / ((n + 1) * (n + 1)) + 0.05;
  const si = 1 - 4 / (n * (n + 1) * (n + 1));
  const meanPath = (2 / 3) * (n * n - (1 / n) * Math.pow(n * n - 1, 1.5));
  return { se, si, pathPerUm: meanPath * 1e-4 };
}

/**
 * Single-scattering albedo w(λ) of endmember `m` for grains of diameter `grainSize` µm, from Hapke's
 * equivalent-slab model (module comment), for the endmember set `endmembers` (default
 * {@link CRISM_ENDMEMBERS}). Values lie in (Sₑ, 1).
 */
export function singleScatteringAlbedo(m: number, grainSize: number, endmembers?: readonly Endmember[]): Float64Array {
  checkMineral('singleScatteringAlbedo', m);
  checkGrain('singleScatteringAlbedo', grainSize);
  return albedoOf(ownSet('singleScatteringAlbedo', endmembers), m, grainSize);
}

/** {@link singleScatteringAlbedo} for a set from `ownSet`, inputs already checked. */
function albedoOf(set: readonly Endmember[], m: number, grainSize: number): Float64Array {
  const alpha = alphaOf(set)[m];
  const { se, si, pathPerUm } = slabConstants(set[m]);
  const path = pathPerUm * grainSize;
  const w = new Float64Array(CRISM_CHANNELS);
  for (let c = 0; c < CRISM_CHANNELS; c++) {
    const th = Math.exp(-alpha[c] * path);
    w[c] = se + ((1 - se) * (1 - si) * th) / (1 - si * th);
  }
  return w;
}

/** Hapke's approximation of Chandrasekhar's H-function for isotropic scatterers of albedo `w`. */
export function chandrasekharH(x: number, w: number): number {
  const gamma = Math.sqrt(Math.max(0, 1 - w));
  return (1 + 2 * x) / (1 + 2 * gamma * x);
}

/**
 * Hapke radiance factor RADF = π·r = (w/4)·μ₀/(μ₀ + μ)·H(μ₀)H(μ) of a particulate surface of
 * isotropic scatterers with single-scattering albedo `w`, for μ₀ = cos θᵢ and μ = cos θₑ.
 */
export function hapkeReflectance(w: number, mu0: number, mu: number): number {
  return (w / 4) * (mu0 / (mu0 + mu)) * chandrasekharH(mu0, w) * chandrasekharH(mu, w);
}

/** [μ₀, μ] of geometry `g`. */
function cosines(g: number): [number, number] {
  const geo = CRISM_GEOMETRIES[g];
  return [Math.cos((geo.incidence * Math.PI) / 180), Math.cos((geo.emission * Math.PI) / 180)];
}

/** Grain sizes per mineral from a number (all the same) or three numbers. */
function grainSizes(who: string, grainSize: number | ArrayLike<number>): number[] {
  const k = CRISM_MINERALS.length;
  const out = typeof grainSize === 'number' ? new Array<number>(k).fill(grainSize) : Array.from(grainSize);
  if (out.length !== k) throw new Error(`${who}: expected ${k} grain sizes, got ${out.length}`);
  for (const d of out) checkGrain(who, d);
  return out;
}

/**
 * Noise-free reflectance (Hapke radiance factor, 165 channels) of an intimate mixture with mass
 * fractions `abundance` (three non-negative numbers summing to 1 within 1e-6, {@link CRISM_MINERALS}
 * order), seen at geometry `geometry` (index into {@link CRISM_GEOMETRIES}), with grain size(s)
 * `grainSize` µm (one for all minerals, or one each), for the endmember set `endmembers` (default
 * {@link CRISM_ENDMEMBERS}). See the module comment for the model.
 */
export function mixSpectrum(abundance: ArrayLike<number>, geometry: number, grainSize: number | ArrayLike<number>, endmembers?: readonly Endmember[]): Float32Array {
  const who = 'mixSpectrum';
  checkGeometry(who, geometry);
  const sizes = grainSizes(who, grainSize);
  const set = ownSet(who, endmembers);
  const k = CRISM_MINERALS.length;
  if (abundance.length !== k) throw new Error(`${who}: abundance must have ${k} entries, got ${abundance.length}`);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    if (!(abundance[i] >= 0)) throw new Error(`${who}: abundance entries must be ≥ 0, got ${abundance[i]} at ${i}`);
    sum += abundance[i];
  }
  if (Math.abs(sum - 1) > 1e-6) throw new Error(`${who}: abundance must sum to 1, sums to ${sum}`);
  const out = new Float32Array(CRISM_CHANNELS);
  mixInto(set, abundance, sizes, geometry, out, 0);
  return out;
}

/** Writes the mixture reflectance into `out[off .. off + 165)`; inputs already checked, `set` from `ownSet`. */
function mixInto(set: readonly Endmember[], abundance: ArrayLike<number>, sizes: number[], geometry: number, out: Float32Array, off: number): void {
  const k = CRISM_MINERALS.length;
  const weights = new Float64Array(k);
  let wsum = 0;
  for (let i = 0; i < k; i++) {
    weights[i] = abundance[i] / (set[i].density * sizes[i]);
    wsum += weights[i];
  }
  const albedo = new Float64Array(CRISM_CHANNELS);
  for (let i = 0; i < k; i++) {
    if (weights[i] === 0) continue;
    const wi = albedoOf(set, i, sizes[i]);
    const f = weights[i] / wsum;
    for (let c = 0; c < CRISM_CHANNELS; c++) albedo[c] += f * wi[c];
  }
  const [mu0, mu] = cosines(geometry);
  for (let c = 0; c < CRISM_CHANNELS; c++) out[off + c] = hapkeReflectance(albedo[c], mu0, mu);
}

/** Options of {@link endmemberSpectra}. */
export interface EndmemberSpectraOptions {
  /** A geometry index, or `'mean'` (default) for the average of the three geometries' spectra. */
  geometry?: number | 'mean';
  /** Grain size in µm (default 85.5, the middle of {@link CRISM_GRAIN_RANGE}). */
  grainSize?: number;
  /** The endmembers' optical models (default {@link CRISM_ENDMEMBERS}; see {@link CRISM_SIMULATIONS}). */
  endmembers?: readonly Endmember[];
}

/**
 * The true pure-mineral spectra, `3 × 165` row-major in {@link CRISM_MINERALS} order, computed
 * directly from each endmember's albedo (not through the mixing code). By default they are the mean
 * over the three geometries at the median grain size 85.5 µm: the reference for the endmember
 * extraction error ‖x̄ − x‖₂ of the paper's fig. 5.
 */
export function endmemberSpectra(opts: EndmemberSpectraOptions = {}): Float32Array {
  const who = 'endmemberSpectra';
  const grain = opts.grainSize ?? (CRISM_GRAIN_RANGE[0] + CRISM_GRAIN_RANGE[1]) / 2;
  checkGrain(who, grain);
  const geometry = opts.geometry ?? 'mean';
  const geos = geometry === 'mean' ? CRISM_GEOMETRIES.map((_, g) => g) : [geometry];
  for (const g of geos) checkGeometry(who, g);
  const set = ownSet(who, opts.endmembers);
  const k = CRISM_MINERALS.length;
  const out = new Float32Array(k * CRISM_CHANNELS);
  for (let m = 0; m < k; m++) {
    const w = albedoOf(set, m, grain);
    for (let c = 0; c < CRISM_CHANNELS; c++) {
      let s = 0;
      for (const g of geos) {
        const [mu0, mu] = cosines(g);
        s += hapkeReflectance(w[c], mu0, mu);
      }
      out[m * CRISM_CHANNELS + c] = s / geos.length;
    }
  }
  return out;
}

/**
 * Reflectance of the sample container (the source of the outlier pixels): a dark grey plastic,
 * RADF = level·μ₀/cos(33.9°)·(1 + 0.1t)·(1 − 0.25·g(1.73 µm) − 0.3·g(2.31 µm)) with t = 0..1 across
 * the range and g Gaussian C–H overtone bands of widths 0.03 and 0.04 µm.
 */
export function containerSpectrum(level: number, geometry: number): Float32Array {
  checkGeometry('containerSpectrum', geometry);
  const lam = crismWavelengths();
  const [mu0] = cosines(geometry);
  const scale = (level * mu0) / Math.cos((33.9 * Math.PI) / 180);
  const out = new Float32Array(CRISM_CHANNELS);
  for (let c = 0; c < CRISM_CHANNELS; c++) {
    const t = c / (CRISM_CHANNELS - 1);
    const ch =
      1 -
      0.25 * Math.exp(-((lam[c] - 1.73) ** 2) / (2 * 0.03 * 0.03)) -
      0.3 * Math.exp(-((lam[c] - 2.31) ** 2) / (2 * 0.04 * 0.04));
    out[c] = scale * (1 + 0.1 * t) * ch;
  }
  return out;
}

/** Options of {@link simulateCrism}. */
export interface CrismOptions {
  /** Seed of the {@link Rng} (default 0). */
  seed?: number;
  /** Number of spectra (default 5354, split over the geometries as {@link CRISM_GEOMETRY_COUNTS}). */
  n?: number;
  /** Probability that a pixel is a container outlier (default 0.01). */
  outlierFraction?: number;
  /** Standard deviation of the additive Gaussian measurement noise per channel (default 0.002). */
  noise?: number;
  /** Standard deviation of the per-pixel multiplicative brightness factor, 1 + gain·ε (default 0.01). */
  gain?: number;
  /** Log-scale standard deviation of the abundance jitter around the nominal value (default 0.1; 0 for none). */
  jitter?: number;
  /** Grain-size range in µm from which each pixel's grain size is drawn uniformly (default 63–108). */
  grainRange?: [number, number];
  /**
   * The endmembers' optical models (default {@link CRISM_ENDMEMBERS}, the `dusty` simulation; see
   * {@link CRISM_SIMULATIONS}). The random draws do not depend on it: the same seed gives the same
   * abundances, grain sizes, noise and outliers for every set.
   */
  endmembers?: readonly Endmember[];
}

/** A simulated CRISM-like dataset (see {@link simulateCrism}). */
export interface CrismData {
  /** Reflectances, `n × 165` row-major, each in [0, 1]. */
  x: Float32Array;
  /** True (jittered) mass-fraction abundances, `n × 3` row-major, rows on the simplex. */
  y: Float32Array;
  /** Index of each pixel's nominal abundance in {@link abundanceGrid}. */
  nominal: Int32Array;
  /** Index of each pixel's geometry in {@link CRISM_GEOMETRIES}. */
  geometry: Int32Array;
  /** Each pixel's grain size in µm. */
  grainSize: Float32Array;
  /** 1 where the pixel is (partly) the sample container, 0 otherwise. */
  outlier: Uint8Array;
  n: number;
  channels: number;
  /** Channel wavelengths in µm. */
  wavelengths: Float32Array;
  minerals: string[];
}

function checkFraction(who: string, v: number, max = 1): void {
  if (!Number.isFinite(v) || v < 0 || v > max) throw new Error(`${who} must be a number in [0, ${max}], got ${v}`);
}

/** Splits `n` pixels over the geometries in proportion to {@link CRISM_GEOMETRY_COUNTS}. */
function geometryCounts(n: number): number[] {
  const total = CRISM_GEOMETRY_COUNTS.reduce((a, b) => a + b, 0);
  const counts: number[] = [];
  let cum = 0;
  let prev = 0;
  for (const c of CRISM_GEOMETRY_COUNTS) {
    cum += c;
    const end = Math.round((n * cum) / total);
    counts.push(end - prev);
    prev = end;
  }
  return counts;
}

/**
 * Simulates `n` CRISM-like pixel spectra (default 5354). Pixels are ordered by geometry (Position 1,
 * Position 2, Angle 2; counts in proportion to 1866 : 1742 : 1746) and, within a geometry, by nominal
 * abundance in blocks of about equal size (like the pixels of consecutive sample images). Per pixel:
 * - true abundance: the nominal grid point with each non-zero entry multiplied by exp(jitter·ε) and
 *   the row renormalised, so it stays on the simplex and pure samples stay pure;
 * - one grain size, uniform on `grainRange` (default 63–108 µm), shared by the three minerals;
 * - the noise-free Hapke mixture spectrum ({@link mixSpectrum}) times a brightness factor
 *   1 + gain·ε, plus Gaussian noise of standard deviation `noise` per channel;
 * - with probability `outlierFraction`, the pixel partly sees the sample container: the spectrum
 *   becomes (1 − u)·sample + u·{@link containerSpectrum}(level) with u ~ U(0.5, 1) and
 *   level ~ U(0.04, 0.12); `outlier` flags it and `y` keeps the sample's abundance.
 * Values are finally clipped to [0, 1]. Draws come from named forks of `Rng(seed)` ('abundance',
 * 'grain', 'gain', 'noise', 'outlier'), so changing one option leaves the other draws alone. Throws
 * on a bad option.
 */
export function simulateCrism(opts: CrismOptions = {}): CrismData {
  const who = 'simulateCrism';
  const n = opts.n ?? 5354;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${who}: n must be a positive integer, got ${n}`);
  const outlierFraction = opts.outlierFraction ?? 0.01;
  checkFraction(`${who}: outlierFraction`, outlierFraction);
  const noise = opts.noise ?? 0.002;
  checkFraction(`${who}: noise`, noise);
  const gain = opts.gain ?? 0.01;
  checkFraction(`${who}: gain`, gain, 0.5);
  const jitter = opts.jitter ?? 0.1;
  checkFraction(`${who}: jitter`, jitter, 2);
  const [glo, ghi] = opts.grainRange ?? CRISM_GRAIN_RANGE;
  if (!(glo > 0 && ghi >= glo && Number.isFinite(ghi))) {
    throw new Error(`${who}: grainRange must be [lo, hi] with 0 < lo ≤ hi, got [${glo}, ${ghi}]`);
  }
  const set = ownSet(who, opts.endmembers);

  const root = new Rng(opts.seed ?? 0);
  const rAbund = root.fork('abundance');
  const rGrain = root.fork('grain');
  const rGain = root.fork('gain');
  const rNoise = root.fork('noise');
  const rOut = root.fork('outlier');

  const grid = abundanceGrid();
  const k = CRISM_MINERALS.length;
  const d = CRISM_CHANNELS;
  const x = new Float32Array(n * d);
  const y = new Float32Array(n * k);
  const nominal = new Int32Array(n);
  const geometry = new Int32Array(n);
  const grainSize = new Float32Array(n);
  const outlier = new Uint8Array(n);

  const counts = geometryCounts(n);
  let row = 0;
  for (let g = 0; g < counts.length; g++) {
    for (let j = 0; j < counts[g]; j++, row++) {
      geometry[row] = g;
      nominal[row] = Math.floor((j * grid.length) / counts[g]);
    }
  }

  const eps = new Float32Array(k);
  const ab = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    const nom = grid[nominal[r]];
    rAbund.fillNormal(eps);
    let s = 0;
    for (let i = 0; i < k; i++) {
      ab[i] = nom[i] > 0 ? nom[i] * Math.exp(jitter * eps[i]) : 0;
      s += ab[i];
    }
    for (let i = 0; i < k; i++) {
      ab[i] /= s;
      y[r * k + i] = ab[i];
    }
    const grain = glo + (ghi - glo) * rGrain.next();
    grainSize[r] = grain;
    mixInto(set, ab, [grain, grain, grain], geometry[r], x, r * d);
  }

  const gains = rGain.fillNormal(new Float32Array(n));
  const noiseDraws = rNoise.fillNormal(new Float32Array(n * d));
  for (let r = 0; r < n; r++) {
    const isOut = rOut.next() < outlierFraction;
    const u = 0.5 + 0.5 * rOut.next();
    const level = 0.04 + 0.08 * rOut.next();
    const f = 1 + gain * gains[r];
    const cont = isOut ? containerSpectrum(level, geometry[r]) : null;
    if (isOut) outlier[r] = 1;
    for (let c = 0; c < d; c++) {
      let v = x[r * d + c];
      if (cont) v = (1 - u) * v + u * cont[c];
      v = v * f + noise * noiseDraws[r * d + c];
      x[r * d + c] = Math.min(1, Math.max(0, v));
    }
  }

  return {
    x,
    y,
    nominal,
    geometry,
    grainSize,
    outlier,
    n,
    channels: d,
    wavelengths: crismWavelengths(),
    minerals: [...CRISM_MINERALS],
  };
}
