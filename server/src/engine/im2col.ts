/**
 * 2-D convolution as one matmul against the `(kh·kw·cin) x cout` kernel matrix that blocks tile
 * (spec §1.1): the input's patches are gathered with pad, slice and concat ("im2col"), so the
 * block mask and attention act on the very matrix that multiplies. It also sidesteps the wasm
 * backend, which has no `Conv2DBackpropFilter` kernel to train `tf.conv2d`. Patch columns are
 * ordered `(dy, dx, c)`, the row-major order of a TF `[kh, kw, cin, cout]` kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Padding } from './networkSpec';

export interface ConvGeometry {
  kernelHeight: number;
  kernelWidth: number;
  strides: [number, number];
  padding: Padding;
}

/** Output size and leading padding along one axis, as TF computes them. */
export function convAxis(
  size: number,
  kernel: number,
  stride: number,
  padding: Padding,
): { out: number; before: number; total: number } {
  if (padding === 'valid') return { out: Math.floor((size - kernel) / stride) + 1, before: 0, total: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max(0, (out - 1) * stride + kernel - size);
  return { out, before: Math.floor(total / 2), total };
}

/** Patches of `x` `[b, h, w, c]` as `[b·oh·ow, kh·kw·c]`, plus the output grid size. */
export function im2col(x: tf.Tensor4D, g: ConvGeometry): { patches: tf.Tensor2D; outHeight: number; outWidth: number } {
  const [b, h, w, c] = x.shape;
  const [sy, sx] = g.strides;
  const ay = convAxis(h, g.kernelHeight, sy, g.padding);
  const ax = convAxis(w, g.kernelWidth, sx, g.padding);
  if (ay.out < 1 || ax.out < 1)
    throw new Error(`a ${g.kernelHeight}x${g.kernelWidth} kernel does not fit a ${h}x${w} input`);
  // Room for `out·stride` rows after any offset dy, so strided slices never run off the end.
  const padBottom = g.kernelHeight - 1 + ay.out * sy - (h + ay.before);
  const padRight = g.kernelWidth - 1 + ax.out * sx - (w + ax.before);
  const patches = tf.tidy(() => {
    const padded = tf.pad(x, [
      [0, 0],
      [ay.before, Math.max(0, padBottom)],
      [ax.before, Math.max(0, padRight)],
      [0, 0],
    ]);
    const columns: tf.Tensor4D[] = [];
    for (let dy = 0; dy < g.kernelHeight; dy++)
      for (let dx = 0; dx < g.kernelWidth; dx++) {
        let p = tf.slice(padded, [0, dy, dx, 0], [b, ay.out * sy, ax.out * sx, c]);
        if (sy > 1 || sx > 1) {
          // Keep every stride-th row and column: view each stride group as its own axis and take its first entry.
          p = tf.reshape(
            tf.slice(tf.reshape(p, [b * ay.out, sy, ax.out, sx * c]), [0, 0, 0, 0], [b * ay.out, 1, ax.out, c]),
            [b, ay.out, ax.out, c],
          );
        }
        columns.push(p);
      }
    const stacked = columns.length === 1 ? columns[0]! : tf.concat(columns, 3);
    return tf.reshape<tf.Rank.R2>(stacked, [b * ay.out * ax.out, g.kernelHeight * g.kernelWidth * c]);
  });
  return { patches, outHeight: ay.out, outWidth: ax.out };
}

/**
 * `conv2d(x, kernel)` with the kernel given as its `(kh·kw·cin) x cout` matrix, or as the product
 * of the patches with it (a block-sparse layer multiplies only its kept blocks).
 */
export function conv2dByMatmul(
  x: tf.Tensor4D,
  kernel: tf.Tensor | ((patches: tf.Tensor2D) => tf.Tensor2D),
  g: ConvGeometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const { patches, outHeight, outWidth } = im2col(x, g);
    const y: tf.Tensor2D = kernel instanceof tf.Tensor ? tf.matMul(patches, kernel as tf.Tensor2D) : kernel(patches);
    return tf.reshape(y, [x.shape[0], outHeight, outWidth, y.shape[1]]);
  });
}
