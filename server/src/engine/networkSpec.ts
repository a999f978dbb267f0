/**
 * The layer-by-layer description the engine trains: every op in order with what its forward pass
 * needs (activation, conv and pool geometry, dropout rate, batch-norm settings, CTR embedding
 * layout). Built-in models (`mlp`, `cnn`, `ctr`) are derived from `describeModel`'s layer list,
 * so names and kernel matrices are exactly the ones the editor shows; `tfjs` models come from
 * `tfjsModel.ts` and are checked against `describeTfjsModel` the same way.
 */
import type { InputDescription, LayerShape, ModelShape } from '../experiment/modelShape';
import type { ActivationName, ModelConfig } from '../experiment/schema';

export type Padding = 'same' | 'valid';

export interface DenseSpec {
  kind: 'dense';
  name: string;
  /** Kernel `[rows, cols]` = `[inputs, units]`. */
  rows: number;
  cols: number;
  activation: ActivationName;
  useBias: boolean;
}

export interface Conv2dSpec {
  kind: 'conv2d';
  name: string;
  kernelHeight: number;
  kernelWidth: number;
  inChannels: number;
  filters: number;
  strides: [number, number];
  padding: Padding;
  activation: ActivationName;
  useBias: boolean;
}

export interface MaxPoolSpec {
  kind: 'maxpool';
  name: string;
  pool: [number, number];
  strides: [number, number];
  padding: Padding;
}

export interface BatchNormSpec {
  kind: 'batchnorm';
  name: string;
  /** Size of the normalised (last) axis. */
  channels: number;
  epsilon: number;
  /** Moving statistics: `moving = momentum·moving + (1 − momentum)·batch`. */
  momentum: number;
  center: boolean;
  scale: boolean;
}

/** The CTR input layer: numeric feature `i` scales a learned vector, categorical feature `j` looks one up. */
export interface EmbeddingSpec {
  kind: 'embedding';
  name: string;
  numeric: number;
  categorical: number;
  buckets: number;
  dim: number;
}

export type LayerSpec =
  | DenseSpec
  | Conv2dSpec
  | MaxPoolSpec
  | BatchNormSpec
  | EmbeddingSpec
  | { kind: 'flatten'; name: string }
  | { kind: 'dropout'; name: string; rate: number }
  | { kind: 'activation'; name: string; activation: ActivationName };

export type KernelSpec = DenseSpec | Conv2dSpec;

export interface NetworkSpec {
  /** One example's shape without the batch axis (`[28, 28, 1]`, `[64]`, or `[numeric + categorical]` for CTR). */
  inputShape: number[];
  layers: LayerSpec[];
  /** Outputs of the last layer: classes, or 1 for CTR (a click logit). */
  outputUnits: number;
}

export function isKernelSpec(layer: LayerSpec): layer is KernelSpec {
  return layer.kind === 'dense' || layer.kind === 'conv2d';
}

/** The `[rows, cols]` matrix blocks tile: a dense kernel, or a conv kernel as `(kh·kw·cin) x cout`. */
export function kernelMatrix(layer: KernelSpec): [number, number] {
  return layer.kind === 'dense'
    ? [layer.rows, layer.cols]
    : [layer.kernelHeight * layer.kernelWidth * layer.inChannels, layer.filters];
}

/**
 * The spec of a built-in model from its `describeModel` shape: hidden layers get the configured
 * activation and (when `dropout > 0`) a dropout after it; the output layer is linear (logits).
 */
export function builtInNetworkSpec(
  model: Exclude<ModelConfig, { kind: 'tfjs' | 'resnet' }>,
  shape: ModelShape,
  input: InputDescription,
): NetworkSpec {
  const layers: LayerSpec[] = [];
  const last = shape.layers.length - 1;
  let dropouts = 0;
  const hiddenTail = () => {
    if (model.dropout > 0) layers.push({ kind: 'dropout', name: `dropout_${++dropouts}`, rate: model.dropout });
  };
  shape.layers.forEach((l: LayerShape, i) => {
    switch (l.kind) {
      case 'dense': {
        const [rows, cols] = l.matrix!;
        layers.push({
          kind: 'dense',
          name: l.name,
          rows,
          cols,
          activation: i === last ? 'linear' : model.activation,
          useBias: true,
        });
        if (i !== last) hiddenTail();
        break;
      }
      case 'conv2d': {
        if (model.kind !== 'cnn') throw new Error(`unexpected conv layer ${l.name} in a ${model.kind} model`);
        const [rows, filters] = l.matrix!;
        const k = model.kernel_size;
        layers.push({
          kind: 'conv2d',
          name: l.name,
          kernelHeight: k,
          kernelWidth: k,
          inChannels: rows / (k * k),
          filters,
          strides: [1, 1],
          padding: 'same',
          activation: model.activation,
          useBias: true,
        });
        break;
      }
      case 'maxpool': {
        if (model.kind !== 'cnn') throw new Error(`unexpected pooling layer ${l.name} in a ${model.kind} model`);
        layers.push({
          kind: 'maxpool',
          name: l.name,
          pool: [model.pool, model.pool],
          strides: [model.pool, model.pool],
          padding: 'valid',
        });
        break;
      }
      case 'flatten':
        layers.push({ kind: 'flatten', name: l.name });
        break;
      case 'embedding': {
        if (model.kind !== 'ctr' || !input.ctr)
          throw new Error(`unexpected embedding layer ${l.name} in a ${model.kind} model`);
        const { numeric, categorical, buckets } = input.ctr;
        layers.push({ kind: 'embedding', name: l.name, numeric, categorical, buckets, dim: model.embedding_dim });
        break;
      }
      default:
        throw new Error(`a ${model.kind} model has no ${l.kind} layer`);
    }
  });
  // An mlp sees every input flattened (describeModel sizes dense_1 by the product of the input
  // shape); dense layers on a 3-D image would act on its last axis only.
  const inputShape = model.kind === 'mlp' ? [shape.inputShape.reduce((a, b) => a * b, 1)] : shape.inputShape;
  return { inputShape, layers, outputUnits: kernelMatrix(lastKernel(layers))[1] };
}

function lastKernel(layers: LayerSpec[]): KernelSpec {
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    if (isKernelSpec(l)) return l;
  }
  throw new Error('the model has no dense or conv layer');
}
