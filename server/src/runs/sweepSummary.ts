/**
 * A sweep read back: `sweep.json` with each run's own `run.json` (fresher while the sweep runs),
 * and the grid's cells (the runs that differ only in their seed) with mean ± sd per metric. The
 * CLI's final table, `report`, `compare` and the sweep panel all read this one summary.
 */
import { join, resolve } from 'node:path';
import type {
  RunInfo,
  SweepCell,
  SweepInfo,
  SweepMetric,
  SweepRunEntry,
  SweepRunStatus,
  SweepStat,
  SweepSummary,
  SweepValue,
} from '@protocol';
import { FINAL_RUN_STATES, startedRunInfo, readSweep } from './sweepStore';

export interface LoadedSweep {
  /** Absolute path of the sweep folder. */
  dir: string;
  info: SweepInfo;
  /** Each entry's run.json, when the run has started. */
  runs: (RunInfo | undefined)[];
}

export function loadSweep(dir: string): LoadedSweep {
  const abs = resolve(dir);
  const info = readSweep(abs);
  return { dir: abs, info, runs: info.runs.map((entry) => startedRunInfo(join(abs, entry.dir))) };
}

/**
 * Where a run stands: its run.json once it has ended; the sweep's record when that is final and
 * the run's is not (the follower saw its process die, or it was cancelled before it started).
 */
export function liveStatus(entry: SweepRunEntry, info: RunInfo | undefined): SweepRunStatus {
  if (info && FINAL_RUN_STATES.has(info.status)) return info.status;
  if (FINAL_RUN_STATES.has(entry.status)) return entry.status;
  return info ? info.status : entry.status;
}

/** Metrics in the order tables show them; the first present is the default. */
const METRIC_ORDER: SweepMetric[] = ['accuracy', 'auc', 'log_loss', 'support_precision', 'loss'];

export function higherIsBetter(metric: SweepMetric): boolean {
  return metric !== 'log_loss' && metric !== 'loss';
}

