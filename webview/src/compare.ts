/**
 * Compare panel: two or more runs overlaid — global sparsity against each run's target, training
 * loss, the evaluation metric (accuracy, or log-loss for CTR) and step time, one colour per run —
 * then the final-results table (best value per metric marked) and the config keys that differ.
 */
import type { ComparedRunDto, EvalEvent, HostToWebview, RunCompareResult, StepEvent } from '@protocol';
import { applyChartTheme, backgroundPlugin, csvField, line, makeCard, points, redraw } from './charts';
import { el } from './dom';
import { connectToHost, exportButtons } from './host';
import { ensureStylesheet, readTheme, type Theme } from './theme';
import { vscodeApi } from './vscodeApi';
import './dashboard.css';

const api = vscodeApi<Record<string, never>>();
let runs: ComparedRunDto[] = [];
let table: RunCompareResult | undefined;
let theme: Theme = readTheme();

ensureStylesheet();
const plugins = [backgroundPlugin(() => theme)];

const [csvButton, pngButton] = exportButtons(
  api,
  { csv: 'Save the final-results table as CSV', png: 'Save the sparsity chart as PNG' },
  () => (table ? { name: 'comparison.csv', csv: toCsv(table) } : undefined),
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

const cards = {
  sparsity: makeCard(grid, 'sparsity', 'Global sparsity (dashed: target)', 'fraction of blocks', true, plugins),
  loss: makeCard(grid, 'loss', 'Training loss', 'loss', false, plugins),
  quality: makeCard(grid, 'quality', 'Accuracy', 'accuracy', false, plugins),
  time: makeCard(grid, 'time', 'Step time', 'ms', false, plugins),
};

// One legend entry per run: the dashed targets share their run's colour.
const sparsityLegend = cards.sparsity.chart.options.plugins?.legend?.labels;
if (sparsityLegend) sparsityLegend.filter = (item) => !item.text.endsWith(' target');

/** Metrics where the largest value is best, and where the smallest is. */
const HIGHER_BETTER = new Set(['accuracy', 'auc', 'support_f1']);
const LOWER_BETTER = new Set(['log_loss']);

const colorOf = (i: number) => theme.series[i % theme.series.length]!;
const stepsOf = (r: ComparedRunDto) => r.events.filter((e): e is StepEvent => e.type === 'step');
const evalsOf = (r: ComparedRunDto) => r.events.filter((e): e is EvalEvent => e.type === 'eval');

function render(): void {
  applyChartTheme(theme);
  const ctr = runs.some((r) => r.info.task === 'ctr');
  const metric = ctr ? 'log_loss' : 'accuracy';
  const step = (e: StepEvent) => e.step;
  cards.sparsity.chart.data.datasets = runs.flatMap((r, i) => [
    line(
      r.info.id,
      points(stepsOf(r), step, (e) => e.globalSparsity),
      colorOf(i),
    ),
    line(
      `${r.info.id} target`,
      points(stepsOf(r), step, (e) => e.targetSparsity),
      colorOf(i),
      {
        borderDash: [6, 4],
        borderWidth: 1,
      },
    ),
  ]);
  cards.loss.chart.data.datasets = runs.map((r, i) =>
    line(
      r.info.id,
      points(stepsOf(r), step, (e) => e.loss),
      colorOf(i),
    ),
  );
  cards.quality.heading.textContent = ctr ? 'Log-loss (evaluation)' : 'Accuracy (evaluation)';
  cards.quality.chart.data.datasets = runs.map((r, i) =>
    line(
      r.info.id,
      points(
        evalsOf(r),
        (e) => e.step,
        (e) => e.metrics[metric],
      ),
      colorOf(i),
      { pointRadius: 3 },
    ),
  );
  cards.time.chart.data.datasets = runs.map((r, i) =>
    line(
      r.info.id,
      points(stepsOf(r), step, (e) => e.stepMs),
      colorOf(i),
    ),
  );
  redraw(Object.values(cards), Math.max(0, ...runs.map((r) => r.info.totalSteps)));

  summary.textContent =
    runs.length === 0
      ? 'Waiting for the runs…'
      : `${runs.length} runs: ${runs.map((r) => `${r.info.id} (${r.info.method}, ${r.info.status})`).join(', ')}`;
  renderTables();
}

/** The row index holding the best value of a column, when the column is a metric and values differ. */
function bestRow(t: RunCompareResult, column: number): number | undefined {
  const key = t.columns[column]!;
  if (!HIGHER_BETTER.has(key) && !LOWER_BETTER.has(key)) return undefined;
  const values = t.rows.map((r) => Number.parseFloat(r[column] ?? ''));
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2 || new Set(finite).size < 2) return undefined;
  const best = HIGHER_BETTER.has(key) ? Math.max(...finite) : Math.min(...finite);
  return values.indexOf(best);
}

function renderTables(): void {
  if (!table) return;
  const t = table;
  const best = t.columns.map((_, c) => bestRow(t, c));
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
            const td = el('td', { text: cell });
            if (c === 0) td.style.borderLeftColor = colorOf(r);
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
  const ids = runs.map((r) => r.info.id);
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

function toCsv(t: RunCompareResult): string {
  return [t.columns, ...t.rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

function onTheme(): void {
  theme = readTheme();
  render();
}

function handle(message: HostToWebview): void {
  switch (message.type) {
    case 'compare':
      runs = message.runs;
      table = message.table;
      render();
      break;
    case 'theme':
      onTheme();
      break;
    case 'run':
    case 'events':
    case 'snapshot':
    case 'schedule':
      break;
    default: {
      const unexpected: never = message;
      console.warn('compare panel: unknown message', unexpected);
    }
  }
}

render();
connectToHost(api, handle, onTheme);
