/**
 * The experiment format (`*.prune.yaml`), defined once.
 *
 * Types, defaults, ranges and the markdown docs shown in completion and hover all come from this
 * module; `schemas/prune-experiment.schema.json` is generated from it (`npm run schema`) and a test
 * fails when the checked-in copy is stale. Keys are snake_case as users write them.
 */
import { z } from 'zod';

/** Attaches the docs that completion and hover show (and that the JSON Schema carries). */
function doc<T extends z.ZodType>(schema: T, markdown: string): T {
  return schema.meta({ description: plainText(markdown), markdownDescription: markdown });
}

function plainText(markdown: string): string {
  return markdown.replace(/`([^`]*)`/g, '$1').replace(/\*\*([^*]*)\*\*/g, '$1');
}

/** A string enum whose every value carries its own docs (completion shows them per value). */
function documentedEnum<const V extends string>(values: Record<V, string>, markdown: string) {
  const keys = Object.keys(values) as [V, ...V[]];
  const docs = keys.map((k) => values[k]);
  return z.enum(keys).meta({
    description: plainText(markdown),
    markdownDescription: markdown,
    enumDescriptions: docs.map(plainText),
    markdownEnumDescriptions: docs,
  });
}

/** The discriminator of one variant of a tagged union, with the docs of that variant. */
function tag<const V extends string>(value: V, markdown: string) {
  return z.literal(value).meta({ description: plainText(markdown), markdownDescription: markdown });
}

const int = (min: number, max: number) => z.int().min(min).max(max);
/** A fraction of the total training steps, in [0, 1]. */
const stepFraction = (markdown: string, fallback: number) => doc(z.number().min(0).max(1), markdown).default(fallback);

export const MAX_STEPS = 100_000_000;

// ---------------------------------------------------------------------------------------------
// Enumerations users pick from
// ---------------------------------------------------------------------------------------------

export const BACKENDS = {
  auto: 'Pick the fastest backend that really runs here, in the order `tensorflow`, `webgpu`, `wasm`, `cpu`; every skipped backend is recorded with its reason.',
  tensorflow:
    'Native TensorFlow through `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`, when installed by the user (they download libtensorflow at install time).',
  webgpu: 'WebGPU through the `webgpu` (Dawn) package, only on a real GPU adapter (never a CPU rasterizer).',
  wasm: 'WebAssembly with XNNPACK and the transposed-matmul kernel patch: the default on machines without a GPU.',
  cpu: 'Pure JavaScript: always available, 20-30x slower than `wasm`. For tiny models and debugging.',
} as const;
export type BackendName = keyof typeof BACKENDS;

export const ACTIVATIONS = {
  relu: 'Rectified linear unit, `max(0, x)`.',
  tanh: 'Hyperbolic tangent.',
  sigmoid: 'Logistic sigmoid.',
  elu: 'Exponential linear unit.',
  gelu: 'Gaussian error linear unit (tanh approximation).',
  linear: 'No activation.',
} as const;
export type ActivationName = keyof typeof ACTIVATIONS;

const activation = documentedEnum(ACTIVATIONS, 'Activation after every hidden layer.').default('relu');

// ---------------------------------------------------------------------------------------------
// data
// ---------------------------------------------------------------------------------------------

const batchSize = doc(int(1, 65_536), 'Examples per training step.').default(128);
const trainExamples = doc(
  int(1, 1_000_000_000),
  'Use at most this many training examples (the first ones of the file, or the number generated for synthetic sources).',
).optional();
const testExamples = doc(int(1, 1_000_000_000), 'Use at most this many held-out examples for evaluation.').optional();
const shuffle = doc(z.boolean(), 'Shuffle the training examples every epoch (seeded by `seed`).').default(true);
const testSplit = doc(
  z.number().gt(0).lt(1),
  'Fraction of the training file held out for evaluation when no separate test file is given.',
).default(0.1);

export const DEFAULT_FASHION_MNIST_PATH = '/usr/share/datasets/fashion-mnist';

const dataCommon = { batch_size: batchSize, train_examples: trainExamples, test_examples: testExamples, shuffle };

export const FashionMnistData = z.strictObject({
  source: tag(
    'fashion-mnist',
    'Fashion-MNIST: 28x28 grey images of clothes in 10 classes, read from the four IDX files (`.gz` or raw).',
  ),
  path: doc(
    z.string().min(1),
    `Folder holding \`train-images-idx3-ubyte.gz\`, \`train-labels-idx1-ubyte.gz\`, \`t10k-images-idx3-ubyte.gz\` and \`t10k-labels-idx1-ubyte.gz\`. Relative paths start at the experiment file. Default: \`${DEFAULT_FASHION_MNIST_PATH}\` (Debian package \`dataset-fashion-mnist\`).`,
  ).default(DEFAULT_FASHION_MNIST_PATH),
  ...dataCommon,
});

