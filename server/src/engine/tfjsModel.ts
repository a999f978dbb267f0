/**
 * Loads a user's TF.js LayersModel (`model.json` + weight files) into the engine's network spec
 * and initial weights, so it trains with block masks like the built-in models. Supported layers
 * are `SUPPORTED_TFJS_LAYERS` (Dense, Conv2D, Flatten, Dropout, Activation, MaxPooling2D,
 * BatchNormalization); anything else, and any option we would silently get wrong (channels-first
 * data, dilations, unknown activations), is an error naming the layer.
 */
import { dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { MODEL_JSON_MAX_BYTES } from '../experiment/analysis';
import { describeTfjsModel, tfjsLayerConfigs } from '../experiment/modelShape';
import { formatBytes, readRegularFile } from '../data/regularFile';
import type { ActivationName } from '../experiment/schema';
import type { InitialWeights } from './maskedModel';
import { isKernelSpec, kernelMatrix, type LayerSpec, type NetworkSpec, type Padding } from './networkSpec';

export class TfjsModelError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'TfjsModelError';
  }
}

export interface LoadedTfjsModel {
  spec: NetworkSpec;
  weights: InitialWeights;
}

const ACTIVATIONS: Record<string, ActivationName> = {
  relu: 'relu',
  tanh: 'tanh',
  sigmoid: 'sigmoid',
  elu: 'elu',
  linear: 'linear',
  // Softmax only as the last activation: the loss takes logits.
  softmax: 'linear',
};

type Config = Record<string, unknown>;

function pick(config: Config, ...keys: string[]): unknown {
  for (const k of keys) if (config[k] !== undefined) return config[k];
  return undefined;
}

function pair(value: unknown, fallback: [number, number]): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number'))
    return [value[0] as number, value[1] as number];
  return fallback;
}

