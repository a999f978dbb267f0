/**
 * Importance panel: one pruned layer's block scores as a heatmap at one snapshot step. Pruned
 * blocks are dimmed towards the background, kept blocks outlined; a layer picker, a step slider
 * over the run's snapshot steps (each move asks the host for that snapshot), a colour legend and
 * a tooltip with the block under the pointer.
 */
import type { HostToWebview, RunEvent, SnapshotLayerBase64 } from '@protocol';
import { el } from './dom';
import {
  colorTable,
  decodeBase64,
  decodeScores,
  formatScore,
  ramp,
  TABLE_SIZE,
  type ColorTable,
} from './heatmapColors';
import { connectToHost } from './host';
import { ensureStylesheet, parseColor, readTheme, type Theme } from './theme';
import { vscodeApi } from './vscodeApi';
import './dashboard.css';

interface ImportanceState {
  layer?: string;
  step?: number;
  /** The slider was on the newest snapshot: a restored panel of a live run keeps following it. */
  latest?: boolean;
}

interface DecodedLayer {
  name: string;
  rows: number;
  cols: number;
  scores: Float32Array;
  mask: Uint8Array;
  min: number;
  max: number;
}

const api = vscodeApi<ImportanceState>();
const saved = api.getState();
let selectedLayer = saved.layer;
let selectedStep = saved.step;
/** Whether the restored panel was on the newest snapshot (then a live run's panel keeps following). */
const restoredLatest = saved.latest ?? saved.step === undefined;
let steps: number[] = [];
let snapshotStep: number | undefined;
/** The request the host is answering, and the step wanted next (see `requestStep`). */
let inFlight: { step: number; since: number } | undefined;
let queuedStep: number | undefined;
let layers: DecodedLayer[] = [];
let theme: Theme;
let cell = 1;

ensureStylesheet();
const layerSelect = el('select', { title: 'Layer' });
const slider = el('input');
slider.type = 'range';
slider.min = '0';
slider.max = '0';
slider.step = '1';
slider.disabled = true;
const stepLabel = el('span', { className: 'step-label', text: 'no snapshots yet' });
const legendCanvas = el('canvas', { className: 'legend' });
legendCanvas.width = 160;
legendCanvas.height = 10;
const legendMin = el('span', { className: 'legend-label' });
const legendMax = el('span', { className: 'legend-label' });
const canvas = el('canvas', { className: 'heatmap' });
const tooltip = el('div', { className: 'tooltip' });
tooltip.hidden = true;
const status = el('div', { className: 'status', text: 'Waiting for the run…' });
const keyKept = el('span', { className: 'key key-kept', text: 'kept (outlined)' });
const keyPruned = el('span', { className: 'key key-pruned', text: 'pruned (dimmed)' });

document.body.append(
  el(
    'header',
    { className: 'toolbar' },
    el('label', {}, 'Layer ', layerSelect),
    el('label', {}, 'Step ', slider),
    stepLabel,
    el('span', { className: 'legend-box' }, legendMin, legendCanvas, legendMax),
    keyKept,
    keyPruned,
  ),
  status,
  el('div', { className: 'heatmap-wrap' }, canvas, tooltip),
);

function saveState(): void {
  const state: ImportanceState = {};
  if (selectedLayer !== undefined) state.layer = selectedLayer;
  if (selectedStep !== undefined) state.step = selectedStep;
  state.latest = selectedStep === undefined || selectedStep === steps.at(-1);
  api.setState(state);
}

/**
 * The run's snapshot steps changed (a `run`, or new snapshots of a live run): a panel on the newest
 * step moves to the new newest, one the user moved stays where it is.
 */
function setSteps(next: number[]): void {
  const previousLast = steps.at(-1);
  steps = [...new Set(next)].sort((a, b) => a - b);
  slider.max = String(Math.max(0, steps.length - 1));
  slider.disabled = steps.length === 0;
  const last = steps.at(-1);
  if (last === undefined) return;
  // A panel recreated while its run goes on (VS Code rebuilds a hidden webview) has no steps yet:
  // its saved state says whether it was following, else it would stick to the step it showed.
  const following =
    previousLast === undefined ? restoredLatest : selectedStep === undefined || selectedStep === previousLast;
  const wanted = following || selectedStep === undefined || !steps.includes(selectedStep) ? last : selectedStep;
  if (wanted !== snapshotStep) requestStep(wanted);
  else syncSlider();
}

function syncSlider(): void {
  const index = selectedStep === undefined ? -1 : steps.indexOf(selectedStep);
  if (index >= 0) slider.value = String(index);
  stepLabel.textContent = selectedStep === undefined ? '' : `step ${selectedStep}`;
}

