/**
 * Layer graphs of Keras / TF.js LayersModels, described from the `model.json` topology alone
 * (and, when there is one, checked against its weight manifest's shapes; weights are never read).
 * Sequential and functional models, branches and merges (`Add`, `Concatenate`, `Multiply`),
 * shared layers. Every supported class has its output shape, its weights' shapes and, for the
 * layers whose kernel multiplies as a matrix, the `[rows, cols]` matrix that blocks tile:
 *
 * | class | matrix |
 * | --- | --- |
 * | Dense | `[in, units]` |
 * | Conv2D | `[kh·kw·cin, filters]` |
 * | Conv1D | `[k·cin, filters]` |
 * | SeparableConv2D | its pointwise kernel, `[cin·depth_multiplier, filters]` |
 *
 * The engine (engine/graphModel.ts) builds the same topology with tfjs-layers and checks that
 * every layer's output shape agrees with this description, so the names and matrices the editor
 * shows are the ones that train.
 */
import type { LayerKind, LayerShape, ModelShape, ModelShapeError } from './layerShape';

/** One tensor of the graph: output `tensor` of call `node` of layer `layer` (Keras' `[name, node, tensor]`). */
export interface TensorRef {
  layer: string;
  node: number;
  tensor: number;
}

export interface GraphLayer {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** The inputs of each call of the layer (shared layers are called more than once). */
  calls: TensorRef[][];
}

export interface GraphTopology {
  sequential: boolean;
  layers: GraphLayer[];
  inputs: TensorRef[];
  outputs: TensorRef[];
}

/** What each supported Keras class is to us. */
export const GRAPH_LAYER_KINDS = {
  InputLayer: 'input',
  Dense: 'dense',
  Conv2D: 'conv2d',
  Conv1D: 'conv1d',
  DepthwiseConv2D: 'depthwise_conv2d',
  SeparableConv2D: 'separable_conv2d',
  MaxPooling2D: 'maxpool',
  AveragePooling2D: 'avgpool',
  MaxPooling1D: 'maxpool',
  AveragePooling1D: 'avgpool',
  GlobalAveragePooling2D: 'global_pool',
  GlobalMaxPooling2D: 'global_pool',
  GlobalAveragePooling1D: 'global_pool',
  GlobalMaxPooling1D: 'global_pool',
  Flatten: 'flatten',
  Reshape: 'reshape',
  Dropout: 'dropout',
  Activation: 'activation',
  ReLU: 'activation',
  Softmax: 'activation',
  BatchNormalization: 'batchnorm',
  LayerNormalization: 'layernorm',
  Add: 'add',
  Concatenate: 'concatenate',
  Multiply: 'multiply',
  ZeroPadding2D: 'zero_padding',
  Embedding: 'embedding',
} as const satisfies Record<string, LayerKind | 'input'>;

export type GraphClassName = keyof typeof GRAPH_LAYER_KINDS;

/** Activations tfjs-layers 4.22 has (Keras names). */
export const GRAPH_ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'elu',
  'selu',
  'sigmoid',
  'hard_sigmoid',
  'tanh',
  'softmax',
  'softplus',
  'softsign',
  'swish',
  'mish',
  'gelu',
  'gelu_new',
] as const;

type Config = Record<string, unknown>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
const fmt = (shape: readonly (number | null)[]) => `[${shape.map((d) => d ?? '?').join(', ')}]`;

class GraphError extends Error {}

export function pick(config: Config, ...keys: string[]): unknown {
  for (const k of keys) if (config[k] !== undefined && config[k] !== null) return config[k];
  return undefined;
}

function tuple(value: unknown, n: number, fallback: number[], what: string): number[] {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return Array<number>(n).fill(value);
  if (Array.isArray(value) && value.length === n && value.every((v) => Number.isInteger(v) && (v as number) > 0))
    return value as number[];
  throw new GraphError(`its \`${what}\` is ${JSON.stringify(value)}, not ${n === 1 ? 'a number' : `${n} numbers`}`);
}

