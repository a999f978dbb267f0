/**
 * Reading the files that a config or a run folder names: regular files only, never more than a
 * bound. A FIFO with no writer blocks `open` forever, a device may never end (`/dev/zero`) or act
 * when opened, and a folder has no bytes: each is refused with what it is, from its metadata,
 * before anything opens it. The open itself is non-blocking and checked again on the descriptor,
 * so a path swapped for a FIFO in between cannot block either.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { describeKind, type PathKind } from '../experiment/experimentHost';

export { describeKind, type PathKind };

export function kindOf(stats: Stats): PathKind {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'folder';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'device';
  if (stats.isSocket()) return 'socket';
  return 'other';
}

/** What is at `path` (following symbolic links); never opens it. */
export function pathKind(path: string): PathKind {
  try {
    return kindOf(statSync(path));
  } catch {
    return 'missing';
  }
}

/** A path that is not a readable regular file, or one larger than the reader accepts. */
export class FileReadError extends Error {
  constructor(
    message: string,
    readonly file: string,
    /** `missing`, or the kind that is not a regular file; `file` when it is one but too large or unreadable. */
    readonly kind: PathKind,
    /** Set when the file is larger than the reader's bound: its size. */
    readonly tooLarge?: number,
  ) {
    super(message);
    this.name = 'FileReadError';
  }
}

/**
 * A file in one of our formats (a checkpoint, a snapshot, run.json, metrics.jsonl, the
 * block-sparse export) that does not hold what its format says: refused, never read as data.
 */
export class CorruptFileError extends Error {
  constructor(
    readonly file: string,
    /** The field (or byte range) that is wrong, e.g. `layers[1].offset`. */
    readonly field: string,
    problem: string,
  ) {
    super(`${file}: ${field ? `${field} ` : ''}${problem}`);
    this.name = 'CorruptFileError';
  }
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

function refuseKind(path: string, kind: PathKind): FileReadError {
  return new FileReadError(
    kind === 'missing' ? `${path} does not exist` : `${path} ${describeKind(kind)}, not a regular file`,
    path,
    kind,
  );
}

function tooLarge(path: string, size: number, maxBytes: number): FileReadError {
  return new FileReadError(
    `${path} is ${formatBytes(size)}, more than the ${formatBytes(maxBytes)} this reader accepts`,
    path,
    'file',
    size,
  );
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (bytes >= 2 ** 10) return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

function unreadable(path: string, error: unknown): FileReadError {
  if (error instanceof FileReadError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return refuseKind(path, 'missing');
  return new FileReadError(`${path} cannot be read: ${(error as Error).message}`, path, 'file');
}

/** Opens a regular file for reading without ever blocking; refuses anything else. */
export function openRegularFile(path: string): { fd: number; size: number } {
  const kind = pathKind(path);
  if (kind !== 'file') throw refuseKind(path, kind);
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    throw unreadable(path, error);
  }
  const stats = fstatSync(fd);
  if (!stats.isFile()) {
    closeSync(fd);
    throw refuseKind(path, kindOf(stats));
  }
  return { fd, size: stats.size };
}

/**
 * The whole of a regular file, at most `maxBytes`: a larger one is refused before it is read.
 * Files whose size their metadata does not tell (procfs) are read up to the bound.
 */
export function readRegularFile(path: string, maxBytes: number): Buffer {
  const { fd, size } = openRegularFile(path);
  try {
    if (size > maxBytes) throw tooLarge(path, size, maxBytes);
    return readAll(path, size, maxBytes, (buffer, offset, length) => readSync(fd, buffer, 0, length, offset));
  } catch (error) {
    throw unreadable(path, error);
  } finally {
    closeSync(fd);
  }
}

const CHUNK_BYTES = 1 << 20;

/**
 * Reads `size` bytes (what the metadata says) or, when it says 0, chunks up to `maxBytes`: procfs
 * files report no size, and a file that grows while it is read is read as it was at its open.
 */
function readAll(
  path: string,
  size: number,
  maxBytes: number,
  readAt: (buffer: Buffer, offset: number, length: number) => number,
): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const limit = size > 0 ? size : maxBytes + 1;
  while (total < limit) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, limit - total));
    const n = readAt(chunk, total, chunk.length);
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    total += n;
  }
  if (total > maxBytes) throw tooLarge(path, total, maxBytes);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

/** The first `bytes` bytes of a regular file (fewer when it is shorter). */
export function readRegularHead(path: string, bytes: number): Buffer {
  const { fd } = openRegularFile(path);
  try {
    const buffer = Buffer.alloc(bytes);
    return buffer.subarray(0, readSync(fd, buffer, 0, bytes, 0));
  } catch (error) {
    throw unreadable(path, error);
  } finally {
    closeSync(fd);
  }
}

/** `readRegularFile` without holding the thread: for data files of training runs. */
export async function readRegularFileAsync(path: string, maxBytes: number): Promise<Buffer> {
  const kind = pathKind(path);
  if (kind !== 'file') throw refuseKind(path, kind);
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (error) {
    throw unreadable(path, error);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw refuseKind(path, kindOf(stats));
    if (stats.size > maxBytes) throw tooLarge(path, stats.size, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    const limit = stats.size > 0 ? stats.size : maxBytes + 1;
    while (total < limit) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES * 16, limit - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, total);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
    }
    if (total > maxBytes) throw tooLarge(path, total, maxBytes);
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } catch (error) {
    throw unreadable(path, error);
  } finally {
    await handle.close();
  }
}

/** The largest file read whole (a Node Buffer's limit is higher; memory runs out first). */
export const MAX_WHOLE_FILE_BYTES = 2 ** 31 - 1;
