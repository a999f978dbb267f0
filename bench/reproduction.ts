/**
 * The spec §6.2 smoke grid on the planted teacher: B = 8, s ∈ {0.75, 0.9}, 3 seeds, sapp, acdc,
 * magnitude and sapp without sparsification, plus the dense student; writes docs/reproduction.md
 * with mean ± sd beside the spec's expectations (§6.3) and the NumPy prototype's range (§6.4); then
 * the Fashion-MNIST MLP at 90% with 8x8 blocks (bench/fashionExperiment.ts), 3 seeds.
 *
 *   node --import tsx bench/reproduction.ts [trainExamples] [epochs] [fashionSteps]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../server/src/runs/runExperiment';
import { FASHION_VARIANTS, FULL_FASHION_DIR, fashionDataDir, writeFashionExperiment } from './fashionExperiment';

const TRAIN = Number(process.argv[2] ?? 20_000);
const FASHION_SEEDS = [1, 2, 3];
const FASHION_STEPS = Number(process.argv[4] ?? 4690);
const FASHION_KEYS = ['magnitude', 'acdc', 'sapp', 'ablation'];
const EPOCHS = Number(process.argv[3] ?? 20);
const BATCH = 256;
const STEPS = Math.floor((TRAIN / BATCH) * EPOCHS);
const SEEDS = [1, 2, 3];
const SPARSITIES = [0.75, 0.9];
const METHODS = [
  { key: 'sapp', label: 'SA++', pruning: 'method: sapp\n  pruned_weights: mask' },
  { key: 'acdc', label: 'ACDC', pruning: 'method: acdc\n  pruned_weights: zero' },
  {
    key: 'magnitude',
    label: 'Magnitude',
    pruning: 'method: magnitude\n  schedule: { dense: 0.7, ramp: 0, fine_tune: 0.3 }',
  },
  { key: 'ablation', label: 'SA++ without sparsification', pruning: 'method: sapp\n  sparsification: false' },
];

/**
 * What the earlier subset result was and what explained it, measured with bench/fashionStudy.ts
 * (same experiment file, full dataset, 3 seeds).
 */
const FASHION_NOTE = `An earlier run of this table on the bundled 10k/2k subset for 3000 steps (about 38 epochs) with 2 seeds had
SA++ 0.4 pp *below* ACDC (86.3 ± 0.1 vs 86.7 ± 0.4). On the full dataset SA++ is above ACDC in every seed. What
changed is the data: on 10k examples the MLP is deep in overfitting (dense accuracy is within ~1.5 pp of every pruned
model), a 2k test set has a sampling sd of ~0.7 pp per accuracy, and ACDC's zeroing acts as a regulariser there.
\`node --import tsx bench/fashionStudy.ts 4690 3 sapp-noclip,acdc-mask\` separates the two differences between the
methods on the full data: without the clip of A, SA++ gets exactly the same accuracies (88.53, 88.77, 88.60 %): the
clip to [0.1, 10] never binds in this run, so it is not what held SA++ back; ACDC masking instead of zeroing gets
87.66, 87.54, 87.52 % against 87.65, 87.67, 87.68 % zeroing, the same within noise.`;

const dir = mkdtempSync(join(tmpdir(), 'sparsity-repro-'));

const NOTE = `Support F1 compares the kept blocks of \`dense_1\` with the teacher's planted blocks after matching the
student's 16 block columns to the teacher's (an assignment maximising agreeing cells): hidden units are only defined
up to a permutation, so a cell-by-cell F1 would stay at chance even for a perfect recovery. Matching also lifts the
chance level: a random mask with the same kept count scores about 0.60 at s = 0.75 (32 kept of 128, 32 planted) and
0.45 at s = 0.9, where 13 kept blocks against 32 planted cap the F1 at 0.58 (measured by sampling 500 random masks).`;

function file(name: string, seed: number, pruning: string, sparsity: number): string {
  const path = join(dir, `${name}.prune.yaml`);
  writeFileSync(
    path,
    `version: 1
name: ${name}
seed: ${seed}
backend: wasm
data:
  source: teacher
  input_dim: 64
  hidden: 128
  classes: 10
  block: 8
  density: 0.25
  train_examples: ${TRAIN}
  test_examples: 5000
  batch_size: ${BATCH}
  teacher_seed: ${seed}
model:
  kind: mlp
  hidden: [128]
training:
  steps: ${STEPS}
  optimizer: adam
  learning_rate: 0.002
  weight_decay: 0.0001
  eval_every: 0
  log_every: 50
pruning:
  ${pruning}
  sparsity: ${sparsity}
  block: 8
  layers: [dense_1]
output:
  dir: runs
`,
  );
  return path;
}

const stats = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean, sd, text: `${(100 * mean).toFixed(1)} ± ${(100 * sd).toFixed(1)}` };
};

