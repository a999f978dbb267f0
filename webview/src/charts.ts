/**
 * What the chart panels (sparsity, schedule, compare) share: chart.js with only the components
 * they use, a card per chart, the theme background (so PNGs and pixel tests read like the panel),
 * the schedule's phases as shaded bands, and the panels' `SeriesLine`s as chart.js datasets.
 */
import {
  Chart,
  Filler,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDataset,
  type Plugin,
} from 'chart.js';
import type { PhaseKindDto } from '@protocol';
import { el } from './dom';
import type { AxisRange, Point, SeriesLine } from './state/series';
import type { Theme } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Filler);

/** A phase as both the run events and the schedule preview describe it. */
export interface PhaseBand {
  kind: PhaseKindDto;
  startStep: number;
  endStep: number;
}

/** Paints the theme's background and records where the plot sits (read by the pixel tests). */
export function backgroundPlugin(theme: () => Theme): Plugin<'line'> {
  return {
    id: 'themeBackground',
    beforeDraw(chart) {
      const { ctx, width, height } = chart;
      ctx.save();
      ctx.globalCompositeOperation = 'destination-over';
      ctx.fillStyle = theme().background;
      ctx.fillRect(0, 0, width, height);
      ctx.restore();
    },
    afterDraw(chart) {
      const { left, top, right, bottom } = chart.chartArea;
      const r = chart.currentDevicePixelRatio;
      chart.canvas.dataset.area = [left, top, right, bottom].map((v) => Math.round(v * r)).join(',');
    },
  };
}

/** Shades each sparsify and sparse phase across the chart area (dense phases stay clear). */
export function phaseBandsPlugin(phases: () => readonly PhaseBand[], theme: () => Theme): Plugin<'line'> {
  return {
    id: 'phaseBands',
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      const x = scales.x;
      if (!x || !chartArea) return;
      ctx.save();
      for (const p of phases()) {
        if (p.kind === 'dense') continue;
        const x0 = Math.max(chartArea.left, x.getPixelForValue(p.startStep));
        const x1 = Math.min(chartArea.right, x.getPixelForValue(p.endStep));
        if (x1 <= x0) continue;
        ctx.fillStyle = p.kind === 'sparsify' ? theme().sparsifyBand : theme().sparseBand;
        ctx.fillRect(x0, chartArea.top, x1 - x0, chartArea.bottom - chartArea.top);
      }
      ctx.restore();
    },
  };
}

/** A titled card holding one line chart over steps, with its legend as wrapping HTML under it. */
export interface ChartCard {
  id: string;
  chart: Chart<'line', Point[]>;
  canvas: HTMLCanvasElement;
  heading: HTMLHeadingElement;
  section: HTMLElement;
  legend: HTMLElement;
  /** Labels of the lines the user switched off in the legend; kept across redraws. */
  hidden: Set<string>;
  /** Whether the chart shades the phases (then its legend explains the bands). */
  bands: boolean;
}

