/**
 * The wasm kernels engine/wasmConvGradients.ts supplies or replaces, against the cpu backend on
 * seeded random shapes, strides and paddings: gradients of conv2d (filter and input), depthwise
 * conv2d (filter and input), max pooling, and the forward Tile, leading-axis Sum/Mean and Slice.
 * Values agree within 1e-5 of their magnitude; nothing leaks.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../server/src/data/random';
import { selectBackend } from '../../server/src/engine/backends';
import { WASM_GRADIENT_KERNELS } from '../../server/src/engine/wasmConvGradients';

type Inputs = Float32Array[];

/** Runs `compute` on cpu then wasm with the same input values; returns both results, flattened. */
async function onBoth(
  shapes: number[][],
  seed: number,
  compute: (...xs: tf.Tensor[]) => tf.Tensor[],
): Promise<{ cpu: Inputs; wasm: Inputs }> {
  const rng = new Rng(seed);
  const values = shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.normal()));
  const results: Record<string, Inputs> = {};
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    const xs = values.map((v, i) => tf.tensor(v, shapes[i]!));
    const out = tf.tidy(() => compute(...xs));
    results[backend] = out.map((t) => Float32Array.from(t.dataSync()));
    tf.dispose([...out, ...xs]);
    assert.equal(tf.memory().numTensors, before, `${backend} leaks no tensors`);
    // Kernels share data by reference counts: none may be left behind.
    assert.equal(tf.engine().backend.numDataIds(), buffers, `${backend} leaks no buffers`);
  }
  await tf.setBackend('wasm');
  return { cpu: results['cpu']!, wasm: results['wasm']! };
}

function close(a: Inputs, b: Inputs, what: string): void {
  assert.equal(a.length, b.length);
  a.forEach((x, k) => {
    assert.equal(x.length, b[k]!.length, `${what}: output ${k} size`);
    const scale = Math.max(1, ...x.map(Math.abs));
    const diff = Math.max(0, ...x.map((v, i) => Math.abs(v - b[k]![i]!)));
    assert.ok(diff <= 1e-5 * scale, `${what}: output ${k} differs by ${diff} (scale ${scale})`);
  });
}

/** A loss that weights every output differently, so misplaced gradients show. */
const weighted = (y: tf.Tensor) => tf.sum(tf.mul(y, tf.sin(tf.reshape(tf.range(0, y.size, 1, 'float32'), y.shape))));

