/**
 * Schedule panel: what an experiment file will do before it runs — the target sparsity and the
 * learning rate along the steps with the phases as bands, the phase table and the kept blocks per
 * layer. The host re-sends the schedule as the file is edited; while the file has errors the last
 * schedule stays drawn under the error. The view only: what it shows comes from `ScheduleState`.
 */
import type { ScheduleHostMessage, SchedulePanelMessage } from '@protocol';
import { backgroundPlugin, drawCards, makeCard, phaseBandsPlugin, type ChartCard } from './charts';
import { el } from './dom';
import { connectToHost, exportButtons } from './host';
import {
  constantLearningRate,
  layerTable,
  phaseTable,
  scheduleCsv,
  scheduleAxes,
  scheduleLines,
  ScheduleState,
  scheduleSummary,
  type ScheduleChart,
  type TextTable,
} from './state/scheduleState';
import { ensureStylesheet, PanelTheme } from './theme';
import { vscodeApi } from './vscodeApi';
import './dashboard.css';

const api = vscodeApi<Record<string, never>, SchedulePanelMessage>();
const state = new ScheduleState();
const theme = new PanelTheme();

ensureStylesheet();
const plugins = [
  backgroundPlugin(() => theme.current),
  phaseBandsPlugin(
    () => state.preview?.phases ?? [],
    () => theme.current,
  ),
];

const [csvButton, pngButton] = exportButtons(
  api,
  { csv: 'Save the sampled schedule as CSV', png: 'Save the target sparsity chart as PNG' },
  () => (state.preview ? { name: state.fileName('schedule.csv'), csv: scheduleCsv(state.preview) } : undefined),
  () => ({ name: state.fileName('schedule.png'), canvas: cards.sparsity.canvas }),
);
const summary = el('div', { className: 'status', text: 'Waiting for the schedule…' });
const problem = el('div', { className: 'problem' });
problem.hidden = true;
const grid = el('div', { className: 'charts' });
const phaseTableEl = el('table', { className: 'data' });
phaseTableEl.id = 'phases';
const layerTableEl = el('table', { className: 'data' });
layerTableEl.id = 'layers';
document.body.append(
  el('header', { className: 'toolbar' }, el('h1', { text: 'Schedule' }), csvButton, pngButton),
  summary,
  problem,
  grid,
  el(
    'div',
    { className: 'tables' },
    el('section', {}, el('h2', { text: 'Phases' }), phaseTableEl),
    el('section', {}, el('h2', { text: 'Layers' }), layerTableEl),
  ),
);

const cards: Record<ScheduleChart, ChartCard> = {
  sparsity: makeCard(grid, 'target', 'Target sparsity', 'fraction of blocks', true, plugins),
  lr: makeCard(grid, 'lr', 'Learning rate', 'learning rate', false, plugins),
};

function fillTable(table: HTMLTableElement, { head, rows }: TextTable): void {
  table.replaceChildren(
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { text: h })))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', { text: c }))))),
  );
}

function render(): void {
  const p = state.preview;
  problem.hidden = state.error === undefined;
  problem.textContent = state.error ?? '';
  if (!p) {
    drawCards(cards, undefined, theme.current);
    return;
  }
  // A constant learning rate is a number in the summary, not a flat line over half the panel.
  cards.lr.section.hidden = constantLearningRate(p) !== undefined;
  drawCards(cards, scheduleLines(p), theme.current, { maxStep: p.totalSteps, axes: scheduleAxes(), phases: p.phases });
  summary.textContent = scheduleSummary(p);
  fillTable(phaseTableEl, phaseTable(p));
  fillTable(layerTableEl, layerTable(p));
}

function onTheme(): void {
  theme.reread();
  render();
}

function handle(message: ScheduleHostMessage): void {
  switch (message.type) {
    case 'schedule':
      state.receive(message);
      render();
      break;
    case 'theme':
      onTheme();
      break;
    default: {
      const unexpected: never = message;
      console.warn('schedule panel: unknown message', unexpected);
    }
  }
}

render();
connectToHost(api, handle, onTheme);
