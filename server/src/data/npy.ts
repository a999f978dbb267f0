/**
 * NumPy's array files, read without NumPy: the `.npy` format (versions 1.0-3.0: magic, a Python
 * dict header with `descr`, `fortran_order` and `shape`, then the raw data) and `.npz` archives
 * (a zip of `.npy` entries, stored by `np.savez` or deflated by `np.savez_compressed`, zip64
 * included). Plain numeric dtypes in either byte order, C or Fortran order. Pickled object arrays,
 * strings, complex numbers and structured dtypes are refused with a message that says how to save
 * the array instead. Headers can be read alone (`npyHeader`, `zipEntries`, `entryHead`), which is
 * what the editor's probe does.
 */
import { inflateRawSync, constants as zlibConstants } from 'node:zlib';

export class NpyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyError';
  }
}

export type NpyDtype =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float16'
  | 'float32'
  | 'float64';

const DTYPES: Record<string, { dtype: NpyDtype; bytes: number }> = {
  b1: { dtype: 'bool', bytes: 1 },
  i1: { dtype: 'int8', bytes: 1 },
  u1: { dtype: 'uint8', bytes: 1 },
  i2: { dtype: 'int16', bytes: 2 },
  u2: { dtype: 'uint16', bytes: 2 },
  i4: { dtype: 'int32', bytes: 4 },
  u4: { dtype: 'uint32', bytes: 4 },
  i8: { dtype: 'int64', bytes: 8 },
  u8: { dtype: 'uint64', bytes: 8 },
  f2: { dtype: 'float16', bytes: 2 },
  f4: { dtype: 'float32', bytes: 4 },
  f8: { dtype: 'float64', bytes: 8 },
};

