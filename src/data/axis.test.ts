import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spectralAxis } from './axis.js';

test('spectralAxis reads wavelengths and wavenumbers from column names, and declines names that are not an axis', () => {
  assert.deepEqual(spectralAxis(['nm900', 'nm902', 'nm904']), { values: [900, 902, 904], title: 'wavelength (nm)' });
  assert.deepEqual(spectralAxis(['1100nm', '1104nm']), { values: [1100, 1104], title: 'wavelength (nm)' });
  assert.deepEqual(spectralAxis(['4000.5', '3998.6', '3996.6']), { values: [4000.5, 3998.6, 3996.6], title: 'channel position' });
  assert.deepEqual(spectralAxis(['cm-1_4000', 'cm-1_3998']), { values: [4000, 3998], title: 'wavenumber (cm⁻¹)' });
  // not an axis: other names, mixed prefixes, a repeat or a turn, a single column
  assert.equal(spectralAxis(['ch1', 'ch2', 'ch3', 'ch2']), null);
  assert.equal(spectralAxis(['I', 'V', 'G']), null);
  assert.equal(spectralAxis(['nm900', 'x902']), null);
  assert.equal(spectralAxis(['nm900']), null);
  // the project's own channel names (ch1 … chD) are positions, in order
  assert.deepEqual(spectralAxis(['ch1', 'ch2']), { values: [1, 2], title: 'channel position' });
});
