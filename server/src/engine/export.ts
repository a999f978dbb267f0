/**
 * Export of a trained model (spec §1.2 "Export"): the attention folded into
 * the weights, `W ⊙ A ⊙ mask`, so pruned blocks are exact zeros and the logits can be dropped.
 * Two formats under `export/`:
 * - `model/model.json` + `model/weights.bin`: a TF.js LayersModel that plain `tf.loadLayersModel`
 *   loads (no custom class): the user's own topology or the built-in ResNet's for graph models,
 *   a Sequential of Conv2D / MaxPooling2D / Flatten / Dropout / Dense layers for `mlp` and `cnn`;
 * - `block-sparse.json` + `block-sparse.bin`: per prunable layer only the kept blocks, with a reader
 *   (`readBlockSparse`) whose block-sparse matmul reproduces the dense outputs of a stack of dense
 *   layers; for other models the file holds the kept blocks of each kernel matrix of the
 *   LayersModel (`layersModel`), rebuilt by `blockSparseKernels`.
 */
import { createHash } from 'node:crypto';
import { makeFolder, writeFileAtomic } from '../data/durableFile';
import { CorruptFileError, readRegularFile } from '../data/regularFile';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BlockGrid } from '../experiment/pruningPlan';
import { ACTIVATIONS, type ActivationName } from '../experiment/schema';
import { GraphModel } from './graphModel';
import { MaskedModel } from './maskedModel';
import type { TrainableModel } from './trainableModel';
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
  /**
   * Set when the model is not a stack of dense layers: the layers are the kernel matrices of this
   * LayersModel (relative path), which computes the network; `predict` is then unavailable.
   */
  layersModel?: string;
}

/** Folded kernel matrix and bias of every prunable layer, as plain arrays. */
export function foldedWeights(model: TrainableModel): {
  name: string;
  kernel: Float32Array;
  bias: Float32Array;
  rows: number;
  cols: number;
  grid: BlockGrid;
  mask: Uint8Array | null;
  activation: ActivationName;
}[] {
  return model.layers.map((l) => {
    const chain = model instanceof MaskedModel ? model.layers.find((k) => k.name === l.name) : undefined;
    return {
      name: l.name,
      rows: l.grid.rows,
      cols: l.grid.cols,
      grid: l.grid,
      mask: l.mask,
      kernel: tf.tidy(() => model.effectiveKernel(l).dataSync() as Float32Array).slice(),
      bias: chain?.bias ? (chain.bias.dataSync().slice() as Float32Array) : new Float32Array(l.grid.cols),
      activation: chain?.spec.activation ?? 'linear',
    };
  });
}

