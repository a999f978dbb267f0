/**
 * The trained-model representation of the engine: a network of layers (dense, conv, pooling,
 * flatten, dropout, activation, batch norm, CTR embeddings) whose pruned kernel layers compute with
 * `W ⊙ A ⊙ mask` (spec §1.1): `A` the block attention (SA++ only, from trainable logits), `mask`
 * non-trainable block state.
 *
 * Interface for export and reports: `spec` (the layer list with activations and geometry),
 * `layers` (the kernel layers, in order: `kernel` as its 2-D block matrix, conv kernels as
 * `(kh·kw·cin) x cout`, i.e. a TF `[kh, kw, cin, cout]` kernel in row-major order; `bias`;
 * `logits`; `mask`; `grid`; `pruned`), `effectiveKernel(layer)` (the folded `W ⊙ A ⊙ mask`),
 * `batchNorms` and `embedding` (their variables by name) and `namedVariables()` (everything by
 * a stable name such as `dense_1/kernel`).
 */
import * as tf from '@tensorflow/tfjs-core';
// Chained ops (`x.reshape(...)`, `x.mul(...)`) are opt-in in tfjs-core.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import type { LayerPlan } from '../experiment/pruningPlan';
import type { ActivationName } from '../experiment/schema';
import { blockAttention, scaleBlocks } from './blockMask';
import type { ExampleBatch } from '../data/dataset';
import { conv2dByMatmul } from './im2col';
import {
  blockSparseLayout,
  blockSparseMatMul,
  blockSparseWorthIt,
  hasWasmBlockSparseTrain,
  type BlockSparseLayout,
} from './wasmBlockSparseTrain';
import {
  isKernelSpec,
  kernelMatrix,
  type BatchNormSpec,
  type EmbeddingSpec,
  type KernelSpec,
  type NetworkSpec,
} from './networkSpec';
import { deriveSeed, type Rng } from '../data/random';
import {
  INFERENCE,
  type ForwardContext,
  type InitialWeights,
  type MaskedModelOptions,
  type ModelInput,
  type PrunableLayer,
  type TrainableModel,
} from './trainableModel';

/** A dense or conv layer with its 2-D kernel matrix and, when pruned, its block state. */
export interface KernelLayer extends PrunableLayer {
  spec: KernelSpec;
  /** `[rows, cols]`; conv kernels as `(kh·kw·cin) x cout`. */
  kernel: tf.Variable<tf.Rank.R2>;
  /** Null when the layer has no bias (`use_bias: false` in a user's model). */
  bias: tf.Variable<tf.Rank.R1> | null;
}

export interface BatchNormLayer {
  spec: BatchNormSpec;
  gamma: tf.Variable<tf.Rank.R1> | null;
  beta: tf.Variable<tf.Rank.R1> | null;
  movingMean: tf.Variable<tf.Rank.R1>;
  movingVariance: tf.Variable<tf.Rank.R1>;
}

export interface EmbeddingLayer {
  spec: EmbeddingSpec;
  /** `[numeric, dim]`: numeric feature `i` contributes `x_i · numeric[i]`. */
  numeric: tf.Variable<tf.Rank.R2> | null;
  /** `[categorical · buckets, dim]`: feature `j`'s table is rows `j·buckets ...`. */
  categorical: tf.Variable<tf.Rank.R2> | null;
  /** `[1, categorical]` int32: `j · buckets`, added to the ids to index the shared table. */
  offsets: tf.Tensor2D | null;
}

export type { ForwardContext, InitialWeights, MaskedModelOptions, ModelInput } from './trainableModel';

/**
 * How pruned layers multiply: `auto` runs the kept blocks only (wasmBlockSparseTrain.ts) when the
 * backend has the kernels and the layer keeps few enough blocks to gain from it, `dense` always
 * multiplies the masked kernel, `block-sparse` always runs the kept blocks where the kernels exist.
 * Results agree either way (to float rounding of the block values' gradient).
 */
export type KernelMode = 'auto' | 'dense' | 'block-sparse';

