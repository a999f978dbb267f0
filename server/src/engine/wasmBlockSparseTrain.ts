/**
 * Block-sparse training on the wasm backend: `y = x · (W ⊙ expand(s))` computed over the kept
 * blocks only, with its two gradients (`dx`, and the kept blocks' `dW` with the block values'
 * `ds`), as WebAssembly SIMD kernels generated here (wasmAssembler.ts) that work directly in
 * tfjs-backend-wasm's heap: they import its memory, so operands are never copied. `s` holds a
 * value per block (the mask, or SA++'s `A ⊙ mask`); blocks it does not keep (the layout's mask)
 * are skipped and get zero gradients, exactly as the masked dense path gives them.
 *
 * Kernels (f32x4 multiply-adds, fully unrolled over a block):
 * - `col`: one column of output blocks, `R` batch rows at a time; the accumulators stay in
 *   registers over every kept block of the column, whose scaled weights are packed contiguously
 *   first. `dx = dy · (W ⊙ S)ᵀ` is the same kernel over packed transposed blocks.
 * - `wg`: one kept block's `G = xᵀ · dy` over the batch; stores `dW = s·G` and `ds = Σ W ⊙ G`.
 * Edge blocks (a side that the block does not divide) get their own unrolled variants, and the
 * last 1-3 columns of a width that is not a multiple of 4 are stored lane by lane.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ADD,
  LOOP,
  END,
  F32X4_ADD,
  F32X4_MUL,
  F32X4_SPLAT,
  F32_ADD,
  GE_S,
  I32,
  F32,
  IF,
  LT_S,
  MUL,
  V128,
  Wasm,
  brIf,
  f32load,
  f32store,
  f32x4extract,
  f32x4replace,
  get,
  i32c,
  i32load,
  moduleBytes,
  set,
  v128f32,
  v128load,
  v128load32splat,
  v128store,
  v128store32lane,
  wasmSimdAvailable,
  whileLess,
  type WasmFunction,
  type WasmMemory,
} from './wasmAssembler';
import type { BlockGrid } from '../experiment/pruningPlan';

// ------------------------------------------------------------------------------------------------
// Code generation

/** Shape of a `col` kernel: `k` input rows per block (`kEdge` for the edge block, 0: none), output width. */
interface ColShape {
  k: number;
  kEdge: number;
  width: number;
  rows: number;
  /** Output vectors (4 columns each) per pass: wide blocks are done in several passes over the batch. */
  tile: number;
}

const chunksOf = (width: number) => Math.ceil(width / 4);

/** Stores vector local `v` at `address + offset`, only its first `lanes` lanes when fewer than 4. */
function storeLanes(address: number[], offset: number, v: number, lanes: number): number[] {
  if (lanes === 4) return [...address, ...get(v), ...v128store(offset)];
  const out: number[] = [];
  for (let lane = 0; lane < lanes; lane++) out.push(...address, ...get(v), ...v128store32lane(offset + 4 * lane, lane));
  return out;
}

/** Loads `lanes` floats at `address + offset` into a vector whose other lanes are zero (never reads past them). */
function loadLanes(address: number[], offset: number, lanes: number): number[] {
  if (lanes === 4) return [...address, ...v128load(offset)];
  const out = [...v128f32([0, 0, 0, 0])];
  for (let lane = 0; lane < lanes; lane++) out.push(...address, ...f32load(offset + 4 * lane), ...f32x4replace(lane));
  return out;
}

/**
 * `col(in, inStride, out, outStride, pack, meta, nFull, edgeOffset, nRows)`: for `nRows` rows
 * (a multiple of `rows`), `out[n, 0:width] = Σ_blocks in[n, offset_b : offset_b + k] · P_b`
 * where `P_b` are `k x 4·chunks` packed blocks, `meta` holds the byte offsets of the `nFull`
 * full blocks and `edgeOffset` that of the edge block (negative: none).
 */
