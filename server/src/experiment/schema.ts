/**
 * The experiment format (`*.prune.yaml`), defined once: here, with the `pruning` section's variants
 * in methods/ (one module per method).
 *
 * Types, defaults, ranges and the markdown docs shown in completion and hover all come from this
 * module; `schemas/prune-experiment.schema.json` is generated from it (`npm run schema`) and a test
 * fails when the checked-in copy is stale. Keys are snake_case as users write them.
 */
import { z } from 'zod';
import { PruningSchema, type PruningConfig } from './methods';
import { doc, documentedEnum, int, MAX_STEPS, tag } from './schemaParts';

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

const dataCommon = { batch_size: batchSize, train_examples: trainExamples, test_examples: testExamples, shuffle };

export const FashionMnistData = z.strictObject({
  source: tag(
    'fashion-mnist',
    'Fashion-MNIST: 28x28 grey images of clothes in 10 classes, read from the four IDX files (`.gz` or raw).',
  ),
  path: doc(
    z.string().min(1),
    "Folder holding `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz` and `t10k-labels-idx1-ubyte.gz` (or the same files uncompressed). Relative paths start at the experiment file. Without it: the user cache (`$XDG_CACHE_HOME` or `~/.cache`, then `sparsity-studio/datasets/fashion-mnist`), then Debian's `/usr/share/datasets/fashion-mnist` (package `dataset-fashion-mnist`), else the first run downloads the files once (31 MB, checksummed) from Zalando's mirror into the cache.",
  ).optional(),
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

export const NpzData = z.strictObject({
  source: tag(
    'npz',
    'NumPy arrays `x_train`, `y_train` and optionally `x_test`, `y_test` (the Keras `load_data()` convention): one `.npz` file (`np.savez` or `np.savez_compressed`) or a folder of `.npy` files with those names. Images `[n, h, w]` get a channel axis (`[h, w, 1]`). **uint8 features are scaled to [0, 1]** (divided by 255); other dtypes are used as they are. Labels are integer class ids, `[n]` or `[n, 1]`.',
  ),
  path: doc(
    z.string().min(1),
    'The `.npz` file, or a folder holding `x_train.npy`, `y_train.npy` (and `x_test.npy`, `y_test.npy`). Relative paths start at the experiment file.',
  ),
  test_split: testSplit,
  classes: doc(int(2, 100_000), 'Number of label classes; labels must be integers in `[0, classes)`.').default(10),
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
    'A planted teacher: a random MLP whose first layer is block-sparse. Its true block support is known, so runs report support recovery: precision@k of the kept blocks beside its chance level.',
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
  NpzData,
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

export const ResnetModel = z.strictObject({
  kind: tag(
    'resnet',
    'Residual network for small images (ResNet-v1 with basic blocks, as He et al. train on CIFAR): `stem/conv`, then three stages of `(depth - 2) / 6` blocks (`stage2/block1/conv1`, `.../conv2`, and a 1x1 `.../shortcut` where the shape changes; batch norm after every convolution), global average `pool` and the dense `output`. Conv kernels are pruned as `(kh*kw*cin) x cout` matrices; globs such as `stage3/*` select a stage.',
  ),
  depth: doc(
    z.literal([8, 14, 20]),
    'Layers with weights: `6n + 2` for `n` blocks per stage (8: 1 block, 14: 2, 20: 3).',
  ).default(14),
  width: doc(
    int(1, 1024),
    'Channels of the first stage; the second and third have twice and four times as many.',
  ).default(16),
});

export const TfjsModel = z.strictObject({
  kind: tag(
    'tfjs',
    "Your own TensorFlow.js LayersModel (`model.json` plus weight files; `tensorflowjs_converter` makes one from Keras), sequential or functional with branches, trained by tfjs-layers itself with the block masks injected into its kernels. Supported layers: InputLayer, Dense, Conv2D, Conv1D, DepthwiseConv2D, SeparableConv2D (its pointwise kernel is pruned), MaxPooling1D/2D, AveragePooling1D/2D, GlobalAveragePooling1D/2D, GlobalMaxPooling1D/2D, Flatten, Reshape, Dropout, Activation, ReLU, Softmax, BatchNormalization, LayerNormalization, Add, Concatenate, Multiply, ZeroPadding2D, Embedding. Layer names are the model's own; Dense, Conv1D, Conv2D and SeparableConv2D kernels can be pruned. A final softmax (or a sigmoid on one unit) is left out while training, since the loss takes logits.",
  ),
  path: doc(z.string().min(1), 'Path of `model.json`, relative to the experiment file.'),
});

export const ModelSchema = z.discriminatedUnion('kind', [MlpModel, CnnModel, CtrModel, ResnetModel, TfjsModel]);
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
    'Weight decay `λ` on the kernels and embedding tables (not biases or batch-norm parameters); how it acts is `weight_decay_mode`. The default (coupled, 1e-3) raised SA++ on the planted teacher by 2.3 and 3.2 pp at 75% and 90% sparsity against no decay (docs/reproduction.md).',
  ).default(0.001),
  weight_decay_mode: documentedEnum(
    {
      coupled:
        "An ℓ2 penalty `(λ/2)·‖w‖²` in the loss: `λ·w` is added to the gradient the optimizer sees (Adam normalises it with the rest). This is the penalty of the paper's Lemma 2.1, whose `exp(L_b)·W_b` masks with ℓ2 on `W` and on the logits `L` act as a group log-sum penalty on the blocks; it also pulls logits that get no gradient of their own back to 0.",
      decoupled:
        'AdamW-style: after each step `w ← w·(1 − learning_rate·λ)`, outside the optimizer. It shrinks by `learning_rate·λ` per step whatever the gradients are, so `λ` must be near `1/(learning_rate·steps)` to matter; on the planted teacher no `λ` up to 0.1 moved accuracy by more than 0.4 pp.',
    },
    'How `weight_decay` and `logit_weight_decay` act.',
  ).default('coupled'),
  logit_weight_decay: doc(
    z.number().min(0).lt(1),
    "Weight decay `λ_L` on the block logits `L` of `sapp` (the paper: weight decay helps a lot, even on the attention logits; Lemma 2.1's ℓ2 on `L`), acting as `weight_decay_mode` says. Default: `weight_decay`. On the planted teacher the gain came from the decay on the kernels: `λ_L` from 0 to 1e-2 moved accuracy by less than the seed noise.",
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

// ---------------------------------------------------------------------------------------------
// sweep
// ---------------------------------------------------------------------------------------------

export const SlurmSchema = z.strictObject({
  partition: doc(z.string().min(1), 'SLURM partition of the job array (`sbatch --partition`).').optional(),
  time: doc(
    z.string().regex(/^(\d+-)?\d+(:\d{1,2}){0,2}$/),
    'Time limit of each run (`sbatch --time`): `MM`, `HH:MM:SS`, `D-HH` or `D-HH:MM:SS`.',
  ).optional(),
  cpus_per_task: doc(int(1, 4096), 'CPU cores for each run (`sbatch --cpus-per-task`).').optional(),
  mem: doc(
    z.string().regex(/^\d+[KMGT]?$/),
    'Memory for each run (`sbatch --mem`): megabytes, or a number with `K`, `M`, `G` or `T`.',
  ).optional(),
  gres: doc(z.string().min(1), 'Generic resources for each run (`sbatch --gres`), e.g. `gpu:1`.').optional(),
  max_parallel: doc(
    int(1, 100_000),
    'At most this many runs of the array at once (`sbatch --array=...%N`).',
  ).optional(),
  sbatch_args: doc(
    z.array(z.string().min(1)),
    'Further `sbatch` arguments, one per item, e.g. `[--account=ml, --qos=short]`.',
  ).default([]),
});
export type SlurmConfig = z.output<typeof SlurmSchema>;

export const SweepSchema = z
  .object({
    slurm: doc(
      SlurmSchema,
      'Resources of each run when the sweep goes to a SLURM cluster (`sparsity-studio run FILE --executor slurm`); command-line options override them.',
    ).optional(),
  })
  .catchall(
    doc(
      z.array(z.unknown()).min(1),
      'A dotted key path of this format (`pruning.sparsity`, `seed`, `model.hidden`) and the list of values it takes.',
    ),
  );

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
  threads: doc(
    z.union([z.literal('auto'), int(1, 1024)]),
    'Compute threads of the `wasm` backend: `auto` uses every core (or `SPARSITY_STUDIO_THREADS` when that is set), a number at most that many. Threads speed a step up only while the cores are free: when another busy process shares them, fewer threads are faster (and idle threads spin). In the editor one run trains at a time, so runs never compete for the cores.',
  ).default('auto'),
  data: doc(DataSchema, 'Where the examples come from. `source` picks the kind; each has its own keys.'),
  model: doc(ModelSchema, 'The network to prune. `kind` picks the architecture; each has its own keys.'),
  training: doc(TrainingSchema, 'Length of training, optimizer and learning rate.').prefault({}),
  pruning: doc(
    PruningSchema,
    'How to prune: `method` picks the algorithm; `sparsity` and `block` say how much and in what shape.',
  ),
  output: doc(OutputSchema, 'Where runs are written and how often they are saved.').prefault({}),
  sweep: doc(
    SweepSchema,
    'A grid of runs: each dotted key path (`pruning.sparsity`, `pruning.method`, `seed`, ...) maps to a list of values, and every combination runs as its own run, e.g. `pruning.sparsity: [0.5, 0.9]` with `seed: [1, 2, 3]` is 6 runs. `sparsity-studio run FILE` runs them into `<output.dir>/<name>-sweep-<time>/`.',
  ).optional(),
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
