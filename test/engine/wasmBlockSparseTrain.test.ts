import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { blockGrid, type LayerPlan } from '../../server/src/experiment/pruningPlan';
import { selectBackend } from '../../server/src/engine/backends';
import { scaleBlocks, topKMask } from '../../server/src/engine/blockMask';
import { MaskedModel, type KernelMode } from '../../server/src/engine/maskedModel';
import type { NetworkSpec } from '../../server/src/engine/networkSpec';
import {
  BREAK_EVEN_DENSITY,
  blockSparseLayout,
  blockSparseMatMul,
  hasWasmBlockSparseTrain,
} from '../../server/src/engine/wasmBlockSparseTrain';
import { Rng } from '../../server/src/data/random';

/** Max |a - b| over max(1, max |b|): the 1e-5 the issue asks for, on the scale of the values compared. */
function relativeDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
    const scale = Math.max(1, tf.max(tf.abs(b)).dataSync()[0]!);
    return diff / scale;
  });
}

const random = (rng: Rng, shape: number[]) =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    shape,
  );

describe('block-sparse training kernels (wasm SIMD)', () => {
  before(() => selectBackend('wasm'));

  it('are registered on wasm', () => assert.ok(hasWasmBlockSparseTrain()));

  // Rows, cols, block rows, block cols, kept fraction, batch: edge blocks on either side, block
  // widths that are not a multiple of 4, batches that are not a multiple of the kernels' row blocking.
  const shapes: [number, number, number, number, number, number][] = [
    [64, 48, 16, 16, 0.3, 7],
    [784, 512, 16, 16, 0.1, 128],
    [33, 17, 4, 5, 0.5, 33],
    [9, 10, 16, 16, 1, 5],
    [20, 24, 3, 8, 0.6, 3],
    [30, 13, 8, 8, 0.7, 10],
    [50, 70, 32, 32, 0.4, 9],
    [27, 64, 9, 8, 0.5, 1],
    [12, 6, 1, 1, 0.5, 4],
    [40, 40, 8, 8, 0, 6],
  ];
  for (const seed of [1, 2, 3])
    it(`forward, dx, dW and the block values' gradient equal the masked dense path within 1e-5 (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const before = tf.memory().numTensors;
      for (const [rows, cols, br, bc, density, n] of shapes) {
        const grid = blockGrid(rows, cols, [br, bc]);
        const mask = Uint8Array.from({ length: grid.blocks }, () => (rng.next() < density ? 1 : 0));
        const layout = blockSparseLayout(grid, mask);
        const x = random(rng, [n, rows]) as tf.Tensor2D;
        const w = random(rng, [rows, cols]) as tf.Tensor2D;
        const maskTensor = tf.tensor2d(Float32Array.from(mask), [grid.gridRows, grid.gridCols]);
        // Block values as SA++ has them: A ⊙ mask (pruned blocks are zero).
        const values = tf.tidy(() => tf.mul(tf.add(random(rng, [grid.gridRows, grid.gridCols]), 2), maskTensor));
        const dy = random(rng, [n, cols]);
        const label = `${rows}x${cols} in ${br}x${bc} blocks, ${layout.kept.length}/${grid.blocks} kept, batch ${n}`;
        const sparse = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          blockSparseMatMul(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, layout);
        const dense = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.matMul(a as tf.Tensor2D, scaleBlocks(b as tf.Tensor2D, c as tf.Tensor2D, grid));
        const y1 = sparse(x, w, values);
        const y0 = tf.tidy(() => dense(x, w, values));
        assert.ok(relativeDiff(y1, y0) <= 1e-5, `forward: ${label}`);
        const g1 = tf.grads((a, b, c) => tf.sum(tf.mul(sparse(a, b, c), dy)))([x, w, values]);
        const g0 = tf.grads((a, b, c) => tf.sum(tf.mul(dense(a, b, c), dy)))([x, w, values]);
        assert.ok(relativeDiff(g1[0]!, g0[0]!) <= 1e-5, `dx: ${label}`);
        assert.ok(relativeDiff(g1[1]!, g0[1]!) <= 1e-5, `dW: ${label}`);
        // The dense path's gradient to the values is masked by the mask's own product in the model
        // (A ⊙ mask); here the values are the leaf, so compare where blocks are kept and expect zeros elsewhere.
        const maskedDense = tf.tidy(() => tf.mul(g0[2]!, maskTensor));
        assert.ok(relativeDiff(g1[2]!, maskedDense) <= 1e-5, `d values: ${label}`);
        const dw = g1[1]!.dataSync();
        for (let b = 0; b < grid.blocks; b++) {
          if (mask[b]) continue;
          const r0 = Math.floor(b / grid.gridCols) * br;
          const c0 = (b % grid.gridCols) * bc;
          for (let r = r0; r < Math.min(rows, r0 + br); r++)
            for (let c = c0; c < Math.min(cols, c0 + bc); c++)
              assert.equal(dw[r * cols + c], 0, `dW is exactly zero in pruned block ${b}: ${label}`);
        }
        tf.dispose([x, w, maskTensor, values, dy, y1, y0, maskedDense, ...g1, ...g0]);
      }
      assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
    });

  const plan = (name: string, rows: number, cols: number, block: [number, number]): LayerPlan => ({
    name,
    ...blockGrid(rows, cols, block),
    status: 'pruned',
    keptBlocks: 0,
    sparsity: 0,
  });

  /** A small CNN (conv kernels via im2col) or MLP with every kernel layer pruned and a fixed random mask. */
  function model(kind: 'cnn' | 'mlp', mode: KernelMode, seed: number): MaskedModel {
    const spec: NetworkSpec =
      kind === 'cnn'
        ? {
            inputShape: [10, 10, 3],
            outputUnits: 5,
            layers: [
              {
                kind: 'conv2d',
                name: 'conv_1',
                kernelHeight: 3,
                kernelWidth: 3,
                inChannels: 3,
                filters: 12,
                strides: [1, 1],
                padding: 'same',
                activation: 'relu',
                useBias: true,
              },
              { kind: 'maxpool', name: 'pool_1', pool: [2, 2], strides: [2, 2], padding: 'valid' },
              {
                kind: 'conv2d',
                name: 'conv_2',
                kernelHeight: 3,
                kernelWidth: 3,
                inChannels: 12,
                filters: 20,
                strides: [2, 2],
                padding: 'valid',
                activation: 'relu',
                useBias: false,
              },
              { kind: 'flatten', name: 'flatten' },
              { kind: 'dense', name: 'output', rows: 80, cols: 5, activation: 'linear', useBias: true },
            ],
          }
        : {
            inputShape: [50],
            outputUnits: 7,
            layers: [
              { kind: 'dense', name: 'dense_1', rows: 50, cols: 36, activation: 'relu', useBias: true },
              { kind: 'dense', name: 'output', rows: 36, cols: 7, activation: 'linear', useBias: true },
            ],
          };
    const plans =
      kind === 'cnn'
        ? [plan('conv_1', 27, 12, [4, 4]), plan('conv_2', 108, 20, [8, 8]), plan('output', 80, 5, [8, 4])]
        : [plan('dense_1', 50, 36, [8, 8]), plan('output', 36, 7, [8, 4])];
    const m = new MaskedModel(spec, plans, { attention: true, clipDensity: 0.2, logitInit: 'normal' }, new Rng(seed));
    const rng = new Rng(seed + 100);
    for (const l of m.layers) {
      const scores = Float32Array.from({ length: l.grid.blocks }, () => rng.next());
      m.setMask(l, topKMask(scores, Math.max(1, Math.round(0.4 * l.grid.blocks)), new Rng(1)));
      tf.tidy(() => l.logits!.assign(tf.mul(random(rng, l.logits!.shape), 0.5)));
    }
    m.kernelMode = mode;
    return m;
  }

  for (const kind of ['mlp', 'cnn'] as const)
    it(`a ${kind} model (conv kernels via im2col) trains the same block-sparse and masked dense`, () => {
      for (const seed of [1, 2]) {
        const before = tf.memory().numTensors;
        const models = (['block-sparse', 'dense'] as const).map((mode) => model(kind, mode, seed));
        for (const l of models[0]!.layers) assert.ok(models[0]!.blockSparseLayoutOf(l), `${l.name} runs block-sparse`);
        for (const l of models[1]!.layers) assert.equal(models[1]!.blockSparseLayoutOf(l), null);
        const rng = new Rng(seed + 7);
        const inputShape = models[0]!.spec.inputShape;
        const x = random(rng, [6, ...inputShape]);
        const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 1], 'int32'), models[0]!.spec.outputUnits));
        const optimizers = models.map(() => tf.train.adam(0.01));
        const losses: number[][] = [[], []];
        for (let step = 0; step < 4; step++)
          models.forEach((m, i) => {
            const loss = optimizers[i]!.minimize(() => tf.losses.softmaxCrossEntropy(labels, m.forward(x)), true, [
              ...m.weights(),
              ...m.logitVariables(),
            ])!;
            losses[i]!.push(loss.dataSync()[0]!);
            loss.dispose();
          });
        losses[0]!.forEach((l, step) =>
          assert.ok(Math.abs(l - losses[1]![step]!) <= 1e-5 * Math.max(1, Math.abs(l)), `${kind} loss at step ${step}`),
        );
        models[0]!.layers.forEach((l, i) => {
          const other = models[1]!.layers[i]!;
          assert.ok(relativeDiff(l.kernel, other.kernel) <= 1e-5, `${l.name} kernel after training`);
          assert.ok(relativeDiff(l.logits!, other.logits!) <= 1e-5, `${l.name} logits after training`);
        });
        tf.dispose([x, labels]);
        optimizers.forEach((o) => o.dispose());
        models.forEach((m) => m.dispose());
        assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
      }
    });

  it('auto mode runs a layer block-sparse only below the break-even density, and follows mask changes', () => {
    const m = model('mlp', 'auto', 3);
    const layer = m.layers[0]!;
    const keep = (fraction: number) =>
      m.setMask(
        layer,
        topKMask(
          Array.from({ length: layer.grid.blocks }, (_, i) => -i),
          Math.round(fraction * layer.grid.blocks),
          new Rng(1),
        ),
      );
    keep(1);
    assert.equal(m.blockSparseLayoutOf(layer), null, 'all blocks kept: dense');
    keep(Math.min(1, BREAK_EVEN_DENSITY + 0.2));
    assert.equal(m.blockSparseLayoutOf(layer), null, 'above the break-even: dense');
    keep(0.1);
    assert.ok(m.blockSparseLayoutOf(layer), '10% kept: block-sparse');
    m.kernelMode = 'dense';
    assert.equal(m.blockSparseLayoutOf(layer), null, 'forced dense');
    m.dispose();
  });
});
