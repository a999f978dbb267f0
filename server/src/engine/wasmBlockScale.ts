/**
 * Block values expanded to a kernel's shape, and the per-block sums that are its gradient, as two
 * JavaScript kernels for the wasm backend that read and write the wasm heap directly. On wasm the
 * generic reshape-broadcast multiply `[R, br, C, bc] x [R, 1, C, 1]` costs ten times a same-shape
 * multiply, and its gradient a transposing reduction: bench/trainStep.bench.ts measured the SA++
 * step at 1.21x the dense one, most of it there. Expanding first keeps every full-size multiply
 * (forward and both gradients) on wasm's fast same-shape path. Ceil grids with edge blocks need no
 * padding here.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './wasmHeap';

interface ExpandAttrs {
  rows: number;
  cols: number;
  blockRows: number;
  blockCols: number;
}

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: WasmBackendLike; attrs: ExpandAttrs };

const EXPAND = 'SparsityStudioBlockExpand';
const BLOCK_SUM = 'SparsityStudioBlockSum';

/** `out[i, j] = v[floor(i / br), floor(j / bc)]` for a `rows x cols` output. */
function expandKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const v = inputs['v']!;
  const { rows, cols, blockRows: br, blockCols: bc } = attrs;
  const gridCols = v.shape[1]!;
  const out = backend.makeOutput([rows, cols], 'float32');
  const vs = backend.typedArrayFromHeap(v) as Float32Array;
  const os = backend.typedArrayFromHeap(out) as Float32Array;
  for (let i = 0; i < rows; i++) {
    const row = i * cols;
    if (i % br !== 0) {
      os.copyWithin(row, row - cols, row); // same block row: repeat the row above
      continue;
    }
    const vRow = (i / br) * gridCols;
    for (let cb = 0, c0 = 0; c0 < cols; cb++, c0 += bc)
      os.fill(vs[vRow + cb]!, row + c0, row + Math.min(cols, c0 + bc));
  }
  return out;
}

/** `out[r, c] = sum of x over block (r, c)` on the ceil grid of `br x bc` blocks. */
function blockSumKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const x = inputs['x']!;
  const { rows, cols, blockRows: br, blockCols: bc } = attrs;
  const gridCols = Math.ceil(cols / bc);
  const out = backend.makeOutput([Math.ceil(rows / br), gridCols], 'float32');
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const os = backend.typedArrayFromHeap(out) as Float32Array;
  os.fill(0);
  for (let i = 0; i < rows; i++) {
    const oRow = Math.floor(i / br) * gridCols;
    const row = i * cols;
    for (let cb = 0, c0 = 0; c0 < cols; cb++, c0 += bc) {
      let even = 0;
      let odd = 0;
      const end = row + Math.min(cols, c0 + bc);
      let k = row + c0;
      // Unrolled by four: about twice as fast as the plain loop in V8 at these sizes.
      for (const end4 = end - 3; k < end4; k += 4) {
        even += xs[k]! + xs[k + 2]!;
        odd += xs[k + 1]! + xs[k + 3]!;
      }
      for (; k < end; k++) even += xs[k]!;
      os[oRow + cb]! += even + odd;
    }
  }
  return out;
}

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: ExpandAttrs) =>
  tf
    .engine()
    .runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;

/** Registers both kernels for the wasm backend and the expansion's gradient; idempotent. */
export function registerWasmBlockScale(): void {
  if (tf.getKernel(EXPAND, 'wasm')) return;
  tf.registerKernel({ kernelName: EXPAND, backendName: 'wasm', kernelFunc: expandKernel as unknown as tf.KernelFunc });
  tf.registerKernel({
    kernelName: BLOCK_SUM,
    backendName: 'wasm',
    kernelFunc: blockSumKernel as unknown as tf.KernelFunc,
  });
  tf.registerGradient({
    kernelName: EXPAND,
    gradFunc: (dy, _saved, attrs) => ({
      v: () => run(BLOCK_SUM, { x: dy as tf.Tensor }, attrs as unknown as ExpandAttrs),
    }),
  });
}

/** Whether the active backend has the kernels (wasm, once registered). */
export function hasWasmBlockScale(): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(EXPAND, 'wasm') !== undefined;
}

/** `kernel ⊙ expand(values)`, differentiable in both. Call only when `hasWasmBlockScale()`. */
export function wasmScaleBlocks(
  kernel: tf.Tensor2D,
  values: tf.Tensor2D,
  blocks: { blockRows: number; blockCols: number },
): tf.Tensor2D {
  const [rows, cols] = kernel.shape;
  return tf.tidy(() => tf.mul(kernel, run(EXPAND, { v: values }, { rows, cols, ...blocks })));
}
