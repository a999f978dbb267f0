/**
 * The Fashion-MNIST MLP experiment of docs/reproduction.md (784-512-256-10, 90% of 8x8 blocks in
 * the hidden layers, Adam 1e-3, batch 128, the trainer's default weight decay), shared by
 * bench/reproduction.ts and bench/fashionStudy.ts so both run exactly the same file.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The full dataset from Debian's dataset-fashion-mnist, else the 10k/2k subset in samples/. */
export const FULL_FASHION_DIR = process.env.FASHION_DIR ?? '/usr/share/datasets/fashion-mnist';
export const SUBSET_FASHION_DIR = join(__dirname, '..', 'samples', 'data', 'fashion-mnist');
export const fashionDataDir = (): string => (existsSync(FULL_FASHION_DIR) ? FULL_FASHION_DIR : SUBSET_FASHION_DIR);

/** The `pruning` section of each compared method and variant, and its own `training` lines. */
export const FASHION_VARIANTS: Record<string, { label: string; pruning: string; training?: string }> = {
  magnitude: {
    label: 'Magnitude',
    pruning: 'method: magnitude\n  schedule: { dense: 0.7, ramp: 0, fine_tune: 0.3 }',
  },
  acdc: { label: 'ACDC', pruning: 'method: acdc\n  pruned_weights: zero' },
  sapp: { label: 'SA++', pruning: 'method: sapp\n  pruned_weights: mask' },
  ablation: { label: 'SA++ without sparsification', pruning: 'method: sapp\n  sparsification: false' },
  'sapp-noclip': {
    label: 'SA++ without the clip of A',
    pruning: 'method: sapp\n  pruned_weights: mask\n  clip_attention: false',
  },
  'sapp-zero': { label: 'SA++ zeroing pruned weights', pruning: 'method: sapp\n  pruned_weights: zero' },
  'acdc-mask': { label: 'ACDC masking pruned weights', pruning: 'method: acdc\n  pruned_weights: mask' },
  dense: { label: 'Dense', pruning: 'method: none' },
  'sapp-no-logit-decay': {
    label: 'SA++ without weight decay on the logits',
    pruning: 'method: sapp',
    training: '  logit_weight_decay: 0',
  },
  'sapp-decoupled': {
    label: 'SA++ with decoupled weight decay',
    pruning: 'method: sapp',
    training: '  weight_decay_mode: decoupled',
  },
};

/** The experiment file of one variant and seed (the trainer's default weight decay). */
export function fashionExperiment(variant: string, seed: number, steps: number, dataDir: string): string {
  const chosen = FASHION_VARIANTS[variant];
  if (!chosen) throw new Error(`unknown variant ${variant}; one of ${Object.keys(FASHION_VARIANTS).join(', ')}`);
  return `version: 1
name: fashion-${variant}-${seed}
seed: ${seed}
backend: wasm
data:
  source: fashion-mnist
  path: ${dataDir}
  batch_size: 128
model:
  kind: mlp
  hidden: [512, 256]
training:
  steps: ${steps}
  learning_rate: 0.001
  eval_every: 0
  log_every: 100
${chosen.training ?? ''}
pruning:
  ${chosen.pruning}
  sparsity: 0.9
  block: 8
  exclude: [output]
output:
  dir: runs
  checkpoint_every: 0
  snapshots: 4
  export: false
`;
}

/** Writes `<dir>/fashion-<variant>-<seed>.prune.yaml` and returns its path. */
export function writeFashionExperiment(
  dir: string,
  variant: string,
  seed: number,
  steps: number,
  dataDir: string,
): string {
  const path = join(dir, `fashion-${variant}-${seed}.prune.yaml`);
  writeFileSync(path, fashionExperiment(variant, seed, steps, dataDir));
  return path;
}