export interface NpyHeader {
  dtype: NpyDtype;
  /** Bytes per element. */
  itemBytes: number;
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  /** Where the data starts, from the start of the `.npy` bytes. */
  dataOffset: number;
  /** `descr` as written, e.g. `<f4`. */
  descr: string;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** What the descr of a dtype we refuse means, for the message. */
function refusedDtype(descr: string): string {
  const kind = descr.replace(/^[<>|=]/, '')[0];
  switch (kind) {
    case 'O':
      return `holds Python objects (dtype ${descr}), which only NumPy can unpickle: save a plain numeric array (e.g. \`np.asarray(x, dtype=np.float32)\`) without \`allow_pickle\``;
    case 'U':
    case 'S':
    case 'a':
      return `holds strings (dtype ${descr}); labels must be integer class ids`;
    case 'c':
      return `holds complex numbers (dtype ${descr}), which cannot be model inputs`;
    case 'M':
    case 'm':
      return `holds dates or times (dtype ${descr})`;
    case 'V':
      return `has a raw or structured dtype (${descr})`;
    default:
      return `has the dtype ${descr}, which is not supported (bool, int8-64, uint8-64, float16-64 are)`;
  }
}

/** Parses the header dict `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`. */
function parseHeaderDict(text: string): {
  descr: string | null;
  fortran: boolean | null;
  shape: number[] | null;
  structured: boolean;
} {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  const structured = /'descr'\s*:\s*\[/.test(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  let dims: number[] | null = null;
  if (shape) {
    const parts = shape[1]!
      .split(',')
      .map((p) => p.trim().replace(/L$/, ''))
      .filter((p) => p.length > 0);
    dims = parts.every((p) => /^\d+$/.test(p)) ? parts.map(Number) : null;
  }
  return { descr: descr ? descr[1]! : null, fortran: fortran ? fortran[1] === 'True' : null, shape: dims, structured };
}

/** The header of `.npy` bytes (only the first bytes are needed: see `NPY_HEAD_BYTES`). */
export function npyHeader(bytes: Uint8Array, name: string): NpyHeader {
  const fail = (problem: string) => new NpyError(`${name}: ${problem}`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    throw fail('not a NumPy .npy array (no \\x93NUMPY magic at its start)');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let start: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw fail('truncated header');
    headerLength = view.getUint32(8, true);
    start = 12;
  } else throw fail(`.npy format version ${major}.${bytes[7]} is not supported (1.0-3.0 are)`);
  if (bytes.length < start + headerLength)
    throw fail(`truncated header: ${headerLength} bytes announced, ${bytes.length - start} present`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLength));
  const dict = parseHeaderDict(text);
  if (dict.structured) throw fail(refusedDtype('V'));
  if (dict.descr === null || dict.fortran === null || dict.shape === null)
    throw fail(`malformed header ${JSON.stringify(text.trim())} (needs descr, fortran_order and shape)`);
  const order = dict.descr[0];
  const code = dict.descr.replace(/^[<>|=]/, '');
  const known = DTYPES[code];
  if (!known) throw fail(refusedDtype(dict.descr));
  return {
    dtype: known.dtype,
    itemBytes: known.bytes,
    littleEndian: order !== '>',
    fortranOrder: dict.fortran,
    shape: dict.shape,
    dataOffset: start + headerLength,
    descr: dict.descr,
  };
}

/** Enough bytes for any header NumPy writes for arrays of up to a few dozen dimensions. */
export const NPY_HEAD_BYTES = 4096;

export interface NpyArray {
  header: NpyHeader;
  /** The values in C (row-major) order: bytes for uint8 and bool, else float64-exact numbers as Float32Array or Int32Array. */
  values: Uint8Array | Int32Array | Float32Array;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** C-order values from Fortran-order ones (the first index varies fastest there). */
function toCOrder<T extends Uint8Array | Int32Array | Float32Array>(values: T, shape: number[]): T {
  if (shape.length < 2) return values;
  const out = new (values.constructor as new (n: number) => T)(values.length);
  const rank = shape.length;
  const fStrides = shape.map((_, i) => shape.slice(0, i).reduce((a, b) => a * b, 1));
  const index = new Array<number>(rank).fill(0);
  for (let c = 0; c < values.length; c++) {
    let f = 0;
    for (let k = 0; k < rank; k++) f += index[k]! * fStrides[k]!;
    out[c] = values[f]!;
    for (let k = rank - 1; k >= 0; k--) {
      if (++index[k]! < shape[k]!) break;
      index[k] = 0;
    }
  }
  return out;
}

/**
 * The whole array of `.npy` bytes. `as`: `labels` reads integer class ids (floats must be whole
 * numbers), `features` keeps uint8 and bool as bytes and everything else as float32.
 */
export function readNpy(bytes: Uint8Array, name: string, as: 'features' | 'labels'): NpyArray {
  const header = npyHeader(bytes, name);
  const count = header.shape.reduce((a, b) => a * b, 1);
  const expected = count * header.itemBytes;
  const available = bytes.length - header.dataOffset;
  if (available < expected)
    throw new NpyError(
      `${name}: truncated data: shape (${header.shape.join(', ')}) of ${header.descr} needs ${expected} bytes, the file has ${available}`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset + header.dataOffset, expected);
  const le = header.littleEndian;
  const read = (i: number): number => {
    const o = i * header.itemBytes;
    switch (header.dtype) {
      case 'bool':
      case 'uint8':
        return view.getUint8(o);
      case 'int8':
        return view.getInt8(o);
      case 'int16':
        return view.getInt16(o, le);
      case 'uint16':
        return view.getUint16(o, le);
      case 'int32':
        return view.getInt32(o, le);
      case 'uint32':
        return view.getUint32(o, le);
      case 'int64':
        return Number(view.getBigInt64(o, le));
      case 'uint64':
        return Number(view.getBigUint64(o, le));
      case 'float16':
        return halfToFloat(view.getUint16(o, le));
      case 'float32':
        return view.getFloat32(o, le);
      case 'float64':
        return view.getFloat64(o, le);
    }
  };
  let values: Uint8Array | Int32Array | Float32Array;
  if (as === 'labels') {
    values = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const v = read(i);
      if (!Number.isInteger(v) || v < -2_147_483_648 || v > 2_147_483_647)
        throw new NpyError(`${name}: label ${v} at index ${i} is not an integer class id`);
      values[i] = v;
    }
  } else if (header.dtype === 'uint8' || header.dtype === 'bool') {
    values = bytes.slice(header.dataOffset, header.dataOffset + expected);
  } else if (header.dtype === 'float32' && le) {
    values = new Float32Array(count);
    new Uint8Array(values.buffer).set(bytes.subarray(header.dataOffset, header.dataOffset + expected));
  } else {
    values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = read(i);
  }
  return { header, values: header.fortranOrder ? toCOrder(values, header.shape) : values };
}

// ---------------------------------------------------------------------------------------------
// .npz: a zip of .npy entries
// ---------------------------------------------------------------------------------------------

/** Reads `length` bytes at `offset` of the archive (fewer at its end). */
export type ReadAt = (offset: number, length: number) => Uint8Array;

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const u64 = (b: Uint8Array, o: number) => u32(b, o) + u32(b, o + 4) * 2 ** 32;

/** The entries of a zip archive from its central directory (zip64 included). */
export function zipEntries(readAt: ReadAt, fileSize: number, name: string): ZipEntry[] {
  const fail = (problem: string) => new NpyError(`${name}: ${problem}`);
  const tailLength = Math.min(fileSize, 22 + 65_535);
  const tail = readAt(fileSize - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--)
    if (u32(tail, i) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw fail('not a .npz archive (no zip end-of-directory record; truncated or not a zip file)');
  let count = u16(tail, eocd + 10);
  let directorySize = u32(tail, eocd + 12);
  let directoryOffset = u32(tail, eocd + 16);
  if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || u32(tail, locator) !== 0x07064b50) throw fail('zip64 archive without its locator');
    const recordOffset = u64(tail, locator + 8);
    const record = readAt(recordOffset, 56);
    if (u32(record, 0) !== 0x06064b50) throw fail('zip64 end-of-directory record not found');
    count = u64(record, 32);
    directorySize = u64(record, 40);
    directoryOffset = u64(record, 48);
  }
  if (directoryOffset + directorySize > fileSize) throw fail('truncated archive: its directory lies past its end');
  const directory = readAt(directoryOffset, directorySize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > directory.length || u32(directory, p) !== 0x02014b50) throw fail('corrupt zip directory');
    const nameLength = u16(directory, p + 28);
    const extraLength = u16(directory, p + 30);
    const commentLength = u16(directory, p + 32);
    let compressedSize = u32(directory, p + 20);
    let size = u32(directory, p + 24);
    let localHeaderOffset = u32(directory, p + 42);
    const entryName = new TextDecoder().decode(directory.subarray(p + 46, p + 46 + nameLength));
    // The zip64 extra field holds, in this order, whichever of the three is 0xffffffff above.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = u16(directory, e);
      const length = u16(directory, e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = u64(directory, q);
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = u64(directory, q);
          q += 8;
        }
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64(directory, q);
      }
      e += 4 + length;
    }
    entries.push({ name: entryName, method: u16(directory, p + 10), compressedSize, size, localHeaderOffset });
    p = extraEnd + commentLength;
  }
  return entries;
}

