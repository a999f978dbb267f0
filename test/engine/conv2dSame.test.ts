import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../server/src/engine/backends';
import { conv2dSame } from '../../server/src/engine/conv2dSame';
import { Rng } from '../../server/src/engine/random';

describe('conv2dSame', () => {
  it("matches tf.conv2d's value and gradients (cpu reference) and trains on wasm, which has no filter-gradient kernel", async () => {
    const rng = new Rng(11);
    const xs = Array.from({ length: 2 * 9 * 7 * 3 }, () => rng.normal());
    const ws = Array.from({ length: 3 * 3 * 3 * 4 }, () => rng.normal());
    const probe = Array.from({ length: 2 * 9 * 7 * 4 }, () => rng.normal());
    const run = (conv: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D) =>
      tf.tidy(() => {
        const x = tf.tensor4d(xs, [2, 9, 7, 3]);
        const w = tf.tensor4d(ws, [3, 3, 3, 4]);
        const f = (a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), tf.tensor4d(probe, [2, 9, 7, 4])));
        const [dx, dw] = tf.grads(f)([x, w]);
        return [conv(x, w).dataSync(), dx!.dataSync(), dw!.dataSync()];
      });
    await selectBackend('cpu');
    const reference = run((x, w) => tf.conv2d(x, w, 1, 'same'));
    const oursCpu = run(conv2dSame);
    await selectBackend('wasm');
    const oursWasm = run(conv2dSame);
    for (const ours of [oursCpu, oursWasm])
      reference.forEach((ref, k) => {
        const worst = Math.max(...ref.map((v, i) => Math.abs(v - ours[k]![i]!) / (1 + Math.abs(v))));
        assert.ok(worst < 1e-4, `output ${k}: ${worst}`);
      });
  });
});
