/**
 * Reads a user's TF.js LayersModel from disk: `model.json` (topology and weight manifest) and its
 * weight files, decoded by weight name. What the topology means is graphShape.ts's job (the same
 * description the editor shows); graphModel.ts then builds it with tfjs-layers.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

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

/** Reads `model.json` and its weight files. */
export function loadTfjsModel(file: string): LoadedTfjsModel {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new TfjsModelError(`${file} cannot be read as JSON: ${(error as Error).message}`, file);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new TfjsModelError(`${file} is not a JSON object`, file);
  const manifest = (json as { weightsManifest?: tf.io.WeightsManifestConfig }).weightsManifest ?? [];
  if (!Array.isArray(manifest)) throw new TfjsModelError(`${file}: \`weightsManifest\` is not a list`, file);
  const weights = new Map<string, StoredWeight>();
  for (const group of manifest) {
    const buffers = group.paths.map((p) => {
      try {
        return readFileSync(resolve(dirname(file), p));
      } catch {
        throw new TfjsModelError(`${file}: weight file ${p} cannot be read`, file);
      }
    });
    const all = Buffer.concat(buffers);
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
