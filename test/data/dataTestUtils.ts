/** Helpers of the data tests: temp folders, IDX writers, and reading whole passes of a split. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BatchOptions, DataSplit, ExampleBatch } from '../../server/src/data/dataset';
import { DataError } from '../../server/src/data/dataset';

/** A fresh temp folder and its remover (call it in `after`). */
export function tempDir(label: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `sparsity-data-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The bytes of an IDX file of unsigned bytes. */
export function idxBytes(magic: number, dims: number[], data: Uint8Array | number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

export function writeIdx(
  file: string,
  kind: 'images' | 'labels',
  dims: number[],
  data: Uint8Array | number[],
  gzip = false,
): string {
  const bytes = idxBytes(kind === 'images' ? 0x0803 : 0x0801, dims, data);
  writeFileSync(file, gzip ? gzipSync(bytes) : bytes);
  return file;
}

/** Every batch of one pass. */
export async function collect(split: DataSplit, options: BatchOptions): Promise<ExampleBatch[]> {
  const out: ExampleBatch[] = [];
  for await (const batch of split.batches(options)) out.push(batch);
  return out;
}

/** The labels of one pass, concatenated. */
export async function passLabels(split: DataSplit, options: BatchOptions): Promise<number[]> {
  return (await collect(split, options)).flatMap((b) => Array.from(b.labels));
}

/** A fingerprint of one example: its label and features, for comparing orders across passes. */
export function exampleKeys(batches: ExampleBatch[]): string[] {
  const keys: string[] = [];
  for (const b of batches) {
    const stride = b.features.length / b.size;
    const catStride = b.categorical ? b.categorical.length / b.size : 0;
    for (let i = 0; i < b.size; i++) {
      const f = Array.from(b.features.subarray(i * stride, (i + 1) * stride)).join(',');
      const c = b.categorical ? Array.from(b.categorical.subarray(i * catStride, (i + 1) * catStride)).join(',') : '';
      keys.push(`${b.labels[i]}|${f}|${c}`);
    }
  }
  return keys;
}

/** Asserts the promise rejects with a `DataError` whose message matches and whose location is as given. */
export async function assertDataError(
  promise: Promise<unknown> | (() => unknown),
  expected: { message: RegExp; file?: string; line?: number; key?: (string | number)[] },
): Promise<DataError> {
  let caught: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof DataError, `expected a DataError, got ${String(caught)}`);
  assert.match(caught.message, expected.message);
  if ('file' in expected) assert.equal(caught.file, expected.file);
  if ('line' in expected) assert.equal(caught.line, expected.line);
  if ('key' in expected) assert.deepEqual(caught.key, expected.key);
  return caught;
}

/**
 * The determinism contract every split must keep: same seed → same order; another epoch →
 * another order; `startBatch` resumes exactly the tail of an uninterrupted pass.
 */
export async function assertDeterministicSplit(split: DataSplit, batchSize: number, seed = 7): Promise<void> {
  const pass = (epoch: number, extra: Partial<BatchOptions> = {}) =>
    collect(split, { batchSize, epoch, shuffleSeed: seed, ...extra }).then(exampleKeys);
  const first = await pass(0);
  assert.deepEqual(await pass(0), first, 'same seed and epoch give the same order');
  const second = await pass(1);
  assert.notDeepEqual(second, first, 'another epoch gives another order');
  assert.deepEqual([...second].sort(), [...first].sort(), 'both epochs hold the same examples');
  const resumed = await pass(0, { startBatch: 3 });
  assert.deepEqual(resumed, first.slice(3 * batchSize), 'startBatch resumes the tail of the pass');
  const other = await pass(0, { shuffleSeed: seed + 1 });
  assert.notDeepEqual(other, first, 'another seed gives another order');
}

/**
 * Fits a logistic regression (numeric weights + one weight per categorical bucket) by SGD on the
 * train batches and returns the test log-loss next to that of predicting the train click rate:
 * the check that CTR labels are learnable from the features.
 */
export function logisticCheck(
  train: ExampleBatch[],
  test: ExampleBatch[],
  layout: { numeric: number; categorical: number; buckets: number },
  epochs = 5,
  learningRate = 0.003,
): { baseLoss: number; modelLoss: number } {
  const { numeric, categorical, buckets } = layout;
  const wn = new Float64Array(numeric);
  const wc = new Float64Array(categorical * buckets);
  let bias = 0;
  let clicks = 0;
  let count = 0;
  for (const b of train) for (const l of b.labels) [clicks, count] = [clicks + l, count + 1];
  const rate = clicks / count;
  bias = Math.log(rate / (1 - rate));
  const logit = (b: ExampleBatch, i: number) => {
    let z = bias;
    for (let f = 0; f < numeric; f++) z += wn[f]! * b.features[i * numeric + f]!;
    for (let f = 0; f < categorical; f++) z += wc[f * buckets + b.categorical![i * categorical + f]!]!;
    return z;
  };
  for (let e = 0; e < epochs; e++) {
    for (const b of train) {
      for (let i = 0; i < b.size; i++) {
        const g = 1 / (1 + Math.exp(-logit(b, i))) - b.labels[i]!;
        bias -= learningRate * g;
        for (let f = 0; f < numeric; f++) wn[f]! -= learningRate * g * b.features[i * numeric + f]!;
        for (let f = 0; f < categorical; f++)
          wc[f * buckets + b.categorical![i * categorical + f]!]! -= learningRate * g;
      }
    }
  }
  let baseLoss = 0;
  let modelLoss = 0;
  let n = 0;
  const clip = (p: number) => Math.min(1 - 1e-7, Math.max(1e-7, p));
  for (const b of test) {
    for (let i = 0; i < b.size; i++) {
      const y = b.labels[i]!;
      const p = clip(1 / (1 + Math.exp(-logit(b, i))));
      modelLoss -= y ? Math.log(p) : Math.log(1 - p);
      baseLoss -= y ? Math.log(rate) : Math.log(1 - rate);
      n += 1;
    }
  }
  return { baseLoss: baseLoss / n, modelLoss: modelLoss / n };
}
