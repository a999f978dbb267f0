/**
 * What the pure experiment code needs from the outside world: whether files exist, their first
 * bytes, and what the data files say about the input. The language server and the CLI pass
 * `nodeHost`; tests pass in-memory hosts.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { probeDataSync } from '../engine/data/probe';
import type { DataProbe } from './modelShape';
import type { DataConfig } from './schema';
import type { ConfigPath } from './yamlDocument';

export interface DataProblem {
  path: ConfigPath;
  message: string;
}

export interface DataProbeResult {
  probe: DataProbe;
  missing: DataProblem[];
  /** Files that exist but cannot be what the config says (bad IDX header, wrong column count). */
  invalid: DataProblem[];
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

const DATA_PATH_KEYS = ['path', 'test_path', 'train_images', 'train_labels', 'test_images', 'test_labels'] as const;

/**
 * The data layer's probe (engine/data/probe.ts, the same checks the loaders make) in the
 * validator's terms. Without a base folder (an unsaved file) relative paths cannot be checked.
 */
export function probeDataFiles(data: DataConfig, baseDir: string | null): DataProbeResult {
  const paths = DATA_PATH_KEYS.map((k) => (data as Partial<Record<string, unknown>>)[k]).filter(
    (v): v is string => typeof v === 'string',
  );
  if (baseDir === null && paths.some((p) => !isAbsolute(p))) return { probe: {}, missing: [], invalid: [] };
  let found: ReturnType<typeof probeDataSync>;
  try {
    found = probeDataSync(data, baseDir ?? '/');
  } catch (error) {
    return { probe: {}, missing: [], invalid: [{ path: ['data'], message: `cannot read the data: ${String(error)}` }] };
  }
  const isMissing = (key: (string | number)[], file: string | undefined) =>
    found.missing.some((m) => m.file === file && m.key.join('.') === key.join('.'));
  const result: DataProbeResult = { probe: found.probe, missing: [], invalid: [] };
  for (const problem of found.problems) {
    const located = { path: problem.key, message: problem.message };
    if (isMissing(problem.key, problem.file)) result.missing.push(located);
    else result.invalid.push(located);
  }
  return result;
}

/**
 * Probe results kept until data files change (the server clears it on `didChangeWatchedFiles`)
 * or for `maxAgeMs`, so that typing in an experiment does not re-read headers on every edit.
 */
export class DataProbeCache {
  private readonly entries = new Map<string, { at: number; result: DataProbeResult }>();

  constructor(private readonly maxAgeMs = 5000) {}

  get(data: DataConfig, baseDir: string | null): DataProbeResult {
    const key = `${baseDir ?? ''}\0${JSON.stringify(data)}`;
    const now = performance.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.maxAgeMs) return hit.result;
    const result = probeDataFiles(data, baseDir);
    if (this.entries.size > 256) this.entries.clear();
    this.entries.set(key, { at: now, result });
    return result;
  }

  clear(): void {
    this.entries.clear();
  }
}

export function nodeHost(baseDir: string | null, cache?: DataProbeCache): ExperimentHost {
  return {
    baseDir,
    probeData: (data) => (cache ? cache.get(data, baseDir) : probeDataFiles(data, baseDir)),
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
