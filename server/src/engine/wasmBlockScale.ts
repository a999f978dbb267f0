/**
 * A kernel times its block values, `W ⊙ expand(v)`, and the gradient to the block values, the
 * block sums of `dY ⊙ W`, as two WebAssembly SIMD kernels in tfjs-backend-wasm's heap. Each is one
 * pass over the kernel: the generic reshape-broadcast multiply costs ten times a same-shape one on
 * wasm, and expanding `v` first and multiplying (then the multiply's gradient: two products, two
 * casts and a JS block sum) left SA++'s dense phases at 1.2-1.4x the dense step. The gradient to
 * `W` is the same kernel on `dY`. Ceil grids with edge blocks need no padding. The products are
 * exactly the f32 products the broadcast multiply makes; the block sums are summed in another order.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ADD,
  DIV_U,
  F32,
  F32X4_ADD,
  F32X4_MUL,
  F32X4_SPLAT,
  F32_ADD,
  F32_MUL,
  I32,
  LT_S,
  MUL,
  SELECT,
  SUB,
  V128,
  f32c,
  f32load,
  f32store,
  f32x4extract,
  get,
  i32c,
  instantiate,
  set,
  v128f32,
  v128load,
  v128store,
  wasmSimdAvailable,
  whileLess,
  type WasmFunction,
} from './wasmAssembler';
import { memoryOf, pointerOf, type WasmBackendLike } from './wasmHeap';

interface BlockAttrs {
  blockRows: number;
  blockCols: number;
}

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: WasmBackendLike; attrs: BlockAttrs };

const SCALE = 'SparsityStudioScaleBlocks';
const BLOCK_DOT = 'SparsityStudioBlockDot';

// Parameters of both kernels: (a, b, out, rows, cols, blockRows, blockCols, gridCols).
const [A, B, OUT, ROWS, COLS, BR, BC, GRID_COLS] = [0, 1, 2, 3, 4, 5, 6, 7];
const [I, ROW, VP, C0, C, END, ADDR] = [8, 9, 10, 11, 12, 13, 14];

/**
 * The loops both kernels share: for each row `i` (its byte offset `ROW`, its block row's values at
 * `VP`), for each block `[C0, END)` of the row, `perBlock` (with `VP` at the block's value).
 */
// prettier-ignore
function overBlocks(perBlock: number[]): number[] {
  return [
    ...i32c(0), ...set(I),
    ...whileLess(I, get(ROWS), i32c(1), [
      ...get(I), ...get(COLS), MUL, ...i32c(4), MUL, ...set(ROW),
      // VP = out-or-values + (i / blockRows) · gridCols · 4
      ...get(I), ...get(BR), DIV_U, ...get(GRID_COLS), MUL, ...i32c(4), MUL, ...set(VP),
      ...i32c(0), ...set(C0),
      ...whileLess(C0, get(COLS), get(BC), [
        // END = min(C0 + blockCols, cols)
        ...get(C0), ...get(BC), ADD, ...get(COLS), ...get(C0), ...get(BC), ADD, ...get(COLS), LT_S, SELECT, ...set(END),
        ...perBlock,
        ...get(VP), ...i32c(4), ADD, ...set(VP),
      ]),
    ]),
  ];
}

/** ADDR = ROW + 4·C, the byte offset of element (i, c). */
const address = [...get(ROW), ...get(C), ...i32c(4), MUL, ADD, ...set(ADDR)];

/** `scale(w, v, out, ...)`: out[i, c] = w[i, c] · v[i / br, c / bc]. */
// prettier-ignore
function scaleFunction(): WasmFunction {
  const S = 15; // v128: the block's value in every lane
  const valueAt = [...get(B), ...get(VP), ADD, ...f32load(0)];
  return {
    name: 'scale',
    params: Array.from({ length: 8 }, () => I32),
    locals: [[7, I32], [1, V128]],
    body: overBlocks([
      ...valueAt, ...F32X4_SPLAT, ...set(S),
      ...get(C0), ...set(C),
      ...whileLess(C, [...get(END), ...i32c(3), SUB], i32c(4), [
        ...address,
        ...get(OUT), ...get(ADDR), ADD,
        ...get(A), ...get(ADDR), ADD, ...v128load(), ...get(S), ...F32X4_MUL,
        ...v128store(),
      ]),
      ...whileLess(C, get(END), i32c(1), [
        ...address,
        ...get(OUT), ...get(ADDR), ADD,
        ...get(A), ...get(ADDR), ADD, ...f32load(0), ...valueAt, F32_MUL,
        ...f32store(0),
      ]),
    ]),
  };
}

