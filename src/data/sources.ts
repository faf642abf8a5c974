/**
 * Table sources of a run config (`sources` section): labelled pairs, unlabelled inputs and a test
 * set from CSV / TSV / JSON / NPY tables of any width (`io/table.ts`), for every model family.
 *
 * ```json
 * "sources": {
 *   "labelled":   { "x": "table.csv", "labelColumn": "class", "perClass": 5 },
 *   "unlabelled": { "x": "more.csv" },
 *   "test":       { "fraction": 0.2 }
 * }
 * ```
 * - Labels are class indices 0…K−1: a column of the x table (`labelColumn`, removed from the
 *   features) or a one-column file of the same rows (`y`). K is the largest label + 1; a class with
 *   no labelled row is an error naming it.
 * - `labelled.perClass: n` keeps n rows of each class as labelled (seeded by `train.seed`) and makes
 *   the other rows of that table unlabelled: the usual semi-supervised set-up from one labelled table.
 * - `unlabelled`: inputs only; a `labelColumn` there names a column to drop (labels present in the
 *   file are not used for training).
 * - `test`: a table (with labels where the model has a classifier) or `{ "fraction": f }`:
 *   round(f·n_c) rows of every class c of the labelled table held out (stratified, seeded) before
 *   `perClass` is applied; with no labelled source, f of the unlabelled table's rows.
 * - Relative paths are taken from the config file's folder; every x table must have the same
 *   columns (names and count).
 *
 * Unsupervised models train on the x of every training row (labelled and unlabelled); conditional
 * models on the labelled rows; semi-supervised models on both, each as its kind.
 *
 * {@link loadSourcesWith} reads the tables through a {@link TableReader}, so it runs anywhere (in a
 * browser, on tables held in memory); the Node entry's `loadSources` reads them from files.
 */
import { z } from 'zod';
import { Rng } from '../engine/rng.js';
import { DataFileError, rowLocation, type ParseTableOptions, type Table } from '../io/table.js';
import type { Dataset } from './dataset.js';
import { subsetRows, validationSplit } from './dataset.js';
import { labelledSubset } from './subset.js';
import { timeSegments, windowColumns, windowEnds, windowInputs } from './window.js';

/** A table of inputs, with labels from a column of it or from a second file. */
export const TableSourceSchema = z
  .object({
    /** Inputs: one row per sample (CSV / TSV / JSON / NPY). */
    x: z.string().min(1),
    /** Labels: a one-column file of class indices, one per row of `x`. */
    y: z.string().min(1).optional(),
    /** Labels: the name of a column of `x` holding class indices (removed from the inputs). */
    labelColumn: z.string().min(1).optional(),
  })
  .strict();

