/**
 * The experiment host on the real file system: what the language server and the CLI give the pure
 * validator, with the data probe (probe.ts, the same checks the loaders make) behind `probeData`.
 */
import { totalmem } from 'node:os';
import { isAbsolute } from 'node:path';
import type { DiagnosticCode } from '../experiment/diagnostics';
import type { DataProbeResult, ExperimentHost } from '../experiment/experimentHost';
import type { DataConfig } from '../experiment/schema';
import type { FashionMnistPlaces } from './fashionMnistStore';
import { probeDataSync } from './probe';
import { FileReadError, pathKind, readRegularFile, readRegularHead } from './regularFile';

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
    memoryBytes: totalmem(),
    probeData: (data) => (cache ? cache.get(data, baseDir) : probeDataFiles(data, baseDir, places)),
    pathKind,
    readHead: (path, bytes) => {
      try {
        return readRegularHead(path, bytes);
      } catch (error) {
        return { error: (error as Error).message };
      }
    },
  };
}

/** The most of an experiment file read: far more than any real one (the fuzz sends 1 MB files). */
export const MAX_EXPERIMENT_BYTES = 16 * 1024 * 1024;

/** Why an experiment file cannot be validated at all: its code and message, placed at 1:1. */
export interface ExperimentFileProblem {
  code: Extract<DiagnosticCode, 'path-missing' | 'path-unusable' | 'bad-encoding'>;
  message: string;
}

/**
 * The text of an experiment file from disk: a regular file, at most `MAX_EXPERIMENT_BYTES`,
 * UTF-8 (a BOM is dropped). UTF-16 or binary content is an encoding problem, not YAML to check.
 */
export function readExperimentText(file: string): { text: string } | { problem: ExperimentFileProblem } {
  let bytes: Buffer;
  try {
    bytes = readRegularFile(file, MAX_EXPERIMENT_BYTES);
  } catch (error) {
    const missing = error instanceof FileReadError && error.kind === 'missing';
    return {
      problem: {
        code: missing ? 'path-missing' : 'path-unusable',
        message: missing
          ? `Cannot read ${file}: file not found.`
          : `Cannot read the experiment: ${(error as Error).message}.`,
      },
    };
  }
  const encoding = encodingProblem(bytes);
  if (encoding) return { problem: { code: 'bad-encoding', message: `${file} ${encoding}; save it as UTF-8.` } };
  return { text: new TextDecoder('utf-8').decode(bytes) };
}

function encodingProblem(bytes: Uint8Array): string | null {
  const [a, b] = bytes;
  if ((a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff))
    return 'is UTF-16 (it starts with a UTF-16 byte order mark)';
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const line = 1 + bytes.subarray(0, nul).filter((c) => c === 0x0a).length;
    return `holds a NUL byte on line ${line} (at byte ${nul}): it is UTF-16 without a byte order mark, or binary`;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return null;
  } catch {
    return 'is not valid UTF-8';
  }
}
