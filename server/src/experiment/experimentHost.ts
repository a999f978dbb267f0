/**
 * What the pure experiment code needs from the outside world: whether files exist, their first
 * bytes, and what the data files say about the input. The language server and the CLI pass
 * `nodeHost` (data/nodeHost.ts); tests pass in-memory hosts.
 */
import { isAbsolute, resolve } from 'node:path';
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

export interface ExperimentHost {
  /** Folder of the experiment file, where relative paths start; null for an unsaved file. */
  baseDir: string | null;
  exists(path: string): boolean;
  isDirectory(path: string): boolean;
  /** The first `bytes` bytes of a file (fewer when it is shorter), undefined when unreadable. */
  readHead(path: string, bytes: number): Uint8Array | undefined;
  /** Missing files and shape facts of the data section (headers only, never whole files). */
  probeData(data: DataConfig): DataProbeResult;
}

/** An absolute path for a config path value, or null when it is relative and there is no base. */
export function resolvePath(host: ExperimentHost, path: string): string | null {
  if (isAbsolute(path)) return path;
  return host.baseDir === null ? null : resolve(host.baseDir, path);
}
