/**
 * Block-sparse matrix products as WebAssembly SIMD kernels generated here (wasmAssembler.ts) for
 * each block shape, used for training (wasmBlockSparseTrain.ts, in tfjs-backend-wasm's heap) and
 * for inference of the exported format (wasmBlockSparseMatmul.ts, in a memory of its own).
 *
 * - `col`: one column of output blocks, `R` batch rows at a time: `out[n, :] = Σ in[n, rows_b] · P_b`
 *   over the column's kept blocks `P_b`, packed contiguously first. The accumulators stay in
 *   registers over every block of the column (eight of them: `tile` vectors of 4 columns times `R`
 *   rows); optionally they start from `out` (a bias) and get a ReLU when stored.
 *   `dx = dy · (W ⊙ S)ᵀ` is the same kernel over packed transposed blocks.
 * - `wg`: one kept block's `G = xᵀ · dy` over the batch; stores `dW = s·G` and `ds = Σ W ⊙ G`.
 * Edge blocks (a side that the block does not divide) get their own variants, and the last 1-3
 * columns of a width that is not a multiple of 4 are loaded and stored lane by lane: no kernel
 * reads or writes outside its operands.
 */
import {
  ADD,
  LOOP,
  END,
  F32X4_ADD,
  F32X4_MAX,
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
  instantiate,
  brIf,
  f32load,
  f32store,
  f32x4extract,
  f32x4replace,
  get,
  i32c,
  i32load,
  set,
  v128f32,
  v128load,
  v128load32splat,
  v128store,
  v128store32lane,
  whileLess,
  type WasmFunction,
  type WasmMemory,
} from './wasmAssembler';
import type { BlockGrid } from '../experiment/pruningPlan';

// ------------------------------------------------------------------------------------------------
// Code generation

/** Shape of a `col` kernel: `k` input rows per block (`kEdge` for the edge block, 0: none), output width. */
export interface ColShape {
  k: number;
  kEdge: number;
  width: number;
  rows: number;
  /** Output vectors (4 columns each) per pass: wide blocks are done in several passes over the batch. */
  tile: number;
  /** Start from the values in `out` (a bias) instead of zero. */
  accumulate?: boolean;
  /** `max(0, ·)` as the results are stored. */
  relu?: boolean;
}

export const chunksOf = (width: number) => Math.ceil(width / 4);

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
    const outRow = (i: number) => [...get(OUT), ...get(N), ...i32c(i), ADD, ...get(OUT_STRIDE), MUL, ADD];
    const lanesOf = (j: number) => (j0 + j === chunks - 1 ? lastLanes : 4);
    for (let i = 0; i < R; i++)
      for (let j = 0; j < chunksHere; j++)
        rowsBody.push(
          ...(shape.accumulate ? loadLanes(outRow(i), 16 * (j0 + j), lanesOf(j)) : v128f32([0, 0, 0, 0])),
          ...set(acc(i, j)),
        );
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
    for (let i = 0; i < R; i++)
      for (let j = 0; j < chunksHere; j++) {
        if (shape.relu)
          rowsBody.push(...get(acc(i, j)), ...v128f32([0, 0, 0, 0]), ...F32X4_MAX, ...set(acc(i, j)));
        rowsBody.push(...storeLanes(outRow(i), 16 * (j0 + j), acc(i, j), lanesOf(j)));
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
export interface GradShape {
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

export type ColKernel = (...args: number[]) => void;
export type GradKernel = (...args: number[]) => void;

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

/** `col` kernels for `shape.rows` rows at a time and for one row (the batch's remainder). */
export function colKernels(memory: WasmMemory, shape: ColShape): { many: ColKernel; one: ColKernel } {
  const key = `col/${shape.k}/${shape.kEdge}/${shape.width}/${shape.rows}/${shape.tile}/${shape.accumulate}/${shape.relu}`;
  const exports = instantiate(memory, key, () => [
    colFunction('many', shape),
    colFunction('one', { ...shape, rows: 1 }),
  ]);
  return { many: exports['many'] as ColKernel, one: exports['one'] as ColKernel };
}

export function gradKernel(memory: WasmMemory, shape: GradShape): GradKernel {
  const key = `wg/${shape.blockRows}/${shape.width}/${shape.rows}/${shape.tile}`;
  return instantiate(memory, key, () => [gradFunction('wg', shape)])['wg'] as GradKernel;
}

// ------------------------------------------------------------------------------------------------
// Layouts

/** One direction of a layout: output groups (block columns, or block rows for `dx`) and their kept blocks. */
export interface Direction {
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

/**
 * Runs the `col` kernels of every group of a direction over `n` rows: `in` and `out` are byte
 * pointers with row strides `inCols` and `outCols` floats; `packs` and `metas` are each group's
 * packed blocks and full-block offsets (bytes), as the caller packed them.
 */
export function runDirection(
  memory: WasmMemory,
  direction: Direction,
  packs: number[],
  metas: number[],
  io: { in: number; inCols: number; out: number; outCols: number; n: number },
  options: Pick<ColShape, 'accumulate' | 'relu'> = {},
): void {
  const { n, inCols, outCols } = io;
  direction.groups.forEach((g, i) => {
    const tile = Math.min(tuning.colTile, chunksOf(g.width));
    const rows = tuning.colRows(tile);
    const shape = { k: direction.k, kEdge: direction.kEdge, width: g.width, rows, tile, ...options };
    const { many, one } = colKernels(memory, shape);
    const whole = n - (n % rows);
    const args = (from: number, count: number) =>
      [
        io.in + from * inCols * 4,
        inCols * 4,
        io.out + (from * outCols + g.start) * 4,
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
}

/** Floats of packed blocks and ints of meta a direction needs. */
export function packSize(direction: Direction): { floats: number; ints: number } {
  let floats = 0;
  let ints = 0;
  for (const g of direction.groups) {
    floats += (g.full.length * direction.k + (g.edge >= 0 ? direction.kEdge : 0)) * 4 * chunksOf(g.width);
    ints += g.full.length;
  }
  return { floats, ints };
}
