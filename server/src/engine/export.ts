/**
 * Export of a trained model (spec §1.2 "Export"): the attention folded into
 * the weights, `W ⊙ A ⊙ mask`, so pruned blocks are exact zeros and the logits can be dropped.
 * Two formats under `export/`:
 * - `model/model.json` + `model/weights.bin`: a TF.js LayersModel (Sequential of Dense layers);
 * - `block-sparse.json` + `block-sparse.bin`: per layer only the kept blocks, with a reader
 *   (`readBlockSparse`) whose block-sparse matmul reproduces the dense outputs.
 */
import { readFileSync } from 'node:fs';
import { makeFolder, writeFileAtomic } from '../data/durableFile';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BlockGrid } from '../experiment/pruningPlan';
import type { ActivationName } from '../experiment/schema';
import type { MaskedModel } from './maskedModel';
import { WasmBlockSparseNetwork } from './wasmBlockSparseMatmul';

/** A layer of the block-sparse format: its block grid (as the pruning plan computes it) and the stored blocks. */
export interface BlockSparseLayer
  extends Pick<BlockGrid, 'rows' | 'cols' | 'blockRows' | 'blockCols' | 'gridRows' | 'gridCols'> {
  name: string;
  /** Row-major grid indices of the stored blocks, sorted. */
  kept: number[];
  /** Byte offset of `kept.length * blockRows * blockCols` float32 (each block padded to full size), then `cols` float32 of bias. */
  offset: number;
  activation: ActivationName | 'softmax-logits';
}

export interface BlockSparseManifest {
  format: 'sparsity-studio/block-sparse@1';
  inputSize: number;
  layers: BlockSparseLayer[];
}

/** Folded kernels and biases of every layer, as plain arrays. */
export function foldedWeights(model: MaskedModel): {
  name: string;
  kernel: Float32Array;
  bias: Float32Array;
  rows: number;
  cols: number;
  activation: ActivationName;
}[] {
  return model.layers.map((l) => ({
    name: l.name,
    rows: l.grid.rows,
    cols: l.grid.cols,
    kernel: tf.tidy(() => model.effectiveKernel(l).dataSync() as Float32Array).slice(),
    bias: l.bias ? (l.bias.dataSync().slice() as Float32Array) : new Float32Array(l.grid.cols),
    activation: l.spec.activation,
  }));
}