export function activate<T extends tf.Tensor>(x: T, activation: ActivationName): T {
  switch (activation) {
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'elu':
      return tf.elu(x);
    case 'gelu':
      return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
    case 'linear':
      return x;
  }
}

export class MaskedModel implements TrainableModel {
  /** Kernel layers (dense and conv) in network order. */
  readonly layers: KernelLayer[] = [];
  readonly batchNorms = new Map<string, BatchNormLayer>();
  embedding: EmbeddingLayer | null = null;
  /** Batch statistics of the last training forward pass, applied by `commitBatchStats`. */
  private pendingStats: { layer: BatchNormLayer; mean: tf.Tensor; variance: tf.Tensor }[] = [];
  /** How pruned layers multiply (benchmarks and tests force one way or the other). */
  kernelMode: KernelMode = 'auto';
  /** The block-sparse layout of each pruned layer's current mask, built when the mask changes. */
  private readonly layouts = new WeakMap<
    KernelLayer,
    { mask: Uint8Array; mode: KernelMode; layout: BlockSparseLayout | null }
  >();

  constructor(
    readonly spec: NetworkSpec,
    plan: LayerPlan[],
    readonly options: MaskedModelOptions,
    rng: Rng,
    /** Seed of dropout masks (derived per step and layer). */
    private readonly dropoutSeed = 0,
    initial: InitialWeights = new Map(),
  ) {
    const start = (name: string, length: number, fill: () => number): Float32Array => {
      const given = initial.get(name);
      if (given) {
        if (given.length !== length)
          throw new Error(`${name} has ${given.length} values in the weights, the layer needs ${length}`);
        return given;
      }
      return Float32Array.from({ length }, fill);
    };
    const variable = <R extends tf.Rank>(data: Float32Array, shape: number[], trainable = true) =>
      tf.tidy(() => tf.variable(tf.tensor(data, shape), trainable) as unknown as tf.Variable<R>);
    for (const spec of this.spec.layers) {
      if (isKernelSpec(spec)) {
        const [rows, cols] = kernelMatrix(spec);
        const grid = plan.find((p) => p.name === spec.name);
        if (!grid) throw new Error(`the pruning plan has no layer ${spec.name}`);
        if (grid.rows !== rows || grid.cols !== cols)
          throw new Error(`layer ${spec.name} is ${rows}x${cols} but the plan says ${grid.rows}x${grid.cols}`);
        const pruned = grid.status === 'pruned';
        // Glorot-uniform initialisation from our seeded generator (never Math.random).
        const [fanIn, fanOut] =
          spec.kind === 'dense' ? [rows, cols] : [rows, spec.kernelHeight * spec.kernelWidth * spec.filters];
        const limit = Math.sqrt(6 / (fanIn + fanOut));
        const w = start(`${spec.name}/kernel`, rows * cols, () => (2 * rng.next() - 1) * limit);
        const logits =
          pruned && options.attention
            ? variable<tf.Rank.R2>(
                Float32Array.from({ length: grid.blocks }, () =>
                  options.logitInit === 'normal' ? 1e-5 * rng.normal() : 0,
                ),
                [grid.gridRows, grid.gridCols],
              )
            : null;
        const mask = pruned ? new Uint8Array(grid.blocks).fill(1) : null;
        this.layers.push({
          name: spec.name,
          kernelKind: spec.kind === 'dense' ? 'dense' : 'conv',
          spec,
          grid,
          kernel: variable<tf.Rank.R2>(w, [rows, cols]),
          bias: spec.useBias
            ? variable<tf.Rank.R1>(
                start(`${spec.name}/bias`, cols, () => 0),
                [cols],
              )
            : null,
          logits,
          mask,
          maskTensor: mask ? tf.keep(tf.ones([grid.gridRows, grid.gridCols]) as tf.Tensor2D) : null,
          pruned,
        });
      } else if (spec.kind === 'batchnorm') {
        const n = spec.channels;
        this.batchNorms.set(spec.name, {
          spec,
          gamma: spec.scale
            ? variable<tf.Rank.R1>(
                start(`${spec.name}/gamma`, n, () => 1),
                [n],
              )
            : null,
          beta: spec.center
            ? variable<tf.Rank.R1>(
                start(`${spec.name}/beta`, n, () => 0),
                [n],
              )
            : null,
          movingMean: variable<tf.Rank.R1>(
            start(`${spec.name}/moving_mean`, n, () => 0),
            [n],
            false,
          ),
          movingVariance: variable<tf.Rank.R1>(
            start(`${spec.name}/moving_variance`, n, () => 1),
            [n],
            false,
          ),
        });
      } else if (spec.kind === 'embedding') {
        const { numeric, categorical, buckets, dim } = spec;
        // Keras' default embedding initialiser: uniform in [-0.05, 0.05].
        const uniform = () => 0.1 * rng.next() - 0.05;
        this.embedding = {
          spec,
          numeric:
            numeric > 0
              ? variable<tf.Rank.R2>(start(`${spec.name}/numeric`, numeric * dim, uniform), [numeric, dim])
              : null,
          categorical:
            categorical > 0
              ? variable<tf.Rank.R2>(start(`${spec.name}/categorical`, categorical * buckets * dim, uniform), [
                  categorical * buckets,
                  dim,
                ])
              : null,
          offsets:
            categorical > 0
              ? tf.keep(
                  tf.tensor2d(
                    Int32Array.from({ length: categorical }, (_, j) => j * buckets),
                    [1, categorical],
                    'int32',
                  ),
                )
              : null,
        };
      }
    }
  }

