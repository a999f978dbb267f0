/**
 * Inference of the exported block-sparse format with the WebAssembly SIMD kernels of
 * wasmBlockSparseKernels.ts (the ones block-sparse training uses), in a memory of its own: the kept
 * blocks are packed once, column by column as the `col` kernel reads them, and every layer then
 * computes `max(0, bias + x · W)` (or without the ReLU) over its kept blocks only, eight f32x4
 * accumulators in registers across all the blocks of a column. The JS loop in export.ts is the
 * reference it is tested against.
 */
import { blockGrid } from '../experiment/pruningPlan';
import { Wasm, align16, wasmSimdAvailable, type WasmMemory } from './wasmAssembler';
import { blockSparseLayout, chunksOf, packSize, runDirection, type Direction } from './wasmBlockSparseKernels';

export { wasmSimdAvailable } from './wasmAssembler';

/** A layout as the block-sparse format stores it (blocks padded to full size, row-major grid indices). */
export interface BlockSparseLayout {
  rows: number;
  cols: number;
  blockRows: number;
  blockCols: number;
  gridCols: number;
  kept: number[];
}

/** One layer of a network: its kept blocks (padded to full size), bias and layout. */
export interface BlockSparseNetworkLayer extends BlockSparseLayout {
  blocks: Float32Array;
  bias: Float32Array;
}

interface PlacedLayer {
  layer: BlockSparseNetworkLayer;
  direction: Direction;
  /** Byte offsets of each column group's packed blocks and full-block offsets. */
  packs: number[];
  metas: number[];
}

/**
 * A stack of block-sparse layers in one WebAssembly memory: the kept blocks are packed in once,
 * activations stay in two ping-pong buffers between layers, and only the input and the final
 * output cross to JavaScript. The caller names each layer's activation.
 */
export class WasmBlockSparseNetwork {
  private readonly memory: WasmMemory = new Wasm.Memory({ initial: 1 });
  private readonly layers: PlacedLayer[];
  private readonly dataOffset: number;
  private readonly maxWidth: number;

  /** Whether the kernels can run here (WebAssembly SIMD; any block shape). */
  static supports(layers: BlockSparseLayout[]): boolean {
    return wasmSimdAvailable() && layers.every((l) => l.blockRows > 0 && l.blockCols > 0);
  }

  constructor(layers: BlockSparseNetworkLayer[]) {
    if (!WasmBlockSparseNetwork.supports(layers)) throw new Error('the block-sparse kernels need WebAssembly SIMD');
    const directions = layers.map((layer) => {
      const grid = blockGrid(layer.rows, layer.cols, [layer.blockRows, layer.blockCols]);
      const mask = new Uint8Array(grid.blocks);
      for (const b of layer.kept) mask[b] = 1;
      return blockSparseLayout(grid, mask).forward;
    });
    let offset = 0;
    const placements = directions.map((direction) => {
      const { floats, ints } = packSize(direction);
      const at = offset;
      offset = align16(offset + 4 * (floats + ints));
      return at;
    });
    this.dataOffset = offset;
    this.ensure(offset);
    this.layers = layers.map((layer, i) => this.place(layer, directions[i]!, placements[i]!));
    this.maxWidth = Math.max(...layers.flatMap((l) => [l.rows, l.cols]));
  }

  /** Packs a layer's kept blocks at `offset`: per column, its full blocks then its edge block. */
  private place(layer: BlockSparseNetworkLayer, direction: Direction, offset: number): PlacedLayer {
    const { blockRows: br, blockCols: bc } = layer;
    const index = new Map(layer.kept.map((b, k) => [b, k]));
    const heap = new Float32Array(this.memory.buffer);
    const ints = new Int32Array(this.memory.buffer);
    const { floats } = packSize(direction);
    let at = offset / 4;
    let metaAt = offset / 4 + floats;
    const packs: number[] = [];
    const metas: number[] = [];
    for (const g of direction.groups) {
      const padded = 4 * chunksOf(g.width);
      packs.push(at * 4);
      metas.push(metaAt * 4);
      const blocks = g.edge >= 0 ? [...g.fullBlocks, g.edgeBlock] : g.fullBlocks;
      blocks.forEach((b, m) => {
        const k = m < g.full.length ? direction.k : direction.kEdge;
        if (m < g.full.length) ints[metaAt++] = 4 * g.full[m]!;
        const stored = index.get(b)! * br * bc;
        heap.fill(0, at, at + k * padded);
        for (let r = 0; r < k; r++)
          heap.set(layer.blocks.subarray(stored + r * bc, stored + r * bc + g.width), at + r * padded);
        at += k * padded;
      });
    }
    return { layer, direction, packs, metas };
  }

  /**
   * The network's output for `batch` rows of `x` (`batch x rows` of the first layer). Each layer's
   * output gets `activations[i]`: `relu` as it is stored, `linear` nothing, anything else a JS
   * function over its `batch x cols` values.
   */
  forward(
    x: Float32Array,
    batch: number,
    activations: ('relu' | 'linear' | ((values: Float32Array) => void))[],
  ): Float32Array {
    const bufferBytes = align16(batch * this.maxWidth * 4);
    const offsets = [this.dataOffset, this.dataOffset + bufferBytes] as const;
    this.ensure(offsets[1] + bufferBytes);
    const view = (which: 0 | 1, width: number) => new Float32Array(this.memory.buffer, offsets[which], batch * width);
    view(0, this.layers[0]!.layer.rows).set(x.subarray(0, batch * this.layers[0]!.layer.rows));
    let current: 0 | 1 = 0;
    this.layers.forEach((placed, i) => {
      const next: 0 | 1 = current === 0 ? 1 : 0;
      const { layer } = placed;
      const out = view(next, layer.cols);
      for (let n = 0; n < batch; n++) out.set(layer.bias.subarray(0, layer.cols), n * layer.cols);
      const activation = activations[i] ?? 'linear';
      runDirection(
        this.memory,
        placed.direction,
        placed.packs,
        placed.metas,
        { in: offsets[current], inCols: layer.rows, out: offsets[next], outCols: layer.cols, n: batch },
        { accumulate: true, relu: activation === 'relu' },
      );
      if (typeof activation === 'function') activation(out);
      current = next;
    });
    return view(current, this.layers[this.layers.length - 1]!.layer.cols).slice();
  }

  private ensure(bytes: number): void {
    const missing = bytes - this.memory.buffer.byteLength;
    if (missing > 0) this.memory.grow(Math.ceil(missing / 65536));
  }
}
