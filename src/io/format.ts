/**
 * The `.utp` file format: one file holding named float32 tensors and a JSON header. Used for saved
 * models and for training checkpoints. Loading executes no code: the header is parsed as JSON and
 * the tensors are read as raw little-endian float32.
 *
 * Layout (version 2):
 * ```
 * offset  size  content
 * 0       8     magic "UNTAPPED" (ASCII)
 * 8       4     format version, uint32 little-endian (= 2)
 * 12      4     header length H in bytes, uint32 LE
 * 16      32    SHA-256 of every other byte of the file: bytes 0–15, then 48 to the end
 * 48      H     header, UTF-8 JSON: { kind, meta, tensors: [{ name, shape, offset, length }], payloadBytes }
 * 48+H    pad   zero bytes up to a multiple of 4
 * P       N     payload: each tensor's float32 values, little-endian, at P + offset (byte offsets)
 * ```
 * The checksum covers the preamble, the header (tensor table, model config, trainer state) and the
 * payload, so damage anywhere is detected on load. Version 1 files (checksum over the payload only,
 * stored in the header) are refused with an error saying so: their header cannot be verified.
 * Files are written atomically: to `.name.tmp-<pid>` in the same directory, fsync'd, then renamed
 * over `path`, so a reader (or a run killed mid-write) never sees a half-written file; the temporary
 * file is removed on every failure path.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Current format version written by {@link writeUtp}. */
export const UTP_VERSION = 2;
const PRE = 16;
const DIGEST = 32;
const START = PRE + DIGEST;
const MAGIC = 'UNTAPPED';

/** A named float32 tensor held in plain memory. */
export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

/** Contents of a `.utp` file. */
export interface UtpContents {
  /** What the file holds, e.g. `model` or `checkpoint`. */
  kind: string;
  /** Free-form JSON metadata (model config, trainer state, …). */
  meta: Record<string, unknown>;
  /** Tensors by name. */
  tensors: Map<string, NamedArray>;
}

/** Error raised for a missing, damaged or mismatched file; `file` names it. */
export class FormatError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'FormatError';
  }
}

/** Serialises contents to bytes. */
export function encodeUtp(c: UtpContents): Buffer {
  const entries: { name: string; shape: number[]; offset: number; length: number }[] = [];
  let offset = 0;
  for (const [name, t] of c.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`encodeUtp: tensor '${name}' has shape [${t.shape}] but ${t.data.length} values`);
    entries.push({ name, shape: t.shape, offset, length: n });
    offset += n * 4;
  }
  const payload = Buffer.alloc(offset);
  for (const e of entries) {
    const t = c.tensors.get(e.name)!;
    const view = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (isLittleEndian) view.copy(payload, e.offset);
    else for (let i = 0; i < t.data.length; i++) payload.writeFloatLE(t.data[i], e.offset + 4 * i);
  }
  const header = Buffer.from(JSON.stringify({ kind: c.kind, meta: c.meta, tensors: entries, payloadBytes: offset }), 'utf8');
  const out = Buffer.alloc(START + header.length + padTo4(START + header.length) + payload.length);
  out.write(MAGIC, 0, 'ascii');
  out.writeUInt32LE(UTP_VERSION, 8);
  out.writeUInt32LE(header.length, 12);
  header.copy(out, START);
  payload.copy(out, out.length - payload.length);
  digest(out).copy(out, PRE);
  return out;
}

const padTo4 = (n: number): number => (4 - (n % 4)) % 4;

/** SHA-256 of a version-2 file's bytes, leaving out the 32 bytes where it is stored. */
function digest(buf: Buffer): Buffer {
  return createHash('sha256').update(buf.subarray(0, PRE)).update(buf.subarray(START)).digest();
}

