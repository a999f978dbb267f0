/**
 * What the editor's validator can learn about the data section cheaply (a few ms, no whole-file
 * reads): the input shape and example count from IDX headers, the column count from a CSV's
 * first line, the field count of a Criteo file's first line, and which configured files are
 * missing, each located by its config key.
 */
import { join, resolve } from 'node:path';
import type { DataProbeResult, DataProblem, MissingDataFile } from '../experiment/experimentHost';
import type { DataProbe } from '../experiment/modelShape';
import type { DataConfig } from '../experiment/schema';
import { CRITEO_FIELDS } from './criteo';
import { readCsvWidthSync, splitCsvLine } from './csv';
import { DataError } from './dataset';
import { fashionMnistFolderProblem } from './fashionMnist';
import {
  downloadNotice,
  FASHION_MNIST_FILES,
  fashionMnistPlaces,
  findFashionMnistFile,
  locateFashionMnist,
  type FashionMnistPlaces,
} from './fashionMnistStore';
import type { ConfigPath } from '../experiment/yamlDocument';
import { idxInputShape, readIdxHeaderSync } from './idx';
import { describeKind, pathKind, readRegularHead } from './regularFile';
import { probeNpz as probeNpzHeaders } from './npz';

class ProbeCollector {
  readonly probe: DataProbe = {};
  readonly problems: DataProblem[] = [];
  readonly missing: MissingDataFile[] = [];
  readonly notes: DataProblem[] = [];

  /**
   * True when `file` is a regular file; records it as missing, or as unreadable when it is a
   * folder, a FIFO or a device (never opened: a FIFO would block the reader), otherwise.
   */
  exists(file: string, key: ConfigPath, what: string): boolean {
    const kind = pathKind(file);
    if (kind === 'file') return true;
    if (kind === 'missing') {
      this.missing.push({ file, key });
      this.problems.push({ message: `${what} not found: ${file}`, key, file });
    } else
      this.problems.push({
        message: `${what} ${file} ${describeKind(kind)}, not a regular file`,
        key,
        file,
        unreadable: true,
      });
    return false;
  }

  /** Runs a check; a `DataError` becomes a problem at its key, any other failure one at `fallbackKey`. */
  attempt<T>(fallbackKey: ConfigPath, check: () => T): T | undefined {
    try {
      return check();
    } catch (error) {
      if (!(error instanceof DataError)) {
        this.problems.push({ message: `cannot read the data: ${String(error)}`, key: fallbackKey });
        return undefined;
      }
      const key = error.key ?? fallbackKey;
      if (error.fileProblem === 'missing' && error.file !== undefined) this.missing.push({ file: error.file, key });
      this.problems.push({
        message: error.message,
        key,
        ...(error.file !== undefined && { file: error.file }),
        ...(error.line !== undefined && { line: error.line }),
        ...(error.fileProblem === 'unreadable' && { unreadable: true }),
      });
      return undefined;
    }
  }

  result(): DataProbeResult {
    const result: DataProbeResult = { probe: this.probe, problems: this.problems, missing: this.missing };
    if (this.notes.length > 0) result.notes = this.notes;
    return result;
  }
}

/** Examples left for training after a seeded `test_split` (same rule as the loaders). */
function trainCountAfterSplit(count: number, testSplit: number): number {
  return count - Math.min(count - 1, Math.max(1, Math.round(count * testSplit)));
}

/** The first line of a file (at most 64 KiB read). */
function firstLine(file: string): string {
  const text = readRegularHead(file, 65_536).toString('latin1');
  const end = text.indexOf('\n');
  return (end < 0 ? text : text.slice(0, end)).replace(/\r$/, '');
}

