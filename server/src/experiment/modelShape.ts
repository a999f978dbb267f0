/**
 * Layer shapes of a model, computed from the config alone (and, for `tfjs`, from the topology and
 * weight manifest of `model.json`, never its weights). The validator's model-aware checks, hover,
 * inlay hints and the engine's model builders all name and size layers through this module, so a
 * layer called `dense_2` in a diagnostic is the `dense_2` that trains.
 */
import { describeGraph, manifestShapes, parseTopology, type GraphShapeResult } from './graphShape';
import type { LayerShape, ModelShapeResult } from './layerShape';
import { resnetTopology } from './resnet';
import type { DataConfig, ModelConfig } from './schema';

export type { LayerKind, LayerShape, ModelShape, ModelShapeError, ModelShapeResult } from './layerShape';

export type Task = 'classification' | 'ctr';

/** What a data source feeds the model, as far as the config (plus cheap file probes) tells. */
export interface InputDescription {
  task: Task;
  /** Shape of one example, `[28, 28, 1]` for images, `[d]` for vectors; null when unknown without reading data. */
  shape: number[] | null;
  /** Classes for classification (null when unknown), 1 for CTR. */
  classes: number | null;
  /** Feature layout of CTR data. */
  ctr?: { numeric: number; categorical: number; buckets: number };
  /** Training examples when known from the config (synthetic sources, caps); otherwise null. */
  trainExamples: number | null;
}

/** Facts only a file can tell, read by the caller (IDX headers, the CSV header line). */
export interface DataProbe {
  shape?: number[];
  trainExamples?: number;
}

export const FASHION_MNIST_TRAIN_EXAMPLES = 60_000;
export const CRITEO_NUMERIC = 13;
export const CRITEO_CATEGORICAL = 26;

export function describeInput(data: DataConfig, probe: DataProbe = {}): InputDescription {
  const cap = (n: number | null) =>
    n === null ? (data.train_examples ?? null) : Math.min(n, data.train_examples ?? n);
  switch (data.source) {
    case 'fashion-mnist':
      return {
        task: 'classification',
        shape: [28, 28, 1],
        classes: 10,
        trainExamples: cap(FASHION_MNIST_TRAIN_EXAMPLES),
      };
    case 'idx':
      return {
        task: 'classification',
        shape: probe.shape ?? null,
        classes: data.classes,
        trainExamples: cap(probe.trainExamples ?? null),
      };
    case 'csv':
    case 'npz':
      return {
        task: 'classification',
        shape: probe.shape ?? null,
        classes: data.classes,
        trainExamples: cap(probe.trainExamples ?? null),
      };
    case 'teacher':
      return {
        task: 'classification',
        shape: [data.input_dim],
        classes: data.classes,
        trainExamples: data.train_examples,
      };
    case 'criteo':
      return {
        task: 'ctr',
        shape: [CRITEO_NUMERIC + CRITEO_CATEGORICAL],
        classes: 1,
        ctr: { numeric: CRITEO_NUMERIC, categorical: CRITEO_CATEGORICAL, buckets: data.hash_buckets },
        trainExamples: cap(probe.trainExamples ?? null),
      };
    case 'synthetic-ctr':
      return {
        task: 'ctr',
        shape: [data.numeric_features + data.categorical_features],
        classes: 1,
        ctr: { numeric: data.numeric_features, categorical: data.categorical_features, buckets: data.hash_buckets },
        trainExamples: data.train_examples,
      };
  }
}

const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

function dense(name: string, inputs: number, units: number): LayerShape {
  return { name, kind: 'dense', matrix: [inputs, units], outputShape: [units], params: inputs * units + units };
}

/**
 * Layer shapes of a built-in model (`mlp`, `cnn`, `ctr`, `resnet`). `tfjs` models go through
 * `describeTfjsModel` with their parsed `model.json`.
 */
