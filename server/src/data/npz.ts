/**
 * The `npz` source: NumPy arrays `x_train`, `y_train` and optionally `x_test`, `y_test` (the Keras
 * `load_data()` convention), in one `.npz` archive (`np.savez` or `np.savez_compressed`) or a
 * folder of `.npy` files with those names. Images `[n, h, w]` get a channel axis (`[h, w, 1]`);
 * uint8 and bool features are scaled to [0, 1] (divided by 255; bools stay 0/1), other dtypes are
 * used as they are. Labels are integer class ids, `[n]` or `[n, 1]`. The probe reads the headers
 * only (the zip directory and the first bytes of each entry).
 */
import { closeSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataConfig } from '../experiment/schema';
import type { ConfigPath } from '../experiment/yamlDocument';
import { DataError, type Dataset } from './dataset';
import {
  FileReadError,
  MAX_WHOLE_FILE_BYTES,
  openRegularFile,
  pathKind,
  readRegularFile,
  readRegularHead,
} from './regularFile';
import { InMemorySplit, capIndices, firstRows, seededTestSplit, type InMemoryRows } from './inMemorySplit';
import {
  NPY_HEAD_BYTES,
  NpyError,
  entryData,
  entryHead,
  npyHeader,
  readNpy,
  zipEntries,
  type NpyHeader,
  type ReadAt,
  type ZipEntry,
} from './npy';

export type NpzDataConfig = Extract<DataConfig, { source: 'npz' }>;

export const NPZ_ARRAYS = ['x_train', 'y_train', 'x_test', 'y_test'] as const;
export type NpzArrayName = (typeof NPZ_ARRAYS)[number];

const KEY: ConfigPath = ['data', 'path'];

/** The shape of one example of an `[n, ...]` array: images `[n, h, w]` get a channel axis. */
export function exampleShape(shape: readonly number[]): number[] {
  const rest = shape.slice(1);
  if (rest.length === 0) return [1];
  if (rest.length === 2) return [...rest, 1];
  return rest;
}

/** The arrays of an archive or a folder, by name. */
interface ArraySource {
  /** Where an array lives, for messages. */
  where(name: NpzArrayName): string;
  has(name: NpzArrayName): boolean;
  head(name: NpzArrayName): Uint8Array;
  read(name: NpzArrayName): Uint8Array;
  close(): void;
}

function fdReader(fd: number): ReadAt {
  return (offset, length) => {
    const buffer = Buffer.alloc(Math.max(0, length));
    const read = readSync(fd, buffer, 0, buffer.length, offset);
    return buffer.subarray(0, read);
  };
}