function probeIdx(data: Extract<DataConfig, { source: 'idx' }>, baseDir: string, c: ProbeCollector): void {
  const key = (name: string) => ['data', name];
  const header = (name: 'train_images' | 'train_labels' | 'test_images' | 'test_labels', kind: 'images' | 'labels') => {
    const path = data[name];
    if (path === undefined) return undefined;
    const file = resolve(baseDir, path);
    if (!c.exists(file, key(name), `IDX ${kind} file`)) return undefined;
    return c.attempt(key(name), () => readIdxHeaderSync(file, kind, key(name)));
  };
  const trainImages = header('train_images', 'images');
  const trainLabels = header('train_labels', 'labels');
  const testImages = header('test_images', 'images');
  const testLabels = header('test_labels', 'labels');
  if ((data.test_images === undefined) !== (data.test_labels === undefined)) {
    const given = data.test_images === undefined ? 'test_labels' : 'test_images';
    const other = given === 'test_images' ? 'test_labels' : 'test_images';
    c.problems.push({
      message: `data.${given} is set but data.${other} is not: give both or neither`,
      key: key(given),
    });
  }
  const mismatch = (
    images: typeof trainImages,
    labels: typeof trainLabels,
    labelsKey: 'train_labels' | 'test_labels',
  ) => {
    const labelsPath = data[labelsKey];
    if (images && labels && labelsPath !== undefined && images.dims[0] !== labels.dims[0]) {
      c.problems.push({
        message: `count mismatch: ${labels.dims[0]} labels for ${images.dims[0]} images`,
        key: key(labelsKey),
        file: resolve(baseDir, labelsPath),
      });
    }
  };
  mismatch(trainImages, trainLabels, 'train_labels');
  mismatch(testImages, testLabels, 'test_labels');
  if (trainImages) c.probe.shape = idxInputShape(trainImages.dims);
  const count = (trainLabels ?? trainImages)?.dims[0];
  if (count !== undefined) {
    c.probe.trainExamples = data.test_images === undefined ? trainCountAfterSplit(count, data.test_split) : count;
  }
}

function probeFashionMnist(
  data: Extract<DataConfig, { source: 'fashion-mnist' }>,
  baseDir: string,
  c: ProbeCollector,
  places: FashionMnistPlaces,
): void {
  c.probe.shape = [28, 28, 1];
  let folder: string;
  let key: ConfigPath;
  if (data.path !== undefined) {
    folder = resolve(baseDir, data.path);
    key = ['data', 'path'];
    const folderProblem = fashionMnistFolderProblem(folder);
    if (folderProblem) {
      c.missing.push({ file: folder, key });
      c.problems.push({ message: folderProblem, key, file: folder });
      return;
    }
  } else {
    key = ['data', 'source'];
    const location = locateFashionMnist(places);
    if (location.kind === 'download') {
      // Not an error: the run fetches the files first.
      c.notes.push({ message: downloadNotice(location), key });
      return;
    }
    folder = location.folder;
  }
  for (const [role, name] of Object.entries(FASHION_MNIST_FILES)) {
    const file = findFashionMnistFile(folder, name);
    if (file === null) {
      const expected = join(folder, `${name}.gz`);
      c.missing.push({ file: expected, key });
      c.problems.push({
        message: `Fashion-MNIST file ${name}.gz (or ${name}) not found in ${folder}`,
        key,
        file: expected,
      });
      continue;
    }
    const kind = role.endsWith('Images') ? 'images' : 'labels';
    const header = c.attempt(key, () => readIdxHeaderSync(file, kind, key));
    if (role === 'trainLabels' && header) c.probe.trainExamples = header.dims[0];
  }
}

