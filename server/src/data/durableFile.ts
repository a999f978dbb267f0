/**
 * Every change the engine makes to a run folder or an export goes through here, so that a kill at
 * any instant leaves each file either as it was or as it is meant to be: a whole file is written
 * to a temporary sibling, flushed to disk (`fsync`), renamed over its name, and the folder is
 * flushed so the rename itself survives a power loss. A failed write (a full disk) removes its
 * temporary file before the error goes on.
 *
 * `onDurableWrite` is the test seam: a hook called before each change (to kill the process, fail
 * with ENOSPC or copy the folder between any two writes).
 */
import {
  appendFileSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
  constants,
} from 'node:fs';
import { dirname } from 'node:path';

/** One change to the disk, named for tests: what it is and the path it touches. */
export interface DurableWrite {
  op: 'write' | 'rename' | 'append' | 'mkdir' | 'sync';
  path: string;
}

let hook: ((write: DurableWrite) => void) | null = null;

/** Test seam: `write` is called before every change to the disk made through this module. */
export function onDurableWrite(write: ((write: DurableWrite) => void) | null): void {
  hook = write;
}

function before(op: DurableWrite['op'], path: string): void {
  hook?.({ op, path });
}

/** The temporary sibling a write goes to first: `<name>.tmp-<pid>` (a dead run's are removed on resume). */
export const TEMP_SUFFIX = '.tmp-';

/** Flushes a file or a folder to disk. */
export function syncPath(path: string): void {
  before('sync', path);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `content` to `path` so that a kill at any instant leaves the old file or the new one. */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const temp = `${path}${TEMP_SUFFIX}${process.pid}`;
  try {
    before('write', temp);
    const fd = openSync(temp, 'w');
    try {
      const bytes = typeof content === 'string' ? Buffer.from(content) : content;
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    before('rename', path);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  syncPath(dirname(path));
}

/** Renames a file or folder and flushes the folder that receives it. */
export function renameDurable(from: string, to: string): void {
  before('rename', to);
  renameSync(from, to);
  syncPath(dirname(to));
}

/** Appends to a file (one event line of metrics.jsonl); durable only once `syncPath` flushes it. */
export function appendDurable(path: string, text: string): void {
  before('append', path);
  appendFileSync(path, text);
}

/** Creates a folder (and its parents) and flushes its parent, so that it survives a power loss. */
export function makeFolder(path: string): void {
  before('mkdir', path);
  const created = mkdirSync(path, { recursive: true });
  if (created !== undefined) syncPath(dirname(created));
}
