/**
 * A run at a glance, the same numbers wherever they are shown: the run dashboard's summary strip,
 * the status bar's tooltip, the Runs view and the end-of-run notification. Pure functions over a
 * run's record and events, without I/O: the server folds a live session's events with them into
 * its `SessionSummary`, the runs layer into `run.json`, the webview a run's events. Webviews import
 * this file directly (`@protocol/runHeadline`), not through the index, which also holds the LSP
 * message objects.
 */
import type { BackendNameDto, FinalMetrics, RunEvent, RunInfo, RunStatus } from './run';

/** A run's or a session's state (`queued`: waiting for its device; the same as `SessionState`). */
type HeadlineStatus = RunStatus | 'queued';

/** A run's short name, `experiment · method · s<seed>`; its folder name (the run id) is the long one. */
export function runLabel(run: Pick<RunInfo, 'name' | 'method' | 'seed'>): string {
  return `${run.name} · ${run.method} · s${run.seed}`;
}

/**
 * What one run of a comparison has in the config keys that differ (`RunCompareResult.differences`),
 * as `key value` with the key's last dotted part: `seed 2`, `learning_rate 0.002`. Only keys every
 * run has (a key of one method's format alone says nothing the method does not), not the method
 * (the run's label says it); values cut at 12 characters, and at most `limit` of them, then how
 * many more.
 */
export function differingValues(
  differences: readonly { path: string; values: string[] }[],
  run: number,
  limit = 3,
): string[] {
  const shown = differences
    .filter((d) => d.path !== 'pruning.method' && !d.values.includes('(absent)') && d.values[run] !== undefined)
    .map((d) => {
      const value = d.values[run]!.replace(/^"(.*)"$/, '$1');
      return `${d.path.split('.').at(-1) ?? d.path} ${value.length > 12 ? `${value.slice(0, 11)}…` : value}`;
    });
  return shown.length > limit ? [...shown.slice(0, limit), `+${shown.length - limit} more`] : shown;
}

/** One evaluation on the held-out set. */
export interface Evaluation {
  step: number;
  metrics: FinalMetrics;
}

/** The metric a run is judged by: accuracy, else log-loss (CTR), else the loss. */
export function primaryMetric(metrics: FinalMetrics): { key: keyof FinalMetrics; higherIsBetter: boolean } {
  if (metrics.accuracy !== undefined) return { key: 'accuracy', higherIsBetter: true };
  if (metrics.log_loss !== undefined) return { key: 'log_loss', higherIsBetter: false };
  return { key: 'loss', higherIsBetter: false };
}

/** The better of two evaluations by the primary metric (the earlier one on a tie). */
export function betterEvaluation(a: Evaluation | undefined, b: Evaluation): Evaluation {
  if (!a) return b;
  const { key, higherIsBetter } = primaryMetric(a.metrics);
  const va = a.metrics[key];
  const vb = b.metrics[key];
  if (vb === undefined || !Number.isFinite(vb)) return a;
  if (va === undefined || !Number.isFinite(va)) return b;
  return (higherIsBetter ? vb > va : vb < va) ? b : a;
}

const KNOWN_METRICS = new Set(['loss', 'accuracy', 'log_loss', 'auc']);

/**
 * Support-recovery metrics of a planted teacher (`support_precision` and its chance level; whatever else the engine
 * reports beside the loss, accuracy, log-loss and AUC), in the order the run wrote them; a
 * `<name>_chance` is the chance level of `<name>`, shown beside it rather than as a metric.
 */
export function supportMetrics(metrics: FinalMetrics): [string, number][] {
  return Object.entries(metrics).filter(
    (entry): entry is [string, number] =>
      !KNOWN_METRICS.has(entry[0]) && !entry[0].endsWith('_chance') && typeof entry[1] === 'number',
  );
}

const METRIC_NAMES: Record<string, string> = {
  loss: 'loss',
  accuracy: 'accuracy',
  log_loss: 'log-loss',
  auc: 'AUC',
  support_precision: 'support precision@k',
  support_precision_chance: 'chance precision@k',
  support_f1: 'support F1', // runs from before precision@k
};

