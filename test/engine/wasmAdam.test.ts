import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../server/src/engine/backends';
import { adam, FusedAdamOptimizer } from '../../server/src/engine/wasmAdam';
import { Rng } from '../../server/src/data/random';

/** Variables of odd sizes (tails of 1-3 floats after the SIMD part) and their gradients per step. */
function problem(seed: number) {
  const rng = new Rng(seed);
  const shapes = [[37, 13], [7], [64, 32], [3], [1, 1]];
  const initial = shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.normal()));
  const grads = Array.from({ length: 6 }, () =>
    initial.map((v) => Float32Array.from({ length: v.length }, () => (rng.next() < 0.2 ? 0 : rng.normal() * 0.1))),
  );
  return { shapes, initial, grads };
}

function train(optimizer: tf.Optimizer, seed: number): { values: Float32Array[]; moments: Float32Array[] } {
  const { shapes, initial, grads } = problem(seed);
  const variables = shapes.map((s, i) => tf.tidy(() => tf.variable(tf.tensor(initial[i]!, s))));
  for (const step of grads) {
    const map: tf.NamedTensorMap = {};
    variables.forEach((v, i) => (map[v.name] = tf.tensor(step[i]!, shapes[i])));
    optimizer.applyGradients(map);
    tf.dispose(Object.values(map));
  }
  const values = variables.map((v) => v.dataSync() as Float32Array);
  const state = optimizer as unknown as { accumulatedFirstMoment: { variable: tf.Variable }[] };
  const moments = state.accumulatedFirstMoment.map((m) => m.variable.dataSync() as Float32Array);
  tf.dispose(variables);
  return { values, moments };
}

describe('fused Adam on wasm', () => {
  before(() => selectBackend('wasm'));

  for (const seed of [1, 2, 3])
    it(`is bit-identical to tf.train.adam over six steps, tails and zero gradients included (seed ${seed})`, () => {
      const before = tf.memory().numTensors;
      for (const lr of [0.001, 0.03]) {
        const reference = tf.train.adam(lr);
        const fused = adam(lr);
        assert.ok(fused instanceof FusedAdamOptimizer);
        const a = train(reference, seed);
        const b = train(fused, seed);
        a.values.forEach((v, i) => assert.deepEqual(b.values[i], v, `variable ${i} at lr ${lr}`));
        a.moments.forEach((m, i) => assert.deepEqual(b.moments[i], m, `first moment ${i}`));
        assert.equal(fused.iterations, reference.iterations);
        assert.equal(fused.fusedUpdates, 6 * 5, 'every update ran fused');
        reference.dispose();
        fused.dispose();
      }
      assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
    });

  it('is bit-identical to tf.train.adam when the variables feed matmuls (XNNPACK caches packed weights)', () => {
    const before = tf.memory().numTensors;
    const rng = new Rng(7);
    const tensor = (shape: number[]) =>
      tf.tensor(
        Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
        shape,
      );
    const [w0, b0, x, y] = [tensor([16, 8]), tensor([8]), tensor([32, 16]), tensor([32, 8])];
    const fit = (optimizer: tf.Optimizer) => {
      const w = tf.tidy(() => tf.variable(tf.clone(w0)));
      const b = tf.tidy(() => tf.variable(tf.clone(b0)));
      for (let step = 0; step < 30; step++)
        optimizer.minimize(
          () => tf.sum(tf.square(tf.sub(tf.relu(tf.add(tf.matMul(x, w), b)), y))) as tf.Scalar,
          false,
          [w, b],
        );
      const values = [w.dataSync() as Float32Array, b.dataSync() as Float32Array];
      tf.dispose([w, b]);
      optimizer.dispose();
      return values;
    };
    const fused = adam(0.01) as FusedAdamOptimizer;
    const expected = fit(tf.train.adam(0.01));
    const actual = fit(fused);
    assert.ok(fused.fusedUpdates > 0, 'the fused kernel ran');
    assert.deepEqual(actual, expected, 'a weight updated in place must not leave its old packing in use');
    tf.dispose([w0, b0, x, y]);
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  });

  it('keeps TF.js state: getWeights/setWeights resume a run exactly', async () => {
    const { shapes, initial, grads } = problem(4);
    const run = async (splitAt: number | null) => {
      let optimizer = adam(0.01);
      const variables = shapes.map((s, i) => tf.tidy(() => tf.variable(tf.tensor(initial[i]!, s))));
      for (const [k, step] of grads.entries()) {
        if (k === splitAt) {
          const saved = await optimizer.getWeights();
          const copies = saved.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) }));
          optimizer.dispose();
          optimizer = adam(0.01);
          await optimizer.setWeights(copies);
          tf.dispose(copies.map((c) => c.tensor));
          tf.dispose(saved.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
        }
        const map: tf.NamedTensorMap = {};
        variables.forEach((v, i) => (map[v.name] = tf.tensor(step[i]!, shapes[i])));
        optimizer.applyGradients(map);
        tf.dispose(Object.values(map));
      }
      const values = variables.map((v) => Array.from(v.dataSync()));
      optimizer.dispose();
      tf.dispose(variables);
      return values;
    };
    const before = tf.memory().numTensors;
    assert.deepEqual(await run(3), await run(null));
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  });

  it("falls back to TF.js's update when a variable shares its memory, and gets the same result", () => {
    const reference = tf.train.adam(0.01);
    const fused = adam(0.01);
    const results = [reference, fused].map((optimizer) => {
      const start = tf.tensor([1, 2, 3, 4, 5], [5]);
      const v = tf.variable(start); // shares `start`'s memory until `start` is disposed
      optimizer.applyGradients({ [v.name]: tf.tensor([0.5, -1, 0, 2, 1], [5]) });
      const shared = Array.from(start.dataSync());
      const out = Array.from(v.dataSync());
      tf.dispose([start, v]);
      return { shared, out };
    });
    assert.deepEqual(results[1]!.out, results[0]!.out);
    assert.deepEqual(results[1]!.shared, [1, 2, 3, 4, 5], 'the tensor sharing the memory is untouched');
    assert.equal((fused as FusedAdamOptimizer).fusedUpdates, 0);
    reference.dispose();
    fused.dispose();
  });
});
