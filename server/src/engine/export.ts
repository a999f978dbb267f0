/**
 * Export of a trained model (spec §1.2 "Export"): the attention folded into
 * the weights, `W ⊙ A ⊙ mask`, so pruned blocks are exact zeros and the logits can be dropped.
 * Two formats under `export/`:
 * - `model/model.json` + `model/weights.bin`: a TF.js LayersModel (Sequential of Dense layers);
 * - `block-sparse.json` + `block-sparse.bin`: per layer only the kept blocks, with a reader
 *   (`readBlockSparse`) whose block-sparse matmul reproduces the dense outputs.
 */
import { createHash } from 'node:crypto';
import { makeFolder, writeFileAtomic } from '../data/durableFile';
import { CorruptFileError, readRegularFile } from '../data/regularFile';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BlockGrid } from '../experiment/pruningPlan';
import { ACTIVATIONS, type ActivationName } from '../experiment/schema';
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

export const BLOCK_SPARSE_FORMAT = 'sparsity-studio/block-sparse@2';

export interface BlockSparseManifest {
  format: typeof BLOCK_SPARSE_FORMAT;
  inputSize: number;
  layers: BlockSparseLayer[];
  /**
   * `block-sparse.bin`'s size and SHA-256: the pair is written bin first, manifest last, so a
   * manifest always names the bin it goes with, and a bin from another export is refused.
   */
  bin: { bytes: number; sha256: string };
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
  const bin = Buffer.concat(parts);
  const manifest: BlockSparseManifest = {
    format: BLOCK_SPARSE_FORMAT,
    inputSize: layers[0]!.rows,
    layers,
    bin: { bytes: bin.length, sha256: createHash('sha256').update(bin).digest('hex') },
  };
  writeFileAtomic(join(dir, 'block-sparse.bin'), bin);
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
  const manifestFile = join(dir, 'block-sparse.json');
  const binFile = join(dir, 'block-sparse.bin');
  const manifest = checkBlockSparseManifest(
    readRegularFile(manifestFile, 64 * 1024 * 1024).toString('utf8'),
    manifestFile,
  );
  const bin = readRegularFile(binFile, manifest.bin.bytes);
  if (bin.length !== manifest.bin.bytes)
    throw new CorruptFileError(binFile, '', `holds ${bin.length} bytes; ${manifestFile} says ${manifest.bin.bytes}`);
  if (createHash('sha256').update(bin).digest('hex') !== manifest.bin.sha256)
    throw new CorruptFileError(
      binFile,
      '',
      `does not match the SHA-256 in ${manifestFile}: it belongs to another export or is damaged`,
    );
  const floats = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  const bad = floats.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new CorruptFileError(binFile, `float ${bad}`, `is ${floats[bad]}`);
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

/**
 * `block-sparse.json`, checked field by field against itself: every grid agrees with its sizes,
 * kept blocks are sorted grid indices, layers chain (each one's rows are the previous one's
 * columns), and every layer's data lies inside the bin the manifest describes.
 */
function checkBlockSparseManifest(text: string, file: string): BlockSparseManifest {
  const fail = (field: string, problem: string): never => {
    throw new CorruptFileError(file, field, problem);
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail('', `is not valid JSON: ${(error as Error).message}`);
  }
  const isInt = (v: unknown, min: number): v is number => Number.isSafeInteger(v) && (v as number) >= min;
  const record = (v: unknown, field: string) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : fail(field, 'is not an object');
  const m = record(json, '');
  if (m['format'] !== BLOCK_SPARSE_FORMAT)
    fail('format', `is ${JSON.stringify(m['format'])}, not ${BLOCK_SPARSE_FORMAT} (export the run again)`);
  const bin = record(m['bin'], 'bin');
  if (!isInt(bin['bytes'], 0)) fail('bin.bytes', 'is not a byte count');
  if (typeof bin['sha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(bin['sha256']))
    fail('bin.sha256', 'is not a SHA-256');
  if (!isInt(m['inputSize'], 1)) fail('inputSize', 'is not a positive integer');
  if (!Array.isArray(m['layers']) || m['layers'].length === 0) fail('layers', 'is not a non-empty list');
  let inner = m['inputSize'] as number;
  for (const [i, raw] of (m['layers'] as unknown[]).entries()) {
    const at = `layers[${i}]`;
    const l = record(raw, at);
    if (typeof l['name'] !== 'string') fail(`${at}.name`, 'is not a string');
    for (const key of ['rows', 'cols', 'blockRows', 'blockCols', 'gridRows', 'gridCols'])
      if (!isInt(l[key], 1)) fail(`${at}.${key}`, `is ${JSON.stringify(l[key])}, not a positive integer`);
    const g = l as unknown as BlockSparseLayer;
    if (g.rows !== inner) fail(`${at}.rows`, `is ${g.rows}, but the layer before gives ${inner} inputs`);
    if (g.gridRows !== Math.ceil(g.rows / g.blockRows))
      fail(`${at}.gridRows`, `is ${g.gridRows}, not ceil(rows / blockRows)`);
    if (g.gridCols !== Math.ceil(g.cols / g.blockCols))
      fail(`${at}.gridCols`, `is ${g.gridCols}, not ceil(cols / blockCols)`);
    if (!Array.isArray(g.kept)) fail(`${at}.kept`, 'is not a list');
    g.kept.forEach((b, k) => {
      if (!isInt(b, 0) || b >= g.gridRows * g.gridCols)
        fail(`${at}.kept[${k}]`, `is ${JSON.stringify(b)}, not a block of the ${g.gridRows}x${g.gridCols} grid`);
      if (k > 0 && b <= g.kept[k - 1]!) fail(`${at}.kept[${k}]`, 'is not in increasing order');
    });
    if (!isInt(g.offset, 0) || g.offset % 4 !== 0) fail(`${at}.offset`, 'is not a float32 byte offset');
    const end = g.offset + 4 * (g.kept.length * g.blockRows * g.blockCols + g.cols);
    if (end > (bin['bytes'] as number))
      fail(
        `${at}.offset`,
        `puts the layer's data at bytes ${g.offset}..${end}, past the bin's ${String(bin['bytes'])}`,
      );
    if (!(g.activation in ACTIVATIONS) && g.activation !== 'softmax-logits')
      fail(`${at}.activation`, `is ${JSON.stringify(g.activation)}, not one this reader computes`);
    inner = g.cols;
  }
  return json as BlockSparseManifest;
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
