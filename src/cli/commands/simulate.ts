/**
 * `untapped simulate NAME`: the project's simulators as tables any run can read — half-moons (a
 * class column, for `train` configs' `sources`), and CRISM-like and LIBS spectra (an x table and a
 * y table of compositions, as `fit --x/--y` and untapped run configs take them). The same seeds give
 * the same data as the paper experiments (`experiment moons-adgm`, `crism`, `libs`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { UsageError, intArg, log, numArg, refuseOverwrite } from '../common.js';
import { formatCsv } from '../../io/index.js';
import { writeFileAtomic } from '../../node/files.js';
import { makeMoons } from '../../data/moons.js';
import { CRISM_SIMULATIONS, isCrismSimulationName, simulateCrism } from '../../data/spectra.js';
import { simulateLibs } from '../../data/libs.js';
import { PV_CHANNELS, PV_CONDITIONS, PV_CONDITION_SHARES, simulatePvPlant, type PvCondition } from '../../experiments/pv-plant.js';
import { Rng } from '../../engine/rng.js';

/** Rows of a row-major matrix, as views. */
function rowsOf(data: Float32Array, n: number, width: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => data.subarray(i * width, (i + 1) * width));
}

/** Row ids `PREFIX0001`, … */
function ids(prefix: string, n: number): string[] {
  const w = String(n).length;
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(w, '0')}`);
}

/** The two files of a prefix; a prefix that is a directory or ends in `.csv` is a usage error. */
function prefixFiles(prefix: string): [string, string] {
  if (prefix === '' || /[\\/]$/.test(prefix) || (fs.existsSync(prefix) && fs.statSync(prefix).isDirectory())) throw new UsageError(`--out ${prefix} is a directory; give a file prefix, e.g. ${path.join(prefix, 'spectra')} (writes spectra-x.csv and spectra-y.csv)`);
  if (/\.csv$/i.test(prefix)) throw new UsageError(`--out ${prefix}: give the prefix without .csv (${prefix.replace(/\.csv$/i, '')} writes ${prefix.replace(/\.csv$/i, '')}-x.csv and -y.csv)`);
  return [`${prefix}-x.csv`, `${prefix}-y.csv`];
}

/** Adds `untapped simulate`. */
export function addSimulateCommand(program: Command): void {
  const sim = program
    .command('simulate')
    .description("write simulated data as tables any run can read: 'moons' (x1, x2, class), 'crism' and 'libs' (spectra PREFIX-x.csv and compositions PREFIX-y.csv), 'pv' (a PV string's sensor record with its condition per minute); `untapped simulate NAME --help` lists the options");
  sim
    .command('moons')
    .description('two interleaved half-moons (the ADGM paper\'s toy, appendix A §4.2): columns id, x1, x2 and class (0 or 1), the classes in equal numbers (one more of one class when --n is odd), rows shuffled')
    .requiredOption('-o, --out <file>', 'CSV file to write')
    .option('--n <count>', 'number of points', intArg('--n'), 1000)
    .option('--noise <sd>', 'standard deviation of the Gaussian noise on each coordinate', numArg('--noise'), 0.1)
    .option('--seed <s>', 'seed', intArg('--seed', 0), 0)
    .option('--force', 'replace an existing --out file')
    .action((o: { out: string; n: number; noise: number; seed: number; force?: boolean }) => {
      if (!(o.noise >= 0)) throw new UsageError(`--noise must be ≥ 0, got ${o.noise}`);
      refuseOverwrite([o.out], o.force);
      const d = makeMoons(o.n, { noise: o.noise, seed: o.seed });
      const rows = Array.from({ length: d.n }, (_, i) => [d.x[2 * i], d.x[2 * i + 1], d.y[i]]);
      writeFileAtomic(o.out, formatCsv(['x1', 'x2', 'class'], rows, ids('p', d.n)));
      log(`wrote ${o.out}: ${d.n} points, 2 classes (noise ${o.noise}, seed ${o.seed}); a train config reads it as { "x": "${o.out}", "labelColumn": "class" }`);
    });
  sim
    .command('crism')
    .description("CRISM-like reflectance spectra of olivine–diopside–bytownite mixtures (Hapke model, 165 channels 0.9–2.5 µm; 000_… §4): PREFIX-x.csv (columns wl_<µm>) and PREFIX-y.csv (mass fractions)")
    .requiredOption('-o, --out <prefix>', 'writes PREFIX-x.csv and PREFIX-y.csv')
    .option('--n <count>', 'number of spectra', intArg('--n'), 5354)
    .option('--simulation <name>', `endmember set: ${Object.keys(CRISM_SIMULATIONS).join(' or ')}`, 'dusty')
    .option('--seed <s>', 'seed', intArg('--seed', 0), 0)
    .option('--force', 'replace existing output files')
    .action((o: { out: string; n: number; simulation: string; seed: number; force?: boolean }) => {
      if (!isCrismSimulationName(o.simulation)) throw new UsageError(`--simulation: '${o.simulation}' is not one of ${Object.keys(CRISM_SIMULATIONS).join(', ')}`);
      const files = prefixFiles(o.out);
      refuseOverwrite(files, o.force);
      const d = simulateCrism({ n: o.n, seed: o.seed, endmembers: CRISM_SIMULATIONS[o.simulation] });
      const rowIds = ids('s', d.n);
      writeFileAtomic(files[0], formatCsv(Array.from(d.wavelengths, (w) => `wl_${w.toFixed(4)}`), rowsOf(d.x, d.n, d.channels), rowIds));
      writeFileAtomic(files[1], formatCsv(d.minerals, rowsOf(d.y, d.n, d.minerals.length), rowIds));
      log(`wrote ${files.join(' and ')}: ${d.n} spectra × ${d.channels} channels, compositions of ${d.minerals.join(', ')} (${o.simulation}, seed ${o.seed}); untapped fit --x ${files[0]} --y ${files[1]}`);
    });
  sim
    .command('libs')
    .description('LIBS emission spectra of six compounds (800 channels 240–850 nm; 000_… §5): PREFIX-x.csv (columns nm_<nm>) and PREFIX-y.csv (oxide mass fractions)')
    .requiredOption('-o, --out <prefix>', 'writes PREFIX-x.csv and PREFIX-y.csv')
    .option('--per-compound <count>', 'shots per compound', intArg('--per-compound'), 30)
    .option('--seed <s>', 'seed', intArg('--seed', 0), 0)
    .option('--force', 'replace existing output files')
    .action((o: { out: string; perCompound: number; seed: number; force?: boolean }) => {
      const files = prefixFiles(o.out);
      refuseOverwrite(files, o.force);
      const d = simulateLibs({ perCompound: o.perCompound, seed: o.seed });
      const rowIds = Array.from({ length: d.n }, (_, i) => `${d.compounds[d.compound[i]]}-${i + 1}`);
      writeFileAtomic(files[0], formatCsv(Array.from(d.wavelengths, (w) => `nm_${w.toFixed(2)}`), rowsOf(d.x, d.n, d.channels), rowIds));
      writeFileAtomic(files[1], formatCsv(d.oxides, rowsOf(d.y, d.n, d.oxides.length), rowIds));
      log(`wrote ${files.join(' and ')}: ${d.n} shots × ${d.channels} channels, ${d.compounds.length} compounds (seed ${o.seed}); untapped fit --x ${files[0]} --y ${files[1]}`);
    });
  sim
    .command('pv')
    .description(`a PV string's sensor record for condition monitoring (thesis 003_… ch. 6, appendix D; src/experiments/pv-plant.ts): columns timestamp, ${PV_CHANNELS.join(', ')} (A, V, W/m², °C, °C, m/s) at the maximum power point once a minute in daylight, and condition (${PV_CONDITIONS.join(', ')}; one per day, in table 6.1's shares of the rows, so each condition's last day is cut short)`)
    .requiredOption('-o, --out <file>', 'CSV file to write')
    .option('--rows <count>', 'number of rows (daylight minutes)', intArg('--rows'), 15000)
    .option('--conditions <list>', `comma-separated conditions to simulate, in table 6.1's relative shares (default: all ten)`)
    .option('--label-fraction <f>', 'share of rows that keep their condition; the others get an empty label cell (unlabelled rows for a semi-supervised run)', numArg('--label-fraction'), 1)
    .option('--seed <s>', 'seed', intArg('--seed', 0), 0)
    .option('--force', 'replace an existing --out file')
    .action((o: { out: string; rows: number; conditions?: string; labelFraction: number; seed: number; force?: boolean }) => {
      if (!(o.labelFraction >= 0 && o.labelFraction <= 1)) throw new UsageError(`--label-fraction must be in [0, 1], got ${o.labelFraction}`);
      let shares: Partial<Record<PvCondition, number>> | undefined;
      if (o.conditions !== undefined) {
        const names = o.conditions.split(',').map((s) => s.trim()).filter(Boolean);
        const bad = names.filter((c) => !(PV_CONDITIONS as readonly string[]).includes(c));
        if (bad.length || names.length === 0) throw new UsageError(`--conditions: ${bad.length ? `'${bad.join("', '")}' ${bad.length === 1 ? 'is' : 'are'} not a condition` : 'no condition given'}; valid: ${PV_CONDITIONS.join(', ')}`);
        shares = Object.fromEntries(names.map((c) => [c, PV_CONDITION_SHARES[c as PvCondition]]));
      }
      refuseOverwrite([o.out], o.force);
      const d = simulatePvPlant({ rows: o.rows, seed: o.seed, ...(shares ? { shares } : {}) });
      const keep = new Rng(o.seed).fork('labels');
      const labels = Array.from(d.y, (c) => (keep.next() < o.labelFraction ? PV_CONDITIONS[c] : ''));
      writeFileAtomic(o.out, formatCsv([...PV_CHANNELS], rowsOf(d.x, d.n, PV_CHANNELS.length), { name: 'timestamp', cells: d.timestamps }, 6, { name: 'condition', cells: labels }));
      const labelled = labels.filter(Boolean).length;
      log(`wrote ${o.out}: ${d.n} rows (${d.timestamps[0]} … ${d.timestamps.at(-1)}), ${labelled} with their condition${labelled < d.n ? `, ${d.n - labelled} unlabelled` : ''} (seed ${o.seed}); a train config reads it as { "x": "${o.out}", "labelColumn": "condition" }`);
    });
}
