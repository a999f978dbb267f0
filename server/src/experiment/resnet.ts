/**
 * The built-in residual network (`model.kind: resnet`) as a Keras / TF.js LayersModel topology:
 * ResNet-v1 with basic blocks for small images (He et al. 2016, §4.2: the CIFAR networks), depth
 * `6n + 2` with `n` blocks in each of three stages of `width`, `2·width` and `4·width` channels.
 *
 * - stem: `stem/conv` (3x3) → `stem/bn` → `stem/relu`
 * - block `j` of stage `i`: `stage<i>/block<j>/conv1` (3x3, stride 2 in the first block of stages
 *   2 and 3) → `bn1` → `relu1` → `conv2` (3x3) → `bn2`, plus the shortcut (identity, or
 *   `shortcut` 1x1 conv → `shortcut_bn` where the shape changes) → `add` → `relu2`
 * - head: `pool` (global average) → `output` (dense logits)
 *
 * Convolutions before batch norm have no bias; batch norm keeps its moving statistics with momentum
 * 0.9 (PyTorch's 0.1), since pruning runs here are short. The same topology is described by graphShape.ts
 * for the editor and built by tfjs-layers in the engine, and it is what the export writes.
 */
import type { ModelConfig } from './schema';

export type ResnetConfig = Extract<ModelConfig, { kind: 'resnet' }>;

interface KerasLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, Record<string, never>][][];
}

/** The `modelTopology` of model.json for a ResNet on `[height, width, channels]` images. */
export function resnetTopology(
  model: ResnetConfig,
  inputShape: readonly number[],
  classes: number,
): Record<string, unknown> {
  const layers: KerasLayer[] = [];
  const add = (className: string, name: string, config: Record<string, unknown>, inputs: string[]): string => {
    layers.push({
      class_name: className,
      name,
      config: { name, trainable: true, ...config },
      inbound_nodes: inputs.length > 0 ? [inputs.map((i) => [i, 0, 0, {}])] : [],
    });
    return name;
  };
  const conv = (name: string, input: string, filters: number, kernel: number, stride: number) =>
    add(
      'Conv2D',
      name,
      {
        filters,
        kernel_size: [kernel, kernel],
        strides: [stride, stride],
        padding: 'same',
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        activation: 'linear',
        use_bias: false,
        kernel_initializer: {
          class_name: 'VarianceScaling',
          config: { scale: 2, mode: 'fan_in', distribution: 'normal', seed: null },
        },
      },
      [input],
    );
  const bn = (name: string, input: string) =>
    add('BatchNormalization', name, { axis: -1, momentum: 0.9, epsilon: 0.001, center: true, scale: true }, [input]);
  const relu = (name: string, input: string) => add('Activation', name, { activation: 'relu' }, [input]);

  let x = add('InputLayer', 'input', { batch_input_shape: [null, ...inputShape], dtype: 'float32', sparse: false }, []);
  x = relu('stem/relu', bn('stem/bn', conv('stem/conv', x, model.width, 3, 1)));
  let channels = model.width;
  const blocks = (model.depth - 2) / 6;
  for (let stage = 1; stage <= 3; stage++) {
    const filters = model.width * 2 ** (stage - 1);
    for (let block = 1; block <= blocks; block++) {
      const p = `stage${stage}/block${block}`;
      const stride = stage > 1 && block === 1 ? 2 : 1;
      let y = relu(`${p}/relu1`, bn(`${p}/bn1`, conv(`${p}/conv1`, x, filters, 3, stride)));
      y = bn(`${p}/bn2`, conv(`${p}/conv2`, y, filters, 3, 1));
      const shortcut =
        stride !== 1 || channels !== filters ? bn(`${p}/shortcut_bn`, conv(`${p}/shortcut`, x, filters, 1, stride)) : x;
      x = relu(`${p}/relu2`, add('Add', `${p}/add`, {}, [y, shortcut]));
      channels = filters;
    }
  }
  x = add('GlobalAveragePooling2D', 'pool', { data_format: 'channels_last' }, [x]);
  add(
    'Dense',
    'output',
    {
      units: classes,
      activation: 'linear',
      use_bias: true,
      kernel_initializer: {
        class_name: 'VarianceScaling',
        config: { scale: 1, mode: 'fan_avg', distribution: 'uniform', seed: null },
      },
      bias_initializer: { class_name: 'Zeros', config: {} },
    },
    [x],
  );
  return {
    class_name: 'Functional',
    config: {
      name: `resnet${model.depth}`,
      layers,
      input_layers: [['input', 0, 0]],
      output_layers: [['output', 0, 0]],
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
}
