/**
 * What the trainer, the mask policy, metrics, checkpoints and export need of a model, whichever
 * engine computes it: `MaskedModel` (maskedModel.ts, the built-in chains `mlp`, `cnn`, `ctr`) or
 * `GraphModel` (graphModel.ts, LayersModels executed by tfjs-layers: `tfjs` and `resnet`).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ExampleBatch } from '../data/dataset';
import type { LayerPlan } from '../experiment/pruningPlan';

/** A layer whose kernel multiplies as a `[rows, cols]` matrix, with its block state when pruned. */
export interface PrunableLayer {
  name: string;
  /** A dense kernel `[in, out]`, or a convolution's `(kh·kw·cin) x cout` matrix. */
  kernelKind: 'dense' | 'conv';
  grid: LayerPlan;
  /** The kernel that trains, in its own shape; read row-major it is the `[rows, cols]` matrix. */
  kernel: tf.Variable;
  /** Block logits `L` (SA++ only). */
  logits: tf.Variable<tf.Rank.R2> | null;
  /** Block mask, 1 = kept (pruned layers only); `maskTensor` mirrors it on the backend. */
  mask: Uint8Array | null;
  maskTensor: tf.Tensor2D | null;
  pruned: boolean;
}

export interface MaskedModelOptions {
  attention: boolean;
  /** Clip `A` to `[density, 1/density]`; null: no clip. */
  clipDensity: number | null;
  logitInit: 'zeros' | 'normal';
}

/** Inputs of one batch: a feature tensor, or numeric and categorical tensors for CTR models. */
export type ModelInput = tf.Tensor | { numeric: tf.Tensor2D; categorical: tf.Tensor2D };

export interface ForwardContext {
  /** Dropout active and batch norm on batch statistics. */
  training: boolean;
  /** Global step: seeds dropout, so a resumed run drops exactly the same units. */
  step: number;
}

export const INFERENCE: ForwardContext = { training: false, step: 0 };

/** Initial values by variable name (`dense_1/kernel`, ...), e.g. a user's trained weights. */
export type InitialWeights = Map<string, Float32Array>;

export interface TrainableModel {
  /** Every layer with a prunable kernel matrix, in network order (pruned or not). */
  readonly layers: PrunableLayer[];
  readonly options: MaskedModelOptions;
  /** Tensors of one batch (the caller disposes them). */
  inputFromBatch(batch: ExampleBatch): ModelInput;
  /** Logits `[batch, outputs]`. */
  forward(input: ModelInput, context?: ForwardContext): tf.Tensor2D;
  /** Applies the batch statistics of the last training forward pass (where the model defers them). */
  commitBatchStats(): void;
  /** `W ⊙ A ⊙ mask` of a layer as its `[rows, cols]` matrix (just `W` when not pruned). */
  effectiveKernel(layer: PrunableLayer): tf.Tensor2D;
  setMask(layer: PrunableLayer, mask: Uint8Array): void;
  /** Sets the weights of the masked-out blocks of a layer to zero (`pruned_weights: zero`). */
  zeroMaskedWeights(layer: PrunableLayer): void;
  /**
   * The attention `A = N·softmax(L)` of a layer before the clip, row-major over its grid (the
   * order top-k ranks by, which the clip would flatten at its bounds); null without logits.
   */
  attentionValues(layer: PrunableLayer): Float32Array | null;
  /** Every variable under a stable name (`dense_1/kernel`, `dense_1/logits`, `bn/moving_mean`), for checkpoints. */
  namedVariables(): [string, tf.Variable][];
  /** Trainable weights, not the logits. */
  weights(): tf.Variable[];
  /** The variables weight decay shrinks: kernels and embeddings. */
  decayedWeights(): tf.Variable[];
  logitVariables(): tf.Variable[];
  dispose(): void;
}
