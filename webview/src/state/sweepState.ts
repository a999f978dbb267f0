/**
 * The sweep panel's state, pure (no DOM, no chart.js): a sweep's summary as the host last sent it,
 * the metric the user picked, and from them the chart's series (one per method and other swept
 * values, mean ± sd per sparsity), the Pareto front, the dense baselines, the table of cells and
 * its CSV. `sweep.ts` draws it; Node tests drive it with recorded messages.
 */
import type { SweepCell, SweepMessage, SweepMetric, SweepStat, SweepSummary, SweepValue } from '@protocol';
import { csvField } from './series';

/** One point of the chart: a cell's mean at its sparsity, with what the error bar and tooltip need. */
export interface SweepPoint {
  x: number;
  y: number;
  sd: number | null;
  n: number;
  pareto: boolean;
  /** The cell's index in `summary.cells`. */
  cell: number;
}

export interface SweepSeries {
  label: string;
  /** An index into the theme's series colours. */
  color: number;
  points: SweepPoint[];
}

export interface SweepBaseline {
  label: string;
  stat: SweepStat;
}

export const METRIC_LABELS: Record<SweepMetric, string> = {
  accuracy: 'Accuracy',
  auc: 'AUC',
  log_loss: 'Log-loss',
  support_precision: 'Support precision@k',
  support_precision_chance: 'Chance precision@k',
  loss: 'Loss',
};

const higherIsBetter = (m: SweepMetric) => m !== 'log_loss' && m !== 'loss';

/** A metric value as the table shows it: accuracy as a percentage, the rest to 4 places. */
export function formatValue(metric: SweepMetric, v: number): string {
  return metric === 'accuracy' ? `${(100 * v).toFixed(2)}%` : v.toFixed(4);
}

export function formatStat(metric: SweepMetric, s: SweepStat | null | undefined): string {
  if (!s) return '-';
  const sd = s.sd === null ? '' : ` ± ${metric === 'accuracy' ? (100 * s.sd).toFixed(2) : s.sd.toFixed(4)}`;
  return `${formatValue(metric, s.mean)}${sd}`;
}

const showValue = (v: SweepValue | undefined) =>
  v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v);

export class SweepState {
  summary: SweepSummary | undefined;
  /** The metric the user picked (kept across reloads); the summary's default until then. */
  private picked: SweepMetric | undefined;

  constructor(picked?: SweepMetric) {
    this.picked = picked;
  }

  receive(message: SweepMessage): void {
    this.summary = message.summary;
  }

  pick(metric: SweepMetric): void {
    this.picked = metric;
  }

  /** The metric shown: the picked one while the sweep reports it, else the sweep's own. */
  get metric(): SweepMetric {
    const s = this.summary;
    if (!s) return this.picked ?? 'accuracy';
    return this.picked && s.metricsAvailable.includes(this.picked) ? this.picked : s.metric;
  }

  get metrics(): SweepMetric[] {
    return this.summary?.metricsAvailable.filter((m) => m !== 'loss') ?? [];
  }

  get title(): string {
    return `${METRIC_LABELS[this.metric]} against sparsity (${higherIsBetter(this.metric) ? 'higher' : 'lower'} is better)`;
  }

  /** One series per method (and other swept values), its cells in order of sparsity. */
  series(): SweepSeries[] {
    const s = this.summary;
    if (!s) return [];
    const metric = this.metric;
    const names = [...new Set(s.cells.filter((c) => !c.dense).map((c) => c.series))];
    return names.map((label, color) => ({
      label,
      color,
      points: s.cells
        .map((cell, index) => ({ cell, index }))
        .filter(({ cell }) => !cell.dense && cell.series === label && cell.metrics[metric] !== undefined)
        .map(({ cell, index }) => point(cell, index, metric))
        .sort((a, b) => a.x - b.x),
    }));
  }

  /** The dense reference cells (`none`, or sparsity 0) that have the metric. */
  baselines(): SweepBaseline[] {
    const s = this.summary;
    if (!s) return [];
    return s.cells.flatMap((c) =>
      c.dense && c.metrics[this.metric]
        ? [{ label: `dense baseline (${c.series})`, stat: c.metrics[this.metric]! }]
        : [],
    );
  }