/** A titled card holding one line chart over steps; `percent` labels the y axis 0-100%. */
export function makeCard(
  parent: HTMLElement,
  id: string,
  title: string,
  yLabel: string,
  percent: boolean,
  plugins: Plugin<'line'>[],
): ChartCard {
  const canvas = el('canvas');
  canvas.id = `chart-${id}`;
  const heading = el('h2', { text: title });
  const legend = el('div', { className: 'legend-list' });
  legend.setAttribute('role', 'list');
  legend.setAttribute('aria-label', `${title}: legend`);
  const section = el('section', { className: 'card' }, heading, el('div', { className: 'chart-box' }, canvas), legend);
  section.id = `card-${id}`;
  parent.append(section);
  const chart = new Chart<'line', Point[]>(canvas, {
    type: 'line',
    data: { datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      // Room for the rotated y title and the last x tick, which chart.js otherwise clips at the edge.
      layout: { padding: { left: 2, right: 12, top: 6 } },
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      elements: { point: { radius: 0, hitRadius: 4 }, line: { borderWidth: 2 } },
      // Lines may overflow the plot by a few pixels, so a curve at 0% or 100% is drawn whole.
      datasets: { line: { clip: 4 } },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'step' } },
        y: {
          type: 'linear',
          title: { display: true, text: yLabel },
          ...(percent ? { ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` } } : {}),
        },
      },
      // The legend is HTML under the chart (it wraps, and its swatches are drawn like the lines).
      plugins: { legend: { display: false } },
    },
    plugins,
  });
  const bands = plugins.some((p) => p.id === 'phaseBands');
  return { id, chart, canvas, heading, section, legend, hidden: new Set(), bands };
}

/** Chart.js's defaults follow the VS Code theme (text, grid lines, font). */
export function applyChartTheme(theme: Theme): void {
  Chart.defaults.color = theme.foreground;
  Chart.defaults.borderColor = theme.grid;
  Chart.defaults.font.family = theme.fontFamily;
  Chart.defaults.font.size = theme.fontSize;
}

const colorOf = (l: SeriesLine, theme: Theme) =>
  l.color === 'target' ? theme.target : theme.series[l.color % theme.series.length]!;

/** The panel's lines as chart.js datasets in the theme's colours; lines switched off stay off. */
function datasets(lines: readonly SeriesLine[], theme: Theme, hidden: Set<string>): ChartDataset<'line', Point[]>[] {
  return lines.map((l) => {
    const color = colorOf(l, theme);
    return {
      label: l.label,
      data: l.data,
      borderColor: color,
      backgroundColor: color,
      ...l.style,
      hidden: hidden.has(l.label) || l.style?.hidden === true,
    } as ChartDataset<'line', Point[]>;
  });
}

/** A legend swatch: the line as the chart draws it (width, dashes, points), or a phase band. */
function swatch(draw: (ctx: CanvasRenderingContext2D, width: number, height: number) => void): HTMLCanvasElement {
  const canvas = el('canvas', { className: 'swatch' });
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(28 * dpr);
  canvas.height = Math.round(12 * dpr);
  const ctx = canvas.getContext('2d');
  if (ctx) {
    ctx.scale(dpr, dpr);
    draw(ctx, 28, 12);
  }
  return canvas;
}

function lineSwatch(line: SeriesLine, theme: Theme): HTMLCanvasElement {
  const color = colorOf(line, theme);
  return swatch((ctx, w, h) => {
    const width = Math.min(line.style?.borderWidth ?? 2, 8);
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = width;
    ctx.setLineDash(line.style?.borderDash ?? []);
    ctx.beginPath();
    ctx.moveTo(1, h / 2);
    ctx.lineTo(w - 1, h / 2);
    ctx.stroke();
    const radius = line.style?.pointRadius ?? 0;
    if (radius > 0) {
      ctx.beginPath();
      ctx.arc(w / 2, h / 2, radius + 0.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  });
}

function bandSwatch(fill: string, edge: string): HTMLCanvasElement {
  return swatch((ctx, w, h) => {
    ctx.fillStyle = fill;
    ctx.fillRect(0, 0, w, h);
    ctx.strokeStyle = edge;
    ctx.lineWidth = 1;
    ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
  });
}

/** The card's legend: one toggle per line, then what the phase bands mean when the chart has them. */
export function fillLegend(
  card: ChartCard,
  lines: readonly SeriesLine[],
  theme: Theme,
  phases: readonly PhaseBand[],
): void {
  const items: HTMLElement[] = lines
    .filter((line) => line.inLegend !== false)
    .map((line) => {
      const off = card.hidden.has(line.label);
      const button = el('button', {
        className: `legend-item${off ? ' off' : ''}`,
        title: `Show or hide ${line.label}`,
      });
      button.setAttribute('aria-pressed', String(!off));
      button.dataset.label = line.label;
      button.append(lineSwatch(line, theme), el('span', { text: line.label }));
      button.addEventListener('click', () => {
        if (card.hidden.has(line.label)) card.hidden.delete(line.label);
        else card.hidden.add(line.label);
        const index = card.chart.data.datasets.findIndex((d) => d.label === line.label);
        if (index >= 0) card.chart.setDatasetVisibility(index, !card.hidden.has(line.label));
        card.chart.update('none');
        fillLegend(card, lines, theme, phases);
      });
      return button;
    });
  if (card.bands) {
    const kinds = new Set(phases.map((p) => p.kind));
    if (kinds.has('sparsify'))
      items.push(
        el(
          'span',
          { className: 'legend-item band', title: 'Phases where blocks are being removed' },
          bandSwatch(theme.sparsifyBand, theme.muted),
          el('span', { text: 'sparsify phase' }),
        ),
      );
    if (kinds.has('sparse'))
      items.push(
        el(
          'span',
          { className: 'legend-item band', title: 'Phases that train with the mask fixed' },
          bandSwatch(theme.sparseBand, theme.muted),
          el('span', { text: 'sparse phase' }),
        ),
      );
    if (kinds.has('dense'))
      items.push(
        el(
          'span',
          { className: 'legend-item band', title: 'Phases that train every block' },
          bandSwatch(theme.background, theme.muted),
          el('span', { text: 'dense phase' }),
        ),
      );
  }
  card.legend.replaceChildren(...items);
}

/** Sets every card's x axis to [0, maxStep] (when known), its y axis to its range, and redraws without animation. */
function redraw(cards: readonly ChartCard[], maxStep?: number, axes?: Partial<Record<string, AxisRange>>): void {
  for (const card of cards) {
    const scales = card.chart.options.scales;
    const x = scales?.x;
    if (x) {
      x.min = 0;
      if (maxStep !== undefined) x.max = maxStep;
    }
    const y = scales?.y;
    const range = axes?.[card.id];
    if (y && range) {
      y.min = range.min;
      y.max = range.max;
    }
    card.chart.update('none');
  }
}

/**
 * Draws a panel's charts in the theme: each card gets its lines and legend (while there are none
 * yet, the cards keep what they show), every x axis spans [0, maxStep] when known, each y axis
 * its range from `axes` (keyed like `cards`), and `phases` explain the bands in the legends.
 */
export function drawCards<K extends string>(
  cards: Record<K, ChartCard>,
  lines: Record<K, readonly SeriesLine[]> | undefined,
  theme: Theme,
  options: { maxStep?: number; axes?: Partial<Record<K, AxisRange>>; phases?: readonly PhaseBand[] } = {},
): void {
  applyChartTheme(theme);
  if (lines)
    for (const key of Object.keys(cards) as K[]) {
      const card = cards[key];
      card.chart.data.datasets = datasets(lines[key], theme, card.hidden);
      fillLegend(card, lines[key], theme, options.phases ?? []);
    }
  const byId: Partial<Record<string, AxisRange>> = {};
  for (const key of Object.keys(cards) as K[]) {
    const range = options.axes?.[key];
    if (range) byId[cards[key].id] = range;
  }
  redraw(Object.values(cards), options.maxStep, byId);
}
