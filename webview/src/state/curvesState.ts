/**
 * The run panel's curves, pure (no DOM, no chart.js): the run's record and its events as the
 * charts need them, and from them the lines and y axes of the four charts (sparsity against the
 * schedule's target, training and evaluation loss, the evaluation metric, step time), the
 * summary strip's headline and the CSV of the step metrics. `run.ts` draws it; Node tests drive it
 * with the host's messages.
 */
import type { EvalEvent, PhaseEvent, RunEvent, RunInfo, SessionSummary, StepEvent } from '@protocol';
import {
  emptyProgress,
  headlineItems,
  headlineOf,
  headlineOfSession,
  progressAfter,
  type HeadlineItem,
  type RunProgress,
} from '@protocol/runHeadline';
import { accuracyAxis, points, type AxisRange, type SeriesLine } from './series';

export type CurveChart = 'sparsity' | 'loss' | 'quality' | 'time';

const byStep = (e: { step: number }) => e.step;

function csvCell(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '' : String(value);
}

export class CurvesState {
  private info: RunInfo | undefined;
  private steps: StepEvent[] = [];
  private evals: EvalEvent[] = [];
  private phaseEvents: PhaseEvent[] = [];
  private progress: RunProgress = emptyProgress();
  /** The live session of the run, while the host reports one. */
  private session: SessionSummary | undefined;

  /** A `run` message: the panel shows this run from its start. */
  showRun(info: RunInfo, events: readonly RunEvent[]): void {
    this.info = info;
    this.steps = [];
    this.evals = [];
    this.phaseEvents = [];
    this.progress = emptyProgress(info.step);
    // A re-sent record of an ended run is newer than any session summary that came before it.
    if (this.session && this.session.state !== 'running' && this.session.state !== 'queued') this.session = undefined;
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
    this.progress = progressAfter(this.progress, events);
  }

  /** A `session` message: the live session of this run changed (its state, step, evaluations). */
  showSession(summary: SessionSummary): void {
    this.session = summary;
  }

  get phases(): readonly PhaseEvent[] {
    return this.phaseEvents;
  }

  get totalSteps(): number | undefined {
    return this.info?.totalSteps;
  }

  get run(): RunInfo | undefined {
    return this.info;
  }

  /** CTR runs are judged by log-loss, the others by accuracy. */
  private get ctr(): boolean {
    return this.info?.task === 'ctr' || this.evals.some((e) => e.metrics.log_loss !== undefined);
  }

  get qualityTitle(): string {
    return this.ctr ? 'Log-loss (evaluation)' : 'Accuracy (evaluation)';
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

  /**
   * The charts' lines. On the sparsity chart the target is dashed in its own colour, thin and on
   * top; under it each layer's line is wider than the target and narrower than the one below, the
   * global line widest at the bottom, so lines that coincide (a layer that follows its target
   * exactly) still all show, each as a band around the next.
   */
  lines(): Record<CurveChart, SeriesLine[]> {
    const steps = this.steps;
    const ctr = this.ctr;
    const metric = ctr ? 'log_loss' : 'accuracy';
    const layers = this.layerNames();
    return {
      sparsity: [
        {
          label: 'target',
          data: points(steps, byStep, (e) => e.targetSparsity),
          color: 'target',
          style: { borderDash: [6, 4], borderWidth: 2, order: 0 },
        },
        ...layers.map((name, i) => ({
          label: `layer ${name} (blocks)`,
          data: points(steps, byStep, (e) => e.layerBlockSparsity[name]),
          color: i + 1,
          style: { borderWidth: 4 + 2 * (layers.length - 1 - i), order: 1 + i },
        })),
        // Thin dotted lines in the layer's colour: the share of its blocks whose attention is clipped.
        ...this.clippedLayerNames().map((name) => ({
          label: `clipped ${name}`,
          data: points(steps, byStep, (e) => e.layerClippedFraction?.[name]),
          color: layers.indexOf(name) + 1,
          style: { borderDash: [2, 3], borderWidth: 1, order: 0 },
        })),
        {
          label: 'global (all kernels)',
          data: points(steps, byStep, (e) => e.globalSparsity),
          color: 0,
          style: { borderWidth: 4 + 2 * layers.length, order: 1 + layers.length },
        },
      ],
      loss: [
        { label: 'training loss', data: points(steps, byStep, (e) => e.loss), color: 0 },
        {
          label: 'evaluation loss',
          data: points(this.evals, byStep, (e) => e.metrics.loss),
          color: 4,
          style: { pointRadius: 3 },
        },
      ],
      quality: [
        {
          label: ctr ? 'evaluation log-loss' : 'evaluation accuracy',
          data: points(this.evals, byStep, (e) => e.metrics[metric]),
          color: 2,
          style: { pointRadius: 3 },
        },
      ],
      time: [{ label: 'step time', data: points(steps, byStep, (e) => e.stepMs), color: 1 }],
    };
  }

  /** The y axis of each chart: sparsity 0–100%, accuracy from a round tenth below its lowest value, the rest from 0. */
  axes(): Record<CurveChart, AxisRange> {
    const quality = this.ctr
      ? { min: 0 }
      : accuracyAxis(this.evals.flatMap((e) => (e.metrics.accuracy === undefined ? [] : [e.metrics.accuracy])));
    return { sparsity: { min: 0, max: 1 }, loss: { min: 0 }, quality, time: { min: 0 } };
  }

  /** The summary strip: the run's record and events, or its live session while one runs it. */
  headline(): HeadlineItem[] {
    const info = this.info;
    if (!info) return [];
    const session = this.session;
    if (session && (session.state === 'running' || session.state === 'queued'))
      // The state, backend and target from the session; the numbers from the events both share.
      return headlineItems({
        ...headlineOfSession(session),
        step: Math.max(this.progress.step, session.step),
        progress: { ...this.progress, best: this.progress.best ?? info.bestEvaluation },
      });
    return headlineItems(headlineOf(info, this.progress));
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
