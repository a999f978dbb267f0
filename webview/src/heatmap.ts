/**
 * The block heatmap of one pruned layer: one block per cell in whole device pixels, as large as
 * the space allows (times the zoom, scrolling inside its frame), coloured on a fixed or per-step
 * scale, pruned blocks hatched over their colour, the kernel's meaning on both axes, and a tooltip.
 * Drawing only: what it draws comes from `ImportanceState` and `heatmapLayout`.
 */
import type { ScoreRange, SnapshotScoreKind } from '@protocol';
import { el } from './dom';
import { colorTable, HATCH_MIN_CELL, ramp, TABLE_SIZE, type ColorTable } from './heatmapColors';
import type { DecodedLayer } from './state/importanceState';
import { axisTitles, blockTooltip, cellSize, type Zoom } from './state/heatmapLayout';
import { parseColor, withAlpha, type Theme } from './theme';

/** How much of the background a hatch stripe over a pruned block is. */
const HATCH_ALPHA = 0.75;

/** Diagonal stripes in `color` over the area the current clip leaves, `gap` apart. */
function hatch(ctx: CanvasRenderingContext2D, width: number, height: number, cell: number, color: string): void {
  const gap = Math.max(3, Math.round(cell / 2.5));
  ctx.strokeStyle = color;
  ctx.lineWidth = Math.max(1, Math.round(cell / 8));
  ctx.beginPath();
  for (let d = -height; d < width + gap; d += gap) {
    ctx.moveTo(d, height);
    ctx.lineTo(d + height, 0);
  }
  ctx.stroke();
}

export class Heatmap {
  readonly canvas = el('canvas', { className: 'heatmap' });
  readonly tooltip = el('div', { className: 'tooltip' });
  readonly rowsTitle = el('div', { className: 'axis-title axis-rows' });
  readonly colsTitle = el('div', { className: 'axis-title axis-cols' });
  /** Scrolls the canvas when it is zoomed beyond its frame. */
  readonly scroller = el('div', { className: 'heatmap-scroll' });
  readonly frame: HTMLElement;
  /** One pixel per block, reused while the grid size stays the same. */
  private offscreen: HTMLCanvasElement | undefined;
  /** Block colours for the current theme background, rebuilt when it changes. */
  private table: { background: string; colors: ColorTable } | undefined;
  private shown: { layer: DecodedLayer; range: ScoreRange; kind: SnapshotScoreKind; cell: number } | undefined;

  constructor() {
    this.tooltip.hidden = true;
    this.scroller.append(this.canvas, this.tooltip);
    this.frame = el(
      'div',
      { className: 'heatmap-frame' },
      this.colsTitle,
      el('div', { className: 'heatmap-row' }, this.rowsTitle, this.scroller),
    );
    this.canvas.addEventListener('mousemove', (event) => this.hover(event));
    this.canvas.addEventListener('mouseleave', () => {
      this.tooltip.hidden = true;
    });
  }

