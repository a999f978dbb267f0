/**
 * Run panel: one run, live while it trains or replayed from its folder. On top a summary strip
 * (status, step and ETA, the evaluation metric now and best, support recovery, sparsity against
 * the target, backend); under it two tabs: the curves (sparsity against the schedule's target,
 * loss, the evaluation metric, step time, with the phases as bands and wrapping legends) and the
 * block importance (one pruned layer's heatmap at a snapshot step, with a layer picker, a step
 * slider, a fixed or per-step colour scale, zoom and a tooltip). The view only: what it shows comes
 * from `CurvesState`, `ImportanceState` and `heatmapLayout`.
 */
import type { RunHostMessage, RunPanelMessage } from '@protocol';
import { runLabel, type HeadlineItem } from '@protocol/runHeadline';
import { backgroundPlugin, drawCards, makeCard, phaseBandsPlugin, type ChartCard } from './charts';
import { el } from './dom';
import { formatScore } from './heatmapColors';
import { drawKeySwatch, drawRamp, Heatmap } from './heatmap';
import { connectToHost, exportButtons } from './host';
import { CurvesState, type CurveChart } from './state/curvesState';
import { colourRange, ZOOMS, type ColourScale, type Zoom } from './state/heatmapLayout';
import { ImportanceState, type ImportanceUpdate } from './state/importanceState';
import { LiveRedraw } from './state/liveRedraw';
import { parseSavedRunPanel, RUN_TABS, type RunTab, type SavedRunPanel } from './state/runPanelState';
import { ensureStylesheet, PanelTheme } from './theme';
import { vscodeApi } from './vscodeApi';
import './dashboard.css';

/**
 * Live events redraw the curves at most every 2 s: redrawing four charts per event batch (8 a
 * second) kept the renderer busy enough to delay every other panel's messages by seconds in
 * code-server, and on a 2-core machine the panels' CPU is partly taken from training
 * (bench/sessions.bench.ts measures how much).
 */
const LIVE_REDRAW_MS = 2000;

const api = vscodeApi<SavedRunPanel, RunPanelMessage>();
const saved = parseSavedRunPanel(api.getState());
const curves = new CurvesState();
const importance = new ImportanceState(saved.importance);
const theme = new PanelTheme();
let tab: RunTab = saved.tab;
let scale: ColourScale = saved.scale;
let zoom: Zoom = saved.zoom;

function save(): void {
  api.setState({ tab, importance: importance.saved(), scale, zoom });
}

ensureStylesheet();

// Header and summary strip.
const title = el('h1', { text: 'Run' });
const [csvButton, pngButton] = exportButtons(
  api,
  { csv: 'Save the step metrics as CSV', png: 'Save the chart in view (the sparsity chart, or the heatmap) as PNG' },
  () => ({ name: curves.fileName('metrics.csv'), csv: curves.toCsv() }),
  () =>
    tab === 'blocks'
      ? { name: curves.fileName(`blocks-${importance.layer?.name ?? 'layer'}.png`), canvas: heatmap.canvas }
      : { name: curves.fileName('sparsity.png'), canvas: cards.sparsity.canvas },
);
const strip = el('div', { className: 'summary-strip', text: 'Waiting for the run…' });
strip.setAttribute('role', 'status');

// Tabs.
const TAB_TITLES: Record<RunTab, string> = { curves: 'Curves', blocks: 'Block importance' };
const tabButtons = Object.fromEntries(
  RUN_TABS.map((t) => {
    const button = el('button', { className: 'tab', text: TAB_TITLES[t] });
    button.id = `tab-${t}`;
    button.setAttribute('role', 'tab');
    button.setAttribute('aria-controls', `panel-${t}`);
    button.addEventListener('click', () => showTab(t));
    return [t, button];
  }),
) as Record<RunTab, HTMLButtonElement>;
const tabList = el('div', { className: 'tabs' }, ...RUN_TABS.map((t) => tabButtons[t]));
tabList.setAttribute('role', 'tablist');
tabList.addEventListener('keydown', (event) => {
  if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
  const next =
    RUN_TABS[(RUN_TABS.indexOf(tab) + (event.key === 'ArrowRight' ? 1 : RUN_TABS.length - 1)) % RUN_TABS.length]!;
  showTab(next);
  tabButtons[next].focus();
});

// Curves tab.
const plugins = [
  backgroundPlugin(() => theme.current),
  phaseBandsPlugin(
    () => curves.phases,
    () => theme.current,
  ),
];
const grid = el('div', { className: 'charts' });
const curvesPanel = el('section', { className: 'tab-panel' }, grid);
const cards: Record<CurveChart, ChartCard> = {
  sparsity: makeCard(grid, 'sparsity', 'Sparsity vs schedule', 'fraction of blocks', true, plugins),
  loss: makeCard(grid, 'loss', 'Loss', 'loss', false, plugins),
  quality: makeCard(grid, 'quality', 'Accuracy (evaluation)', 'accuracy', false, plugins),
  time: makeCard(grid, 'time', 'Step time', 'ms', false, plugins),
};

