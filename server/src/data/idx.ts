/**
 * The IDX file format (MNIST, Fashion-MNIST), raw or gzipped: images `0x00000803` (count x rows x
 * cols unsigned bytes) and labels `0x00000801` (count unsigned bytes). Every way a file can be
 * wrong is a `DataError` naming the file, the problem and the config key that pointed at it.
 */
import { gunzip, gunzipSync, constants as zlibConstants } from 'node:zlib';
import { promisify } from 'node:util';
import type { ConfigPath } from '../experiment/yamlDocument';
import { DataError, dataFileError } from './dataset';
import { MAX_WHOLE_FILE_BYTES, readRegularFileAsync, readRegularHead } from './regularFile';
import type { InMemoryRows } from './inMemorySplit';

const gunzipAsync = promisify(gunzip);

export type IdxKind = 'images' | 'labels';

const MAGIC: Record<IdxKind, number> = { images: 0x0803, labels: 0x0801 };
const UNSIGNED_BYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};

export interface IdxHeader {
  kind: IdxKind;
  /** All dimensions, the example count first. */
  dims: number[];
  /** Bytes before the data. */
  headerBytes: number;
}

export interface IdxFile extends IdxHeader {
  data: Uint8Array;
}

const isGzip = (bytes: Uint8Array) => bytes[0] === 0x1f && bytes[1] === 0x8b;
const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** Parses the header of an IDX file of the expected kind from its first bytes (already un-gzipped). */
export function parseIdxHeader(bytes: Uint8Array, expected: IdxKind, file: string, key?: ConfigPath): IdxHeader {
  const fail = (problem: string) => new DataError(`${file}: ${problem}`, file, undefined, key);
  if (bytes.length < 4) throw fail(`truncated IDX file: ${bytes.length} bytes, not even the 4-byte magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const typeCode = bytes[2] ?? 0;
  const rank = bytes[3] ?? 0;
  if (bytes[0] !== 0 || bytes[1] !== 0 || TYPE_NAMES[typeCode] === undefined) {
    throw fail(
      `not an IDX file: magic number ${hex(magic)}, expected ${hex(MAGIC[expected])} for IDX ${expected} (corrupt file, or gzipped data without a gzip header?)`,
    );
  }
  if (typeCode !== UNSIGNED_BYTE) {
    throw fail(
      `IDX element type ${TYPE_NAMES[typeCode]} (0x${typeCode.toString(16)}) is not supported: only unsigned bytes (0x08)`,
    );
  }
  if ((magic & 0xffff) !== MAGIC[expected]) {
    const other: IdxKind = expected === 'images' ? 'labels' : 'images';
    const hint = (magic & 0xffff) === MAGIC[other] ? ` (this is an IDX ${other} file)` : '';
    throw fail(`magic number ${hex(magic)} is not IDX ${expected} (${hex(MAGIC[expected])})${hint}`);
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) throw fail(`truncated IDX header: ${rank} dimensions need ${headerBytes} bytes`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i));
  if (dims.some((d, i) => d === 0 && i > 0)) throw fail(`IDX dimension of size 0 in [${dims.join(', ')}]`);
  return { kind: expected, dims, headerBytes };
}

/** Checks sizes and returns the data bytes after the header. */
export function parseIdx(bytes: Uint8Array, expected: IdxKind, file: string, key?: ConfigPath): IdxFile {
  const header = parseIdxHeader(bytes, expected, file, key);
  const fail = (problem: string) => new DataError(`${file}: ${problem}`, file, undefined, key);
  const dims = header.dims;
  if (expected === 'labels' && dims.length !== 1) {
    throw fail(`IDX labels must have 1 dimension (count), found ${dims.length}: [${dims.join(', ')}]`);
  }
  if (expected === 'images' && (dims.length < 2 || dims.length > 4)) {
    throw fail(`IDX images must have 2 to 4 dimensions (count x ...), found ${dims.length}: [${dims.join(', ')}]`);
  }
  const expectedBytes = dims.reduce((a, b) => a * b, 1);
  const available = bytes.length - header.headerBytes;
  if (available < expectedBytes) {
    throw fail(
      `truncated IDX data: the header declares [${dims.join(' x ')}] = ${expectedBytes} bytes but only ${available} follow`,
    );
  }
  if (available > expectedBytes) {
    throw fail(
      `IDX size mismatch: the header declares [${dims.join(' x ')}] = ${expectedBytes} bytes but ${available} follow`,
    );
  }
  return { ...header, data: bytes.subarray(header.headerBytes) };
}

/** Reads and un-gzips (when gzipped) a whole file. */
async function readMaybeGzip(file: string, what: string, key?: ConfigPath): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = await readRegularFileAsync(file, MAX_WHOLE_FILE_BYTES);
  } catch (error) {
    throw dataFileError(error, what, key);
  }
  if (!isGzip(raw)) return raw;
  try {
    // Bounded: a small gzip can expand without end.
    return await gunzipAsync(raw, { maxOutputLength: MAX_WHOLE_FILE_BYTES });
  } catch (error) {
    throw new DataError(`${file}: truncated or corrupt gzip data (${(error as Error).message})`, file, undefined, key);
  }
}

/** Loads a whole IDX file (raw or gzipped). */
export async function loadIdx(file: string, expected: IdxKind, key?: ConfigPath): Promise<IdxFile> {
  const bytes = await readMaybeGzip(file, `IDX ${expected} file`, key);
  return parseIdx(bytes, expected, file, key);
}

/**
 * The header of an IDX file from its first bytes only (gzipped or raw): what the editor needs,
 * in well under a millisecond for files of any size. Throws a `DataError` for a missing or bad file.
 */
export function readIdxHeaderSync(file: string, expected: IdxKind, key?: ConfigPath): IdxHeader {
  let head: Buffer;
  try {
    head = readRegularHead(file, 1024);
  } catch (error) {
    throw dataFileError(error, `IDX ${expected} file`, key);
  }
  if (isGzip(head)) {
    try {
      // A partial gzip stream: Z_SYNC_FLUSH returns what the first bytes decode to.
      head = gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (error) {
      throw new DataError(`${file}: corrupt gzip data (${(error as Error).message})`, file, undefined, key);
    }
  }
  return parseIdxHeader(head, expected, file, key);
}

/** One example's shape from IDX image dims: `[rows, cols, 1]` for 2-D images, `[n]` for vectors. */
export function idxInputShape(dims: number[]): number[] {
  const rest = dims.slice(1);
  return rest.length === 2 ? [...rest, 1] : rest;
}

export interface IdxPairFiles {
  images: string;
  labels: string;
  imagesKey?: ConfigPath;
  labelsKey?: ConfigPath;
}

/** Images and labels of one split, checked against each other and against `classes`. */
export async function loadIdxPair(
  files: IdxPairFiles,
  classes: number,
  scale: number,
): Promise<InMemoryRows & { inputShape: number[] }> {
  const [images, labels] = await Promise.all([
    loadIdx(files.images, 'images', files.imagesKey),
    loadIdx(files.labels, 'labels', files.labelsKey),
  ]);
  const count = images.dims[0] ?? 0;
  const labelCount = labels.dims[0] ?? 0;
  if (count !== labelCount) {
    throw new DataError(
      `${files.labels}: count mismatch: ${labelCount} labels for ${count} images in ${files.images}`,
      files.labels,
      undefined,
      files.labelsKey,
    );
  }
  const labelValues = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = labels.data[i] ?? 0;
    if (label >= classes) {
      throw new DataError(
        `${files.labels}: label ${label} of example ${i + 1} is outside [0, ${classes}) (data.classes is ${classes})`,
        files.labels,
        i + 1,
        files.labelsKey,
      );
    }
    labelValues[i] = label;
  }
  const inputShape = idxInputShape(images.dims);
  return {
    features: images.data,
    stride: inputShape.reduce((a, b) => a * b, 1),
    labels: labelValues,
    scale,
    inputShape,
  };
}