export const IdxData = z.strictObject({
  source: tag('idx', 'Your own images and labels in IDX format (the MNIST file format), optionally gzipped.'),
  train_images: doc(z.string().min(1), 'IDX file of training images (`idx3`: count x rows x cols, unsigned bytes).'),
  train_labels: doc(z.string().min(1), 'IDX file of training labels (`idx1`: one unsigned byte per example).'),
  test_images: doc(
    z.string().min(1),
    'IDX file of test images. Without it, `test_split` of the training set is held out.',
  ).optional(),
  test_labels: doc(z.string().min(1), 'IDX file of test labels; required with `test_images`.').optional(),
  test_split: testSplit,
  classes: doc(int(2, 100_000), 'Number of label classes; labels must be integers in `[0, classes)`.').default(10),
  scale: doc(z.number().gt(0), 'Pixel values are divided by this number.').default(255),
  ...dataCommon,
});

export const CsvData = z.strictObject({
  source: tag('csv', 'A CSV file of numeric features and an integer class label per row.'),
  path: doc(z.string().min(1), 'CSV file with the training examples (relative to the experiment file).'),
  test_path: doc(
    z.string().min(1),
    'CSV file with held-out examples. Without it, `test_split` is held out.',
  ).optional(),
  test_split: testSplit,
  label_column: doc(
    z.union([z.string().min(1), int(0, 1_000_000)]),
    'Column holding the label: a header name, or a 0-based column index.',
  ).default('label'),
  header: doc(z.boolean(), 'The first row holds column names.').default(true),
  delimiter: doc(z.string().length(1), 'Field separator, one character.').default(','),
  classes: doc(int(2, 100_000), 'Number of label classes; labels must be integers in `[0, classes)`.'),
  ...dataCommon,
});

export const CriteoData = z.strictObject({
  source: tag(
    'criteo',
    'Click logs in the Criteo TSV format: label, 13 integer features, 26 hexadecimal categorical features per line. Read as a stream, so multi-GB files are fine.',
  ),
  path: doc(z.string().min(1), 'TSV file of training examples (relative to the experiment file).'),
  test_path: doc(z.string().min(1), 'TSV file of held-out examples. Without it, `test_split` is held out.').optional(),
  test_split: testSplit,
  hash_buckets: doc(
    int(2, 100_000_000),
    'Categorical values are hashed into this many buckets per feature (the hashing trick).',
  ).default(10_000),
  ...dataCommon,
  batch_size: doc(int(1, 65_536), 'Examples per training step.').default(512),
});

export const TeacherData = z.strictObject({
  source: tag(
    'teacher',
    'A planted teacher: a random MLP whose first layer is block-sparse. Its true block support is known, so runs report support-recovery F1.',
  ),
  input_dim: doc(int(1, 100_000), 'Input features; inputs are `N(0, I)`.').default(64),
  hidden: doc(int(1, 100_000), 'Width of the teacher (and student) hidden layer.').default(128),
  classes: doc(int(2, 1000), 'Number of classes.').default(10),
  block: doc(int(1, 4096), "Side of the square blocks of the teacher's first layer.").default(8),
  density: doc(z.number().gt(0).max(1), 'Fraction of first-layer blocks the teacher keeps.').default(0.25),
  logit_scale: doc(z.number().gt(0), 'Labels are `argmax(logit_scale * teacher_logits + noise * eps)`.').default(3),
  noise: doc(z.number().min(0), 'Label noise scale (see `logit_scale`).').default(0.1),
  input_scales: documentedEnum(
    {
      homogeneous: 'Every input feature has unit variance.',
      heterogeneous:
        'Each group of `block` input rows gets a fixed log-uniform scale in [0.1, 10]: a stress test for magnitude-based scores.',
    },
    'Scale of the input features.',
  ).default('homogeneous'),
  teacher_seed: doc(
    int(0, 2_147_483_647),
    'Seed of the teacher and the generated data. Default: the experiment `seed`.',
  ).optional(),
  ...dataCommon,
  train_examples: doc(int(1, 10_000_000), 'Number of training examples generated.').default(20_000),
  test_examples: doc(int(1, 10_000_000), 'Number of test examples generated.').default(5_000),
  batch_size: doc(int(1, 65_536), 'Examples per training step.').default(256),
});

