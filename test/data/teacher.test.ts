import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dataset } from '../../server/src/data/dataset';
import { makeTeacher, openTeacherDataset, teacherLogits, type TeacherDataConfig } from '../../server/src/data/teacher';
import { DataSchema } from '../../server/src/experiment/schema';
import { assertDeterministicSplit, collect } from './dataTestUtils';

const config = (extra: Record<string, unknown> = {}) =>
  DataSchema.parse({ source: 'teacher', ...extra }) as TeacherDataConfig;

async function whole(split: Dataset['train']) {
  const batches = await collect(split, { batchSize: 100_000, epoch: 0, shuffleSeed: null });
  assert.equal(batches.length, 1);
  return batches[0]!;
}

/**
 * Least-squares linear classifier on one-hot targets (normal equations, tiny ridge), fitted on
 * the train rows and scored on the test rows, using only the `use` feature columns.
 */
function linearAccuracy(
  train: { features: Float32Array; labels: Int32Array },
  test: { features: Float32Array; labels: Int32Array },
  dim: number,
  classes: number,
  use: number[],
): number {
  const d = use.length + 1; // + bias
  const row = (f: Float32Array, n: number) => [...use.map((c) => f[n * dim + c]!), 1];
  const a = Array.from({ length: d }, () => new Float64Array(d + classes));
  for (let n = 0; n < train.labels.length; n++) {
    const x = row(train.features, n);
    for (let i = 0; i < d; i++) {
      const ai = a[i]!;
      for (let j = 0; j < d; j++) ai[j]! += x[i]! * x[j]!;
      ai[d + train.labels[n]!]! += x[i]!;
    }
  }
  for (let i = 0; i < d; i++) a[i]![i]! += 1e-3;
  // Gauss-Jordan elimination with partial pivoting on [XᵀX | XᵀY].
  for (let c = 0; c < d; c++) {
    let pivot = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[pivot]![c]!)) pivot = r;
    [a[c], a[pivot]] = [a[pivot]!, a[c]!];
    const pr = a[c]!;
    const p = pr[c]!;
    for (let j = c; j < d + classes; j++) pr[j]! /= p;
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const rr = a[r]!;
      const factor = rr[c]!;
      if (factor !== 0) for (let j = c; j < d + classes; j++) rr[j]! -= factor * pr[j]!;
    }
  }
  let correct = 0;
  for (let n = 0; n < test.labels.length; n++) {
    const x = row(test.features, n);
    let best = 0;
    let bestScore = -Infinity;
    for (let k = 0; k < classes; k++) {
      let score = 0;
      for (let i = 0; i < d; i++) score += x[i]! * a[i]![d + k]!;
      if (score > bestScore) [best, bestScore] = [k, score];
    }
    if (best === test.labels[n]) correct += 1;
  }
  return correct / test.labels.length;
}

const majorityRate = (labels: Int32Array, classes: number) => {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l]! += 1;
  return Math.max(...counts) / labels.length;
};

