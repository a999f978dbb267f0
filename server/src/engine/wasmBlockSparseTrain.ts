/**
 * Block-sparse training on the wasm backend: `y = x · (W ⊙ expand(s))` computed over the kept
 * blocks only, with its two gradients (`dx`, and the kept blocks' `dW` with the block values'
 * `ds`), by the SIMD kernels of wasmBlockSparseKernels.ts working directly in tfjs-backend-wasm's
 * heap: they import its memory, so operands are never copied. `s` holds a value per block (the
 * mask, or SA++'s `A ⊙ mask`); blocks the layout does not keep are skipped and get zero gradients,
 * exactly as the masked dense path gives them. The forward and `dx` products and `dW` come out
 * bit-identical to XNNPACK's dense ones (each sum keeps its order); only `ds` is summed in another
 * order than the dense path's block sums.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BlockGrid } from '../experiment/pruningPlan';
import { wasmSimdAvailable, type WasmMemory } from './wasmAssembler';
import { memoryOf, pointerOf, type WasmBackendLike } from './wasmHeap';
import {
  chunksOf,
  gradKernel,
  packSize,
  runDirection,
  tuning,
  type BlockSparseLayout,
  type Direction,
} from './wasmBlockSparseKernels';

export { blockSparseLayout, type BlockSparseLayout } from './wasmBlockSparseKernels';

// ------------------------------------------------------------------------------------------------
// The tfjs kernels

type KernelArgs = {
  inputs: Record<string, tf.TensorInfo>;
  backend: WasmBackendLike;
  attrs: { layout: BlockSparseLayout };
};

const FORWARD = 'SparsityStudioBlockSparseMatMul';
const GRAD_INPUT = 'SparsityStudioBlockSparseMatMulGradInput';
const GRAD_WEIGHTS = 'SparsityStudioBlockSparseMatMulGradWeights';

const pointer = pointerOf;

/**
 * Packs the kept blocks of one direction, scaled by their values, as the `col` kernel reads them:
 * per group, its full blocks then its edge block, each `k x 4·chunks` (zero-padded). Returns the
 * scratch pointer (the caller frees it) and each group's pack and meta offsets.
 */
function pack(
  backend: WasmBackendLike,
  memory: WasmMemory,
  layout: BlockSparseLayout,
  direction: Direction,
  transposed: boolean,
  wPtr: number,
  sPtr: number,
): { scratch: number; packs: number[]; metas: number[] } {
  const { floats, ints } = packSize(direction);
  const scratch = backend.wasm._malloc(4 * (floats + ints) + 16);
  const heap = new Float32Array(memory.buffer);
  const heapInts = new Int32Array(memory.buffer);
  const w = wPtr / 4;
  const s = sPtr / 4;
  const cols = layout.cols;
  const packs: number[] = [];
  const metas: number[] = [];
  let at = scratch / 4;
  let metaAt = scratch / 4 + floats;
  const { blockRows: br, blockCols: bc, gridCols } = layout;
  for (const g of direction.groups) {
    const padded = 4 * chunksOf(g.width);
    packs.push(at * 4);
    metas.push(metaAt * 4);
    const blocks = g.edge >= 0 ? [...g.fullBlocks, g.edgeBlock] : g.fullBlocks;
    for (let m = 0; m < blocks.length; m++) {
      const b = blocks[m]!;
      const k = m < g.full.length ? direction.k : direction.kEdge;
      if (m < g.full.length) heapInts[metaAt++] = 4 * g.full[m]!;
      const scale = heap[s + b]!;
      const r0 = Math.floor(b / gridCols) * br;
      const c0 = (b % gridCols) * bc;
      heap.fill(0, at, at + k * padded);
      if (!transposed) {
        // Rows of the block: k = its rows, width = its columns.
        for (let r = 0; r < k; r++) {
          const from = w + (r0 + r) * cols + c0;
          const row = at + r * padded;
          for (let c = 0; c < g.width; c++) heap[row + c] = heap[from + c]! * scale;
        }
      } else {
        // Columns of the block become rows: k = its columns, width = its rows.
        for (let r = 0; r < g.width; r++) {
          const from = w + (r0 + r) * cols + c0;
          for (let c = 0; c < k; c++) heap[at + c * padded + r] = heap[from + c]! * scale;
        }
      }
      at += k * padded;
    }
  }
  return { scratch, packs, metas };
}

/** `out = in · packed` over every group of one direction (`in` is `[n, *]`, `out` `[n, *]`). */
function runColumns(
  backend: WasmBackendLike,
  layout: BlockSparseLayout,
  direction: Direction,
  transposed: boolean,
  input: tf.TensorInfo,
  w: tf.TensorInfo,
  s: tf.TensorInfo,
  outShape: [number, number],
): tf.TensorInfo {
  const memory = memoryOf(backend);
  const out = backend.makeOutput(outShape, 'float32');
  const [n, outCols] = outShape;
  const inCols = input.shape[1]!;
  const { scratch, packs, metas } = pack(
    backend,
    memory,
    layout,
    direction,
    transposed,
    pointer(backend, w),
    pointer(backend, s),
  );
  try {
    runDirection(memory, direction, packs, metas, {
      in: pointer(backend, input),
      inCols,
      out: pointer(backend, out),
      outCols,
      n,
    });
  } finally {
    backend.wasm._free(scratch);
  }
  return out;
}

function forwardKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x, w, s } = inputs as { x: tf.TensorInfo; w: tf.TensorInfo; s: tf.TensorInfo };
  const layout = attrs.layout;
  return runColumns(backend, layout, layout.forward, false, x, w, s, [x.shape[0]!, layout.cols]);
}

function gradInputKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { dy, w, s } = inputs as { dy: tf.TensorInfo; w: tf.TensorInfo; s: tf.TensorInfo };
  const layout = attrs.layout;
  return runColumns(backend, layout, layout.transposed, true, dy, w, s, [dy.shape[0]!, layout.rows]);
}

function gradWeightsKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { x, dy, w, s } = inputs as Record<'x' | 'dy' | 'w' | 's', tf.TensorInfo>;
  const layout = attrs.layout;
  const memory = memoryOf(backend);
  const { rows, cols, blockRows: br, blockCols: bc, gridRows, gridCols } = layout;
  const dw = backend.makeOutput([rows, cols], 'float32');
  const ds = backend.makeOutput([gridRows, gridCols], 'float32');
  const dwPtr = pointer(backend, dw);
  const dsPtr = pointer(backend, ds);
  const heap = new Float32Array(memory.buffer);
  heap.fill(0, dwPtr / 4, dwPtr / 4 + rows * cols);
  heap.fill(0, dsPtr / 4, dsPtr / 4 + gridRows * gridCols);
  const [xPtr, dyPtr, wPtr, sPtr] = [x, dy, w, s].map((t) => pointer(backend, t)) as [number, number, number, number];
  const n = x.shape[0]!;
  for (const b of layout.kept) {
    const r0 = Math.floor(b / gridCols) * br;
    const c0 = (b % gridCols) * bc;
    const blockRows = Math.min(br, rows - r0);
    const width = Math.min(bc, cols - c0);
    const tile = Math.min(tuning.gradTile, chunksOf(width));
    const kernel = gradKernel(memory, { blockRows, width, rows: tuning.gradRows(tile), tile });
    kernel(
      xPtr + 4 * r0,
      4 * rows,
      dyPtr + 4 * c0,
      4 * cols,
      wPtr + 4 * (r0 * cols + c0),
      dwPtr + 4 * (r0 * cols + c0),
      4 * cols,
      n,
      dsPtr + 4 * b,
      heap[sPtr / 4 + b]!,
    );
  }
  return [dw, ds];
}

const run = (name: string, inputs: Record<string, tf.Tensor>, layout: BlockSparseLayout) =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, { layout } as unknown as tf.NamedAttrMap);

/** Registers the kernels and the forward kernel's gradient for the wasm backend; idempotent. */
export function registerWasmBlockSparseTrain(): void {
  if (tf.getKernel(FORWARD, 'wasm') || !wasmSimdAvailable()) return;
  const register = (kernelName: string, kernelFunc: (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]) =>
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  register(FORWARD, forwardKernel);
  register(GRAD_INPUT, gradInputKernel);
  register(GRAD_WEIGHTS, gradWeightsKernel);
  tf.registerGradient({
    kernelName: FORWARD,
    inputsToSave: ['x', 'w', 's'],
    gradFunc: (dy, saved, attrs) => {
      const [x, w, s] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const { layout } = attrs as unknown as { layout: BlockSparseLayout };
      // dW and ds come from one pass; the tape disposes ds when s needs no gradient (a plain mask).
      const [dw, ds] = run(GRAD_WEIGHTS, { x, dy: dy as tf.Tensor, w, s }, layout) as tf.Tensor[];
      return {
        x: () => run(GRAD_INPUT, { dy: dy as tf.Tensor, w, s }, layout) as tf.Tensor,
        w: () => dw!,
        s: () => ds!,
      };
    },
  });
}

/** Whether the active backend runs block-sparse training kernels (wasm with SIMD, once registered). */
export function hasWasmBlockSparseTrain(): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(FORWARD, 'wasm') !== undefined;
}

/**
 * `x · (w ⊙ expand(s))` over the layout's kept blocks, differentiable in all three: `x` is
 * `[n, rows]`, `w` `[rows, cols]`, `s` `[gridRows, gridCols]` (its values outside the kept blocks
 * are never read). Call only when `hasWasmBlockSparseTrain()`.
 */
export function blockSparseMatMul(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  s: tf.Tensor2D,
  layout: BlockSparseLayout,
): tf.Tensor2D {
  return run(FORWARD, { x, w, s }, layout) as tf.Tensor2D;
}

/**
 * Whether a layer keeping this fraction of its blocks trains faster block-sparse than masked
 * dense. bench/blockSparseTrain.bench.ts (MLP 784-512-512-10 at batch 128, one thread, a loaded
 * 2-core EPYC) found the block-sparse step faster up to 0.6-0.7 of the blocks kept for 4x8, 8x8,
 * 16x16 and 32x32 blocks; 0.5 leaves room for XNNPACK's threads on the dense side (our kernels run
 * on one). Blocks under 32 entries do too little work per block for their overhead: 0.25.
 */
export function blockSparseWorthIt(keptFraction: number, grid: Pick<BlockGrid, 'blockRows' | 'blockCols'>): boolean {
  const breakEven = grid.blockRows * grid.blockCols >= 32 ? BREAK_EVEN_DENSITY : BREAK_EVEN_DENSITY_SMALL_BLOCKS;
  return keptFraction <= breakEven;
}

/** Kept fraction of blocks up to which block-sparse training is used, for blocks of 32 entries or more. */
export const BREAK_EVEN_DENSITY = 0.5;
/** The same for smaller blocks. */
export const BREAK_EVEN_DENSITY_SMALL_BLOCKS = 0.25;