export const SyntheticCtrData = z.strictObject({
  source: tag(
    'synthetic-ctr',
    'Generated click data in the Criteo layout (13 numeric, 26 categorical features) from a planted logistic teacher with pairwise interactions.',
  ),
  numeric_features: doc(int(0, 1000), 'Numeric features per example.').default(13),
  categorical_features: doc(int(0, 1000), 'Categorical features per example.').default(26),
  vocabulary: doc(int(2, 10_000_000), 'Distinct values per categorical feature.').default(1000),
  positive_rate: doc(z.number().gt(0).lt(1), 'Approximate fraction of positive labels.').default(0.25),
  hash_buckets: doc(int(2, 100_000_000), 'Buckets per categorical feature seen by the model.').default(1000),
  ...dataCommon,
  train_examples: doc(int(1, 100_000_000), 'Number of training examples generated.').default(50_000),
  test_examples: doc(int(1, 100_000_000), 'Number of test examples generated.').default(10_000),
  batch_size: doc(int(1, 65_536), 'Examples per training step.').default(512),
});

export const DataSchema = z.discriminatedUnion('source', [
  FashionMnistData,
  IdxData,
  CsvData,
  CriteoData,
  TeacherData,
  SyntheticCtrData,
]);
export type DataConfig = z.output<typeof DataSchema>;
export type DataSource = DataConfig['source'];

// ---------------------------------------------------------------------------------------------
// model
// ---------------------------------------------------------------------------------------------

const widths = (markdown: string, fallback: number[]) =>
  doc(z.array(int(1, 65_536)).max(64), markdown).default(fallback);
const dropout = doc(z.number().min(0).lt(1), 'Dropout rate after every hidden layer (0 disables it).').default(0);

export const MlpModel = z.strictObject({
  kind: tag(
    'mlp',
    'Fully connected network. Layers are named `dense_1`, `dense_2`, ... and `output`; every one has a 2-D kernel that can be pruned.',
  ),
  hidden: widths('Widths of the hidden layers, in order.', [512, 256]),
  activation,
  dropout,
});

export const CnnModel = z.strictObject({
  kind: tag(
    'cnn',
    'Small convolutional network for 28x28 images: `conv_1`, `conv_2`, ... (3x3 `same` convolutions, each followed by max pooling), then `dense_1`, ... and `output`. Conv kernels are pruned as `(kh*kw*cin) x cout` matrices.',
  ),
  filters: widths('Output channels of each convolution, in order.', [16, 32]),
  kernel_size: doc(int(1, 15), 'Side of the square convolution kernels.').default(3),
  pool: doc(int(1, 8), 'Max-pooling window and stride after each convolution (1 disables pooling).').default(2),
  dense: widths('Widths of the dense layers after the convolutions.', [128]),
  activation,
  dropout,
});

export const CtrModel = z.strictObject({
  kind: tag(
    'ctr',
    "Click-through-rate model after the paper's Criteo setup: an `embedding` per feature (numeric features scale a learned vector, categorical ones look one up), concatenated, then `dense_1`, ... and a one-unit `output`. The paper prunes only `dense_1`.",
  ),
  embedding_dim: doc(
    int(1, 1024),
    'Embedding width per feature; the first dense layer sees `features x embedding_dim` inputs.',
  ).default(10),
  hidden: widths('Widths of the dense layers.', [400, 400, 400]),
  activation,
  dropout,
});

export const TfjsModel = z.strictObject({
  kind: tag(
    'tfjs',
    "Your own TensorFlow.js LayersModel (`model.json` plus weight files). Supported layers: Dense, Conv2D, Flatten, Dropout, Activation, MaxPooling2D, BatchNormalization, InputLayer. Layer names are the model's own.",
  ),
  path: doc(z.string().min(1), 'Path of `model.json`, relative to the experiment file.'),
});

export const ModelSchema = z.discriminatedUnion('kind', [MlpModel, CnnModel, CtrModel, TfjsModel]);
export type ModelConfig = z.output<typeof ModelSchema>;
export type ModelKind = ModelConfig['kind'];

// ---------------------------------------------------------------------------------------------
// training
// ---------------------------------------------------------------------------------------------