// prettier-ignore
function colFunction(fn: string, shape: ColShape): WasmFunction {
  const { k, kEdge, width, rows: R } = shape;
  const chunks = chunksOf(width);
  const tile = Math.min(shape.tile, chunks);
  const lastLanes = width - 4 * (chunks - 1);
  const [IN, IN_STRIDE, OUT, OUT_STRIDE, PACK, META, N_FULL, EDGE, N_ROWS] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [N, K, WP, OFF] = [9, 10, 11, 12];
  const base = (i: number) => 13 + i; // row i's input pointer
  const a = (i: number) => 13 + R + i; // row i's pointer into the current block
  const END_A = 13 + 2 * R; // where a(0) stops in the current block
  const v128Base = 14 + 2 * R;
  const acc = (i: number, j: number) => v128Base + i * tile + j;
  const splat = (i: number) => v128Base + R * tile + i;
  const W = v128Base + R * tile + R;

  /**
   * The product of one block of `kk` input rows into the accumulators of chunks `j0...`, as a loop
   * over the rows: unrolled, TurboFan would issue every load of the block first and spill them.
   */
  const blockProduct = (kk: number, j0: number, chunksHere: number) => {
    const step: number[] = [];
    for (let i = 0; i < R; i++) step.push(...get(a(i)), ...v128load32splat(0), ...set(splat(i)));
    for (let j = 0; j < chunksHere; j++) {
      step.push(...get(WP), ...v128load(16 * (j0 + j)), ...set(W));
      for (let i = 0; i < R; i++)
        step.push(...get(acc(i, j)), ...get(splat(i)), ...get(W), ...F32X4_MUL, ...F32X4_ADD, ...set(acc(i, j)));
    }
    for (let i = 0; i < R; i++) step.push(...get(a(i)), ...i32c(4), ADD, ...set(a(i)));
    step.push(...get(WP), ...i32c(chunks * 16), ADD, ...set(WP));
    // a(0) runs from its start to start + 4·kk: its end is the loop bound.
    return [
      ...get(a(0)), ...i32c(4 * kk), ADD, ...set(END_A),
      ...LOOP, ...step, ...get(a(0)), ...get(END_A), LT_S, ...brIf(0), END,
    ];
  };
  const pointAt = (offset: number[]) => {
    const out: number[] = [];
    for (let i = 0; i < R; i++) out.push(...get(base(i)), ...offset, ADD, ...set(a(i)));
    return out;
  };
  const body: number[] = [];
  for (let j0 = 0; j0 < chunks; j0 += tile) {
    const chunksHere = Math.min(tile, chunks - j0);
    const rowsBody: number[] = [
      // base_i = in + (n + i) * inStride
      ...get(IN), ...get(N), ...get(IN_STRIDE), MUL, ADD, ...set(base(0)),
    ];
    for (let i = 1; i < R; i++) rowsBody.push(...get(base(i - 1)), ...get(IN_STRIDE), ADD, ...set(base(i)));
    for (let i = 0; i < R; i++)
      for (let j = 0; j < chunksHere; j++) rowsBody.push(...v128f32([0, 0, 0, 0]), ...set(acc(i, j)));
    rowsBody.push(
      ...get(PACK), ...set(WP),
      ...i32c(0), ...set(K),
      ...whileLess(K, get(N_FULL), i32c(1), [
        ...get(META), ...get(K), ...i32c(4), MUL, ADD, ...i32load(0), ...set(OFF),
        ...pointAt(get(OFF)),
        ...blockProduct(k, j0, chunksHere),
      ]),
    );
    if (kEdge > 0)
      rowsBody.push(
        ...get(EDGE), ...i32c(0), GE_S, ...IF,
        ...pointAt(get(EDGE)),
        ...blockProduct(kEdge, j0, chunksHere),
        END,
      );
    // Store: out + (n + i) * outStride
    for (let i = 0; i < R; i++) {
      const address = [...get(OUT), ...get(N), ...i32c(i), ADD, ...get(OUT_STRIDE), MUL, ADD];
      for (let j = 0; j < chunksHere; j++)
        rowsBody.push(...storeLanes(address, 16 * (j0 + j), acc(i, j), j0 + j === chunks - 1 ? lastLanes : 4));
    }
    body.push(...i32c(0), ...set(N), ...whileLess(N, get(N_ROWS), i32c(R), rowsBody));
  }
  return {
    name: fn,
    params: Array.from({ length: 9 }, () => I32),
    locals: [[5 + 2 * R, I32], [R * tile + R + 1, V128]],
    body,
  };
}

