/**
 * A split held in memory (IDX, CSV, teacher): rows of a feature matrix selected by an index
 * list, batched in a seeded, resumable order. Pixels stay Uint8 and are scaled per batch, so a
 * 60k-image set costs its bytes, never a Float32 copy of the whole set.
 */
import { Rng } from './random';
import type { BatchOptions, DataSplit, ExampleBatch } from './dataset';

export interface InMemoryRows {
  /** `examples x stride` row-major: raw bytes (scaled by `scale`) or floats. */
  features: Uint8Array | Float32Array;
  /** Values per example. */
  stride: number;
  /** One label per example of `features`. */
  labels: Int32Array;
  /** Batch features are `features / scale` (1 for floats). */
  scale?: number;
}

/** Checks the options every split accepts; a programming error, not bad data. */
export function checkBatchOptions(options: BatchOptions): void {
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
  }
  const start = options.startBatch ?? 0;
  if (!Number.isInteger(start) || start < 0) {
    throw new RangeError(`startBatch must be a non-negative integer, got ${start}`);
  }
  if (!Number.isInteger(options.epoch) || options.epoch < 0) {
    throw new RangeError(`epoch must be a non-negative integer, got ${options.epoch}`);
  }
}

/**
 * The order of one epoch over `size` examples: file order without a seed, else the permutation
 * drawn from `Rng.from(shuffleSeed, 'epoch', epoch)`.
 */
export function epochOrder(size: number, epoch: number, shuffleSeed: number | null): Uint32Array {
  if (shuffleSeed === null) {
    const order = new Uint32Array(size);
    for (let i = 0; i < size; i++) order[i] = i;
    return order;
  }
  return Rng.from(shuffleSeed, 'epoch', epoch).permutation(size);
}

/** Batches of positions `0..size-1` in epoch order, `startBatch` skipped, remainder kept or dropped. */
export function* batchRanges(size: number, options: BatchOptions): Generator<[start: number, end: number]> {
  const { batchSize } = options;
  const full = Math.floor(size / batchSize);
  const batches = options.dropRemainder || size % batchSize === 0 ? full : full + 1;
  for (let b = options.startBatch ?? 0; b < batches; b++) {
    yield [b * batchSize, Math.min(size, (b + 1) * batchSize)];
  }
}

export class InMemorySplit implements DataSplit {
  readonly size: number;
  private readonly indices: Uint32Array | null;

  /**
   * @param rows the examples of the whole file (or generated set)
   * @param indices which rows belong to this split, in file order; null: all of them
   * @param shuffle false: ignore `shuffleSeed` and always use file order (`data.shuffle: false`)
   */
  constructor(
    private readonly rows: InMemoryRows,
    indices: Uint32Array | null = null,
    private readonly shuffle = true,
  ) {
    this.indices = indices;
    this.size = indices ? indices.length : rows.labels.length;
  }

  /** The row of the underlying set behind position `i` of this split. */
  rowOf(i: number): number {
    return this.indices ? (this.indices[i] ?? 0) : i;
  }

  // Nothing to await, but the interface is async because streamed splits need it.
  // eslint-disable-next-line @typescript-eslint/require-await
  async *batches(options: BatchOptions): AsyncGenerator<ExampleBatch> {
    checkBatchOptions(options);
    const order = epochOrder(this.size, options.epoch, this.shuffle ? options.shuffleSeed : null);
    const { features, stride, labels } = this.rows;
    const inverseScale = 1 / (this.rows.scale ?? 1);
    for (const [start, end] of batchRanges(this.size, options)) {
      const size = end - start;
      const batchFeatures = new Float32Array(size * stride);
      const batchLabels = new Int32Array(size);
      for (let k = 0; k < size; k++) {
        const row = this.rowOf(order[start + k] ?? 0);
        const from = row * stride;
        const to = k * stride;
        if (inverseScale === 1) {
          batchFeatures.set(features.subarray(from, from + stride), to);
        } else {
          for (let j = 0; j < stride; j++) batchFeatures[to + j] = (features[from + j] ?? 0) * inverseScale;
        }
        batchLabels[k] = labels[row] ?? 0;
      }
      yield { size, features: batchFeatures, labels: batchLabels };
    }
  }
}

/**
 * Splits `count` rows into train and test: `testFraction` of them (at least one, and at least one
 * left for training) drawn by a seeded permutation; both lists in file order.
 */
export function seededTestSplit(
  count: number,
  testFraction: number,
  seed: number,
): { train: Uint32Array; test: Uint32Array } {
  const testCount = Math.min(count - 1, Math.max(1, Math.round(count * testFraction)));
  const permutation = Rng.from(seed, 'test-split').permutation(count);
  const test = permutation.slice(0, testCount).sort();
  const train = permutation.slice(testCount).sort();
  return { train, test };
}

/** The first `cap` entries of `indices` (all when `cap` is undefined). */
export function capIndices(indices: Uint32Array, cap: number | undefined): Uint32Array {
  return cap === undefined || cap >= indices.length ? indices : indices.subarray(0, cap);
}

/** `0..count-1`, capped. */
export function firstRows(count: number, cap: number | undefined): Uint32Array {
  const n = cap === undefined ? count : Math.min(cap, count);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