export const TrainingSchema = z.strictObject({
  steps: doc(
    int(1, MAX_STEPS),
    'Training steps in total (all phases). Mutually exclusive with `epochs`. When neither is given: 1000.',
  ).optional(),
  epochs: doc(
    z.number().gt(0).max(100_000),
    'Passes over the training set; converted to steps with `train_examples` and `batch_size`. Mutually exclusive with `steps`.',
  ).optional(),
  optimizer: documentedEnum(
    {
      adam: "Adam (the paper's optimizer on Criteo).",
      sgd: 'Plain stochastic gradient descent.',
      momentum: "SGD with momentum (the paper's optimizer on ImageNet); see `momentum`.",
    },
    'Optimizer of weights and attention logits. It is re-created (moments reset) at every phase boundary when `pruning.reset_optimizer` is on.',
  ).default('adam'),
  learning_rate: doc(z.number().gt(0).max(10), 'Peak learning rate.').default(0.001),
  lr_schedule: documentedEnum(
    {
      constant: 'The same learning rate at every step.',
      cosine: 'Cosine decay from `learning_rate` to `final_learning_rate` over all steps.',
      exponential:
        "Exponential decay from `learning_rate` to `final_learning_rate` (the paper's Criteo schedule: 2e-2 to 3e-4).",
    },
    'Learning-rate schedule. It is global: a function of the overall step, never restarted per phase.',
  ).default('constant'),
  final_learning_rate: doc(
    z.number().gt(0).max(10),
    'Learning rate at the last step for `cosine` and `exponential`. Default: `learning_rate / 100`.',
  ).optional(),
  warmup_steps: doc(int(0, MAX_STEPS), 'Linear learning-rate warm-up from 0 over this many steps.').default(0),
  momentum: doc(z.number().min(0).lt(1), 'Momentum coefficient of the `momentum` optimizer.').default(0.9),
  weight_decay: doc(
    z.number().min(0).lt(1),
    'Decoupled weight decay on the weights: after each step `w -= learning_rate * weight_decay * w`.',
  ).default(0.0001),
  logit_weight_decay: doc(
    z.number().min(0).lt(1),
    'Weight decay on the attention logits of `sapp` (the paper: it helps a lot). Default: `weight_decay`.',
  ).optional(),
  eval_every: doc(
    int(0, MAX_STEPS),
    'Evaluate on the held-out set every this many steps (0: only at the end).',
  ).default(200),
  log_every: doc(int(1, MAX_STEPS), 'Append a step record to `metrics.jsonl` every this many steps.').default(10),
});
export type TrainingConfig = z.output<typeof TrainingSchema>;
export const DEFAULT_STEPS = 1000;

// ---------------------------------------------------------------------------------------------
// pruning
// ---------------------------------------------------------------------------------------------

const sparsity = doc(
  z.number().min(0).lt(1),
  'Fraction of **blocks** removed from every pruned layer, in `[0, 1)` (uniform per layer, as the paper recommends). `0.9` keeps `round(0.1 * blocks)` blocks per layer.',
);

const block = doc(
  z.union([int(1, 65_536), z.tuple([int(1, 65_536), int(1, 65_536)])]),
  "Block shape: one number for square blocks, or `[rows, cols]`. Blocks tile each layer's 2-D kernel (conv kernels as `(kh*kw*cin) x cout`); when a side does not divide, the last row or column holds smaller edge blocks, which count as blocks.",
).default(8);

const minBlocks = doc(
  int(0, 100_000_000),
  "Layers with fewer blocks than this are not pruned (the paper's rule: 100 on ImageNet). This is why the achieved global sparsity can fall below `sparsity`.",
).default(100);

const layers = doc(
  z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]),
  'Layers to prune: `all`, or a list of layer names and globs (`dense_*`, `conv_?`). Every layer with a 2-D kernel is a candidate.',
).default('all');

const exclude = doc(
  z.array(z.string().min(1)),
  'Layer names or globs never pruned, even when `layers` selects them (e.g. `[output]`).',
).default([]);

const resetOptimizer = doc(
  z.boolean(),
  'Re-create the optimizer (fresh moments and step count) at every phase boundary. The paper calls this crucial.',
).default(true);

const pruningCommon = { sparsity, block, min_blocks: minBlocks, layers, exclude, reset_optimizer: resetOptimizer };

