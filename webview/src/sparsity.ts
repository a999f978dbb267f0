/**
 * Sparsity panel: global and per-layer sparsity against the schedule's target, loss, accuracy
 * (or log-loss for CTR) at each evaluation, and step time, with the schedule's phases as shaded
 * bands; a CSV export of the step events and a PNG export of the sparsity chart.
 */
import {
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDataset,
  type Plugin,
} from 'chart.js';
import type { EvalEvent, HostToWebview, PhaseEvent, RunEvent, RunInfo, StepEvent } from '@protocol';
import { decimate } from './decimate';
import { el } from './dom';
import { ensureStylesheet, readTheme, watchTheme, type Theme } from './theme';
import { vscodeApi } from './vscodeApi';
import './dashboard.css';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Legend, Filler);

type Point = { x: number; y: number };

const api = vscodeApi<Record<string, never>>();
let info: RunInfo | undefined;
let stepEvents: StepEvent[] = [];
let evalEvents: EvalEvent[] = [];
let phases: PhaseEvent[] = [];
let theme: Theme = readTheme();

ensureStylesheet();

/** Shades each sparsify and sparse phase across the chart area (dense phases stay clear). */
const phaseBands: Plugin<'line'> = {
  id: 'phaseBands',
  beforeDatasetsDraw(chart) {
    const { ctx, chartArea, scales } = chart;
    const x = scales.x;
    if (!x || !chartArea) return;
    ctx.save();
    for (const p of phases) {
      if (p.kind === 'dense') continue;
      const x0 = Math.max(chartArea.left, x.getPixelForValue(p.startStep));
      const x1 = Math.min(chartArea.right, x.getPixelForValue(p.endStep));
      if (x1 <= x0) continue;
      ctx.fillStyle = p.kind === 'sparsify' ? theme.sparsifyBand : theme.sparseBand;
      ctx.fillRect(x0, chartArea.top, x1 - x0, chartArea.bottom - chartArea.top);
    }
    ctx.restore();
  },
};

/** Paints the theme's background, so exported PNGs and pixels read the same as the panel. */
const background: Plugin<'line'> = {
  id: 'themeBackground',
  beforeDraw(chart) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.globalCompositeOperation = 'destination-over';
    ctx.fillStyle = theme.background;
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
  afterDraw(chart) {
    // Where the plot sits inside the canvas, in canvas pixels (read by the pixel tests).
    const { left, top, right, bottom } = chart.chartArea;
    const r = chart.currentDevicePixelRatio;
    chart.canvas.dataset.area = [left, top, right, bottom].map((v) => Math.round(v * r)).join(',');
  },
};

interface ChartCard {
  id: string;
  title: string;
  chart: Chart<'line', Point[]>;
  canvas: HTMLCanvasElement;
  yLabel: string;
}

const header = el('h1', { text: 'Sparsity' });
const summary = el('div', { className: 'status', text: 'Waiting for the run…' });
const csvButton = el('button', { text: 'Export CSV', title: 'Save the step metrics as CSV' });
const pngButton = el('button', { text: 'Save PNG', title: 'Save the sparsity chart as PNG' });
const grid = el('div', { className: 'charts' });
document.body.append(el('header', { className: 'toolbar' }, header, csvButton, pngButton), summary, grid);

