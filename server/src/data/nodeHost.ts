/**
 * The experiment host on the real file system: what the language server and the CLI give the pure
 * validator, with the data probe (probe.ts, the same checks the loaders make) behind `probeData`.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { DataProbeResult, ExperimentHost } from '../experiment/experimentHost';
import type { DataConfig } from '../experiment/schema';
import type { FashionMnistPlaces } from './fashionMnistStore';
import { probeDataSync } from './probe';

const DATA_PATH_KEYS = ['path', 'test_path', 'train_images', 'train_labels', 'test_images', 'test_labels'] as const;

/**
 * The probe of the data section. Without a base folder (an unsaved file) relative paths cannot be
 * checked.
 */
export function probeDataFiles(data: DataConfig, baseDir: string | null, places?: FashionMnistPlaces): DataProbeResult {
  const paths = DATA_PATH_KEYS.map((k) => (data as Partial<Record<string, unknown>>)[k]).filter(
    (v): v is string => typeof v === 'string',
  );
  if (baseDir === null && paths.some((p) => !isAbsolute(p))) return { probe: {}, problems: [], missing: [] };
  try {
    return probeDataSync(data, baseDir ?? '/', places);
  } catch (error) {
    return { probe: {}, problems: [{ key: ['data'], message: `cannot read the data: ${String(error)}` }], missing: [] };
  }
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

/** `places`: where Fashion-MNIST without `data.path` is looked for (tests point it at their folders). */
export function nodeHost(baseDir: string | null, cache?: DataProbeCache, places?: FashionMnistPlaces): ExperimentHost {
  return {
    baseDir,
    probeData: (data) => (cache ? cache.get(data, baseDir) : probeDataFiles(data, baseDir, places)),
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
