/**
 * Generated click data in the Criteo layout, from a planted logistic teacher. Used by the
 * `synthetic-ctr` source and by `scripts/makeCriteoSample.ts` (which writes the same examples as
 * Criteo TSV lines).
 *
 * - Numeric feature k: a log-normal count `floor(exp(N(mu_k, sigma_k)))` (some features may be
 *   -1, as Criteo's I2 is), missing with a per-feature rate up to 45%.
 * - Categorical feature k: a value id in `[0, vocabulary)` with a heavy head (`vocabulary^u - 1`,
 *   u uniform), missing with a per-feature rate up to 30%.
 * - Teacher logit: per-numeric weights on `log1p(max(x, 0))` (centred), a weight per categorical
 *   (feature, value) drawn from a hash, a few pairwise interactions (categorical x categorical
 *   and numeric x numeric), and a bias calibrated so that the mean click probability is
 *   `positive_rate`. Label ~ Bernoulli(sigmoid(logit)).
 * Example i of a split is drawn from its own generator, so any example can be made on demand:
 * nothing is stored, and batches of any order cost the same.
 */
import type { DataConfig } from '../experiment/schema';
import { deriveSeed, Rng } from './random';
import type { BatchOptions, Dataset, DataSplit, ExampleBatch } from './dataset';
import { batchRanges, checkBatchOptions, epochOrder } from './inMemorySplit';

export type SyntheticCtrDataConfig = Extract<DataConfig, { source: 'synthetic-ctr' }>;

