/**
 * LayersModels trained as tfjs-layers executes them (`model.kind: tfjs`, and the built-in
 * `resnet`): any graph of the layers graphShape.ts describes, with branches and merges. Nothing
 * is re-implemented: each pruned layer's kernel variable is read through `injectKernel`, which
 * returns `W ⊙ expand(A·mask)` (spec §1.1) computed from the layer's own `W` and the block
 * logits inside the gradient tape, so the optimizer's `variableGrads` sees both. This is the one
 * place a graph layer's effective kernel is formed (`effectiveKernel`), and the hook for other
 * kernels (block-sparse products) on graph models.
 *
 * Weights come from the user's files or, where there are none, from the initializers the topology
 * names, drawn from our seeded generator. Dropout layers are re-seeded every step from the run's
 * seed, so a resumed run drops exactly the units an uninterrupted one would. A final softmax (or
 * sigmoid on one unit) is switched off while training, since the loss takes logits; export
 * writes the original topology back, softmax included.
 */
import * as tf from '@tensorflow/tfjs-core';
// Chained ops (`x.reshape(...)`, `x.mul(...)`) are opt-in in tfjs-core.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ExampleBatch } from '../data/dataset';
import { deriveSeed, type Rng } from '../data/random';
import type { GraphLayerShape, GraphShape } from '../experiment/graphShape';
import type { LayerPlan } from '../experiment/pruningPlan';
import { blockAttention, scaleBlocks } from './blockMask';
import { initializerOf, initialValues } from './initializers';
import { storedWeight, type StoredWeight } from './tfjsModel';
import {
  INFERENCE,
  type ForwardContext,
  type MaskedModelOptions,
  type ModelInput,
  type PrunableLayer,
  type TrainableModel,
} from './trainableModel';

/** A prunable layer of a graph: which of the tfjs layer's weights is the matrix. */
export interface GraphKernelLayer extends PrunableLayer {
  className: string;
  /** `kernel`, or `pointwise_kernel` for SeparableConv2D. */
  weight: string;
}

/** The tfjs-layers internals we touch: a weight's own variable and how the layer reads it. */
interface LayerVariableInternals {
  originalName: string;
  shape: number[];
  trainable: boolean;
  read(): tf.Tensor;
  val: tf.Variable;
}

const KERNEL_WEIGHTS = new Set(['kernel', 'depthwise_kernel', 'pointwise_kernel', 'embeddings']);

export interface GraphModelArgs {
  /** `modelTopology` of model.json (Keras format). */
  topology: Record<string, unknown>;
  /** graphShape.ts's description of the same topology. */
  shape: GraphShape;
  plan: LayerPlan[];
  options: MaskedModelOptions;
  /** Draws the weights `stored` does not hold, and the logits. */
  rng: Rng;
  dropoutSeed: number;
  /** The user's weights by manifest name; every weight of the model must be there when any is. */
  stored?: Map<string, StoredWeight>;
}

export class GraphModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphModelError';
  }
}

export class GraphModel implements TrainableModel {
  readonly layers: GraphKernelLayer[] = [];
  private readonly variables: { name: string; layer: string; weight: string; variable: LayerVariableInternals }[] = [];
  private readonly dropouts: { seed?: number }[];
  /** Tensors the model holds besides its variables (batch norm's missing scale or offset). */
  private readonly constants: tf.Tensor[] = [];

  private constructor(
    readonly net: tfl.LayersModel,
    readonly topology: Record<string, unknown>,
    readonly shape: GraphShape,
    readonly options: MaskedModelOptions,
    private readonly dropoutSeed: number,
  ) {
    this.dropouts = net.layers.filter((l) => l.getClassName() === 'Dropout') as unknown as { seed?: number }[];
  }

