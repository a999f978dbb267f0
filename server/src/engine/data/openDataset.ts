/**
 * Opens the data source a config names: Fashion-MNIST and IDX files, and the planted teacher.
 * Relative paths start at the experiment file's folder. Sources this version cannot read yet
 * (csv, criteo, synthetic-ctr) are a clear `DataError`, never a silent fallback.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { DataConfig, ExperimentConfig } from '../../experiment/schema';
import { FASHION_MNIST_FILES } from '../../experiment/dataProbe';
import { Rng } from '../random';
import { ArraySplit } from './arrayDataset';
import { DataError, type Dataset } from './dataset';
import { readIdx } from './idx';

function pathOf(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

function cap(n: number, limit: number | undefined): number {
  return limit === undefined ? n : Math.min(n, limit);
}

function idxPair(images: string, labels: string, limit: number | undefined, classes: number, keys: [string, string]) {
  const x = readIdx(images, 3, ['data', keys[0]]);
  const y = readIdx(labels, 1, ['data', keys[1]]);
  if (x.dims[0] !== y.dims[0])
    throw new DataError(`${images} has ${x.dims[0]} images but ${labels} has ${y.dims[0]} labels`, labels, undefined, [
      'data',
      keys[1],
    ]);
  const n = cap(x.dims[0]!, limit);
  const width = x.dims[1]! * x.dims[2]!;
  const labelsOut = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = y.data[i]!;
    if (label >= classes)
      throw new DataError(
        `${labels}: label ${label} of example ${i + 1} is not in [0, ${classes})`,
        labels,
        undefined,
        ['data', keys[1]],
      );
    labelsOut[i] = label;
  }
  return {
    split: new ArraySplit(x.data.subarray(0, n * width), labelsOut, width, 255),
    shape: [x.dims[1]!, x.dims[2]!, 1],
  };
}

export function openDataset(config: ExperimentConfig, baseDir: string): Promise<Dataset> {
  const data: DataConfig = config.data;
  const done = (d: Omit<Dataset, 'close'>): Promise<Dataset> =>
    Promise.resolve({ ...d, close: () => Promise.resolve() });
  switch (data.source) {
    case 'fashion-mnist': {
      const dir = pathOf(baseDir, data.path);
      if (!existsSync(dir))
        throw new DataError(
          `Fashion-MNIST folder ${dir} does not exist: install the Debian package dataset-fashion-mnist or set data.path`,
          dir,
          undefined,
          ['data', 'path'],
        );
      const file = (name: string) => (existsSync(join(dir, `${name}.gz`)) ? join(dir, `${name}.gz`) : join(dir, name));
      const [ti, tl, vi, vl] = FASHION_MNIST_FILES.map(file) as [string, string, string, string];
      const train = idxPair(ti, tl, data.train_examples, 10, ['path', 'path']);
      const test = idxPair(vi, vl, data.test_examples, 10, ['path', 'path']);
      return done({
        task: 'classification',
        inputShape: train.shape,
        classes: 10,
        train: train.split,
        test: test.split,
        description: `Fashion-MNIST from ${dir}: ${train.split.size} train, ${test.split.size} test`,
      });
    }
    case 'idx': {
      const train = idxPair(
        pathOf(baseDir, data.train_images),
        pathOf(baseDir, data.train_labels),
        data.train_examples,
        data.classes,
        ['train_images', 'train_labels'],
      );
      if (!data.test_images || !data.test_labels)
        throw new DataError(
          'idx data without test_images/test_labels is not supported yet: give a test set',
          undefined,
          undefined,
          ['data'],
        );
      const test = idxPair(
        pathOf(baseDir, data.test_images),
        pathOf(baseDir, data.test_labels),
        data.test_examples,
        data.classes,
        ['test_images', 'test_labels'],
      );
      return done({
        task: 'classification',
        inputShape: train.shape,
        classes: data.classes,
        train: train.split,
        test: test.split,
        description: `IDX ${data.train_images}: ${train.split.size} train, ${test.split.size} test`,
      });
    }
    case 'teacher':
      return done(plantedTeacher(data, config.seed));
    default:
      throw new DataError(
        `data source \`${data.source}\` is not implemented in this version of the engine`,
        undefined,
        undefined,
        ['data', 'source'],
      );
  }
}

/**
 * The planted teacher of spec §6.1: `x ~ N(0, I)` (optionally with per-block input scales), a
 * ReLU MLP whose first layer keeps `density` of its blocks, labels `argmax(scale·logits + noise·ε)`.
 */
export function plantedTeacher(data: Extract<DataConfig, { source: 'teacher' }>, seed: number): Omit<Dataset, 'close'> {
  const teacherSeed = data.teacher_seed ?? seed;
  const rng = Rng.from(teacherSeed, 'teacher');
  const { input_dim: d, hidden: h, classes, block: b, density } = data;
  const gridRows = Math.ceil(d / b);
  const gridCols = Math.ceil(h / b);
  const blocks = gridRows * gridCols;
  const keep = Math.max(1, Math.round(density * blocks));
  const order = Array.from({ length: blocks }, (_, i) => i);
  for (let i = blocks - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const support = new Uint8Array(blocks);
  for (const i of order.slice(0, keep)) support[i] = 1;
  const w1 = new Float32Array(d * h);
  const std1 = Math.sqrt(1 / (density * d));
  for (let r = 0; r < d; r++)
    for (let c = 0; c < h; c++)
      if (support[Math.floor(r / b) * gridCols + Math.floor(c / b)]) w1[r * h + c] = std1 * rng.normal();
  const w2 = Float32Array.from({ length: h * classes }, () => rng.normal() / Math.sqrt(h));
  const scales = Float32Array.from({ length: d }, () => 1);
  if (data.input_scales === 'heterogeneous') {
    for (let g = 0; g < gridRows; g++) {
      const s = Math.exp(Math.log(0.1) + rng.next() * (Math.log(10) - Math.log(0.1)));
      for (let r = g * b; r < Math.min(d, (g + 1) * b); r++) scales[r] = s;
    }
  }
  const generate = (n: number, label: string) => {
    const g = Rng.from(teacherSeed, 'teacher-data', label);
    const x = new Float32Array(n * d);
    const y = new Int32Array(n);
    const hidden = new Float32Array(h);
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < d; r++) x[i * d + r] = g.normal() * scales[r]!;
      hidden.fill(0);
      for (let r = 0; r < d; r++) {
        const xv = x[i * d + r]!;
        if (xv === 0) continue;
        const row = r * h;
        for (let c = 0; c < h; c++) hidden[c]! += xv * w1[row + c]!;
      }
      let best = -Infinity;
      for (let k = 0; k < classes; k++) {
        let z = 0;
        for (let c = 0; c < h; c++) if (hidden[c]! > 0) z += hidden[c]! * w2[c * classes + k]!;
        const score = data.logit_scale * z + data.noise * g.normal();
        if (score > best) {
          best = score;
          y[i] = k;
        }
      }
    }
    return new ArraySplit(x, y, d);
  };
  return {
    task: 'classification',
    inputShape: [d],
    classes,
    train: generate(data.train_examples, 'train'),
    test: generate(data.test_examples, 'test'),
    groundTruth: { layer: 'dense_1', block: [b, b], gridRows, gridCols, support },
    description: `planted teacher ${d}-${h}-${classes}, ${keep}/${blocks} first-layer blocks of ${b}x${b}: ${data.train_examples} train, ${data.test_examples} test`,
  };
}
