/**
 * Why SA++ did or did not beat ACDC on the Fashion-MNIST MLP (docs/reproduction.md): the same
 * 784-512-256-10 MLP at 90% sparsity with 8x8 blocks, on the full Debian dataset (60k train, all
 * 10k test, so one accuracy has a sampling sd near 0.3 pp instead of 0.7 pp on the 2k subset),
 * several seeds, the four methods of the smoke grid plus the variants that differ between SA++ and
 * ACDC: SA++ without the clip of A, SA++ zeroing pruned weights, ACDC masking instead of zeroing.
 *
 *   npm run build && node --import tsx bench/fashionStudy.ts [steps] [seeds] [variant,...]
 *   e.g. node --import tsx bench/fashionStudy.ts 4690 3 sapp,acdc,magnitude,ablation
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../server/src/engine/runExperiment';

const STEPS = Number(process.argv[2] ?? 4690);
const SEEDS = Array.from({ length: Number(process.argv[3] ?? 3) }, (_, i) => i + 1);
const DATA = process.env.FASHION_DIR ?? '/usr/share/datasets/fashion-mnist';

const VARIANTS: Record<string, string> = {
  sapp: 'method: sapp\n  pruned_weights: mask',
  'sapp-noclip': 'method: sapp\n  pruned_weights: mask\n  clip_attention: false',
  'sapp-zero': 'method: sapp\n  pruned_weights: zero',
  acdc: 'method: acdc\n  pruned_weights: zero',
  'acdc-mask': 'method: acdc\n  pruned_weights: mask',
  magnitude: 'method: magnitude\n  schedule: { dense: 0.7, ramp: 0, fine_tune: 0.3 }',
  ablation: 'method: sapp\n  sparsification: false',
  dense: 'method: none',
};
const chosen = (process.argv[4] ?? 'sapp,acdc,magnitude,ablation').split(',');

if (!existsSync(DATA)) {
  console.error(`Fashion-MNIST not found at ${DATA} (apt-get install dataset-fashion-mnist, or set FASHION_DIR)`);
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'sparsity-fashion-'));

function experiment(variant: string, seed: number): string {
  const path = join(dir, `${variant}-${seed}.prune.yaml`);
  writeFileSync(
    path,
    `version: 1
name: ${variant}-${seed}
seed: ${seed}
backend: wasm
data:
  source: fashion-mnist
  path: ${DATA}
  batch_size: 128
model:
  kind: mlp
  hidden: [512, 256]
training:
  steps: ${STEPS}
  learning_rate: 0.001
  weight_decay: 0.0001
  eval_every: 0
  log_every: 100
pruning:
  ${VARIANTS[variant]}
  sparsity: 0.9
  block: 8
  exclude: [output]
output:
  dir: runs
`,
  );
  return path;
}

async function main(): Promise<void> {
  const rows: string[] = [];
  for (const variant of chosen) {
    if (!(variant in VARIANTS))
      throw new Error(`unknown variant ${variant}; one of ${Object.keys(VARIANTS).join(', ')}`);
    const accs: number[] = [];
    for (const seed of SEEDS) {
      const { info } = await runExperiment(experiment(variant, seed));
      if (info.status !== 'completed')
        throw new Error(`${variant} seed ${seed}: ${info.error?.message ?? info.status}`);
      accs.push(info.final!.metrics.accuracy!);
      console.log(
        `${variant} seed ${seed}: ${(100 * accs.at(-1)!).toFixed(2)}% (${info.timing.step_ms_median} ms/step)`,
      );
    }
    const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
    const sd = Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, accs.length - 1));
    rows.push(
      `| ${variant} | ${(100 * mean).toFixed(2)} ± ${(100 * sd).toFixed(2)} | ${accs.map((a) => (100 * a).toFixed(2)).join(', ')} |`,
    );
  }
  console.log(
    `\n${STEPS} steps, seeds ${SEEDS.join(', ')}, data ${DATA}\n\n| variant | accuracy % (mean ± sd) | per seed |\n| --- | --- | --- |`,
  );
  console.log(rows.join('\n'));
}

void main();
