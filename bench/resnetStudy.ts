/**
 * The ResNet evidence of docs/reproduction.md ("ResNet on Fashion-MNIST"): SA++, ACDC and
 * magnitude pruning of the built-in `resnet` at 90% of its blocks on the full Fashion-MNIST
 * (Debian's dataset-fashion-mnist: 60k train, all 10k test), several seeds, plus a dense
 * reference. Every finished run is appended to `<out>/results.jsonl` as it ends, so a long study
 * can be read (and resumed by skipping what is there) while it runs. Each run is claimed by a file
 * under `<out>/claims/` first, so two studies on the same folder (one per core) share the work.
 *
 *   node --import tsx bench/resnetStudy.ts [steps] [seeds] [variants] [depth] [width] [block] [out]
 *   e.g. nohup node --import tsx bench/resnetStudy.ts 938 3 sapp,acdc,magnitude,dense 8 16 4 bench/results/resnet &
 */
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runExperiment } from '../server/src/runs/runExperiment';
import { FASHION_VARIANTS, fashionDataDir } from './fashionExperiment';

const STEPS = Number(process.argv[2] ?? 938);
const SEEDS = Array.from({ length: Number(process.argv[3] ?? 3) }, (_, i) => i + 1);
const VARIANTS = (process.argv[4] ?? 'sapp,acdc,magnitude,dense').split(',');
const DEPTH = Number(process.argv[5] ?? 8);
const WIDTH = Number(process.argv[6] ?? 16);
const BLOCK = Number(process.argv[7] ?? 4);
const OUT = resolve(process.argv[8] ?? join('bench', 'results', 'resnet'));

interface Result {
  variant: string;
  seed: number;
  accuracy: number;
  sparsity: number;
  stepMs: number | null;
  totalS: number;
  dir: string;
}

function experiment(variant: string, seed: number, dataDir: string): string {
  const chosen = FASHION_VARIANTS[variant];
  if (!chosen) throw new Error(`unknown variant ${variant}`);
  const prunes = variant !== 'dense';
  const path = join(OUT, `resnet-${variant}-${seed}.prune.yaml`);
  writeFileSync(
    path,
    `version: 1
name: resnet${DEPTH}-${variant}-${seed}
seed: ${seed}
backend: wasm
data:
  source: fashion-mnist
  path: ${dataDir}
  batch_size: 64
model:
  kind: resnet
  depth: ${DEPTH}
  width: ${WIDTH}
training:
  steps: ${STEPS}
  learning_rate: 0.001
  eval_every: 0
  log_every: 50
pruning:
  ${chosen.pruning}${prunes ? `\n  sparsity: 0.9\n  block: ${BLOCK}\n  min_blocks: 100\n  exclude: [output]` : ''}
output:
  dir: runs
  checkpoint_every: 500
  snapshots: 20
`,
  );
  return path;
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const dataDir = fashionDataDir();
  const resultsFile = join(OUT, 'results.jsonl');
  const results = (): Result[] =>
    existsSync(resultsFile)
      ? readFileSync(resultsFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Result)
      : [];
  const done = results();
  mkdirSync(join(OUT, 'claims'), { recursive: true });
  /** True when this process may run the pair (nobody else claimed it). */
  const claim = (variant: string, seed: number): boolean => {
    try {
      closeSync(openSync(join(OUT, 'claims', `${variant}-${seed}`), 'wx'));
      return true;
    } catch {
      return false;
    }
  };
  console.log(`resnet${DEPTH} width ${WIDTH}, ${STEPS} steps, ${BLOCK}x${BLOCK} blocks, data ${dataDir}`);
  for (const seed of SEEDS)
    for (const variant of VARIANTS) {
      if (done.some((r) => r.variant === variant && r.seed === seed) || !claim(variant, seed)) continue;
      const started = Date.now();
      const { info, dir } = await runExperiment(experiment(variant, seed, dataDir), {
        onEvent: (event) => {
          if (event.type === 'step' && event.step % 100 === 0)
            console.log(
              `  ${variant} s${seed} step ${event.step} loss ${event.loss.toFixed(3)} ${event.stepMs.toFixed(0)} ms`,
            );
        },
      });
      if (info.status !== 'completed')
        throw new Error(`${variant} seed ${seed}: ${info.error?.message ?? info.status}`);
      const result: Result = {
        variant,
        seed,
        accuracy: info.final!.metrics.accuracy!,
        sparsity: info.final!.sparsity.global,
        stepMs: info.timing.step_ms_median,
        totalS: (Date.now() - started) / 1000,
        dir,
      };
      appendFileSync(resultsFile, `${JSON.stringify(result)}\n`);
      done.push(result);
      console.log(
        `${variant} seed ${seed}: ${(100 * result.accuracy).toFixed(2)}%, global sparsity ${(100 * result.sparsity).toFixed(1)}%, ${result.stepMs?.toFixed(0)} ms/step, ${result.totalS.toFixed(0)} s`,
      );
    }
  console.log('\n| method | accuracy % (mean ± sd) | per seed | global sparsity |\n| --- | --- | --- | --- |');
  const all = results();
  for (const variant of VARIANTS) {
    const rows = all.filter((r) => r.variant === variant);
    if (rows.length === 0) continue;
    const accs = rows.map((r) => 100 * r.accuracy);
    const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
    const sd = Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, accs.length - 1));
    console.log(
      `| ${FASHION_VARIANTS[variant]!.label} | ${mean.toFixed(2)} ± ${sd.toFixed(2)} | ${accs.map((a) => a.toFixed(2)).join(', ')} | ${(100 * rows[0]!.sparsity).toFixed(1)}% |`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
