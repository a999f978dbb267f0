/**
 * The compare panel's state, pure (no DOM, no chart.js): the compared runs and their final-results
 * table as the host last sent them, and from them the charts' lines (one colour per run, its target
 * dashed in the same colour), the summary, the best value of each metric column and the CSV of the
 * table. `compare.ts` draws it.
 */
import type { CompareMessage, ComparedRunDto, EvalEvent, RunCompareResult, StepEvent } from '@protocol';
import { differingValues, runLabel } from '@protocol/runHeadline';
import { accuracyAxis, csvField, points, type AxisRange, type SeriesLine } from './series';

export type CompareChart = 'sparsity' | 'loss' | 'quality' | 'time';

/** Metrics where the largest value is best, and where the smallest is. */
const HIGHER_BETTER = new Set(['accuracy', 'auc', 'support_precision']);
const LOWER_BETTER = new Set(['log_loss']);

const byStep = (e: { step: number }) => e.step;
const stepsOf = (r: ComparedRunDto) => r.events.filter((e): e is StepEvent => e.type === 'step');
const evalsOf = (r: ComparedRunDto) => r.events.filter((e): e is EvalEvent => e.type === 'eval');

export class CompareState {
  runs: ComparedRunDto[] = [];
  table: RunCompareResult | undefined;

  receive(message: CompareMessage): void {
    this.runs = message.runs;
    this.table = message.table;
  }

  /** CTR runs are judged by log-loss, the others by accuracy. */
  private get ctr(): boolean {
    return this.runs.some((r) => r.info.task === 'ctr');
  }

  get qualityTitle(): string {
    return this.ctr ? 'Log-loss (evaluation)' : 'Accuracy (evaluation)';
  }

  /** The longest run's steps: every chart spans them. */
  get maxStep(): number {
    return Math.max(0, ...this.runs.map((r) => r.info.totalSteps));
  }

  /** Run `i`'s short label with what differs in its config: `fashion · sapp · s2 (seed 2)`. */
  label(i: number): string {
    const run = this.runs[i];
    if (!run) return '';
    const differs = this.table ? differingValues(this.table.differences, i) : [];
    return `${runLabel(run.info)}${differs.length > 0 ? ` (${differs.join(', ')})` : ''}`;
  }

  /** Run `i` draws in series colour `i` on every chart. */
  lines(): Record<CompareChart, SeriesLine[]> {
    const metric = this.ctr ? 'log_loss' : 'accuracy';
    const perRun = (value: (e: StepEvent) => number | undefined): SeriesLine[] =>
      this.runs.map((r, i) => ({ label: this.label(i), data: points(stepsOf(r), byStep, value), color: i }));
    return {
      sparsity: this.runs.flatMap((r, i): SeriesLine[] => [
        { label: this.label(i), data: points(stepsOf(r), byStep, (e) => e.globalSparsity), color: i },
        {
          label: `${this.label(i)} target`,
          data: points(stepsOf(r), byStep, (e) => e.targetSparsity),
          color: i,
          style: { borderDash: [6, 4], borderWidth: 1 },
          inLegend: false,
        },
      ]),
      loss: perRun((e) => e.loss),
      quality: this.runs.map((r, i) => ({
        label: this.label(i),
        data: points(evalsOf(r), byStep, (e) => e.metrics[metric]),
        color: i,
        style: { pointRadius: 3 },
      })),
      time: perRun((e) => e.stepMs),
    };
  }

  /** The y axes: sparsity 0–100%, accuracy from a round tenth below its lowest value, the rest from 0. */
  axes(): Record<CompareChart, AxisRange> {
    const accuracies = this.runs.flatMap((r) =>
      evalsOf(r).flatMap((e) => (e.metrics.accuracy === undefined ? [] : [e.metrics.accuracy])),
    );
    return {
      sparsity: { min: 0, max: 1 },
      loss: { min: 0 },
      quality: this.ctr ? { min: 0 } : accuracyAxis(accuracies),
      time: { min: 0 },
    };
  }

  summary(): string {
    return this.runs.length === 0
      ? 'Waiting for the runs…'
      : `${this.runs.length} runs: ${this.runs.map((r, i) => `${this.label(i)} ${r.info.status}`).join('; ')}`;
  }
}

/** The row holding the best value of each column: undefined where the column is no metric or its values do not differ. */
export function bestRows(t: RunCompareResult): (number | undefined)[] {
  return t.columns.map((key, column) => {
    if (!HIGHER_BETTER.has(key) && !LOWER_BETTER.has(key)) return undefined;
    const values = t.rows.map((r) => Number.parseFloat(r[column] ?? ''));
    const finite = values.filter(Number.isFinite);
    if (finite.length < 2 || new Set(finite).size < 2) return undefined;
    const best = HIGHER_BETTER.has(key) ? Math.max(...finite) : Math.min(...finite);
    return values.indexOf(best);
  });
}

export function compareCsv(t: RunCompareResult): string {
  return [t.columns, ...t.rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}
