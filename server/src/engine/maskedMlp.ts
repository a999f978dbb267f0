/**
 * A multi-layer perceptron whose pruned layers compute `x · (W ⊙ A ⊙ mask) + b`: `A` the block
 * attention (SA++ only, from trainable logits), `mask` non-trainable block state. Layer names and
 * kernel shapes come from `describeModel`, so the layers that train are the ones the editor shows.
 */
import * as tf from '@tensorflow/tfjs-core';
// Chained ops (`x.reshape(...)`, `x.mul(...)`) are opt-in in tfjs-core.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import type { LayerShape } from '../experiment/modelShape';
import type { LayerPlan } from '../experiment/pruningPlan';
import type { ActivationName } from '../experiment/schema';
import { blockAttention, scaleBlocks } from './blockMask';
import type { Rng } from './random';

export interface MaskedDense {
  name: string;
  grid: LayerPlan;
  kernel: tf.Variable<tf.Rank.R2>;
  bias: tf.Variable<tf.Rank.R1>;
  /** Block logits `L` (SA++ only). */
  logits: tf.Variable<tf.Rank.R2> | null;
  /** Block mask, 1 = kept (pruned layers only); `maskTensor` mirrors it on the backend. */
  mask: Uint8Array | null;
  maskTensor: tf.Tensor2D | null;
  pruned: boolean;
}

export interface MaskedMlpOptions {
  attention: boolean;
  /** Clip `A` to `[density, 1/density]`; null: no clip. */
  clipDensity: number | null;
  logitInit: 'zeros' | 'normal';
  activation: ActivationName;
}

function activate(x: tf.Tensor2D, activation: ActivationName): tf.Tensor2D {
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

export class MaskedMlp {
  readonly layers: MaskedDense[];

  constructor(
    shapes: LayerShape[],
    plan: LayerPlan[],
    readonly options: MaskedMlpOptions,
    rng: Rng,
  ) {
    this.layers = shapes
      .filter((s) => s.matrix !== null)
      .map((shape) => {
        const [rows, cols] = shape.matrix!;
        const grid = plan.find((p) => p.name === shape.name)!;
        const pruned = grid.status === 'pruned';
        // Glorot-uniform initialisation from our seeded generator (never Math.random).
        const limit = Math.sqrt(6 / (rows + cols));
        const w = Float32Array.from({ length: rows * cols }, () => (2 * rng.next() - 1) * limit);
        // The initial tensors live only inside tidy; the variables keep their own copies.
        const logits =
          pruned && options.attention
            ? tf.tidy(() =>
                tf.variable(
                  tf.tensor2d(
                    Float32Array.from({ length: grid.blocks }, () =>
                      options.logitInit === 'normal' ? 1e-5 * rng.normal() : 0,
                    ),
                    [grid.gridRows, grid.gridCols],
                  ),
                  true,
                ),
              )
            : null;
        const mask = pruned ? new Uint8Array(grid.blocks).fill(1) : null;
        return {
          name: shape.name,
          grid,
          kernel: tf.tidy(() => tf.variable(tf.tensor2d(w, [rows, cols]), true)),
          bias: tf.tidy(() => tf.variable(tf.zeros([cols]), true)),
          logits,
          mask,
          maskTensor: mask ? tf.keep(tf.ones([grid.gridRows, grid.gridCols]) as tf.Tensor2D) : null,
          pruned,
        };
      });
  }

  /** `W ⊙ A ⊙ mask` of a layer (just `W` for layers that are not pruned). */
  effectiveKernel(layer: MaskedDense): tf.Tensor2D {
    if (!layer.pruned) return layer.kernel;
    return tf.tidy(() => {
      const values = layer.logits
        ? blockAttention(layer.logits, this.options.clipDensity).mul(layer.maskTensor!)
        : layer.maskTensor!;
      return scaleBlocks(layer.kernel, values as tf.Tensor2D, layer.grid);
    });
  }

  /** Logits (pre-softmax outputs) for a batch of flattened inputs. */
  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let h = x;
      this.layers.forEach((layer, i) => {
        h = tf.add(tf.matMul(h, this.effectiveKernel(layer)), layer.bias);
        if (i < this.layers.length - 1) h = activate(h, this.options.activation);
      });
      return h;
    });
  }

  /** Replaces a pruned layer's mask (CPU copy and backend tensor). */
  setMask(layer: MaskedDense, mask: Uint8Array): void {
    layer.mask = mask;
    layer.maskTensor?.dispose();
    layer.maskTensor = tf.keep(tf.tensor2d(Float32Array.from(mask), [layer.grid.gridRows, layer.grid.gridCols]));
  }

  /** Sets the weights of the masked-out blocks of a layer to zero (`pruned_weights: zero`). */
  zeroMaskedWeights(layer: MaskedDense): void {
    if (!layer.maskTensor) return;
    tf.tidy(() => layer.kernel.assign(scaleBlocks(layer.kernel, layer.maskTensor!, layer.grid)));
  }

  /** The attention `A` of a layer as a plain array (row-major over the grid). */
  attentionValues(layer: MaskedDense): Float32Array | null {
    if (!layer.logits) return null;
    return tf.tidy(() => blockAttention(layer.logits!, this.options.clipDensity).dataSync() as Float32Array);
  }

  /**
   * Every variable under a stable name (`dense_1/kernel`, `dense_1/bias`, `dense_1/logits`), for
   * checkpoints. TF.js variable names stay engine-generated so several models can coexist.
   */
  namedVariables(): [string, tf.Variable][] {
    return this.layers.flatMap((l): [string, tf.Variable][] => [
      [`${l.name}/kernel`, l.kernel],
      [`${l.name}/bias`, l.bias],
      ...(l.logits ? ([[`${l.name}/logits`, l.logits]] as [string, tf.Variable][]) : []),
    ]);
  }

  weights(): tf.Variable[] {
    return this.layers.flatMap((l) => [l.kernel, l.bias]);
  }

  logitVariables(): tf.Variable[] {
    return this.layers.flatMap((l) => (l.logits ? [l.logits] : []));
  }

  dispose(): void {
    for (const l of this.layers) {
      l.kernel.dispose();
      l.bias.dispose();
      l.logits?.dispose();
      l.maskTensor?.dispose();
    }
  }
}