  /** `W ⊙ A ⊙ mask` of a layer (just `W` for layers that are not pruned). */
  effectiveKernel(layer: KernelLayer): tf.Tensor2D {
    if (!layer.pruned) return layer.kernel;
    return tf.tidy(() => {
      const values = layer.logits
        ? blockAttention(layer.logits, this.options.clipDensity).mul(layer.maskTensor!)
        : layer.maskTensor!;
      return scaleBlocks(layer.kernel, values as tf.Tensor2D, layer.grid);
    });
  }

  /** The layout a layer multiplies with when it runs block-sparse now, else null (dense). */
  blockSparseLayoutOf(layer: KernelLayer): BlockSparseLayout | null {
    const mask = layer.mask;
    if (!layer.pruned || !mask || this.kernelMode === 'dense' || !hasWasmBlockSparseTrain()) return null;
    const cached = this.layouts.get(layer);
    if (cached?.mask === mask && cached.mode === this.kernelMode) return cached.layout;
    let kept = 0;
    for (const v of mask) kept += v;
    const layout =
      this.kernelMode === 'block-sparse' || blockSparseWorthIt(kept / mask.length, layer.grid)
        ? blockSparseLayout(layer.grid, mask)
        : null;
    this.layouts.set(layer, { mask, mode: this.kernelMode, layout });
    return layout;
  }

  /** `x · (W ⊙ A ⊙ mask)`: over the kept blocks only when the layer runs block-sparse. */
  private kernelProduct(layer: KernelLayer, x: tf.Tensor2D): tf.Tensor2D {
    const layout = this.blockSparseLayoutOf(layer);
    if (!layout) return tf.matMul(x, this.effectiveKernel(layer));
    const values = layer.logits
      ? tf.mul(blockAttention(layer.logits, this.options.clipDensity), layer.maskTensor!)
      : layer.maskTensor!;
    return blockSparseMatMul(x, layer.kernel, values as tf.Tensor2D, layout);
  }

  /** Tensors of one batch (the caller disposes them). */
  inputFromBatch(batch: ExampleBatch): ModelInput {
    const e = this.embedding?.spec;
    if (e) {
      if (!batch.categorical && e.categorical > 0) throw new Error('a CTR model needs categorical features');
      return {
        numeric: tf.tensor2d(batch.features, [batch.size, e.numeric]),
        categorical: tf.tensor2d(batch.categorical ?? new Int32Array(0), [batch.size, e.categorical], 'int32'),
      };
    }
    return tf.tensor(batch.features, [batch.size, ...this.spec.inputShape]);
  }

