/**
 * Reader and writer for the IDX file format used by MNIST.
 *
 * Layout (all multi-byte values big-endian): two zero bytes, a type code byte, a byte giving the
 * number of dimensions `d`; then `d` unsigned 32-bit dimension sizes; then the data, row-major.
 */

/** The IDX element types, by name. */
export type IdxType = 'ubyte' | 'sbyte' | 'short' | 'int' | 'float' | 'double';

/** The typed array that holds an IDX file's data (one per {@link IdxType}). */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed IDX file. */
export interface IdxFile {
  /** Dimension sizes, outermost first (e.g. `[60000, 28, 28]`). */
  dims: number[];
  /** Element type named by the header. */
  type: IdxType;
  /** The elements, row-major; its length is the product of `dims`. */
  data: IdxData;
}

interface TypeInfo {
  code: number;
  name: IdxType;
  size: number;
}

const TYPES: TypeInfo[] = [
  { code: 0x08, name: 'ubyte', size: 1 },
  { code: 0x09, name: 'sbyte', size: 1 },
  { code: 0x0b, name: 'short', size: 2 },
  { code: 0x0c, name: 'int', size: 4 },
  { code: 0x0d, name: 'float', size: 4 },
  { code: 0x0e, name: 'double', size: 8 },
];

function hex(b: number): string {
  return '0x' + b.toString(16).padStart(2, '0');
}

/**
 * Parses an IDX file held in memory. `source` (a file name) is used in error messages.
 *
 * Throws on a bad magic number (non-zero leading bytes or unknown type code), zero dimensions, a
 * header cut short, data shorter than the header promises ("truncated") and trailing bytes after
 * the data. For `ubyte` data the returned array is a view of `buffer` (no copy); other types are
 * decoded from big-endian into a fresh array.
 */
export function parseIdx(buffer: Uint8Array, source = '<buffer>'): IdxFile {
  const len = buffer.length;
  if (len < 4) throw new Error(`${source}: not an IDX file: ${len} bytes is shorter than the 4-byte magic number`);
  if (buffer[0] !== 0 || buffer[1] !== 0) {
    throw new Error(
      `${source}: not an IDX file: bad magic number, first two bytes are ${hex(buffer[0])} ${hex(buffer[1])} (expected 0x00 0x00)`,
    );
  }
  const info = TYPES.find((t) => t.code === buffer[2]);
  if (!info) {
    throw new Error(
      `${source}: not an IDX file: unknown type code ${hex(buffer[2])} in magic number (expected one of ${TYPES.map((t) => hex(t.code)).join(', ')})`,
    );
  }
  const nd = buffer[3];
  if (nd < 1) throw new Error(`${source}: IDX header says 0 dimensions (need at least 1)`);
  const headerBytes = 4 + 4 * nd;
  if (len < headerBytes) {
    throw new Error(`${source}: truncated header: ${nd} dimensions need a ${headerBytes}-byte header, file has ${len} bytes`);
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < nd; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  if (!Number.isSafeInteger(count * info.size)) {
    throw new Error(`${source}: header dimensions ${dims.join('×')} are too large`);
  }
  const need = count * info.size;
  const have = len - headerBytes;
  const per = info.size > 1 ? ` × ${info.size} bytes (${info.name})` : '';
  const what = `header says ${dims.join('×')}${per} = ${need} bytes of data`;
  if (have < need) throw new Error(`${source}: truncated: ${what}, file has ${have}`);
  if (have > need) throw new Error(`${source}: ${have - need} extra bytes after the data: ${what}, file has ${have}`);

  const off = buffer.byteOffset + headerBytes;
  let data: IdxData;
  switch (info.name) {
    case 'ubyte':
      data = new Uint8Array(buffer.buffer, off, count);
      break;
    case 'sbyte':
      data = new Int8Array(buffer.buffer, off, count);
      break;
    case 'short': {
      const a = new Int16Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt16(headerBytes + 2 * i, false);
      data = a;
      break;
    }
    case 'int': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt32(headerBytes + 4 * i, false);
      data = a;
      break;
    }
    case 'float': {
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat32(headerBytes + 4 * i, false);
      data = a;
      break;
    }
    case 'double': {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat64(headerBytes + 8 * i, false);
      data = a;
      break;
    }
  }
  return { dims, type: info.name, data };
}

function typeOf(data: IdxData): TypeInfo {
  const name: IdxType =
    data instanceof Uint8Array
      ? 'ubyte'
      : data instanceof Int8Array
        ? 'sbyte'
        : data instanceof Int16Array
          ? 'short'
          : data instanceof Int32Array
            ? 'int'
            : data instanceof Float32Array
              ? 'float'
              : 'double';
  return TYPES.find((t) => t.name === name)!;
}

/**
 * Encodes `data` (row-major, length = product of `dims`) as an IDX file. The element type follows
 * the array type: `Uint8Array` → ubyte, `Int8Array` → sbyte, `Int16Array` → short, `Int32Array` →
 * int, `Float32Array` → float, `Float64Array` → double.
 */
export function encodeIdx(dims: number[], data: IdxData): Uint8Array {
  if (dims.length < 1 || dims.length > 255) throw new Error(`encodeIdx: need 1..255 dimensions, got ${dims.length}`);
  let count = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw new Error(`encodeIdx: invalid dimension ${d} in [${dims.join(', ')}]`);
    count *= d;
  }
  if (data.length !== count) {
    throw new Error(`encodeIdx: dims ${dims.join('×')} = ${count} elements but data has ${data.length}`);
  }
  const info = typeOf(data);
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + count * info.size);
  out[2] = info.code;
  out[3] = dims.length;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  for (let i = 0; i < count; i++) {
    const p = header + i * info.size;
    switch (info.name) {
      case 'ubyte':
        view.setUint8(p, data[i]);
        break;
      case 'sbyte':
        view.setInt8(p, data[i]);
        break;
      case 'short':
        view.setInt16(p, data[i], false);
        break;
      case 'int':
        view.setInt32(p, data[i], false);
        break;
      case 'float':
        view.setFloat32(p, data[i], false);
        break;
      case 'double':
        view.setFloat64(p, data[i], false);
        break;
    }
  }
  return out;
}