/** Shape of a `wg` kernel: the block's rows and columns, and its register blocking. */
interface GradShape {
  blockRows: number;
  width: number;
  /** Block rows per pass over the batch. */
  rows: number;
  /** Vectors of columns per pass. */
  tile: number;
}

/**
 * `wg(x, xStride, dy, dyStride, w, dw, wStride, nRows, ds, scale)` for one kept block (pointers at
 * its corner): `G = x[:, block rows]ᵀ · dy[:, block cols]` over `nRows` batch rows, then
 * `dw = scale · G` and `*ds = Σ w ⊙ G`. Each pass over the batch fills `rows x tile` vectors of `G`.
 */
// prettier-ignore
function gradFunction(fn: string, shape: GradShape): WasmFunction {
  const { blockRows, width, rows: R } = shape;
  const chunks = chunksOf(width);
  const tile = Math.min(shape.tile, chunks);
  const lastLanes = width - 4 * (chunks - 1);
  const [X, X_STRIDE, DY, DY_STRIDE, WPTR, DW, W_STRIDE, N_ROWS, DS, SCALE] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [N, XA, YA, ROW] = [10, 11, 12, 13];
  const v128Base = 14;
  const acc = (i: number, j: number) => v128Base + i * tile + j;
  const y = (j: number) => v128Base + R * tile + j;
  const S = v128Base + R * tile + tile;
  const DSV = S + 1;
  const SCALEV = S + 2;
  const T = S + 3;
  const body: number[] = [...v128f32([0, 0, 0, 0]), ...set(DSV), ...get(SCALE), ...F32X4_SPLAT, ...set(SCALEV)];
  for (let j0 = 0; j0 < chunks; j0 += tile) {
    const chunksHere = Math.min(tile, chunks - j0);
    const lanesOf = (j: number) => (j0 + j === chunks - 1 ? lastLanes : 4);
    for (let g0 = 0; g0 < blockRows; g0 += R) {
      const rowsHere = Math.min(R, blockRows - g0);
      for (let i = 0; i < rowsHere; i++)
        for (let j = 0; j < chunksHere; j++) body.push(...v128f32([0, 0, 0, 0]), ...set(acc(i, j)));
      const inner: number[] = [];
      for (let j = 0; j < chunksHere; j++) inner.push(...loadLanes(get(YA), 16 * (j0 + j), lanesOf(j)), ...set(y(j)));
      for (let i = 0; i < rowsHere; i++) {
        inner.push(...get(XA), ...v128load32splat(4 * (g0 + i)), ...set(S));
        for (let j = 0; j < chunksHere; j++)
          inner.push(...get(acc(i, j)), ...get(S), ...get(y(j)), ...F32X4_MUL, ...F32X4_ADD, ...set(acc(i, j)));
      }
      inner.push(
        ...get(XA), ...get(X_STRIDE), ADD, ...set(XA),
        ...get(YA), ...get(DY_STRIDE), ADD, ...set(YA),
      );
      body.push(
        ...i32c(0), ...set(N), ...get(X), ...set(XA), ...get(DY), ...set(YA),
        ...whileLess(N, get(N_ROWS), i32c(1), inner),
      );
      for (let i = 0; i < rowsHere; i++) {
        // ROW = (g0 + i) * wStride: the same offset into w and dw.
        body.push(...i32c(g0 + i), ...get(W_STRIDE), MUL, ...set(ROW));
        for (let j = 0; j < chunksHere; j++) {
          const offset = 16 * (j0 + j);
          body.push(
            ...loadLanes([...get(WPTR), ...get(ROW), ADD], offset, lanesOf(j)), ...get(acc(i, j)), ...F32X4_MUL,
            ...get(DSV), ...F32X4_ADD, ...set(DSV),
            ...get(acc(i, j)), ...get(SCALEV), ...F32X4_MUL, ...set(T),
            ...storeLanes([...get(DW), ...get(ROW), ADD], offset, T, lanesOf(j)),
          );
        }
      }
    }
  }
  body.push(
    ...get(DS),
    ...get(DSV), ...f32x4extract(0), ...get(DSV), ...f32x4extract(1), F32_ADD,
    ...get(DSV), ...f32x4extract(2), ...get(DSV), ...f32x4extract(3), F32_ADD, F32_ADD,
    ...f32store(0),
  );
  return {
    name: fn,
    params: [...Array.from({ length: 9 }, () => I32), F32],
    locals: [[4, I32], [R * tile + tile + 4, V128]],
    body,
  };
}