  /** Logits `[batch, outputUnits]` (pre-softmax, or the click logit for CTR). */
  forward(input: ModelInput, context: ForwardContext = INFERENCE): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor =
        input instanceof tf.Tensor
          ? input.shape.length === this.spec.inputShape.length + 1
            ? input
            : tf.reshape(input, [input.shape[0], ...this.spec.inputShape])
          : this.embed(input);
      let kernelIndex = 0;
      this.spec.layers.forEach((spec, index) => {
        switch (spec.kind) {
          case 'dense': {
            const layer = this.layers[kernelIndex++]!;
            const flat = h.shape.length === 2 ? (h as tf.Tensor2D) : tf.reshape<tf.Rank.R2>(h, [-1, spec.rows]);
            let y: tf.Tensor = this.kernelProduct(layer, flat);
            if (layer.bias) y = tf.add(y, layer.bias);
            if (h.shape.length !== 2) y = tf.reshape(y, [...h.shape.slice(0, -1), spec.cols]);
            h = activate(y, spec.activation);
            break;
          }
          case 'conv2d': {
            const layer = this.layers[kernelIndex++]!;
            let y: tf.Tensor = conv2dByMatmul(h as tf.Tensor4D, (patches) => this.kernelProduct(layer, patches), spec);
            if (layer.bias) y = tf.add(y, layer.bias);
            h = activate(y, spec.activation);
            break;
          }
          case 'maxpool':
            h = tf.maxPool(h as tf.Tensor4D, spec.pool, spec.strides, spec.padding);
            break;
          case 'flatten':
            h = tf.reshape(h, [h.shape[0], -1]);
            break;
          case 'dropout':
            if (context.training && spec.rate > 0)
              h = tf.dropout(h, spec.rate, undefined, deriveSeed(this.dropoutSeed, 'dropout', context.step, index));
            break;
          case 'activation':
            h = activate(h, spec.activation);
            break;
          case 'batchnorm':
            h = this.batchNorm(h, this.batchNorms.get(spec.name)!, context.training);
            break;
          case 'embedding':
            break; // applied to the raw input above
        }
      });
      return (h.shape.length === 2 ? h : tf.reshape(h, [h.shape[0], -1])) as tf.Tensor2D;
    });
  }

  private embed(input: { numeric: tf.Tensor2D; categorical: tf.Tensor2D }): tf.Tensor2D {
    const e = this.embedding;
    if (!e) throw new Error('this model takes a feature tensor, not CTR inputs');
    const { numeric, categorical, dim } = e.spec;
    const batch = input.numeric.shape[0];
    const parts: tf.Tensor3D[] = [];
    if (e.numeric) parts.push(tf.mul(tf.reshape(input.numeric, [batch, numeric, 1]), e.numeric));
    if (e.categorical && e.offsets) {
      const ids = tf.reshape(tf.add(input.categorical, e.offsets), [-1]);
      parts.push(tf.reshape(tf.gather(e.categorical, ids), [batch, categorical, dim]));
    }
    const joined = parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
    return tf.reshape(joined, [batch, (numeric + categorical) * dim]);
  }

  private batchNorm(x: tf.Tensor, layer: BatchNormLayer, training: boolean): tf.Tensor {
    let mean: tf.Tensor = layer.movingMean;
    let variance: tf.Tensor = layer.movingVariance;
    if (training) {
      const axes = [...Array(x.shape.length - 1).keys()];
      const moments = tf.moments(x, axes);
      mean = moments.mean;
      variance = moments.variance;
      this.pendingStats.push({ layer, mean: tf.keep(mean), variance: tf.keep(variance) });
    }
    let y = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, layer.spec.epsilon)));
    if (layer.gamma) y = tf.mul(y, layer.gamma);
    if (layer.beta) y = tf.add(y, layer.beta);
    return y;
  }

  /** Moves the batch-norm moving statistics towards the last training batch's (after its update). */
  commitBatchStats(): void {
    const pending = this.pendingStats;
    this.pendingStats = [];
    tf.tidy(() => {
      for (const { layer, mean, variance } of pending) {
        const m = layer.spec.momentum;
        layer.movingMean.assign(tf.add(tf.mul(layer.movingMean, m), tf.mul(mean, 1 - m)));
        layer.movingVariance.assign(tf.add(tf.mul(layer.movingVariance, m), tf.mul(variance, 1 - m)));
      }
    });
    tf.dispose(pending.flatMap((p) => [p.mean, p.variance]));
  }

  /** Replaces a pruned layer's mask (CPU copy and backend tensor). */
  setMask(layer: KernelLayer, mask: Uint8Array): void {
    layer.mask = mask;
    layer.maskTensor?.dispose();
    layer.maskTensor = tf.keep(tf.tensor2d(Float32Array.from(mask), [layer.grid.gridRows, layer.grid.gridCols]));
  }

  /** Sets the weights of the masked-out blocks of a layer to zero (`pruned_weights: zero`). */
  zeroMaskedWeights(layer: KernelLayer): void {
    if (!layer.maskTensor) return;
    tf.tidy(() => layer.kernel.assign(scaleBlocks(layer.kernel, layer.maskTensor!, layer.grid)));
  }

  /**
   * The attention `A = N·softmax(L)` of a layer as a plain array (row-major over the grid), before
   * the clip: the order top-k ranks by, which the clip would flatten at its bounds.
   */
  attentionValues(layer: KernelLayer): Float32Array | null {
    if (!layer.logits) return null;
    return tf.tidy(() => blockAttention(layer.logits!, null).dataSync() as Float32Array);
  }

  /**
   * Every variable under a stable name (`dense_1/kernel`, `dense_1/bias`, `dense_1/logits`,
   * `bn/moving_mean`, `embedding/categorical`), for checkpoints. TF.js variable names stay
   * engine-generated so several models can coexist.
   */
  namedVariables(): [string, tf.Variable][] {
    const named: [string, tf.Variable][] = [];
    for (const l of this.layers) {
      named.push([`${l.name}/kernel`, l.kernel]);
      if (l.bias) named.push([`${l.name}/bias`, l.bias]);
      if (l.logits) named.push([`${l.name}/logits`, l.logits]);
    }
    for (const [name, bn] of this.batchNorms) {
      if (bn.gamma) named.push([`${name}/gamma`, bn.gamma]);
      if (bn.beta) named.push([`${name}/beta`, bn.beta]);
      named.push([`${name}/moving_mean`, bn.movingMean], [`${name}/moving_variance`, bn.movingVariance]);
    }
    const e = this.embedding;
    if (e?.numeric) named.push([`${e.spec.name}/numeric`, e.numeric]);
    if (e?.categorical) named.push([`${e.spec.name}/categorical`, e.categorical]);
    return named;
  }

  /** Trainable weights (kernels, biases, batch-norm scales and offsets, embeddings); not the logits. */
  weights(): tf.Variable[] {
    return this.namedVariables()
      .filter(([name, v]) => v.trainable && !name.endsWith('/logits'))
      .map(([, v]) => v);
  }

  /** The variables weight decay shrinks: kernels and embeddings (not biases or batch-norm parameters). */
  decayedWeights(): tf.Variable[] {
    const e = this.embedding;
    return [
      ...this.layers.map((l) => l.kernel),
      ...(e?.numeric ? [e.numeric] : []),
      ...(e?.categorical ? [e.categorical] : []),
    ];
  }

  logitVariables(): tf.Variable[] {
    return this.layers.flatMap((l) => (l.logits ? [l.logits] : []));
  }

  dispose(): void {
    tf.dispose(this.namedVariables().map(([, v]) => v));
    for (const l of this.layers) l.maskTensor?.dispose();
    this.embedding?.offsets?.dispose();
    tf.dispose(this.pendingStats.flatMap((p) => [p.mean, p.variance]));
    this.pendingStats = [];
  }
}