describe('wasm gradient kernels against the cpu backend', () => {
  before(() => selectBackend('wasm'));

  it('are registered for wasm after backend selection', () => {
    for (const name of WASM_GRADIENT_KERNELS) assert.ok(tf.getKernel(name, 'wasm'), name);
  });

  it('conv2d: filter and input gradients, random shapes, strides 1-3, same/valid, 1x1 to 5x5 kernels', async () => {
    const rng = new Rng(21);
    for (let trial = 0; trial < 10; trial++) {
      const [h, w] = [4 + rng.int(9), 4 + rng.int(9)];
      const [cin, cout, batch] = [1 + rng.int(4), 1 + rng.int(5), 1 + rng.int(3)];
      const [kh, kw] = [1 + rng.int(Math.min(5, h)), 1 + rng.int(Math.min(5, w))];
      const strides: [number, number] = [1 + rng.int(3), 1 + rng.int(3)];
      const pad = rng.next() < 0.5 ? 'same' : 'valid';
      const what = `x ${batch}x${h}x${w}x${cin}, k ${kh}x${kw}x${cout}, s ${strides.join('x')} ${pad}`;
      const { cpu, wasm } = await onBoth(
        [
          [batch, h, w, cin],
          [kh, kw, cin, cout],
        ],
        trial,
        (x, k) =>
          tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            weighted(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad)),
          )([x!, k!]),
      );
      close(cpu, wasm, what);
    }
  });

  it('depthwise conv2d: filter and input gradients, multipliers 1-3, strides 1-2', async () => {
    const rng = new Rng(22);
    for (let trial = 0; trial < 8; trial++) {
      const [h, w, c, m] = [3 + rng.int(7), 3 + rng.int(7), 1 + rng.int(4), 1 + rng.int(3)];
      const k = 1 + rng.int(3);
      const stride = 1 + rng.int(2);
      const pad = rng.next() < 0.5 ? 'same' : 'valid';
      const { cpu, wasm } = await onBoth(
        [
          [2, h, w, c],
          [k, k, c, m],
        ],
        100 + trial,
        (x, f) =>
          tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            weighted(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad)),
          )([x!, f!]),
      );
      close(cpu, wasm, `depthwise ${h}x${w}x${c}x${m} k${k} s${stride} ${pad}`);
    }
  });

  it('max pooling gradient goes to the first maximum of each window (strides above 1 included)', async () => {
    const cases: [number[], [number, number], [number, number], 'same' | 'valid'][] = [
      [[2, 6, 6, 3], [2, 2], [2, 2], 'valid'],
      [[2, 7, 7, 3], [2, 2], [2, 2], 'same'],
      [[1, 9, 8, 2], [3, 3], [2, 2], 'same'],
      [[2, 6, 6, 3], [2, 3], [1, 1], 'valid'],
      [[2, 9, 1, 4], [2, 1], [2, 1], 'valid'],
    ];
    for (const [shape, pool, strides, pad] of cases) {
      const { cpu, wasm } = await onBoth([shape], 7, (x) => [
        tf.grad((a: tf.Tensor) => weighted(tf.maxPool(a as tf.Tensor4D, pool, strides, pad)))(x!),
      ]);
      close(cpu, wasm, `maxPool ${shape.join('x')} ${pool.join('x')} s${strides.join('x')} ${pad}`);
    }
    // Ties: every value equal, so the gradient of each window lands on its first entry on both.
    const { cpu, wasm } = await onBoth([[1, 4, 4, 1]], 1, (x) => [
      tf.grad((a: tf.Tensor) => weighted(tf.maxPool(tf.mul(a, 0) as tf.Tensor4D, 2, 2, 'valid')))(x!),
    ]);
    close(cpu, wasm, 'ties');
  });

  it('Tile, leading-axis Sum and Mean, and Slice agree exactly or within rounding', async () => {
    const tiles: [number[], number[]][] = [
      [
        [2, 3],
        [3, 1],
      ],
      [
        [2, 3, 4],
        [1, 2, 3],
      ],
      [[5], [4]],
      [
        [2, 2],
        [1, 1],
      ],
    ];
    for (const [shape, reps] of tiles) {
      const { cpu, wasm } = await onBoth([shape], 3, (x) => [tf.tile(x!, reps)]);
      assert.deepEqual(wasm, cpu, `tile ${shape.join('x')} by ${reps.join('x')}`);
    }
    const reductions: [number[], number | number[], boolean][] = [
      [[4, 5, 6, 3], [0, 1, 2], false],
      [[4, 5, 6, 3], [0, 1, 2], true],
      [[7, 3], 0, false],
      [[4, 5, 6], [1, 2], false],
      [[4, 5, 6], [0, 1], true],
    ];
    for (const [shape, axis, keep] of reductions) {
      const { cpu, wasm } = await onBoth([shape], 4, (x) => [tf.sum(x!, axis, keep), tf.mean(x!, axis, keep)]);
      close(cpu, wasm, `sum/mean ${shape.join('x')} over ${String(axis)}`);
    }
    const slices: [number[], number[], number[]][] = [
      [
        [2, 5, 6, 3],
        [0, 1, 2, 0],
        [2, 3, 3, 3],
      ],
      [
        [2, 5, 6, 3],
        [1, 0, 0, 0],
        [1, 5, 6, 3],
      ],
      [
        [3, 4, 5],
        [1, 2, 0],
        [2, 2, 5],
      ],
      [
        [2, 5, 6, 3],
        [0, 1, 0, 1],
        [2, 3, 6, 2],
      ],
    ];
    for (const [shape, begin, size] of slices) {
      const { cpu, wasm } = await onBoth([shape], 5, (x) => [tf.slice(x!, begin, size)]);
      assert.deepEqual(wasm, cpu, `slice ${shape.join('x')} at ${begin.join(',')} size ${size.join(',')}`);
    }
  });
});