/** Where an entry's (compressed) bytes start. */
function entryDataOffset(readAt: ReadAt, entry: ZipEntry, name: string): number {
  const local = readAt(entry.localHeaderOffset, 30);
  if (local.length < 30 || u32(local, 0) !== 0x04034b50)
    throw new NpyError(`${name}: corrupt zip entry ${entry.name} (no local header)`);
  return entry.localHeaderOffset + 30 + u16(local, 26) + u16(local, 28);
}

function checkMethod(entry: ZipEntry, name: string): void {
  if (entry.method !== 0 && entry.method !== 8)
    throw new NpyError(
      `${name}: entry ${entry.name} uses zip compression method ${entry.method}; np.savez (stored) and np.savez_compressed (deflate) are supported`,
    );
}

/** An entry's uncompressed bytes. */
export function entryData(readAt: ReadAt, entry: ZipEntry, name: string): Uint8Array {
  checkMethod(entry, name);
  const compressed = readAt(entryDataOffset(readAt, entry, name), entry.compressedSize);
  if (compressed.length < entry.compressedSize) throw new NpyError(`${name}: entry ${entry.name} is truncated`);
  if (entry.method === 0) return compressed;
  let data: Uint8Array;
  try {
    data = inflateRawSync(compressed);
  } catch (error) {
    throw new NpyError(`${name}: entry ${entry.name} does not inflate: ${(error as Error).message}`);
  }
  if (data.length !== entry.size)
    throw new NpyError(
      `${name}: entry ${entry.name} inflates to ${data.length} bytes, the directory says ${entry.size}`,
    );
  return data;
}

/** The first `bytes` uncompressed bytes of an entry (for its .npy header), inflating only what they need. */
export function entryHead(readAt: ReadAt, entry: ZipEntry, name: string, bytes = NPY_HEAD_BYTES): Uint8Array {
  checkMethod(entry, name);
  const start = entryDataOffset(readAt, entry, name);
  if (entry.method === 0) return readAt(start, Math.min(bytes, entry.compressedSize));
  const compressed = readAt(start, Math.min(entry.compressedSize, bytes + 1024));
  try {
    const out = inflateRawSync(compressed, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    return out.subarray(0, bytes);
  } catch (error) {
    throw new NpyError(`${name}: entry ${entry.name} does not inflate: ${(error as Error).message}`);
  }
}