function archive(file: string, whole: boolean): ArraySource {
  // Regular files only, never blocking (a FIFO named like an archive is refused from its metadata).
  const { fd, size } = openRegularFile(file);
  try {
    const bytes = whole ? readRegularFile(file, MAX_WHOLE_FILE_BYTES) : null;
    const readAt: ReadAt = bytes ? (offset, length) => bytes.subarray(offset, offset + length) : fdReader(fd);
    const entries = new Map<string, ZipEntry>(zipEntries(readAt, size, file).map((e) => [e.name, e]));
    const entry = (name: NpzArrayName) => entries.get(`${name}.npy`) ?? entries.get(name);
    return {
      where: (name) => `${file} [${name}]`,
      has: (name) => entry(name) !== undefined,
      head: (name) => entryHead(readAt, entry(name)!, file),
      read: (name) => entryData(readAt, entry(name)!, file),
      close: () => closeSync(fd),
    };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function folder(dir: string): ArraySource {
  const path = (name: NpzArrayName) => join(dir, `${name}.npy`);
  return {
    where: path,
    has: (name) => pathKind(path(name)) !== 'missing',
    head: (name) => readRegularHead(path(name), NPY_HEAD_BYTES),
    read: (name) => readRegularFile(path(name), MAX_WHOLE_FILE_BYTES),
    close: () => undefined,
  };
}

const located = <T>(path: string, action: () => T): T => {
  try {
    return action();
  } catch (error) {
    if (error instanceof NpyError || error instanceof FileReadError)
      throw new DataError(error.message, path, undefined, KEY);
    throw error;
  }
};

/** Opens `path` (an archive, or a folder of .npy files); `whole` reads an archive into memory at once. */
function openArrays(path: string, whole: boolean): ArraySource {
  const kind = pathKind(path);
  if (kind === 'missing') throw new DataError(`${path} does not exist`, path, undefined, KEY);
  return kind === 'folder' ? folder(path) : located(path, () => archive(path, whole));
}

/** What the headers say: shapes and dtypes of every array present, checked against each other. */
export interface NpzHeaders {
  train: { x: NpyHeader; y: NpyHeader };
  test: { x: NpyHeader; y: NpyHeader } | null;
  /** One example's shape (with the channel axis added to images). */
  inputShape: number[];
}

function checkPair(x: NpyHeader, y: NpyHeader, source: ArraySource, split: 'train' | 'test'): void {
  const where = `${source.where(`x_${split}`)} / y_${split}`;
  if (x.shape.length === 0 || y.shape.length === 0)
    throw new NpyError(`${where}: x_${split} and y_${split} must be arrays with one row per example, not scalars`);
  if (x.shape[0] !== y.shape[0])
    throw new NpyError(`${where}: x_${split} has ${x.shape[0]} examples but y_${split} has ${y.shape[0]} labels`);
  if (y.shape.length > 2 || (y.shape.length === 2 && y.shape[1] !== 1))
    throw new NpyError(
      `${source.where(`y_${split}`)}: labels of shape (${y.shape.join(', ')}) look one-hot; give integer class ids, shape (${y.shape[0]},)`,
    );
}

function readHeaders(source: ArraySource, path: string): NpzHeaders {
  for (const name of ['x_train', 'y_train'] as const)
    if (!source.has(name))
      throw new NpyError(
        `${path} has no \`${name}\` array (expected x_train, y_train and optionally x_test, y_test, as Keras' load_data() returns them)`,
      );
  const header = (name: NpzArrayName) => npyHeader(source.head(name), source.where(name));
  const train = { x: header('x_train'), y: header('y_train') };
  checkPair(train.x, train.y, source, 'train');
  let test: NpzHeaders['test'] = null;
  if (source.has('x_test') !== source.has('y_test'))
    throw new NpyError(
      `${path} has ${source.has('x_test') ? 'x_test but no y_test' : 'y_test but no x_test'}: give both or neither`,
    );
  if (source.has('x_test')) {
    test = { x: header('x_test'), y: header('y_test') };
    checkPair(test.x, test.y, source, 'test');
    if (test.x.shape.slice(1).join('x') !== train.x.shape.slice(1).join('x'))
      throw new NpyError(
        `${source.where('x_test')}: test examples are (${test.x.shape.slice(1).join(', ')}) but training examples are (${train.x.shape.slice(1).join(', ')})`,
      );
  }
  return { train, test, inputShape: exampleShape(train.x.shape) };
}

/** The headers of the arrays at `path`, reading nothing else (the editor's probe). */
export function probeNpz(path: string): NpzHeaders {
  const source = openArrays(path, false);
  try {
    return located(path, () => readHeaders(source, path));
  } finally {
    source.close();
  }
}

function rows(source: ArraySource, split: 'train' | 'test', classes: number): InMemoryRows {
  const x = readNpy(source.read(`x_${split}`), source.where(`x_${split}`), 'features');
  const y = readNpy(source.read(`y_${split}`), source.where(`y_${split}`), 'labels');
  const labels = y.values as Int32Array;
  const bad = labels.findIndex((v) => v < 0 || v >= classes);
  if (bad >= 0)
    throw new NpyError(
      `${source.where(`y_${split}`)}: label ${labels[bad]} at index ${bad} is outside [0, ${classes}) (data.classes is ${classes})`,
    );
  const examples = x.header.shape[0]!;
  const features = x.values instanceof Int32Array ? Float32Array.from(x.values) : x.values;
  return {
    features,
    stride: examples > 0 ? features.length / examples : 0,
    labels,
    scale: x.header.dtype === 'uint8' ? 255 : 1,
  };
}

export function openNpzDataset(data: NpzDataConfig, baseDir: string, seed: number): Promise<Dataset> {
  const path = resolve(baseDir, data.path);
  // Synchronous reads; a throw becomes the promise's rejection.
  return new Promise<Dataset>((done) => done(loadNpz(data, path, seed)));
}

function loadNpz(data: NpzDataConfig, path: string, seed: number): Dataset {
  const source = openArrays(path, true);
  try {
    return located(path, () => {
      const headers = readHeaders(source, path);
      const train = rows(source, 'train', data.classes);
      let trainSplit: InMemorySplit;
      let testSplit: InMemorySplit;
      let origin: string;
      if (headers.test) {
        const test = rows(source, 'test', data.classes);
        trainSplit = new InMemorySplit(train, firstRows(train.labels.length, data.train_examples), data.shuffle);
        testSplit = new InMemorySplit(test, firstRows(test.labels.length, data.test_examples));
        origin = 'test from x_test, y_test';
      } else {
        const split = seededTestSplit(train.labels.length, data.test_split, seed);
        trainSplit = new InMemorySplit(train, capIndices(split.train, data.train_examples), data.shuffle);
        testSplit = new InMemorySplit(train, capIndices(split.test, data.test_examples));
        origin = `test = seeded ${data.test_split} of x_train`;
      }
      return {
        task: 'classification' as const,
        inputShape: headers.inputShape,
        classes: data.classes,
        train: trainSplit,
        test: testSplit,
        description: `npz ${data.path}: ${trainSplit.size} train / ${testSplit.size} test examples of ${headers.inputShape.join('x')} ${headers.train.x.descr} (${origin})`,
        close: () => Promise.resolve(),
      };
    });
  } finally {
    source.close();
  }
}
