/**
 * What our kernels use of tfjs-backend-wasm's backend object: its heap (the module's memory and
 * allocator), where each tensor lives in it, and how to make outputs there. One declaration for
 * the JS kernels (wasmBlockScale.ts, wasmSegmentSum.ts) and the SIMD ones (wasmBlockSparseTrain.ts,
 * wasmAdam.ts).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { WasmMemory } from './wasmAssembler';

export interface WasmBackendLike extends tf.KernelBackend {
  wasm: {
    _malloc(bytes: number): number;
    _free(pointer: number): void;
    /** The single-threaded build's exports (its memory among them). */
    asm?: { memory?: WasmMemory };
    /** The threaded build's shared memory. */
    wasmMemory?: WasmMemory;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  refCount(dataId: object): number;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Float32Array): tf.TensorInfo;
}

/** The module's memory, which SIMD kernels import to work on tensors where they are. */
export function memoryOf(backend: WasmBackendLike): WasmMemory {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  if (!memory) throw new Error('the wasm backend does not expose its memory');
  return memory;
}

/** Byte offset of a tensor's data in the heap. */
export function pointerOf(backend: WasmBackendLike, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('the tensor is not on the wasm backend');
  return data.memoryOffset;
}
