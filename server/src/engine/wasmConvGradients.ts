/**
 * Gradient kernels tfjs-backend-wasm 4.22 lacks or runs as scalar loops, so that tfjs-layers models
 * (Conv2D, Conv1D, SeparableConv2D, DepthwiseConv2D, BatchNormalization) train on wasm as they are,
 * without rewriting any layer:
 *
 * - `Conv2DBackpropFilter` is itself a convolution: with the batch as the channel axis,
 *   `dW[i, j, c, o] = Σ_{b,y,x} x[b, y·s + i, x·s + j, c] · dy[b, y, x, o]` is the valid
 *   convolution of `x` (as `[cin, H, W, batch]`) with `dy` (as an `[oh, ow, batch, cout]` filter)
 *   dilated by the stride, which runs on wasm's own (XNNPACK) Conv2D.
 * - `Conv2DBackpropInput` (wasm's own is a scalar loop, 5-10x a forward convolution) is the valid
 *   convolution of the output gradient, spread over the input grid by the stride and padded by
 *   `kernel − 1 − padding`, with the kernel flipped and its channel axes swapped.
 * - `MaxPoolGrad` (wasm's own sends the gradient to the wrong inputs when the pool moves by more
 *   than one, tested against cpu) is one pass over the heap: each output's gradient goes to the
 *   first maximum of its window, as the cpu backend and TensorFlow do.
 * - `Slice` of a 4-D tensor copies one row of its last axis at a time (16 floats per call for 16
 *   channels); axes the slice keeps whole are merged first, so each copy is as long as the data
 *   is contiguous (im2col and the windows above are such slices).
 * - `Tile` (wasm's own walks every output index; the batch-norm gradient tiles whole activations)
 *   is a concatenation of copies along each repeated axis.
 * - `DepthwiseConv2dNativeBackpropFilter` and `...BackpropInput` sum, for every kernel position, a
 *   strided window of the input (or the output gradient placed back on the input grid) times the
 *   output gradient: slices, products and sums of wasm kernels.
 *
 * Every kernel here composes registered wasm kernels on the backend's own tensors (as the matmul
 * patch does) and releases its temporaries; test/engine/wasmConvGradients.test.ts compares them with
 * the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: tf.KernelBackend;
  attrs: Record<string, unknown>;
}

type Run = (name: string, inputs: Record<string, tf.TensorInfo>, attrs?: Record<string, unknown>) => tf.TensorInfo;

/** Calls registered wasm kernels; every result but the one returned is released by `done`. */
function kernelRunner(backend: tf.KernelBackend): { run: Run; done: (keep: tf.TensorInfo) => tf.TensorInfo } {
  const temporaries: tf.TensorInfo[] = [];
  const run: Run = (name, inputs, attrs = {}) => {
    const config = tf.getKernel(name, 'wasm');
    if (!config) throw new Error(`the wasm backend has no ${name} kernel`);
    const out = (config.kernelFunc as unknown as (args: KernelArgs) => tf.TensorInfo)({ inputs, backend, attrs });
    temporaries.push(out);
    return out;
  };
  const done = (keep: tf.TensorInfo) => {
    // Reshape shares its input's data (reference-counted), so releasing what `keep` came from is safe.
    for (const t of temporaries) if (t !== keep) backend.disposeData(t.dataId);
    return keep;
  };
  return { run, done };
}

type PadArg = tf.backend_util.PadInfo | 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

interface Geometry {
  /** Padding before/after along height and width, as the forward convolution applied it. */
  top: number;
  left: number;
  /** Height and width of the zero-padded input the kernel windows read. */
  paddedHeight: number;
  paddedWidth: number;
  outHeight: number;
  outWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  filterHeight: number;
  filterWidth: number;
}

function geometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: PadArg,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
): Geometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    strides,
    dilations,
    pad as 'same',
    dimRoundingMode,
    depthwise,
    'channelsLast',
  );
  return {
    top: info.padInfo.top,
    left: info.padInfo.left,
    paddedHeight: Math.max(
      xShape[1] + info.padInfo.top + info.padInfo.bottom,
      (info.outHeight - 1) * info.strideHeight + (info.filterHeight - 1) * info.dilationHeight + 1,
    ),
    paddedWidth: Math.max(
      xShape[2] + info.padInfo.left + info.padInfo.right,
      (info.outWidth - 1) * info.strideWidth + (info.filterWidth - 1) * info.dilationWidth + 1,
    ),
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
  };
}