  /**
   * Draws `layer` with colours over `range`; false when the page has no 2D context. The cells fill
   * the frame's width and the window's height below it, times `zoom`.
   */
  draw(layer: DecodedLayer, range: ScoreRange, kind: SnapshotScoreKind, theme: Theme, zoom: Zoom): boolean {
    const { canvas } = this;
    const ctx = canvas.getContext('2d');
    if (!ctx) return false;
    const titles = axisTitles(layer);
    this.rowsTitle.textContent = titles.rows;
    this.colsTitle.textContent = titles.cols;
    const dpr = window.devicePixelRatio || 1;
    const width = Math.max(120, this.scroller.clientWidth - 4);
    const top = this.scroller.getBoundingClientRect().top;
    const height = Math.max(200, window.innerHeight - Math.max(0, top) - 16);
    const cell = cellSize(layer.rows, layer.cols, width * dpr, height * dpr, zoom);
    const w = cell * layer.cols;
    const h = cell * layer.rows;
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
      canvas.style.width = `${w / dpr}px`;
      canvas.style.height = `${h / dpr}px`;
    }
    if (!this.offscreen || this.offscreen.width !== layer.cols || this.offscreen.height !== layer.rows) {
      this.offscreen = document.createElement('canvas');
      this.offscreen.width = layer.cols;
      this.offscreen.height = layer.rows;
    }
    const off = this.offscreen.getContext('2d');
    if (!off) return false;
    if (!this.table || this.table.background !== theme.background)
      this.table = { background: theme.background, colors: colorTable(parseColor(theme.background)) };
    const hatched = cell >= HATCH_MIN_CELL;
    const { kept: keptColors, pruned: prunedColors } = this.table.colors;
    const image = off.createImageData(layer.cols, layer.rows);
    const data = image.data;
    const { scores, mask } = layer;
    const { min, max } = range;
    const scale = max > min ? (TABLE_SIZE - 1) / (max - min) : 0;
    const middle = Math.round((TABLE_SIZE - 1) / 2);
    for (let i = 0; i < scores.length; i++) {
      const t = scale === 0 ? middle : Math.round((scores[i]! - min) * scale);
      const k = (t < 0 ? 0 : t >= TABLE_SIZE ? TABLE_SIZE - 1 : t) * 3;
      const colors = mask[i] === 1 || hatched ? keptColors : prunedColors;
      const o = i * 4;
      data[o] = colors[k]!;
      data[o + 1] = colors[k + 1]!;
      data[o + 2] = colors[k + 2]!;
      data[o + 3] = 255;
    }
    off.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.offscreen, 0, 0, w, h);
    if (hatched) {
      // Pruned blocks keep their colour between stripes of the background.
      ctx.save();
      ctx.beginPath();
      let any = false;
      for (let i = 0; i < mask.length; i++) {
        if (mask[i] === 1) continue;
        any = true;
        ctx.rect((i % layer.cols) * cell, Math.floor(i / layer.cols) * cell, cell, cell);
      }
      if (any) {
        ctx.clip();
        hatch(ctx, w, h, cell, withAlpha(theme.background, HATCH_ALPHA));
      }
      ctx.restore();
    }
    this.shown = { layer, range, kind, cell };
    canvas.dataset.cell = String(cell);
    canvas.dataset.hatched = String(hatched);
    canvas.dataset.background = theme.background;
    return true;
  }

  private hover(event: MouseEvent): void {
    const shown = this.shown;
    if (!shown) return;
    const { layer } = shown;
    const rect = this.canvas.getBoundingClientRect();
    const col = Math.floor(((event.clientX - rect.left) / rect.width) * layer.cols);
    const row = Math.floor(((event.clientY - rect.top) / rect.height) * layer.rows);
    if (row < 0 || col < 0 || row >= layer.rows || col >= layer.cols) {
      this.tooltip.hidden = true;
      return;
    }
    const i = row * layer.cols + col;
    this.tooltip.textContent = blockTooltip(layer, row, col, layer.scores[i]!, layer.mask[i] === 1, shown.kind);
    this.tooltip.hidden = false;
    const box = this.scroller.getBoundingClientRect();
    const x = event.clientX - box.left + this.scroller.scrollLeft + 12;
    const y = event.clientY - box.top + this.scroller.scrollTop + 12;
    // Kept inside the frame: flipped to the pointer's left near the right edge.
    const flip = event.clientX - box.left > box.width * 0.6;
    this.tooltip.style.left = flip ? '' : `${x}px`;
    this.tooltip.style.right = flip ? `${box.right - event.clientX + 12 - this.scroller.scrollLeft}px` : '';
    this.tooltip.style.top = `${y}px`;
  }
}

/** The colour legend's ramp, drawn once. */
export function drawRamp(canvas: HTMLCanvasElement): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const image = ctx.createImageData(canvas.width, 1);
  for (let x = 0; x < canvas.width; x++) {
    const [r, g, b] = ramp(x / (canvas.width - 1));
    image.data.set([r, g, b, 255], x * 4);
  }
  for (let y = 0; y < canvas.height; y++) ctx.putImageData(image, 0, y);
}

/** The legend's kept and pruned swatches: a block of the ramp's middle colour, plain and hatched like the heatmap's. */
export function drawKeySwatch(canvas: HTMLCanvasElement, pruned: boolean, theme: Theme): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const [r, g, b] = ramp(0.6);
  ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (pruned) hatch(ctx, canvas.width, canvas.height, canvas.width, withAlpha(theme.background, HATCH_ALPHA));
}