/** A weight of a LayersModel as export writes it: the tfjs name (`conv_1/kernel`), shape and values. */
interface NamedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Writes both formats; returns what could not be written. */
export function exportModel(model: TrainableModel, dir: string): string[] {
  makeFolder(dir);
  const folded = foldedWeights(model);
  if (model instanceof GraphModel) {
    writeLayersModel(join(dir, 'model'), model.topology, model.foldedWeights());
    writeBlockSparse(folded, dir, 'model/model.json');
    return [];
  }
  if (!(model instanceof MaskedModel)) throw new Error('export: unknown model engine');
  const unsupported = model.spec.layers.filter((l) => l.kind === 'embedding' || l.kind === 'batchnorm');
  const dense = model.spec.layers.every((l) => l.kind === 'dense' || l.kind === 'dropout');
  if (unsupported.length > 0) {
    writeBlockSparse(folded, dir, dense ? null : 'model/model.json');
    return [
      `export/model: ${unsupported.map((l) => `${l.kind} \`${l.name}\``).join(', ')} has no plain Keras layer here; only the block-sparse kernels were written`,
    ];
  }
  if (
    folded.some((f) => f.activation === 'gelu') ||
    model.spec.layers.some((l) => l.kind === 'activation' && l.activation === 'gelu')
  ) {
    writeBlockSparse(folded, dir, dense ? null : 'model/model.json');
    return [
      'export/model: TF.js layers have no gelu matching ours (x·sigmoid(1.702x)); only the block-sparse model was written',
    ];
  }
  const { topology, weights } = chainLayersModel(model, folded);
  writeLayersModel(join(dir, 'model'), topology, weights);
  writeBlockSparse(folded, dir, dense ? null : 'model/model.json');
  return [];
}

/** The built-in chain (`mlp`, `cnn`) as a Sequential LayersModel with folded kernels. */
function chainLayersModel(
  model: MaskedModel,
  folded: ReturnType<typeof foldedWeights>,
): { topology: Record<string, unknown>; weights: NamedWeight[] } {
  // A fixed name: tfjs would number it per process, and the same run must export the same bytes.
  const sequential = tfl.sequential({ name: 'folded' });
  const weights: NamedWeight[] = [];
  const byName = new Map(folded.map((f) => [f.name, f]));
  const lastKernel = folded[folded.length - 1]?.name;
  model.spec.layers.forEach((spec, i) => {
    const first = i === 0 ? { inputShape: model.spec.inputShape } : {};
    switch (spec.kind) {
      case 'dense': {
        const f = byName.get(spec.name)!;
        sequential.add(
          tfl.layers.dense({
            units: spec.cols,
            activation: spec.name === lastKernel ? 'linear' : spec.activation,
            useBias: spec.useBias,
            name: spec.name,
            ...first,
          }),
        );
        weights.push({ name: `${spec.name}/kernel`, shape: [spec.rows, spec.cols], data: f.kernel });
        if (spec.useBias) weights.push({ name: `${spec.name}/bias`, shape: [spec.cols], data: f.bias });
        break;
      }
      case 'conv2d': {
        const f = byName.get(spec.name)!;
        sequential.add(
          tfl.layers.conv2d({
            filters: spec.filters,
            kernelSize: [spec.kernelHeight, spec.kernelWidth],
            strides: spec.strides,
            padding: spec.padding,
            activation: spec.activation,
            useBias: spec.useBias,
            name: spec.name,
            ...first,
          }),
        );
        // The (kh·kw·cin) x cout matrix is the [kh, kw, cin, cout] kernel read row-major.
        weights.push({
          name: `${spec.name}/kernel`,
          shape: [spec.kernelHeight, spec.kernelWidth, spec.inChannels, spec.filters],
          data: f.kernel,
        });
        if (spec.useBias) weights.push({ name: `${spec.name}/bias`, shape: [spec.filters], data: f.bias });
        break;
      }
      case 'maxpool':
        sequential.add(
          tfl.layers.maxPooling2d({
            poolSize: spec.pool,
            strides: spec.strides,
            padding: spec.padding,
            name: spec.name,
            ...first,
          }),
        );
        break;
      case 'flatten':
        sequential.add(tfl.layers.flatten({ name: spec.name, ...first }));
        break;
      case 'dropout':
        sequential.add(tfl.layers.dropout({ rate: spec.rate, name: spec.name, ...first }));
        break;
      case 'activation':
        sequential.add(tfl.layers.activation({ activation: spec.activation, name: spec.name, ...first }));
        break;
      case 'batchnorm':
      case 'embedding':
        throw new Error(`unreachable: ${spec.kind} is refused before`);
    }
  });
  const topology = sequential.toJSON(undefined, false) as unknown as Record<string, unknown>;
  sequential.dispose();
  return { topology, weights };
}

/** model.json (format `layers-model`) and one weights.bin, as `tf.loadLayersModel` reads them. */
function writeLayersModel(dir: string, topology: Record<string, unknown>, weights: NamedWeight[]): void {
  makeFolder(dir);
  const weightsPath = 'weights.bin';
  const json = {
    format: 'layers-model',
    generatedBy: 'sparsity-studio',
    convertedBy: null,
    modelTopology: topology,
    weightsManifest: [
      { paths: [weightsPath], weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) },
    ],
  };
  writeFileAtomic(
    join(dir, weightsPath),
    Buffer.concat(weights.map((w) => Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength))),
  );
  writeFileAtomic(join(dir, 'model.json'), JSON.stringify(json));
}

function writeBlockSparse(folded: ReturnType<typeof foldedWeights>, dir: string, layersModel: string | null): void {
  const parts: Buffer[] = [];
  let offset = 0;
  const layers: BlockSparseLayer[] = folded.map((f, i) => {
    const g = f.grid;
    const kept = f.mask ? [...f.mask.keys()].filter((b) => f.mask![b] === 1) : [...Array(g.blocks).keys()];
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
      name: f.name,
      rows: g.rows,
      cols: g.cols,
      blockRows: g.blockRows,
      blockCols: g.blockCols,
      gridRows: g.gridRows,
      gridCols: g.gridCols,
      kept,
      offset,
      activation: i === folded.length - 1 && !layersModel ? 'softmax-logits' : f.activation,
    };
    parts.push(Buffer.from(data.buffer));
    offset += data.byteLength;
    return layer;
  });
  const bin = Buffer.concat(parts);
  const manifest: BlockSparseManifest = {
    format: BLOCK_SPARSE_FORMAT,
    inputSize: layers[0]?.rows ?? 0,
    layers,
    bin: { bytes: bin.length, sha256: createHash('sha256').update(bin).digest('hex') },
    ...(layersModel && { layersModel }),
  };
  writeFileAtomic(join(dir, 'block-sparse.bin'), bin);
  writeFileAtomic(join(dir, 'block-sparse.json'), `${JSON.stringify(manifest)}\n`);
}

export interface BlockSparseModel {
  manifest: BlockSparseManifest;
  /** Logits for `batch` inputs (row-major `batch x inputSize`). */
  predict(x: Float32Array, batch: number): Float32Array;
}

/** `block-sparse.json` and its bin, checked against each other: the floats of a sound export. */
function readBlockSparseFiles(dir: string): { manifest: BlockSparseManifest; floats: Float32Array } {
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
  return { manifest, floats };
}

/**
 * Reads `block-sparse.json`/`.bin` and returns a model that computes with the kept blocks only:
 * with the WebAssembly SIMD network (wasmBlockSparseMatmul.ts) where the runtime has SIMD, else
 * with the JS loop below (`simd: false` forces that).
 */
export function readBlockSparse(dir: string, options: { simd?: boolean } = {}): BlockSparseModel {
  const { manifest, floats } = readBlockSparseFiles(dir);
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
    !manifest.layersModel && (options.simd ?? true) && WasmBlockSparseNetwork.supports(layers)
      ? new WasmBlockSparseNetwork(layers)
      : null;
  return {
    manifest,
    predict(x, batch) {
      if (manifest.layersModel)
        throw new Error(
          `${dir}/block-sparse.json holds the kernels of a model that is not a stack of dense layers: run ${manifest.layersModel}`,
        );
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
  const layersModel = m['layersModel'];
  if (layersModel !== undefined && (typeof layersModel !== 'string' || layersModel.startsWith('/')))
    fail('layersModel', 'is not a relative path');
  if (!Array.isArray(m['layers']) || m['layers'].length === 0) fail('layers', 'is not a non-empty list');
  let inner = m['inputSize'] as number;
  for (const [i, raw] of (m['layers'] as unknown[]).entries()) {
    const at = `layers[${i}]`;
    const l = record(raw, at);
    if (typeof l['name'] !== 'string') fail(`${at}.name`, 'is not a string');
    for (const key of ['rows', 'cols', 'blockRows', 'blockCols', 'gridRows', 'gridCols'])
      if (!isInt(l[key], 1)) fail(`${at}.${key}`, `is ${JSON.stringify(l[key])}, not a positive integer`);
    const g = l as unknown as BlockSparseLayer;
    // The kernels of a LayersModel (`layersModel`) need not chain: its topology connects them.
    if (layersModel === undefined && g.rows !== inner)
      fail(`${at}.rows`, `is ${g.rows}, but the layer before gives ${inner} inputs`);
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

/** Every layer's kernel matrix `[rows, cols]` rebuilt from its kept blocks (zeros elsewhere), and its bias. */
export function blockSparseKernels(dir: string): Map<string, { kernel: Float32Array; bias: Float32Array }> {
  const { manifest, floats } = readBlockSparseFiles(dir);
  const out = new Map<string, { kernel: Float32Array; bias: Float32Array }>();
  for (const l of manifest.layers) {
    const kernel = new Float32Array(l.rows * l.cols);
    const start = l.offset / 4;
    l.kept.forEach((b, k) => {
      const r0 = Math.floor(b / l.gridCols) * l.blockRows;
      const c0 = (b % l.gridCols) * l.blockCols;
      for (let r = 0; r < l.blockRows && r0 + r < l.rows; r++)
        for (let c = 0; c < l.blockCols && c0 + c < l.cols; c++)
          kernel[(r0 + r) * l.cols + c0 + c] = floats[start + (k * l.blockRows + r) * l.blockCols + c]!;
    });
    const biasStart = start + l.kept.length * l.blockRows * l.blockCols;
    out.set(l.name, { kernel, bias: floats.slice(biasStart, biasStart + l.cols) });
  }
  return out;
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
