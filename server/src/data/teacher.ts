/**
 * The `teacher` source (spec §6.1): inputs `x ~ N(0, I)` (optionally a log-uniform scale in
 * [0.1, 10] per group of `block` inputs), a random ReLU MLP `input_dim → hidden → classes` whose
 * first layer is block-sparse, and labels `argmax(logit_scale · logits + noise · ε)`. The kept
 * blocks are the ground truth a pruning run should recover. Everything is drawn from generators
 * derived from `teacher_seed ?? seed`, one per purpose, so train and test never depend on each
 * other's sizes.
 */
import type { DataConfig } from '../experiment/schema';
import { Rng } from './random';
import type { Dataset, GroundTruthSupport } from './dataset';
import { InMemorySplit } from './inMemorySplit';

export type TeacherDataConfig = Extract<DataConfig, { source: 'teacher' }>;

/** The student layer that mirrors the teacher's sparse first layer. */
export const TEACHER_SPARSE_LAYER = 'dense_1';

export interface Teacher {
  inputDim: number;
  hidden: number;
  classes: number;
  /** First layer, `inputDim x hidden` row-major (the student's kernel orientation); zero outside kept blocks. */
  w1: Float32Array;
  /** Second layer, `hidden x classes` row-major. */
  w2: Float32Array;
  /** Standard deviation of each input feature. */
  inputScales: Float32Array;
  support: GroundTruthSupport;
  logitScale: number;
  noise: number;
}

/** Draws the teacher of a config: its block support, weights and input scales. */
export function makeTeacher(data: TeacherDataConfig, seed: number): Teacher {
  const { input_dim: inputDim, hidden, classes, block } = data;
  const gridRows = Math.ceil(inputDim / block);
  const gridCols = Math.ceil(hidden / block);
  const total = gridRows * gridCols;
  const keptCount = Math.min(total, Math.max(1, Math.round(data.density * total)));
  const support = new Uint8Array(total);
  const order = Rng.from(seed, 'teacher', 'support').permutation(total);
  for (let k = 0; k < keptCount; k++) support[order[k] ?? 0] = 1;

  const weights = Rng.from(seed, 'teacher', 'weights');
  const w1 = new Float32Array(inputDim * hidden);
  const std1 = Math.sqrt(1 / (data.density * inputDim));
  for (let i = 0; i < inputDim; i++) {
    const rowBlock = Math.floor(i / block);
    for (let j = 0; j < hidden; j++) {
      if (support[rowBlock * gridCols + Math.floor(j / block)]) w1[i * hidden + j] = std1 * weights.normal();
    }
  }
  const w2 = weights.fillNormal(new Float32Array(hidden * classes), 0, Math.sqrt(1 / hidden));

  const inputScales = new Float32Array(inputDim).fill(1);
  if (data.input_scales === 'heterogeneous') {
    const scales = Rng.from(seed, 'teacher', 'input-scales');
    for (let b = 0; b < gridRows; b++) {
      const scale = 10 ** (2 * scales.next() - 1);
      inputScales.fill(scale, b * block, Math.min(inputDim, (b + 1) * block));
    }
  }
  return {
    inputDim,
    hidden,
    classes,
    w1,
    w2,
    inputScales,
    support: { layer: TEACHER_SPARSE_LAYER, block: [block, block], gridRows, gridCols, support },
    logitScale: data.logit_scale,
    noise: data.noise,
  };
}

/** Row and column ranges of the kept blocks (neighbours in a block row merged), for loops that visit only them. */
function keptBlockRanges(teacher: Teacher): Int32Array {
  const { gridRows, gridCols, support, block } = teacher.support;
  const side = block[0];
  const ranges: number[] = [];
  for (let r = 0; r < gridRows; r++) {
    for (let c = 0; c < gridCols; c++) {
      if (!support[r * gridCols + c]) continue;
      let end = c + 1;
      while (end < gridCols && support[r * gridCols + end]) end++;
      ranges.push(r * side, Math.min(teacher.inputDim, (r + 1) * side), c * side, Math.min(teacher.hidden, end * side));
      c = end;
    }
  }
  return Int32Array.from(ranges);
}

/**
 * The teacher's logits (no noise) for a batch of inputs: `relu(x W1) W2`, visiting only the kept
 * blocks of `W1`. `x` is `count x inputDim`; returns `count x classes`.
 */
export function teacherLogits(teacher: Teacher, x: Float32Array, count = x.length / teacher.inputDim): Float64Array {
  const { inputDim, hidden, classes, w1, w2 } = teacher;
  const ranges = keptBlockRanges(teacher);
  const logits = new Float64Array(count * classes);
  const h = new Float64Array(hidden);
  for (let n = 0; n < count; n++) {
    h.fill(0);
    const xOffset = n * inputDim;
    for (let b = 0; b < ranges.length; b += 4) {
      const rowEnd = ranges[b + 1]!;
      const colStart = ranges[b + 2]!;
      const colEnd = ranges[b + 3]!;
      for (let i = ranges[b]!; i < rowEnd; i++) {
        const xi = x[xOffset + i]!;
        const w = i * hidden;
        for (let j = colStart; j < colEnd; j++) h[j]! += xi * w1[w + j]!;
      }
    }
    const out = n * classes;
    for (let j = 0; j < hidden; j++) {
      const hj = h[j]!;
      if (hj <= 0) continue;
      const w = j * classes;
      for (let k = 0; k < classes; k++) logits[out + k]! += hj * w2[w + k]!;
    }
  }
  return logits;
}

/** `count` examples and their noisy teacher labels from `rng`. */
export function generateTeacherExamples(
  teacher: Teacher,
  count: number,
  rng: Rng,
): { features: Float32Array; labels: Int32Array } {
  const { inputDim, classes, inputScales } = teacher;
  const features = new Float32Array(count * inputDim);
  const labels = new Int32Array(count);
  for (let n = 0, f = 0; n < count; n++) {
    for (let i = 0; i < inputDim; i++, f++) features[f] = inputScales[i]! * rng.normal();
  }
  const logits = teacherLogits(teacher, features, count);
  for (let n = 0; n < count; n++) {
    let best = 0;
    let bestValue = -Infinity;
    for (let k = 0; k < classes; k++) {
      const value = teacher.logitScale * logits[n * classes + k]! + teacher.noise * rng.normal();
      if (value > bestValue) {
        bestValue = value;
        best = k;
      }
    }
    labels[n] = best;
  }
  return { features, labels };
}

export function openTeacherDataset(data: TeacherDataConfig, experimentSeed: number): Dataset {
  const seed = data.teacher_seed ?? experimentSeed;
  const teacher = makeTeacher(data, seed);
  const generate = (split: 'train' | 'test', count: number) => ({
    ...generateTeacherExamples(teacher, count, Rng.from(seed, 'teacher', split)),
    stride: data.input_dim,
  });
  const train = new InMemorySplit(generate('train', data.train_examples), null, data.shuffle);
  const test = new InMemorySplit(generate('test', data.test_examples));
  const kept = teacher.support.support.reduce((a, b) => a + b, 0);
  return {
    task: 'classification',
    inputShape: [data.input_dim],
    classes: data.classes,
    train,
    test,
    groundTruth: teacher.support,
    description: `teacher seed ${seed}: ${data.input_dim}→${data.hidden}→${data.classes}, ${kept}/${teacher.support.support.length} blocks of ${data.block}x${data.block} kept, ${data.input_scales} inputs, ${train.size} train / ${test.size} test examples`,
    close: () => Promise.resolve(),
  };
}
