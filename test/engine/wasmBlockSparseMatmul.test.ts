import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockSparseMatmul } from '../../server/src/engine/export';
import { Rng } from '../../server/src/data/random';
import {
  WasmBlockSparseNetwork,
  wasmSimdAvailable,
  type BlockSparseNetworkLayer,
} from '../../server/src/engine/wasmBlockSparseMatmul';

/** A layer with a random kept set; blocks stored padded to full size with zeros outside the matrix. */
function layer(rng: Rng, rows: number, cols: number, br: number, bc: number, density: number): BlockSparseNetworkLayer {
  const gridRows = Math.ceil(rows / br);
  const gridCols = Math.ceil(cols / bc);
  const kept = [...Array(gridRows * gridCols).keys()].filter(() => rng.next() < density);
  const blocks = new Float32Array(kept.length * br * bc);
  kept.forEach((b, k) => {
    const r0 = Math.floor(b / gridCols) * br;
    const c0 = (b % gridCols) * bc;
    for (let r = 0; r < br; r++)
      for (let c = 0; c < bc; c++)
        if (r0 + r < rows && c0 + c < cols) blocks[(k * br + r) * bc + c] = 0.1 * rng.normal(); // trained-net scale
  });
  const bias = Float32Array.from({ length: cols }, () => rng.normal());
  return { rows, cols, blockRows: br, blockCols: bc, gridCols, kept, blocks, bias };
}

/** The JS reference kernel with the same bias and activations. */
function reference(layers: BlockSparseNetworkLayer[], x: Float32Array, batch: number, relu: boolean[]): Float32Array {
  let h = x;
  layers.forEach((l, i) => {
    const out = new Float32Array(batch * l.cols);
    for (let n = 0; n < batch; n++) out.set(l.bias, n * l.cols);
    blockSparseMatmul(h, batch, l.rows, l, l.blocks, out);
    if (relu[i]) for (let k = 0; k < out.length; k++) out[k] = Math.max(0, out[k]!);
    h = out;
  });
  return h;
}

describe('block-sparse WebAssembly SIMD kernel', () => {
  it('this Node has WebAssembly SIMD', () => assert.ok(wasmSimdAvailable()));

  for (const seed of [1, 2, 3])
    it(`matches the JS reference on edge blocks, mixed block shapes and batches (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const cases: { layers: [number, number, number, number, number][]; batch: number }[] = [
        { layers: [[64, 48, 16, 16, 0.3]], batch: 7 },
        {
          layers: [
            [60, 36, 8, 8, 0.4],
            [36, 10, 8, 4, 0.6],
          ],
          batch: 33,
        },
        {
          layers: [
            [33, 20, 5, 4, 0.5],
            [20, 24, 3, 8, 0.5],
            [24, 9, 16, 12, 0.7],
          ],
          batch: 5,
        },
        {
          layers: [
            [784, 512, 16, 16, 0.1],
            [512, 512, 16, 16, 0.1],
          ],
          batch: 128,
        },
      ];
      for (const { layers: shapes, batch } of cases) {
        const layers = shapes.map(([rows, cols, br, bc, density]) => layer(rng, rows, cols, br, bc, density));
        const x = Float32Array.from({ length: batch * layers[0]!.rows }, () => rng.normal());
        const relu = layers.map((_, i) => i < layers.length - 1);
        const expected = reference(layers, x, batch, relu);
        const network = new WasmBlockSparseNetwork(layers);
        for (let repeat = 0; repeat < 2; repeat++) {
          const got = network.forward(
            x,
            batch,
            relu.map((r) => (r ? 'relu' : 'linear')),
          );
          assert.equal(got.length, expected.length);
          let worst = 0;
          got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - expected[i]!) / (1 + Math.abs(expected[i]!)))));
          assert.ok(worst <= 1e-5, `${JSON.stringify(shapes)} batch ${batch}: relative diff ${worst}`);
        }
      }
    });

  it('runs any block shape: widths that are not a multiple of 4, 1x1 blocks, empty columns, a JS activation', () => {
    const rng = new Rng(4);
    const layers = [layer(rng, 10, 9, 3, 3, 0.5), layer(rng, 9, 7, 1, 1, 0.3), layer(rng, 7, 6, 5, 2, 0.6)];
    assert.ok(WasmBlockSparseNetwork.supports(layers));
    const x = Float32Array.from({ length: 11 * 10 }, () => rng.normal());
    const tanh = (v: Float32Array) => v.forEach((e, i) => (v[i] = Math.tanh(e)));
    let h = x;
    layers.forEach((l, i) => {
      const out = new Float32Array(11 * l.cols);
      for (let n = 0; n < 11; n++) out.set(l.bias, n * l.cols);
      blockSparseMatmul(h, 11, l.rows, l, l.blocks, out);
      if (i === 0) for (let k = 0; k < out.length; k++) out[k] = Math.max(0, out[k]!);
      if (i === 1) tanh(out);
      h = out;
    });
    const got = new WasmBlockSparseNetwork(layers).forward(x, 11, ['relu', tanh, 'linear']);
    assert.equal(got.length, h.length);
    got.forEach((v, i) =>
      assert.ok(Math.abs(v - h[i]!) <= 1e-5 * (1 + Math.abs(h[i]!)), `output ${i}: ${v} vs ${h[i]}`),
    );
  });
});
