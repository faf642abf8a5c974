/**
 * Windows of consecutive rows as one input (sensor tables): with a window of w rows, row i's input
 * is rows i−w+1 … i side by side, oldest first (w·D values), and its label is row i's. A window never
 * spans a gap in time: with a `timestamp` id column, a step more than 10 times the typical (median)
 * step — a night, a pause in logging — starts a new segment, and the first w−1 rows of every segment
 * have no full window and are left out.
 */
import type { Table } from '../io/table.js';

/** The suffix of a column's copy k rows back in a window: `I@-2`; the newest copy keeps its name. */
export function windowColumns(columns: readonly string[], w: number): string[] {
  const out: string[] = [];
  for (let k = w - 1; k >= 0; k--) for (const c of columns) out.push(k === 0 ? c : `${c}@-${k}`);
  return out;
}

/** The channel names of a windowed model's columns (the newest block), or the columns themselves for w = 1. */
export function baseColumns(windowed: readonly string[], w: number): string[] {
  return windowed.slice(windowed.length - windowed.length / w);
}

/**
 * The segment of each row: 0 for every row without timestamps; with them, a new segment after every
 * step longer than 10 typical steps.
 */
export function timeSegments(t: Pick<Table, 'ids' | 'idColumn' | 'n'>): Int32Array {
  const seg = new Int32Array(t.n);
  if (t.idColumn?.toLowerCase() !== 'timestamp' || t.n < 3) return seg;
  const ms = t.ids.map((s) => Date.parse(s));
  if (ms.some((v) => !Number.isFinite(v))) return seg; // unreadable times: the table checks name them elsewhere
  const steps = ms.slice(1).map((v, i) => v - ms[i]).sort((a, b) => a - b);
  const typical = steps[Math.floor(steps.length / 2)];
  for (let i = 1; i < t.n; i++) seg[i] = seg[i - 1] + (ms[i] - ms[i - 1] > 10 * typical ? 1 : 0);
  return seg;
}

/** The rows that end a full window of w rows within one segment (indices into the table). */
export function windowEnds(segments: Int32Array, w: number): Int32Array {
  const out: number[] = [];
  let run = 0;
  for (let i = 0; i < segments.length; i++) {
    run = i > 0 && segments[i] === segments[i - 1] ? run + 1 : 1;
    if (run >= w) out.push(i);
  }
  return Int32Array.from(out);
}

/**
 * The windowed inputs: for each row i of `ends`, rows i−w+1 … i of x [n, D] side by side [m, w·D].
 * @throws Error when w < 1 or a window would reach before the first row.
 */
export function windowInputs(x: Float32Array, D: number, w: number, ends: Int32Array): Float32Array {
  if (!(Number.isInteger(w) && w >= 1)) throw new Error(`window must be an integer ≥ 1, got ${w}`);
  const out = new Float32Array(ends.length * w * D);
  ends.forEach((i, r) => {
    if (i - w + 1 < 0) throw new Error(`windowInputs: row ${i} has no ${w - 1} rows before it`);
    out.set(x.subarray((i - w + 1) * D, (i + 1) * D), r * w * D);
  });
  return out;
}