/**
 * `x` placed on a `rows x cols` grid with its first row at `top` and first column at `left`
 * (negative: that many leading rows or columns are cut), zeros elsewhere.
 */
function padTo(run: Run, x: tf.TensorInfo, top: number, left: number, rows: number, cols: number): tf.TensorInfo {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  let out = x;
  if (top < 0 || left < 0) {
    const cutTop = Math.max(0, -top);
    const cutLeft = Math.max(0, -left);
    out = run('Slice', { x: out }, { begin: [0, cutTop, cutLeft, 0], size: [b, h - cutTop, w - cutLeft, c] });
    return padTo(run, out, Math.max(0, top), Math.max(0, left), rows, cols);
  }
  const bottom = rows - h - top;
  const right = cols - w - left;
  if (top > 0 || left > 0 || bottom > 0 || right > 0)
    out = run(
      'PadV2',
      { x: out },
      {
        paddings: [
          [0, 0],
          [top, Math.max(0, bottom)],
          [left, Math.max(0, right)],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
  if (bottom < 0 || right < 0) out = run('Slice', { x: out }, { begin: [0, 0, 0, 0], size: [b, rows, cols, c] });
  return out;
}

/** The `[b, oh, ow, c]` window of padded `x` that kernel position (i, j) reads. */
function window(run: Run, padded: tf.TensorInfo, g: Geometry, i: number, j: number): tf.TensorInfo {
  const [b, , , c] = padded.shape as [number, number, number, number];
  const y0 = i * g.dilationHeight;
  const x0 = j * g.dilationWidth;
  if (g.strideHeight === 1 && g.strideWidth === 1)
    return run('Slice', { x: padded }, { begin: [0, y0, x0, 0], size: [b, g.outHeight, g.outWidth, c] });
  return run(
    'StridedSlice',
    { x: padded },
    {
      begin: [0, y0, x0, 0],
      end: [b, y0 + (g.outHeight - 1) * g.strideHeight + 1, x0 + (g.outWidth - 1) * g.strideWidth + 1, c],
      strides: [1, g.strideHeight, g.strideWidth, 1],
      beginMask: 0,
      endMask: 0,
      ellipsisMask: 0,
      newAxisMask: 0,
      shrinkAxisMask: 0,
    },
  );
}

function conv2dBackpropFilter({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const x = inputs['x']!;
  const dy = inputs['dy']!;
  const filterShape = attrs['filterShape'] as [number, number, number, number];
  if (attrs['dataFormat'] === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports only NHWC');
  const g = geometry(
    x.shape as [number, number, number, number],
    filterShape,
    attrs['strides'] as [number, number],
    1,
    attrs['pad'] as PadArg,
    attrs['dimRoundingMode'] as 'floor' | undefined,
    false,
  );
  const { run, done } = kernelRunner(backend);
  // Exactly the rows and columns the windows read: (out − 1)·stride + kernel.
  const rows = (g.outHeight - 1) * g.strideHeight + g.filterHeight;
  const cols = (g.outWidth - 1) * g.strideWidth + g.filterWidth;
  const padded = padTo(run, x, g.top, g.left, rows, cols);
  const channelsAsBatch = run('Transpose', { x: padded }, { perm: [3, 1, 2, 0] });
  const gradientAsFilter = run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  const product = run(
    'Conv2D',
    { x: channelsAsBatch, filter: gradientAsFilter },
    {
      strides: [1, 1],
      dilations: [g.strideHeight, g.strideWidth],
      pad: 'valid',
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
    },
  );
  return done(run('Transpose', { x: product }, { perm: [1, 2, 0, 3] }));
}

function depthwiseBackpropFilter({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const x = inputs['x']!;
  const dy = inputs['dy']!;
  const filterShape = attrs['filterShape'] as [number, number, number, number];
  const [kh, kw, channels, multiplier] = filterShape;
  const g = geometry(
    x.shape as [number, number, number, number],
    filterShape,
    attrs['strides'] as [number, number],
    (attrs['dilations'] as [number, number] | undefined) ?? 1,
    attrs['pad'] as PadArg,
    attrs['dimRoundingMode'] as 'floor' | undefined,
    true,
  );
  const { run, done } = kernelRunner(backend);
  const b = x.shape[0]!;
  const padded = padTo(run, x, g.top, g.left, g.paddedHeight, g.paddedWidth);
  const gradient = run('Reshape', { x: dy }, { shape: [b, g.outHeight, g.outWidth, channels, multiplier] });
  const taps: tf.TensorInfo[] = [];
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) {
      const w = run(
        'Reshape',
        { x: window(run, padded, g, i, j) },
        { shape: [b, g.outHeight, g.outWidth, channels, 1] },
      );
      taps.push(run('Sum', { x: run('Multiply', { a: w, b: gradient }) }, { axis: [0, 1, 2], keepDims: false }));
    }
  const stacked =
    taps.length === 1 ? taps[0]! : run('Pack', taps as unknown as Record<string, tf.TensorInfo>, { axis: 0 });
  return done(run('Reshape', { x: stacked }, { shape: filterShape }));
}

function depthwiseBackpropInput({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const dy = inputs['dy']!;
  const filter = inputs['filter']!;
  const inputShape = attrs['inputShape'] as [number, number, number, number];
  const [kh, kw, channels, multiplier] = filter.shape as [number, number, number, number];
  const g = geometry(
    inputShape,
    filter.shape as [number, number, number, number],
    attrs['strides'] as [number, number],
    (attrs['dilations'] as [number, number] | undefined) ?? 1,
    attrs['pad'] as PadArg,
    attrs['dimRoundingMode'] as 'floor' | undefined,
    true,
  );
  const { run, done } = kernelRunner(backend);
  const [b, h, w] = inputShape;
  const gradient = run('Reshape', { x: dy }, { shape: [b, g.outHeight, g.outWidth, channels, multiplier] });
  const { strideHeight: sh, strideWidth: sw } = g;
  const parts: tf.TensorInfo[] = [];
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) {
      const tap = run('Slice', { x: filter }, { begin: [i, j, 0, 0], size: [1, 1, channels, multiplier] });
      const t = spread(
        run,
        run('Sum', { x: run('Multiply', { a: gradient, b: tap }) }, { axis: [4], keepDims: false }),
        sh,
        sw,
      );
      parts.push(padTo(run, t, i * g.dilationHeight, j * g.dilationWidth, g.paddedHeight, g.paddedWidth));
    }
  const summed = parts.length === 1 ? parts[0]! : run('AddN', parts as unknown as Record<string, tf.TensorInfo>);
  return done(run('Slice', { x: summed }, { begin: [0, g.top, g.left, 0], size: [b, h, w, channels] }));
}

/**
 * `dy` `[b, oh, ow, c]` with `stride − 1` zeros after each of its rows and columns:
 * `[b, oh·sh, ow·sw, c]` (the trailing zeros are harmless where it is used, and cutting them
 * would cost a slice, which wasm does row by row).
 */
function spread(run: Run, dy: tf.TensorInfo, sh: number, sw: number): tf.TensorInfo {
  if (sh === 1 && sw === 1) return dy;
  const [b, oh, ow, c] = dy.shape as [number, number, number, number];
  let t = run('Reshape', { x: dy }, { shape: [b, oh, 1, ow, 1, c] });
  t = run(
    'PadV2',
    { x: t },
    {
      paddings: [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ],
      constantValue: 0,
    },
  );
  return run('Reshape', { x: t }, { shape: [b, oh * sh, ow * sw, c] });
}

function conv2dBackpropInput({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const dy = inputs['dy']!;
  const filter = inputs['filter']!;
  const inputShape = attrs['inputShape'] as [number, number, number, number];
  if (attrs['dataFormat'] === 'NCHW') throw new Error('Conv2DBackpropInput on wasm supports only NHWC');
  const filterShape = filter.shape as [number, number, number, number];
  const g = geometry(
    inputShape,
    filterShape,
    attrs['strides'] as [number, number],
    1,
    attrs['pad'] as PadArg,
    attrs['dimRoundingMode'] as 'floor' | undefined,
    false,
  );
  const { run, done } = kernelRunner(backend);
  const [, h, w] = inputShape;
  const [kh, kw] = filterShape;
  const spreadDy = spread(run, dy, g.strideHeight, g.strideWidth);
  // dx[p] = Σ_j spread[p + top − (k − 1) + j] · flipped[j]: rows top − (k − 1) ... h − 1 + top of `spread`.
  const padded = padTo(run, spreadDy, kh - 1 - g.top, kw - 1 - g.left, h + kh - 1, w + kw - 1);
  const flipped = run('Reverse', { x: run('Transpose', { x: filter }, { perm: [0, 1, 3, 2] }) }, { dims: [0, 1] });
  return done(
    run(
      'Conv2D',
      { x: padded, filter: flipped },
      { strides: [1, 1], dilations: [1, 1], pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined },
    ),
  );
}

function tile({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const x = inputs['x']!;
  const reps = attrs['reps'] as number[];
  const { run, done } = kernelRunner(backend);
  let out = x;
  reps.forEach((r, axis) => {
    if (r > 1)
      out = run('Concat', Array<tf.TensorInfo>(r).fill(out) as unknown as Record<string, tf.TensorInfo>, { axis });
  });
  // A tile of ones keeps `x`'s own data: return a reshape that owns a reference.
  return done(out === x ? run('Reshape', { x }, { shape: x.shape }) : out);
}

/** How many leading axes `axis` reduces when it is exactly the leading axes of `x` (not all), else 0. */
function leadingAxes(x: tf.TensorInfo, axis: number | number[]): number {
  if (x.dtype !== 'float32') return 0;
  const rank = x.shape.length;
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? rank + a : a)))].sort(
    (a, b) => a - b,
  );
  if (axes.length === 0 || axes.length >= rank || axes.some((a, i) => a !== i)) return 0;
  return axes.length;
}

interface WasmHeap extends tf.KernelBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Float32Array): tf.TensorInfo;
}

/**
 * `Sum` and `Mean` over the leading axes (batch norm's statistics and gradients, bias gradients,
 * global pooling) as one pass over the heap, row by row: wasm's own transposes the whole tensor
 * first to reduce innermost axes. Other reductions go to wasm's.
 */
function leadingReduction(kernelName: 'Sum' | 'Mean', original: (args: KernelArgs) => tf.TensorInfo) {
  return (args: KernelArgs): tf.TensorInfo => {
    const x = args.inputs['x']!;
    const lead = leadingAxes(x, args.attrs['axis'] as number | number[]);
    if (lead === 0) return original(args);
    const backend = args.backend as WasmHeap;
    const n = x.shape.slice(0, lead).reduce((a, b) => a * b, 1);
    const rest = x.shape.slice(lead);
    const c = rest.reduce((a, b) => a * b, 1);
    const values = backend.typedArrayFromHeap(x);
    const sums = new Float64Array(c);
    for (let row = 0; row < n; row++) {
      const offset = row * c;
      for (let j = 0; j < c; j++) sums[j]! += values[offset + j]!;
    }
    const out = new Float32Array(c);
    for (let j = 0; j < c; j++) out[j] = kernelName === 'Mean' ? sums[j]! / n : sums[j]!;
    const shape = args.attrs['keepDims'] ? [...Array<number>(lead).fill(1), ...rest] : rest;
    return backend.makeOutput(shape, 'float32', undefined, out);
  };
}

function maxPoolGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const heap = backend as WasmHeap;
  const dy = inputs['dy']!;
  const x = inputs['input']!;
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs['filterSize'] as [number, number],
    attrs['strides'] as [number, number],
    1,
    attrs['pad'] as 'same',
    attrs['dimRoundingMode'] as 'floor' | undefined,
  );
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const xs = heap.typedArrayFromHeap(x);
  const gradients = heap.typedArrayFromHeap(dy);
  const dx = new Float32Array(xs.length);
  const { outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  for (let n = 0; n < b; n++)
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - top;
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * strideWidth - left;
        const out = ((n * outHeight + oy) * outWidth + ox) * c;
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let at = -1;
          for (let i = Math.max(0, y0); i < Math.min(h, y0 + filterHeight); i++)
            for (let j = Math.max(0, x0); j < Math.min(w, x0 + filterWidth); j++) {
              const index = ((n * h + i) * w + j) * c + ch;
              if (xs[index]! > best) {
                best = xs[index]!;
                at = index;
              }
            }
          if (at >= 0) dx[at]! += gradients[out + ch]!;
        }
      }
    }
  return heap.makeOutput(x.shape, 'float32', undefined, dx);
}

