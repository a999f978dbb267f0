/**
 * Whole-experiment templates: the "New Experiment" command, the completion snippets of an empty
 * file and of each top-level section. A test checks every template validates with no diagnostics.
 */
import type { ExperimentTemplateKind } from '@protocol';

/** The first line of each template, also its completion detail; one entry per template kind of protocol/lsp.ts. */
export const TEMPLATE_TITLES = {
  sapp: 'SequentialAttention++ on a Fashion-MNIST MLP (90% of 8x8 blocks)',
  acdc: 'ACDC baseline on a Fashion-MNIST MLP',
  magnitude: 'Block magnitude pruning on a Fashion-MNIST MLP',
  teacher: 'SA++ on a planted block-sparse teacher (reports support recovery)',
  ctr: "SA++ on a click-through-rate model (the paper's Criteo setup, synthetic data)",
} as const satisfies Record<ExperimentTemplateKind, string>;

// No `path`: the data layer finds the files in the user cache or Debian's folder, else downloads
// them once. A template never names a folder inside the extension, which moves on every update.
const fashionData = `data:
  source: fashion-mnist # without path: the user cache, Debian's dataset-fashion-mnist, else downloaded once
  batch_size: 128
model:
  kind: mlp
  hidden: [512, 256]
  activation: relu
training:
  steps: 3000
  optimizer: adam
  learning_rate: 0.001
  weight_decay: 0.0001
  eval_every: 250
`;

const mlpPruning = (method: string, extra: string) => `pruning:
  method: ${method}
  sparsity: 0.9
  block: [8, 8]
  min_blocks: 100
  layers: all
  exclude: [output]
${extra}`;

const SECTIONS: Record<ExperimentTemplateKind, string> = {
  sapp:
    fashionData +
    mlpPruning(
      'sapp',
      `  schedule:
    dense_warmup: 0.1
    cycles: 7
    cycle: 0.1
    extension: 0.05
    final_sparse: 0.15
  exponent: 4
`,
    ),
  acdc:
    fashionData +
    mlpPruning(
      'acdc',
      `  schedule:
    dense_warmup: 0.1
    cycles: 7
    cycle: 0.1
    sparse_share: 0.5
    extension: 0.05
    final_sparse: 0.15
  pruned_weights: zero
`,
    ),
  magnitude:
    fashionData +
    mlpPruning(
      'magnitude',
      `  schedule:
    dense: 0.6
    ramp: 0.1
    fine_tune: 0.3
  exponent: 3
`,
    ),
  teacher: `data:
  source: teacher
  input_dim: 128
  hidden: 128
  classes: 10
  block: 8
  density: 0.25
model:
  kind: mlp
  hidden: [128]
training:
  steps: 2000
  learning_rate: 0.002
pruning:
  method: sapp
  sparsity: 0.75
  block: 8
  layers: [dense_1]
`,
  ctr: `data:
  source: synthetic-ctr
  train_examples: 50000
  test_examples: 10000
model:
  kind: ctr
  embedding_dim: 8
  hidden: [400, 400, 400]
training:
  steps: 2000
  learning_rate: 0.002
  lr_schedule: exponential
  final_learning_rate: 0.0003
pruning:
  method: sapp
  sparsity: 0.9
  block: 8
  layers: [dense_1]
  schedule: # the paper's Criteo schedule (spec §5.16): 20% dense, 10 cycles, 20% final sparse
    dense_warmup: 0.2
    cycles: 10
    cycle: 0.06
    extension: 0
    final_sparse: 0.2
`,
};

/** A complete, valid experiment file. */
export function experimentTemplate(name: string, kind: ExperimentTemplateKind): string {
  return `# ${TEMPLATE_TITLES[kind]}
version: 1
name: ${name}
seed: 1
backend: auto
${SECTIONS[kind]}output:
  dir: runs
`;
}

/** One top-level section of a template (`data`, `model`, ...), for section snippets. */
export function templateSection(kind: ExperimentTemplateKind, section: string): string | undefined {
  const lines = experimentTemplate('x', kind).split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${section}:`));
  if (start < 0) return undefined;
  let end = start + 1;
  while (end < lines.length && (lines[end]!.startsWith(' ') || lines[end] === '')) end++;
  return lines.slice(start, end).join('\n').trimEnd();
}