const cyclesDoc =
  'Number of cycles after the dense warm-up. In SA++ the first `cycles - 1` are sparsify/sparse/dense and the last one, with `extension`, becomes one long sparsification phase.';

export const SappSchedule = z.strictObject({
  dense_warmup: stepFraction('Fraction of steps trained dense before the first cycle.', 0.1),
  cycles: doc(int(1, 1000), cyclesDoc).default(7),
  cycle: stepFraction('Length of one cycle, as a fraction of all steps.', 0.1),
  split: doc(
    z.tuple([z.number().min(0).max(1), z.number().min(0).max(1), z.number().min(0).max(1)]),
    'How each cycle splits into `[sparsify, sparse, dense]`; the parts add up to 1. The paper does not state it: equal thirds by default.',
  ).default([1 / 3, 1 / 3, 1 / 3]),
  extension: stepFraction('Extra length of the last cycle (the paper extends the 7th cycle by 5%).', 0.05),
  final_sparse: stepFraction('Final sparse fine-tune at the end of training.', 0.15),
});

export const SappPruning = z.strictObject({
  method: tag(
    'sapp',
    "SequentialAttention++: a trainable softmax attention over each layer's blocks scales the weights; dense phases and gradual sparsification phases (top-k of the attention) alternate with sparse phases.",
  ),
  ...pruningCommon,
  schedule: doc(SappSchedule, 'Phase lengths as fractions of the training steps; they must add up to 1.').prefault({}),
  sparsification: doc(
    z.boolean(),
    "Run the gradual sparsification phases (SA++). `false` is the paper's ablation: alternating equal dense and sparse phases, the phase before the final fine-tune dense, the mask set to the top-k attention at the end of each dense phase.",
  ).default(true),
  exponent: doc(
    z.number().gt(0).max(50),
    'Exponent `c` of the sparsification curve `s * (1 - exp(-c*t)) / (1 - exp(-c))`: larger prunes harder early. The paper finds 2, 4 and 8 within 0.5 pp.',
  ).default(4),
  mask_update_every: doc(int(1, MAX_STEPS), 'Refresh the mask every this many steps during sparsification.').default(1),
  pruned_weights: documentedEnum(
    {
      mask: 'Pruned blocks keep their values and come back with them in the next dense phase (recommended for SA++).',
      zero: 'Pruned blocks are set to zero and come back as zeros.',
    },
    'What happens to the weights of pruned blocks.',
  ).default('mask'),
  clip_attention: doc(
    z.boolean(),
    "Clip the attention `A = N*softmax(L)` to `[density, 1/density]` in the forward pass (our reading of the paper's clip rule).",
  ).default(true),
  logit_init: documentedEnum(
    {
      zeros: 'All logits 0, so `A = 1` and the model starts exactly as the plain one.',
      normal: 'Logits drawn from N(0, 1e-5), as in the Sequential Attention reference code.',
    },
    'Initial value of the block logits.',
  ).default('zeros'),
});

export const AcdcSchedule = z.strictObject({
  dense_warmup: stepFraction('Fraction of steps trained dense before the first cycle.', 0.1),
  cycles: doc(int(1, 1000), 'Number of sparse-dense cycles.').default(7),
  cycle: stepFraction('Length of one cycle, as a fraction of all steps.', 0.1),
  sparse_share: doc(z.number().gt(0).lt(1), 'Part of each cycle that is sparse (the rest is dense).').default(0.5),
  extension: stepFraction('Extra length of the last dense phase.', 0.05),
  final_sparse: stepFraction('Final sparse fine-tune at the end of training.', 0.15),
});

export const AcdcPruning = z.strictObject({
  method: tag(
    'acdc',
    'Alternating Compressed/DeCompressed training: dense phases alternate with sparse phases whose support is the top-k blocks by Frobenius norm at the phase start.',
  ),
  ...pruningCommon,
  schedule: doc(AcdcSchedule, 'Phase lengths as fractions of the training steps; they must add up to 1.').prefault({}),
  pruned_weights: documentedEnum(
    {
      zero: 'Pruned blocks are zeroed and come back as zeros (the original ACDC, the paper on ImageNet).',
      mask: 'Pruned blocks are masked and come back with their old values (the paper on Criteo).',
    },
    'What happens to the weights of pruned blocks.',
  ).default('zero'),
});

