/** A split held in memory: features as bytes or floats, labels as ints, batched in a seeded order. */
import { Rng } from '../random';
import type { BatchOptions, DataSplit, ExampleBatch } from './dataset';

export class ArraySplit implements DataSplit {
  readonly size: number;

  constructor(
    private readonly features: Uint8Array | Float32Array,
    private readonly labels: Int32Array,
    private readonly width: number,
    /** Bytes are divided by this (pixels); floats are used as they are. */
    private readonly scale = 1,
  ) {
    this.size = labels.length;
  }

  /** The order of an epoch: a seeded Fisher-Yates permutation, or file order. */
  order(epoch: number, shuffleSeed: number | null): Int32Array {
    const order = Int32Array.from({ length: this.size }, (_, i) => i);
    if (shuffleSeed === null) return order;
    const rng = Rng.from(shuffleSeed, 'epoch', epoch);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order;
  }

  batch(indices: ArrayLike<number>): ExampleBatch {
    const n = indices.length;
    const features = new Float32Array(n * this.width);
    const labels = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const i = indices[r]!;
      const src = i * this.width;
      for (let c = 0; c < this.width; c++) features[r * this.width + c] = this.features[src + c]! / this.scale;
      labels[r] = this.labels[i]!;
    }
    return { size: n, features, labels };
  }

  async *batches(options: BatchOptions): AsyncIterable<ExampleBatch> {
    const order = this.order(options.epoch, options.shuffleSeed);
    const count = options.dropRemainder
      ? Math.floor(this.size / options.batchSize)
      : Math.ceil(this.size / options.batchSize);
    for (let b = options.startBatch ?? 0; b < count; b++) {
      yield this.batch(order.subarray(b * options.batchSize, Math.min(this.size, (b + 1) * options.batchSize)));
    }
    await Promise.resolve();
  }
}