/**
 * Asks the host for a snapshot, one request at a time: while one is answered, the latest wish
 * waits (a live run adds snapshots faster than answers may come back). A request unanswered for
 * 2 s no longer blocks (the host drops requests it cannot answer).
 */
function requestStep(step: number): void {
  selectedStep = step;
  saveState();
  syncSlider();
  if (inFlight !== undefined && performance.now() - inFlight.since < 2000) {
    queuedStep = step;
    return;
  }
  // This request supersedes a wish queued behind the one that timed out: answering that older wish
  // afterwards would move the slider back and stop a live panel following the run.
  queuedStep = undefined;
  inFlight = { step, since: performance.now() };
  api.postMessage({ type: 'requestSnapshot', step });
}

function snapshotSteps(events: RunEvent[]): number[] {
  return events.filter((e) => e.type === 'snapshot').map((e) => e.step);
}

function decodeLayer(layer: SnapshotLayerBase64): DecodedLayer {
  const scores = decodeScores(layer.scores);
  const mask = decodeBase64(layer.mask);
  let min = Infinity;
  let max = -Infinity;
  for (const v of scores) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { name: layer.name, rows: layer.gridRows, cols: layer.gridCols, scores, mask, min, max };
}

function current(): DecodedLayer | undefined {
  return layers.find((l) => l.name === selectedLayer) ?? layers[0];
}

function fillLayerSelect(): void {
  const names = layers.map((l) => l.name);
  const existing = [...layerSelect.options].map((o) => o.value);
  if (names.join('\n') !== existing.join('\n')) {
    layerSelect.replaceChildren(...names.map((n) => el('option', { text: n })));
  }
  if (selectedLayer === undefined || !names.includes(selectedLayer)) selectedLayer = names[0];
  if (selectedLayer !== undefined) layerSelect.value = selectedLayer;
}

/** Offscreen canvas of one pixel per block, reused while the grid size stays the same. */
let offscreen: HTMLCanvasElement | undefined;
/** Block colours for the current theme background, rebuilt when it changes. */
let table: { background: string; colors: ColorTable } | undefined;

function drawLegend(layer: DecodedLayer | undefined): void {
  const ctx = legendCanvas.getContext('2d');
  if (!ctx) return;
  const image = ctx.createImageData(legendCanvas.width, 1);
  for (let x = 0; x < legendCanvas.width; x++) {
    const [r, g, b] = ramp(x / (legendCanvas.width - 1));
    image.data.set([r, g, b, 255], x * 4);
  }
  for (let y = 0; y < legendCanvas.height; y++) ctx.putImageData(image, 0, y);
  legendMin.textContent = layer ? formatScore(layer.min) : '';
  legendMax.textContent = layer ? formatScore(layer.max) : '';
}

function draw(): void {
  const layer = current();
  drawLegend(layer);
  const ctx = canvas.getContext('2d');
  if (!layer || !ctx) return;
  performance.mark('heatmap-draw-start');
  const bg = parseColor(theme.background);
  const dpr = window.devicePixelRatio || 1;
  // The body's width, not the wrapper's: the wrapper shrinks to the canvas it holds.
  const available = Math.max(160, Math.min(720, document.body.clientWidth - 24)) * dpr;
  cell = Math.max(1, Math.floor(available / Math.max(layer.cols, layer.rows)));
  const width = cell * layer.cols;
  const height = cell * layer.rows;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
    canvas.style.width = `${width / dpr}px`;
    canvas.style.height = `${height / dpr}px`;
  }
  if (!offscreen || offscreen.width !== layer.cols || offscreen.height !== layer.rows) {
    offscreen = document.createElement('canvas');
    offscreen.width = layer.cols;
    offscreen.height = layer.rows;
  }
  const off = offscreen.getContext('2d');
  if (!off) return;
  if (!table || table.background !== theme.background) {
    table = { background: theme.background, colors: colorTable(bg) };
  }
  const { kept: keptColors, pruned: prunedColors } = table.colors;
  const image = off.createImageData(layer.cols, layer.rows);
  const data = image.data;
  const { scores, mask, min, max } = layer;
  const scale = max > min ? (TABLE_SIZE - 1) / (max - min) : 0;
  const middle = Math.round((TABLE_SIZE - 1) / 2);
  for (let i = 0; i < scores.length; i++) {
    const t = scale === 0 ? middle : Math.round((scores[i]! - min) * scale);
    const k = (t < 0 ? 0 : t >= TABLE_SIZE ? TABLE_SIZE - 1 : t) * 3;
    const colors = mask[i] === 1 ? keptColors : prunedColors;
    const o = i * 4;
    data[o] = colors[k]!;
    data[o + 1] = colors[k + 1]!;
    data[o + 2] = colors[k + 2]!;
    data[o + 3] = 255;
  }
  off.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(offscreen, 0, 0, width, height);
  if (cell >= 6) {
    // Kept blocks get an inset outline; block centres keep their colour.
    ctx.beginPath();
    for (let i = 0; i < layer.mask.length; i++) {
      if (layer.mask[i] !== 1) continue;
      const x = (i % layer.cols) * cell;
      const y = Math.floor(i / layer.cols) * cell;
      ctx.rect(x + 0.5, y + 0.5, cell - 1, cell - 1);
    }
    ctx.strokeStyle = theme.focus;
    ctx.lineWidth = 1;
    ctx.stroke();
  }
  performance.measure('heatmap-draw', 'heatmap-draw-start');
  const kept = layer.mask.reduce((n, m) => n + (m === 1 ? 1 : 0), 0);
  status.textContent = `${layer.name}: ${layer.rows}×${layer.cols} blocks, ${kept} kept (${((100 * kept) / layer.mask.length).toFixed(1)}%) at step ${snapshotStep ?? '?'}`;
  canvas.dataset.layer = layer.name;
  canvas.dataset.step = String(snapshotStep ?? '');
}

