/**
 * Sweep panel: the evaluation metric (accuracy, or AUC/log-loss for CTR; a picker for the others)
 * against sparsity, one line per method (and other swept values), mean ± sd over seeds as error
 * bars, the Pareto front ringed and joined, the dense baseline as a dashed line, then the table of
 * every cell. Live while the sweep runs (the host re-sends the summary at most once a second).
 * The view only: what it shows comes from `SweepState`.
 */
import { Chart, type ChartDataset, type Plugin } from 'chart.js';
import type { SweepHostMessage, SweepMetric, SweepPanelMessage } from '@protocol';
import { applyChartTheme, backgroundPlugin, fillLegend, type ChartCard } from './charts';
import { el } from './dom';
import { connectToHost, exportButtons } from './host';
import type { SeriesLine } from './state/series';
import { METRIC_LABELS, formatStat, SweepState, type SweepSeries } from './state/sweepState';
import { ensureStylesheet, PanelTheme } from './theme';
import { vscodeApi } from './vscodeApi';
import './dashboard.css';

interface SavedState {
  metric?: SweepMetric;
}

const api = vscodeApi<SavedState, SweepPanelMessage>();
const state = new SweepState(api.getState().metric);
const theme = new PanelTheme();
ensureStylesheet();

type XY = { x: number; y: number };
/** What each dataset draws: a series (with error bars), the Pareto front, or a baseline. */
let drawn: ({ kind: 'series'; series: SweepSeries } | { kind: 'front' } | { kind: 'baseline'; label: string })[] = [];

const heading = el('h1', { text: 'Sweep' });
const picker = el('select', { title: 'The metric on the y axis' });
picker.id = 'metric';
picker.addEventListener('change', () => {
  state.pick(picker.value as SweepMetric);
  api.setState({ metric: state.metric });
  render();
});
const [csvButton, pngButton] = exportButtons(
  api,
  { csv: 'Save every cell (mean, sd and n of each metric) as CSV', png: 'Save the chart as PNG' },
  () => (state.summary ? { name: state.fileName('cells.csv'), csv: state.csv() } : undefined),
  () => ({ name: state.fileName(`${state.metric}.png`), canvas }),
);
const status = el('div', { className: 'status', text: state.statusLine() });
const chartTitle = el('h2', { text: '' });
const canvas = el('canvas');
canvas.id = 'chart-sweep';
const cellsTable = el('table', { className: 'data' });
cellsTable.id = 'cells';
const legend = el('div', { className: 'legend-list' });
legend.setAttribute('role', 'list');
legend.setAttribute('aria-label', 'sweep chart: legend');
const chartSection = el(
  'section',
  { className: 'card' },
  chartTitle,
  el('div', { className: 'chart-box tall' }, canvas),
  legend,
);
document.body.append(
  el('header', { className: 'toolbar' }, heading, el('label', {}, 'metric ', picker), csvButton, pngButton),
  status,
  chartSection,
  el('section', {}, el('h2', { text: 'Cells (mean ± sd over seeds)' }), cellsTable),
);

/** Mean ± sd as a vertical bar with caps at each series point. */
const errorBars: Plugin<'line'> = {
  id: 'errorBars',
  afterDatasetsDraw(chart) {
    const { ctx, scales } = chart;
    const x = scales.x;
    const y = scales.y;
    if (!x || !y) return;
    ctx.save();
    drawn.forEach((d, i) => {
      if (d.kind !== 'series' || !chart.isDatasetVisible(i)) return;
      ctx.strokeStyle = theme.current.series[d.series.color % theme.current.series.length]!;
      ctx.lineWidth = 1.5;
      for (const p of d.series.points) {
        if (p.sd === null || p.sd === 0) continue;
        const px = x.getPixelForValue(p.x);
        const top = y.getPixelForValue(p.y + p.sd);
        const bottom = y.getPixelForValue(p.y - p.sd);
        ctx.beginPath();
        ctx.moveTo(px, top);
        ctx.lineTo(px, bottom);
        ctx.moveTo(px - 4, top);
        ctx.lineTo(px + 4, top);
        ctx.moveTo(px - 4, bottom);
        ctx.lineTo(px + 4, bottom);
        ctx.stroke();
      }
    });
    ctx.restore();
  },
};

const percent = (v: number | string) => `${Math.round(Number(v) * 100)}%`;

const chart = new Chart<'line', XY[]>(canvas, {
  type: 'line',
  data: { datasets: [] },
  options: {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    parsing: false,
    interaction: { mode: 'nearest', intersect: true },
    datasets: { line: { clip: 8 } },
    scales: {
      x: {
        type: 'linear',
        min: 0,
        max: 1,
        title: { display: true, text: 'target sparsity (fraction of blocks removed per pruned layer)' },
        ticks: { callback: percent },
      },
      y: { type: 'linear', title: { display: true, text: 'accuracy' } },
    },
    plugins: {
      // The legend is HTML under the chart, as on the other panels (it wraps; its entries toggle lines).
      legend: { display: false },
      tooltip: {
        callbacks: {
          label: (item) => {
            const d = drawn[item.datasetIndex];
            if (d?.kind !== 'series') return `${item.dataset.label ?? ''}: ${formatValueOf(item.parsed.y ?? 0)}`;
            const p = d.series.points[item.dataIndex]!;
            const cell = state.summary?.cells[p.cell];
            return `${d.series.label} at ${percent(p.x)}: ${formatStat(state.metric, cell?.metrics[state.metric])} (n=${p.n})${p.pareto ? ', Pareto front' : ''}`;
          },
        },
      },
    },
  },
  plugins: [backgroundPlugin(() => theme.current), errorBars],
});

