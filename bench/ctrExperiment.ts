/**
 * The synthetic CTR experiment of docs/reproduction.md: the paper's Criteo setup scaled (spec §4.2,
 * §5.16): per-feature embeddings, a 400-400-400 dense stack, one click logit, only `dense_1`
 * pruned, Adam with the learning rate decaying exponentially, and every method on the Criteo
 * schedule (20% dense, 10 cycles, 20% final sparse).
 */

/** The `pruning` lines of each method on the Criteo schedule. */
export const CTR_VARIANTS: Record<string, string> = {
  dense: 'method: none',
  sapp: 'method: sapp\n  schedule: { dense_warmup: 0.2, cycles: 10, cycle: 0.06, extension: 0, final_sparse: 0.2 }',
  // The paper's Criteo ACDC masks (spec §1.3): pruned blocks come back with their old values.
  acdc: 'method: acdc\n  pruned_weights: mask\n  schedule: { dense_warmup: 0.2, cycles: 10, cycle: 0.06, sparse_share: 0.5, extension: 0, final_sparse: 0.2 }',
  magnitude: 'method: magnitude\n  schedule: { dense: 0.8, ramp: 0, fine_tune: 0.2 }',
};

/**
 * As many training examples as a run of `steps` steps at batch 512 draws, so each is seen once.
 * The paper's 33M Criteo examples are far more than its model can memorise; 20 passes over 50k
 * examples let this dense model memorise them (train loss 0.04, test log-loss 1.28, worse than
 * predicting the base rate), which made the table about overfitting instead of pruning.
 */
export const ctrTrainExamples = (steps: number): number => steps * 512;

export function ctrExperiment(variant: string, seed: number, sparsity: number, steps: number): string {
  const pruning = CTR_VARIANTS[variant];
  if (!pruning) throw new Error(`unknown variant ${variant}; one of ${Object.keys(CTR_VARIANTS).join(', ')}`);
  return `version: 1
name: ctr-${variant}-${seed}
seed: ${seed}
backend: wasm
data:
  source: synthetic-ctr
  vocabulary: 1000
  hash_buckets: 1000
  train_examples: ${ctrTrainExamples(steps)}
  test_examples: 10000
  batch_size: 512
model:
  kind: ctr
  embedding_dim: 8
  hidden: [400, 400, 400]
training:
  steps: ${steps}
  optimizer: adam
  learning_rate: 0.002
  lr_schedule: exponential
  final_learning_rate: 0.0003
  eval_every: 0
  log_every: 50
pruning:
  ${pruning}
  sparsity: ${sparsity}
  block: 8
  layers: [dense_1]
output:
  dir: runs
  checkpoint_every: 0
  snapshots: 4
  export: false
`;
}
