/**
 * Runs the weight-decay study of bench/weightDecaySettings.ts and prints its tables: SA++ test
 * accuracy % (mean ± sd over seeds 1-5) per setting, with the paired difference to the stage's
 * first row. Cells are cached in bench/results/weight-decay.jsonl; docs/reproduction.md prints the
 * same tables from that cache.
 *
 *   node --import tsx bench/weightDecayStudy.ts [stage...]   (stages: modes, logits)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CellCache } from './cells';
import { WD_STAGES, weightDecayTable } from './weightDecaySettings';

async function main(): Promise<void> {
  const started = performance.now();
  const cache = new CellCache(join(__dirname, 'results', 'weight-decay.jsonl'));
  const dir = mkdtempSync(join(tmpdir(), 'sparsity-wd-'));
  const stages = process.argv.slice(2);
  for (const stage of stages.length > 0 ? stages : Object.keys(WD_STAGES)) {
    const table = await weightDecayTable(stage, cache, dir, console.log);
    console.log(`\n## ${stage}: ${WD_STAGES[stage]!.title}\n\n${table.join('\n')}\n`);
  }
  console.log(`total ${((performance.now() - started) / 60_000).toFixed(1)} minutes`);
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
