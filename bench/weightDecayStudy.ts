/**
 * Weight decay as the paper means it (issue 14, spec §1.4 item 2 and Lemma 2.1): SA++ on the
 * planted teacher (B = 8, s ∈ {0.75, 0.9, 0.95}, seeds 1-5, paired by seed) under coupled ℓ2
 * (`λ·w` in the gradient Adam sees) and decoupled decay (`w ← w·(1 − lr·λ)` after the step) at
 * several `λ`, the same `λ` on the weights and the logits; then the logits' own coefficient under
 * the chosen mode. Prints mean ± sd test accuracy per setting and the paired difference to no
 * decay. Cells are cached in bench/results/weight-decay.jsonl.
 *
 *   node --import tsx bench/weightDecayStudy.ts [stage...]   (stages: modes, logits, methods)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CellCache, meanSd, pairedDifference } from './cells';
import { teacherExperiment } from './teacherExperiment';

const SEEDS = [1, 2, 3, 4, 5];
const SPARSITIES = [0.75, 0.9, 0.95];
const cache = new CellCache(join(__dirname, 'results', 'weight-decay.jsonl'));
const dir = mkdtempSync(join(tmpdir(), 'sparsity-wd-'));

interface Setting {
  label: string;
  training: string;
  pruning?: string;
}

const decay = (mode: string, weights: number, logits?: number): Setting => ({
  label: `${mode} λ=${weights}${logits !== undefined ? `, λ_L=${logits}` : ''}`,
  training: `  weight_decay: ${weights}\n  weight_decay_mode: ${mode}${logits !== undefined ? `\n  logit_weight_decay: ${logits}` : ''}`,
});

const STAGES: Record<string, Setting[]> = {
  modes: [
    decay('coupled', 0),
    decay('decoupled', 0.0001),
    decay('decoupled', 0.01),
    decay('decoupled', 0.1),
    decay('coupled', 0.0001),
    decay('coupled', 0.001),
    decay('coupled', 0.01),
  ],
};

async function accuracies(setting: Setting, sparsity: number, method = 'method: sapp'): Promise<number[]> {
  const out: number[] = [];
  for (const seed of SEEDS) {
    const key = `wd|${method}|${setting.label}|s=${sparsity}|seed=${seed}`;
    const cell = await cache.run(
      key,
      teacherExperiment(`wd-${seed}`, { seed, block: 8, sparsity, pruning: method, training: setting.training }),
      dir,
    );
    out.push(cell.metrics.accuracy!);
    console.log(`${key}: ${(100 * cell.metrics.accuracy!).toFixed(2)}% (${cell.seconds.toFixed(1)} s)`);
  }
  return out;
}

async function main(): Promise<void> {
  const started = performance.now();
  const stages = process.argv.slice(2);
  for (const stage of stages.length > 0 ? stages : Object.keys(STAGES)) {
    const settings = STAGES[stage];
    if (!settings) throw new Error(`unknown stage ${stage}; one of ${Object.keys(STAGES).join(', ')}`);
    const table: string[] = [
      `| setting | ${SPARSITIES.map((s) => `s = ${s}`).join(' | ')} |`,
      `| --- |${SPARSITIES.map(() => ' --- |').join('')}`,
    ];
    const baseline = new Map<number, number[]>();
    for (const setting of settings) {
      const cells: string[] = [];
      for (const s of SPARSITIES) {
        const acc = await accuracies(setting, s);
        if (!baseline.has(s)) baseline.set(s, acc);
        const { mean, sd } = meanSd(acc);
        const d = pairedDifference(acc, baseline.get(s)!);
        cells.push(
          `${(100 * mean).toFixed(1)} ± ${(100 * sd).toFixed(1)} (${d.mean >= 0 ? '+' : ''}${(100 * d.mean).toFixed(1)} [${(100 * d.low).toFixed(1)}, ${(100 * d.high).toFixed(1)}])`,
        );
      }
      table.push(`| ${setting.label} | ${cells.join(' | ')} |`);
    }
    console.log(`\n## ${stage}: accuracy % mean ± sd (paired difference to the first row, 95% interval)\n`);
    console.log(table.join('\n'));
  }
  console.log(`\ntotal ${((performance.now() - started) / 60_000).toFixed(1)} minutes`);
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