  /** The cells on the Pareto front of sparsity against the metric, in order of sparsity. */
  front(): SweepPoint[] {
    const s = this.summary;
    if (!s) return [];
    return s.cells
      .map((cell, index) => ({ cell, index }))
      .filter(({ cell }) => cell.pareto.includes(this.metric) && cell.metrics[this.metric] !== undefined)
      .map(({ cell, index }) => point(cell, index, this.metric))
      .sort((a, b) => a.x - b.x);
  }

  /** Every point drawn (the series' and the baselines'): what the tests count. */
  pointCount(): number {
    return this.series().reduce((n, s) => n + s.points.length, 0) + this.baselines().length;
  }

  /** The swept keys a cell is told by (all but the seed). */
  private get axes(): string[] {
    return this.summary?.grid.map((a) => a.path).filter((p) => p !== 'seed') ?? [];
  }

  table(): { columns: string[]; rows: string[][]; pareto: boolean[] } {
    const s = this.summary;
    if (!s) return { columns: [], rows: [], pareto: [] };
    const metric = this.metric;
    const columns = [...this.axes, 'n', `${metric} (mean ± sd)`, 'global sparsity', 'failed'];
    const rows = s.cells.map((c) => [
      ...this.axes.map((p) => showValue(c.params[p])),
      `${c.runs.completed}/${c.runs.total}`,
      formatStat(metric, c.metrics[metric]),
      c.globalSparsity ? `${(100 * c.globalSparsity.mean).toFixed(1)}%` : '-',
      String(c.runs.failed),
    ]);
    return { columns, rows, pareto: s.cells.map((c) => c.pareto.includes(metric)) };
  }

  /** Every cell with every metric's mean, sd and n: the data behind the chart, for a spreadsheet. */
  csv(): string {
    const s = this.summary;
    if (!s) return '';
    const metrics = s.metricsAvailable;
    const header = [
      ...this.axes,
      'method',
      'sparsity',
      'runs',
      'completed',
      'failed',
      'global_sparsity_mean',
      ...metrics.flatMap((m) => [`${m}_mean`, `${m}_sd`, `${m}_n`]),
      'pareto',
    ];
    const num = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));
    const rows = s.cells.map((c) => [
      ...this.axes.map((p) => showValue(c.params[p])),
      c.method,
      String(c.sparsity),
      String(c.runs.total),
      String(c.runs.completed),
      String(c.runs.failed),
      num(c.globalSparsity?.mean),
      ...metrics.flatMap((m) => [num(c.metrics[m]?.mean), num(c.metrics[m]?.sd), num(c.metrics[m]?.n)]),
      c.pareto.join(' '),
    ]);
    return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
  }

  statusLine(): string {
    const s = this.summary;
    if (!s) return 'Waiting for the sweep…';
    const c = s.counts;
    const parts = [`${c.completed} completed`];
    if (c.running > 0) parts.push(`${c.running} running`);
    if (c.pending > 0) parts.push(`${c.pending} not started`);
    if (c.failed > 0) parts.push(`${c.failed} failed`);
    if (c.cancelled > 0) parts.push(`${c.cancelled} cancelled`);
    const grid = s.grid.map((a) => `${a.path} × ${a.values.length}`).join(', ');
    return `${s.runs.length} runs (${grid}) on the ${s.executor} executor: ${parts.join(', ')}; mean ± sd over seeds`;
  }

  fileName(suffix: string): string {
    return `${this.summary?.name ?? 'sweep'}-sweep-${suffix}`.replace(/[^\w.-]/g, '_');
  }
}

function point(cell: SweepCell, index: number, metric: SweepMetric): SweepPoint {
  const s = cell.metrics[metric]!;
  return { x: cell.sparsity, y: s.mean, sd: s.sd, n: s.n, pareto: cell.pareto.includes(metric), cell: index };
}
