/**
 * Layer shapes of a model, computed from the config alone (and, for `tfjs`, from the topology and
 * weight manifest of `model.json`, never its weights). The validator's model-aware checks, hover,
 * inlay hints and the engine's model builders all name and size layers through this module, so a
 * layer called `dense_2` in a diagnostic is the `dense_2` that trains.
 */
import type { DataConfig, ModelConfig } from './schema';

export type LayerKind =
  | 'dense'
  | 'conv2d'
  | 'embedding'
  | 'flatten'
  | 'dropout'
  | 'activation'
  | 'maxpool'
  | 'batchnorm';

export interface LayerShape {
  name: string;
  kind: LayerKind;
  /**
   * The 2-D matrix that blocks tile, `[rows, cols]`: a dense kernel `[in, out]`, a conv kernel
   * reshaped to `[kh*kw*cin, cout]`. Null for layers without a prunable kernel.
   */
  matrix: [number, number] | null;
  /** Shape of one example after this layer (no batch dimension). */
  outputShape: number[];
  /** Trainable and non-trainable parameters of the layer. */
  params: number;
}

export interface ModelShape {
  inputShape: number[];
  layers: LayerShape[];
}

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

/** A model that cannot be described; `path` is the config key the problem belongs to. */
export interface ModelShapeError {
  message: string;
  path: (string | number)[];
}

export type ModelShapeResult = { ok: true; shape: ModelShape } | { ok: false; error: ModelShapeError };

const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

function dense(name: string, inputs: number, units: number): LayerShape {
  return { name, kind: 'dense', matrix: [inputs, units], outputShape: [units], params: inputs * units + units };
}

/**
 * Layer shapes of a built-in model (`mlp`, `cnn`, `ctr`). `tfjs` models go through
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
  }
}

// ---------------------------------------------------------------------------------------------
// tfjs LayersModel (model.json)
// ---------------------------------------------------------------------------------------------

/** Keras class names the engine can train, mapped to our layer kinds. */
export const SUPPORTED_TFJS_LAYERS: Readonly<Record<string, LayerKind | 'input'>> = {
  InputLayer: 'input',
  Dense: 'dense',
  Conv2D: 'conv2d',
  Flatten: 'flatten',
  Dropout: 'dropout',
  Activation: 'activation',
  MaxPooling2D: 'maxpool',
  BatchNormalization: 'batchnorm',
};

export interface TfjsLayerConfig {
  className: string;
  name: string;
  config: Record<string, unknown>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The layer list of a Sequential (or linear functional) model.json topology. */
export function tfjsLayerConfigs(modelJson: unknown): TfjsLayerConfig[] | string {
  if (!isRecord(modelJson)) return 'model.json is not a JSON object';
  const topology = modelJson['modelTopology'];
  if (!isRecord(topology)) return 'model.json has no `modelTopology` (is it a LayersModel, not a GraphModel?)';
  const modelConfig = isRecord(topology['model_config']) ? topology['model_config'] : topology;
  const config = modelConfig['config'];
  const rawLayers = Array.isArray(config) ? config : isRecord(config) ? config['layers'] : undefined;
  if (!Array.isArray(rawLayers)) return 'model.json topology lists no layers';
  const layers: TfjsLayerConfig[] = [];
  for (const raw of rawLayers) {
    if (!isRecord(raw) || typeof raw['class_name'] !== 'string') return 'a layer in model.json has no `class_name`';
    const cfg = isRecord(raw['config']) ? raw['config'] : {};
    const name =
      typeof cfg['name'] === 'string' ? cfg['name'] : typeof raw['name'] === 'string' ? raw['name'] : raw['class_name'];
    layers.push({ className: raw['class_name'], name, config: cfg });
  }
  return layers;
}

/** Weight shapes from the manifest, by weight name (`dense_1/kernel`). */
export function tfjsWeightShapes(modelJson: unknown): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  if (!isRecord(modelJson) || !Array.isArray(modelJson['weightsManifest'])) return shapes;
  for (const group of modelJson['weightsManifest']) {
    if (!isRecord(group) || !Array.isArray(group['weights'])) continue;
    for (const w of group['weights']) {
      if (isRecord(w) && typeof w['name'] === 'string' && Array.isArray(w['shape']))
        shapes.set(w['name'], w['shape'] as number[]);
    }
  }
  return shapes;
}

function inputShapeOf(first: TfjsLayerConfig | undefined): number[] | null {
  const shape = first?.config['batch_input_shape'] ?? first?.config['batchInputShape'] ?? first?.config['batch_shape'];
  if (!Array.isArray(shape)) return null;
  const dims = shape.slice(1);
  return dims.every((d): d is number => typeof d === 'number') ? dims : null;
}

