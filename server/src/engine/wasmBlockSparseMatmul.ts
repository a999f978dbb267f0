/**
 * Block-sparse matmul for inference as a small WebAssembly SIMD kernel, assembled here byte by
 * byte (no toolchain, no new dependency). For each kept block and each input row it adds
 * `x[n, r0 : r0 + br] · W_block` into `out[n, c0 : c0 + bc]` with f32x4 multiply-adds, four
 * output columns at a time. The JS loop in export.ts is the reference it is tested against; this
 * is what makes the stored blocks faster than a dense XNNPACK matmul at high sparsity.
 *
 * Operands live in the kernel's own memory: inputs padded to whole blocks (so edge blocks, stored
 * zero-padded, need no special case) and one `out` row per input row.
 */

/** The part of the WebAssembly JS API used here (the server's tsconfig has no DOM lib). */
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer; grow(pages: number): number };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

// Opcodes used below.
const I32 = 0x7f;
const V128 = 0x7b;
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32c = (n: number) => [0x41, ...sleb(n)];
const ADD = 0x6a;
const MUL = 0x6c;
const LT_U = 0x49;
const GE_U = 0x4f;
const i32load = (offset: number) => [0x28, 2, ...uleb(offset)];
const f32load = (offset: number) => [0x2a, 2, ...uleb(offset)];
const simd = (op: number) => [0xfd, ...uleb(op)];
const v128load = (offset = 0) => [...simd(0), 0, ...uleb(offset)];
const v128store = (offset = 0) => [...simd(11), 0, ...uleb(offset)];
const F32X4_SPLAT = simd(19);
const F32X4_ADD = simd(228);
const F32X4_MUL = simd(230);
const F32X4_MAX = simd(233);
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const END = 0x0b;
const br = (depth: number) => [0x0c, ...uleb(depth)];
const brIf = (depth: number) => [0x0d, ...uleb(depth)];

// Parameters of `bsmm`, then its locals: i32 ones, then v128 ones (the splat input and one
// accumulator per four output columns).
const [X, X_STRIDE, OUT, OUT_STRIDE, BLOCKS, META, N_KEPT, BATCH] = [0, 1, 2, 3, 4, 5, 6, 7];
const [K, W_BLOCK, N, X_ROW, O_ROW] = [8, 9, 10, 11, 12];
const XV = 13;
const acc = (j: number) => 14 + j;

/**
 * The kernel for one block shape, fully unrolled over the block (`blockRows` input columns x
 * `chunks` groups of four output columns): every load and store uses a constant memarg offset, and
 * each input value is splat once and reused for all of the block's output columns.
 */
// prettier-ignore
function kernelBody(blockRows: number, chunks: number): number[] {
  const perRow: number[] = [];
  for (let r = 0; r < blockRows; r++) {
    perRow.push(...get(X_ROW), ...f32load(4 * r), ...F32X4_SPLAT, ...set(XV));
    for (let j = 0; j < chunks; j++)
      perRow.push(
        ...get(acc(j)), ...get(XV), ...get(W_BLOCK), ...v128load(16 * (r * chunks + j)),
        ...F32X4_MUL, ...F32X4_ADD, ...set(acc(j)),
      );
  }
  const loads: number[] = [];
  const stores: number[] = [];
  for (let j = 0; j < chunks; j++) {
    loads.push(...get(O_ROW), ...v128load(16 * j), ...set(acc(j)));
    stores.push(...get(O_ROW), ...get(acc(j)), ...v128store(16 * j));
  }
  return [
    ...get(BLOCKS), ...set(W_BLOCK),
    ...i32c(0), ...set(K),
    ...BLOCK, ...LOOP,
    ...get(K), ...get(N_KEPT), GE_U, ...brIf(1),
    ...i32c(0), ...set(N),
    ...LOOP,
    // xRow = x + n * xStride + meta[k].xOffset; oRow = out + n * outStride + meta[k].outOffset
    ...get(X), ...get(N), ...get(X_STRIDE), MUL, ADD,
    ...get(META), ...get(K), ...i32c(8), MUL, ADD, ...i32load(0), ADD, ...set(X_ROW),
    ...get(OUT), ...get(N), ...get(OUT_STRIDE), MUL, ADD,
    ...get(META), ...get(K), ...i32c(8), MUL, ADD, ...i32load(4), ADD, ...set(O_ROW),
    ...loads, ...perRow, ...stores,
    ...get(N), ...i32c(1), ADD, ...set(N),
    ...get(N), ...get(BATCH), LT_U, ...brIf(0),
    END,
    ...get(K), ...i32c(1), ADD, ...set(K),
    ...get(W_BLOCK), ...i32c(blockRows * chunks * 16), ADD, ...set(W_BLOCK),
    ...br(0),
    END, END,
    END,
  ];
}

