/**
 * A stride-1 'same' 2-D convolution whose filter gradient is computed with ops every backend has.
 * tfjs-backend-wasm 4.22 registers no `Conv2DBackpropFilter` kernel, so `tf.conv2d` cannot be
 * trained there; the filter gradient `dW[i,j,ci,co] = Σ_b,h,w x_pad[b,h+i,w+j,ci]·dy[b,h,w,co]` is
 * itself a convolution: of `x` with batch and channels swapped, by `dy` used as the filter.
 */
import * as tf from '@tensorflow/tfjs-core';

export function conv2dSame(x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D {
  // customGrad passes the inputs and then the save function through one variadic parameter.
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, w, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xs, w]);
    return {
      value: tf.conv2d(xs, w, 1, 'same'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor4D, tf.Tensor4D];
        const [kh, kw] = sw.shape;
        const dx = tf.conv2dTranspose(dy as tf.Tensor4D, sw, sx.shape, 1, 'same');
        const top = Math.floor((kh - 1) / 2);
        const left = Math.floor((kw - 1) / 2);
        const pad: [[number, number], [number, number], [number, number], [number, number]] = [
          [0, 0],
          [top, kh - 1 - top],
          [left, kw - 1 - left],
          [0, 0],
        ];
        const swapped = tf.transpose(sx, [3, 1, 2, 0]); // [cin, H, W, batch]
        const dyFilter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [H, W, batch, cout]
        const dw = tf.transpose(tf.conv2d(swapped, dyFilter, 1, pad), [1, 2, 0, 3]); // [kh, kw, cin, cout]
        return [dx, dw];
      },
    };
  }) as Parameters<typeof tf.customGrad<tf.Tensor4D>>[0]);
  return op(x, filter) as tf.Tensor4D;
}