/** Writes both formats; returns what could not be written (a LayersModel has no gelu of ours). */
export async function exportModel(model: MaskedModel, dir: string): Promise<string[]> {
  const others = model.spec.layers.filter((l) => l.kind !== 'dense' && l.kind !== 'dropout');
  if (others.length > 0)
    return [
      `export: only stacks of dense layers are exported in this version; this model has ${others.map((l) => `${l.kind} \`${l.name}\``).join(', ')}`,
    ];
  const folded = foldedWeights(model);
  makeFolder(dir);
  writeBlockSparse(model, folded, dir);
  if (folded.some((f) => f.activation === 'gelu'))
    return [
      'export/model: TF.js Dense layers have no gelu matching ours (x·sigmoid(1.702x)); only the block-sparse model was written',
    ];
  makeFolder(join(dir, 'model'));
  // A fixed name: tfjs would number it per process, and the same run must export the same bytes.
  const layers = tfl.sequential({ name: 'folded' });
  folded.forEach((f, i) => {
    const last = i === folded.length - 1;
    layers.add(
      tfl.layers.dense({
        units: f.cols,
        activation: last ? 'linear' : f.activation,
        name: f.name,
        ...(i === 0 ? { inputShape: [f.rows] } : {}),
      }),
    );
  });
  folded.forEach((f, i) => {
    const kernel = tf.tensor2d(f.kernel, [f.rows, f.cols]);
    const bias = tf.tensor1d(f.bias);
    layers.layers[i]!.setWeights([kernel, bias]);
    tf.dispose([kernel, bias]);
  });
  await layers.save(
    tf.io.withSaveHandler((artifacts) => {
      const weightsPath = 'weights.bin';
      writeFileAtomic(join(dir, 'model', weightsPath), Buffer.from(artifacts.weightData as ArrayBuffer));
      const json = {
        format: 'layers-model',
        generatedBy: 'sparsity-studio',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [weightsPath], weights: artifacts.weightSpecs }],
      };
      writeFileAtomic(join(dir, 'model', 'model.json'), JSON.stringify(json));
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
    }),
  );
  layers.dispose();
  return [];
}

function writeBlockSparse(model: MaskedModel, folded: ReturnType<typeof foldedWeights>, dir: string): void {
  const parts: Buffer[] = [];
  let offset = 0;
  const layers: BlockSparseLayer[] = model.layers.map((l, i) => {
    const g = l.grid;
    const f = folded[i]!;
    const kept = l.mask ? [...l.mask.keys()].filter((b) => l.mask![b] === 1) : [...Array(g.blocks).keys()];
    const data = new Float32Array(kept.length * g.blockRows * g.blockCols + g.cols);
    kept.forEach((b, k) => {
      const br = Math.floor(b / g.gridCols);
      const bc = b % g.gridCols;
      for (let r = 0; r < g.blockRows; r++)
        for (let c = 0; c < g.blockCols; c++) {
          const row = br * g.blockRows + r;
          const col = bc * g.blockCols + c;
          if (row < g.rows && col < g.cols)
            data[(k * g.blockRows + r) * g.blockCols + c] = f.kernel[row * g.cols + col]!;
        }
    });
    data.set(f.bias, kept.length * g.blockRows * g.blockCols);
    const layer: BlockSparseLayer = {
      name: l.name,
      rows: g.rows,
      cols: g.cols,
      blockRows: g.blockRows,
      blockCols: g.blockCols,
      gridRows: g.gridRows,
      gridCols: g.gridCols,
      kept,
      offset,
      activation: i === model.layers.length - 1 ? 'softmax-logits' : f.activation,
    };
    parts.push(Buffer.from(data.buffer));
    offset += data.byteLength;
    return layer;
  });
  const manifest: BlockSparseManifest = {
    format: 'sparsity-studio/block-sparse@1',
    inputSize: layers[0]!.rows,
    layers,
  };
  writeFileAtomic(join(dir, 'block-sparse.bin'), Buffer.concat(parts));
  writeFileAtomic(join(dir, 'block-sparse.json'), `${JSON.stringify(manifest)}\n`);
}

export interface BlockSparseModel {
  manifest: BlockSparseManifest;
  /** Logits for `batch` inputs (row-major `batch x inputSize`). */
  predict(x: Float32Array, batch: number): Float32Array;
}

/**
 * Reads `block-sparse.json`/`.bin` and returns a model that computes with the kept blocks only:
 * with the WebAssembly SIMD network (wasmBlockSparseMatmul.ts) where the runtime has SIMD, else
 * with the JS loop below (`simd: false` forces that).
 */
export function readBlockSparse(dir: string, options: { simd?: boolean } = {}): BlockSparseModel {
  const manifest = JSON.parse(readFileSync(join(dir, 'block-sparse.json'), 'utf8')) as BlockSparseManifest;
  if (manifest.format !== 'sparsity-studio/block-sparse@1')
    throw new Error(`${dir}/block-sparse.json is not a block-sparse model`);
  const bin = readFileSync(join(dir, 'block-sparse.bin'));
  const floats = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  const layers = manifest.layers.map((l) => {
    const start = l.offset / 4;
    const blockSize = l.blockRows * l.blockCols;
    const blocks = floats.subarray(start, start + l.kept.length * blockSize);
    return {
      ...l,
      blocks,
      bias: floats.subarray(start + l.kept.length * blockSize, start + l.kept.length * blockSize + l.cols),
    };
  });
  const network =
    (options.simd ?? true) && WasmBlockSparseNetwork.supports(layers) ? new WasmBlockSparseNetwork(layers) : null;
  return {
    manifest,
    predict(x, batch) {
      if (network)
        return network.forward(
          x,
          batch,
          layers.map(({ activation }) =>
            activation === 'relu' || activation === 'linear'
              ? activation
              : activation === 'softmax-logits'
                ? 'linear'
                : (values: Float32Array) => applyActivation(values, activation),
          ),
        );
      let h = x;
      for (const l of layers) {
        const out = new Float32Array(batch * l.cols);
        for (let n = 0; n < batch; n++) out.set(l.bias, n * l.cols);
        blockSparseMatmul(h, batch, l.rows, l, l.blocks, out);
        if (l.activation !== 'softmax-logits') applyActivation(out, l.activation);
        h = out;
      }
      return h;
    },
  };
}

/** `out += x · W` where W is given by its kept blocks; loops only over stored blocks (the reference kernel). */
export function blockSparseMatmul(
  x: Float32Array,
  batch: number,
  inner: number,
  layout: { cols: number; rows: number; blockRows: number; blockCols: number; gridCols: number; kept: number[] },
  blocks: Float32Array,
  out: Float32Array,
): void {
  const { blockRows: br, blockCols: bc, cols, rows } = layout;
  const blockSize = br * bc;
  layout.kept.forEach((b, k) => {
    const r0 = Math.floor(b / layout.gridCols) * br;
    const c0 = (b % layout.gridCols) * bc;
    const rEnd = Math.min(br, rows - r0);
    const cEnd = Math.min(bc, cols - c0);
    const base = k * blockSize;
    for (let n = 0; n < batch; n++) {
      const xRow = n * inner + r0;
      const oRow = n * cols + c0;
      for (let r = 0; r < rEnd; r++) {
        const xv = x[xRow + r]!;
        if (xv === 0) continue;
        const wRow = base + r * bc;
        for (let c = 0; c < cEnd; c++) out[oRow + c]! += xv * blocks[wRow + c]!;
      }
    }
  });
}

function applyActivation(values: Float32Array, activation: ActivationName): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    switch (activation) {
      case 'relu':
        values[i] = v > 0 ? v : 0;
        break;
      case 'tanh':
        values[i] = Math.tanh(v);
        break;
      case 'sigmoid':
        values[i] = 1 / (1 + Math.exp(-v));
        break;
      case 'elu':
        values[i] = v > 0 ? v : Math.exp(v) - 1;
        break;
      case 'gelu':
        values[i] = v / (1 + Math.exp(-1.702 * v));
        break;
      case 'linear':
        break;
    }
  }
}
