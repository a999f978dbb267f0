/**
 * The schedule an experiment will run, sampled for the editor's schedule panel from the same pure
 * functions the trainer executes (`targetSparsityAt`, `learningRateAt`).
 */
import type { SchedulePreviewResult } from '@protocol';
import { learningRateAt, targetSparsityAt } from './schedule';
import type { ValidationResult } from './validate';

/** About this many samples along the steps, plus both ends of every phase so its corners are exact. */
const PREVIEW_POINTS = 200;

export function schedulePreview(result: ValidationResult): SchedulePreviewResult {
  const config = result.config;
  const schedule = result.analysis?.schedule;
  if (!config || !schedule) throw new Error('The schedule cannot be computed: fix the errors in the file first.');
  const total = schedule.totalSteps;
  const stride = Math.max(1, Math.ceil(total / PREVIEW_POINTS));
  const sampled = new Set<number>([total - 1]);
  for (let s = 0; s < total; s += stride) sampled.add(s);
  for (const p of schedule.phases) {
    if (p.startStep < total) sampled.add(p.startStep);
    if (p.endStep > p.startStep) sampled.add(p.endStep - 1);
  }
  const steps = [...sampled].filter((s) => s >= 0).sort((a, b) => a - b);
  return {
    name: config.name,
    method: config.pruning.method,
    totalSteps: total,
    phases: schedule.phases.map((p) => ({
      index: p.index,
      kind: p.kind,
      label: p.label,
      startStep: p.startStep,
      endStep: p.endStep,
    })),
    steps,
    targetSparsity: steps.map((s) => targetSparsityAt(schedule, s)),
    learningRate: steps.map((s) => learningRateAt(config.training, s, total)),
    layers: (result.analysis?.plan?.layers ?? []).map((l) => ({
      name: l.name,
      blocks: l.blocks,
      keptBlocks: l.keptBlocks,
      pruned: l.status === 'pruned',
    })),
  };
}
