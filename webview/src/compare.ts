/**
 * Compare panel: two or more runs overlaid — global sparsity against each run's target, training
 * loss, the evaluation metric (accuracy, or log-loss for CTR) and step time, one colour per run —
 * then the final-results table (best value per metric marked) and the config keys that differ.
 * The view only: what it shows comes from `CompareState`.
 */
import type { CompareHostMessage, ComparePanelMessage } from '@protocol';
import { runLabel } from '@protocol/runHeadline';
import { backgroundPlugin, drawCards, makeCard, type ChartCard } from './charts';
import { bestRows, compareCsv, CompareState, type CompareChart } from './state/compareState';
import { el } from './dom';
import { connectToHost, exportButtons } from './host';
import { ensureStylesheet, PanelTheme } from './theme';
import { vscodeApi } from './vscodeApi';
import './dashboard.css';

const api = vscodeApi<Record<string, never>, ComparePanelMessage>();
const state = new CompareState();
const theme = new PanelTheme();

ensureStylesheet();
const plugins = [backgroundPlugin(() => theme.current)];

const [csvButton, pngButton] = exportButtons(
  api,
  { csv: 'Save the final-results table as CSV', png: 'Save the sparsity chart as PNG' },
  () => (state.table ? { name: 'comparison.csv', csv: compareCsv(state.table) } : undefined),
  () => ({ name: 'comparison-sparsity.png', canvas: cards.sparsity.canvas }),
);
const summary = el('div', { className: 'status', text: 'Waiting for the runs…' });
const grid = el('div', { className: 'charts' });
const resultsTable = el('table', { className: 'data' });
resultsTable.id = 'results';
const diffTable = el('table', { className: 'data' });
diffTable.id = 'differences';
const sameConfig = el('p', { className: 'status', text: 'The runs have the same config (apart from their names).' });
document.body.append(
  el('header', { className: 'toolbar' }, el('h1', { text: 'Compare runs' }), csvButton, pngButton),
  summary,
  grid,
  el('section', {}, el('h2', { text: 'Final results' }), resultsTable),
  el('section', {}, el('h2', { text: 'Config differences' }), diffTable, sameConfig),
);

const cards: Record<CompareChart, ChartCard> = {
  sparsity: makeCard(
    grid,
    'sparsity',
    'Global sparsity (dashed: each run’s target)',
    'fraction of blocks',
    true,
    plugins,
  ),
  loss: makeCard(grid, 'loss', 'Training loss', 'loss', false, plugins),
  quality: makeCard(grid, 'quality', 'Accuracy', 'accuracy', false, plugins),
  time: makeCard(grid, 'time', 'Step time', 'ms', false, plugins),
};

const colorOf = (i: number) => theme.current.series[i % theme.current.series.length]!;

function render(): void {
  cards.quality.heading.textContent = state.qualityTitle;
  drawCards(cards, state.lines(), theme.current, { maxStep: state.maxStep, axes: state.axes() });
  summary.textContent = state.summary();
  renderTables();
}

function renderTables(): void {
  const t = state.table;
  if (!t) return;
  const best = bestRows(t);
  resultsTable.replaceChildren(
    el('thead', {}, el('tr', {}, ...t.columns.map((c) => el('th', { text: c })))),
    el(
      'tbody',
      {},
      ...t.rows.map((row, r) =>
        el(
          'tr',
          {},
          ...row.map((cell, c) => {
            // The run column: its short label and differing keys, the folder name in the tooltip.
            const td = el('td', { text: c === 0 ? state.label(r) : cell });
            if (c === 0) {
              td.style.borderLeftColor = colorOf(r);
              td.title = cell;
            }
            if (best[c] === r) {
              td.className = 'best';
              td.title = `best ${t.columns[c]}`;
            }
            return td;
          }),
        ),
      ),
    ),
  );
  const ids = state.runs.map((r) => runLabel(r.info));
  diffTable.hidden = t.differences.length === 0;
  sameConfig.hidden = t.differences.length > 0;
  diffTable.replaceChildren(
    el('thead', {}, el('tr', {}, el('th', { text: 'key' }), ...ids.map((id) => el('th', { text: id })))),
    el(
      'tbody',
      {},
      ...t.differences.map((d) =>
        el('tr', {}, el('td', { className: 'key-path', text: d.path }), ...d.values.map((v) => el('td', { text: v }))),
      ),
    ),
  );
}

function onTheme(): void {
  theme.reread();
  render();
}

function handle(message: CompareHostMessage): void {
  switch (message.type) {
    case 'compare':
      state.receive(message);
      render();
      break;
    case 'theme':
      onTheme();
      break;
    default: {
      const unexpected: never = message;
      console.warn('compare panel: unknown message', unexpected);
    }
  }
}

render();
connectToHost(api, handle, onTheme);