/** A 32-bit integer mix of two integers (murmur3's finaliser over a combined word). */
export function mix32(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A hashed weight with mean 0 and variance 1 (uniform on [-√3, √3]). */
function hashWeight(a: number, b: number): number {
  return (mix32(a, b) / 4294967296 - 0.5) * 2 * Math.sqrt(3);
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

export interface CtrTeacherOptions {
  numeric: number;
  categorical: number;
  vocabulary: number;
  positiveRate: number;
  seed: number;
}

export interface CtrTeacher extends CtrTeacherOptions {
  mu: Float64Array;
  sigma: Float64Array;
  numericMissing: Float64Array;
  categoricalMissing: Float64Array;
  numericWeights: Float64Array;
  /** Scale of each categorical feature's hashed weights. */
  categoricalScales: Float64Array;
  categoricalSeeds: Uint32Array;
  /** Categorical feature pairs `[a, b, seed]` whose value combination has its own weight. */
  categoricalPairs: number[][];
  /** Numeric pairs `[a, b, weight]` multiplying their centred transforms. */
  numericPairs: number[][];
  bias: number;
}

/** One raw example: numeric values (NaN = missing) and categorical value ids (-1 = missing). */
export interface RawCtrExample {
  numeric: Float64Array;
  values: Int32Array;
  label: number;
}

function drawFeatures(teacher: CtrTeacher, rng: Rng, out: RawCtrExample): void {
  for (let k = 0; k < teacher.numeric; k++) {
    if (rng.next() < teacher.numericMissing[k]!) {
      out.numeric[k] = NaN;
    } else {
      const count = Math.floor(Math.exp(teacher.mu[k]! + teacher.sigma[k]! * rng.normal()));
      // Feature 1 (Criteo's I2) sometimes holds -1.
      out.numeric[k] = k === 1 && rng.next() < 0.05 ? -1 : count;
    }
  }
  for (let k = 0; k < teacher.categorical; k++) {
    out.values[k] =
      rng.next() < teacher.categoricalMissing[k]!
        ? -1
        : Math.min(teacher.vocabulary - 1, Math.floor(teacher.vocabulary ** rng.next()) - 1);
  }
}

/** Log-odds of a click without the bias. */
function teacherLogit(teacher: CtrTeacher, example: RawCtrExample): number {
  const centred = (k: number) => {
    const x = example.numeric[k]!;
    return Number.isNaN(x) ? 0 : Math.log1p(Math.max(x, 0)) - teacher.mu[k]!;
  };
  let z = 0;
  for (let k = 0; k < teacher.numeric; k++) z += teacher.numericWeights[k]! * centred(k);
  for (let k = 0; k < teacher.categorical; k++) {
    z += teacher.categoricalScales[k]! * hashWeight(teacher.categoricalSeeds[k]!, example.values[k]! + 1);
  }
  for (const [a, b, seed] of teacher.categoricalPairs) {
    const combined = mix32(example.values[a!]! + 1, example.values[b!]! + 1);
    z += 0.6 * hashWeight(seed!, combined);
  }
  for (const [a, b, weight] of teacher.numericPairs) z += weight! * centred(a!) * centred(b!);
  return z;
}

/** Draws the teacher: feature distributions, weights, interactions, and the calibrated bias. */
export function makeCtrTeacher(options: CtrTeacherOptions): CtrTeacher {
  const rng = Rng.from(options.seed, 'ctr', 'teacher');
  const n = options.numeric;
  const c = options.categorical;
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * rng.next();
  const fill = (count: number, draw: () => number) => Float64Array.from({ length: count }, draw);
  const teacher: CtrTeacher = {
    ...options,
    mu: fill(n, () => uniform(0.5, 4)),
    sigma: fill(n, () => uniform(0.5, 1.5)),
    numericMissing: fill(n, () => uniform(0, 0.45)),
    categoricalMissing: fill(c, () => (rng.next() < 0.5 ? 0 : uniform(0, 0.3))),
    numericWeights: fill(n, () => 0.35 * rng.normal()),
    categoricalScales: fill(c, () => uniform(0.05, 0.5)),
    categoricalSeeds: Uint32Array.from({ length: c }, () => Math.floor(rng.next() * 4294967296)),
    categoricalPairs: [],
    numericPairs: [],
    bias: 0,
  };
  for (let p = 0; p < 3 && c >= 2; p++) {
    const a = rng.int(c);
    const b = (a + 1 + rng.int(c - 1)) % c;
    teacher.categoricalPairs.push([a, b, Math.floor(rng.next() * 4294967296)]);
  }
  for (let p = 0; p < 2 && n >= 2; p++) {
    const a = rng.int(n);
    const b = (a + 1 + rng.int(n - 1)) % n;
    teacher.numericPairs.push([a, b, 0.3 * rng.normal()]);
  }
  // Bias: bisection on the mean click probability of a calibration sample.
  const calibration = Rng.from(options.seed, 'ctr', 'calibration');
  const example = newRawExample(n, c);
  const logits = Float64Array.from({ length: 4000 }, () => {
    drawFeatures(teacher, calibration, example);
    return teacherLogit(teacher, example);
  });
  let lo = -30;
  let hi = 30;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    const rate = logits.reduce((sum, z) => sum + sigmoid(z + mid), 0) / logits.length;
    if (rate < options.positiveRate) lo = mid;
    else hi = mid;
  }
  teacher.bias = (lo + hi) / 2;
  return teacher;
}

export function newRawExample(numeric: number, categorical: number): RawCtrExample {
  return { numeric: new Float64Array(numeric), values: new Int32Array(categorical), label: 0 };
}

/** Example `index` of the stream `stream` (e.g. 'train'), drawn on its own: same inputs, same example. */
export function drawCtrExample(teacher: CtrTeacher, streamSeed: number, index: number, out: RawCtrExample): number {
  const rng = new Rng(mix32(streamSeed, index));
  drawFeatures(teacher, rng, out);
  out.label = rng.next() < sigmoid(teacherLogit(teacher, out) + teacher.bias) ? 1 : 0;
  return out.label;
}

/** The click probability the teacher assigns to an example (for tests and reports). */
export function ctrTeacherProbability(teacher: CtrTeacher, example: RawCtrExample): number {
  return sigmoid(teacherLogit(teacher, example) + teacher.bias);
}

/** Bucket of a synthetic categorical value: 0 when missing, else in `[1, buckets)`. */
export function syntheticBucket(featureSeed: number, value: number, buckets: number): number {
  return value < 0 ? 0 : 1 + (mix32(featureSeed, value) % (buckets - 1));
}

class SyntheticCtrSplit implements DataSplit {
  constructor(
    private readonly teacher: CtrTeacher,
    private readonly streamSeed: number,
    readonly size: number,
    private readonly buckets: number,
    private readonly shuffle: boolean,
  ) {}

  // eslint-disable-next-line @typescript-eslint/require-await
  async *batches(options: BatchOptions): AsyncGenerator<ExampleBatch> {
    checkBatchOptions(options);
    const { numeric, categorical, categoricalSeeds } = this.teacher;
    const order = epochOrder(this.size, options.epoch, this.shuffle ? options.shuffleSeed : null);
    const example = newRawExample(numeric, categorical);
    for (const [start, end] of batchRanges(this.size, options)) {
      const size = end - start;
      const features = new Float32Array(size * numeric);
      const ids = new Int32Array(size * categorical);
      const labels = new Int32Array(size);
      for (let k = 0; k < size; k++) {
        labels[k] = drawCtrExample(this.teacher, this.streamSeed, order[start + k]!, example);
        for (let f = 0; f < numeric; f++) {
          const x = example.numeric[f]!;
          features[k * numeric + f] = Number.isNaN(x) ? 0 : Math.log1p(Math.max(x, 0));
        }
        for (let f = 0; f < categorical; f++) {
          ids[k * categorical + f] = syntheticBucket(categoricalSeeds[f]!, example.values[f]!, this.buckets);
        }
      }
      yield { size, features, categorical: ids, labels };
    }
  }
}

export function openSyntheticCtrDataset(data: SyntheticCtrDataConfig, seed: number): Dataset {
  const teacher = makeCtrTeacher({
    numeric: data.numeric_features,
    categorical: data.categorical_features,
    vocabulary: data.vocabulary,
    positiveRate: data.positive_rate,
    seed,
  });
  const split = (name: string, size: number, shuffle: boolean) =>
    new SyntheticCtrSplit(teacher, deriveSeed(seed, 'ctr', name), size, data.hash_buckets, shuffle);
  const train = split('train', data.train_examples, data.shuffle);
  const test = split('test', data.test_examples, false);
  return {
    task: 'ctr',
    inputShape: [data.numeric_features + data.categorical_features],
    classes: 1,
    ctr: { numeric: data.numeric_features, categorical: data.categorical_features, buckets: data.hash_buckets },
    train,
    test,
    description: `synthetic-ctr seed ${seed}: ${data.numeric_features} numeric + ${data.categorical_features} categorical features, vocabulary ${data.vocabulary}, positive rate ${data.positive_rate}, ${train.size} train / ${test.size} test examples`,
    close: () => Promise.resolve(),
  };
}

/**
 * A raw example as a Criteo TSV line: `label \t I1..In \t C1..Cm`, counts as integers, values as
 * 8-digit hex ids (as in the real logs), missing values empty.
 */
export function formatCriteoLine(teacher: CtrTeacher, example: RawCtrExample): string {
  const fields: string[] = [String(example.label)];
  for (const x of example.numeric) fields.push(Number.isNaN(x) ? '' : String(x));
  example.values.forEach((v, k) =>
    fields.push(v < 0 ? '' : mix32(teacher.categoricalSeeds[k]!, v).toString(16).padStart(8, '0')),
  );
  return fields.join('\t');
}

/** `count` Criteo lines of the teacher of `seed` (13 numeric, 26 categorical features). */
export function* criteoSampleLines(
  count: number,
  seed: number,
  options: { vocabulary?: number; positiveRate?: number } = {},
): Generator<string> {
  const teacher = makeCtrTeacher({
    numeric: 13,
    categorical: 26,
    vocabulary: options.vocabulary ?? 1000,
    positiveRate: options.positiveRate ?? 0.25,
    seed,
  });
  const streamSeed = deriveSeed(seed, 'criteo-sample');
  const example = newRawExample(13, 26);
  for (let i = 0; i < count; i++) {
    drawCtrExample(teacher, streamSeed, i, example);
    yield formatCriteoLine(teacher, example);
  }
}
