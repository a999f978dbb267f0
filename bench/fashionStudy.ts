/**
 * Why SA++ did or did not beat ACDC on the Fashion-MNIST MLP (docs/reproduction.md): the same
 * experiment as the reproduction on the full Debian dataset (60k train, all 10k test, so one
 * accuracy has a sampling sd near 0.3 pp instead of 0.7 pp on the 2k subset), several seeds, and
 * the variants that differ between SA++ and ACDC: SA++ without the clip of A, SA++ zeroing pruned
 * weights, ACDC masking instead of zeroing.
 *
 *   node --import tsx bench/fashionStudy.ts [steps] [seeds] [variant,...]
 *   e.g. node --import tsx bench/fashionStudy.ts 4690 3 sapp,acdc,sapp-noclip,acdc-mask
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../server/src/runs/runExperiment';
import { fashionDataDir, writeFashionExperiment } from './fashionExperiment';

const STEPS = Number(process.argv[2] ?? 4690);
const SEEDS = Array.from({ length: Number(process.argv[3] ?? 3) }, (_, i) => i + 1);
const chosen = (process.argv[4] ?? 'sapp,acdc,magnitude,ablation').split(',');

async function main(): Promise<void> {
  const dataDir = fashionDataDir();
  const dir = mkdtempSync(join(tmpdir(), 'sparsity-fashion-'));
  const rows: string[] = [];
  for (const variant of chosen) {
    const accs: number[] = [];
    for (const seed of SEEDS) {
      const { info } = await runExperiment(writeFashionExperiment(dir, variant, seed, STEPS, dataDir));
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
  console.log(`\n${STEPS} steps, seeds ${SEEDS.join(', ')}, data ${dataDir}\n`);
  console.log('| variant | accuracy % (mean ± sd) | per seed |\n| --- | --- | --- |');
  console.log(rows.join('\n'));
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