/** `blockDot(a, b, out, ...)`: out[r, c] += Σ a ⊙ b over block (r, c); `out` starts at zero. */
// prettier-ignore
function blockDotFunction(): WasmFunction {
  const [ACC, SUM] = [15, 16]; // v128 lanes of the block's row segment, then its f32 total
  const outAt = [...get(OUT), ...get(VP), ADD];
  return {
    name: 'blockDot',
    params: Array.from({ length: 8 }, () => I32),
    locals: [[7, I32], [1, V128], [1, F32]],
    body: overBlocks([
      ...v128f32([0, 0, 0, 0]), ...set(ACC), ...f32c(0), ...set(SUM),
      ...get(C0), ...set(C),
      ...whileLess(C, [...get(END), ...i32c(3), SUB], i32c(4), [
        ...address,
        ...get(ACC),
        ...get(A), ...get(ADDR), ADD, ...v128load(), ...get(B), ...get(ADDR), ADD, ...v128load(), ...F32X4_MUL,
        ...F32X4_ADD, ...set(ACC),
      ]),
      ...whileLess(C, get(END), i32c(1), [
        ...address,
        ...get(SUM),
        ...get(A), ...get(ADDR), ADD, ...f32load(0), ...get(B), ...get(ADDR), ADD, ...f32load(0), F32_MUL,
        F32_ADD, ...set(SUM),
      ]),
      ...outAt,
      ...outAt, ...f32load(0),
      ...get(ACC), ...f32x4extract(0), ...get(ACC), ...f32x4extract(1), F32_ADD,
      ...get(ACC), ...f32x4extract(2), ...get(ACC), ...f32x4extract(3), F32_ADD, F32_ADD,
      ...get(SUM), F32_ADD,
      F32_ADD,
      ...f32store(0),
    ]),
  };
}

type Kernel = (...args: number[]) => void;

function kernel(backend: WasmBackendLike, name: 'scale' | 'blockDot'): Kernel {
  return instantiate(memoryOf(backend), 'blockScale', () => [scaleFunction(), blockDotFunction()])[name] as Kernel;
}

function gridCols(cols: number, attrs: BlockAttrs): number {
  return Math.ceil(cols / attrs.blockCols);
}

/** `out = w ⊙ expand(v)` for a `[rows, cols]` `w` and a `[gridRows, gridCols]` `v`. */
function scaleKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { w, v } = inputs as { w: tf.TensorInfo; v: tf.TensorInfo };
  const [rows, cols] = w.shape as [number, number];
  const out = backend.makeOutput([rows, cols], 'float32');
  const p = (t: tf.TensorInfo) => pointerOf(backend, t);
  kernel(backend, 'scale')(p(w), p(v), p(out), rows, cols, attrs.blockRows, attrs.blockCols, gridCols(cols, attrs));
  return out;
}

/** `out[r, c] = Σ a ⊙ b` over each block of the ceil grid. */
function blockDotKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const [rows, cols] = a.shape as [number, number];
  const grid = [Math.ceil(rows / attrs.blockRows), gridCols(cols, attrs)];
  const out = backend.makeOutput(grid, 'float32');
  const p = (t: tf.TensorInfo) => pointerOf(backend, t);
  new Float32Array(memoryOf(backend).buffer, p(out), grid[0]! * grid[1]!).fill(0);
  kernel(backend, 'blockDot')(p(a), p(b), p(out), rows, cols, attrs.blockRows, attrs.blockCols, grid[1]!);
  return out;
}

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: BlockAttrs) =>
  tf
    .engine()
    .runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;

/** Registers both kernels for the wasm backend and the scaling's gradient; idempotent. */
export function registerWasmBlockScale(): void {
  if (tf.getKernel(SCALE, 'wasm') || !wasmSimdAvailable()) return;
  tf.registerKernel({ kernelName: SCALE, backendName: 'wasm', kernelFunc: scaleKernel as unknown as tf.KernelFunc });
  tf.registerKernel({
    kernelName: BLOCK_DOT,
    backendName: 'wasm',
    kernelFunc: blockDotKernel as unknown as tf.KernelFunc,
  });
  tf.registerGradient({
    kernelName: SCALE,
    inputsToSave: ['w', 'v'],
    gradFunc: (dy, saved, attrs) => {
      const [w, v] = saved as [tf.Tensor, tf.Tensor];
      const blocks = attrs as unknown as BlockAttrs;
      return {
        w: () => run(SCALE, { w: dy as tf.Tensor, v }, blocks),
        v: () => run(BLOCK_DOT, { a: dy as tf.Tensor, b: w }, blocks),
      };
    },
  });
}

/** Whether the active backend has the kernels (wasm, once registered). */
export function hasWasmBlockScale(): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(SCALE, 'wasm') !== undefined;
}

/** `kernel ⊙ expand(values)`, differentiable in both. Call only when `hasWasmBlockScale()`. */
export function wasmScaleBlocks(
  kernel: tf.Tensor2D,
  values: tf.Tensor2D,
  blocks: { blockRows: number; blockCols: number },
): tf.Tensor2D {
  return run(SCALE, { w: kernel, v: values }, blocks);
}
