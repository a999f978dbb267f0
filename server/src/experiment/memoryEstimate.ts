/**
 * What a run will hold in memory, from shapes only (the same analysis the editor shows): the
 * parameters with their gradients, optimizer slots and masked copies, the activations of a training
 * batch and of an evaluation batch (1000 examples), and the examples a data source keeps in memory.
 * An estimate, within a small factor: enough to refuse `hidden: [65536, 65536]` or a teacher of
 * 100000 x 100000 before anything is allocated, and to warn when a run would take most of the
 * machine.
 */
import type { InputDescription, ModelShapeResult } from './modelShape';
import type { ExperimentConfig } from './schema';

/** What the estimate reads of the analysis (analysis.ts), which holds the estimate in turn. */
export interface MemoryEstimateInput {
  config: ExperimentConfig;
  input: InputDescription;
  model: ModelShapeResult | { ok: false };
}

/** The wasm backend's memory is 32-bit: its tensors can never take more than 4 GiB. */
export const WASM_MAX_BYTES = 4 * 2 ** 30;
const FLOAT = 4;
/** Examples per evaluation batch (trainer.ts evaluates 1000 at a time). */
const EVAL_BATCH = 1000;
/** Criteo's streaming shuffle buffer (data/criteo.ts), in examples of 39 features. */
const CRITEO_BUFFER_EXAMPLES = 20_000;

export interface MemoryEstimate {
  /** Weights, gradients, optimizer slots and the masked kernels of a step, in bytes. */
  parameters: number;
  /** Activations kept for the backward pass of a training batch, or of an evaluation batch if larger. */
  activations: number;
  /** Examples (and a teacher's weights) the data source holds in memory; a lower bound when counts are unknown. */
  dataset: number;
  /** Tensor memory: what the backend must address (parameters + activations). */
  tensors: number;
  total: number;
  /** The config key that most of the total comes from: where a diagnostic goes. */
  largest: { part: 'parameters' | 'activations' | 'dataset'; key: (string | number)[] };
}

/** Float slots per parameter besides the weight: its gradient, the optimizer's moments, two masked copies. */
function slotsPerParameter(optimizer: ExperimentConfig['training']['optimizer']): number {
  const moments = optimizer === 'adam' ? 2 : optimizer === 'momentum' ? 1 : 0;
  return 1 + 1 + moments + 2;
}

const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/** Null when the model cannot be described (its diagnostics say why). */
export function estimateMemory(analysis: MemoryEstimateInput): MemoryEstimate | null {
  if (!analysis.model.ok) return null;
  const { config, input } = analysis;
  const layers = analysis.model.shape.layers;
  const params = layers.reduce((sum, l) => sum + l.params, 0);
  const parameters = params * FLOAT * slotsPerParameter(config.training.optimizer);

  // Every layer's output is kept for the backward pass and gets a gradient of the same size; a conv
  // layer also holds its im2col patches, `positions x (kh*kw*cin)`.
  let perExample = input.shape ? product(input.shape) : 0;
  for (const l of layers) {
    perExample += 2 * product(l.outputShape);
    if (l.kind === 'conv2d' && l.matrix) perExample += product(l.outputShape.slice(0, -1)) * l.matrix[0];
  }
  const batch = config.data.batch_size;
  const activations = Math.max(batch, EVAL_BATCH / 2) * perExample * FLOAT;

  const dataset = datasetBytes(analysis);
  const tensors = parameters + activations;
  const parts = { parameters, activations, dataset };
  const part = (Object.keys(parts) as (keyof typeof parts)[]).reduce((a, b) => (parts[b] > parts[a] ? b : a));
  const modelKey: Record<ExperimentConfig['model']['kind'], string> = {
    mlp: 'hidden',
    ctr: 'hidden',
    cnn: 'dense',
    resnet: 'width',
    tfjs: 'path',
  };
  const key: Record<typeof part, (string | number)[]> = {
    parameters: ['model', modelKey[config.model.kind]],
    activations: ['data', 'batch_size'],
    dataset: config.data.source === 'teacher' ? ['data'] : ['data', 'source'],
  };
  return { parameters, activations, dataset, tensors, total: tensors + dataset, largest: { part, key: key[part] } };
}

function datasetBytes(analysis: MemoryEstimateInput): number {
  const data = analysis.config.data;
  const features = analysis.input.shape ? product(analysis.input.shape) : 0;
  const train = analysis.input.trainExamples ?? 0;
  switch (data.source) {
    case 'teacher': {
      // The teacher's weights, then every generated example (features and a label).
      const teacher = (data.input_dim * data.hidden + data.hidden * data.classes + data.input_dim) * FLOAT;
      return teacher + (data.train_examples + data.test_examples) * (data.input_dim + 1) * FLOAT;
    }
    case 'synthetic-ctr':
      return 0; // generated batch by batch
    case 'criteo':
      return CRITEO_BUFFER_EXAMPLES * 40 * FLOAT;
    case 'fashion-mnist':
    case 'idx':
      return train * (features + 4); // one byte per pixel, a label
    case 'csv':
    case 'npz':
      return train * (features + 1) * FLOAT;
  }
}