/** Parses `model.json`'s topology (no weights) into a network spec. */
export function tfjsNetworkSpec(modelJson: unknown, file = 'model.json'): NetworkSpec {
  const shape = describeTfjsModel(modelJson);
  if (!shape.ok) throw new TfjsModelError(`${file}: ${shape.error.message}`, file);
  const configs = tfjsLayerConfigs(modelJson);
  if (typeof configs === 'string') throw new TfjsModelError(`${file}: ${configs}`, file);
  const byName = new Map(shape.shape.layers.map((l) => [l.name, l]));
  const fail = (layer: string, what: string) => new TfjsModelError(`${file}: layer \`${layer}\` ${what}`, file);
  const activation = (layer: string, config: Config, isLast: boolean, units: number): ActivationName => {
    const raw = pick(config, 'activation') ?? 'linear';
    if (typeof raw !== 'string' || !(raw in ACTIVATIONS))
      throw fail(
        layer,
        `uses the activation ${JSON.stringify(raw)}, which cannot be trained here (supported: ${Object.keys(ACTIVATIONS).join(', ')})`,
      );
    if (raw === 'softmax' && !isLast) throw fail(layer, 'uses softmax before the last layer');
    // The loss takes logits: a final sigmoid on one unit is the click probability's logistic.
    if (raw === 'sigmoid' && isLast && units === 1) return 'linear';
    return ACTIVATIONS[raw]!;
  };
  const layers: LayerSpec[] = [];
  const trainable = configs.filter((c) => c.className !== 'InputLayer');
  let previousShape = shape.shape.inputShape;
  trainable.forEach((c, i) => {
    const described = byName.get(c.name);
    if (!described) throw fail(c.name, 'is missing from the described model');
    const isLast = trainable.slice(i + 1).every((n) => n.className === 'Dropout');
    const cfg = c.config;
    switch (c.className) {
      case 'Dense': {
        const [rows, cols] = described.matrix!;
        layers.push({
          kind: 'dense',
          name: c.name,
          rows,
          cols,
          activation: activation(c.name, cfg, isLast, cols),
          useBias: pick(cfg, 'use_bias', 'useBias') !== false,
        });
        break;
      }
      case 'Conv2D': {
        if ((pick(cfg, 'data_format', 'dataFormat') ?? 'channels_last') !== 'channels_last')
          throw fail(c.name, 'uses channels_first data; only channels_last is supported');
        const dilation = pair(pick(cfg, 'dilation_rate', 'dilationRate'), [1, 1]);
        if (dilation[0] !== 1 || dilation[1] !== 1) throw fail(c.name, 'uses a dilation rate; only 1 is supported');
        const [kh, kw] = pair(pick(cfg, 'kernel_size', 'kernelSize'), [1, 1]);
        const [rows, filters] = described.matrix!;
        layers.push({
          kind: 'conv2d',
          name: c.name,
          kernelHeight: kh,
          kernelWidth: kw,
          inChannels: rows / (kh * kw),
          filters,
          strides: pair(pick(cfg, 'strides'), [1, 1]),
          padding: (pick(cfg, 'padding') === 'same' ? 'same' : 'valid') as Padding,
          activation: activation(c.name, cfg, isLast, filters),
          useBias: pick(cfg, 'use_bias', 'useBias') !== false,
        });
        break;
      }
      case 'MaxPooling2D': {
        const pool = pair(pick(cfg, 'pool_size', 'poolSize'), [2, 2]);
        layers.push({
          kind: 'maxpool',
          name: c.name,
          pool,
          strides: pair(pick(cfg, 'strides'), pool),
          padding: pick(cfg, 'padding') === 'same' ? 'same' : 'valid',
        });
        break;
      }
      case 'Flatten':
        layers.push({ kind: 'flatten', name: c.name });
        break;
      case 'Dropout': {
        const rate = pick(cfg, 'rate');
        layers.push({ kind: 'dropout', name: c.name, rate: typeof rate === 'number' ? rate : 0 });
        break;
      }
      case 'Activation':
        layers.push({
          kind: 'activation',
          name: c.name,
          activation: activation(c.name, cfg, isLast, previousShape[previousShape.length - 1] ?? 0),
        });
        break;
      case 'BatchNormalization': {
        const axis = pick(cfg, 'axis');
        const rank = previousShape.length + 1;
        if (
          axis !== undefined &&
          axis !== -1 &&
          axis !== rank - 1 &&
          !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === rank - 1))
        )
          throw fail(c.name, 'normalises an axis other than the last; only the last (channels) axis is supported');
        const num = (v: unknown, d: number) => (typeof v === 'number' ? v : d);
        layers.push({
          kind: 'batchnorm',
          name: c.name,
          channels: previousShape[previousShape.length - 1]!,
          epsilon: num(pick(cfg, 'epsilon'), 1e-3),
          momentum: num(pick(cfg, 'momentum'), 0.99),
          center: pick(cfg, 'center') !== false,
          scale: pick(cfg, 'scale') !== false,
        });
        break;
      }
      default:
        throw fail(c.name, `is a ${c.className}, which cannot be trained here`);
    }
    previousShape = described.outputShape;
  });
  const kernels = layers.filter(isKernelSpec);
  if (kernels.length === 0) throw new TfjsModelError(`${file}: the model has no Dense or Conv2D layer to train`, file);
  return { inputShape: shape.shape.inputShape, layers, outputUnits: kernelMatrix(kernels[kernels.length - 1]!)[1] };
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** The bytes a weight group's entries take in its files, from their shapes and (quantized) dtypes. */
function manifestBytes(weights: tf.io.WeightsManifestEntry[], file: string): number {
  let total = 0;
  for (const w of weights) {
    const dtype = w.quantization?.dtype ?? w.dtype;
    const size = DTYPE_BYTES[dtype];
    if (size === undefined || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new TfjsModelError(`${file}: weight \`${w.name}\` has an unsupported dtype or shape`, file);
    total += size * w.shape.reduce((a, b) => a * b, 1);
  }
  return total;
}

/** Reads `model.json` and its weight files; weights come back by engine name (`dense_1/kernel`). */
export function loadTfjsModel(file: string): LoadedTfjsModel {
  let text: string;
  try {
    text = readRegularFile(file, MODEL_JSON_MAX_BYTES).toString('utf8');
  } catch (error) {
    throw new TfjsModelError((error as Error).message, file);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TfjsModelError(`${file} cannot be read as JSON: ${(error as Error).message}`, file);
  }
  const spec = tfjsNetworkSpec(json, file);
  const manifest = (json as { weightsManifest?: tf.io.WeightsManifestConfig }).weightsManifest ?? [];
  const weights: InitialWeights = new Map();
  const stored = new Map<string, Float32Array>();
  for (const group of manifest) {
    // The manifest says how many bytes its weights take: no weight file is read beyond that.
    const expected = manifestBytes(group.weights, file);
    let remaining = expected;
    const buffers = group.paths.map((p) => {
      try {
        const bytes = readRegularFile(resolve(dirname(file), p), remaining);
        remaining -= bytes.length;
        return bytes;
      } catch (error) {
        throw new TfjsModelError(`${file}: weight file ${p}: ${(error as Error).message}`, file);
      }
    });
    const all = Buffer.concat(buffers);
    if (all.length !== expected)
      throw new TfjsModelError(
        `${file}: the weight files ${group.paths.join(', ')} hold ${formatBytes(all.length)}, the manifest declares ${formatBytes(expected)}`,
        file,
      );
    const decoded = tf.io.decodeWeights(
      all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      group.weights,
    );
    for (const [name, tensor] of Object.entries(decoded)) {
      stored.set(name, Float32Array.from(tensor.dataSync()));
      tensor.dispose();
    }
  }
  const find = (layer: string, weight: string): Float32Array | undefined => {
    const exact = stored.get(`${layer}/${weight}`);
    if (exact) return exact;
    for (const [name, data] of stored) if (name.endsWith(`/${layer}/${weight}`)) return data;
    return undefined;
  };
  const wanted: Record<string, string[]> = {
    dense: ['kernel', 'bias'],
    conv2d: ['kernel', 'bias'],
    batchnorm: ['gamma', 'beta', 'moving_mean', 'moving_variance'],
  };
  for (const layer of spec.layers) {
    for (const weight of wanted[layer.kind] ?? []) {
      const data = find(layer.name, weight);
      if (data) weights.set(`${layer.name}/${weight}`, data);
      else if (weight === 'kernel')
        throw new TfjsModelError(`${file}: layer \`${layer.name}\` has no stored kernel`, file);
    }
  }
  return { spec, weights };
}