/**
 * `Slice` with the trailing axes it keeps whole merged into the last one it cuts: the same bytes,
 * copied in longer runs by wasm's own kernel.
 */
function mergedSlice(original: (args: KernelArgs) => tf.TensorInfo) {
  return (args: KernelArgs): tf.TensorInfo => {
    const x = args.inputs['x']!;
    const rank = x.shape.length;
    if (rank < 3) return original(args);
    const [begin, size] = tf.slice_util.parseSliceParams(
      x as tf.Tensor,
      args.attrs['begin'] as number[],
      args.attrs['size'] as number[],
    ) as [number[], number[]];
    let whole = rank;
    while (whole > 1 && begin[whole - 1] === 0 && size[whole - 1] === x.shape[whole - 1]) whole--;
    // Axes `whole..rank-1` are kept whole: fold them into axis `whole - 1`.
    if (whole === rank || whole === 0) return original(args);
    const inner = x.shape.slice(whole).reduce((a, b) => a * b, 1);
    const { run, done } = kernelRunner(args.backend);
    const flat = run('Reshape', { x }, { shape: [...x.shape.slice(0, whole - 1), x.shape[whole - 1]! * inner] });
    const cut = original({
      inputs: { x: flat },
      backend: args.backend,
      attrs: {
        begin: [...begin.slice(0, whole - 1), begin[whole - 1]! * inner],
        size: [...size.slice(0, whole - 1), size[whole - 1]! * inner],
      },
    });
    const out = run('Reshape', { x: cut }, { shape: size });
    args.backend.disposeData(cut.dataId); // `out` holds its own reference
    return done(out);
  };
}