/** A metric key as people read it: `support_precision` → `support precision@k`, `log_loss` → `log-loss`. */
export function metricName(key: string): string {
  return METRIC_NAMES[key] ?? key.replace(/_/g, ' ');
}

/** A metric value: accuracy as a percentage, the others with four decimals. */
export function formatMetric(key: string, value: number): string {
  return key === 'accuracy' ? `${(100 * value).toFixed(1)}%` : value.toFixed(4);
}

/** What a run's events say beyond its record: how far it got, its evaluations, its sparsity. */
export interface RunProgress {
  /** Steps completed, as far as the events tell. */
  step: number;
  latest?: Evaluation;
  /** The best evaluation so far by the primary metric. */
  best?: Evaluation;
  /** Fraction of zero kernel entries over all layers with a kernel, at the last logged step. */
  globalSparsity?: number;
  /** The schedule's target (fraction of blocks per pruned layer) at the last logged step. */
  targetNow?: number;
}

export function emptyProgress(step = 0): RunProgress {
  return { step };
}

/** The progress after `events` (appended in the order the run wrote them); `progress` is left as it was. */
export function progressAfter(progress: RunProgress, events: readonly RunEvent[]): RunProgress {
  const next: RunProgress = { ...progress };
  for (const e of events) {
    switch (e.type) {
      case 'step':
        next.step = Math.max(next.step, e.step + 1);
        next.globalSparsity = e.globalSparsity;
        next.targetNow = e.targetSparsity;
        break;
      case 'eval':
        next.latest = { step: e.step, metrics: e.metrics };
        next.best = betterEvaluation(next.best, next.latest);
        break;
      case 'phase':
        // The phase starts at its first step, which has not run yet: all steps before it have.
        next.step = Math.max(next.step, e.step);
        break;
      case 'snapshot':
      case 'status':
        break;
    }
  }
  return next;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - 60 * minutes)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** What the headline is made from: a run's record and its progress, or a live session's summary. */
export interface HeadlineInput {
  status: HeadlineStatus;
  step: number;
  totalSteps: number;
  progress: RunProgress;
  /** Seconds left, while it runs (the session's pace, `SessionSummary.etaSeconds`). */
  etaSeconds?: number;
  /** The run's target: fraction of blocks removed from each pruned layer at the end. */
  targetSparsity?: number;
  /** The metrics of the run's end (its record's `final`), which the last evaluation equals. */
  final?: FinalMetrics;
  /** The final global sparsity from the record, when the run has ended. */
  finalSparsity?: number;
  backend?: BackendNameDto;
  /** Threads the backend computes with, when the run recorded them (`backend.details.threads`). */
  threads?: number;
  /** Why the run failed or was cancelled. */
  error?: string;
}

/** The headline of a run from its record and events (the dashboard; a finished run in the Runs view passes none). */
export function headlineOf(info: RunInfo, progress: RunProgress, status: HeadlineStatus = info.status): HeadlineInput {
  const threads = info.backend.details['threads'];
  return {
    status,
    step: Math.max(info.step, progress.step),
    totalSteps: info.totalSteps,
    progress: { ...progress, best: progress.best ?? info.bestEvaluation },
    targetSparsity: info.targetSparsity,
    ...(info.final && { final: info.final.metrics, finalSparsity: info.final.sparsity.global }),
    backend: info.backend.name,
    ...(typeof threads === 'number' && { threads }),
    ...(info.error && { error: info.error.message }),
  };
}

/** The headline of a live session, from the summary the server sends (`SessionSummary`). */
export function headlineOfSession(s: {
  state: HeadlineStatus;
  step: number;
  totalSteps: number;
  globalSparsity: number;
  finalTargetSparsity?: number;
  backend?: BackendNameDto;
  threads?: number;
  error?: string;
  etaSeconds?: number;
  progress?: RunProgress;
}): HeadlineInput {
  const progress = s.progress ?? emptyProgress(s.step);
  return {
    status: s.state,
    step: Math.max(s.step, progress.step),
    totalSteps: s.totalSteps,
    progress: { ...progress, globalSparsity: progress.globalSparsity ?? s.globalSparsity },
    ...(s.etaSeconds !== undefined && s.state === 'running' && { etaSeconds: s.etaSeconds }),
    ...(s.finalTargetSparsity !== undefined && { targetSparsity: s.finalTargetSparsity }),
    ...(s.backend && { backend: s.backend }),
    ...(s.threads !== undefined && { threads: s.threads }),
    ...(s.error && { error: s.error }),
  };
}

