/**
 * What the pure experiment code needs from the outside world: whether files exist and their first
 * bytes. The language server and the CLI pass `nodeHost`; tests pass in-memory hosts.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export interface ExperimentHost {
  /** Folder of the experiment file, where relative paths start; null for an unsaved file. */
  baseDir: string | null;
  exists(path: string): boolean;
  isDirectory(path: string): boolean;
  /** The first `bytes` bytes of a file (fewer when it is shorter), undefined when unreadable. */
  readHead(path: string, bytes: number): Uint8Array | undefined;
}

/** An absolute path for a config path value, or null when it is relative and there is no base. */
export function resolvePath(host: ExperimentHost, path: string): string | null {
  if (isAbsolute(path)) return path;
  return host.baseDir === null ? null : resolve(host.baseDir, path);
}

export function nodeHost(baseDir: string | null): ExperimentHost {
  return {
    baseDir,
    exists: (path) => existsSync(path),
    isDirectory: (path) => {
      try {
        return statSync(path).isDirectory();
      } catch {
        return false;
      }
    },
    readHead: (path, bytes) => {
      let fd: number | undefined;
      try {
        fd = openSync(path, 'r');
        const buffer = new Uint8Array(bytes);
        const read = readSync(fd, buffer, 0, bytes, 0);
        return buffer.subarray(0, read);
      } catch {
        return undefined;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    },
  };
}
