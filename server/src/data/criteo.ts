/**
 * The `criteo` source: click logs in the Criteo TSV format, one example per line:
 * `label \t I1..I13 \t C1..C26`, label 0/1, I* integers (possibly negative), C* categorical
 * strings (hexadecimal in the real data); any feature may be empty (missing).
 *
 * Files are STREAMED (raw, or gzipped when the name ends in `.gz`): a bounded read buffer, a
 * seeded shuffle buffer of at most `shuffleBuffer` examples, never the whole file in memory.
 *
 * Features the model sees:
 * - numeric `I_k`: `log1p(max(x, 0))`, missing → 0 (the usual Criteo transform; counts span
 *   orders of magnitude and the few negative values carry no signal);
 * - categorical `C_k`: the hashing trick, bucket `1 + fnv1a(k, value) mod (buckets - 1)` in
 *   `[1, buckets)` per feature, missing → bucket 0 of its own; ids are per feature, the model
 *   offsets them.
 * Without `test_path`, a line is held out for testing when a stable hash of its line number falls
 * below `test_split`: the same lines for every seed, and no pass needs to know the file's length.
 */
import { closeSync, createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { DataConfig } from '../experiment/schema';
import { deriveSeed, Rng } from './random';
import {
  DataError,
  dataFileError,
  type BatchOptions,
  type Dataset,
  type DataSplit,
  type ExampleBatch,
} from './dataset';
import { openRegularFile } from './regularFile';
import type { ConfigPath } from '../experiment/yamlDocument';
import { checkBatchOptions } from './inMemorySplit';

export type CriteoDataConfig = Extract<DataConfig, { source: 'criteo' }>;

export const CRITEO_NUMERIC = 13;
export const CRITEO_CATEGORICAL = 26;
export const CRITEO_FIELDS = 1 + CRITEO_NUMERIC + CRITEO_CATEGORICAL;
/** Examples held by the training shuffle buffer. */
export const CRITEO_SHUFFLE_BUFFER = 20_000;
const READ_CHUNK_BYTES = 1 << 16;
/** A longer line means the file is not Criteo TSV (or has no newlines): stop before memory grows. */
const MAX_LINE_BYTES = 1 << 20;

/** Bucket of categorical feature `feature` (0-based) with value `value`: 0 when missing, else in `[1, buckets)`. */
export function criteoBucket(feature: number, value: string, buckets: number): number {
  if (value === '') return 0;
  let h = 0x811c9dc5 ^ feature;
  h = Math.imul(h, 0x01000193);
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return 1 + ((h >>> 0) % (buckets - 1));
}

/** The numeric transform: `log1p(max(x, 0))`, missing (NaN) → 0. */
export function criteoNumeric(x: number): number {
  return Number.isNaN(x) ? 0 : Math.log1p(Math.max(x, 0));
}

/** Whether line `lineNo` (1-based) belongs to the held-out part: a stable hash of the number. */
export function isHeldOutLine(lineNo: number, testFraction: number): boolean {
  return deriveSeed(lineNo, 'criteo-test-split') / 4294967296 < testFraction;
}

/** Examples in flat arrays: `numeric` is `capacity x 13`, `categorical` `capacity x 26`. */
class ExampleBuffer {
  readonly numeric: Float32Array;
  readonly categorical: Int32Array;
  readonly labels: Int32Array;
  count = 0;

  constructor(readonly capacity: number) {
    this.numeric = new Float32Array(capacity * CRITEO_NUMERIC);
    this.categorical = new Int32Array(capacity * CRITEO_CATEGORICAL);
    this.labels = new Int32Array(capacity);
  }

  copy(to: number, from: ExampleBuffer, fromIndex: number): void {
    this.numeric.set(
      from.numeric.subarray(fromIndex * CRITEO_NUMERIC, (fromIndex + 1) * CRITEO_NUMERIC),
      to * CRITEO_NUMERIC,
    );
    this.categorical.set(
      from.categorical.subarray(fromIndex * CRITEO_CATEGORICAL, (fromIndex + 1) * CRITEO_CATEGORICAL),
      to * CRITEO_CATEGORICAL,
    );
    this.labels[to] = from.labels[fromIndex]!;
  }
}

/** Parses one line into slot `slot` of `out`; throws a `DataError` at `file:lineNo` when malformed. */
export function parseCriteoLine(
  line: string,
  lineNo: number,
  buckets: number,
  out: ExampleBuffer,
  slot: number,
  file: string,
  key?: ConfigPath,
): void {
  const fail = (problem: string) => new DataError(`${file}:${lineNo}: ${problem}`, file, lineNo, key);
  const fields = line.split('\t');
  if (fields.length !== CRITEO_FIELDS) {
    throw fail(
      `${fields.length} tab-separated fields, expected ${CRITEO_FIELDS} (label, 13 integer features I1-I13, 26 categorical features C1-C26)`,
    );
  }
  const label = fields[0]!;
  if (label !== '0' && label !== '1') throw fail(`label '${label}' is not 0 or 1`);
  out.labels[slot] = label === '1' ? 1 : 0;
  for (let k = 0; k < CRITEO_NUMERIC; k++) {
    const raw = fields[1 + k]!;
    let value = NaN;
    if (raw !== '') {
      if (!/^-?\d+$/.test(raw)) throw fail(`integer feature I${k + 1} is '${raw}', not an integer`);
      value = Number(raw);
    }
    out.numeric[slot * CRITEO_NUMERIC + k] = criteoNumeric(value);
  }
  for (let k = 0; k < CRITEO_CATEGORICAL; k++) {
    out.categorical[slot * CRITEO_CATEGORICAL + k] = criteoBucket(k, fields[1 + CRITEO_NUMERIC + k]!, buckets);
  }
}

/** Counters that show memory stays bounded (tests read them; they are not timings). */
export interface StreamStats {
  /** Most examples held at once: shuffle buffer + examples parsed from one read chunk. */
  maxBufferedExamples: number;
  /** Longest unfinished line carried between read chunks, in bytes. */
  maxCarryBytes: number;
  /** Lines read in the last pass. */
  linesRead: number;
}

export interface CriteoSplitOptions {
  file: string;
  key: ConfigPath;
  /** Which lines: all of them, or those the line hash puts in the train or test part. */
  part: 'all' | 'train' | 'test';
  testFraction: number;
  /** Use at most this many examples of the part (the first ones in file order). */
  cap?: number;
  buckets: number;
  /** False: ignore `shuffleSeed` (file order). */
  shuffle: boolean;
  shuffleBuffer: number;
}

/** A streamed split of a Criteo file. Its size is null until one full pass has counted it. */
export class CriteoSplit implements DataSplit {
  private counted: number | null = null;
  private readonly open = new Set<Readable>();
  private closed = false;
  readonly stats: StreamStats = { maxBufferedExamples: 0, maxCarryBytes: 0, linesRead: 0 };

  constructor(private readonly options: CriteoSplitOptions) {}

  get size(): number | null {
    return this.counted;
  }

  /** Destroys any stream still open (a pass abandoned by its reader). */
  close(): void {
    this.closed = true;
    for (const stream of this.open) stream.destroy();
    this.open.clear();
  }

  private openStream(): Readable {
    if (this.closed) throw new Error(`${this.options.file}: the dataset is closed`);
    // Opened as a regular file only: a FIFO or a device here would block or never end.
    let fd: number;
    try {
      fd = openRegularFile(this.options.file).fd;
    } catch (error) {
      throw dataFileError(error, 'Criteo file', this.options.key);
    }
    const file = createReadStream('', { fd, highWaterMark: READ_CHUNK_BYTES });
    const stream: Readable = this.options.file.endsWith('.gz') ? file.pipe(createGunzip()) : file;
    if (stream !== file) file.on('error', (error) => stream.destroy(error));
    this.open.add(stream);
    return stream;
  }

  /** The examples of this split in file order, a read chunk at a time. */
  private async *chunks(): AsyncGenerator<ExampleBuffer> {
    const { file, key, part, testFraction, cap, buckets } = this.options;
    const stream = this.openStream();
    let carry: Buffer = Buffer.alloc(0);
    let lineNo = 0;
    let taken = 0;
    const wanted = (n: number) => part === 'all' || isHeldOutLine(n, testFraction) === (part === 'test');
    const parseLines = (text: Buffer, final: boolean): ExampleBuffer => {
      const lines: [number, number, number][] = [];
      let start = 0;
      for (;;) {
        let end = text.indexOf(10, start);
        if (end < 0) {
          if (!final || start >= text.length) break;
          end = text.length;
        }
        lineNo += 1;
        let stop = end;
        if (stop > start && text[stop - 1] === 13) stop -= 1;
        if (stop > start && wanted(lineNo) && (cap === undefined || taken + lines.length < cap)) {
          lines.push([lineNo, start, stop]);
        }
        start = end + 1;
      }
      carry = final ? Buffer.alloc(0) : text.subarray(start);
      const out = new ExampleBuffer(lines.length);
      lines.forEach(([n, from, to], slot) =>
        parseCriteoLine(text.toString('latin1', from, to), n, buckets, out, slot, file, key),
      );
      out.count = lines.length;
      taken += lines.length;
      return out;
    };
    try {
      for await (const chunk of stream) {
        const text = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
        const parsed = parseLines(text, false);
        this.stats.maxCarryBytes = Math.max(this.stats.maxCarryBytes, carry.length);
        if (carry.length > MAX_LINE_BYTES) {
          throw new DataError(
            `${file}:${lineNo + 1}: line longer than ${MAX_LINE_BYTES} bytes: not a Criteo TSV file`,
            file,
            lineNo + 1,
            key,
          );
        }
        // Copy the carry out of the chunk so the chunk can be freed.
        carry = Buffer.from(carry);
        this.stats.linesRead = lineNo;
        if (parsed.count > 0) yield parsed;
        if (cap !== undefined && taken >= cap) return;
      }
      // A stream destroyed by close() may just end: that pass is not complete.
      if (this.closed) throw new Error(`${file}: the dataset was closed during a pass`);
      const last = parseLines(carry, true);
      this.stats.linesRead = lineNo;
      if (last.count > 0) yield last;
    } catch (error) {
      if (error instanceof DataError) throw error;
      if (this.closed) throw new Error(`${file}: the dataset was closed during a pass`);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new DataError(`Criteo file not found: ${file}`, file, undefined, key);
      throw new DataError(`${file}: cannot read (${(error as Error).message})`, file, undefined, key);
    } finally {
      stream.destroy();
      this.open.delete(stream);
    }
  }

  async *batches(options: BatchOptions): AsyncGenerator<ExampleBatch> {
    checkBatchOptions(options);
    const { batchSize } = options;
    const startBatch = options.startBatch ?? 0;
    const seed = this.options.shuffle ? options.shuffleSeed : null;
    const rng = seed === null ? null : Rng.from(seed, 'epoch', options.epoch);
    const pool = new ExampleBuffer(seed === null ? 0 : this.options.shuffleBuffer);
    let batch = new ExampleBuffer(batchSize);
    let batchIndex = 0;
    let seen = 0;

    // Adds one example to the current batch; returns a full batch to yield, if any.
    const emit = (from: ExampleBuffer, index: number): ExampleBatch | null => {
      if (batchIndex >= startBatch) batch.copy(batch.count, from, index);
      batch.count += 1;
      if (batch.count < batchSize) return null;
      const done = batchIndex >= startBatch ? toBatch(batch, batchSize) : null;
      batchIndex += 1;
      batch = new ExampleBuffer(batchSize);
      return done;
    };

    for await (const chunk of this.chunks()) {
      seen += chunk.count;
      this.stats.maxBufferedExamples = Math.max(this.stats.maxBufferedExamples, pool.count + chunk.count);
      for (let i = 0; i < chunk.count; i++) {
        let ready: ExampleBatch | null;
        if (rng === null) {
          ready = emit(chunk, i);
        } else if (pool.count < pool.capacity) {
          pool.copy(pool.count++, chunk, i);
          continue;
        } else {
          // Full buffer: a random resident leaves, the newcomer takes its slot.
          const j = rng.int(pool.capacity);
          ready = emit(pool, j);
          pool.copy(j, chunk, i);
        }
        if (ready) yield ready;
      }
    }
    // Drain the buffer in random order.
    while (rng !== null && pool.count > 0) {
      const j = rng.int(pool.count);
      const ready = emit(pool, j);
      pool.count -= 1;
      if (j !== pool.count) pool.copy(j, pool, pool.count);
      if (ready) yield ready;
    }
    this.counted = seen;
    if (batch.count > 0 && !options.dropRemainder && batchIndex >= startBatch) yield toBatch(batch, batch.count);
  }
}

function toBatch(buffer: ExampleBuffer, size: number): ExampleBatch {
  return {
    size,
    features: buffer.numeric.subarray(0, size * CRITEO_NUMERIC),
    categorical: buffer.categorical.subarray(0, size * CRITEO_CATEGORICAL),
    labels: buffer.labels.subarray(0, size),
  };
}

function checkFile(file: string, key: ConfigPath): void {
  try {
    closeSync(openRegularFile(file).fd);
  } catch (error) {
    throw dataFileError(error, 'Criteo file', key);
  }
}

/** Reads the first example of a file to fail early on a file of the wrong format. */
async function checkFirstLine(split: CriteoSplit): Promise<void> {
  for await (const batch of split.batches({ batchSize: 1, epoch: 0, shuffleSeed: null })) {
    void batch;
    break;
  }
}

export interface CriteoOpenOptions {
  /** Examples held by the training shuffle buffer (default `CRITEO_SHUFFLE_BUFFER`). */
  shuffleBuffer?: number;
}

export async function openCriteoDataset(
  data: CriteoDataConfig,
  baseDir: string,
  options: CriteoOpenOptions = {},
): Promise<Dataset> {
  const path = resolve(baseDir, data.path);
  checkFile(path, ['data', 'path']);
  const common = {
    testFraction: data.test_split,
    buckets: data.hash_buckets,
    shuffleBuffer: options.shuffleBuffer ?? CRITEO_SHUFFLE_BUFFER,
  };
  let train: CriteoSplit;
  let test: CriteoSplit;
  let origin: string;
  if (data.test_path !== undefined) {
    const testPath = resolve(baseDir, data.test_path);
    checkFile(testPath, ['data', 'test_path']);
    train = new CriteoSplit({
      ...common,
      file: path,
      key: ['data', 'path'],
      part: 'all',
      cap: data.train_examples,
      shuffle: data.shuffle,
    });
    test = new CriteoSplit({
      ...common,
      file: testPath,
      key: ['data', 'test_path'],
      part: 'all',
      cap: data.test_examples,
      shuffle: false,
    });
    origin = `test from ${data.test_path}`;
  } else {
    train = new CriteoSplit({
      ...common,
      file: path,
      key: ['data', 'path'],
      part: 'train',
      cap: data.train_examples,
      shuffle: data.shuffle,
    });
    test = new CriteoSplit({
      ...common,
      file: path,
      key: ['data', 'path'],
      part: 'test',
      cap: data.test_examples,
      shuffle: false,
    });
    origin = `test = lines whose number hashes below ${data.test_split}`;
  }
  await checkFirstLine(new CriteoSplit({ ...common, file: path, key: ['data', 'path'], part: 'all', shuffle: false }));
  return {
    task: 'ctr',
    inputShape: [CRITEO_NUMERIC + CRITEO_CATEGORICAL],
    classes: 1,
    ctr: { numeric: CRITEO_NUMERIC, categorical: CRITEO_CATEGORICAL, buckets: data.hash_buckets },
    train,
    test,
    description: `criteo ${data.path}: streamed, ${data.hash_buckets} hash buckets per categorical feature (${origin})`,
    close: () => {
      train.close();
      test.close();
      return Promise.resolve();
    },
  };
}