// ------------------------------------------------------------------------------------------------
// Compiled kernels, per memory

type ColKernel = (...args: number[]) => void;
type GradKernel = (...args: number[]) => void;

/** Register blocking of the kernels (exported for bench/blockSparseTrain.bench.ts to compare). */
export const tuning = {
  /**
   * `col`: output vectors per pass, and batch rows per pass for a tile: eight accumulators were
   * the fastest (bench on an AVX-512 EPYC: 4x2 and 2x4 at 25-29 GFLOP/s, 4x3, 3x3 and 2x6 at 18-21).
   */
  colTile: 4,
  colRows: (tile: number) => (tile >= 2 ? Math.floor(8 / tile) : 6),
  /** `wg`: vectors of columns per pass, and block rows per pass for a tile (2x4 was the fastest, 21-26 GFLOP/s). */
  gradTile: 2,
  gradRows: (tile: number) => (tile >= 2 ? Math.floor(8 / tile) : 4),
};

const modules = new Map<string, object>();
const instances = new WeakMap<WasmMemory, Map<string, Record<string, unknown>>>();

function kernels(memory: WasmMemory, key: string, build: () => WasmFunction[]): Record<string, unknown> {
  let perMemory = instances.get(memory);
  if (!perMemory) instances.set(memory, (perMemory = new Map<string, Record<string, unknown>>()));
  let exports = perMemory.get(key);
  if (!exports) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const moduleKey = `${key}/${shared}`;
    let module = modules.get(moduleKey);
    if (!module) {
      module = new Wasm.Module(moduleBytes(build(), { shared }));
      modules.set(moduleKey, module);
    }
    exports = new Wasm.Instance(module, { env: { mem: memory } }).exports;
    perMemory.set(key, exports);
  }
  return exports;
}

/** `col` kernels for `shape.rows` rows at a time and for one row (the batch's remainder). */
function colKernels(memory: WasmMemory, shape: ColShape): { many: ColKernel; one: ColKernel } {
  const key = `col/${shape.k}/${shape.kEdge}/${shape.width}/${shape.rows}/${shape.tile}`;
  const exports = kernels(memory, key, () => [colFunction('many', shape), colFunction('one', { ...shape, rows: 1 })]);
  return { many: exports['many'] as ColKernel, one: exports['one'] as ColKernel };
}

function gradKernel(memory: WasmMemory, shape: GradShape): GradKernel {
  const key = `wg/${shape.blockRows}/${shape.width}/${shape.rows}/${shape.tile}`;
  return kernels(memory, key, () => [gradFunction('wg', shape)])['wg'] as GradKernel;
}

// ------------------------------------------------------------------------------------------------
// Layouts

/** One direction of a layout: output groups (block columns, or block rows for `dx`) and their kept blocks. */
interface Direction {
  /** Per group: its width, the input offsets (in floats) of its full kept blocks, and of its edge block (-1: none). */
  groups: { start: number; width: number; full: number[]; fullBlocks: number[]; edge: number; edgeBlock: number }[];
  /** Input rows per full block and per edge block (0: no edge). */
  k: number;
  kEdge: number;
}

/** Which blocks of a `[rows, cols]` kernel are kept, arranged for the kernels. */
export interface BlockSparseLayout {
  rows: number;
  cols: number;
  blockRows: number;
  blockCols: number;
  gridRows: number;
  gridCols: number;
  /** Row-major grid indices of the kept blocks. */
  kept: number[];
  forward: Direction;
  transposed: Direction;
}

