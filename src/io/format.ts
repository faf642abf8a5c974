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
 * This module encodes and decodes bytes (`Uint8Array`) and runs anywhere; the checksum is a pure
 * SHA-256 ({@link sha256}). Reading and writing files is the Node entry's (`untapped/node`:
 * `readUtp`, `writeUtp`), which writes atomically: to `.name.tmp-<pid>` in the same directory,
 * fsync'd, then renamed over `path`, so a reader (or a run killed mid-write) never sees a
 * half-written file; the temporary file is removed on every failure path.
 */
import { sha256 } from './sha256.js';

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
export function encodeUtp(c: UtpContents): Uint8Array {
  const entries: { name: string; shape: number[]; offset: number; length: number }[] = [];
  let offset = 0;
  for (const [name, t] of c.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`encodeUtp: tensor '${name}' has shape [${t.shape}] but ${t.data.length} values`);
    entries.push({ name, shape: t.shape, offset, length: n });
    offset += n * 4;
  }
  const header = new TextEncoder().encode(JSON.stringify({ kind: c.kind, meta: c.meta, tensors: entries, payloadBytes: offset }));
  const out = new Uint8Array(START + header.length + padTo4(START + header.length) + offset);
  const view = new DataView(out.buffer);
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, UTP_VERSION, true);
  view.setUint32(12, header.length, true);
  out.set(header, START);
  const p0 = out.length - offset;
  for (const e of entries) {
    const t = c.tensors.get(e.name)!;
    if (isLittleEndian) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p0 + e.offset);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(p0 + e.offset + 4 * i, t.data[i], true);
  }
  out.set(digest(out), PRE);
  return out;
}

const padTo4 = (n: number): number => (4 - (n % 4)) % 4;

/** SHA-256 of a version-2 file's bytes, leaving out the 32 bytes where it is stored. */
function digest(buf: Uint8Array): Uint8Array {
  return sha256(buf.subarray(0, PRE), buf.subarray(START));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Parses bytes produced by {@link encodeUtp}; `file` names the source in errors. */
export function decodeUtp(buf: Uint8Array, file: string): UtpContents {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 16) throw new FormatError(file, `too short to be an untapped file (${buf.length} bytes)`);
  if (String.fromCharCode(...buf.subarray(0, 8)) !== MAGIC) throw new FormatError(file, 'not an untapped file (bad magic bytes)');
  const version = view.getUint32(8, true);
  if (version === 1) {
    throw new FormatError(file, 'format version 1, written by an earlier untapped whose checksum does not cover the header (tensor table, config, trainer state); this build reads version 2 only: train or fit the model again to write it in the current format');
  }
  if (version !== UTP_VERSION) throw new FormatError(file, `format version ${version} is not supported (this build reads version ${UTP_VERSION})`);
  if (buf.length < START) throw new FormatError(file, `truncated: ${buf.length} bytes is shorter than the ${START}-byte preamble`);
  const hlen = view.getUint32(12, true);
  if (START + hlen > buf.length) throw new FormatError(file, `truncated or damaged: header of ${hlen} bytes does not fit in ${buf.length} bytes`);
  const start = START + hlen + padTo4(START + hlen);
  const payload = buf.subarray(Math.min(start, buf.length));
  let header: { kind: string; meta: Record<string, unknown>; tensors: { name: string; shape: number[]; offset: number; length: number }[]; payloadBytes: number } | undefined;
  let headerError = '';
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(START, START + hlen)));
  } catch (e) {
    headerError = (e as Error).message;
  }
  if (!sameBytes(digest(buf), buf.subarray(PRE, START))) {
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
    else {
      const sv = new DataView(src.buffer, src.byteOffset, src.byteLength);
      for (let i = 0; i < n; i++) data[i] = sv.getFloat32(4 * i, true);
    }
    tensors.set(e.name, { shape: e.shape, data });
  }
  return { kind: header.kind, meta: header.meta ?? {}, tensors };
}