async function main(): Promise<void> {
  const started = performance.now();
  const results = new Map<string, { acc: number[]; f1: number[]; ms: number[] }>();
  const record = async (key: string, path: string) => {
    const { info } = await runExperiment(path);
    if (info.status !== 'completed') throw new Error(`${key}: ${info.status} ${info.error?.message ?? ''}`);
    const entry = results.get(key) ?? { acc: [], f1: [], ms: [] };
    entry.acc.push(info.final!.metrics.accuracy!);
    entry.f1.push(info.final!.metrics.support_precision ?? NaN);
    entry.ms.push(info.timing.step_ms_median!);
    results.set(key, entry);
    console.log(
      `${key} seed ${entry.acc.length}: accuracy ${(100 * info.final!.metrics.accuracy!).toFixed(1)}%, support F1 ${(info.final!.metrics.support_precision ?? NaN).toFixed(3)}`,
    );
  };
  for (const seed of SEEDS) await record('dense', file(`dense-${seed}`, seed, 'method: none', 0.5));
  for (const s of SPARSITIES)
    for (const m of METHODS)
      for (const seed of SEEDS) await record(`${m.key}@${s}`, file(`${m.key}-${s}-${seed}`, seed, m.pruning, s));
  const fashionDir = fashionDataDir();
  for (const key of FASHION_KEYS)
    for (const seed of FASHION_SEEDS)
      await record(`fashion-${key}`, writeFashionExperiment(dir, key, seed, FASHION_STEPS, fashionDir));
  const minutes = (performance.now() - started) / 60_000;

  const cell = (key: string) => stats(results.get(key)!.acc).text;
  const f1 = (key: string) => stats(results.get(key)!.f1.map((x) => x)).mean.toFixed(2);
  const lines = [
    '# Reproduction: the spec §6.2 smoke grid',
    '',
    `Generated by \`node --import tsx bench/reproduction.ts ${TRAIN} ${EPOCHS} ${FASHION_STEPS}\` on ${new Date().toISOString().slice(0, 10)}`,
    `(wasm backend with the transposed-matmul patch, 1 thread; ${minutes.toFixed(1)} minutes for ${SEEDS.length * (1 + SPARSITIES.length * METHODS.length) + FASHION_SEEDS.length * FASHION_KEYS.length} runs).`,
    '',
    `Task (spec §6.1): planted teacher 64→128→10, first layer block-sparse with 8x8 blocks and 25% of blocks kept,`,
    `homogeneous inputs, labels argmax(3·logits + 0.1·ε); ${TRAIN} train / 5000 test examples, seeds ${SEEDS.join(', ')} (teacher and student).`,
    `Student of the same shape; only \`dense_1\` (64x128, 128 blocks) is pruned. Adam 2e-3, batch ${BATCH}, ${EPOCHS} epochs = ${STEPS} steps,`,
    'weight decay 1e-4 on weights and SA++ logits, optimizer reset at every phase boundary. Schedules: the defaults of the',
    'experiment format (SA++: 10% dense, 6 × (sparsify, sparse, dense) in thirds of 10%, 15% sparsify, 15% sparse; ACDC:',
    '10% dense, 7 × (sparse 5%, dense 5%) with the last dense +5%, 15% sparse, pruned weights zeroed; magnitude: 70% dense,',
    'one-shot prune by block Frobenius norm, 30% fine-tune). SA++ masks pruned weights and clips A to [1−s, 1/(1−s)].',
    '',
    `Dense student: **${cell('dense')}%** test accuracy (mean ± sd over ${SEEDS.length} seeds).`,
    '',
    '| s | Magnitude | ACDC | SA++ | SA++ without sparsification | support F1 (SA++ / ACDC / magnitude) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...SPARSITIES.map(
      (s) =>
        `| ${s} | ${cell(`magnitude@${s}`)} | ${cell(`acdc@${s}`)} | **${cell(`sapp@${s}`)}** | ${cell(`ablation@${s}`)} | ${f1(`sapp@${s}`)} / ${f1(`acdc@${s}`)} / ${f1(`magnitude@${s}`)} |`,
    ),
    '',
    '## Fashion-MNIST MLP at 90% with 8x8 blocks',
    '',
    `784-512-256-10 on ${fashionDir === FULL_FASHION_DIR ? 'the full dataset (60k train, 10k test; Debian dataset-fashion-mnist)' : 'the bundled 10k/2k subset (samples/data/fashion-mnist; install dataset-fashion-mnist for the full set)'},`,
    `${FASHION_STEPS} steps of Adam 1e-3 at batch 128, hidden layers pruned at 90% of 8x8 blocks (\`output\` excluded),`,
    `seeds ${FASHION_SEEDS.join(', ')}; test accuracy mean ± sd:`,
    '',
    `| ${FASHION_KEYS.map((k) => FASHION_VARIANTS[k]!.label).join(' | ')} |`,
    `|${FASHION_KEYS.map(() => ' --- |').join('')}`,
    `| ${FASHION_KEYS.map((k) => `fashion-${k}`)
      .map((k, _i, all) =>
        stats(results.get(k)!.acc).mean === Math.max(...all.map((a) => stats(results.get(a)!.acc).mean))
          ? `**${cell(k)}**`
          : cell(k),
      )
      .join(' | ')} |`,
    '',
    ...FASHION_NOTE.split('\n'),
    '',
    '## Against what the paper and the spec lead us to expect (§6.3, §6.4)',
    '',
    '- Paper: SA++ ≥ ACDC at every (B, s), the gap growing with s; SA++ > magnitude at high sparsity; removing the',
    '  sparsification phase lowers SA++ accuracy, most at high sparsity.',
    '- NumPy prototype (spec §6.4, 60k train, no clip, B = 8): s = 0.75: magnitude 64.0, ACDC 70.6, SA++ 75.7;',
    '  s = 0.9: magnitude 60.1, ACDC 59.0, SA++ 67.0, ablation 63.1 (dense 78.4).',
    '',
    'What we see is in the table above; differences of less than about two standard deviations are not meaningful with',
    '3 seeds.',
    '',
    ...NOTE.split('\n'),
  ];
  writeFileSync(join(__dirname, '..', 'docs', 'reproduction.md'), lines.join('\n'));
  console.log(lines.join('\n'));
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