/** Finds the manifest entry of a layer's weight whatever prefix the converter used. */
function weightShape(shapes: Map<string, number[]>, layer: string, weight: string): number[] | undefined {
  const exact = shapes.get(`${layer}/${weight}`);
  if (exact) return exact;
  for (const [name, shape] of shapes) if (name.endsWith(`/${layer}/${weight}`)) return shape;
  return undefined;
}

/**
 * Layer shapes of a user's LayersModel from its parsed `model.json` (topology and weight
 * manifest). Unsupported layers are an error naming the layer and its class.
 */
export function describeTfjsModel(modelJson: unknown): ModelShapeResult {
  const fail = (message: string): ModelShapeResult => ({ ok: false, error: { message, path: ['model', 'path'] } });
  const configs = tfjsLayerConfigs(modelJson);
  if (typeof configs === 'string') return fail(configs);
  const unsupported = configs.find((l) => !(l.className in SUPPORTED_TFJS_LAYERS));
  if (unsupported) {
    return fail(
      `layer \`${unsupported.name}\` is a ${unsupported.className}, which cannot be trained here (supported: ${Object.keys(SUPPORTED_TFJS_LAYERS).join(', ')})`,
    );
  }
  const shapes = tfjsWeightShapes(modelJson);
  const inputShape = inputShapeOf(configs[0]);
  if (!inputShape) return fail('the first layer of model.json declares no `batch_input_shape`');
  let current = inputShape;
  const layers: LayerShape[] = [];
  for (const l of configs) {
    const kind = SUPPORTED_TFJS_LAYERS[l.className]!;
    if (kind === 'input') continue;
    const kernel = weightShape(shapes, l.name, 'kernel');
    const bias = weightShape(shapes, l.name, 'bias');
    const biasParams = bias ? product(bias) : 0;
    switch (kind) {
      case 'dense': {
        if (!kernel || kernel.length !== 2)
          return fail(`Dense layer \`${l.name}\` has no 2-D kernel in the weight manifest`);
        const [rows, cols] = kernel as [number, number];
        current = [...current.slice(0, -1), cols];
        layers.push({
          name: l.name,
          kind,
          matrix: [rows, cols],
          outputShape: current,
          params: rows * cols + biasParams,
        });
        break;
      }
      case 'conv2d': {
        if (!kernel || kernel.length !== 4)
          return fail(`Conv2D layer \`${l.name}\` has no 4-D kernel in the weight manifest`);
        const [kh, kw, cin, cout] = kernel as [number, number, number, number];
        const strides = Array.isArray(l.config['strides']) ? (l.config['strides'] as number[]) : [1, 1];
        const same = l.config['padding'] === 'same';
        const [h = 1, w = 1] = current;
        const outH = same ? Math.ceil(h / strides[0]!) : Math.floor((h - kh) / strides[0]!) + 1;
        const outW = same ? Math.ceil(w / strides[1]!) : Math.floor((w - kw) / strides[1]!) + 1;
        current = [outH, outW, cout];
        layers.push({
          name: l.name,
          kind,
          matrix: [kh * kw * cin, cout],
          outputShape: current,
          params: kh * kw * cin * cout + biasParams,
        });
        break;
      }
      case 'maxpool': {
        const pool = Array.isArray(l.config['pool_size']) ? (l.config['pool_size'] as number[]) : [2, 2];
        const strides = Array.isArray(l.config['strides']) ? (l.config['strides'] as number[]) : pool;
        const same = l.config['padding'] === 'same';
        const [h = 1, w = 1, c = 1] = current;
        const outH = same ? Math.ceil(h / strides[0]!) : Math.floor((h - pool[0]!) / strides[0]!) + 1;
        const outW = same ? Math.ceil(w / strides[1]!) : Math.floor((w - pool[1]!) / strides[1]!) + 1;
        current = [outH, outW, c];
        layers.push({ name: l.name, kind, matrix: null, outputShape: current, params: 0 });
        break;
      }
      case 'flatten':
        current = [product(current)];
        layers.push({ name: l.name, kind, matrix: null, outputShape: current, params: 0 });
        break;
      case 'batchnorm': {
        const gamma = weightShape(shapes, l.name, 'gamma') ?? weightShape(shapes, l.name, 'moving_mean');
        layers.push({ name: l.name, kind, matrix: null, outputShape: current, params: gamma ? 4 * product(gamma) : 0 });
        break;
      }
      default:
        layers.push({ name: l.name, kind, matrix: null, outputShape: current, params: 0 });
    }
  }
  return { ok: true, shape: { inputShape, layers } };
}