  static async build(args: GraphModelArgs): Promise<GraphModel> {
    const { topology, shape, plan, options, rng, stored } = args;
    let net: tfl.LayersModel;
    try {
      net = await tfl.models.modelFromJSON({ modelTopology: topology } as unknown as tf.io.ModelJSON);
    } catch (error) {
      throw new GraphModelError(`tfjs-layers cannot build the model: ${(error as Error).message}`);
    }
    const model = new GraphModel(net, topology, shape, options, args.dropoutSeed);
    try {
      model.checkShapes();
      model.initialise(rng, stored ?? new Map<string, StoredWeight>());
      model.trainOnLogits();
      model.completeBatchNorms();
      model.attachKernels(plan, rng);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  /** The description the editor shows and the graph tfjs-layers built must agree layer by layer. */
  private checkShapes(): void {
    for (const described of this.shape.layers) {
      const layer = this.net.getLayer(described.name);
      let built: unknown;
      try {
        built = layer.outputShape;
      } catch {
        continue; // shared layers have one output shape per call
      }
      const expected = [null, ...described.outputShape];
      if (JSON.stringify(built) !== JSON.stringify(expected))
        throw new GraphModelError(
          `layer \`${described.name}\` (${described.className}): tfjs-layers computes output shape ${JSON.stringify(built)}, the description ${JSON.stringify(expected)}`,
        );
    }
  }

  /** Every weight from the user's files, or drawn as its initializer says when there are none. */
  private initialise(rng: Rng, stored: Map<string, StoredWeight>): void {
    for (const layer of this.net.layers) {
      for (const weight of layer.weights as unknown as LayerVariableInternals[]) {
        const name = weight.originalName;
        const short = name.startsWith(`${layer.name}/`) ? name.slice(layer.name.length + 1) : name;
        this.variables.push({ name, layer: layer.name, weight: short, variable: weight });
        let values: Float32Array;
        const saved = storedWeight(stored, layer.name, short);
        if (saved) {
          if (JSON.stringify(saved.shape) !== JSON.stringify(weight.shape))
            throw new GraphModelError(
              `layer \`${layer.name}\`: the stored \`${short}\` has shape [${saved.shape.join(', ')}], the layer needs [${weight.shape.join(', ')}]`,
            );
          values = saved.data;
        } else if (stored.size > 0) {
          throw new GraphModelError(`layer \`${layer.name}\` has no stored \`${short}\` in the weight files`);
        } else {
          const { spec, fallback } = initializerOf(configOf(this.topology, layer.name), short);
          values = initialValues(spec, fallback, weight.shape, rng);
        }
        tf.tidy(() => weight.val.assign(tf.tensor(values, weight.shape)));
      }
    }
  }

  /** Switches off a final softmax (or sigmoid on one unit): the loss takes logits. */
  private trainOnLogits(): void {
    const last = this.net.getLayer(this.shape.outputLayer) as unknown as {
      activation?: { getClassName(): string };
      softmax?: (x: tf.Tensor) => tf.Tensor;
      getClassName(): string;
    };
    const units = this.shape.outputShape[this.shape.outputShape.length - 1];
    if (last.getClassName() === 'Softmax') {
      last.softmax = (x) => x;
      return;
    }
    const name = last.activation?.getClassName();
    if (name === 'softmax' || (name === 'sigmoid' && units === 1)) {
      const linear = tfl.layers.activation({ activation: 'linear' }) as unknown as { activation: unknown };
      last.activation = linear.activation as { getClassName(): string };
    }
  }

  /**
   * tfjs-layers 4.22 reads `gamma` and `beta` of batch norm in training even when `scale` or
   * `center` is off (and fails): give it the constant ones or zeros those mean.
   */
  private completeBatchNorms(): void {
    for (const layer of this.net.layers) {
      if (layer.getClassName() !== 'BatchNormalization') continue;
      const bn = layer as unknown as {
        gamma: { read(): tf.Tensor } | null | undefined;
        beta: { read(): tf.Tensor } | null | undefined;
        movingMean: { shape: number[] };
      };
      const shape = bn.movingMean.shape;
      if (!bn.gamma) {
        const ones = tf.keep(tf.ones(shape));
        this.constants.push(ones);
        bn.gamma = { read: () => ones };
      }
      if (!bn.beta) {
        const zeros = tf.keep(tf.zeros(shape));
        this.constants.push(zeros);
        bn.beta = { read: () => zeros };
      }
    }
  }

  /** The prunable layers in network order; pruned ones read their kernel through `injectKernel`. */
  private attachKernels(plan: LayerPlan[], rng: Rng): void {
    const grids = new Map(plan.map((p) => [p.name, p]));
    for (const described of this.shape.layers) {
      if (!described.matrix) continue;
      const grid = grids.get(described.name);
      if (!grid) throw new GraphModelError(`the pruning plan has no layer ${described.name}`);
      const weight = described.className === 'SeparableConv2D' ? 'pointwise_kernel' : 'kernel';
      const entry = this.variables.find((v) => v.layer === described.name && v.weight === weight);
      if (!entry) throw new GraphModelError(`layer \`${described.name}\` has no \`${weight}\``);
      const [rows, cols] = described.matrix;
      if (grid.rows !== rows || grid.cols !== cols)
        throw new GraphModelError(
          `layer ${described.name} is ${rows}x${cols} but the plan says ${grid.rows}x${grid.cols}`,
        );
      const pruned = grid.status === 'pruned';
      const initialLogits = Float32Array.from({ length: pruned && this.options.attention ? grid.blocks : 0 }, () =>
        this.options.logitInit === 'normal' ? 1e-5 * rng.normal() : 0,
      );
      const logits =
        pruned && this.options.attention
          ? tf.tidy(
              () => tf.variable(tf.tensor2d(initialLogits, [grid.gridRows, grid.gridCols])) as tf.Variable<tf.Rank.R2>,
            )
          : null;
      const layer: GraphKernelLayer = {
        name: described.name,
        kernelKind: described.className === 'Dense' ? 'dense' : 'conv',
        className: described.className,
        weight,
        grid,
        kernel: entry.variable.val,
        logits,
        mask: pruned ? new Uint8Array(grid.blocks).fill(1) : null,
        maskTensor: pruned ? tf.keep(tf.ones([grid.gridRows, grid.gridCols]) as tf.Tensor2D) : null,
        pruned,
      };
      this.layers.push(layer);
      if (pruned) this.injectKernel(entry.variable, layer);
    }
  }

  /** Makes tfjs-layers read `W ⊙ expand(A·mask)` wherever the layer reads its kernel. */
  private injectKernel(variable: LayerVariableInternals, layer: GraphKernelLayer): void {
    const shape = variable.shape;
    variable.read = () => tf.reshape(this.effectiveKernel(layer), shape);
  }

  effectiveKernel(layer: PrunableLayer): tf.Tensor2D {
    const { rows, cols } = layer.grid;
    if (!layer.pruned) return tf.reshape(layer.kernel, [rows, cols]);
    return tf.tidy(() => {
      const values = layer.logits
        ? blockAttention(layer.logits, this.options.clipDensity).mul(layer.maskTensor!)
        : layer.maskTensor!;
      return scaleBlocks(tf.reshape(layer.kernel, [rows, cols]), values as tf.Tensor2D, layer.grid);
    });
  }

  inputFromBatch(batch: ExampleBatch): ModelInput {
    return tf.tensor(batch.features, [batch.size, ...this.shape.inputShape]);
  }

  forward(input: ModelInput, context: ForwardContext = INFERENCE): tf.Tensor2D {
    if (!(input instanceof tf.Tensor)) throw new GraphModelError('a LayersModel takes one input tensor');
    return tf.tidy(() => {
      if (context.training)
        this.dropouts.forEach((d, i) => (d.seed = deriveSeed(this.dropoutSeed, 'dropout', context.step, i)));
      const x =
        input.shape.length === this.shape.inputShape.length + 1
          ? input
          : tf.reshape(input, [input.shape[0]!, ...this.shape.inputShape]);
      const y = this.net.apply(x, { training: context.training }) as tf.Tensor;
      return (y.shape.length === 2 ? y : tf.reshape(y, [y.shape[0]!, -1])) as tf.Tensor2D;
    });
  }

  /** tfjs-layers moves batch-norm statistics during the forward pass itself. */
  commitBatchStats(): void {}

  setMask(layer: PrunableLayer, mask: Uint8Array): void {
    layer.mask = mask;
    layer.maskTensor?.dispose();
    layer.maskTensor = tf.keep(tf.tensor2d(Float32Array.from(mask), [layer.grid.gridRows, layer.grid.gridCols]));
  }

  zeroMaskedWeights(layer: PrunableLayer): void {
    if (!layer.maskTensor) return;
    const { rows, cols } = layer.grid;
    tf.tidy(() =>
      layer.kernel.assign(
        tf.reshape(
          scaleBlocks(tf.reshape(layer.kernel, [rows, cols]), layer.maskTensor!, layer.grid),
          layer.kernel.shape,
        ),
      ),
    );
  }

  attentionValues(layer: PrunableLayer): Float32Array | null {
    if (!layer.logits) return null;
    return tf.tidy(() => blockAttention(layer.logits!, null).dataSync() as Float32Array);
  }

  namedVariables(): [string, tf.Variable][] {
    return [
      ...this.variables.map((v): [string, tf.Variable] => [v.name, v.variable.val]),
      ...this.layers.flatMap((l): [string, tf.Variable][] => (l.logits ? [[`${l.name}/logits`, l.logits]] : [])),
    ];
  }

  weights(): tf.Variable[] {
    return this.variables.filter((v) => v.variable.trainable).map((v) => v.variable.val);
  }

  decayedWeights(): tf.Variable[] {
    return this.variables
      .filter((v) => KERNEL_WEIGHTS.has(v.weight) && v.variable.trainable)
      .map((v) => v.variable.val);
  }

  logitVariables(): tf.Variable[] {
    return this.layers.flatMap((l) => (l.logits ? [l.logits] : []));
  }

  /**
   * Every weight of the original topology by its tfjs name (`stage1/block1/conv1/kernel`), with
   * the pruned kernels folded (`W ⊙ A ⊙ mask`): what export writes.
   */
  foldedWeights(): { name: string; shape: number[]; data: Float32Array }[] {
    const folded = new Map(this.layers.map((l) => [`${l.name}/${l.weight}`, l]));
    return this.variables.map((v) => {
      const layer = folded.get(v.name);
      const data = tf.tidy(() =>
        layer ? (this.effectiveKernel(layer).dataSync() as Float32Array) : (v.variable.val.dataSync() as Float32Array),
      );
      return { name: v.name, shape: v.variable.shape, data: Float32Array.from(data) };
    });
  }

  /** The described layer (shapes, class) of a prunable layer. */
  describedLayer(name: string): GraphLayerShape | undefined {
    return this.shape.layers.find((l) => l.name === name);
  }

  dispose(): void {
    tf.dispose(this.constants);
    for (const l of this.layers) {
      l.logits?.dispose();
      l.maskTensor?.dispose();
    }
    this.net.dispose();
  }
}

/** A layer's config as the topology writes it. */
function configOf(topology: Record<string, unknown>, name: string): Record<string, unknown> {
  const model = (topology['model_config'] as Record<string, unknown> | undefined) ?? topology;
  const config = model['config'];
  const layers = Array.isArray(config) ? config : (config as { layers?: unknown[] } | undefined)?.layers;
  for (const l of layers ?? []) {
    const layer = l as { name?: string; config?: Record<string, unknown> };
    if (layer.name === name || layer.config?.['name'] === name) return layer.config ?? {};
  }
  return {};
}