function onTheme(): void {
  theme = readTheme();
  draw();
}

function handle(message: HostToWebview): void {
  switch (message.type) {
    case 'run':
      status.textContent = `${message.info.name} · ${message.info.status}`;
      setSteps(snapshotSteps(message.events));
      // A re-sent run (its session ended) keeps the heatmap it shows: redraw its description.
      if (layers.length > 0 && inFlight === undefined) draw();
      break;
    case 'events': {
      const added = snapshotSteps(message.events);
      if (added.length > 0) setSteps([...steps, ...added]);
      break;
    }
    case 'snapshot': {
      // An answer overtaken by a newer request (sent after this one timed out): drawing it would
      // move the slider off the newest step and stop a live panel following the run.
      if (inFlight !== undefined && inFlight.step !== message.step) break;
      inFlight = undefined;
      const next = queuedStep;
      queuedStep = undefined;
      performance.mark('heatmap-update-start');
      snapshotStep = message.step;
      // The slider stays on the step wanted next, so a live panel keeps following the newest.
      selectedStep = next ?? message.step;
      if (!steps.includes(message.step)) steps = [...steps, message.step].sort((a, b) => a - b);
      slider.max = String(Math.max(0, steps.length - 1));
      slider.disabled = false;
      layers = message.layers.map(decodeLayer);
      fillLayerSelect();
      syncSlider();
      saveState();
      draw();
      performance.measure('heatmap-update', 'heatmap-update-start');
      if (next !== undefined && next !== message.step) requestStep(next);
      break;
    }
    case 'theme':
      onTheme();
      break;
    case 'schedule':
    case 'compare':
      break;
    default: {
      const unexpected: never = message;
      console.warn('importance panel: unknown message', unexpected);
    }
  }
}

layerSelect.addEventListener('change', () => {
  selectedLayer = layerSelect.value;
  saveState();
  draw();
});

slider.addEventListener('input', () => {
  const step = steps[Number(slider.value)];
  if (step !== undefined) stepLabel.textContent = `step ${step}`;
});
slider.addEventListener('change', () => {
  const step = steps[Number(slider.value)];
  if (step !== undefined && step !== snapshotStep) requestStep(step);
});

canvas.addEventListener('mousemove', (event) => {
  const layer = current();
  if (!layer) return;
  const rect = canvas.getBoundingClientRect();
  const col = Math.floor(((event.clientX - rect.left) / rect.width) * layer.cols);
  const row = Math.floor(((event.clientY - rect.top) / rect.height) * layer.rows);
  if (row < 0 || col < 0 || row >= layer.rows || col >= layer.cols) {
    tooltip.hidden = true;
    return;
  }
  const i = row * layer.cols + col;
  tooltip.textContent = `block (${row}, ${col}) · ${formatScore(layer.scores[i]!)} · ${layer.mask[i] === 1 ? 'kept' : 'pruned'}`;
  tooltip.hidden = false;
  const wrap = canvas.parentElement!.getBoundingClientRect();
  tooltip.style.left = `${event.clientX - wrap.left + 12}px`;
  tooltip.style.top = `${event.clientY - wrap.top + 12}px`;
});
canvas.addEventListener('mouseleave', () => {
  tooltip.hidden = true;
});

theme = readTheme();
window.addEventListener('resize', () => draw());
drawLegend(undefined);
connectToHost(api, handle, onTheme);
