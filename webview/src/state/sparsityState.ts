/**
 * The sparsity panel's state, pure (no DOM, no chart.js): the run's record and its events as the
 * charts need them, and from them the lines of the four charts, the summary line and the CSV of
 * the step metrics. `sparsity.ts` draws it; Node tests drive it with the host's messages.
 */
import type { EvalEvent, PhaseEvent, RunEvent, RunInfo, StepEvent } from '@protocol';
import { points, type SeriesLine } from './series';

export type SparsityChart = 'sparsity' | 'loss' | 'quality' | 'time';

const byStep = (e: { step: number }) => e.step;

function csvCell(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '' : String(value);
}

export class SparsityState {
  private info: RunInfo | undefined;
  private steps: StepEvent[] = [];
  private evals: EvalEvent[] = [];
  private phaseEvents: PhaseEvent[] = [];

  /** A `run` message: the panel shows this run from its start. */
  showRun(info: RunInfo, events: readonly RunEvent[]): void {
    this.info = info;
    this.steps = [];
    this.evals = [];
    this.phaseEvents = [];
    this.add(events);
  }

  /** Events in the order the run wrote them: each phase counts once, a status event updates the record's. */
  add(events: readonly RunEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'step':
          this.steps.push(e);
          break;
        case 'eval':
          this.evals.push(e);
          break;
        case 'phase':
          if (!this.phaseEvents.some((p) => p.index === e.index)) this.phaseEvents.push(e);
          break;
        case 'status':
          if (this.info && e.status !== 'resumed') this.info = { ...this.info, status: e.status };
          break;
        case 'snapshot':
          break;
      }
    }
  }

  get phases(): readonly PhaseEvent[] {
    return this.phaseEvents;
  }

  get totalSteps(): number | undefined {
    return this.info?.totalSteps;
  }

  /** CTR runs are judged by log-loss, the others by accuracy. */
  private get ctr(): boolean {
    return this.info?.task === 'ctr' || this.evals.some((e) => e.metrics.log_loss !== undefined);
  }

  get qualityTitle(): string {
    return this.ctr ? 'Log-loss' : 'Accuracy';
  }

  /** The pruned layers, in the order their block sparsity first appears. */
  layerNames(): string[] {
    const names = new Set<string>();
    for (const e of this.steps) for (const n of Object.keys(e.layerBlockSparsity)) names.add(n);
    return [...names];
  }

  /** The pruned layers whose attention is clipped (SA++ with a clip), in order of appearance. */
  clippedLayerNames(): string[] {
    const names = new Set<string>();
    for (const e of this.steps) for (const n of Object.keys(e.layerClippedFraction ?? {})) names.add(n);
    return [...names];
  }

  lines(): Record<SparsityChart, SeriesLine[]> {
    const steps = this.steps;
    const ctr = this.ctr;
    const metric = ctr ? 'log_loss' : 'accuracy';
    return {
      sparsity: [
        { label: 'global', data: points(steps, byStep, (e) => e.globalSparsity), color: 0 },
        ...this.layerNames().map((name, i) => ({
          label: `layer ${name} (blocks)`,
          data: points(steps, byStep, (e) => e.layerBlockSparsity[name]),
          color: i + 2,
        })),
        ...this.clippedLayerNames().map((name) => ({
          label: `clipped ${name}`,
          data: points(steps, byStep, (e) => e.layerClippedFraction?.[name]),
          color: this.layerNames().indexOf(name) + 2,
          style: { borderDash: [2, 3], borderWidth: 1 },
        })),
        {
          label: 'target',
          data: points(steps, byStep, (e) => e.targetSparsity),
          color: 'target',
          style: { borderDash: [6, 4], borderWidth: 1.5 },
        },
      ],
      loss: [{ label: 'loss', data: points(steps, byStep, (e) => e.loss), color: 0 }],
      quality: [
        {
          label: ctr ? 'eval log-loss' : 'eval accuracy',
          data: points(this.evals, byStep, (e) => e.metrics[metric]),
          color: 2,
          style: { pointRadius: 3 },
        },
        {
          label: 'eval loss',
          data: points(this.evals, byStep, (e) => (ctr ? undefined : e.metrics.loss)),
          color: 3,
          style: { pointRadius: 3, hidden: true },
        },
      ],
      time: [{ label: 'step time', data: points(steps, byStep, (e) => e.stepMs), color: 1 }],
    };
  }

  summary(): string {
    const info = this.info;
    if (!info) return 'Waiting for the run…';
    const last = this.steps.at(-1);
    // A live run's record is as old as the panel; its step events say how far it has got since.
    const reached = Math.max(info.step, last ? last.step + 1 : 0);
    return (
      `${info.name} · ${info.method} · ${info.status} · step ${reached}/${info.totalSteps}` +
      (last ? ` · global sparsity ${(100 * last.globalSparsity).toFixed(1)}%` : '')
    );
  }

  /** The exports' file name: `<run id>-<suffix>`. */
  fileName(suffix: string): string {
    return `${this.info?.id ?? 'run'}-${suffix}`;
  }

  /** The step events, one row each, with the evaluation at that step when there was one. */
  toCsv(): string {
    const names = this.layerNames();
    const clipped = this.clippedLayerNames();
    const evalAt = new Map(this.evals.map((e) => [e.step, e.metrics]));
    const head = [
      'step',
      'phase',
      'loss',
      'learning_rate',
      'target_sparsity',
      'global_sparsity',
      ...names.map((n) => `block_sparsity_${n}`),
      ...clipped.map((n) => `clipped_fraction_${n}`),
      'step_ms',
      'eval_loss',
      'eval_accuracy',
      'eval_log_loss',
    ];
    const rows = this.steps.map((e) => {
      const m = evalAt.get(e.step);
      return [
        String(e.step),
        String(e.phase),
        csvCell(e.loss),
        csvCell(e.learningRate),
        csvCell(e.targetSparsity),
        csvCell(e.globalSparsity),
        ...names.map((n) => csvCell(e.layerBlockSparsity[n])),
        ...clipped.map((n) => csvCell(e.layerClippedFraction?.[n])),
        csvCell(e.stepMs),
        csvCell(m?.loss),
        csvCell(m?.accuracy),
        csvCell(m?.log_loss),
      ].join(',');
    });
    return [head.join(','), ...rows].join('\n') + '\n';
  }
}