// Block importance tab.
const layerSelect = el('select', { title: 'Layer' });
const slider = el('input', { title: 'Snapshot step' });
slider.type = 'range';
slider.min = '0';
slider.max = '0';
slider.step = '1';
slider.disabled = true;
const stepLabel = el('span', { className: 'step-label', text: 'no snapshots yet' });
const scaleSelect = el('select', { title: 'Colour scale' });
scaleSelect.append(el('option', { text: 'whole run (fixed)' }), el('option', { text: 'this step' }));
scaleSelect.options[0]!.value = 'run';
scaleSelect.options[1]!.value = 'step';
const zoomSelect = el('select', { title: 'Zoom' });
zoomSelect.append(...ZOOMS.map((z) => el('option', { text: z === 1 ? 'fit' : `${z}×` })));
ZOOMS.forEach((z, i) => (zoomSelect.options[i]!.value = String(z)));
const rampCanvas = el('canvas', { className: 'legend' });
rampCanvas.width = 160;
rampCanvas.height = 10;
drawRamp(rampCanvas);
const rampMin = el('span', { className: 'legend-label' });
const rampMax = el('span', { className: 'legend-label' });
const keptSwatch = el('canvas', { className: 'key-swatch' });
const prunedSwatch = el('canvas', { className: 'key-swatch' });
for (const c of [keptSwatch, prunedSwatch]) c.width = c.height = 14;
const heatmapStatus = el('div', { className: 'status', text: 'Waiting for the run…' });
const heatmap = new Heatmap();
const blocksPanel = el(
  'section',
  { className: 'tab-panel' },
  el(
    'div',
    { className: 'toolbar' },
    el('label', {}, 'Layer ', layerSelect),
    el('label', {}, 'Step ', slider),
    stepLabel,
    el('label', {}, 'Colours ', scaleSelect),
    el('label', {}, 'Zoom ', zoomSelect),
  ),
  el(
    'div',
    { className: 'toolbar heatmap-legend' },
    el('span', { className: 'legend-box', title: 'Block score colour scale' }, rampMin, rampCanvas, rampMax),
    el('span', { className: 'key' }, keptSwatch, 'kept'),
    el('span', { className: 'key' }, prunedSwatch, 'pruned (hatched)'),
  ),
  heatmapStatus,
  heatmap.frame,
);

const panels: Record<RunTab, HTMLElement> = { curves: curvesPanel, blocks: blocksPanel };
for (const t of RUN_TABS) {
  panels[t].id = `panel-${t}`;
  panels[t].setAttribute('role', 'tabpanel');
  panels[t].setAttribute('aria-labelledby', `tab-${t}`);
}
document.body.append(
  el('header', { className: 'toolbar' }, title, csvButton, pngButton),
  strip,
  tabList,
  curvesPanel,
  blocksPanel,
);

function fillStrip(items: HeadlineItem[]): void {
  if (items.length === 0) return;
  strip.replaceChildren(
    ...items.map((i) => {
      const fact = el(
        'div',
        { className: `fact fact-${i.key}` },
        el('span', { className: 'fact-label', text: i.label }),
        el('span', { className: 'fact-value', text: i.value }),
      );
      if (i.detail) fact.append(el('span', { className: 'fact-detail', text: i.detail }));
      fact.title = i.hint ?? (i.detail ? `${i.label}: ${i.value} (${i.detail})` : `${i.label}: ${i.value}`);
      fact.dataset.key = i.key;
      if (i.key === 'status') fact.dataset.status = i.value;
      return fact;
    }),
  );
}

function showHeader(): void {
  const run = curves.run;
  if (!run) return;
  title.textContent = runLabel(run);
  title.title = run.id;
  fillStrip(curves.headline());
}

const redrawCurves = new LiveRedraw(() => {
  showHeader();
  if (tab !== 'curves') return;
  cards.quality.heading.textContent = curves.qualityTitle;
  drawCards(cards, curves.lines(), theme.current, {
    ...(curves.totalSteps !== undefined && { maxStep: curves.totalSteps }),
    axes: curves.axes(),
    phases: curves.phases,
  });
}, LIVE_REDRAW_MS);