// ---------------------------------------------------------------------------------------------
// Parsing the topology
// ---------------------------------------------------------------------------------------------

function tensorRef(raw: unknown): TensorRef | null {
  if (Array.isArray(raw) && typeof raw[0] === 'string')
    return { layer: raw[0], node: Number(raw[1] ?? 0), tensor: Number(raw[2] ?? 0) };
  return null;
}

/** The layer list and wiring of a LayersModel topology (`modelTopology` of model.json), or why not. */
export function parseTopology(modelJson: unknown): GraphTopology | string {
  if (!isRecord(modelJson)) return 'model.json is not a JSON object';
  const topology = modelJson['modelTopology'];
  if (!isRecord(topology)) return 'model.json has no `modelTopology` (is it a LayersModel, not a GraphModel?)';
  const model = isRecord(topology['model_config']) ? topology['model_config'] : topology;
  const className = model['class_name'];
  const config = model['config'];
  const rawLayers = Array.isArray(config) ? config : isRecord(config) ? config['layers'] : undefined;
  if (!Array.isArray(rawLayers) || rawLayers.length === 0) return 'model.json topology lists no layers';
  const layers: GraphLayer[] = [];
  for (const raw of rawLayers) {
    if (!isRecord(raw) || typeof raw['class_name'] !== 'string') return 'a layer in model.json has no `class_name`';
    const cfg = isRecord(raw['config']) ? raw['config'] : {};
    const name =
      typeof raw['name'] === 'string' ? raw['name'] : typeof cfg['name'] === 'string' ? cfg['name'] : raw['class_name'];
    const calls: TensorRef[][] = [];
    const inbound = raw['inbound_nodes'];
    if (Array.isArray(inbound)) {
      for (const node of inbound) {
        if (isRecord(node))
          return `layer \`${name}\` is wired in the Keras 3 format (\`args\`/\`kwargs\` nodes), which TF.js 4.22 cannot load: save the model with tf_keras (Keras 2) before \`tensorflowjs_converter\``;
        if (!Array.isArray(node)) return `layer \`${name}\` has a malformed \`inbound_nodes\` entry`;
        const refs = node.map(tensorRef);
        if (refs.some((r) => r === null)) return `layer \`${name}\` has a malformed \`inbound_nodes\` entry`;
        calls.push(refs as TensorRef[]);
      }
    }
    layers.push({ name, className: raw['class_name'], config: cfg, calls });
  }
  const names = new Set<string>();
  for (const l of layers) {
    if (names.has(l.name)) return `two layers are named \`${l.name}\``;
    names.add(l.name);
  }
  const functional = className !== 'Sequential' && isRecord(config);
  if (!functional) {
    // Sequential: an implied input layer (tfjs-layers names it `<first>_input`), then a chain.
    const first = layers[0]!;
    const withInput =
      first.className === 'InputLayer'
        ? layers
        : [{ name: `${first.name}_input`, className: 'InputLayer', config: first.config, calls: [] }, ...layers];
    for (let i = 1; i < withInput.length; i++)
      withInput[i]!.calls = [[{ layer: withInput[i - 1]!.name, node: 0, tensor: 0 }]];
    return {
      sequential: true,
      layers: withInput,
      inputs: [{ layer: withInput[0]!.name, node: 0, tensor: 0 }],
      outputs: [{ layer: withInput[withInput.length - 1]!.name, node: 0, tensor: 0 }],
    };
  }
  const refs = (key: string): TensorRef[] | string => {
    const raw = (config as Config)[key];
    const list = Array.isArray(raw) && typeof raw[0] === 'string' ? [raw] : raw;
    if (!Array.isArray(list) || list.length === 0) return `model.json topology has no \`${key}\``;
    const parsed = list.map(tensorRef);
    if (parsed.some((r) => r === null)) return `model.json topology has a malformed \`${key}\``;
    return parsed as TensorRef[];
  };
  const inputs = refs('input_layers');
  if (typeof inputs === 'string') return inputs;
  const outputs = refs('output_layers');
  if (typeof outputs === 'string') return outputs;
  for (const r of [...inputs, ...outputs, ...layers.flatMap((l) => l.calls.flat())])
    if (!names.has(r.layer)) return `model.json refers to a layer \`${r.layer}\` it does not define`;
  return { sequential: false, layers, inputs, outputs };
}

