/**
 * What every data source gives the trainer: two splits that yield batches in a deterministic
 * order (seeded shuffle, resumable from any batch), and the facts the model needs (task, input
 * shape, classes). Batches are plain typed arrays; the trainer turns them into tensors.
 */
import type { Task } from '../experiment/modelShape';

export interface ExampleBatch {
  /** Examples in this batch. */
  size: number;
  /**
   * Classification: the inputs, `size x prod(inputShape)` row-major, float.
   * CTR: the numeric features, `size x numeric`, already transformed (log1p).
   */
  features: Float32Array;
  /** CTR only: hashed categorical ids, `size x categorical`, each in `[0, buckets)`. */
  categorical?: Int32Array;
  /** Class ids in `[0, classes)` (classification) or 0/1 clicks (CTR). */
  labels: Int32Array;
}

export interface BatchOptions {
  batchSize: number;
  /** Epoch number: with `shuffleSeed`, it picks the permutation of that epoch. */
  epoch: number;
  /** Null: file order. */
  shuffleSeed: number | null;
  /** Skip this many batches of the epoch first (resume); the rest are exactly those an uninterrupted pass yields. */
  startBatch?: number;
  /** Drop a last batch smaller than `batchSize` (training does; evaluation does not). */
  dropRemainder?: boolean;
}

export interface DataSplit {
  /** Examples in the split, when known before reading it all (streamed files may not know). */
  readonly size: number | null;
  batches(options: BatchOptions): AsyncIterable<ExampleBatch>;
}

/** The planted truth of a `teacher` dataset: which blocks of the first layer are really used. */
export interface GroundTruthSupport {
  /** Layer of the student that mirrors the teacher's sparse layer (`dense_1`). */
  layer: string;
  block: [number, number];
  gridRows: number;
  gridCols: number;
  /** Row-major `gridRows x gridCols`, 1 where the teacher's block is non-zero. */
  support: Uint8Array;
}

export interface Dataset {
  task: Task;
  /** Shape of one example without the batch axis (`[28, 28, 1]`, `[64]`, or `[numeric + categorical]` for CTR). */
  inputShape: number[];
  /** Classes (classification) or 1 (CTR). */
  classes: number;
  /** CTR feature layout. */
  ctr?: { numeric: number; categorical: number; buckets: number };
  train: DataSplit;
  test: DataSplit;
  groundTruth?: GroundTruthSupport;
  /** One line for logs and run.json: where the data came from and how much of it. */
  description: string;
  /** Releases open files. */
  close(): Promise<void>;
}

/**
 * Bad data, located: the file, the 1-based line or record when known, and the config key that
 * pointed at the file (e.g. `['data', 'path']`), so the CLI and the editor can say where.
 */
export class DataError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly key?: (string | number)[],
  ) {
    super(message);
    this.name = 'DataError';
  }
}
