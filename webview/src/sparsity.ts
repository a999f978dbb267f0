/**
 * Sparsity panel: global sparsity (zero kernel entries), per-layer block sparsity and the fraction
 * of blocks whose attention is clipped, against the schedule's target; loss, accuracy (or log-loss
 * for CTR) at each evaluation, and step time, with the schedule's phases as shaded
 * bands; a CSV export of the step events and a PNG export of the sparsity chart. The view only:
 * what it shows comes from `SparsityState`.
 */
import type { SparsityHostMessage, SparsityPanelMessage } from '@protocol';
import { backgroundPlugin, drawCards, makeCard, phaseBandsPlugin, type ChartCard } from './charts';
import { el } from './dom';
import { connectToHost, exportButtons } from './host';
import { LiveRedraw } from './state/liveRedraw';
import { SparsityState, type SparsityChart } from './state/sparsityState';
import { ensureStylesheet, PanelTheme } from './theme';
import { vscodeApi } from './vscodeApi';
import './dashboard.css';

/**
 * Live events redraw at most every 2 s: redrawing four charts per event batch (8 a second) kept
 * the renderer busy enough to delay every other panel's messages by seconds in code-server, and on
 * a 2-core machine the panels' CPU is partly taken from training (bench/sessions.bench.ts measures
 * how much).
 */
const LIVE_REDRAW_MS = 2000;

const api = vscodeApi<Record<string, never>, SparsityPanelMessage>();
const state = new SparsityState();
const theme = new PanelTheme();

ensureStylesheet();
const plugins = [
  backgroundPlugin(() => theme.current),
  phaseBandsPlugin(
    () => state.phases,
    () => theme.current,
  ),
];

const header = el('h1', { text: 'Sparsity' });
const summary = el('div', { className: 'status', text: 'Waiting for the run…' });
const [csvButton, pngButton] = exportButtons(
  api,
  { csv: 'Save the step metrics as CSV', png: 'Save the sparsity chart as PNG' },
  () => ({ name: state.fileName('metrics.csv'), csv: state.toCsv() }),
  () => ({ name: state.fileName('sparsity.png'), canvas: cards.sparsity.canvas }),
);
const grid = el('div', { className: 'charts' });
document.body.append(el('header', { className: 'toolbar' }, header, csvButton, pngButton), summary, grid);

const cards: Record<SparsityChart, ChartCard> = {
  sparsity: makeCard(
    grid,
    'sparsity',
    'Sparsity vs schedule (global: zero weights; layers: masked blocks; dotted: blocks with A clipped)',
    'fraction',
    true,
    plugins,
  ),
  loss: makeCard(grid, 'loss', 'Training loss', 'loss', false, plugins),
  quality: makeCard(grid, 'quality', 'Accuracy', 'accuracy', false, plugins),
  time: makeCard(grid, 'time', 'Step time', 'ms', false, plugins),
};

const redraw = new LiveRedraw(() => {
  cards.quality.heading.textContent = state.qualityTitle;
  drawCards(cards, state.lines(), theme.current, state.totalSteps);
  summary.textContent = state.summary();
}, LIVE_REDRAW_MS);

function onTheme(): void {
  theme.reread();
  redraw.now();
}

function handle(message: SparsityHostMessage): void {
  switch (message.type) {
    case 'run':
      state.showRun(message.info, message.events);
      redraw.now();
      break;
    case 'events':
      state.add(message.events);
      redraw.soon();
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

redraw.now();
connectToHost(api, handle, onTheme);