export const MagnitudeSchedule = z.strictObject({
  dense: stepFraction('Dense training before pruning starts.', 0.7),
  ramp: stepFraction(
    'Length of the gradual pruning ramp. `0` prunes once at the end of the dense phase; more ramps the sparsity up as `s * (1 - (1 - t)^exponent)` (Zhu & Gupta).',
    0,
  ),
  fine_tune: stepFraction('Sparse fine-tune after pruning.', 0.3),
});

export const MagnitudePruning = z.strictObject({
  method: tag(
    'magnitude',
    'Block magnitude pruning: train dense, keep the top-k blocks by Frobenius norm (once, or gradually), zero the rest, fine-tune.',
  ),
  ...pruningCommon,
  schedule: doc(MagnitudeSchedule, 'Phase lengths as fractions of the training steps; they must add up to 1.').prefault(
    {},
  ),
  exponent: doc(z.number().gt(0).max(50), 'Exponent of the gradual ramp (3: the cubic schedule).').default(3),
  update_every: doc(int(1, MAX_STEPS), 'Re-prune every this many steps during the ramp.').default(10),
});

export const NonePruning = z.strictObject({
  method: tag('none', 'No pruning: trains the dense model, the reference point for the other methods.'),
  ...pruningCommon,
  sparsity: sparsity.optional(),
});

export const PruningSchema = z.discriminatedUnion('method', [SappPruning, AcdcPruning, MagnitudePruning, NonePruning]);
export type PruningConfig = z.output<typeof PruningSchema>;
export type PruningMethod = PruningConfig['method'];
export type SappPruningConfig = z.output<typeof SappPruning>;
export type AcdcPruningConfig = z.output<typeof AcdcPruning>;
export type MagnitudePruningConfig = z.output<typeof MagnitudePruning>;

// ---------------------------------------------------------------------------------------------
// output and the whole file
// ---------------------------------------------------------------------------------------------

export const OutputSchema = z.strictObject({
  dir: doc(z.string().min(1), 'Folder of the run folders, relative to the experiment file.').default('runs'),
  checkpoint_every: doc(
    int(0, MAX_STEPS),
    'Write a resumable checkpoint every this many steps (0: only at phase boundaries and on stop).',
  ).default(200),
  snapshots: doc(
    int(1, 100_000),
    'Number of block-importance and mask snapshots per layer kept over the run (evenly spaced, plus one at every phase boundary).',
  ).default(50),
  export: doc(z.boolean(), 'Write the folded TF.js model and the block-sparse model to `export/` at the end.').default(
    true,
  ),
});

export const ExperimentSchema = z.strictObject({
  version: doc(z.literal(1), 'Version of this file format. Always `1`.'),
  name: doc(
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
    'Name of the experiment, used in run folder names: letters, digits, `.`, `_` and `-`, at most 64 characters.',
  ),
  description: doc(z.string(), 'Free text shown in the Runs view and reports.').optional(),
  seed: doc(
    int(0, 2_147_483_647),
    'Seed of every random choice (initialisation, data order, dropout). Same seed, config and backend: same masks.',
  ).default(1),
  backend: documentedEnum(BACKENDS, 'Compute backend for training.').default('auto'),
  data: doc(DataSchema, 'Where the examples come from. `source` picks the kind; each has its own keys.'),
  model: doc(ModelSchema, 'The network to prune. `kind` picks the architecture; each has its own keys.'),
  training: doc(TrainingSchema, 'Length of training, optimizer and learning rate.').prefault({}),
  pruning: doc(
    PruningSchema,
    'How to prune: `method` picks the algorithm; `sparsity` and `block` say how much and in what shape.',
  ),
  output: doc(OutputSchema, 'Where runs are written and how often they are saved.').prefault({}),
});

export type ExperimentInput = z.input<typeof ExperimentSchema>;
export type ExperimentConfig = z.output<typeof ExperimentSchema>;

/** The block shape as `[rows, cols]`, whichever way the file wrote it. */
export function blockShape(pruning: Pick<PruningConfig, 'block'>): [number, number] {
  return typeof pruning.block === 'number' ? [pruning.block, pruning.block] : pruning.block;
}

/** Total training steps when the file states them or they follow from its data section. */
export function totalSteps(config: ExperimentConfig, trainExamples: number | undefined): number | undefined {
  const { steps, epochs } = config.training;
  if (steps !== undefined) return steps;
  if (epochs === undefined) return DEFAULT_STEPS;
  if (trainExamples === undefined) return undefined;
  return Math.max(1, Math.ceil((epochs * trainExamples) / config.data.batch_size));
}