// ---------------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------------

/** A described layer of a graph: its shapes plus what the engine needs to train it. */
export interface GraphLayerShape extends LayerShape {
  className: string;
  /** The layers whose outputs feed its first call. */
  inputs: string[];
  /** Shapes of its weights by weight name (`kernel`, `bias`, `gamma`, ...), as Keras orders them. */
  weights: [string, number[]][];
}

export interface GraphShape extends ModelShape {
  layers: GraphLayerShape[];
  /** Output shape of the model's (single) output, without the batch axis. */
  outputShape: number[];
  /** The layer whose output is the model's. */
  outputLayer: string;
}

type Shape = number[];

interface Described {
  kind: LayerKind;
  out: Shape;
  weights: [string, number[]][];
  matrix: [number, number] | null;
}

function activationOf(config: Config): void {
  const raw = pick(config, 'activation');
  if (raw === undefined) return;
  if (typeof raw !== 'string' || !(GRAPH_ACTIVATIONS as readonly string[]).includes(raw))
    throw new GraphError(
      `uses the activation ${JSON.stringify(raw)}, which TF.js cannot run (it has: ${GRAPH_ACTIVATIONS.join(', ')})`,
    );
}

function requireRank(inputs: Shape[], ranks: number[], what: string): Shape {
  if (inputs.length !== 1) throw new GraphError(`takes one input, not ${inputs.length}`);
  const x = inputs[0]!;
  if (!ranks.includes(x.length))
    throw new GraphError(`needs ${what}, but its input has shape ${fmt(x)} (without the batch axis)`);
  return x;
}

function channelsLast(config: Config): void {
  const format = pick(config, 'data_format', 'dataFormat');
  if (format !== undefined && format !== 'channels_last')
    throw new GraphError(`uses ${JSON.stringify(format)} data; only channels_last is supported`);
}

/** Output length of a convolution or pooling window along one axis. */
function windowOut(size: number, kernel: number, stride: number, padding: string, dilation = 1): number {
  const span = (kernel - 1) * dilation + 1;
  if (padding === 'same' || padding === 'causal') return Math.ceil(size / stride);
  return Math.floor((size - span) / stride) + 1;
}

function padding(config: Config, allowCausal = false): string {
  const p = pick(config, 'padding') ?? 'valid';
  if (p === 'same' || p === 'valid' || (allowCausal && p === 'causal')) return p;
  throw new GraphError(`uses padding ${JSON.stringify(p)}; supported: valid, same${allowCausal ? ', causal' : ''}`);
}

function noDilation(config: Config, n: number): void {
  const d = tuple(pick(config, 'dilation_rate', 'dilationRate'), n, Array<number>(n).fill(1), 'dilation_rate');
  if (d.some((v) => v !== 1))
    throw new GraphError(`uses dilation_rate ${JSON.stringify(d)}; TF.js has no gradient for dilated convolutions`);
  const groups = pick(config, 'groups');
  if (groups !== undefined && groups !== 1)
    throw new GraphError(`uses groups ${JSON.stringify(groups)}; only 1 is supported`);
}

function positive(config: Config, key: string, camel: string): number {
  const v = pick(config, key, camel);
  if (!Number.isInteger(v) || (v as number) < 1) throw new GraphError(`has no positive integer \`${key}\``);
  return v as number;
}