export type HeadlineKey = 'status' | 'step' | 'metric' | 'support' | 'sparsity' | 'backend';

/** One fact of the headline: a label, its value, a detail under (or after) it, and a hint for its tooltip. */
export interface HeadlineItem {
  key: HeadlineKey;
  label: string;
  value: string;
  detail?: string;
  hint?: string;
}

const pct = (x: number, digits = 1) => `${(100 * x).toFixed(digits).replace(/\.0+$/, '')}%`;

/** The headline's facts in the order every view shows them. */
export function headlineItems(h: HeadlineInput): HeadlineItem[] {
  const items: HeadlineItem[] = [
    { key: 'status', label: 'Status', value: h.status, ...(h.error && { detail: h.error }) },
  ];
  const eta = h.status === 'running' ? h.etaSeconds : undefined;
  items.push({
    key: 'step',
    label: 'Step',
    value: `${h.step}/${h.totalSteps}`,
    ...(eta !== undefined && { detail: `ETA ${formatDuration(eta)}` }),
  });
  const now = h.final ?? h.progress.latest?.metrics;
  if (now) {
    const { key } = primaryMetric(now);
    const value = now[key];
    const best = h.progress.best;
    const bestValue = best?.metrics[key];
    const details: string[] = [];
    if (best && bestValue !== undefined) details.push(`best ${formatMetric(key, bestValue)} at step ${best.step}`);
    if (now.auc !== undefined) details.push(`AUC ${now.auc.toFixed(4)}`);
    if (value !== undefined)
      items.push({
        key: 'metric',
        label: metricName(key).replace(/^./, (c) => c.toUpperCase()),
        value: formatMetric(key, value),
        ...(details.length > 0 && { detail: details.join(' · ') }),
      });
    for (const [name, v] of supportMetrics(now)) {
      const chance = (now as unknown as Record<string, number | undefined>)[`${name}_chance`];
      items.push({
        key: 'support',
        label: metricName(name).replace(/^./, (c) => c.toUpperCase()),
        value: v.toFixed(3),
        ...(chance !== undefined && { detail: `chance ${chance.toFixed(3)}` }),
        hint: `How well the kept blocks recover the planted teacher's support (${name}).`,
      });
    }
  }
  const sparsity = h.finalSparsity ?? h.progress.globalSparsity;
  if (sparsity !== undefined) {
    const target = h.targetSparsity;
    const nowTarget = h.progress.targetNow;
    const detail =
      target === undefined
        ? undefined
        : `target ${pct(target)} of blocks${
            h.status === 'running' && nowTarget !== undefined && Math.abs(nowTarget - target) > 1e-9
              ? ` (${pct(nowTarget)} at this step)`
              : ''
          }`;
    items.push({ key: 'sparsity', label: 'Sparsity', value: pct(sparsity), ...(detail && { detail }) });
  }
  if (h.backend)
    items.push({
      key: 'backend',
      label: 'Backend',
      value: h.backend,
      ...(h.threads !== undefined && { detail: `${h.threads} thread${h.threads === 1 ? '' : 's'}` }),
    });
  return items;
}

/** The headline on one line: `completed · step 3000/3000 · accuracy 86.6% (best 86.6% at step 3000) · …`. */
export function headlineLine(items: readonly HeadlineItem[]): string {
  return items
    .map((i) => {
      const label = i.label.charAt(0).toLowerCase() + i.label.slice(1);
      const value = i.key === 'status' || i.key === 'backend' ? i.value : `${label} ${i.value}`;
      return i.detail && i.key !== 'status' ? `${value} (${i.detail})` : value;
    })
    .join(' · ');
}