/** The `sources` section of a run config (see the module doc). */
export const SourcesSchema = z
  .object({
    labelled: TableSourceSchema.extend({
      /** Keep this many labelled rows per class (seeded); the table's other rows become unlabelled. */
      perClass: z.number().int().min(1).optional(),
    })
      .strict()
      .optional(),
    unlabelled: z.object({ x: z.string().min(1), labelColumn: z.string().min(1).optional() }).strict().optional(),
    test: z.union([TableSourceSchema, z.object({ fraction: z.number().gt(0).lt(1) }).strict()]).optional(),
    /**
     * Standardise every input channel with the mean and standard deviation of the training rows
     * (labelled and unlabelled), kept with the model (`models/standardize.ts`): for tables whose
     * channels have different units or scales, with a Gaussian likelihood. Bounds and
     * log-likelihoods stay in nats of the data as given; samples come back in its units. Default false.
     */
    standardize: z.boolean().optional(),
    /**
     * Consecutive rows as one input (`data/window.ts`): each row's input is the last `window` rows
     * of its table side by side, oldest first, and its label is its own; a window never spans a gap
     * in a `timestamp` column (a night), and the first window − 1 rows of every stretch are left
     * out. Default 1 (each row alone).
     */
    window: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((s) => s.labelled !== undefined || s.unlabelled !== undefined, { message: 'sources needs labelled or unlabelled rows (or both)' });

/** A `sources` section after defaults. */
export type Sources = z.output<typeof SourcesSchema>;

/** The rows a run trains and is tested on. Unlabelled datasets carry y = −1. */
export interface LoadedSources {
  labelled?: Dataset;
  unlabelled?: Dataset;
  test?: Dataset;
  /** Whether the test rows carry labels. */
  testLabelled: boolean;
  /** Input columns (names), after removing a label column. */
  columns: string[];
  /** Number of classes K (0 when no source has labels). */
  classes: number;
  /** The class names, when the label column holds names (class k is `classNames[k]`, sorted); absent for class indices. */
  classNames?: string[];
  /** Where each part came from, for logs and reports. */
  describe: Record<string, string>;
  /** The files read (absolute or as given), for `fingerprintFiles` (Node entry). */
  files: string[];
}

/** How {@link loadSourcesWith} finds and reads the tables a `sources` section names. */
export interface TableReader {
  /** The name to read for a path as written in the config (Node: resolved against the config's folder). */
  resolve(name: string): string;
  /** The table of a resolved name (`missing`: columns whose empty cells are NaN); throws {@link DataFileError} naming it when it cannot. */
  read(name: string, opts?: ParseTableOptions): Table;
}

/** Whether a label cell means "no label": empty, or NA, NaN, N/A, null (any case). */
export function isMissingLabel(cell: string): boolean {
  return cell === '' || /^(na|nan|n\/a|null)$/i.test(cell);
}

/** x of a table without its label column, and the labels from that column or a label file. */
function split(readTable: (name: string) => Table, t: Table, labelColumn: string | undefined, yFile: string | undefined, where: string, unitLikelihood?: string, knownNames?: readonly string[]): { x: Float32Array; columns: string[]; y?: Int32Array; names?: string[] } {
  const jLabel = labelColumn === undefined ? -1 : t.columns.indexOf(labelColumn);
  if (labelColumn !== undefined && jLabel < 0) throw new DataFileError(`${t.file}: no column '${labelColumn}' (${where}.labelColumn); columns: ${t.columns.slice(0, 8).join(', ')}${t.columns.length > 8 ? ', …' : ''}`);
  if (unitLikelihood !== undefined) {
    for (let i = 0; i < t.n; i++) {
      for (let k = 0; k < t.width; k++) {
        const v = t.data[i * t.width + k];
        if (k !== jLabel && !(v >= 0 && v <= 1)) {
          throw new DataFileError(`${rowLocation(t, i)}, column '${t.columns[k]}' is ${v}, outside [0, 1], the support of the ${unitLikelihood} likelihood; scale the inputs to [0, 1] or use "likelihood": "gaussian"`);
        }
      }
    }
  }
  if (labelColumn !== undefined && yFile !== undefined) throw new Error(`${where}: give either labelColumn or y, not both`);
  let columns = t.columns;
  let x = t.data;
  let y: Int32Array | undefined;
  if (labelColumn !== undefined) {
    const j = t.columns.indexOf(labelColumn);
    if (j < 0) throw new DataFileError(`${t.file}: no column '${labelColumn}' (${where}.labelColumn); columns: ${t.columns.slice(0, 8).join(', ')}${t.columns.length > 8 ? ', …' : ''}`);
    if (t.width < 2) throw new DataFileError(`${t.file}: the label column '${labelColumn}' is the only column; there are no inputs left`);
    columns = t.columns.filter((_, k) => k !== j);
    x = new Float32Array(t.n * (t.width - 1));
    y = new Int32Array(t.n);
    // class names (text labels): some non-empty cell is not a number; the classes are the sorted names.
    // NA, NaN, N/A and null (any case) are missing labels, as an empty cell.
    const cells = t.text?.[labelColumn]?.map((c) => (isMissingLabel(c) ? '' : c));
    const named = cells !== undefined && cells.some((c, i) => c !== '' && Number.isNaN(t.data[i * t.width + j]));
    if (named && !knownNames) {
      // numbers and words in one column: a typo in a column of class indices, or ambiguous names
      const word = cells!.findIndex((c, i) => c !== '' && Number.isNaN(t.data[i * t.width + j]));
      const num = cells!.findIndex((c, i) => c !== '' && !Number.isNaN(t.data[i * t.width + j]));
      if (num >= 0) throw new DataFileError(`${rowLocation(t, word)}, column '${labelColumn}' is '${cells![word]}', but ${rowLocation(t, num).replace(`${t.file}: `, '')} is the number ${cells![num]}: a label column holds class indices 0…K−1 or class names, not both (a typo? names that are numbers need a letter, e.g. 'type1')`);
    }
    let names: string[] | undefined;
    if (named || (knownNames && cells)) {
      names = knownNames ? [...knownNames] : [...new Set(cells!.filter((c) => c !== ''))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    }
    for (let i = 0; i < t.n; i++) {
      let o = i * (t.width - 1);
      for (let k = 0; k < t.width; k++) {
        const v = t.data[i * t.width + k];
        if (k !== j) x[o++] = v;
        else if (names) {
          // an empty label cell: an unlabelled row
          const c = cells![i];
          y[i] = c === '' ? -1 : names.indexOf(c);
          if (y[i] < 0 && c !== '') throw new DataFileError(`${rowLocation(t, i)}, column '${labelColumn}' is '${c}', not a class of the labelled rows (${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''})`);
        } else y[i] = Number.isNaN(v) || (cells !== undefined && cells[i] === '') ? -1 : classIndex(v, () => `${rowLocation(t, i)}, column '${labelColumn}'`);
      }
    }
    if (names) return { x, columns, y, names };
  }
  if (yFile !== undefined) {
    const ty = readTable(yFile);
    if (ty.width !== 1) throw new DataFileError(`${ty.file}: a label file has one column of class indices; it has ${ty.width}`);
    if (ty.n !== t.n) throw new DataFileError(`${ty.file}: ${ty.n} labels for the ${t.n} rows of ${t.file}`);
    y = Int32Array.from({ length: ty.n }, (_, i) => classIndex(ty.data[i], () => rowLocation(ty, i)));
  }
  return { x, columns, ...(y ? { y } : {}) };
}

/** A class index from a cell: an integer ≥ 0. */
function classIndex(v: number, where: () => string): number {
  if (!Number.isInteger(v) || v < 0) throw new DataFileError(`${where()} is ${v}: a class label is an integer ≥ 0 (classes 0…K−1)`);
  return v;
}

/** A dataset from split parts. */
function dataset(name: string, x: Float32Array, dim: number, y: Int32Array | undefined): Dataset {
  const n = x.length / dim;
  return { name, x, y: y ?? new Int32Array(n).fill(-1), n, dim, shape: [dim], numClasses: 1 };
}

/**
 * Reads the `sources` of a run config through `reader`; `seed` draws the test fraction and the
 * per-class labelled rows. With `unitInterval` (the name of a likelihood such as `bernoulli`),
 * every input must lie in [0, 1], that likelihood's support. (Node: `loadSources`, from files.)
 * @throws DataFileError naming the file, line and column of bad data; Error for inconsistent sources.
 */
export function loadSourcesWith(src: Sources, reader: TableReader, seed: number, opts: { unitInterval?: string } = {}): LoadedSources {
  const u = opts.unitInterval;
  const w = src.window ?? 1;
  // a table's rows as windows of w consecutive rows (labels: the last row's)
  const windowed = <S extends { x: Float32Array; columns: string[]; y?: Int32Array }>(t: Table, s: S): S => {
    if (w === 1) return s;
    const ends = windowEnds(timeSegments(t), w);
    if (ends.length === 0) throw new DataFileError(`${t.file}: no stretch of ${w} consecutive rows for sources.window ${w}`);
    return { ...s, x: windowInputs(s.x, s.columns.length, w, ends), columns: windowColumns(s.columns, w), ...(s.y ? { y: Int32Array.from(ends, (i) => s.y![i]) } : {}) };
  };
  const rel = (f: string) => reader.resolve(f);
  const readTable = (f: string, labelColumn?: string) => reader.read(f, labelColumn === undefined ? undefined : { missing: [labelColumn], text: [labelColumn] });
  const describe: Record<string, string> = {};
  let columns: string[] | undefined;
  let columnsFrom = '';
  const checkColumns = (c: string[], file: string) => {
    if (!columns) {
      columns = c;
      columnsFrom = file;
      return;
    }
    if (c.length !== columns.length) throw new DataFileError(`${file}: ${c.length} input columns, but ${columnsFrom} has ${columns.length}; the tables must have the same columns`);
    const j = c.findIndex((name, k) => name !== columns![k]);
    if (j >= 0 && !/^c\d+$/.test(c[j])) throw new DataFileError(`${file}: input column ${j + 1} is '${c[j]}' but '${columns[j]}' in ${columnsFrom}; the tables must have the same columns in the same order`);
  };
  let labelled: Dataset | undefined;
  let unlabelledParts: Dataset[] = [];
  let test: Dataset | undefined;
  let testLabelled = false;
  const fraction = src.test && 'fraction' in src.test ? src.test.fraction : undefined;
  const files: string[] = [];
  let K = 0;
  let classNames: string[] | undefined;
  if (src.labelled) {
    const l = src.labelled;
    if (l.labelColumn === undefined && l.y === undefined) throw new Error('sources.labelled: give the labels as labelColumn (a column of x) or y (a label file)');
    // rows whose label cell is empty are unlabelled rows of the same table
    const t = readTable(rel(l.x), l.labelColumn);
    files.push(t.file, ...(l.y !== undefined ? [rel(l.y)] : []));
    const s = windowed(t, split(readTable, t, l.labelColumn, l.y !== undefined ? rel(l.y) : undefined, 'sources.labelled', u));
    checkColumns(s.columns, t.file);
    labelled = dataset(t.file, s.x, s.columns.length, s.y);
    classNames = s.names;
    const namesNote = classNames ? `; classes ${classNames.map((c, k) => `${k} = '${c}'`).join(', ')}` : '';
    describe.labelled = `${t.file} (${t.n} rows${namesNote})`;
    const blank = Array.from(labelled.y.keys()).filter((i) => labelled!.y[i] < 0);
    if (blank.length > 0) {
      if (blank.length === labelled.n) throw new DataFileError(`${t.file}: every row's '${l.labelColumn}' is empty; sources.labelled needs labelled rows (give the table as sources.unlabelled if it has none)`);
      const keep = Array.from(labelled.y.keys()).filter((i) => labelled!.y[i] >= 0);
      unlabelledParts.push({ ...subsetRows(labelled, blank, `${t.file} (rows without a label)`), y: new Int32Array(blank.length).fill(-1) });
      labelled = subsetRows(labelled, keep, t.file);
      describe.labelled = `${t.file} (${keep.length} rows with a label; the ${blank.length} rows with an empty '${l.labelColumn}' are unlabelled${namesNote})`;
    }
    // the class count from every labelled row, before any split (a loop: no argument-count limit)
    let at = 0;
    for (let i = 0; i < labelled.n; i++) {
      if (labelled.y[i] + 1 > K) {
        K = labelled.y[i] + 1;
        at = i;
      }
    }
    if (K > labelled.n) {
      // more classes than rows: some class has no row; say so before allocating K of anything
      throw new DataFileError(`${t.file}: labelled row ${at + 1} (${t.ids[at]}) has class ${K - 1}, which makes ${K} classes (0…${K - 1}) for ${labelled.n} rows, so at least ${K - labelled.n} classes have no row (a typo in a label?)`);
    }
    const counts = new Int32Array(K);
    for (let i = 0; i < labelled.n; i++) counts[labelled.y[i]]++;
    const empty = [...counts.keys()].filter((c) => counts[c] === 0);
    if (empty.length > 0) {
      const hint = empty.length === 1 && empty[0] === 0 ? ' (1-based labels? classes are counted from 0: subtract 1)' : ' (a typo in a label?)';
      throw new DataFileError(`${t.file}: class${empty.length > 1 ? 'es' : ''} ${empty.slice(0, 10).join(', ')}${empty.length > 10 ? `, … (${empty.length} in all)` : ''} of 0…${K - 1} (from the largest label) ha${empty.length > 1 ? 've' : 's'} no row; labels are class indices 0…K−1 with every class present${hint}`);
    }
    labelled.numClasses = K;
    if (fraction !== undefined) {
      // stratified: round(f·n_c) test rows of every class c, at least one left to train on
      const sp = stratifiedSplit(labelled, fraction, new Rng(seed).fork('test-split'), 'sources.test.fraction');
      labelled = { ...sp.train, name: t.file };
      test = { ...sp.test, name: `${t.file} (test rows)` };
      testLabelled = true;
      describe.test = `${sp.test.n} of the labelled rows of ${t.file} (${fraction} of each class, seeded)`;
    }
    if (l.perClass !== undefined) {
      const have = new Int32Array(K);
      for (let i = 0; i < labelled.n; i++) have[labelled.y[i]]++;
      const short = [...have.keys()].find((c) => have[c] < l.perClass!);
      if (short !== undefined) throw new DataFileError(`sources.labelled.perClass is ${l.perClass}, but class ${short} has only ${have[short]} row${have[short] === 1 ? '' : 's'} in ${t.file}${fraction !== undefined ? ' after the test rows are held out' : ''}; lower perClass`);
      const sub = labelledSubset(labelled, l.perClass, new Rng(seed).fork('labelled'));
      unlabelledParts.push({ ...sub.rest, y: new Int32Array(sub.rest.n).fill(-1), name: `${t.file} (rows not kept as labelled)` });
      labelled = { ...sub.labelled, name: t.file };
      describe.labelled += `, ${l.perClass} per class kept (seeded): ${labelled.n} labelled, ${sub.rest.n} more unlabelled`;
    }
  }
  if (src.unlabelled) {
    const t = readTable(rel(src.unlabelled.x), src.unlabelled.labelColumn);
    files.push(t.file);
    const s = windowed(t, split(readTable, t, src.unlabelled.labelColumn, undefined, 'sources.unlabelled', u));
    checkColumns(s.columns, t.file);
    let d = dataset(t.file, s.x, s.columns.length, undefined);
    describe.unlabelled = `${t.file} (${t.n} rows)`;
    if (fraction !== undefined && !src.labelled) {
      // no labelled rows: the test rows (for the bound) come out of the unlabelled table
      const nTest = Math.round(fraction * d.n);
      if (nTest < 1 || nTest >= d.n) throw new DataFileError(`sources.test.fraction ${fraction} of the ${d.n} rows of ${t.file} leaves ${nTest} test rows; it must leave at least one row on each side`);
      const sp = validationSplit(d, nTest, new Rng(seed).fork('test-split'));
      d = { ...sp.train, name: t.file };
      test = { ...sp.val, name: `${t.file} (test rows)` };
      describe.test = `${sp.val.n} of the rows of ${t.file} (seeded)`;
    }
    unlabelledParts.push(d);
  }
  if (src.test && !('fraction' in src.test)) {
    const t = readTable(rel(src.test.x), src.test.labelColumn);
    files.push(t.file, ...(src.test.y !== undefined ? [rel(src.test.y)] : []));
    const s = windowed(t, split(readTable, t, src.test.labelColumn, src.test.y !== undefined ? rel(src.test.y) : undefined, 'sources.test', u, classNames));
    if (s.names && !classNames) throw new DataFileError(`${t.file}: the test labels are class names, but the labelled rows have class indices; use the same kind of label in both`);
    checkColumns(s.columns, t.file);
    test = dataset(t.file, s.x, s.columns.length, s.y);
    // a test table whose label cells are all empty is unlabelled (rows with an empty label are predicted, not scored)
    testLabelled = s.y !== undefined && s.y.some((v) => v >= 0);
    describe.test = `${t.file} (${t.n} rows)`;
    if (testLabelled && K > 0) {
      for (let i = 0; i < test.n; i++) {
        if (test.y[i] >= K) throw new DataFileError(`${rowLocation(t, i)}: class ${test.y[i]}, but the labelled rows have classes 0…${K - 1} only`);
      }
    }
  }
  if (test && testLabelled && K > 0) test.numClasses = K;
  unlabelledParts = unlabelledParts.filter((d) => d.n > 0);
  const unlabelled = unlabelledParts.length === 0 ? undefined : unlabelledParts.length === 1 ? unlabelledParts[0] : concatRows(unlabelledParts, 'unlabelled');
  return { ...(labelled ? { labelled } : {}), ...(unlabelled ? { unlabelled } : {}), ...(test ? { test } : {}), testLabelled, columns: columns ?? [], classes: K, ...(classNames ? { classNames } : {}), describe, files: [...new Set(files)] };
}

/**
 * Holds out round(f·n_c) rows of every class c (seeded), keeping at least one row of each class to
 * train on; both parts keep the rows' order.
 * @throws DataFileError naming `key` when the fraction leaves a class with no training row or no row is held out.
 */
export function stratifiedSplit(ds: Dataset, fraction: number, rng: Rng, key: string): { train: Dataset; test: Dataset } {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < ds.n; i++) {
    const c = ds.y[i];
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  }
  const testRows: number[] = [];
  for (const [c, rows] of [...byClass.entries()].sort((a, b) => a[0] - b[0])) {
    const n = Math.round(fraction * rows.length);
    if (n >= rows.length) throw new DataFileError(`${key} ${fraction} holds out all ${rows.length} row${rows.length === 1 ? '' : 's'} of class ${c} in ${ds.name}, leaving none to train on; lower the fraction or give test rows as a table`);
    const perm = rng.permutation(rows.length);
    for (let j = 0; j < n; j++) testRows.push(rows[perm[j]]);
  }
  if (testRows.length === 0) throw new DataFileError(`${key} ${fraction} of ${ds.n} labelled rows holds out no row of any class; raise the fraction or give test rows as a table`);
  const isTest = new Uint8Array(ds.n);
  for (const i of testRows) isTest[i] = 1;
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  for (let i = 0; i < ds.n; i++) (isTest[i] ? testIdx : trainIdx).push(i);
  return { train: subsetRows(ds, trainIdx, ds.name), test: subsetRows(ds, testIdx, ds.name) };
}

/** Rows of several datasets of the same width, one after another (labels kept). */
export function concatRows(parts: Dataset[], name: string): Dataset {
  const dim = parts[0].dim;
  const n = parts.reduce((s, d) => s + d.n, 0);
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  let o = 0;
  for (const d of parts) {
    x.set(d.x, o * dim);
    y.set(d.y, o);
    o += d.n;
  }
  return { name, x, y, n, dim, shape: [dim], numClasses: Math.max(...parts.map((d) => d.numClasses)) };
}
