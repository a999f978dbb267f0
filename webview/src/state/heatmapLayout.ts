/**
 * The block heatmap's geometry and words, pure so Node tests can check them: how big a block is
 * drawn (whole device pixels, filling the space it has, times the zoom), which kernel rows and
 * columns a block covers, the axis titles (the kernel's meaning and size, the block size), the
 * colour scale (fixed over the run or the step's own) and the tooltip's text.
 */
import type { KernelGeometry, ScoreRange, SnapshotScoreKind } from '@protocol';
import { formatScore } from '../heatmapColors';

/** The zoom levels: multiples of the size that fits the panel. */
export const ZOOMS = [1, 2, 4, 8] as const;
export type Zoom = (typeof ZOOMS)[number];

/** Whether colours span the run's whole score range (comparable along the slider) or this step's. */
export type ColourScale = 'run' | 'step';

/** What the heatmap draws of one layer. */
export interface HeatmapLayer {
  name: string;
  rows: number;
  cols: number;
  kernel?: KernelGeometry;
  /** This step's smallest and largest score. */
  min: number;
  max: number;
}

/**
 * The side of one block in device pixels: the largest whole number that fits the grid into
 * `width` x `height` (device pixels), times `zoom`; at least 1.
 */
export function cellSize(rows: number, cols: number, width: number, height: number, zoom: Zoom = 1): number {
  const fit = Math.floor(Math.min(width / Math.max(1, cols), height / Math.max(1, rows)));
  return Math.max(1, fit) * zoom;
}

/** The kernel rows (or columns) block `index` covers, first and last, with `size` per block of `total`. */
export function blockSpan(index: number, size: number, total: number): [number, number] {
  const first = index * size;
  return [first, Math.min(total, first + size) - 1];
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The axis titles: what the kernel's rows and columns are, how many, and in blocks of what. */
export function axisTitles(layer: HeatmapLayer): { rows: string; cols: string } {
  const k = layer.kernel;
  if (!k) return { rows: `${plural(layer.rows, 'block row')}`, cols: `${plural(layer.cols, 'block column')}` };
  const rowsMean = k.kind === 'dense' ? 'rows: inputs' : 'rows: kernel positions × input channels (kh·kw·cin)';
  const colsMean = k.kind === 'dense' ? 'columns: outputs' : 'columns: output channels';
  return {
    rows: `${rowsMean}: ${k.rows} in ${plural(layer.rows, 'block')} of ${k.blockRows}`,
    cols: `${colsMean}: ${k.cols} in ${plural(layer.cols, 'block')} of ${k.blockCols}`,
  };
}

/** The range the colours span: the run's (when known) or this step's. */
export function colourRange(layer: HeatmapLayer, scale: ColourScale, runRange?: ScoreRange): ScoreRange {
  if (scale === 'run' && runRange && runRange.max >= runRange.min)
    return { min: Math.min(runRange.min, layer.min), max: Math.max(runRange.max, layer.max) };
  return { min: layer.min, max: layer.max };
}

/**
 * The tooltip of block (`row`, `col`): its place in the grid, the kernel rows and columns it
 * covers (inputs × outputs of a dense layer), its score and whether it is kept.
 */
export function blockTooltip(
  layer: HeatmapLayer,
  row: number,
  col: number,
  score: number,
  kept: boolean,
  kind: SnapshotScoreKind,
): string {
  const k = layer.kernel;
  const where = k
    ? (() => {
        const [r0, r1] = blockSpan(row, k.blockRows, k.rows);
        const [c0, c1] = blockSpan(col, k.blockCols, k.cols);
        const [rowsName, colsName] = k.kind === 'dense' ? ['inputs', 'outputs'] : ['rows', 'channels'];
        return ` · ${rowsName} ${r0}–${r1} × ${colsName} ${c0}–${c1}`;
      })()
    : '';
  return `block (${row}, ${col})${where} · ${kind} ${formatScore(score)} · ${kept ? 'kept' : 'pruned'}`;
}
