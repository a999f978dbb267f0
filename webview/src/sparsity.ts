/**
 * Sparsity panel: global and per-layer sparsity against the schedule's target, loss, accuracy
 * (or log-loss for CTR) at each evaluation, and step time, with the schedule's phases as shaded
 * bands; a CSV export of the step events and a PNG export of the sparsity chart.
 */
import type { EvalEvent, HostToWebview, PhaseEvent, RunEvent, RunInfo, StepEvent } from '@protocol';
import {
  applyChartTheme,
  backgroundPlugin,
  line,
  makeCard,
  phaseBandsPlugin,
  points,
  redraw,
  type ChartCard,
} from './charts';
import { el } from './dom';
import { connectToHost, exportButtons } from './host';
import { ensureStylesheet, readTheme, type Theme } from './theme';
import { vscodeApi } from './vscodeApi';
import './dashboard.css';

const api = vscodeApi<Record<string, never>>();
let info: RunInfo | undefined;
let stepEvents: StepEvent[] = [];
let evalEvents: EvalEvent[] = [];
let phases: PhaseEvent[] = [];
let theme: Theme = readTheme();

ensureStylesheet();
const plugins = [
  backgroundPlugin(() => theme),
  phaseBandsPlugin(
    () => phases,
    () => theme,
  ),
];

const header = el('h1', { text: 'Sparsity' });
const summary = el('div', { className: 'status', text: 'Waiting for the run…' });
const [csvButton, pngButton] = exportButtons(
  api,
  { csv: 'Save the step metrics as CSV', png: 'Save the sparsity chart as PNG' },
  () => ({ name: `${info?.id ?? 'run'}-metrics.csv`, csv: toCsv() }),
  () => ({ name: `${info?.id ?? 'run'}-sparsity.png`, canvas: cards.sparsity.canvas }),
);
const grid = el('div', { className: 'charts' });
document.body.append(el('header', { className: 'toolbar' }, header, csvButton, pngButton), summary, grid);

const cards: Record<'sparsity' | 'loss' | 'quality' | 'time', ChartCard> = {
  sparsity: makeCard(grid, 'sparsity', 'Sparsity vs schedule', 'fraction of blocks', true, plugins),
  loss: makeCard(grid, 'loss', 'Training loss', 'loss', false, plugins),
  quality: makeCard(grid, 'quality', 'Accuracy', 'accuracy', false, plugins),
  time: makeCard(grid, 'time', 'Step time', 'ms', false, plugins),
};

function layerNames(): string[] {
  const names = new Set<string>();
  for (const e of stepEvents) for (const n of Object.keys(e.layerSparsity)) names.add(n);
  return [...names];
}

/**
 * Live events redraw at most every 2 s: redrawing four charts per event batch (8 a second) kept
 * the renderer busy enough to delay every other panel's messages by seconds in code-server, and on
 * a 2-core machine the panels' CPU is partly taken from training (bench/sessions.bench.ts measures
 * how much).
 */
const LIVE_REDRAW_MS = 2000;
let lastRender = 0;
let renderTimer: ReturnType<typeof setTimeout> | undefined;

function renderSoon(): void {
  if (renderTimer !== undefined) return;
  const wait = Math.max(0, lastRender + LIVE_REDRAW_MS - performance.now());
  renderTimer = setTimeout(() => {
    renderTimer = undefined;
    render();
  }, wait);
}

function render(): void {
  lastRender = performance.now();
  clearTimeout(renderTimer);
  renderTimer = undefined;
  applyChartTheme(theme);
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
  cards.quality.heading.textContent = ctr ? 'Log-loss' : 'Accuracy';
  cards.time.chart.data.datasets = [
    line(
      'step time',
      points(stepEvents, step, (e) => e.stepMs),
      s[1]!,
    ),
  ];
  redraw(Object.values(cards), info?.totalSteps);
  const last = stepEvents.at(-1);
  // A live run's record is as old as the panel; its step events say how far it has got since.
  const reached = Math.max(info?.step ?? 0, last ? last.step + 1 : 0);
  summary.textContent = info
    ? `${info.name} · ${info.method} · ${info.status} · step ${reached}/${info.totalSteps}` +
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

function onTheme(): void {
  theme = readTheme();
  render();
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
      renderSoon();
      break;
    case 'snapshot':
    case 'schedule':
    case 'compare':
      break;
    case 'theme':
      onTheme();
      break;
    default: {
      const unexpected: never = message;
      console.warn('sparsity panel: unknown message', unexpected);
    }
  }
}

render();
connectToHost(api, handle, onTheme);
