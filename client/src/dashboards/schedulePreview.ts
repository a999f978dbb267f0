/** The schedule preview as Markdown: the phase table and the target sparsity along the steps. */
import type { SchedulePreviewResult } from '@protocol';

const BARS = ' ▁▂▃▄▅▆▇█';

export function schedulePreviewMarkdown(p: SchedulePreviewResult): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const at = (step: number) => {
    const i = p.steps.findIndex((s) => s >= step);
    return p.targetSparsity[i < 0 ? p.steps.length - 1 : i] ?? 0;
  };
  const max = Math.max(1e-9, ...p.targetSparsity);
  const spark = p.targetSparsity
    .filter((_, i) => i % Math.max(1, Math.floor(p.targetSparsity.length / 80)) === 0)
    .map((v) => BARS[Math.round((v / max) * (BARS.length - 1))])
    .join('');
  return [
    `# Schedule of ${p.name} (${p.method}, ${p.totalSteps} steps)`,
    '',
    'Target sparsity (fraction of blocks removed per pruned layer) along the steps:',
    '',
    '```',
    spark,
    '```',
    '',
    '| # | phase | kind | steps | target at start | target at end |',
    '| --- | --- | --- | --- | --- | --- |',
    ...p.phases.map(
      (ph) =>
        `| ${ph.index} | ${ph.label} | ${ph.kind} | ${ph.startStep}–${ph.endStep - 1} | ${pct(at(ph.startStep))} | ${pct(at(Math.max(ph.startStep, ph.endStep - 1)))} |`,
    ),
    '',
    '| layer | blocks | kept at the end |',
    '| --- | --- | --- |',
    ...p.layers.map((l) => `| ${l.name} | ${l.blocks} | ${l.pruned ? l.keptBlocks : `${l.blocks} (not pruned)`} |`),
    '',
  ].join('\n');
}