const formatValueOf = (v: number) => formatStat(state.metric, { mean: v, sd: null, n: 1 });

/** The chart as the shared legend code sees a card (its toggles hide lines by label). */
const card: ChartCard = {
  id: 'sweep',
  chart,
  canvas,
  heading: chartTitle,
  section: chartSection,
  legend,
  hidden: new Set(),
  bands: false,
};
/** The legend's entries, one per dataset: drawn like the lines (baseline and front in the target colour). */
let legendLines: SeriesLine[] = [];

function datasets(): ChartDataset<'line', XY[]>[] {
  const t = theme.current;
  const out: ChartDataset<'line', XY[]>[] = [];
  drawn = [];
  legendLines = [];
  for (const series of state.series()) {
    legendLines.push({ label: series.label, data: [], color: series.color, style: { pointRadius: 3 } });
    const color = t.series[series.color % t.series.length]!;
    out.push({
      label: series.label,
      data: series.points.map((p) => ({ x: p.x, y: p.y })),
      borderColor: color,
      backgroundColor: color,
      borderWidth: 2,
      pointRadius: 4,
      pointHoverRadius: 6,
    });
    drawn.push({ kind: 'series', series });
  }
  const front = state.front();
  if (front.length > 0) {
    legendLines.push({
      label: 'Pareto front',
      data: [],
      color: 'target',
      style: { borderDash: [3, 3], borderWidth: 1 },
    });
    out.push({
      label: 'Pareto front',
      data: front.map((p) => ({ x: p.x, y: p.y })),
      borderColor: t.target,
      backgroundColor: 'transparent',
      borderDash: [3, 3],
      borderWidth: 1,
      pointRadius: 9,
      pointBorderWidth: 1.5,
      pointHoverRadius: 9,
    });
    drawn.push({ kind: 'front' });
  }
  for (const b of state.baselines()) {
    legendLines.push({ label: b.label, data: [], color: 'target', style: { borderDash: [8, 4], borderWidth: 1.5 } });
    out.push({
      label: b.label,
      data: [
        { x: 0, y: b.stat.mean },
        { x: 1, y: b.stat.mean },
      ],
      borderColor: t.target,
      backgroundColor: t.target,
      borderDash: [8, 4],
      borderWidth: 1.5,
      pointRadius: [4, 0],
    });
    drawn.push({ kind: 'baseline', label: b.label });
  }
  return out;
}

/** The y range: every mean ± sd and baseline, padded, so no error bar leaves the plot. */
function yRange(): { min?: number; max?: number } {
  const values = [
    ...state.series().flatMap((s) => s.points.flatMap((p) => [p.y - (p.sd ?? 0), p.y + (p.sd ?? 0)])),
    ...state.baselines().map((b) => b.stat.mean),
  ];
  if (values.length === 0) return {};
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.05 || 0.05;
  return { min: lo - pad, max: hi + pad };
}

function render(): void {
  applyChartTheme(theme.current);
  const metric = state.metric;
  heading.textContent = state.summary ? `Sweep · ${state.summary.name}` : 'Sweep';
  status.textContent = state.statusLine();
  chartTitle.textContent = state.title;
  const metrics = state.metrics;
  if (picker.options.length !== metrics.length || [...picker.options].some((o, i) => o.value !== metrics[i]))
    picker.replaceChildren(
      ...metrics.map((m) => Object.assign(el('option', { text: METRIC_LABELS[m] }), { value: m })),
    );
  picker.value = metric;
  picker.disabled = metrics.length < 2;
  chart.data.datasets = datasets();
  chart.data.datasets.forEach((d, i) => chart.setDatasetVisibility(i, !card.hidden.has(d.label ?? '')));
  fillLegend(card, legendLines, theme.current, []);
  const y = chart.options.scales?.['y'];
  if (y) {
    Object.assign(y, yRange());
    y.title = { display: true, text: METRIC_LABELS[metric] };
    y.ticks = {
      includeBounds: false,
      callback: (v) => (metric === 'accuracy' ? `${(Number(v) * 100).toFixed(1)}%` : Number(v).toFixed(3)),
    };
  }
  chart.update('none');
  // Read by the Chromium tests (as the charts' plot area is): where values land, and how many points.
  canvas.dataset.yrange = `${chart.scales['y']?.min},${chart.scales['y']?.max}`;
  canvas.dataset.points = String(state.pointCount());
  renderTable();
}

function renderTable(): void {
  const { columns, rows, pareto } = state.table();
  cellsTable.replaceChildren(
    el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', { text: c })))),
    el(
      'tbody',
      {},
      ...rows.map((row, r) => {
        const tr = el('tr', {}, ...row.map((cell) => el('td', { text: cell })));
        if (pareto[r]) {
          tr.className = 'pareto';
          tr.title = `on the Pareto front of sparsity and ${state.metric}`;
        }
        return tr;
      }),
    ),
  );
}

function onTheme(): void {
  theme.reread();
  render();
}

function handle(message: SweepHostMessage): void {
  switch (message.type) {
    case 'sweep':
      state.receive(message);
      render();
      break;
    case 'theme':
      onTheme();
      break;
    default: {
      const unexpected: never = message;
      console.warn('sweep panel: unknown message', unexpected);
    }
  }
}

render();
connectToHost(api, handle, onTheme);
