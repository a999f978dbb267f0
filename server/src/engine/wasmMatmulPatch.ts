/**
 * tfjs-backend-wasm 4.22 sends matmuls with `transposeA`/`transposeB` (every backward pass) to a
 * scalar loop instead of XNNPACK, about 15x slower (notes/compute.md §9a). This re-registers
 * `BatchMatMul` and `_FusedMatMul` to transpose the operands explicitly with the fast wasm
 * Transpose kernel and then call the original kernel untransposed. Results are bit-identical
 * (tested), and the temporaries are released.
 */
import * as tf from '@tensorflow/tfjs-core';

const PATCHED = ['BatchMatMul', '_FusedMatMul'] as const;
let patched = false;
const originals = new Map<string, tf.KernelConfig>();

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: tf.KernelBackend;
  attrs: Record<string, unknown>;
}

export function isWasmMatmulPatched(): boolean {
  return patched;
}

/** Applies the patch to the registered wasm kernels; call after `setBackend('wasm')`. Idempotent. */
export function patchWasmMatmul(): void {
  if (patched) return;
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!transpose) throw new Error('the wasm backend is not registered (no Transpose kernel)');
  for (const kernelName of PATCHED) {
    const original = tf.getKernel(kernelName, 'wasm');
    if (!original) throw new Error(`the wasm backend has no ${kernelName} kernel`);
    const run = original.kernelFunc as unknown as (args: KernelArgs) => tf.TensorInfo;
    const swapLastTwo = (x: tf.TensorInfo, backend: tf.KernelBackend, temporaries: tf.TensorInfo[]) => {
      const rank = x.shape.length;
      const perm = [...Array(rank).keys()];
      [perm[rank - 1], perm[rank - 2]] = [perm[rank - 2]!, perm[rank - 1]!];
      const out = (transpose.kernelFunc as unknown as (args: KernelArgs) => tf.TensorInfo)({
        inputs: { x },
        backend,
        attrs: { perm },
      });
      temporaries.push(out);
      return out;
    };
    originals.set(kernelName, original);
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      setupFunc: original.setupFunc,
      disposeFunc: original.disposeFunc,
      kernelFunc: ((args: KernelArgs) => {
        const { inputs, backend, attrs } = args;
        if (!attrs['transposeA'] && !attrs['transposeB']) return run(args);
        const temporaries: tf.TensorInfo[] = [];
        const a = attrs['transposeA'] ? swapLastTwo(inputs['a']!, backend, temporaries) : inputs['a']!;
        const b = attrs['transposeB'] ? swapLastTwo(inputs['b']!, backend, temporaries) : inputs['b']!;
        const out = run({
          inputs: { ...inputs, a, b },
          backend,
          attrs: { ...attrs, transposeA: false, transposeB: false },
        });
        for (const t of temporaries) backend.disposeData(t.dataId);
        return out;
      }) as unknown as tf.KernelFunc,
    });
  }
  patched = true;
}

/** Puts the stock kernels back (tests compare against them). */
export function unpatchWasmMatmul(): void {
  if (!patched) return;
  for (const kernelName of PATCHED) {
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel(originals.get(kernelName)!);
  }
  patched = false;
}
