/**
 * IDX files (the MNIST format), raw or gzipped: a magic number (two zero bytes, the data type
 * 0x08 for unsigned bytes, the rank), big-endian dimensions, then the data. Every inconsistency
 * is a `DataError` naming the file and the problem.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from './dataset';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export function readIdx(file: string, expectedRank: 1 | 3, key?: (string | number)[]): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(
      code === 'ENOENT' ? `${file} does not exist` : `${file} cannot be read: ${(error as Error).message}`,
      file,
      undefined,
      key,
    );
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new DataError(
        `${file} is not a valid gzip file (${(error as Error).message}); it may be truncated`,
        file,
        undefined,
        key,
      );
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0)
    throw new DataError(`${file} does not start with an IDX magic number`, file, undefined, key);
  if (bytes[2] !== 0x08)
    throw new DataError(
      `${file} holds IDX data type 0x${bytes[2]!.toString(16)}; only unsigned bytes (0x08) are supported`,
      file,
      undefined,
      key,
    );
  const rank = bytes[3]!;
  if (rank !== expectedRank)
    throw new DataError(
      `${file} has ${rank} dimensions; expected ${expectedRank} (${expectedRank === 1 ? 'labels' : 'images'})`,
      file,
      undefined,
      key,
    );
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) throw new DataError(`${file}: the IDX header is truncated`, file, undefined, key);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerBytes;
  if (actual < expected)
    throw new DataError(
      `${file} is truncated: the header promises ${expected} bytes of data (${dims.join('x')}), the file has ${actual}`,
      file,
      undefined,
      key,
    );
  return { dims, data: bytes.subarray(headerBytes, headerBytes + expected) };
}