function makeCard(id: string, title: string, yLabel: string, percent: boolean): ChartCard {
  const canvas = el('canvas');
  canvas.id = `chart-${id}`;
  grid.append(
    el('section', { className: 'card' }, el('h2', { text: title }), el('div', { className: 'chart-box' }, canvas)),
  );
  const chart = new Chart<'line', Point[]>(canvas, {
    type: 'line',
    data: { datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      elements: { point: { radius: 0, hitRadius: 4 }, line: { borderWidth: 2 } },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'step' } },
        y: {
          type: 'linear',
          title: { display: true, text: yLabel },
          ...(percent ? { min: 0, max: 1, ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` } } : {}),
        },
      },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    },
    plugins: [background, phaseBands],
  });
  return { id, title, chart, canvas, yLabel };
}

const cards = {
  sparsity: makeCard('sparsity', 'Sparsity vs schedule', 'fraction of blocks', true),
  loss: makeCard('loss', 'Training loss', 'loss', false),
  quality: makeCard('quality', 'Accuracy', 'accuracy', false),
  time: makeCard('time', 'Step time', 'ms', false),
};

function points<T>(events: T[], x: (e: T) => number, y: (e: T) => number | undefined): Point[] {
  const out: Point[] = [];
  for (const e of events) {
    const v = y(e);
    if (v !== undefined && Number.isFinite(v)) out.push({ x: x(e), y: v });
  }
  return decimate(out, (p) => p.y);
}

function line(label: string, data: Point[], color: string, extra: Partial<ChartDataset<'line', Point[]>> = {}) {
  return { label, data, borderColor: color, backgroundColor: color, ...extra } as ChartDataset<'line', Point[]>;
}

function layerNames(): string[] {
  const names = new Set<string>();
  for (const e of stepEvents) for (const n of Object.keys(e.layerSparsity)) names.add(n);
  return [...names];
}

function applyTheme(): void {
  Chart.defaults.color = theme.foreground;
  Chart.defaults.borderColor = theme.grid;
  Chart.defaults.font.family = theme.fontFamily;
  Chart.defaults.font.size = theme.fontSize;
}

function render(): void {
  applyTheme();
  const s = theme.series;
  const step = (e: StepEvent) => e.step;
  const layerLines = layerNames().map((name, i) =>
    line(
      `layer ${name}`,
      points(stepEvents, step, (e) => e.layerSparsity[name]),
      s[(i + 2) % s.length]!,
    ),
  );
  cards.sparsity.chart.data.datasets = [
    line(
      'global',
      points(stepEvents, step, (e) => e.globalSparsity),
      s[0]!,
    ),
    ...layerLines,
    line(
      'target',
      points(stepEvents, step, (e) => e.targetSparsity),
      theme.target,
      { borderDash: [6, 4], borderWidth: 1.5 },
    ),
  ];
  cards.loss.chart.data.datasets = [
    line(
      'loss',
      points(stepEvents, step, (e) => e.loss),
      s[0]!,
    ),
  ];
  const ctr = info?.task === 'ctr' || evalEvents.some((e) => e.metrics.log_loss !== undefined);
  const metric = ctr ? 'log_loss' : 'accuracy';
  cards.quality.chart.data.datasets = [
    line(
      ctr ? 'eval log-loss' : 'eval accuracy',
      points(
        evalEvents,
        (e) => e.step,
        (e) => e.metrics[metric],
      ),
      s[2]!,
      { pointRadius: 3 },
    ),
    line(
      'eval loss',
      points(
        evalEvents,
        (e) => e.step,
        (e) => (ctr ? undefined : e.metrics.loss),
      ),
      s[3]!,
      { pointRadius: 3, hidden: true },
    ),
  ];
  cards.quality.canvas.parentElement!.previousElementSibling!.textContent = ctr ? 'Log-loss' : 'Accuracy';
  cards.time.chart.data.datasets = [
    line(
      'step time',
      points(stepEvents, step, (e) => e.stepMs),
      s[1]!,
    ),
  ];
  const total = info?.totalSteps;
  for (const card of Object.values(cards)) {
    const x = card.chart.options.scales?.x;
    if (x) {
      x.min = 0;
      if (total !== undefined) x.max = total;
    }
    card.chart.update('none');
  }
  const last = stepEvents.at(-1);
  summary.textContent = info
    ? `${info.name} · ${info.method} · ${info.status} · step ${info.step}/${info.totalSteps}` +
      (last ? ` · global sparsity ${(100 * last.globalSparsity).toFixed(1)}%` : '')
    : 'Waiting for the run…';
}

function add(events: RunEvent[]): void {
  for (const e of events) {
    switch (e.type) {
      case 'step':
        stepEvents.push(e);
        break;
      case 'eval':
        evalEvents.push(e);
        break;
      case 'phase':
        if (!phases.some((p) => p.index === e.index)) phases.push(e);
        break;
      case 'status':
        if (info && e.status !== 'resumed') info = { ...info, status: e.status };
        break;
      case 'snapshot':
        break;
    }
  }
}

function csvCell(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '' : String(value);
}

export function toCsv(): string {
  const names = layerNames();
  const evalAt = new Map(evalEvents.map((e) => [e.step, e.metrics]));
  const head = [
    'step',
    'phase',
    'loss',
    'learning_rate',
    'target_sparsity',
    'global_sparsity',
    ...names.map((n) => `sparsity_${n}`),
    'step_ms',
    'eval_loss',
    'eval_accuracy',
    'eval_log_loss',
  ];
  const rows = stepEvents.map((e) => {
    const m = evalAt.get(e.step);
    return [
      String(e.step),
      String(e.phase),
      csvCell(e.loss),
      csvCell(e.learningRate),
      csvCell(e.targetSparsity),
      csvCell(e.globalSparsity),
      ...names.map((n) => csvCell(e.layerSparsity[n])),
      csvCell(e.stepMs),
      csvCell(m?.loss),
      csvCell(m?.accuracy),
      csvCell(m?.log_loss),
    ].join(',');
  });
  return [head.join(','), ...rows].join('\n') + '\n';
}

function handle(message: HostToWebview): void {
  switch (message.type) {
    case 'run':
      info = message.info;
      stepEvents = [];
      evalEvents = [];
      phases = [];
      add(message.events);
      render();
      break;
    case 'events':
      add(message.events);
      render();
      break;
    case 'snapshot':
      break;
    case 'theme':
      theme = readTheme();
      render();
      break;
    default: {
      const unexpected: never = message;
      console.warn('sparsity panel: unknown message', unexpected);
    }
  }
}

csvButton.addEventListener('click', () => {
  api.postMessage({ type: 'exportCsv', name: `${info?.id ?? 'run'}-metrics.csv`, csv: toCsv() });
});
pngButton.addEventListener('click', () => {
  api.postMessage({
    type: 'exportPng',
    name: `${info?.id ?? 'run'}-sparsity.png`,
    dataUrl: cards.sparsity.canvas.toDataURL('image/png'),
  });
});
watchTheme(() => {
  theme = readTheme();
  render();
});
window.addEventListener('message', (event: MessageEvent<HostToWebview>) => handle(event.data));
render();
api.postMessage({ type: 'ready' });
