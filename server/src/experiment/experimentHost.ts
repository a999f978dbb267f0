/**
 * What the pure experiment code needs from the outside world: whether files exist, their first
 * bytes, and what the data files say about the input. The language server and the CLI pass
 * `nodeHost` (data/nodeHost.ts); tests pass in-memory hosts.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { DataProbe } from './modelShape';
import type { DataConfig } from './schema';
import type { ConfigPath } from './yamlDocument';

/** Something wrong with the data section, located by its config key. */
export interface DataProblem {
  message: string;
  /** The config key the problem belongs to, e.g. `['data', 'train_images']`. */
  key: ConfigPath;
  file?: string;
  /** 1-based line (CSV, Criteo) or record (IDX labels) when known. */
  line?: number;
  /** True when the path exists but is not a readable regular file (a folder, a FIFO, a device). */
  unreadable?: boolean;
}

/** A configured data file or folder that does not exist. */
export interface MissingDataFile {
  file: string;
  key: ConfigPath;
}

/** What the data layer's probe (data/probe.ts) learns from headers only, never whole files. */
export interface DataProbeResult {
  probe: DataProbe;
  /** Every problem found, missing files included. */
  problems: DataProblem[];
  missing: MissingDataFile[];
  /** Facts worth knowing that are not problems (data a run will download first). */
  notes?: DataProblem[];
}

/** Whether `problem` is about a file that does not exist (rather than one that exists but is unusable). */
export function isMissingFileProblem(result: DataProbeResult, problem: DataProblem): boolean {
  return result.missing.some((m) => m.file === problem.file && m.key.join('.') === problem.key.join('.'));
}

/**
 * What is at a path, from its metadata only: a FIFO or a device is never opened (a FIFO blocks
 * `open` until a writer comes; a device may never end).
 */
export type PathKind = 'missing' | 'file' | 'folder' | 'fifo' | 'device' | 'socket' | 'other';

const KIND_TEXT: Record<PathKind, string> = {
  missing: 'does not exist',
  file: 'is a file',
  folder: 'is a folder',
  fifo: 'is a FIFO (named pipe)',
  device: 'is a device',
  socket: 'is a socket',
  other: 'is not a regular file',
};

/** "is a folder", "is a FIFO (named pipe)", ...: for messages about a path of that kind. */
export function describeKind(kind: PathKind): string {
  return KIND_TEXT[kind];
}

/**
 * Why run folders cannot be created under `folder` (it, or the first of its parents that exists,
 * is not a folder), or null when they can (as far as kinds tell; permissions show when writing).
 */
export function folderProblem(folder: string, kindOf: (path: string) => PathKind): string | null {
  for (let path = folder; ; path = dirname(path)) {
    const kind = kindOf(path);
    if (kind === 'folder') return null;
    if (kind !== 'missing')
      return path === folder
        ? `${folder} ${describeKind(kind)}, not a folder`
        : `${path} ${describeKind(kind)}, so ${folder} cannot be created under it`;
    if (dirname(path) === path) return null;
  }
}

export interface ExperimentHost {
  /** Folder of the experiment file, where relative paths start; null for an unsaved file. */
  baseDir: string | null;
  /** The machine's memory in bytes (`os.totalmem()`), null when unknown: runs are checked against it. */
  memoryBytes: number | null;
  pathKind(path: string): PathKind;
  /**
   * The first `bytes` bytes of a regular file (fewer when it is shorter), or why it cannot be
   * read (it is not a regular file, no permission, an I/O error).
   */
  readHead(path: string, bytes: number): Uint8Array | { error: string };
  /** Missing files and shape facts of the data section (headers only, never whole files). */
  probeData(data: DataConfig): DataProbeResult;
}

/** An absolute path for a config path value, or null when it is relative and there is no base. */
export function resolvePath(host: ExperimentHost, path: string): string | null {
  if (isAbsolute(path)) return path;
  return host.baseDir === null ? null : resolve(host.baseDir, path);
}
