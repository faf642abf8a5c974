/**
 * The spectral axis named by a table's header: NIR and Raman exports name their channels by
 * wavelength or wavenumber (`nm900, nm902, …`, `1100nm`, `4000.5`, `w_1200`). Charts of spectra then
 * show that axis instead of the channel index.
 */

/** Units recognised in a column name's prefix or suffix, as shown on an axis. */
const UNITS: Record<string, string> = { nm: 'nm', um: 'µm', µm: 'µm', micron: 'µm', 'cm-1': 'cm⁻¹', 'cm^-1': 'cm⁻¹', wn: 'cm⁻¹', ev: 'eV' };

/** A spectral axis read from column names. */
export interface SpectralAxis {
  /** One position per column, strictly increasing or strictly decreasing. */
  values: number[];
  /** The axis title, e.g. `wavelength (nm)`, `wavenumber (cm⁻¹)` or `channel position` when no unit is named. */
  title: string;
}

/**
 * Reads a spectral axis from column names: every name is one shared non-numeric prefix, a number,
 * and one shared non-numeric suffix (either may be empty), and the numbers are strictly monotonic.
 * Returns null when the names are not of that form (the caller then uses the channel index).
 */
export function spectralAxis(columns: readonly string[]): SpectralAxis | null {
  if (columns.length < 2) return null;
  // a wavenumber unit holds digits and a minus: named 'wn' before the number is parsed
  const parts = columns.map((c) => /^([^\d.+-]*?)[_\s]?([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)[_\s]?(\D*)$/.exec(c.trim().replace(/cm\^?-1/gi, 'wn')));
  if (parts.some((p) => !p)) return null;
  const pre = parts[0]![1];
  const suf = parts[0]![3];
  if (parts.some((p) => p![1] !== pre || p![3] !== suf)) return null;
  const values = parts.map((p) => Number(p![2]));
  if (!values.every(Number.isFinite)) return null;
  const up = values.every((v, i) => i === 0 || v > values[i - 1]);
  const down = values.every((v, i) => i === 0 || v < values[i - 1]);
  if (!up && !down) return null;
  const unit = UNITS[(pre || suf).toLowerCase()];
  const title = unit === 'nm' || unit === 'µm' ? `wavelength (${unit})` : unit === 'cm⁻¹' ? 'wavenumber (cm⁻¹)' : unit ? `energy (${unit})` : 'channel position';
  return { values, title };
}
