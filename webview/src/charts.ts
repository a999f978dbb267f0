/**
 * What the chart panels (sparsity, schedule, compare) share: chart.js with only the components
 * they use, a card per chart, the theme background (so PNGs and pixel tests read like the panel),
 * the schedule's phases as shaded bands, and the panels' `SeriesLine`s as chart.js datasets.
 */
import {
  Chart,
  Filler,
  Legend,
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
import type { Point, SeriesLine } from './state/series';
import type { Theme } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Legend, Filler);

/** A phase as both the run events and the schedule preview describe it. */
export interface PhaseBand {
  kind: PhaseKindDto;
  startStep: number;
  endStep: number;
}

export interface ChartCard {
  id: string;
  chart: Chart<'line', Point[]>;
  canvas: HTMLCanvasElement;
  heading: HTMLHeadingElement;
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

/** A titled card holding one line chart over steps; `percent` fixes the y axis to 0-100%. */
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
  parent.append(el('section', { className: 'card' }, heading, el('div', { className: 'chart-box' }, canvas)));
  const chart = new Chart<'line', Point[]>(canvas, {
    type: 'line',
    data: { datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      elements: { point: { radius: 0, hitRadius: 4 }, line: { borderWidth: 2 } },
      // Lines may overflow the plot by a few pixels, so a curve at 0% or 100% is drawn whole.
      datasets: { line: { clip: 4 } },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'step' } },
        y: {
          type: 'linear',
          title: { display: true, text: yLabel },
          ...(percent ? { min: 0, max: 1, ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` } } : {}),
        },
      },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    },
    plugins,
  });
  return { id, chart, canvas, heading };
}

/** Chart.js's defaults follow the VS Code theme (text, grid lines, font). */
function applyChartTheme(theme: Theme): void {
  Chart.defaults.color = theme.foreground;
  Chart.defaults.borderColor = theme.grid;
  Chart.defaults.font.family = theme.fontFamily;
  Chart.defaults.font.size = theme.fontSize;
}

/** The panel's lines as chart.js datasets in the theme's colours. */
function datasets(lines: readonly SeriesLine[], theme: Theme): ChartDataset<'line', Point[]>[] {
  return lines.map((l) => {
    const color = l.color === 'target' ? theme.target : theme.series[l.color % theme.series.length]!;
    return { label: l.label, data: l.data, borderColor: color, backgroundColor: color, ...l.style } as ChartDataset<
      'line',
      Point[]
    >;
  });
}

/** Sets every card's x axis to [0, maxStep] (when known) and redraws without animation. */
function redraw(cards: readonly ChartCard[], maxStep?: number): void {
  for (const card of cards) {
    const x = card.chart.options.scales?.x;
    if (x) {
      x.min = 0;
      if (maxStep !== undefined) x.max = maxStep;
    }
    card.chart.update('none');
  }
}

/**
 * Draws a panel's charts in the theme: each card gets its lines (while there are none yet, the
 * cards keep what they show), every x axis spans [0, maxStep] when known.
 */
export function drawCards<K extends string>(
  cards: Record<K, ChartCard>,
  lines: Record<K, readonly SeriesLine[]> | undefined,
  theme: Theme,
  maxStep?: number,
): void {
  applyChartTheme(theme);
  if (lines) for (const key of Object.keys(cards) as K[]) cards[key].chart.data.datasets = datasets(lines[key], theme);
  redraw(Object.values(cards), maxStep);
}