/** `relu(ptr, bytes)`: max(x, 0) in place over a multiple of 16 bytes, four lanes at a time. */
// prettier-ignore
function reluBody(): number[] {
  const [PTR, END_PTR] = [0, 1];
  return [
    ...get(PTR), ...get(END_PTR), ADD, ...set(END_PTR),
    ...BLOCK, ...LOOP,
    ...get(PTR), ...get(END_PTR), GE_U, ...brIf(1),
    ...get(PTR), ...get(PTR), ...v128load(), 0x43, 0, 0, 0, 0, ...F32X4_SPLAT, ...F32X4_MAX, ...v128store(),
    ...get(PTR), ...i32c(16), ADD, ...set(PTR),
    ...br(0),
    END, END,
    END,
  ];
}

// prettier-ignore
function moduleBytes(blockRows: number, chunks: number): Uint8Array {
  const type = section(1, vec([
    [0x60, ...vec(Array.from({ length: 8 }, () => [I32])), 0],
    [0x60, ...vec([[I32], [I32]]), 0],
  ]));
  const imports = section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, 1]]));
  const functions = section(3, vec([[0], [1]]));
  const exports = section(7, vec([[...name('bsmm'), 0x00, 0], [...name('relu'), 0x00, 1]]));
  const kernel = [...vec([[...uleb(5), I32], [...uleb(1 + chunks), V128]]), ...kernelBody(blockRows, chunks)];
  const relu = [...vec([]), ...reluBody()];
  const code = section(10, vec([[...uleb(kernel.length), ...kernel], [...uleb(relu.length), ...relu]]));
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  return Uint8Array.from([...header, ...type, ...imports, ...functions, ...exports, ...code]);
}

type Bsmm = (...args: number[]) => void;
type Relu = (pointer: number, bytes: number) => void;

/** A layout as the block-sparse format stores it (blocks padded to full size, row-major grid indices). */
export interface BlockSparseLayout {
  rows: number;
  cols: number;
  blockRows: number;
  blockCols: number;
  gridCols: number;
  kept: number[];
}

/** Whether this runtime has WebAssembly SIMD (Node 16.4+ and current browsers do). */
export function wasmSimdAvailable(): boolean {
  try {
    return WebAssembly.validate(moduleBytes(1, 1));
  } catch {
    return false;
  }
}

const compiled = new Map<string, object>();
/** The kernel for a block shape, compiled once per process. */
function compiledKernel(blockRows: number, chunks: number): object {
  const key = `${blockRows}x${chunks}`;
  let module = compiled.get(key);
  if (!module) {
    module = new WebAssembly.Module(moduleBytes(blockRows, chunks));
    compiled.set(key, module);
  }
  return module;
}

/** One layer of a network: its kept blocks (padded to full size), bias and layout. */
export interface BlockSparseNetworkLayer extends BlockSparseLayout {
  blocks: Float32Array;
  bias: Float32Array;
}

interface PlacedLayer {
  layer: BlockSparseNetworkLayer;
  bsmm: Bsmm;
  relu: Relu;
  blocksOffset: number;
  metaOffset: number;
  /** Row stride of the layer's input and output in the kernel's memory, in floats (whole blocks). */
  inStride: number;
  outStride: number;
  /** The bias padded to `outStride`. */
  paddedBias: Float32Array;
}

/**
 * A stack of block-sparse layers in one WebAssembly memory: the kept blocks are copied in once,
 * activations stay in two ping-pong buffers between layers, and only the input and the final
 * output cross to JavaScript. The caller applies each layer's activation in place.
 */
export class WasmBlockSparseNetwork {
  private readonly memory = new WebAssembly.Memory({ initial: 1 });
  private readonly layers: PlacedLayer[];
  private readonly dataOffset: number;
  private readonly maxStride: number;

  /** Whether the kernel can run these layers (SIMD present; block widths a multiple of 4, at most 64x64). */
  static supports(layers: BlockSparseLayout[]): boolean {
    return (
      wasmSimdAvailable() &&
      layers.every((l) => l.blockCols % 4 === 0 && l.blockCols <= 64 && l.blockRows <= 64 && l.blockRows > 0)
    );
  }

