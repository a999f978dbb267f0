/**
 * Reads a user's TF.js LayersModel from disk: `model.json` (topology and weight manifest) and its
 * weight files, decoded by weight name. What the topology means is graphShape.ts's job (the same
 * description the editor shows); graphModel.ts then builds it with tfjs-layers.
 */
import { dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { MODEL_JSON_MAX_BYTES } from '../experiment/analysis';
import { formatBytes, readRegularFile } from '../data/regularFile';

export class TfjsModelError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'TfjsModelError';
  }
}

/** A stored weight: its values and shape. */
export interface StoredWeight {
  data: Float32Array;
  shape: number[];
}

export interface LoadedTfjsModel {
  /** The parsed `model.json`. */
  json: Record<string, unknown>;
  /** Weights by their manifest name (`conv/kernel`, possibly with a model prefix); empty without a manifest. */
  weights: Map<string, StoredWeight>;
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

/** Reads `model.json` and its weight files. */
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
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new TfjsModelError(`${file} is not a JSON object`, file);
  const manifest = (json as { weightsManifest?: tf.io.WeightsManifestConfig }).weightsManifest ?? [];
  if (!Array.isArray(manifest)) throw new TfjsModelError(`${file}: \`weightsManifest\` is not a list`, file);
  const weights = new Map<string, StoredWeight>();
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
    let decoded: tf.NamedTensorMap;
    try {
      decoded = tf.io.decodeWeights(all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength), group.weights);
    } catch (error) {
      throw new TfjsModelError(
        `${file}: the weight files do not match the manifest: ${(error as Error).message}`,
        file,
      );
    }
    for (const [name, tensor] of Object.entries(decoded)) {
      weights.set(name, { data: Float32Array.from(tensor.dataSync()), shape: tensor.shape });
      tensor.dispose();
    }
  }
  return { json: json as Record<string, unknown>, weights };
}

/** A layer's stored weight whatever prefix the converter gave it (`conv/kernel`, `model/conv/kernel`). */
export function storedWeight(
  weights: Map<string, StoredWeight>,
  layer: string,
  weight: string,
): StoredWeight | undefined {
  const exact = weights.get(`${layer}/${weight}`);
  if (exact) return exact;
  for (const [name, value] of weights) if (name.endsWith(`/${layer}/${weight}`)) return value;
  return undefined;
}
