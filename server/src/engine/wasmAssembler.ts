/**
 * A tiny WebAssembly assembler: just the opcodes our hand-written SIMD kernels use
 * (wasmBlockSparseMatmul.ts for inference, wasmBlockSparseTrain.ts for training), emitted as
 * byte arrays. No toolchain and no dependency: each kernel is generated for its block shape, so
 * loops over a block are fully unrolled and every memory offset is a constant.
 */

/** The part of the WebAssembly JS API used here (the server's tsconfig has no DOM lib). */
export interface WasmMemory {
  buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};
export const Wasm = WebAssembly;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
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
export function sleb(n: number): number[] {
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

export const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
export const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
export const name = (s: string) => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

// Value types.
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

// Locals and constants.
export const get = (i: number) => [0x20, ...uleb(i)];
export const set = (i: number) => [0x21, ...uleb(i)];
export const tee = (i: number) => [0x22, ...uleb(i)];
export const i32c = (n: number) => [0x41, ...sleb(n)];
export const f32c = (x: number) => [0x43, ...new Uint8Array(Float32Array.of(x).buffer)];

// i32 arithmetic and comparisons.
export const ADD = 0x6a;
export const SUB = 0x6b;
export const MUL = 0x6c;
export const DIV_U = 0x6e;
/** `select`: the stack holds a, b, condition; leaves a when the condition is non-zero. */
export const SELECT = 0x1b;
export const EQZ = 0x45;
export const LT_S = 0x48;
export const LT_U = 0x49;
export const GE_S = 0x4e;
export const GE_U = 0x4f;
export const F32_ADD = 0x92;
export const F32_MUL = 0x94;

// Memory (alignment hints are only hints: every access below is allowed unaligned).
export const i32load = (offset: number) => [0x28, 2, ...uleb(offset)];
export const f32load = (offset: number) => [0x2a, 2, ...uleb(offset)];
export const f32store = (offset: number) => [0x38, 2, ...uleb(offset)];
export const simd = (op: number) => [0xfd, ...uleb(op)];
export const v128load = (offset = 0) => [...simd(0), 4, ...uleb(offset)];
export const v128load32splat = (offset = 0) => [...simd(9), 2, ...uleb(offset)];
export const v128store = (offset = 0) => [...simd(11), 4, ...uleb(offset)];
/** `v128.store32_lane`: stores one f32 lane (the stack holds address, vector). */
export const v128store32lane = (offset: number, lane: number) => [...simd(0x5a), 2, ...uleb(offset), lane];
/** `f32x4.replace_lane`: the stack holds vector, f32. */
export const f32x4replace = (lane: number) => [...simd(32), lane];
export const f32x4extract = (lane: number) => [...simd(31), lane];
export const V128_AND = simd(78);
export const F32X4_SPLAT = simd(19);
export const F32X4_ADD = simd(228);
export const F32X4_MUL = simd(230);
export const F32X4_MAX = simd(233);
export const F32X4_DIV = simd(231);
export const F32X4_SQRT = simd(227);
/** `v128.const` of four f32 lanes, or of four raw i32 lanes. */
export const v128f32 = (lanes: number[]) => [...simd(12), ...new Uint8Array(Float32Array.from(lanes).buffer)];
export const v128i32 = (lanes: number[]) => [...simd(12), ...new Uint8Array(Int32Array.from(lanes).buffer)];

// Control.
export const BLOCK = [0x02, 0x40];
export const LOOP = [0x03, 0x40];
export const IF = [0x04, 0x40];
export const END = 0x0b;
export const br = (depth: number) => [0x0c, ...uleb(depth)];
export const brIf = (depth: number) => [0x0d, ...uleb(depth)];

/** `for (; i < limit; i += step) body` with the test at the top; `i` must be set before. */
export function whileLess(i: number, limit: number[], step: number[], body: number[]): number[] {
  return [
    ...BLOCK,
    ...LOOP,
    ...get(i),
    ...limit,
    GE_S,
    ...brIf(1),
    ...body,
    ...get(i),
    ...step,
    ADD,
    ...set(i),
    ...br(0),
    END,
    END,
  ];
}

/** One function of a module: its parameter types, local types (in groups) and body (without the final `end`). */
export interface WasmFunction {
  name: string;
  params: number[];
  locals: [count: number, type: number][];
  body: number[];
}

/**
 * A module of `functions` that imports its memory as `env.mem`: `shared` memories (the threaded
 * tfjs build's) must be imported as shared with a maximum.
 */
export function moduleBytes(functions: WasmFunction[], memory: { shared: boolean } = { shared: false }): Uint8Array {
  const signatures: string[] = [];
  const typeOf = functions.map((f) => {
    const key = f.params.join(',');
    let index = signatures.indexOf(key);
    if (index < 0) index = signatures.push(key) - 1;
    return index;
  });
  const types = section(
    1,
    vec(signatures.map((key) => [0x60, ...vec(key === '' ? [] : key.split(',').map((t) => [Number(t)])), 0])),
  );
  const limits = memory.shared ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)];
  const imports = section(2, vec([[...name('env'), ...name('mem'), 0x02, ...limits]]));
  const functionSection = section(3, vec(typeOf.map((t) => uleb(t))));
  const exportSection = section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])));
  const code = section(
    10,
    vec(
      functions.map((f) => {
        const body = [...vec(f.locals.map(([count, type]) => [...uleb(count), type])), ...f.body, END];
        return [...uleb(body.length), ...body];
      }),
    ),
  );
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  return Uint8Array.from([...header, ...types, ...imports, ...functionSection, ...exportSection, ...code]);
}

/** Whether this runtime has WebAssembly SIMD (Node 16.4+ and current browsers do). */
export function wasmSimdAvailable(): boolean {
  try {
    return Wasm.validate(
      moduleBytes([
        {
          name: 'probe',
          params: [],
          locals: [[1, V128]],
          body: [...get(0), ...get(0), ...F32X4_ADD, ...set(0)],
        },
      ]),
    );
  } catch {
    return false;
  }
}

export const align16 = (n: number) => Math.ceil(n / 16) * 16;

const modules = new Map<string, object>();
const instances = new WeakMap<WasmMemory, Map<string, Record<string, unknown>>>();

/**
 * The exports of the module `build()` makes, instantiated on `memory`: compiled once per process
 * and key (and sharedness of the memory), instantiated once per memory.
 */
export function instantiate(memory: WasmMemory, key: string, build: () => WasmFunction[]): Record<string, unknown> {
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