function spatial(x: Shape, out: (axis: number, size: number) => number, channels: number): Shape {
  return [...x.slice(0, -1).map((size, axis) => out(axis, size)), channels];
}

function checkPositive(out: Shape): Shape {
  if (out.some((d) => !(d >= 1)))
    throw new GraphError(`would output shape ${fmt(out)}: its window does not fit its input`);
  return out;
}

const useBias = (config: Config) => pick(config, 'use_bias', 'useBias') !== false;

function describeLayer(className: GraphClassName, config: Config, inputs: Shape[]): Described {
  const kind = GRAPH_LAYER_KINDS[className] as LayerKind;
  const plain = (out: Shape): Described => ({ kind, out, weights: [], matrix: null });
  switch (className) {
    case 'InputLayer':
      throw new GraphError('is an input layer called on a tensor');
    case 'Dense': {
      activationOf(config);
      const x = requireRank(inputs, [1, 2, 3, 4], 'a vector (or a stack of them)');
      const units = positive(config, 'units', 'units');
      const inner = x[x.length - 1]!;
      return {
        kind,
        out: [...x.slice(0, -1), units],
        weights: [['kernel', [inner, units]], ...(useBias(config) ? [['bias', [units]] as [string, number[]]] : [])],
        matrix: [inner, units],
      };
    }
    case 'Conv2D':
    case 'DepthwiseConv2D':
    case 'SeparableConv2D': {
      activationOf(config);
      channelsLast(config);
      noDilation(config, 2);
      const x = requireRank(inputs, [3], 'an image `[height, width, channels]`');
      const [kh, kw] = tuple(pick(config, 'kernel_size', 'kernelSize'), 2, [0, 0], 'kernel_size');
      if (!kh || !kw) throw new GraphError('has no `kernel_size`');
      const strides = tuple(pick(config, 'strides'), 2, [1, 1], 'strides');
      const pad = padding(config);
      const cin = x[2]!;
      const kernel = [kh, kw];
      const multiplier =
        className === 'Conv2D' ? 1 : ((pick(config, 'depth_multiplier', 'depthMultiplier') as number | undefined) ?? 1);
      const filters = className === 'DepthwiseConv2D' ? cin * multiplier : positive(config, 'filters', 'filters');
      const out = checkPositive(spatial(x, (a, size) => windowOut(size, kernel[a]!, strides[a]!, pad), filters));
      const bias: [string, number[]][] = useBias(config) ? [['bias', [filters]]] : [];
      if (className === 'Conv2D')
        return { kind, out, weights: [['kernel', [kh, kw, cin, filters]], ...bias], matrix: [kh * kw * cin, filters] };
      if (className === 'DepthwiseConv2D')
        return { kind, out, weights: [['depthwise_kernel', [kh, kw, cin, multiplier]], ...bias], matrix: null };
      return {
        kind,
        out,
        weights: [
          ['depthwise_kernel', [kh, kw, cin, multiplier]],
          ['pointwise_kernel', [1, 1, cin * multiplier, filters]],
          ...bias,
        ],
        matrix: [cin * multiplier, filters],
      };
    }
    case 'Conv1D': {
      activationOf(config);
      channelsLast(config);
      noDilation(config, 1);
      const x = requireRank(inputs, [2], 'a sequence `[steps, channels]`');
      const [k] = tuple(pick(config, 'kernel_size', 'kernelSize'), 1, [0], 'kernel_size');
      if (!k) throw new GraphError('has no `kernel_size`');
      const [stride] = tuple(pick(config, 'strides'), 1, [1], 'strides');
      const pad = padding(config, true);
      const filters = positive(config, 'filters', 'filters');
      const cin = x[1]!;
      return {
        kind,
        out: checkPositive([windowOut(x[0]!, k, stride!, pad), filters]),
        weights: [
          ['kernel', [k, cin, filters]],
          ...(useBias(config) ? [['bias', [filters]] as [string, number[]]] : []),
        ],
        matrix: [k * cin, filters],
      };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D':
    case 'MaxPooling1D':
    case 'AveragePooling1D': {
      channelsLast(config);
      const n = className.endsWith('2D') ? 2 : 1;
      const x = requireRank(inputs, [n + 1], n === 2 ? 'an image `[height, width, channels]`' : 'a sequence');
      const pool = tuple(pick(config, 'pool_size', 'poolSize'), n, Array<number>(n).fill(2), 'pool_size');
      const strides = tuple(pick(config, 'strides'), n, pool, 'strides');
      const pad = padding(config);
      return plain(checkPositive(spatial(x, (a, size) => windowOut(size, pool[a]!, strides[a]!, pad), x[n]!)));
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
    case 'GlobalAveragePooling1D':
    case 'GlobalMaxPooling1D': {
      channelsLast(config);
      if (pick(config, 'keepdims') === true) throw new GraphError('uses keepdims, which TF.js does not have');
      const n = className.endsWith('2D') ? 2 : 1;
      const x = requireRank(inputs, [n + 1], n === 2 ? 'an image `[height, width, channels]`' : 'a sequence');
      return plain([x[n]!]);
    }
    case 'Flatten': {
      const x = requireRank(inputs, [1, 2, 3, 4, 5], 'an input');
      return plain([product(x)]);
    }
    case 'Reshape': {
      const x = requireRank(inputs, [1, 2, 3, 4, 5], 'an input');
      const target = pick(config, 'target_shape', 'targetShape');
      if (!Array.isArray(target) || !target.every((d) => Number.isInteger(d) && (d === -1 || d > 0)))
        throw new GraphError(`has no valid \`target_shape\` (${JSON.stringify(target)})`);
      const dims = target as number[];
      const known = product(dims.filter((d) => d !== -1));
      const unknown = dims.filter((d) => d === -1).length;
      const total = product(x);
      if (unknown > 1) throw new GraphError('has more than one -1 in its `target_shape`');
      if (unknown === 1 ? total % known !== 0 : total !== known)
        throw new GraphError(`cannot reshape ${fmt(x)} (${total} values) to ${fmt(dims)}`);
      return plain(dims.map((d) => (d === -1 ? total / known : d)));
    }
    case 'Dropout': {
      const x = requireRank(inputs, [1, 2, 3, 4, 5], 'an input');
      const rate = pick(config, 'rate');
      if (typeof rate !== 'number' || rate < 0 || rate >= 1)
        throw new GraphError(`has a dropout rate ${JSON.stringify(rate)} outside [0, 1)`);
      return plain(x);
    }
    case 'Activation':
      activationOf(config);
      if (pick(config, 'activation') === undefined) throw new GraphError('names no `activation`');
      return plain(requireRank(inputs, [1, 2, 3, 4, 5], 'an input'));
    case 'ReLU': {
      const slope = pick(config, 'negative_slope', 'negativeSlope');
      const threshold = pick(config, 'threshold');
      if ((slope !== undefined && slope !== 0) || (threshold !== undefined && threshold !== 0))
        throw new GraphError('uses negative_slope or threshold, which TF.js ReLU does not have (only max_value)');
      return plain(requireRank(inputs, [1, 2, 3, 4, 5], 'an input'));
    }
    case 'Softmax': {
      const x = requireRank(inputs, [1, 2, 3, 4, 5], 'an input');
      // tfjs-layers defaults to axis 1 (Keras writes -1); tfjs has softmax over the last axis only.
      const raw = pick(config, 'axis') ?? 1;
      const axis = typeof raw === 'number' ? (raw < 0 ? x.length + 1 + raw : raw) : NaN;
      if (axis !== x.length)
        throw new GraphError(`normalises axis ${JSON.stringify(raw)}; TF.js has softmax over the last axis only`);
      return plain(x);
    }
    case 'BatchNormalization':
    case 'LayerNormalization': {
      const x = requireRank(inputs, [1, 2, 3, 4, 5], 'an input');
      const rawAxis = pick(config, 'axis') ?? -1;
      const axes = (Array.isArray(rawAxis) ? rawAxis : [rawAxis]) as unknown[];
      if (axes.length !== 1 || !Number.isInteger(axes[0]))
        throw new GraphError(`normalises axes ${JSON.stringify(rawAxis)}; only one axis is supported`);
      const rank = x.length + 1;
      const axis = (axes[0] as number) < 0 ? rank + (axes[0] as number) : (axes[0] as number);
      if (axis < 1 || axis >= rank)
        throw new GraphError(`normalises axis ${String(axes[0])}, which its input does not have`);
      const n = x[axis - 1]!;
      const weights: [string, number[]][] = [];
      if (pick(config, 'scale') !== false) weights.push(['gamma', [n]]);
      if (pick(config, 'center') !== false) weights.push(['beta', [n]]);
      if (className === 'BatchNormalization') weights.push(['moving_mean', [n]], ['moving_variance', [n]]);
      return { kind, out: x, weights, matrix: null };
    }
    case 'Add':
    case 'Multiply': {
      if (inputs.length < 2) throw new GraphError(`merges ${inputs.length} input; it needs at least 2`);
      const rank = inputs[0]!.length;
      if (inputs.some((s) => s.length !== rank))
        throw new GraphError(
          `cannot ${className === 'Add' ? 'add' : 'multiply'} inputs of shapes ${inputs.map(fmt).join(' and ')}`,
        );
      const out = inputs[0]!.map((_, axis) => {
        const sizes = new Set(inputs.map((s) => s[axis]!).filter((d) => d !== 1));
        if (sizes.size > 1)
          throw new GraphError(
            `cannot ${className === 'Add' ? 'add' : 'multiply'} inputs of shapes ${inputs.map(fmt).join(' and ')}`,
          );
        return sizes.size === 1 ? [...sizes][0]! : 1;
      });
      return plain(out);
    }
    case 'Concatenate': {
      if (inputs.length < 2) throw new GraphError(`concatenates ${inputs.length} input; it needs at least 2`);
      const rank = inputs[0]!.length;
      const raw = pick(config, 'axis') ?? -1;
      if (!Number.isInteger(raw)) throw new GraphError(`has a non-integer axis ${JSON.stringify(raw)}`);
      const axis = (raw as number) < 0 ? rank + (raw as number) : (raw as number) - 1;
      if (axis < 0 || axis >= rank)
        throw new GraphError(
          `concatenates along axis ${JSON.stringify(raw)}, which its inputs do not have (or the batch axis)`,
        );
      const mismatch = inputs.some((s) => s.length !== rank || s.some((d, i) => i !== axis && d !== inputs[0]![i]));
      if (mismatch)
        throw new GraphError(
          `cannot concatenate inputs of shapes ${inputs.map(fmt).join(' and ')} along axis ${JSON.stringify(raw)}: the other axes differ`,
        );
      const out = [...inputs[0]!];
      out[axis] = inputs.reduce((sum, s) => sum + s[axis]!, 0);
      return plain(out);
    }
    case 'ZeroPadding2D': {
      channelsLast(config);
      const x = requireRank(inputs, [3], 'an image `[height, width, channels]`');
      const raw = pick(config, 'padding') ?? 1;
      let pads: [[number, number], [number, number]];
      if (typeof raw === 'number')
        pads = [
          [raw, raw],
          [raw, raw],
        ];
      else if (Array.isArray(raw) && raw.length === 2 && raw.every((v) => typeof v === 'number'))
        pads = [
          [raw[0] as number, raw[0] as number],
          [raw[1] as number, raw[1] as number],
        ];
      else if (
        Array.isArray(raw) &&
        raw.length === 2 &&
        raw.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number'))
      )
        pads = raw as [[number, number], [number, number]];
      else throw new GraphError(`has a padding ${JSON.stringify(raw)} that is not a number, a pair or a pair of pairs`);
      return plain([x[0]! + pads[0][0] + pads[0][1], x[1]! + pads[1][0] + pads[1][1], x[2]!]);
    }
    case 'Embedding': {
      const x = requireRank(inputs, [1, 2], 'a sequence of ids');
      const vocabulary = positive(config, 'input_dim', 'inputDim');
      const dim = positive(config, 'output_dim', 'outputDim');
      if (pick(config, 'mask_zero', 'maskZero') === true)
        throw new GraphError('uses mask_zero; masks are not supported');
      return { kind, out: [...x, dim], weights: [['embeddings', [vocabulary, dim]]], matrix: null };
    }
  }
}

/** The input shape an InputLayer declares (without the batch axis); null dimensions stay null. */
function declaredInput(config: Config): (number | null)[] | null {
  const raw = pick(config, 'batch_input_shape', 'batchInputShape', 'batch_shape');
  if (Array.isArray(raw)) return raw.slice(1).map((d) => (typeof d === 'number' ? d : null));
  const shape = pick(config, 'input_shape', 'inputShape');
  if (Array.isArray(shape)) return shape.map((d) => (typeof d === 'number' ? d : null));
  return null;
}

/** Finds a weight's manifest entry whatever prefix the converter used (`conv/kernel`, `model/conv/kernel`). */
export function manifestShape(shapes: Map<string, number[]>, layer: string, weight: string): number[] | undefined {
  const exact = shapes.get(`${layer}/${weight}`);
  if (exact) return exact;
  for (const [name, shape] of shapes) if (name.endsWith(`/${layer}/${weight}`)) return shape;
  return undefined;
}

export interface DescribeGraphOptions {
  /** Weight shapes of the manifest by weight name; every weight found there must match. */
  weightShapes?: Map<string, number[]>;
  /** Fills input dimensions the model leaves open (`None`), e.g. from the data. */
  inputShape?: number[] | null;
}

/**
 * Shapes of every layer of a parsed topology, in an order where each layer follows its inputs.
 * Errors name the layer and its class; `path` is the config key they are reported at.
 */
export type GraphShapeResult = { ok: true; shape: GraphShape } | { ok: false; error: ModelShapeError };

export function describeGraph(
  topology: GraphTopology,
  path: (string | number)[],
  options: DescribeGraphOptions = {},
): GraphShapeResult {
  const fail = (message: string) => ({ ok: false as const, error: { message, path } });
  if (topology.inputs.length !== 1)
    return fail(`the model has ${topology.inputs.length} inputs; only models with one input train here`);
  if (topology.outputs.length !== 1)
    return fail(`the model has ${topology.outputs.length} outputs; only models with one output train here`);
  const byName = new Map(topology.layers.map((l) => [l.name, l]));
  const unsupported = topology.layers.find((l) => !(l.className in GRAPH_LAYER_KINDS));
  if (unsupported)
    return fail(
      `layer \`${unsupported.name}\` is a ${unsupported.className}, which cannot be trained here (supported: ${Object.keys(GRAPH_LAYER_KINDS).join(', ')})`,
    );
  const inputLayer = byName.get(topology.inputs[0]!.layer)!;
  if (inputLayer.className !== 'InputLayer' && !topology.sequential)
    return fail(`the model's input \`${inputLayer.name}\` is a ${inputLayer.className}, not an InputLayer`);
  const declared = declaredInput(inputLayer.config);
  if (!declared) return fail(`the input layer \`${inputLayer.name}\` declares no \`batch_input_shape\``);
  const hint = options.inputShape ?? null;
  const inputShape = declared.map((d, i) => d ?? (hint && hint.length === declared.length ? hint[i]! : null));
  if (inputShape.some((d) => d === null))
    return fail(
      `the input \`${inputLayer.name}\` has open dimensions ${fmt(declared)} that the data does not fix; give the model a fixed input shape`,
    );
  const outputs = new Map<string, Shape>(); // `${layer}#${node}` -> shape
  outputs.set(`${inputLayer.name}#0`, inputShape as number[]);
  const described = new Map<string, GraphLayerShape>();
  const order: GraphLayerShape[] = [];
  const visiting = new Set<string>();

  const shapeOf = (ref: TensorRef): Shape => {
    const key = `${ref.layer}#${ref.node}`;
    const known = outputs.get(key);
    if (known) return known;
    if (ref.tensor !== 0) throw new GraphError(`reads output ${ref.tensor} of \`${ref.layer}\`, which has one output`);
    visit(byName.get(ref.layer)!);
    const shape = outputs.get(key);
    if (!shape) throw new GraphError(`reads call ${ref.node} of \`${ref.layer}\`, which is called fewer times`);
    return shape;
  };

  const visit = (layer: GraphLayer): void => {
    if (described.has(layer.name) || layer.className === 'InputLayer') return;
    if (visiting.has(layer.name)) throw new Error(`\u0000layer \`${layer.name}\` is part of a cycle`);
    visiting.add(layer.name);
    let first: Described | null = null;
    layer.calls.forEach((call, node) => {
      let inputs: Shape[];
      try {
        inputs = call.map(shapeOf);
      } catch (error) {
        if (error instanceof GraphError)
          throw new Error(`\u0000layer \`${layer.name}\` (${layer.className}) ${error.message}`);
        throw error;
      }
      let d: Described;
      try {
        d = describeLayer(layer.className as GraphClassName, layer.config, inputs);
      } catch (error) {
        if (error instanceof GraphError)
          throw new Error(`\u0000layer \`${layer.name}\` (${layer.className}) ${error.message}`);
        throw error;
      }
      if (first && JSON.stringify(first.weights) !== JSON.stringify(d.weights))
        throw new Error(
          `\u0000layer \`${layer.name}\` (${layer.className}) is shared between inputs that need different weights`,
        );
      first ??= d;
      outputs.set(`${layer.name}#${node}`, d.out);
    });
    visiting.delete(layer.name);
    if (!first) return; // never called: not part of the graph
    const d: Described = first;
    for (const [weight, shape] of d.weights) {
      const stored = options.weightShapes && manifestShape(options.weightShapes, layer.name, weight);
      if (stored && JSON.stringify(stored) !== JSON.stringify(shape))
        throw new Error(
          `\u0000layer \`${layer.name}\` (${layer.className}): the weights hold \`${weight}\` of shape ${fmt(stored)}, but its config and input need ${fmt(shape)}`,
        );
    }
    const shape: GraphLayerShape = {
      name: layer.name,
      kind: d.kind,
      className: layer.className,
      matrix: d.matrix,
      outputShape: d.out,
      params: d.weights.reduce((sum, [, s]) => sum + product(s), 0),
      inputs: (layer.calls[0] ?? []).map((r) => r.layer),
      weights: d.weights,
    };
    described.set(layer.name, shape);
    order.push(shape);
  };

  let outputShape: Shape;
  try {
    outputShape = shapeOf(topology.outputs[0]!);
    // Layers not on the way to the output still must be valid when the model is built.
    for (const l of topology.layers) visit(l);
  } catch (error) {
    const message = (error as Error).message;
    if (message.startsWith('\u0000')) return fail(message.slice(1));
    if (error instanceof GraphError) return fail(message);
    throw error;
  }
  return {
    ok: true,
    shape: {
      inputShape: inputShape as number[],
      layers: order,
      outputShape,
      outputLayer: topology.outputs[0]!.layer,
    },
  };
}

/** Weight shapes from model.json's manifest, by weight name (`dense_1/kernel`). */
export function manifestShapes(modelJson: unknown): Map<string, number[]> {
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
