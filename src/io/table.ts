/**
 * Numeric tables from users' files: CSV, JSON and NPY, read into one {@link Table} shape with errors
 * that name the file, the line and the column.
 *
 * **CSV layout** (`.csv`, `.tsv` or `.txt`; comma, tab or semicolon separated, detected from the
 * header line):
 * ```
 * id,ch1,ch2,ch3        ← header line (required): column names
 * s001,0.31,0.33,0.35   ← one row per sample
 * s002,0.28,0.30,0.31
 * ```
 * The first column is an identifier (kept as text) when its header is `id`, `name`, `sample`, `timestamp` or
 * `sample_id` (any case); otherwise every column is numeric. Blank lines and lines starting with `#`
 * are skipped. Cells may be quoted with `"`.
 *
 * **JSON** (`.json`): an array of rows (`[[0.1, 0.2], …]`), or an object
 * `{ "columns": [...], "ids": [...], "rows": [[...], …] }` where `columns` and `ids` are optional.
 *
 * **NPY** (`.npy`, NumPy format 1.0–3.0): a 1-D or 2-D array of float32, float64, int8/16/32/64 or
 * uint8/16/32, either byte order, C or Fortran order. A 1-D array is one column.
 *
 * This module parses bytes and text and runs anywhere; the Node entry's `readTable` reads files.
 */

/** A numeric table read from a file: `n` rows of `width` float32 values, row-major. */
export interface Table {
  /** The file it came from (for messages). */
  file: string;
  /** Row identifiers: the id column, or `row <line>` when the file has none. */
  ids: string[];
  /** Column names (from the header; `c0`, `c1`, … when the format has none). */
  columns: string[];
  data: Float32Array;
  n: number;
  width: number;
  /** 1-based line in the file of each row (CSV), or the 0-based row index otherwise; for messages. */
  lines: number[];
  /** How rows are named in messages: `line` (CSV) or `row`. */
  rowWord: 'line' | 'row';
  /** The cells of the columns read as text ({@link ParseTableOptions.text}), trimmed, by column name. */
  text?: Record<string, string[]>;
  /** The header of the id column (`id`, `timestamp`, …), when the file has one. */
  idColumn?: string;
}

/** An error in a user's data file; the message names the file and where in it. */
export class DataFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataFileError';
  }
}

const ID_HEADERS = new Set(['id', 'name', 'sample', 'sample_id', 'sampleid', 'timestamp']);

/** Splits one CSV line on `sep`, honouring double quotes ("" inside quotes is a quote). */
function splitCsvLine(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += c;
    } else if (c === '"' && cur.trim() === '') {
      quoted = true;
      cur = '';
    } else if (c === sep) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

/** Parses a numeric cell strictly: the whole cell must be a finite number. */
/** The largest finite 32-bit float: values are stored as float32, so anything beyond it would become ±Infinity. */
const FLOAT32_MAX = 3.4028234663852886e38;

function parseCell(s: string): number {
  if (s === '') return NaN;
  const v = Number(s);
  return Number.isFinite(v) && Math.abs(v) <= FLOAT32_MAX ? v : NaN;
}

