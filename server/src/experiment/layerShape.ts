/** The shape of a model as the editor and the engine describe it: its layers in order, sizes only. */

export type LayerKind =
  | 'dense'
  | 'conv2d'
  | 'conv1d'
  | 'depthwise_conv2d'
  | 'separable_conv2d'
  | 'embedding'
  | 'flatten'
  | 'reshape'
  | 'dropout'
  | 'activation'
  | 'maxpool'
  | 'avgpool'
  | 'global_pool'
  | 'batchnorm'
  | 'layernorm'
  | 'add'
  | 'concatenate'
  | 'multiply'
  | 'zero_padding';

export interface LayerShape {
  name: string;
  kind: LayerKind;
  /**
   * The 2-D matrix that blocks tile, `[rows, cols]`: a dense kernel `[in, out]`, a conv kernel
   * reshaped to `[kh*kw*cin, cout]`. Null for layers without a prunable kernel.
   */
  matrix: [number, number] | null;
  /** Shape of one example after this layer (no batch dimension). */
  outputShape: number[];
  /** Trainable and non-trainable parameters of the layer. */
  params: number;
}

export interface ModelShape {
  inputShape: number[];
  layers: LayerShape[];
}

/** A model that cannot be described; `path` is the config key the problem belongs to. */
export interface ModelShapeError {
  message: string;
  path: (string | number)[];
}

export type ModelShapeResult = { ok: true; shape: ModelShape } | { ok: false; error: ModelShapeError };