/** Mean and sample standard deviation (n - 1; null for a single value). */
export function stat(values: number[]): SweepStat | null {
  const finite = values.filter(Number.isFinite);
  const n = finite.length;
  if (n === 0) return null;
  const mean = finite.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(finite.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : null;
  return { mean, sd, n };
}

const SEED_PATH = 'seed';
const SPARSITY_PATH = 'pruning.sparsity';

/** A cell's parameters: all but the seed, and for `none` (which prunes nothing) all but the sparsity. */
function cellParams(entry: SweepRunEntry): Record<string, SweepValue> {
  return Object.fromEntries(
    Object.entries(entry.params).filter(
      ([path]) => path !== SEED_PATH && !(entry.method === 'none' && path === SPARSITY_PATH),
    ),
  );
}

/** `method=sapp · block=[8,8]`: the cell's parameters but the sparsity (the chart's x). */
function seriesName(entry: SweepRunEntry): string {
  const parts = Object.entries(entry.params)
    .filter(([path]) => path !== SEED_PATH && path !== SPARSITY_PATH && path !== 'pruning.method')
    .map(([path, value]) => `${path.split('.').at(-1)}=${JSON.stringify(value)}`);
  return [entry.method, ...parts].join(' · ');
}

export function summarizeSweep(loaded: LoadedSweep): SweepSummary {
  const { dir, info } = loaded;
  const runs = info.runs.map((entry, i) => {
    const run = loaded.runs[i];
    const status = liveStatus(entry, run);
    return {
      runDir: join(dir, entry.dir),
      params: entry.params,
      status,
      step: run?.step ?? 0,
      totalSteps: run?.totalSteps ?? 0,
      ...(status === 'completed' && run?.final
        ? { metrics: run.final.metrics, globalSparsity: run.final.sparsity.global }
        : {}),
      ...(status === 'failed' ? { error: run?.error?.message ?? entry.error ?? 'the run failed' } : {}),
      log: join(dir, entry.log),
    };
  });

  const groups = new Map<string, number[]>();
  info.runs.forEach((entry, i) => {
    const key = JSON.stringify(cellParams(entry));
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const metricsSeen = new Set<SweepMetric>();
  const cells: SweepCell[] = [...groups.values()].map((indices) => {
    const first = info.runs[indices[0]!]!;
    const done = indices.map((i) => runs[i]!).filter((r) => r.metrics !== undefined);
    const metrics: SweepCell['metrics'] = {};
    for (const metric of METRIC_ORDER) {
      const s = stat(done.flatMap((r) => (r.metrics![metric] !== undefined ? [r.metrics![metric]] : [])));
      if (s) {
        metrics[metric] = s;
        metricsSeen.add(metric);
      }
    }
    const count = (status: SweepRunStatus) => indices.filter((i) => runs[i]!.status === status).length;
    return {
      params: cellParams(first),
      series: seriesName(first),
      method: first.method,
      sparsity: first.sparsity,
      globalSparsity: stat(done.map((r) => r.globalSparsity!)),
      metrics,
      runs: {
        total: indices.length,
        completed: count('completed'),
        failed: count('failed'),
        running: count('running'),
      },
      dense: first.method === 'none' || first.sparsity === 0,
      pareto: [],
    };
  });
  for (const metric of METRIC_ORDER) markParetoFront(cells, metric);

  const task = loaded.runs.find((r) => r !== undefined)?.task ?? null;
  const metricsAvailable = METRIC_ORDER.filter((m) => metricsSeen.has(m));
  const preferred: SweepMetric = task === 'ctr' ? 'auc' : 'accuracy';
  const counts: Record<SweepRunStatus, number> = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const r of runs) counts[r.status]++;
  return {
    sweepDir: dir,
    name: info.name,
    status: info.status,
    grid: info.grid,
    executor: info.executor.kind,
    task,
    metric: metricsAvailable.includes(preferred) ? preferred : (metricsAvailable[0] ?? preferred),
    metricsAvailable,
    cells,
    runs,
    counts,
  };
}

/** Marks the cells on the Pareto front of target sparsity (higher is better) against `metric`'s mean. */
export function markParetoFront(cells: SweepCell[], metric: SweepMetric): void {
  const sign = higherIsBetter(metric) ? 1 : -1;
  const scored = cells.filter((c) => c.metrics[metric] !== undefined);
  for (const cell of scored) {
    const value = sign * cell.metrics[metric]!.mean;
    const dominated = scored.some((other) => {
      const v = sign * other.metrics[metric]!.mean;
      return other.sparsity >= cell.sparsity && v >= value && (other.sparsity > cell.sparsity || v > value);
    });
    if (!dominated) cell.pareto.push(metric);
  }
}

/** A metric's value as tables show it: accuracy as a percentage, the rest to 4 places. */
export function formatMetric(metric: SweepMetric, value: number): string {
  return metric === 'accuracy' ? `${(100 * value).toFixed(2)}%` : value.toFixed(4);
}

/** `87.61% ± 0.42` (sd in the metric's unit; no ± for a single run). */
export function formatStat(metric: SweepMetric, s: SweepStat | null | undefined): string {
  if (!s) return '-';
  const sd = s.sd === null ? '' : ` ± ${metric === 'accuracy' ? (100 * s.sd).toFixed(2) : s.sd.toFixed(4)}`;
  return `${formatMetric(metric, s.mean)}${sd}`;
}

/** A swept value in a table: strings bare (`sapp`), the rest as JSON (`[8,8]`), `-` when absent. */
export function showValue(value: SweepValue | undefined): string {
  if (value === undefined) return '-';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The cells as a table: the swept values, n, and mean ± sd of each metric and of the achieved sparsity. */
export function sweepTable(summary: SweepSummary): { columns: string[]; rows: string[][] } {
  const axes = summary.grid.map((a) => a.path).filter((p) => p !== SEED_PATH);
  const metrics = summary.metricsAvailable.filter((m) => m !== 'loss');
  const columns = [...axes, 'n', ...metrics, 'global_sparsity', 'failed'];
  const rows = summary.cells.map((cell) => [
    ...axes.map((p) => showValue(cell.params[p])),
    `${cell.runs.completed}/${cell.runs.total}`,
    ...metrics.map((m) => formatStat(m, cell.metrics[m])),
    cell.globalSparsity ? `${(100 * cell.globalSparsity.mean).toFixed(1)}%` : '-',
    String(cell.runs.failed),
  ]);
  return { columns, rows };
}