export function blockSparseLayout(grid: BlockGrid, mask: Uint8Array): BlockSparseLayout {
  const { rows, cols, blockRows: br, blockCols: bc, gridRows: R, gridCols: C } = grid;
  const kept = [...mask.keys()].filter((b) => mask[b] === 1);
  const edgeRow = rows % br === 0 ? -1 : R - 1;
  const edgeCol = cols % bc === 0 ? -1 : C - 1;
  const direction = (
    groups: number,
    members: number,
    blockOf: (group: number, member: number) => number,
    groupSize: number,
    memberSize: number,
    groupLimit: number,
    memberLimit: number,
    edgeMember: number,
  ): Direction => ({
    k: memberSize,
    kEdge: edgeMember >= 0 ? memberLimit - edgeMember * memberSize : 0,
    groups: Array.from({ length: groups }, (_, g) => {
      const start = g * groupSize;
      const group = {
        start,
        width: Math.min(groupSize, groupLimit - start),
        full: [] as number[],
        fullBlocks: [] as number[],
        edge: -1,
        edgeBlock: -1,
      };
      for (let m = 0; m < members; m++) {
        const b = blockOf(g, m);
        if (mask[b] !== 1) continue;
        if (m === edgeMember) {
          group.edge = m * memberSize;
          group.edgeBlock = b;
        } else {
          group.full.push(m * memberSize);
          group.fullBlocks.push(b);
        }
      }
      return group;
    }),
  });
  return {
    rows,
    cols,
    blockRows: br,
    blockCols: bc,
    gridRows: R,
    gridCols: C,
    kept,
    forward: direction(C, R, (c, r) => r * C + c, bc, br, cols, rows, edgeRow),
    transposed: direction(R, C, (r, c) => r * C + c, br, bc, rows, cols, edgeCol),
  };
}

// ------------------------------------------------------------------------------------------------
// The tfjs kernels

interface WasmModuleLike {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  asm?: { memory?: WasmMemory };
  wasmMemory?: WasmMemory;
}

interface WasmBackendLike extends tf.KernelBackend {
  wasm: WasmModuleLike;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

type KernelArgs = {
  inputs: Record<string, tf.TensorInfo>;
  backend: WasmBackendLike;
  attrs: { layout: BlockSparseLayout };
};

const FORWARD = 'SparsityStudioBlockSparseMatMul';
const GRAD_INPUT = 'SparsityStudioBlockSparseMatMulGradInput';
const GRAD_WEIGHTS = 'SparsityStudioBlockSparseMatMulGradWeights';

function memoryOf(backend: WasmBackendLike): WasmMemory {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  if (!memory) throw new Error('the wasm backend does not expose its memory');
  return memory;
}

const pointer = (backend: WasmBackendLike, t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;

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
  let floats = 0;
  let ints = 0;
  for (const g of direction.groups) {
    const padded = 4 * chunksOf(g.width);
    floats += (g.full.length * direction.k + (g.edge >= 0 ? direction.kEdge : 0)) * padded;
    ints += g.full.length;
  }
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
    const inPtr = pointer(backend, input);
    const outPtr = pointer(backend, out);
    direction.groups.forEach((g, i) => {
      const tile = Math.min(tuning.colTile, chunksOf(g.width));
      const rows = tuning.colRows(tile);
      const { many, one } = colKernels(memory, { k: direction.k, kEdge: direction.kEdge, width: g.width, rows, tile });
      const whole = n - (n % rows);
      const args = (from: number, count: number) =>
        [
          inPtr + from * inCols * 4,
          inCols * 4,
          outPtr + (from * outCols + g.start) * 4,
          outCols * 4,
          packs[i]!,
          metas[i]!,
          g.full.length,
          g.edge >= 0 ? 4 * g.edge : -1,
          count,
        ] as const;
      if (whole > 0) many(...args(0, whole));
      for (let r = whole; r < n; r++) one(...args(r, 1));
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
 * Whether a layer with this kept fraction of its blocks trains faster block-sparse than dense.
 * The break-even was measured with bench/blockSparseTrain.bench.ts (784-512-512-10, batch 128):
 * see docs there; below it the packing and per-block overheads lose to XNNPACK's dense GEMM.
 */
export function blockSparseWorthIt(keptFraction: number, grid: Pick<BlockGrid, 'blockRows' | 'blockCols'>): boolean {
  const breakEven = grid.blockRows * grid.blockCols >= 64 ? BREAK_EVEN_DENSITY : BREAK_EVEN_DENSITY_SMALL_BLOCKS;
  return keptFraction <= breakEven;
}

/** Kept fraction of blocks below which block-sparse training wins, for blocks of 64 entries or more. */
export const BREAK_EVEN_DENSITY = 0.5;
/** The same for smaller blocks (less work per block for the same overhead). */
export const BREAK_EVEN_DENSITY_SMALL_BLOCKS = 0.25;