function showTab(next: RunTab): void {
  tab = next;
  for (const t of RUN_TABS) {
    panels[t].hidden = t !== tab;
    tabButtons[t].setAttribute('aria-selected', String(t === tab));
    tabButtons[t].tabIndex = t === tab ? 0 : -1;
  }
  document.body.dataset.tab = tab;
  save();
  if (tab === 'curves') redrawCurves.now();
  else drawHeatmap();
}

/** The slider spans the run's snapshot steps; it and its label show the selected step once there are any. */
function syncSlider(): void {
  const steps = importance.steps;
  slider.max = String(Math.max(0, steps.length - 1));
  slider.disabled = steps.length === 0;
  if (steps.length === 0) return;
  if (importance.sliderIndex >= 0) slider.value = String(importance.sliderIndex);
  stepLabel.textContent = importance.selectedStep === undefined ? '' : `step ${importance.selectedStep}`;
}

/** The picker lists the drawn snapshot's layers, on the one drawn. */
function fillLayerSelect(): void {
  const names = importance.layerNames;
  const existing = [...layerSelect.options].map((o) => o.value);
  if (names.join('\n') !== existing.join('\n'))
    layerSelect.replaceChildren(...names.map((n) => el('option', { text: n })));
  if (importance.selectedLayer !== undefined) layerSelect.value = importance.selectedLayer;
}

function drawHeatmap(): void {
  const layer = importance.layer;
  drawKeySwatch(keptSwatch, false, theme.current);
  drawKeySwatch(prunedSwatch, true, theme.current);
  if (!layer) return;
  const range = colourRange(layer, scale, importance.runRange(layer.name));
  rampMin.textContent = formatScore(range.min);
  rampMax.textContent = formatScore(range.max);
  const kept = layer.mask.reduce((n, m) => n + (m === 1 ? 1 : 0), 0);
  const step = importance.snapshotStep;
  heatmapStatus.textContent = `${layer.name}: ${layer.rows}×${layer.cols} blocks, ${kept} kept (${((100 * kept) / layer.mask.length).toFixed(1)}%) at step ${step ?? '?'} · ${importance.score === 'attention' ? 'attention A = N·softmax(L)' : 'block norm / mean'} · colours over ${scale === 'run' ? 'the whole run' : 'this step'}`;
  heatmap.canvas.dataset.layer = layer.name;
  heatmap.canvas.dataset.step = String(step ?? '');
  heatmap.canvas.dataset.min = String(range.min);
  heatmap.canvas.dataset.max = String(range.max);
  if (tab !== 'blocks') return;
  performance.mark('heatmap-draw-start');
  if (heatmap.draw(layer, range, importance.score, theme.current, zoom))
    performance.measure('heatmap-draw', 'heatmap-draw-start');
}

function apply(update: ImportanceUpdate): void {
  if (update.slider) syncSlider();
  if (update.save) save();
  if (update.draw) drawHeatmap();
  for (const message of update.post) api.postMessage(message);
}

function onTheme(): void {
  theme.reread();
  redrawCurves.now();
  drawHeatmap();
}

function handle(message: RunHostMessage): void {
  switch (message.type) {
    case 'run':
      curves.showRun(message.info, message.events);
      redrawCurves.now();
      apply(importance.showRun(message.events));
      break;
    case 'events':
      curves.add(message.events);
      redrawCurves.soon();
      apply(importance.addEvents(message.events));
      break;
    case 'session':
      curves.showSession(message.summary);
      showHeader();
      break;
    case 'snapshot': {
      performance.mark('heatmap-update-start');
      const update = importance.showSnapshot(message);
      if (!update.draw) break;
      fillLayerSelect();
      apply(update);
      performance.measure('heatmap-update', 'heatmap-update-start');
      break;
    }
    case 'theme':
      onTheme();
      break;
    default: {
      const unexpected: never = message;
      console.warn('run panel: unknown message', unexpected);
    }
  }
}

layerSelect.addEventListener('change', () => apply(importance.pickLayer(layerSelect.value)));
slider.addEventListener('input', () => {
  const step = importance.stepAt(Number(slider.value));
  if (step !== undefined) stepLabel.textContent = `step ${step}`;
});
slider.addEventListener('change', () => apply(importance.pickStepAt(Number(slider.value))));
scaleSelect.value = scale;
scaleSelect.addEventListener('change', () => {
  scale = scaleSelect.value === 'step' ? 'step' : 'run';
  save();
  drawHeatmap();
});
zoomSelect.value = String(zoom);
zoomSelect.addEventListener('change', () => {
  zoom = ZOOMS.find((z) => String(z) === zoomSelect.value) ?? 1;
  save();
  drawHeatmap();
});
window.addEventListener('resize', () => {
  if (tab === 'blocks') drawHeatmap();
});

showTab(tab);
connectToHost(api, handle, onTheme);