export function describeModel(
  model: Exclude<ModelConfig, { kind: 'tfjs' }>,
  input: InputDescription,
): ModelShapeResult {
  const fail = (message: string, path: (string | number)[]): ModelShapeResult => ({
    ok: false,
    error: { message, path },
  });
  if (input.shape === null) return fail('the input shape is not known until the data files can be read', ['data']);
  const outputUnits = input.task === 'ctr' ? 1 : input.classes;
  if (outputUnits === null) return fail('the number of classes is not known', ['data']);

  switch (model.kind) {
    case 'mlp': {
      if (input.task === 'ctr')
        return fail('`mlp` expects feature vectors or images; CTR data needs `kind: ctr`', ['model', 'kind']);
      const layers: LayerShape[] = [];
      let width = product(input.shape);
      model.hidden.forEach((units, i) => {
        layers.push(dense(`dense_${i + 1}`, width, units));
        width = units;
      });
      layers.push(dense('output', width, outputUnits));
      return { ok: true, shape: { inputShape: input.shape, layers } };
    }
    case 'cnn': {
      if (input.task === 'ctr' || input.shape.length !== 3) {
        return fail('`cnn` needs image data (`fashion-mnist` or `idx`), 28x28-like inputs with a channel axis', [
          'model',
          'kind',
        ]);
      }
      const layers: LayerShape[] = [];
      let [h, w, c] = input.shape as [number, number, number];
      const k = model.kernel_size;
      model.filters.forEach((filters, i) => {
        layers.push({
          name: `conv_${i + 1}`,
          kind: 'conv2d',
          matrix: [k * k * c, filters],
          outputShape: [h, w, filters],
          params: k * k * c * filters + filters,
        });
        c = filters;
        if (model.pool > 1) {
          h = Math.floor(h / model.pool);
          w = Math.floor(w / model.pool);
          layers.push({ name: `pool_${i + 1}`, kind: 'maxpool', matrix: null, outputShape: [h, w, c], params: 0 });
        }
      });
      if (h < 1 || w < 1)
        return fail(`pooling shrinks the image below 1x1 after ${model.filters.length} convolutions`, [
          'model',
          'pool',
        ]);
      layers.push({ name: 'flatten', kind: 'flatten', matrix: null, outputShape: [h * w * c], params: 0 });
      let width = h * w * c;
      model.dense.forEach((units, i) => {
        layers.push(dense(`dense_${i + 1}`, width, units));
        width = units;
      });
      layers.push(dense('output', width, outputUnits));
      return { ok: true, shape: { inputShape: input.shape, layers } };
    }
    case 'ctr': {
      if (input.task !== 'ctr' || !input.ctr)
        return fail('`ctr` needs click data (`criteo` or `synthetic-ctr`)', ['model', 'kind']);
      const { numeric, categorical, buckets } = input.ctr;
      const features = numeric + categorical;
      const d = model.embedding_dim;
      const layers: LayerShape[] = [
        {
          name: 'embedding',
          kind: 'embedding',
          matrix: null,
          outputShape: [features * d],
          params: (numeric + categorical * buckets) * d,
        },
      ];
      let width = features * d;
      model.hidden.forEach((units, i) => {
        layers.push(dense(`dense_${i + 1}`, width, units));
        width = units;
      });
      layers.push(dense('output', width, 1));
      return { ok: true, shape: { inputShape: input.shape, layers } };
    }
    case 'resnet': {
      if (input.task === 'ctr' || input.shape.length !== 3)
        return fail('`resnet` needs image data `[height, width, channels]` (`fashion-mnist`, `idx` or `npz` images)', [
          'model',
          'kind',
        ]);
      return describeResnet(model, input.shape, outputUnits);
    }
  }
}

/** The built-in ResNet's graph (resnet.ts), described like any LayersModel topology. */
export function describeResnet(
  model: Extract<ModelConfig, { kind: 'resnet' }>,
  inputShape: readonly number[],
  classes: number,
): GraphShapeResult {
  const topology = parseTopology({ modelTopology: resnetTopology(model, inputShape, classes) });
  if (typeof topology === 'string') throw new Error(`the built-in resnet topology is malformed: ${topology}`);
  return describeGraph(topology, ['model']);
}

// ---------------------------------------------------------------------------------------------
// tfjs LayersModel (model.json)
// ---------------------------------------------------------------------------------------------

/**
 * Layer shapes of a user's LayersModel from its parsed `model.json` (topology and weight manifest;
 * graphShape.ts), checked against what the data feeds it when that is known. Unsupported layers
 * and shape mismatches are errors naming the layer and its class, at `model.path`.
 */
export function describeTfjsModel(modelJson: unknown, input?: InputDescription): GraphShapeResult {
  const path = ['model', 'path'];
  const fail = (message: string): GraphShapeResult => ({ ok: false, error: { message, path } });
  const topology = parseTopology(modelJson);
  if (typeof topology === 'string') return fail(topology);
  const described = describeGraph(topology, path, {
    weightShapes: manifestShapes(modelJson),
    inputShape: input?.shape ?? null,
  });
  if (!described.ok || !input) return described;
  const { inputShape, outputShape, outputLayer } = described.shape;
  if (input.task === 'ctr') return fail('a tfjs model takes one input tensor; click data needs `kind: ctr`');
  if (input.shape && product(input.shape) !== product(inputShape))
    return fail(
      `the model takes inputs of shape [${inputShape.join(', ')}], but the data has examples of shape [${input.shape.join(', ')}]`,
    );
  if (outputShape.length !== 1)
    return fail(
      `the model's output \`${outputLayer}\` has shape [${outputShape.join(', ')}]; a classifier ends in one vector of class scores`,
    );
  if (input.classes !== null && outputShape[0] !== input.classes)
    return fail(
      `the model's output \`${outputLayer}\` has ${outputShape[0]} units, but the data has ${input.classes} classes`,
    );
  return described;
}
