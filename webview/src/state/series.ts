/**
 * The chart panels' lines before chart.js: points from events (finite values only, decimated for
 * long runs), a colour by role and a few plain line options. Pure: the panels' state modules build
 * these and Node tests read them; `charts.ts` turns them into chart.js datasets.
 */
import { decimate } from '../decimate';

export type Point = { x: number; y: number };

/** Chart.js line options a panel sets beyond the defaults. */
export interface LineStyle {
  borderDash?: number[];
  borderWidth?: number;
  pointRadius?: number;
  hidden?: boolean;
  /** Drawing order: 0 on top, higher below (chart.js `order`). */
  order?: number;
}

/** A y axis's bounds; an absent one follows the data. */
export interface AxisRange {
  min?: number;
  max?: number;
}

export interface SeriesLine {
  label: string;
  data: Point[];
  /** An index into the theme's series colours (wrapping), or the colour of a schedule target. */
  color: number | 'target';
  style?: LineStyle;
  /** False for a line its legend need not list (a compared run's target, in its run's colour). */
  inLegend?: boolean;
}

/** The finite `y(e)` of each event as a point, decimated for long runs. */
export function points<T>(events: readonly T[], x: (e: T) => number, y: (e: T) => number | undefined): Point[] {
  const out: Point[] = [];
  for (const e of events) {
    const v = y(e);
    if (v !== undefined && Number.isFinite(v)) out.push({ x: x(e), y: v });
  }
  return decimate(out, (p) => p.y);
}

/** A CSV field, quoted when it holds a comma, quote or newline. */
export function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * The accuracy axis: from a round tenth at least 0.05 below the lowest value up to 1, so
 * 0.80–0.87 reads as the small change it is rather than filling the chart with noise.
 */
export function accuracyAxis(values: readonly number[]): AxisRange {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { min: 0, max: 1 };
  const low = Math.min(...finite);
  return { min: Math.max(0, Math.floor((low - 0.05) * 10) / 10), max: 1 };
}
