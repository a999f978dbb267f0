/**
 * The weight-decay study (issue 14, spec §1.4 item 2 and Lemma 2.1), shared by
 * bench/weightDecayStudy.ts (which runs it) and bench/reproduction.ts (which prints its tables):
 * SA++ on the planted teacher (B = 8, s ∈ {0.75, 0.9, 0.95}, seeds 1-5, paired by seed) under
 * coupled ℓ2 (`λ·w` in the gradient Adam sees) and decoupled decay (`w ← w·(1 − lr·λ)` after the
 * step) at several `λ`; then which variables coupled decay helps through and the logits' own `λ_L`.
 */
import { meanSd, pairedDifference, type CellCache } from './cells';
import { teacherExperiment } from '../test/helpers/teacherExperiment';

export const WD_SEEDS = [1, 2, 3, 4, 5];
export const WD_SPARSITIES = [0.75, 0.9, 0.95];

export interface DecaySetting {
  label: string;
  training: string;
}

const decay = (mode: string, weights: number, logits?: number): DecaySetting => ({
  label: `${mode} λ=${weights}${logits !== undefined ? `, λ_L=${logits}` : ''}`,
  training: `  weight_decay: ${weights}\n  weight_decay_mode: ${mode}${logits !== undefined ? `\n  logit_weight_decay: ${logits}` : ''}`,
});

export const WD_STAGES: Record<string, { title: string; settings: DecaySetting[] }> = {
  modes: {
    title: 'Coupled against decoupled, the same λ on the kernels and the logits',
    settings: [
      decay('coupled', 0),
      decay('decoupled', 0.0001),
      decay('decoupled', 0.01),
      decay('decoupled', 0.1),
      decay('coupled', 0.0001),
      decay('coupled', 0.001),
      decay('coupled', 0.01),
    ],
  },
  logits: {
    title: 'Coupled λ = 1e-3: on the kernels, on the logits, and the logits with their own λ_L',
    settings: [
      decay('coupled', 0.001),
      decay('coupled', 0.001, 0),
      decay('coupled', 0, 0.001),
      decay('coupled', 0.001, 0.0001),
      decay('coupled', 0.001, 0.01),
    ],
  },
};

/**
 * Runs (or reads from `cache`) every cell of a stage and returns its table: accuracy % mean ± sd
 * and the paired difference to the stage's first row with its 95% interval, bold when the
 * interval excludes 0.
 */
export async function weightDecayTable(
  stage: string,
  cache: CellCache,
  dir: string,
  log: (line: string) => void = () => {},
): Promise<string[]> {
  const chosen = WD_STAGES[stage];
  if (!chosen) throw new Error(`unknown stage ${stage}; one of ${Object.keys(WD_STAGES).join(', ')}`);
  const table = [
    `| SA++, ${chosen.settings[0]!.label} as the reference | ${WD_SPARSITIES.map((s) => `s = ${s}`).join(' | ')} |`,
    `| --- |${WD_SPARSITIES.map(() => ' --- |').join('')}`,
  ];
  const reference = new Map<number, number[]>();
  for (const setting of chosen.settings) {
    const cells: string[] = [];
    for (const s of WD_SPARSITIES) {
      const acc: number[] = [];
      for (const seed of WD_SEEDS) {
        const key = `wd|method: sapp|${setting.label}|s=${s}|seed=${seed}`;
        const cell = await cache.run(
          key,
          teacherExperiment(`wd-${seed}`, {
            seed,
            block: 8,
            sparsity: s,
            pruning: 'method: sapp',
            training: setting.training,
          }),
          dir,
        );
        acc.push(100 * cell.metrics.accuracy!);
        log(`${key}: ${(100 * cell.metrics.accuracy!).toFixed(2)}% (${cell.seconds.toFixed(1)} s)`);
      }
      if (!reference.has(s)) reference.set(s, acc);
      const { mean, sd } = meanSd(acc);
      if (setting === chosen.settings[0]) cells.push(`${mean.toFixed(1)} ± ${sd.toFixed(1)}`);
      else {
        const d = pairedDifference(acc, reference.get(s)!);
        const sign = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}`;
        const diff = `${sign(d.mean)} [${sign(d.low)}, ${sign(d.high)}]`;
        cells.push(`${mean.toFixed(1)} ± ${sd.toFixed(1)} (${d.low > 0 || d.high < 0 ? `**${diff}**` : diff})`);
      }
    }
    table.push(`| ${setting.label} | ${cells.join(' | ')} |`);
  }
  return table;
}