/** What is wrong with a value read as `v` (shown as `shown`): beyond the float32 range, or not a finite number. */
function badValue(v: unknown, shown: string): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${shown}, beyond the range of 32-bit floats (±3.4e38) the tables are stored in` : `${shown}, not a finite number`;
}

/** Why a cell is not a number the tables can hold: empty, not a number, or beyond the float32 range. */
function badCell(cell: string): string {
  return cell === '' ? 'empty, not a finite number' : badValue(Number(cell.trim()), `'${cell}'`);
}

/** Options of {@link parseTable}. */
export interface ParseTableOptions {
  /**
   * Columns whose empty CSV cells are read as NaN (a missing value) instead of an error — a label
   * column in which unlabelled rows have no label. Other formats have no empty cells.
   */
  missing?: readonly string[];
  /**
   * Columns kept as text as well (CSV): their cells are in {@link Table.text}, and a cell that is not
   * a number is NaN in `data` instead of an error — a label column of class names.
   */
  text?: readonly string[];
}

/** Parses CSV text (layout in the module doc); `file` names it in errors. */
export function parseCsv(text: string, file: string, opts: ParseTableOptions = {}): Table {
  const raw = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let headerAt = -1;
  for (let i = 0; i < raw.length; i++) {
    const t = raw[i].trim();
    if (t !== '' && !t.startsWith('#')) {
      headerAt = i;
      break;
    }
  }
  if (headerAt < 0) throw new DataFileError(`${file}: the file is empty (expected a header line, then one row per sample)`);
  const headerLine = raw[headerAt];
  const sep = [',', '\t', ';'].reduce((best, s) => (headerLine.split(s).length > headerLine.split(best).length ? s : best), ',');
  const header = splitCsvLine(headerLine, sep);
  if (header.every((h) => Number.isFinite(parseCell(h)))) {
    throw new DataFileError(`${file}: line ${headerAt + 1} looks like data, but the first line must be a header naming the columns (e.g. id,ch1,ch2,…)`);
  }
  const hasId = ID_HEADERS.has(header[0].toLowerCase());
  const columns = hasId ? header.slice(1) : header;
  const width = columns.length;
  if (width === 0) throw new DataFileError(`${file}: the header has an id column but no value columns`);
  const missing = columns.map((c) => opts.missing?.includes(c) ?? false);
  const asText = columns.map((c) => opts.text?.includes(c) ?? false);
  const textCells: Record<string, string[]> = {};
  columns.forEach((c, j) => {
    if (asText[j]) textCells[c] = [];
  });
  const ids: string[] = [];
  const lines: number[] = [];
  const values: number[] = [];
  for (let i = headerAt + 1; i < raw.length; i++) {
    const t = raw[i].trim();
    if (t === '' || t.startsWith('#')) continue;
    const cells = splitCsvLine(raw[i], sep);
    if (cells.length !== header.length) {
      throw new DataFileError(`${file}: line ${i + 1} has ${cells.length} cells but the header has ${header.length} (${header.slice(0, 4).join(sep)}${header.length > 4 ? sep + '…' : ''})`);
    }
    const off = hasId ? 1 : 0;
    for (let j = 0; j < width; j++) {
      const v = parseCell(cells[j + off]);
      if (asText[j]) textCells[columns[j]].push(cells[j + off].trim());
      if (Number.isNaN(v) && !asText[j] && !(missing[j] && cells[j + off].trim() === '')) {
        throw new DataFileError(`${file}: line ${i + 1}, column ${j + off + 1} ('${columns[j]}') is ${badCell(cells[j + off])}`);
      }
      values.push(v);
    }
    ids.push(hasId ? cells[0] : `line ${i + 1}`);
    lines.push(i + 1);
  }
  if (ids.length === 0) throw new DataFileError(`${file}: the header is there but there are no data rows`);
  return { file, ids, columns, data: Float32Array.from(values), n: ids.length, width, lines, rowWord: 'line', ...(asText.some(Boolean) ? { text: textCells } : {}), ...(hasId ? { idColumn: header[0] } : {}) };
}

/** Parses JSON text (layout in the module doc); `file` names it in errors. */
export function parseJsonTable(text: string, file: string): Table {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DataFileError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  let rows: unknown;
  let columns: string[] | undefined;
  let ids: string[] | undefined;
  if (Array.isArray(doc)) rows = doc;
  else if (doc !== null && typeof doc === 'object' && 'rows' in doc) {
    const o = doc as { rows: unknown; columns?: unknown; ids?: unknown };
    rows = o.rows;
    if (o.columns !== undefined) {
      if (!Array.isArray(o.columns) || !o.columns.every((c) => typeof c === 'string')) throw new DataFileError(`${file}: "columns" must be an array of strings`);
      columns = o.columns as string[];
    }
    if (o.ids !== undefined) {
      if (!Array.isArray(o.ids)) throw new DataFileError(`${file}: "ids" must be an array`);
      ids = (o.ids as unknown[]).map(String);
    }
  } else throw new DataFileError(`${file}: expected an array of rows or an object with "rows"`);
  if (!Array.isArray(rows)) throw new DataFileError(`${file}: "rows" must be an array of rows`);
  if (rows.length === 0) throw new DataFileError(`${file}: no rows`);
  const first = rows[0] as unknown;
  const width = Array.isArray(first) ? first.length : 1;
  if (width === 0) throw new DataFileError(`${file}: row 0 is empty`);
  if (columns && columns.length !== width) throw new DataFileError(`${file}: "columns" names ${columns.length} columns but rows have ${width} values`);
  if (ids && ids.length !== rows.length) throw new DataFileError(`${file}: "ids" has ${ids.length} entries for ${rows.length} rows`);
  const data = new Float32Array(rows.length * width);
  rows.forEach((r: unknown, i: number) => {
    const cells = Array.isArray(r) ? (r as unknown[]) : [r];
    if (cells.length !== width) throw new DataFileError(`${file}: row ${i} has ${cells.length} values, expected ${width} (as row 0)`);
    cells.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX) throw new DataFileError(`${file}: row ${i}, column ${j}${columns ? ` ('${columns[j]}')` : ''} is ${badValue(v, JSON.stringify(v))}`);
      data[i * width + j] = v;
    });
  });
  const n = rows.length;
  return { file, ids: ids ?? Array.from({ length: n }, (_, i) => `row ${i}`), columns: columns ?? Array.from({ length: width }, (_, j) => `c${j}`), data, n, width, lines: Array.from({ length: n }, (_, i) => i), rowWord: 'row' };
}

/** Parses NPY bytes (layout in the module doc); `file` names it in errors. */
export function parseNpy(buf: Uint8Array, file: string): Table {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (buf.length < 10 || magic.some((b, i) => buf[i] !== b)) throw new DataFileError(`${file}: not an NPY file (bad magic bytes)`);
  const major = buf[6];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    headerLen = dv.getUint32(8, true);
    start = 12;
  } else throw new DataFileError(`${file}: NPY format version ${major} is not supported (1–3 are)`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1] === 'True';
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new DataFileError(`${file}: NPY header is missing 'descr' or 'shape': ${header.trim()}`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.length < 1 || shape.length > 2) throw new DataFileError(`${file}: expected a 1-D or 2-D array, got shape (${shape.join(', ')})`);
  const order = descr[0];
  const kind = descr.slice(1);
  const little = order === '<' || order === '|' || order === '=';
  if (order === '>' && !['f4', 'f8', 'i2', 'i4', 'i8', 'u2', 'u4'].includes(kind)) throw new DataFileError(`${file}: dtype '${descr}' is not supported`);
  const sizes: Record<string, number> = { f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4 };
  const size = sizes[kind];
  if (!size) throw new DataFileError(`${file}: dtype '${descr}' is not supported (float32/64 and integers are)`);
  const [n, width] = shape.length === 1 ? [shape[0], 1] : shape;
  const count = n * width;
  const off = start + headerLen;
  if (buf.length - off < count * size) throw new DataFileError(`${file}: truncated: shape (${shape.join(', ')}) needs ${count * size} bytes of data, the file has ${buf.length - off}`);
  if (n === 0 || width === 0) throw new DataFileError(`${file}: the array is empty (shape (${shape.join(', ')}))`);
  const read = (i: number): number => {
    const p = off + i * size;
    switch (kind) {
      case 'f4':
        return dv.getFloat32(p, little);
      case 'f8':
        return dv.getFloat64(p, little);
      case 'i1':
        return dv.getInt8(p);
      case 'i2':
        return dv.getInt16(p, little);
      case 'i4':
        return dv.getInt32(p, little);
      case 'i8':
        return Number(dv.getBigInt64(p, little));
      case 'u1':
        return dv.getUint8(p);
      case 'u2':
        return dv.getUint16(p, little);
      default:
        return dv.getUint32(p, little);
    }
  };
  const data = new Float32Array(count);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < width; j++) {
      const v = read(fortran ? j * n + i : i * width + j);
      if (!Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX) throw new DataFileError(`${file}: row ${i}, column ${j} is ${badValue(v, String(v))}`);
      data[i * width + j] = v;
    }
  }
  return { file, ids: Array.from({ length: n }, (_, i) => `row ${i}`), columns: Array.from({ length: width }, (_, j) => `c${j}`), data, n, width, lines: Array.from({ length: n }, (_, i) => i), rowWord: 'row' };
}

/** The extension of a file name, with its dot, lower-cased (`''` when none), as Node's `path.extname`. */
export function fileExtension(file: string): string {
  const base = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  const k = base.lastIndexOf('.');
  if (k <= 0 || /^\.+$/.test(base)) return '';
  return base.slice(k).toLowerCase();
}

/**
 * Parses a table from the bytes of a `.csv`/`.tsv`/`.txt`, `.json` or `.npy` file (format by the
 * extension of `file`, which also names it in errors). Node: `readTable` reads the file.
 */
export function parseTable(bytes: Uint8Array, file: string, opts: ParseTableOptions = {}): Table {
  const ext = fileExtension(file);
  const text = () => new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  if (ext === '.npy') return parseNpy(bytes, file);
  if (ext === '.json') return parseJsonTable(text(), file);
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return parseCsv(text(), file, opts);
  throw new DataFileError(`${file}: unknown file type '${ext}'; use .csv, .tsv, .txt, .json or .npy`);
}

/** Where row `i` of a table is, for messages: `file: line 12` or `file: row 11`. */
export function rowLocation(t: Table, i: number): string {
  return `${t.file}: ${t.rowWord} ${t.lines[i]}${t.ids[i].startsWith('line ') || t.ids[i].startsWith('row ') ? '' : ` (id '${t.ids[i]}')`}`;
}

/**
 * Checks that every row of `t` is a composition on the simplex: entries ≥ −tol and summing to 1
 * within `tol` (default 1e-3, enough for compositions written with three decimals). Throws naming
 * the file, row and column.
 */
export function checkSimplexTable(t: Table, tol = 1e-3): void {
  for (let i = 0; i < t.n; i++) {
    let s = 0;
    for (let j = 0; j < t.width; j++) {
      const v = t.data[i * t.width + j];
      if (v < -tol) throw new DataFileError(`${rowLocation(t, i)}, column '${t.columns[j]}' is ${v}: compositions must be ≥ 0`);
      s += v;
    }
    if (Math.abs(s - 1) > tol) throw new DataFileError(`${rowLocation(t, i)}: the composition sums to ${+s.toFixed(6)}, not 1 (tolerance ${tol}); normalise the rows or check the columns`);
  }
}

/**
 * Checks that every value of `t` lies in [0, 1] (the support of a Bernoulli likelihood, whose
 * log-density of a value outside it is meaningless and can be positive). Throws naming the file,
 * row, column and value; `why` says what needs the range.
 */
export function checkUnitTable(t: Table, why: string): void {
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    if (!(v >= 0 && v <= 1)) {
      const r = Math.floor(i / t.width);
      throw new DataFileError(`${rowLocation(t, r)}, column '${t.columns[i - r * t.width]}' is ${v}: ${why}`);
    }
  }
}

/** Checks that tables holding the same kind of rows have the same columns: their number, and their names in order ({@link checkSameNames}). */
export function checkSameWidth(a: Table, b: Table, what: string): void {
  if (a.width !== b.width) throw new DataFileError(`${b.file}: ${b.width} ${what} per row, but ${a.file} has ${a.width}; the files must have the same columns`);
  checkSameNames(a.columns, b, a.file);
}

/** Whether `columns` are the names a reader gives a table without a header (`c0`, `c1`, …). */
function unnamed(columns: readonly string[]): boolean {
  return columns.every((c, j) => c === `c${j}`);
}

/**
 * Checks that table `t` names its columns as `expected` does, in the same order (a file whose
 * channels are reordered or renamed would otherwise be read silently by position). Skipped when
 * either has no names of its own (a file without a header, NumPy, JSON without "columns").
 * @param source names where `expected` comes from in the message (a file, or a model directory).
 * @throws DataFileError naming the first column that differs, by position and both names.
 */
export function checkSameNames(expected: readonly string[], t: Table, source: string): void {
  if (unnamed(expected) || unnamed(t.columns) || expected.length !== t.columns.length) return;
  const j = expected.findIndex((c, i) => c.trim() !== t.columns[i].trim());
  if (j < 0) return;
  const at = t.columns.indexOf(expected[j]);
  throw new DataFileError(`${t.file}: data column ${j + 1} of ${t.width} (after any id column) is '${t.columns[j]}', but in ${source} it is '${expected[j]}'${at >= 0 ? ` ('${expected[j]}' is data column ${at + 1} here: the columns are in another order)` : ''}; the columns must be the same, in the same order`);
}

/**
 * Formats rows as CSV with a header; `ids` become the first column (`id`, or the name given with
 * them, e.g. `timestamp`), and `text` (one cell per row, e.g. class names) a last column after the
 * numbers.
 */
export function formatCsv(columns: string[], rows: ArrayLike<number>[], ids?: string[] | { name: string; cells: string[] }, digits = 6, text?: { name: string; cells: string[] }): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const idCol = ids === undefined ? undefined : Array.isArray(ids) ? { name: 'id', cells: ids } : ids;
  const head = [...(idCol ? [idCol.name] : []), ...columns, ...(text ? [text.name] : [])].map(q).join(',');
  const body = rows.map((r, i) => {
    const vals = Array.from(r, (v) => (Number.isInteger(v) ? String(v) : v.toPrecision(digits)));
    return [...(idCol ? [q(idCol.cells[i])] : []), ...vals, ...(text ? [q(text.cells[i])] : [])].join(',');
  });
  return [head, ...body].join('\n') + '\n';
}