const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Parses bytes produced by {@link encodeUtp}; `file` names the source in errors. */
export function decodeUtp(buf: Buffer, file: string): UtpContents {
  if (buf.length < 16) throw new FormatError(file, `too short to be an untapped file (${buf.length} bytes)`);
  if (buf.toString('ascii', 0, 8) !== MAGIC) throw new FormatError(file, 'not an untapped file (bad magic bytes)');
  const version = buf.readUInt32LE(8);
  if (version === 1) {
    throw new FormatError(file, 'format version 1, written by an earlier untapped whose checksum does not cover the header (tensor table, config, trainer state); this build reads version 2 only: train or fit the model again to write it in the current format');
  }
  if (version !== UTP_VERSION) throw new FormatError(file, `format version ${version} is not supported (this build reads version ${UTP_VERSION})`);
  if (buf.length < START) throw new FormatError(file, `truncated: ${buf.length} bytes is shorter than the ${START}-byte preamble`);
  const hlen = buf.readUInt32LE(12);
  if (START + hlen > buf.length) throw new FormatError(file, `truncated or damaged: header of ${hlen} bytes does not fit in ${buf.length} bytes`);
  const start = START + hlen + padTo4(START + hlen);
  const payload = buf.subarray(Math.min(start, buf.length));
  let header: { kind: string; meta: Record<string, unknown>; tensors: { name: string; shape: number[]; offset: number; length: number }[]; payloadBytes: number } | undefined;
  let headerError = '';
  try {
    header = JSON.parse(buf.toString('utf8', START, START + hlen));
  } catch (e) {
    headerError = (e as Error).message;
  }
  if (!digest(buf).equals(buf.subarray(PRE, START))) {
    // Name the likely cause: a short payload is a truncated file, anything else damage.
    if (header && typeof header.payloadBytes === 'number' && payload.length !== header.payloadBytes) {
      throw new FormatError(file, `truncated or padded: payload is ${payload.length} bytes, header says ${header.payloadBytes}`);
    }
    throw new FormatError(file, `damaged: checksum (sha256) does not match the file's contents (${header ? 'header or payload' : `damaged header: ${headerError}`})`);
  }
  if (!header) throw new FormatError(file, `damaged header (${headerError})`);
  if (typeof header !== 'object' || header === null || !Array.isArray(header.tensors) || typeof header.payloadBytes !== 'number') {
    throw new FormatError(file, 'damaged header (missing tensors or payloadBytes)');
  }
  if (payload.length !== header.payloadBytes) {
    throw new FormatError(file, `truncated or padded: payload is ${payload.length} bytes, header says ${header.payloadBytes}`);
  }
  const tensors = new Map<string, NamedArray>();
  for (const e of header.tensors) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (n !== e.length || e.offset + 4 * n > payload.length) throw new FormatError(file, `damaged: tensor '${e.name}' does not fit the payload`);
    const data = new Float32Array(n);
    const src = payload.subarray(e.offset, e.offset + 4 * n);
    if (isLittleEndian) new Uint8Array(data.buffer).set(src);
    else for (let i = 0; i < n; i++) data[i] = src.readFloatLE(4 * i);
    tensors.set(e.name, { shape: e.shape, data });
  }
  return { kind: header.kind, meta: header.meta ?? {}, tensors };
}

/** What an errno code means, in words, for a file the user named. */
function causeOf(e: unknown, file: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  const dir = path.dirname(file);
  switch (code) {
    case 'ENOSPC':
      return 'no space left on the device (disk full)';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (is ${dir} writable?)`;
    case 'EROFS':
      return 'read-only file system';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return `a part of the path ${dir} is a file, not a directory`;
    case 'ENOENT':
      return `the directory ${dir} does not exist`;
    default:
      return (e as Error).message ?? String(e);
  }
}

/** An error writing a file the user asked for: names `file` and the cause; `code` is the errno code. */
export class FileWriteError extends Error {
  readonly code: string | undefined;
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`cannot write ${file}: ${causeOf(cause, file)}`);
    this.name = 'FileWriteError';
    this.code = (cause as NodeJS.ErrnoException).code;
  }
}

const TEMP = /^\.(.+)\.tmp-(\d+)$/;

/** Whether a process with this id is running (on this machine). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files (`.name.tmp-<pid>`) that writers killed mid-write left in `dir`: those
 * of processes no longer running. Best-effort; returns the names removed.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = TEMP.exec(n);
    if (!m) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || pidAlive(pid)) continue;
    try {
      fs.rmSync(path.join(dir, n), { force: true });
      removed.push(n);
    } catch {
      // another process may be removing it too
    }
  }
  return removed;
}

/** Creates `dir` (and its parents); an error names the directory and the cause. */
export function makeDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new FileWriteError(dir, e);
  }
}

/**
 * Writes `bytes` to `file` atomically: a temporary file in the same directory is written and
 * fsync'd, then renamed over `file`. On any failure (disk full, permission, `file` a directory, …)
 * the temporary file is removed and the error names `file` and the cause ({@link FileWriteError}).
 * Temporary files left by writers that were killed (dead pids) in the same directory are removed.
 */
export function writeFileAtomic(file: string, bytes: Buffer | string): void {
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(file);
  } catch {
    // not there yet
  }
  if (st && !st.isFile() && !st.isDirectory()) {
    // a device, FIFO or socket (/dev/null, /dev/stdout, a named pipe): written into, never replaced
    try {
      fs.writeFileSync(file, bytes);
    } catch (e) {
      throw new FileWriteError(file, e);
    }
    return;
  }
  // through a symbolic link, the file it points to is replaced (the link stays)
  const real = st ? fs.realpathSync(file) : file;
  const dir = path.dirname(real);
  const tmp = path.join(dir, `.${path.basename(real)}.tmp-${process.pid}`);
  removeStaleTemps(dir);
  let created = false;
  try {
    if (st?.isDirectory()) throw Object.assign(new Error(`EISDIR: ${file}`), { code: 'EISDIR' });
    const fd = fs.openSync(tmp, 'w');
    created = true;
    try {
      fs.writeFileSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, real);
    created = false;
  } catch (e) {
    if (created) {
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        // nothing more can be done; the error below is the one that matters
      }
    }
    throw new FileWriteError(file, e);
  }
  try {
    const dfd = fs.openSync(dir, 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    // directory fsync is best-effort (not supported on every platform)
  }
}

/** Writes a `.utp` file atomically. */
export function writeUtp(file: string, c: UtpContents): void {
  writeFileAtomic(file, encodeUtp(c));
}

/** Reads a `.utp` file, with clear errors for a missing or damaged file. */
export function readUtp(file: string): UtpContents {
  if (!fs.existsSync(file)) throw new FormatError(file, 'file not found');
  return decodeUtp(fs.readFileSync(file), file);
}
