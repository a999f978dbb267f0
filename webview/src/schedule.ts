/**
 * Schedule panel: what an experiment file will do before it runs — the target sparsity and the
 * learning rate along the steps with the phases as bands, the phase table and the kept blocks per
 * layer. The host re-sends the schedule as the file is edited; while the file has errors the last
 * schedule stays drawn under the error.
 */
import type { HostToWebview, SchedulePreviewResult } from '@protocol';
import {
  applyChartTheme,
  backgroundPlugin,
  csvField,
  line,
  makeCard,
  phaseBandsPlugin,
  redraw,
  type Point,
} from './charts';
import { el } from './dom';
import { connectToHost, exportButtons } from './host';
import { ensureStylesheet, readTheme, type Theme } from './theme';
import { vscodeApi } from './vscodeApi';
import './dashboard.css';

const api = vscodeApi<Record<string, never>>();
let preview: SchedulePreviewResult | undefined;
let theme: Theme = readTheme();

ensureStylesheet();
const plugins = [
  backgroundPlugin(() => theme),
  phaseBandsPlugin(
    () => preview?.phases ?? [],
    () => theme,
  ),
];

const fileName = (suffix: string) => `${(preview?.name ?? 'experiment').replace(/[^\w.-]/g, '_')}-${suffix}`;
const [csvButton, pngButton] = exportButtons(
  api,
  { csv: 'Save the sampled schedule as CSV', png: 'Save the target sparsity chart as PNG' },
  () => (preview ? { name: fileName('schedule.csv'), csv: toCsv(preview) } : undefined),
  () => ({ name: fileName('schedule.png'), canvas: cards.sparsity.canvas }),
);
const summary = el('div', { className: 'status', text: 'Waiting for the schedule…' });
const problem = el('div', { className: 'problem' });
problem.hidden = true;
const grid = el('div', { className: 'charts' });
const phaseTable = el('table', { className: 'data' });
phaseTable.id = 'phases';
const layerTable = el('table', { className: 'data' });
layerTable.id = 'layers';
document.body.append(
  el('header', { className: 'toolbar' }, el('h1', { text: 'Schedule' }), csvButton, pngButton),
  summary,
  problem,
  grid,
  el(
    'div',
    { className: 'tables' },
    el('section', {}, el('h2', { text: 'Phases' }), phaseTable),
    el('section', {}, el('h2', { text: 'Layers' }), layerTable),
  ),
);

const cards = {
  sparsity: makeCard(grid, 'target', 'Target sparsity', 'fraction of blocks', true, plugins),
  lr: makeCard(grid, 'lr', 'Learning rate', 'learning rate', false, plugins),
};

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The sampled value at the first sample at or after `step` (samples include every phase's ends). */
function valueAt(p: SchedulePreviewResult, values: number[], step: number): number {
  const i = p.steps.findIndex((s) => s >= step);
  return values[i < 0 ? values.length - 1 : i] ?? 0;
}

function fillTable(table: HTMLTableElement, head: string[], rows: string[][]): void {
  table.replaceChildren(
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { text: h })))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', { text: c }))))),
  );
}

function render(): void {
  applyChartTheme(theme);
  if (!preview) {
    redraw(Object.values(cards));
    return;
  }
  const p = preview;
  const series = (values: number[]): Point[] => p.steps.map((x, i) => ({ x, y: values[i] ?? 0 }));
  cards.sparsity.chart.data.datasets = [line('target sparsity', series(p.targetSparsity), theme.series[0]!)];
  cards.lr.chart.data.datasets = [line('learning rate', series(p.learningRate), theme.series[1]!)];
  redraw(Object.values(cards), p.totalSteps);

  const pruned = p.layers.filter((l) => l.pruned);
  const blocks = pruned.reduce((n, l) => n + l.blocks, 0);
  const kept = pruned.reduce((n, l) => n + l.keptBlocks, 0);
  summary.textContent =
    `${p.name} · ${p.method} · ${p.totalSteps} steps · ${p.phases.length} phases` +
    (blocks > 0 ? ` · ${kept}/${blocks} blocks kept at the end (${pct(1 - kept / blocks)} sparse)` : '');
  fillTable(
    phaseTable,
    ['#', 'phase', 'kind', 'steps', 'target at start', 'target at end'],
    p.phases.map((ph) => [
      String(ph.index),
      ph.label,
      ph.kind,
      `${ph.startStep}–${ph.endStep - 1}`,
      pct(valueAt(p, p.targetSparsity, ph.startStep)),
      pct(valueAt(p, p.targetSparsity, Math.max(ph.startStep, ph.endStep - 1))),
    ]),
  );
  fillTable(
    layerTable,
    ['layer', 'blocks', 'kept at the end'],
    p.layers.map((l) => [l.name, String(l.blocks), l.pruned ? String(l.keptBlocks) : `${l.blocks} (not pruned)`]),
  );
}

function toCsv(p: SchedulePreviewResult): string {
  const phaseOf = (step: number) => p.phases.find((ph) => step >= ph.startStep && step < ph.endStep);
  const rows = p.steps.map((s, i) =>
    [String(s), csvField(phaseOf(s)?.label ?? ''), String(p.targetSparsity[i]), String(p.learningRate[i])].join(','),
  );
  return ['step,phase,target_sparsity,learning_rate', ...rows].join('\n') + '\n';
}

function onTheme(): void {
  theme = readTheme();
  render();
}

function handle(message: HostToWebview): void {
  switch (message.type) {
    case 'schedule':
      if (message.preview) preview = message.preview;
      problem.hidden = message.error === undefined;
      problem.textContent = message.error ?? '';
      render();
      break;
    case 'theme':
      onTheme();
      break;
    case 'run':
    case 'events':
    case 'snapshot':
    case 'compare':
      break;
    default: {
      const unexpected: never = message;
      console.warn('schedule panel: unknown message', unexpected);
    }
  }
}

render();
connectToHost(api, handle, onTheme);
