/**
 * Importance panel: one pruned layer's block scores as a heatmap at one snapshot step. Pruned
 * blocks are dimmed towards the background, kept blocks outlined; a layer picker, a step slider
 * over the run's snapshot steps (each move asks the host for that snapshot), a colour legend and
 * a tooltip with the block under the pointer. The view only: which step and layer it shows, and
 * what it asks the host, come from `ImportanceState`.
 */
import type { ImportanceHostMessage, ImportancePanelMessage } from '@protocol';
import { el } from './dom';
import { colorTable, formatScore, ramp, TABLE_SIZE, type ColorTable } from './heatmapColors';
import { connectToHost } from './host';
import {
  ImportanceState,
  type DecodedLayer,
  type ImportanceUpdate,
  type SavedImportanceState,
} from './state/importanceState';
import { ensureStylesheet, PanelTheme, parseColor } from './theme';
import { vscodeApi } from './vscodeApi';
import './dashboard.css';

/** Draws one layer onto the heatmap canvas, keeping what can be reused between draws. */
class Heatmap {
  /** One pixel per block, reused while the grid size stays the same. */
  private offscreen: HTMLCanvasElement | undefined;
  /** Block colours for the current theme background, rebuilt when it changes. */
  private table: { background: string; colors: ColorTable } | undefined;
  constructor(readonly canvas: HTMLCanvasElement) {}

  /** False when the page has no 2D context to draw with. */
  draw(layer: DecodedLayer, theme: PanelTheme): boolean {
    const { canvas } = this;
    const ctx = canvas.getContext('2d');
    if (!ctx) return false;
    const bg = parseColor(theme.current.background);
    const dpr = window.devicePixelRatio || 1;
    // The body's width, not the wrapper's: the wrapper shrinks to the canvas it holds.
    const available = Math.max(160, Math.min(720, document.body.clientWidth - 24)) * dpr;
    const cell = Math.max(1, Math.floor(available / Math.max(layer.cols, layer.rows)));
    const width = cell * layer.cols;
    const height = cell * layer.rows;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
      canvas.style.width = `${width / dpr}px`;
      canvas.style.height = `${height / dpr}px`;
    }
    if (!this.offscreen || this.offscreen.width !== layer.cols || this.offscreen.height !== layer.rows) {
      this.offscreen = document.createElement('canvas');
      this.offscreen.width = layer.cols;
      this.offscreen.height = layer.rows;
    }
    const off = this.offscreen.getContext('2d');
    if (!off) return false;
    if (!this.table || this.table.background !== theme.current.background) {
      this.table = { background: theme.current.background, colors: colorTable(bg) };
    }
    const { kept: keptColors, pruned: prunedColors } = this.table.colors;
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
    ctx.drawImage(this.offscreen, 0, 0, width, height);
    if (cell >= 6) {
      // Kept blocks get an inset outline; block centres keep their colour.
      ctx.beginPath();
      for (let i = 0; i < layer.mask.length; i++) {
        if (layer.mask[i] !== 1) continue;
        const x = (i % layer.cols) * cell;
        const y = Math.floor(i / layer.cols) * cell;
        ctx.rect(x + 0.5, y + 0.5, cell - 1, cell - 1);
      }
      ctx.strokeStyle = theme.current.focus;
      ctx.lineWidth = 1;
      ctx.stroke();
    }
    return true;
  }
}

const api = vscodeApi<SavedImportanceState, ImportancePanelMessage>();
const state = new ImportanceState(api.getState());
const theme = new PanelTheme();

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
const heatmap = new Heatmap(el('canvas', { className: 'heatmap' }));
const canvas = heatmap.canvas;
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

/** The slider spans the run's snapshot steps; it and its label show the selected step once there are any. */
function syncSlider(): void {
  const steps = state.steps;
  slider.max = String(Math.max(0, steps.length - 1));
  slider.disabled = steps.length === 0;
  if (steps.length === 0) return;
  if (state.sliderIndex >= 0) slider.value = String(state.sliderIndex);
  stepLabel.textContent = state.selectedStep === undefined ? '' : `step ${state.selectedStep}`;
}

/** The picker lists the drawn snapshot's layers, on the one drawn. */
function fillLayerSelect(): void {
  const names = state.layerNames;
  const existing = [...layerSelect.options].map((o) => o.value);
  if (names.join('\n') !== existing.join('\n')) {
    layerSelect.replaceChildren(...names.map((n) => el('option', { text: n })));
  }
  if (state.selectedLayer !== undefined) layerSelect.value = state.selectedLayer;
}

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
  const layer = state.layer;
  drawLegend(layer);
  if (!layer) return;
  performance.mark('heatmap-draw-start');
  if (!heatmap.draw(layer, theme)) return;
  performance.measure('heatmap-draw', 'heatmap-draw-start');
  const kept = layer.mask.reduce((n, m) => n + (m === 1 ? 1 : 0), 0);
  const step = state.snapshotStep;
  status.textContent = `${layer.name}: ${layer.rows}×${layer.cols} blocks, ${kept} kept (${((100 * kept) / layer.mask.length).toFixed(1)}%) at step ${step ?? '?'}`;
  canvas.dataset.layer = layer.name;
  canvas.dataset.step = String(step ?? '');
}

function apply(update: ImportanceUpdate): void {
  if (update.slider) syncSlider();
  if (update.save) api.setState(update.save);
  if (update.draw) draw();
  for (const message of update.post) api.postMessage(message);
}

function onTheme(): void {
  theme.reread();
  draw();
}

function handle(message: ImportanceHostMessage): void {
  switch (message.type) {
    case 'run':
      status.textContent = `${message.info.name} · ${message.info.status}`;
      apply(state.showRun(message.events));
      break;
    case 'events':
      apply(state.addEvents(message.events));
      break;
    case 'snapshot': {
      performance.mark('heatmap-update-start');
      const update = state.showSnapshot(message);
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
      console.warn('importance panel: unknown message', unexpected);
    }
  }
}

layerSelect.addEventListener('change', () => apply(state.pickLayer(layerSelect.value)));

slider.addEventListener('input', () => {
  const step = state.stepAt(Number(slider.value));
  if (step !== undefined) stepLabel.textContent = `step ${step}`;
});
slider.addEventListener('change', () => apply(state.pickStepAt(Number(slider.value))));

canvas.addEventListener('mousemove', (event) => {
  const layer = state.layer;
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

window.addEventListener('resize', () => draw());
drawLegend(undefined);
connectToHost(api, handle, onTheme);
