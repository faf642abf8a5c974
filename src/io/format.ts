/**
 * The `.utp` file format: one file holding named float32 tensors and a JSON header. Used for saved
 * models and for training checkpoints. Loading executes no code: the header is parsed as JSON and
 * the tensors are read as raw little-endian float32.
 *
 * Layout (version 1):
 * ```
 * offset  size  content
 * 0       8     magic "UNTAPPED" (ASCII)
 * 8       4     format version, uint32 little-endian (= 1)
 * 12      4     header length H in bytes, uint32 LE
 * 16      H     header, UTF-8 JSON: { kind, meta, tensors: [{ name, shape, offset, length }], payloadBytes, sha256 }
 * 16+H    pad   zero bytes up to a multiple of 4
 * P       N     payload: each tensor's float32 values, little-endian, at P + offset (byte offsets)
 * ```
 * `sha256` is the hex SHA-256 of the payload; a damaged file is detected on load. Files are
 * written atomically: to `path.tmp-<pid>`, fsync'd, then renamed over `path`, so a reader (or a run
 * killed mid-write) never sees a half-written file.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Current format version written by {@link writeUtp}. */
export const UTP_VERSION = 1;
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
  const sha256 = createHash('sha256').update(payload).digest('hex');
  const header = Buffer.from(JSON.stringify({ kind: c.kind, meta: c.meta, tensors: entries, payloadBytes: offset, sha256 }), 'utf8');
  const pre = Buffer.alloc(16);
  pre.write(MAGIC, 0, 'ascii');
  pre.writeUInt32LE(UTP_VERSION, 8);
  pre.writeUInt32LE(header.length, 12);
  const pad = Buffer.alloc((4 - ((16 + header.length) % 4)) % 4);
  return Buffer.concat([pre, header, pad, payload]);
}

const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Parses bytes produced by {@link encodeUtp}; `file` names the source in errors. */
export function decodeUtp(buf: Buffer, file: string): UtpContents {
  if (buf.length < 16) throw new FormatError(file, `too short to be an untapped file (${buf.length} bytes)`);
  if (buf.toString('ascii', 0, 8) !== MAGIC) throw new FormatError(file, 'not an untapped file (bad magic bytes)');
  const version = buf.readUInt32LE(8);
  if (version !== UTP_VERSION) throw new FormatError(file, `format version ${version} is not supported (this build reads version ${UTP_VERSION})`);
  const hlen = buf.readUInt32LE(12);
  if (16 + hlen > buf.length) throw new FormatError(file, `truncated: header of ${hlen} bytes does not fit in ${buf.length} bytes`);
  let header: { kind: string; meta: Record<string, unknown>; tensors: { name: string; shape: number[]; offset: number; length: number }[]; payloadBytes: number; sha256: string };
  try {
    header = JSON.parse(buf.toString('utf8', 16, 16 + hlen));
  } catch (e) {
    throw new FormatError(file, `damaged header (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || !Array.isArray(header.tensors) || typeof header.payloadBytes !== 'number') {
    throw new FormatError(file, 'damaged header (missing tensors or payloadBytes)');
  }
  const start = 16 + hlen + ((4 - ((16 + hlen) % 4)) % 4);
  const payload = buf.subarray(start);
  if (payload.length !== header.payloadBytes) {
    throw new FormatError(file, `truncated or padded: payload is ${payload.length} bytes, header says ${header.payloadBytes}`);
  }
  const sha = createHash('sha256').update(payload).digest('hex');
  if (sha !== header.sha256) throw new FormatError(file, 'damaged: payload checksum (sha256) does not match the header');
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

/**
 * Writes `bytes` to `file` atomically: a temporary file in the same directory is written and
 * fsync'd, then renamed over `file`.
 */
export function writeFileAtomic(file: string, bytes: Buffer | string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  try {
    const dfd = fs.openSync(path.dirname(file), 'r');
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
