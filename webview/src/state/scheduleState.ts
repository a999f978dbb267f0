/**
 * The schedule panel's state, pure (no DOM, no chart.js): the last schedule the host sent and the
 * error the file has now, and from them the two charts' lines, the summary, the phase and layer
 * tables and the CSV of the sampled schedule. `schedule.ts` draws it.
 */
import type { ScheduleMessage, SchedulePreviewResult } from '@protocol';
import { csvField, type AxisRange, type Point, type SeriesLine } from './series';

export type ScheduleChart = 'sparsity' | 'lr';

/** A table as header cells and rows of cells. */
export interface TextTable {
  head: string[];
  rows: string[][];
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The sampled value at the first sample at or after `step` (samples include every phase's ends). */
function valueAt(p: SchedulePreviewResult, values: number[], step: number): number {
  const i = p.steps.findIndex((s) => s >= step);
  return values[i < 0 ? values.length - 1 : i] ?? 0;
}

export class ScheduleState {
  /** The last schedule drawn: an edit that breaks the file leaves it in place under the error. */
  preview: SchedulePreviewResult | undefined;
  /** Why the file has no schedule now, while it has errors. */
  error: string | undefined;

  receive(message: ScheduleMessage): void {
    if (message.preview) this.preview = message.preview;
    this.error = message.error;
  }

  /** The exports' file name: the experiment's name made file-safe, then `-<suffix>`. */
  fileName(suffix: string): string {
    return `${(this.preview?.name ?? 'experiment').replace(/[^\w.-]/g, '_')}-${suffix}`;
  }
}

/** The learning rate when it is the same at every sampled step (then it gets a line of text, not a chart). */
export function constantLearningRate(p: SchedulePreviewResult): number | undefined {
  const first = p.learningRate[0];
  return first !== undefined && p.learningRate.every((v) => Math.abs(v - first) <= 1e-12 * Math.max(1, first))
    ? first
    : undefined;
}

export function scheduleLines(p: SchedulePreviewResult): Record<ScheduleChart, SeriesLine[]> {
  const series = (values: number[]): Point[] => p.steps.map((x, i) => ({ x, y: values[i] ?? 0 }));
  return {
    sparsity: [{ label: 'target sparsity', data: series(p.targetSparsity), color: 0 }],
    lr:
      constantLearningRate(p) === undefined ? [{ label: 'learning rate', data: series(p.learningRate), color: 1 }] : [],
  };
}

/** Both y axes from 0: a learning rate that decays to 0.0019 from 0.0021 is not drawn as a cliff. */
export function scheduleAxes(): Record<ScheduleChart, AxisRange> {
  return { sparsity: { min: 0, max: 1 }, lr: { min: 0 } };
}

export function scheduleSummary(p: SchedulePreviewResult): string {
  const pruned = p.layers.filter((l) => l.pruned);
  const blocks = pruned.reduce((n, l) => n + l.blocks, 0);
  const kept = pruned.reduce((n, l) => n + l.keptBlocks, 0);
  const lr = constantLearningRate(p);
  return (
    `${p.name} · ${p.method} · ${p.totalSteps} steps · ${p.phases.length} phases` +
    (blocks > 0 ? ` · ${kept}/${blocks} blocks kept at the end (${pct(1 - kept / blocks)} sparse)` : '') +
    (lr !== undefined ? ` · learning rate ${lr} throughout` : '')
  );
}

export function phaseTable(p: SchedulePreviewResult): TextTable {
  return {
    head: ['#', 'phase', 'kind', 'steps', 'target at start', 'target at end'],
    rows: p.phases.map((ph) => [
      String(ph.index),
      ph.label,
      ph.kind,
      `${ph.startStep}–${ph.endStep - 1}`,
      pct(valueAt(p, p.targetSparsity, ph.startStep)),
      pct(valueAt(p, p.targetSparsity, Math.max(ph.startStep, ph.endStep - 1))),
    ]),
  };
}

export function layerTable(p: SchedulePreviewResult): TextTable {
  return {
    head: ['layer', 'blocks', 'kept at the end'],
    rows: p.layers.map((l) => [l.name, String(l.blocks), l.pruned ? String(l.keptBlocks) : `${l.blocks} (not pruned)`]),
  };
}

/** The sampled schedule, one row per sample. */
export function scheduleCsv(p: SchedulePreviewResult): string {
  const phaseOf = (step: number) => p.phases.find((ph) => step >= ph.startStep && step < ph.endStep);
  const rows = p.steps.map((s, i) =>
    [String(s), csvField(phaseOf(s)?.label ?? ''), String(p.targetSparsity[i]), String(p.learningRate[i])].join(','),
  );
  return ['step,phase,target_sparsity,learning_rate', ...rows].join('\n') + '\n';
}
