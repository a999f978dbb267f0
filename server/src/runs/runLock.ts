/**
 * One owner per run folder: `.lock` holds the id of the process that trains into it. A second
 * `run --resume` (or a session) is refused naming that process; a lock left by a process that no
 * longer exists (killed) is taken over. Worker threads share their server's process id, so a lock
 * of a live process is never taken over, even one of this process: the session manager releases
 * the lock of a worker it had to terminate.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readRegularFile } from '../data/regularFile';

export const LOCK_FILE = '.lock';

interface LockOwner {
  pid: number;
  since: string;
}

/** Whether a process with this id exists (signal 0 checks without sending anything). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A second owner for a run folder, refused. */
export class RunFolderBusyError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
    since: string,
  ) {
    super(
      `${dir} is in use by process ${pid} (since ${since}): a run folder has one owner at a time. If no such process is running it, delete ${join(dir, LOCK_FILE)}.`,
    );
    this.name = 'RunFolderBusyError';
  }
}

/** The text of a lock held by this process. */
export function lockText(): string {
  return `${JSON.stringify({ pid: process.pid, since: new Date().toISOString() } satisfies LockOwner)}\n`;
}

function readOwner(path: string): LockOwner | null {
  try {
    const owner = JSON.parse(readRegularFile(path, 4096).toString('utf8')) as Partial<LockOwner>;
    return Number.isSafeInteger(owner.pid) && (owner.pid ?? 0) > 0
      ? { pid: owner.pid!, since: String(owner.since) }
      : null;
  } catch {
    return null; // unreadable or half-written: not a live owner's
  }
}

/**
 * Takes the run folder's lock for this process, or throws `RunFolderBusyError`. Returns the
 * release. A stale lock is moved aside by rename (only one of two racing takers moves that file)
 * before this process creates its own with O_EXCL.
 */
export function lockRunFolder(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, lockText());
      } finally {
        closeSync(fd);
      }
      return () => releaseRunFolder(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = readOwner(path);
    if (owner && processIsAlive(owner.pid)) throw new RunFolderBusyError(dir, owner.pid, owner.since);
    const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(path, aside);
    } catch {
      continue; // another taker moved it first
    }
    const moved = readOwner(aside);
    if (moved && processIsAlive(moved.pid)) {
      // A racer's fresh lock, not the stale one: put it back and yield to it.
      try {
        linkSync(aside, path);
      } catch {
        // it took another lock meanwhile
      }
      rmSync(aside, { force: true });
      throw new RunFolderBusyError(dir, moved.pid, moved.since);
    }
    rmSync(aside, { force: true });
  }
  throw new Error(`${dir}: could not take the run folder's lock (too many concurrent takers)`);
}

/** Removes this process's lock (its run is done, or the session manager ended its dead worker). */
export function releaseRunFolder(dir: string): void {
  const path = join(dir, LOCK_FILE);
  if (readOwner(path)?.pid === process.pid) rmSync(path, { force: true });
}