function probeCsv(data: Extract<DataConfig, { source: 'csv' }>, baseDir: string, c: ProbeCollector): void {
  const width = (name: 'path' | 'test_path') => {
    const path = data[name];
    if (path === undefined) return undefined;
    const file = resolve(baseDir, path);
    if (!c.exists(file, ['data', name], 'CSV file')) return undefined;
    return c.attempt(['data', name], () => {
      const first = readCsvWidthSync(file, data.delimiter, ['data', name]);
      return { ...first, file };
    });
  };
  const train = width('path');
  const test = width('test_path');
  if (train) {
    if (train.width < 2) {
      c.problems.push({
        message: `only one column with delimiter '${data.delimiter}': a CSV needs features and a label (is data.delimiter right?)`,
        key: ['data', 'delimiter'],
        file: train.file,
        line: train.line,
      });
      return;
    }
    c.probe.shape = [train.width - 1];
    const labelKey = ['data', 'label_column'];
    if (typeof data.label_column === 'number' && data.label_column >= train.width) {
      c.problems.push({
        message: `label_column ${data.label_column} is out of range: the file has ${train.width} columns (0-based)`,
        key: labelKey,
      });
    } else if (typeof data.label_column === 'string') {
      if (!data.header) {
        c.problems.push({
          message: `label_column '${data.label_column}' is a name, but header is false: give a 0-based column index`,
          key: labelKey,
        });
      } else {
        const columns = c.attempt(['data', 'path'], () =>
          splitCsvLine(firstLine(train.file).replace(/^\ufeff/, ''), data.delimiter, train.file, train.line),
        );
        if (columns && !columns.some((name) => name.trim() === data.label_column)) {
          c.problems.push({
            message: `no column named '${data.label_column}' in the header of ${data.path} (${columns.map((n) => n.trim()).join(', ')})`,
            key: labelKey,
            file: train.file,
            line: train.line,
          });
        }
      }
    }
    if (test && test.width !== train.width) {
      c.problems.push({
        message: `${test.width} columns, but ${data.path} has ${train.width}`,
        key: ['data', 'test_path'],
        file: test.file,
        line: test.line,
      });
    }
  }
}

function probeNpz(data: Extract<DataConfig, { source: 'npz' }>, baseDir: string, c: ProbeCollector): void {
  const path = resolve(baseDir, data.path);
  // An archive, or a folder of .npy files (each read as a regular file when opened).
  if (pathKind(path) !== 'folder' && !c.exists(path, ['data', 'path'], 'NumPy arrays')) return;
  const headers = c.attempt(['data', 'path'], () => probeNpzHeaders(path));
  if (!headers) return;
  c.probe.shape = headers.inputShape;
  const count = headers.train.x.shape[0]!;
  c.probe.trainExamples = headers.test ? count : trainCountAfterSplit(count, data.test_split);
}

function probeCriteo(data: Extract<DataConfig, { source: 'criteo' }>, baseDir: string, c: ProbeCollector): void {
  c.probe.shape = [CRITEO_FIELDS - 1];
  for (const name of ['path', 'test_path'] as const) {
    const path = data[name];
    if (path === undefined) continue;
    const file = resolve(baseDir, path);
    if (!c.exists(file, ['data', name], 'Criteo file') || file.endsWith('.gz')) continue;
    const fields = c.attempt(['data', name], () => firstLine(file).split('\t').length);
    if (fields !== undefined && fields !== CRITEO_FIELDS) {
      c.problems.push({
        message: `${file}:1: ${fields} tab-separated fields, expected ${CRITEO_FIELDS} (label, 13 integer features I1-I13, 26 categorical features C1-C26)`,
        key: ['data', name],
        file,
        line: 1,
      });
    }
  }
}

/**
 * The probe, synchronously (a few small reads): for the language server's validation pass.
 * `places`: where Fashion-MNIST without `data.path` is looked for (this user's by default).
 */
export function probeDataSync(
  data: DataConfig,
  baseDir: string,
  places: FashionMnistPlaces = fashionMnistPlaces(),
): DataProbeResult {
  const c = new ProbeCollector();
  switch (data.source) {
    case 'fashion-mnist':
      probeFashionMnist(data, baseDir, c, places);
      break;
    case 'idx':
      probeIdx(data, baseDir, c);
      break;
    case 'csv':
      probeCsv(data, baseDir, c);
      break;
    case 'npz':
      probeNpz(data, baseDir, c);
      break;
    case 'criteo':
      probeCriteo(data, baseDir, c);
      break;
    case 'teacher':
      c.probe.shape = [data.input_dim];
      c.probe.trainExamples = data.train_examples;
      break;
    case 'synthetic-ctr':
      c.probe.shape = [data.numeric_features + data.categorical_features];
      c.probe.trainExamples = data.train_examples;
      break;
  }
  return c.result();
}

/** The probe as a promise (same work as `probeDataSync`). */
export function probeData(data: DataConfig, baseDir: string): Promise<DataProbeResult> {
  try {
    return Promise.resolve(probeDataSync(data, baseDir));
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
