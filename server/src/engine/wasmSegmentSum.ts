/**
 * tfjs-backend-wasm 4.22 has no `UnsortedSegmentSum` kernel, and the gradient of `tf.gather`
 * (embedding lookups of the `ctr` model) needs it. This registers a small JavaScript kernel that
 * reads the operands straight from the wasm heap and writes the sums as a new wasm tensor. Only
 * 1-D segment ids, the form the gather gradient uses.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './wasmHeap';

/** Registers the kernel when the wasm backend lacks it; idempotent. */
export function registerWasmSegmentSum(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: (({
      inputs,
      backend,
      attrs,
    }: {
      inputs: Record<string, tf.TensorInfo>;
      backend: WasmBackendLike;
      attrs: { numSegments: number };
    }) => {
      const x = inputs['x']!;
      const ids = inputs['segmentIds']!;
      if (ids.shape.length !== 1 || ids.shape[0] !== x.shape[0])
        throw new Error('UnsortedSegmentSum on wasm supports only 1-D segment ids over the first axis');
      const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
      const xs = backend.typedArrayFromHeap(x);
      const segments = backend.typedArrayFromHeap(ids);
      const out = new Float32Array(attrs.numSegments * inner);
      for (let i = 0; i < segments.length; i++) {
        const s = segments[i]!;
        if (s < 0 || s >= attrs.numSegments) continue;
        const from = i * inner;
        const to = s * inner;
        for (let j = 0; j < inner; j++) out[to + j]! += xs[from + j]!;
      }
      return backend.makeOutput([attrs.numSegments, ...x.shape.slice(1)], x.dtype, undefined, out);
    }) as unknown as tf.KernelFunc,
  });
}