describe('teacher source', () => {
  it('generates the spec task: shapes, label range, requested block density, ground truth', async () => {
    const data = openTeacherDataset(config({ train_examples: 2000, test_examples: 500 }), 1);
    assert.deepEqual(data.inputShape, [64]);
    assert.equal(data.classes, 10);
    assert.equal(data.train.size, 2000);
    assert.equal(data.test.size, 500);
    const truth = data.groundTruth!;
    assert.equal(truth.layer, 'dense_1');
    assert.deepEqual([truth.gridRows, truth.gridCols, truth.block], [8, 16, [8, 8]]);
    assert.equal(
      truth.support.reduce((a, b) => a + b, 0),
      32,
      '25% of 128 blocks',
    );
    const batch = await whole(data.train);
    assert.equal(batch.features.length, 2000 * 64);
    assert.ok(batch.labels.every((l) => l >= 0 && l < 10));
    assert.ok(new Set(batch.labels).size >= 8, 'labels use most classes');
    let sum = 0;
    let squares = 0;
    for (const v of batch.features) [sum, squares] = [sum + v, squares + v * v];
    const mean = sum / batch.features.length;
    assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
    assert.ok(Math.abs(squares / batch.features.length - 1) < 0.03, 'unit variance');
  });

  it('puts non-zero first-layer weights exactly on the support grid (student orientation)', () => {
    for (const [inputDim, hidden, block, density] of [
      [64, 128, 8, 0.25],
      [20, 30, 8, 0.4],
    ] as const) {
      const teacher = makeTeacher(config({ input_dim: inputDim, hidden, block, density }), 3);
      const { gridRows, gridCols, support } = teacher.support;
      assert.deepEqual([gridRows, gridCols], [Math.ceil(inputDim / block), Math.ceil(hidden / block)]);
      assert.equal(
        support.reduce((a, b) => a + b, 0),
        Math.round(density * gridRows * gridCols),
      );
      for (let i = 0; i < inputDim; i++) {
        for (let j = 0; j < hidden; j++) {
          const inBlock = support[Math.floor(i / block) * gridCols + Math.floor(j / block)] === 1;
          assert.equal(teacher.w1[i * hidden + j] !== 0, inBlock, `w1[${i}, ${j}]`);
        }
      }
    }
  });

  it('is deterministic by teacher_seed ?? seed, train and test differ, and batches shuffle and resume', async () => {
    const small = { train_examples: 300, test_examples: 100 };
    const a = await whole(openTeacherDataset(config(small), 5).train);
    const b = await whole(openTeacherDataset(config({ ...small, teacher_seed: 5 }), 99).train);
    const c = openTeacherDataset(config(small), 6);
    assert.deepEqual(b.features, a.features);
    assert.deepEqual(b.labels, a.labels);
    assert.notDeepEqual((await whole(c.train)).features, a.features);
    assert.notDeepEqual(c.groundTruth!.support, openTeacherDataset(config(small), 5).groundTruth!.support);
    const test = await whole(openTeacherDataset(config(small), 5).test);
    assert.notDeepEqual(test.features.subarray(0, 64), a.features.subarray(0, 64));
    const longer = await whole(openTeacherDataset(config({ ...small, train_examples: 400 }), 5).train);
    assert.deepEqual(longer.features.subarray(0, 300 * 64), a.features, 'more examples extend the same stream');
    await assertDeterministicSplit(c.train, 32);
  });

  it('computes the same logits as the dense product relu(x W1) W2', () => {
    for (const [density, seed] of [
      [0.25, 1],
      [0.6, 2],
      [1, 3],
    ] as const) {
      const teacher = makeTeacher(config({ input_dim: 20, hidden: 30, classes: 4, block: 8, density }), seed);
      const x = Float32Array.from({ length: 3 * 20 }, (_, i) => Math.sin(i * 1.7) * 2);
      const logits = teacherLogits(teacher, x, 3);
      for (let n = 0; n < 3; n++) {
        const h = Array.from({ length: 30 }, (_, j) => {
          let sum = 0;
          for (let i = 0; i < 20; i++) sum += x[n * 20 + i]! * teacher.w1[i * 30 + j]!;
          return Math.max(0, sum);
        });
        for (let k = 0; k < 4; k++) {
          const expected = h.reduce((sum, hj, j) => sum + hj * teacher.w2[j * 4 + k]!, 0);
          assert.ok(Math.abs(logits[n * 4 + k]! - expected) < 1e-9, `density ${density}: logit ${n},${k}`);
        }
      }
    }
  });

  it('gives each block of inputs one log-uniform scale in [0.1, 10] when heterogeneous', () => {
    const teacher = makeTeacher(config({ input_scales: 'heterogeneous' }), 2);
    const scales = Array.from(teacher.inputScales);
    for (let b = 0; b < 8; b++) {
      const group = scales.slice(b * 8, b * 8 + 8);
      assert.ok(
        group.every((s) => s === group[0]),
        `block ${b} shares one scale`,
      );
      assert.ok(group[0]! >= 0.1 && group[0]! <= 10);
    }
    assert.ok(new Set(scales).size >= 6, 'blocks get different scales');
    assert.ok(Math.max(...scales) / Math.min(...scales) > 5, 'the scales span orders of magnitude');
  });

  it('has learnable labels: a linear fit beats the majority class on several seeds', async () => {
    // The teacher is a ReLU MLP, so a linear fit recovers only part of it (and the spec's task
    // has imbalanced classes: argmax of ReLU features favours some classes).
    let gain = 0;
    for (const seed of [1, 2, 3]) {
      const data = openTeacherDataset(config({ train_examples: 4000, test_examples: 1000 }), seed);
      const train = await whole(data.train);
      const test = await whole(data.test);
      const all = Array.from({ length: 64 }, (_, i) => i);
      const accuracy = linearAccuracy(train, test, 64, 10, all);
      const baseline = majorityRate(test.labels, 10);
      assert.ok(accuracy > baseline + 0.03, `seed ${seed}: linear accuracy ${accuracy} vs majority ${baseline}`);
      gain += (accuracy - baseline) / 3;
    }
    assert.ok(gain > 0.1, `mean gain over the majority class ${gain}`);
  });

  it('makes inputs outside the support useless: they predict no better than the majority class', async () => {
    let gain = 0;
    for (const seed of [1, 2, 3]) {
      // 8x2 grid, 4 kept blocks: at least 4 of the 8 input groups feed nothing.
      const data = openTeacherDataset(
        config({
          input_dim: 64,
          hidden: 16,
          classes: 4,
          block: 8,
          density: 0.25,
          train_examples: 4000,
          test_examples: 2000,
        }),
        seed,
      );
      const { support, gridCols } = data.groundTruth!;
      const unused: number[] = [];
      const used: number[] = [];
      for (let i = 0; i < 64; i++) {
        const row = Math.floor(i / 8) * gridCols;
        (support.subarray(row, row + gridCols).some((s) => s === 1) ? used : unused).push(i);
      }
      assert.ok(unused.length >= 32);
      const train = await whole(data.train);
      const test = await whole(data.test);
      const baseline = majorityRate(test.labels, 4);
      const withUnused = linearAccuracy(train, test, 64, 4, unused);
      const withUsed = linearAccuracy(train, test, 64, 4, used);
      assert.ok(withUnused < baseline + 0.05, `seed ${seed}: unused inputs ${withUnused} vs majority ${baseline}`);
      assert.ok(withUsed > baseline + 0.05, `seed ${seed}: used inputs ${withUsed} vs majority ${baseline}`);
      gain += (withUsed - baseline) / 3;
    }
    assert.ok(gain > 0.15, `mean gain of the used inputs over the majority class ${gain}`);
  });
});
