import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { blockGrid } from '../../server/src/experiment/pruningPlan';
import { selectBackend } from '../../server/src/engine/backends';
import { scaleBlocks } from '../../server/src/engine/blockMask';
import { Rng } from '../../server/src/data/random';
import { hasWasmBlockScale } from '../../server/src/engine/wasmBlockScale';

/** The reference: every entry times its block's value, in plain JS. */
function reference(kernel: Float32Array, values: Float32Array, rows: number, cols: number, br: number, bc: number) {
  const gridCols = Math.ceil(cols / bc);
  return kernel.map(
    (w, k) => w * values[Math.floor(Math.floor(k / cols) / br) * gridCols + Math.floor((k % cols) / bc)]!,
  );
}

describe('wasm block-scale kernels', () => {
  before(async () => {
    await selectBackend('wasm');
  });

  it('are active on wasm and match the plain product and its gradients, edge blocks included', () => {
    assert.ok(hasWasmBlockScale());
    const before = tf.memory().numTensors;
    for (const seed of [1, 2, 3]) {
      const rng = new Rng(seed);
      for (const [rows, cols, br, bc] of [
        [16, 24, 8, 8],
        [60, 64, 8, 8],
        [33, 17, 4, 5],
        [7, 9, 16, 16],
      ] as const) {
        const grid = blockGrid(rows, cols, [br, bc]);
        const kernelData = Float32Array.from({ length: rows * cols }, () => rng.normal());
        const valueData = Float32Array.from({ length: grid.blocks }, () => rng.normal());
        const upstream = Float32Array.from({ length: rows * cols }, () => rng.normal());
        const kernel = tf.tensor2d(kernelData, [rows, cols]);
        const values = tf.tensor2d(valueData, [grid.gridRows, grid.gridCols]);
        const dy = tf.tensor2d(upstream, [rows, cols]);
        const out = scaleBlocks(kernel, values, grid);
        const expected = reference(kernelData, valueData, rows, cols, br, bc);
        assert.deepEqual(Array.from(out.dataSync()), Array.from(expected), `forward ${rows}x${cols} / ${br}x${bc}`);
        const grads = tf.grads((k: tf.Tensor, v: tf.Tensor) =>
          tf.sum(tf.mul(scaleBlocks(k as tf.Tensor2D, v as tf.Tensor2D, grid), dy)),
        );
        const [dk, dv] = grads([kernel, values]) as [tf.Tensor, tf.Tensor];
        assert.deepEqual(Array.from(dk.dataSync()), Array.from(reference(upstream, valueData, rows, cols, br, bc)));
        const dvExpected = new Float64Array(grid.blocks);
        kernelData.forEach((w, k) => {
          const block = Math.floor(Math.floor(k / cols) / br) * grid.gridCols + Math.floor((k % cols) / bc);
          dvExpected[block]! += w * upstream[k]!;
        });
        dv.dataSync().forEach((g, b) =>
          assert.ok(Math.abs(g - dvExpected[b]!) <= 1e-4 * (1 + Math.abs(dvExpected[b]!)), `d values[${b}]`),
        );
        tf.dispose([kernel, values, dy, out, dk, dv]);
      }
    }
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  });
});
