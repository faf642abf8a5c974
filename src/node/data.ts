/**
 * Reading users' files (Node only): tables, run configs, IDX files, endmember sets and the
 * `sources` of a run, with the core's parsers and errors that name the file.
 */
import * as fs from 'node:fs';
import './host.js';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { DataFileError, parseTable, type ParseTableOptions, type Table } from '../io/table.js';
import { ConfigError, parseConfig } from '../config/validate.js';
import { parseIdx, type IdxFile } from '../data/idx.js';
import { parseEndmembers, type Endmember } from '../data/spectra.js';
import { loadSourcesWith, type LoadedSources, type Sources } from '../data/sources.js';

/** Reads a table from a `.csv`/`.tsv`/`.txt`, `.json` or `.npy` file (format by extension). */
export function readTable(file: string, opts: ParseTableOptions = {}): Table {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DataFileError(err.code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read (${err.message})`);
  }
  return parseTable(bytes, file, opts);
}

/** Reads and validates a JSON config file, with errors naming the file (and JSON position). */
export function readConfigFile<S extends z.ZodType>(schema: S, file: string): z.output<S> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
  }
  return parseConfig(schema, text, file);
}

/** Reads and parses an IDX file from disk; errors name `file`. See {@link parseIdx}. */
export function readIdx(file: string): IdxFile {
  let buf: Uint8Array;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read IDX file: ${(e as Error).message}`);
  }
  return parseIdx(buf, file);
}

/** Reads an endmember set from a JSON file (see {@link parseEndmembers}); errors name the file and the key. */
export function readEndmembersFile(file: string): readonly Endmember[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read the endmember file (${(e as Error).message})`);
  }
  return parseEndmembers(text, file);
}

/**
 * Reads the `sources` of a run config from files; paths relative to `baseDir`; `seed` draws the
 * test fraction and the per-class labelled rows (see {@link loadSourcesWith}).
 * @throws DataFileError naming the file, line and column of bad data; Error for inconsistent sources.
 */
export function loadSources(src: Sources, baseDir: string, seed: number, opts: { unitInterval?: string } = {}): LoadedSources {
  return loadSourcesWith(src, { resolve: (f) => (path.isAbsolute(f) ? f : path.join(baseDir, f)), read: readTable }, seed, opts);
}

/**
 * SHA-256 of each source file, so that a run can tell later whether its data changed: `evaluate`
 * re-reads the sources and would otherwise score a different test split without a word.
 */
export function fingerprintFiles(files: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of files) out[f] = createHash('sha256').update(fs.readFileSync(f)).digest('hex');
  return out;
}
