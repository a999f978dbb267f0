/**
 * A self-contained HTML report of a sweep (`sparsity-studio report SWEEP_DIR`): the metric against
 * sparsity with one line per series and mean ± sd error bars, the Pareto front ringed, the dense
 * baseline as a dashed line, then the table of cells and the list of runs. Inline SVG, no scripts.
 */
import { relative } from 'node:path';
import type { SweepCell, SweepMetric, SweepSummary } from '@protocol';
import { esc, REPORT_CSP } from './htmlReport';
import { formatMetric, formatStat, higherIsBetter, showValue, sweepTable } from './sweepSummary';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

const METRIC_LABELS: Record<SweepMetric, string> = {
  accuracy: 'accuracy',
  auc: 'AUC',
  log_loss: 'log-loss',
  support_precision: 'support precision@k',
  support_precision_chance: 'chance precision@k',
  loss: 'loss',
};

function chart(summary: SweepSummary, metric: SweepMetric): string {
  const w = 720;
  const h = 340;
  const m = { l: 64, r: 16, t: 28, b: 44 };
  const cells = summary.cells.filter((c) => c.metrics[metric] !== undefined);
  if (cells.length === 0) return '<p>No completed run reported this metric yet.</p>';
  const lows = cells.map((c) => c.metrics[metric]!.mean - (c.metrics[metric]!.sd ?? 0));
  const highs = cells.map((c) => c.metrics[metric]!.mean + (c.metrics[metric]!.sd ?? 0));
  let lo = Math.min(...lows);
  let hi = Math.max(...highs);
  const pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.05 || 0.05;
  lo -= pad;
  hi += pad;
  // Sparsity is a fraction in [0, 1): the whole range keeps the curve's shape honest.
  const x0 = 0;
  const x1 = 1;
  const x = (v: number) => m.l + ((w - m.l - m.r) * (v - x0)) / (x1 - x0);
  const y = (v: number) => m.t + (h - m.t - m.b) * (1 - (v - lo) / (hi - lo));
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    parts.push(
      `<line x1="${m.l}" x2="${w - m.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/><text x="${m.l - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="10" text-anchor="end">${esc(formatMetric(metric, v))}</text>`,
    );
    const s = x0 + ((x1 - x0) * i) / 4;
    parts.push(
      `<text x="${x(s).toFixed(1)}" y="${h - m.b + 16}" font-size="10" text-anchor="middle">${(100 * s).toFixed(0)}%</text>`,
    );
  }
  parts.push(
    `<line x1="${m.l}" y1="${h - m.b}" x2="${w - m.r}" y2="${h - m.b}" stroke="#888"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${h - m.b}" stroke="#888"/>`,
    `<text x="${(m.l + w - m.r) / 2}" y="${h - 8}" font-size="11" text-anchor="middle">target sparsity (fraction of blocks removed per pruned layer)</text>`,
  );
  const dense = cells.filter((c) => c.dense);
  for (const d of dense) {
    const v = d.metrics[metric]!.mean;
    parts.push(
      `<line x1="${m.l}" x2="${w - m.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#555" stroke-dasharray="6 4"><title>dense baseline ${esc(d.series)}: ${esc(formatStat(metric, d.metrics[metric]))}</title></line>`,
    );
  }
  const series = [...new Set(cells.filter((c) => !c.dense).map((c) => c.series))];
  const legend: string[] = [];
  series.forEach((name, i) => {
    const color = COLORS[i % COLORS.length]!;
    const points = cells.filter((c) => !c.dense && c.series === name).sort((a, b) => a.sparsity - b.sparsity);
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points.map((c) => `${x(c.sparsity).toFixed(1)},${y(c.metrics[metric]!.mean).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const c of points) parts.push(point(c, metric, color, x, y));
    legend.push(`<tspan fill="${color}">■ ${esc(name)}</tspan>`);
  });
  for (const d of dense) parts.push(point(d, metric, '#555', x, y));
  if (dense.length > 0) legend.push('<tspan fill="#555">- - dense baseline</tspan>');
  legend.push('<tspan fill="#222">◯ Pareto front</tspan>');
  parts.push(`<text x="${m.l}" y="16" font-size="12">${legend.join('<tspan>   </tspan>')}</text>`);
  const title = `${METRIC_LABELS[metric]} (${higherIsBetter(metric) ? 'higher' : 'lower'} is better) against sparsity, mean ± sd over seeds`;
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg></figure>`;
}

function point(
  cell: SweepCell,
  metric: SweepMetric,
  color: string,
  x: (v: number) => number,
  y: (v: number) => number,
): string {
  const s = cell.metrics[metric]!;
  const cx = x(cell.sparsity).toFixed(1);
  const bar =
    s.sd !== null
      ? `<line x1="${cx}" x2="${cx}" y1="${y(s.mean - s.sd).toFixed(1)}" y2="${y(s.mean + s.sd).toFixed(1)}" stroke="${color}"/>`
      : '';
  const ring = cell.pareto.includes(metric)
    ? `<circle cx="${cx}" cy="${y(s.mean).toFixed(1)}" r="7" fill="none" stroke="#222" stroke-width="1.2"/>`
    : '';
  return `${bar}<circle cx="${cx}" cy="${y(s.mean).toFixed(1)}" r="3.5" fill="${color}"><title>${esc(cell.series)}, sparsity ${(100 * cell.sparsity).toFixed(1)}%: ${esc(formatStat(metric, s))} (n=${s.n})</title></circle>${ring}`;
}

export function renderSweepReport(summary: SweepSummary): string {
  const metrics = summary.metricsAvailable.filter((m) => m !== 'loss');
  const shown: SweepMetric[] = metrics.length > 0 ? metrics : [summary.metric];
  const charts = shown.map((m) => chart(summary, m)).join('');
  const table = sweepTable(summary);
  const head = (cells: string[]) => `<tr>${cells.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
  const row = (cells: string[]) => `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
  const axes = summary.grid.map((a) => a.path);
  const runRows = summary.runs.map((r) => {
    const dir = relative(summary.sweepDir, r.runDir);
    const log = relative(summary.sweepDir, r.log);
    const value = r.metrics?.[summary.metric];
    return `<tr><td><a href="${esc(dir)}/report.html">${esc(dir)}</a></td>${axes.map((p) => `<td>${esc(showValue(r.params[p]))}</td>`).join('')}<td>${esc(r.status)}</td><td>${value !== undefined ? esc(formatMetric(summary.metric, value)) : '-'}</td><td>${r.globalSparsity !== undefined ? `${(100 * r.globalSparsity).toFixed(1)}%` : '-'}</td><td>${esc(r.error ?? '')}</td><td><a href="${esc(log)}">log</a></td></tr>`;
  });
  const c = summary.counts;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(summary.name)} sweep · Sparsity Studio report</title>
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:1100px;color:#222}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}</style>
</head><body>
<h1>${esc(summary.name)} <small>sweep (${esc(summary.sweepDir.split('/').pop() ?? '')})</small></h1>
<p>${summary.runs.length} runs on the ${esc(summary.executor)} executor: ${c.completed} completed, ${c.failed} failed, ${c.cancelled} cancelled, ${c.running} running, ${c.pending} not started. Grid: ${summary.grid.map((a) => `<code>${esc(a.path)}</code> × ${a.values.length}`).join(', ')}.</p>
<h2>Accuracy–sparsity</h2>${charts}
<h2>Cells (mean ± sd over seeds)</h2><table>${head(table.columns)}${table.rows.map(row).join('')}</table>
<h2>Runs</h2><table>${head(['run', ...axes, 'status', summary.metric, 'global sparsity', 'error', 'log'])}${runRows.join('')}</table>
</body></html>
`;
}
