/**
 * Block masks and block attention over a layer's 2-D kernel. Grids are ceil grids: when a side
 * does not divide, the last block row or column is smaller and still counts as a block. Block
 * values are expanded to the kernel by reshape-broadcast, never `tf.tile` (whose gradient costs
 * 16-22x a whole training step, notes/compute.md §6).
 */
import * as tf from '@tensorflow/tfjs-core';
// Chained ops (`x.reshape(...)`, `x.mul(...)`) are opt-in in tfjs-core.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
// Gradients are opt-in with tfjs-core alone (the `@tensorflow/tfjs` umbrella imports them).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { BlockGrid } from '../experiment/pruningPlan';
import type { Rng } from '../data/random';
import { hasWasmBlockScale, wasmScaleBlocks } from './wasmBlockScale';

/**
 * Multiplies a `[rows, cols]` kernel by per-block values `[gridRows, gridCols]`. On wasm, two
 * heap kernels (wasmBlockScale.ts); elsewhere, when the blocks tile the kernel, one
 * reshape-broadcast, otherwise the values are broadcast to the padded grid and cut back.
 */
export function scaleBlocks(kernel: tf.Tensor2D, blockValues: tf.Tensor2D, grid: BlockGrid): tf.Tensor2D {
  const { rows, cols, blockRows: br, blockCols: bc, gridRows: R, gridCols: C } = grid;
  if (hasWasmBlockScale()) return wasmScaleBlocks(kernel, blockValues, { blockRows: br, blockCols: bc });
  return tf.tidy(() => {
    if (grid.edgeRows === 0 && grid.edgeCols === 0) {
      return kernel
        .reshape([R, br, C, bc])
        .mul(blockValues.reshape([R, 1, C, 1]))
        .reshape([rows, cols]);
    }
    const expanded = blockValues
      .reshape([R, 1, C, 1])
      .mul(tf.ones([1, br, 1, bc]))
      .reshape([R * br, C * bc])
      .slice([0, 0], [rows, cols]);
    return kernel.mul(expanded);
  });
}

/** `A = N·softmax(L)` over all blocks of one layer, clipped to `[density, 1/density]` when asked. */
export function blockAttention(logits: tf.Tensor2D, clipDensity: number | null): tf.Tensor2D {
  return tf.tidy(() => {
    const [R, C] = logits.shape;
    const n = R * C;
    const a = tf.reshape<tf.Rank.R2>(tf.mul(tf.softmax(tf.reshape(logits, [1, n])), n), [R, C]);
    return clipDensity !== null && clipDensity > 0 && clipDensity < 1
      ? tf.clipByValue(a, clipDensity, 1 / clipDensity)
      : a;
  });
}

/** Frobenius norm of every block, row-major over the grid (a conv kernel read as its matrix). */
export function blockNorms(kernel: tf.Tensor, grid: BlockGrid): Float32Array {
  const { blockRows: br, blockCols: bc, gridRows: R, gridCols: C } = grid;
  return tf.tidy(() => {
    const padded = kernel.reshape([grid.rows, grid.cols]).pad([
      [0, R * br - grid.rows],
      [0, C * bc - grid.cols],
    ]);
    return padded.square().reshape([R, br, C, bc]).sum([1, 3]).sqrt().dataSync() as Float32Array;
  });
}

/**
 * A mask keeping the `k` highest scores among the blocks `allowed` marks (all when absent). Exact
 * ties are broken by a random order drawn from `tieOrder`, never by position: blocks that get the
 * same updates (no input, or all at the clip) stay exactly tied, and a lower-index rule would keep
 * the top rows of a layer every time.
 */
export function topKMask(scores: ArrayLike<number>, k: number, tieOrder: Rng, allowed?: Uint8Array): Uint8Array {
  const tieKey = Float64Array.from({ length: scores.length }, () => tieOrder.next());
  const order = Array.from({ length: scores.length }, (_, i) => i)
    .filter((i) => !allowed || allowed[i] === 1)
    .sort((i, j) => scores[j]! - scores[i]! || tieKey[i]! - tieKey[j]!);
  const mask = new Uint8Array(scores.length);
  for (const i of order.slice(0, k)) mask[i] = 1;
  return mask;
}

export function countKept(mask: Uint8Array): number {
  let n = 0;
  for (const v of mask) n += v;
  return n;
}
