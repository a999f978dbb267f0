/**
 * The planted-teacher experiment of docs/reproduction.md (spec §6.1-6.2): teacher and student
 * 64→128→10, the teacher's first layer block-sparse with `block`×`block` blocks and 25% of them
 * kept, the student's `dense_1` pruned at the same block size; Adam 2e-3 at batch 256. Shared by
 * bench/reproduction.ts, bench/weightDecaySettings.ts and the engine test that keeps one small
 * cell of the reproduction (test/engine/reproductionCell.test.ts), so all run exactly the same file.
 */

export interface TeacherCell {
  seed: number;
  block: number;
  sparsity: number;
  /** The `pruning` section's method lines (indented two spaces after the first). */
  pruning: string;
  /** Extra `training` lines (indented two spaces), e.g. the weight decay. */
  training?: string;
  trainExamples?: number;
  epochs?: number;
}

export const TEACHER_BATCH = 256;

export function teacherSteps(trainExamples: number, epochs: number): number {
  return Math.floor((trainExamples / TEACHER_BATCH) * epochs);
}

/** The experiment file of one cell: one teacher per seed, the same for every method. */
export function teacherExperiment(name: string, cell: TeacherCell): string {
  const train = cell.trainExamples ?? 20_000;
  return `version: 1
name: ${name}
seed: ${cell.seed}
backend: wasm
data:
  source: teacher
  input_dim: 64
  hidden: 128
  classes: 10
  block: ${cell.block}
  density: 0.25
  train_examples: ${train}
  test_examples: 5000
  batch_size: ${TEACHER_BATCH}
  teacher_seed: ${cell.seed}
model:
  kind: mlp
  hidden: [128]
training:
  steps: ${teacherSteps(train, cell.epochs ?? 20)}
  optimizer: adam
  learning_rate: 0.002
  eval_every: 0
  log_every: 50
${cell.training ?? ''}
pruning:
  ${cell.pruning}
  sparsity: ${cell.sparsity}
  block: ${cell.block}
  min_blocks: 1
  layers: [dense_1]
output:
  dir: runs
  checkpoint_every: 0
  snapshots: 4
  export: false
`;
}