  constructor(layers: BlockSparseNetworkLayer[]) {
    if (!WasmBlockSparseNetwork.supports(layers))
      throw new Error(
        'the SIMD kernel needs WebAssembly SIMD, block widths a multiple of 4 and blocks of at most 64x64',
      );
    let offset = 0;
    const placed = layers.map((layer) => {
      const blocksOffset = offset;
      const metaOffset = align16(blocksOffset + layer.blocks.byteLength);
      offset = align16(metaOffset + layer.kept.length * 8);
      return { layer, blocksOffset, metaOffset };
    });
    this.dataOffset = offset;
    this.ensure(offset);
    this.layers = placed.map(({ layer, blocksOffset, metaOffset }) => {
      const { blockRows: br, blockCols: bc, gridCols, kept } = layer;
      new Float32Array(this.memory.buffer, blocksOffset, layer.blocks.length).set(layer.blocks);
      const meta = new Int32Array(this.memory.buffer, metaOffset, kept.length * 2);
      kept.forEach((b, k) => {
        meta[2 * k] = Math.floor(b / gridCols) * br * 4;
        meta[2 * k + 1] = (b % gridCols) * bc * 4;
      });
      const outStride = gridCols * bc;
      const paddedBias = new Float32Array(outStride);
      paddedBias.set(layer.bias.subarray(0, layer.cols));
      const instance = new WebAssembly.Instance(compiledKernel(br, bc / 4), { env: { mem: this.memory } });
      return {
        layer,
        bsmm: instance.exports['bsmm'] as Bsmm,
        relu: instance.exports['relu'] as Relu,
        blocksOffset,
        metaOffset,
        inStride: Math.ceil(layer.rows / br) * br,
        outStride,
        paddedBias,
      };
    });
    this.maxStride = Math.max(...this.layers.flatMap((l) => [l.inStride, l.outStride]));
  }

  /**
   * The network's output for `batch` rows of `x` (`batch x rows` of the first layer). Each layer's
   * output gets `activations[i]` in place: `relu` in wasm, `linear` nothing, anything else a JS
   * function over the `batch` rows of padded width (padding columns multiply zero weights downstream).
   */
  forward(
    x: Float32Array,
    batch: number,
    activations: ('relu' | 'linear' | ((values: Float32Array) => void))[],
  ): Float32Array {
    const bufferFloats = batch * this.maxStride;
    const offsets = [this.dataOffset, this.dataOffset + align16(bufferFloats * 4)] as const;
    this.ensure(offsets[1] + bufferFloats * 4);
    const view = (which: 0 | 1, stride: number) => new Float32Array(this.memory.buffer, offsets[which], batch * stride);
    let current: 0 | 1 = 0;
    copyRows(x, this.layers[0]!.layer.rows, view(0, this.layers[0]!.inStride), this.layers[0]!.inStride, batch);
    this.layers.forEach((placed, i) => {
      const next: 0 | 1 = current === 0 ? 1 : 0;
      const { layer, outStride, inStride, paddedBias } = placed;
      const out = view(next, outStride);
      for (let n = 0; n < batch; n++) out.set(paddedBias, n * outStride);
      placed.bsmm(
        offsets[current],
        inStride * 4,
        offsets[next],
        outStride * 4,
        placed.blocksOffset,
        placed.metaOffset,
        layer.kept.length,
        batch,
      );
      const activation = activations[i] ?? 'linear';
      if (activation === 'relu') placed.relu(offsets[next], batch * outStride * 4);
      else if (activation !== 'linear') activation(out);
      const following = this.layers[i + 1];
      if (following && following.inStride !== outStride) {
        // Different block shapes: re-stride into the other buffer so the next layer reads whole blocks.
        copyRows(out, layer.cols, view(current, following.inStride), following.inStride, batch, outStride);
        return;
      }
      current = next;
    });
    const last = this.layers[this.layers.length - 1]!;
    const result = new Float32Array(batch * last.layer.cols);
    copyRows(view(current, last.outStride), last.layer.cols, result, last.layer.cols, batch, last.outStride);
    return result;
  }

  private ensure(bytes: number): void {
    const missing = bytes - this.memory.buffer.byteLength;
    if (missing > 0) this.memory.grow(Math.ceil(missing / 65536));
  }
}

/** Copies `batch` rows of `width` floats between strides, zeroing the destination's padding. */
function copyRows(
  from: Float32Array,
  width: number,
  to: Float32Array,
  toStride: number,
  batch: number,
  fromStride = width,
): void {
  if (fromStride === width && toStride === width) {
    to.set(from.subarray(0, batch * width));
    return;
  }
  for (let n = 0; n < batch; n++) {
    to.set(from.subarray(n * fromStride, n * fromStride + width), n * toStride);
    to.fill(0, n * toStride + width, (n + 1) * toStride);
  }
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;