const KERNELS: Record<string, (args: KernelArgs) => tf.TensorInfo> = {
  MaxPoolGrad: maxPoolGrad,
  Conv2DBackpropFilter: conv2dBackpropFilter,
  Conv2DBackpropInput: conv2dBackpropInput,
  Tile: tile,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
};

/** Kernels wasm has but runs as scalar loops: ours replace them (same results, tested). */
const REPLACED = new Set(['Conv2DBackpropInput', 'MaxPoolGrad', 'Tile']);

/** The kernel names this module supplies for wasm. */
export const WASM_GRADIENT_KERNELS = [...Object.keys(KERNELS), 'Sum', 'Mean', 'Slice'];

let registered = false;

/** Registers the kernels (after `setBackend('wasm')`); idempotent. A later tfjs that has a missing one keeps its own. */
export function registerWasmConvGradients(): void {
  if (registered) return;
  for (const [kernelName, kernelFunc] of Object.entries(KERNELS)) {
    if (tf.getKernel(kernelName, 'wasm')) {
      if (!REPLACED.has(kernelName)) continue;
      tf.unregisterKernel(kernelName, 'wasm');
    }
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
  const wrap = (
    kernelName: string,
    wrapper: (original: (args: KernelArgs) => tf.TensorInfo) => (args: KernelArgs) => tf.TensorInfo,
  ) => {
    const original = tf.getKernel(kernelName, 'wasm');
    if (!original) return;
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({
      ...original,
      kernelFunc: wrapper(
        original.kernelFunc as unknown as (args: KernelArgs) => tf.TensorInfo,
      ) as unknown as tf.KernelFunc,
    });
  };
  wrap('Sum', (original) => leadingReduction('Sum', original));
  wrap('Mean', (original) => leadingReduction('Mean', original));
  wrap('Slice', mergedSlice);
  registered = true;
}
