/**
 * Cheap facts about the data files a config names, for the editor: which files are missing, and
 * the input shape and example count from IDX headers or a CSV header line. Reads at most a few
 * kilobytes per file (gzip is inflated only as far as the header), never whole datasets.
 */
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import type { DataProbe } from './modelShape';
import { resolvePath, type ExperimentHost } from './experimentHost';
import { DEFAULT_FASHION_MNIST_PATH, type DataConfig } from './schema';
import type { ConfigPath } from './yamlDocument';

export const FASHION_MNIST_FILES = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
] as const;

export interface DataProblem {
  path: ConfigPath;
  message: string;
}

export interface DataProbeResult {
  probe: DataProbe;
  missing: DataProblem[];
  /** Files that exist but cannot be what the config says (bad IDX magic, empty CSV). */
  invalid: DataProblem[];
}

const HEAD_BYTES = 4096;

/** The first bytes of a file, inflated when it is gzip (partial inflation of a prefix). */
export function readHeader(host: ExperimentHost, path: string): Uint8Array | undefined {
  const head = host.readHead(path, HEAD_BYTES);
  if (!head) return undefined;
  if (head[0] === 0x1f && head[1] === 0x8b) {
    try {
      return gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch {
      return undefined;
    }
  }
  return head;
}

export interface IdxHeader {
  /** 0x08 for unsigned bytes. */
  dataType: number;
  dims: number[];
}

export function parseIdxHeader(bytes: Uint8Array): IdxHeader | string {
  if (bytes.length < 4) return 'the file is too short to be IDX';
  if (bytes[0] !== 0 || bytes[1] !== 0) return 'the file does not start with an IDX magic number';
  const dataType = bytes[2]!;
  const rank = bytes[3]!;
  if (rank < 1 || rank > 4) return `the IDX header declares ${rank} dimensions`;
  if (bytes.length < 4 + 4 * rank) return 'the IDX header is truncated';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  return { dataType, dims };
}

/** Checks every file the data section names and reads the shape facts it can. */
export function probeData(data: DataConfig, host: ExperimentHost): DataProbeResult {
  const result: DataProbeResult = { probe: {}, missing: [], invalid: [] };
  const file = (key: string, value: string | undefined): string | null => {
    if (value === undefined) return null;
    const abs = resolvePath(host, value);
    if (abs === null) return null;
    if (!host.exists(abs)) {
      result.missing.push({ path: ['data', key], message: `\`${value}\` does not exist (resolved to ${abs})` });
      return null;
    }
    return abs;
  };
  const idxImages = (key: string, abs: string | null) => {
    if (abs === null) return;
    const header = readHeader(host, abs);
    const parsed = header ? parseIdxHeader(header) : 'the file cannot be read';
    if (typeof parsed === 'string') result.invalid.push({ path: ['data', key], message: `${abs}: ${parsed}` });
    else if (parsed.dims.length < 2)
      result.invalid.push({ path: ['data', key], message: `${abs} holds labels (1-D IDX), not images` });
    else {
      const [count, ...rest] = parsed.dims as [number, ...number[]];
      result.probe.shape = rest.length === 2 ? [...rest, 1] : rest;
      result.probe.trainExamples = count;
    }
  };

  switch (data.source) {
    case 'fashion-mnist': {
      const abs = resolvePath(host, data.path);
      if (abs === null) break;
      if (!host.isDirectory(abs)) {
        const hint =
          data.path === DEFAULT_FASHION_MNIST_PATH
            ? ' Install the Debian package `dataset-fashion-mnist`, or point `path` at a folder with the four IDX files (samples/data/fashion-mnist has a subset).'
            : '';
        result.missing.push({ path: ['data', 'path'], message: `folder \`${data.path}\` does not exist.${hint}` });
        break;
      }
      const absent = FASHION_MNIST_FILES.filter((f) => !host.exists(`${abs}/${f}.gz`) && !host.exists(`${abs}/${f}`));
      if (absent.length > 0)
        result.missing.push({
          path: ['data', 'path'],
          message: `\`${data.path}\` lacks ${absent.map((f) => `${f}(.gz)`).join(', ')}`,
        });
      break;
    }
    case 'idx':
      idxImages('train_images', file('train_images', data.train_images));
      file('train_labels', data.train_labels);
      file('test_images', data.test_images);
      file('test_labels', data.test_labels);
      break;
    case 'csv': {
      const abs = file('path', data.path);
      file('test_path', data.test_path);
      if (abs === null) break;
      const head = readHeader(host, abs);
      const firstLine = head ? new TextDecoder().decode(head).split(/\r?\n/)[0] : undefined;
      if (!firstLine) {
        result.invalid.push({ path: ['data', 'path'], message: `${abs} is empty` });
        break;
      }
      const columns = firstLine.split(data.delimiter).map((c) => c.trim().replace(/^"|"$/g, ''));
      if (data.header && typeof data.label_column === 'string' && !columns.includes(data.label_column)) {
        result.invalid.push({
          path: ['data', 'label_column'],
          message: `${abs} has no column \`${data.label_column}\` (columns: ${columns.slice(0, 12).join(', ')}${columns.length > 12 ? ', ...' : ''})`,
        });
      }
      if (typeof data.label_column === 'number' && data.label_column >= columns.length) {
        result.invalid.push({
          path: ['data', 'label_column'],
          message: `${abs} has ${columns.length} columns; column index ${data.label_column} does not exist`,
        });
      }
      result.probe.shape = [columns.length - 1];
      break;
    }
    case 'criteo':
      file('path', data.path);
      file('test_path', data.test_path);
      break;
    case 'teacher':
    case 'synthetic-ctr':
      break;
  }
  return result;
}
