/**
 * A network of dense and convolution layers (with max pooling and flatten between them) whose
 * pruned layers use the kernel `W ⊙ A ⊙ mask`: `A` the block attention (SA++ only, from trainable
 * logits), `mask` non-trainable block state. Conv kernels are pruned as their `(kh·kw·cin) x cout`
 * matrix. Layer names and shapes come from `describeModel`, so the layers that train are the ones
 * the editor shows.
 */
import * as tf from '@tensorflow/tfjs-core';
// Chained ops (`x.reshape(...)`, `x.mul(...)`) are opt-in in tfjs-core.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import type { LayerShape } from '../experiment/modelShape';
import type { LayerPlan } from '../experiment/pruningPlan';
import type { ActivationName } from '../experiment/schema';
import { blockAttention, scaleBlocks } from './blockMask';
import { conv2dSame } from './conv2dSame';
import type { Rng } from './random';

export interface MaskedDense {
  name: string;
  /** `dense`, or `conv2d` with its 4-D kernel shape `[kh, kw, cin, cout]` (the matrix is its reshape). */
  kind: 'dense' | 'conv2d';
  convShape: [number, number, number, number] | null;
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

export interface MaskedNetworkOptions {
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

export class MaskedNetwork {
  readonly layers: MaskedDense[];
  /** Input shape of one example (`[28, 28, 1]`, `[64]`). */
  readonly inputShape: number[];

  constructor(
    private readonly shapes: LayerShape[],
    plan: LayerPlan[],
    readonly options: MaskedNetworkOptions,
    rng: Rng,
    inputShape?: number[],
  ) {
    this.inputShape = inputShape ?? [shapes.find((s) => s.matrix)?.matrix?.[0] ?? 0];
    let channels = this.inputShape[this.inputShape.length - 1] ?? 1;
    this.layers = shapes
      .filter((s) => s.matrix !== null)
      .map((shape) => {
        const [rows, cols] = shape.matrix!;
        const kind = shape.kind === 'conv2d' ? 'conv2d' : 'dense';
        const k = kind === 'conv2d' ? Math.round(Math.sqrt(rows / channels)) : 0;
        const convShape: MaskedDense['convShape'] = kind === 'conv2d' ? [k, k, channels, cols] : null;
        if (kind === 'conv2d') channels = cols;
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
          kind,
          convShape,
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

  /** Logits (pre-softmax outputs) for a batch of flattened inputs `[batch, prod(inputShape)]`. */
  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const batch = x.shape[0];
      let h: tf.Tensor = this.inputShape.length > 1 ? x.reshape([batch, ...this.inputShape]) : x;
      const last = this.layers[this.layers.length - 1];
      for (const shape of this.shapes) {
        const layer = this.layers.find((l) => l.name === shape.name);
        if (layer?.kind === 'dense') {
          h = tf.add(tf.matMul(h as tf.Tensor2D, this.effectiveKernel(layer)), layer.bias);
          if (layer !== last) h = activate(h as tf.Tensor2D, this.options.activation);
        } else if (layer?.kind === 'conv2d') {
          const kernel = this.effectiveKernel(layer).reshape(layer.convShape!) as tf.Tensor4D;
          h = activate(
            tf.add(conv2dSame(h as tf.Tensor4D, kernel), layer.bias) as unknown as tf.Tensor2D,
            this.options.activation,
          );
        } else if (shape.kind === 'maxpool') {
          const size = (h.shape[1] ?? 1) / (shape.outputShape[0] ?? 1);
          const pool = Math.max(1, Math.floor(size));
          h = tf.maxPool(h as tf.Tensor4D, pool, pool, 'valid');
        } else if (shape.kind === 'flatten') h = h.reshape([batch, -1]);
      }
      return h as tf.Tensor2D;
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
