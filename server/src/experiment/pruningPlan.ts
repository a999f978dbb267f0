/**
 * Which layers a config prunes and what is left of them: the block grid of every layer with a
 * kernel, whether `layers`/`exclude`/`min_blocks` keep it dense, the blocks kept at the target,
 * and the global sparsity that follows. Shapes only, no training. The engine prunes exactly the
 * layers this plan marks `pruned`.
 */
import type { ModelShape } from './modelShape';
import { keptBlocks } from './schedule';
import { methodFormat, targetSparsity, type PruningConfig } from './methods';
import { blockShape } from './schema';

export type LayerPlanStatus =
  /** Pruned at the target sparsity. */
  | 'pruned'
  /** Selected, but has fewer than `min_blocks` blocks. */
  | 'skipped-min-blocks'
  /** Matched by `exclude`. */
  | 'excluded'
  /** Not matched by `layers`. */
  | 'not-selected';

export interface BlockGrid {
  /** The layer's 2-D matrix. */
  rows: number;
  cols: number;
  /** Block shape. */
  blockRows: number;
  blockCols: number;
  /** Ceil grid: `ceil(rows / blockRows)` by `ceil(cols / blockCols)`. */
  gridRows: number;
  gridCols: number;
  blocks: number;
  /** Rows (cols) in the last, smaller block row (column); 0 when the block side divides. */
  edgeRows: number;
  edgeCols: number;
}

export interface LayerPlan extends BlockGrid {
  name: string;
  status: LayerPlanStatus;
  /** Blocks kept at the end of training (`blocks` when not pruned). */
  keptBlocks: number;
  /** Expected fraction of the layer's kernel entries that are zero at the end. */
  sparsity: number;
}

export interface PatternMatch {
  list: 'layers' | 'exclude';
  index: number;
  pattern: string;
  matches: string[];
}

export interface PruningPlan {
  layers: LayerPlan[];
  /** Every pattern of `layers` and `exclude` with the layers it matched. */
  patterns: PatternMatch[];
  /** Requested sparsity (fraction of blocks per pruned layer). */
  targetSparsity: number;
  /**
   * Expected fraction of zero kernel entries over all layers with a kernel, pruned or not (the
   * paper's "real sparsity"). Edge blocks are counted at their true size only on average.
   */
  globalSparsity: number;
  /** Kernel entries over all layers with a kernel. */
  kernelEntries: number;
}

export function blockGrid(rows: number, cols: number, block: [number, number]): BlockGrid {
  const [blockRows, blockCols] = block;
  const gridRows = Math.ceil(rows / blockRows);
  const gridCols = Math.ceil(cols / blockCols);
  return {
    rows,
    cols,
    blockRows,
    blockCols,
    gridRows,
    gridCols,
    blocks: gridRows * gridCols,
    edgeRows: rows % blockRows,
    edgeCols: cols % blockCols,
  };
}

/** Glob over layer names: `*` any run of characters, `?` one character; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export function matchLayers(pattern: string, names: string[]): string[] {
  const re = globToRegExp(pattern);
  return names.filter((n) => re.test(n));
}

export function planPruning(model: ModelShape, pruning: PruningConfig): PruningPlan {
  const block = blockShape(pruning);
  const candidates = model.layers.filter((l) => l.matrix !== null);
  const names = candidates.map((l) => l.name);
  const patterns: PatternMatch[] = [];
  const selected = new Set<string>();
  if (pruning.layers === 'all') names.forEach((n) => selected.add(n));
  else {
    pruning.layers.forEach((pattern, index) => {
      const matches = matchLayers(pattern, names);
      matches.forEach((n) => selected.add(n));
      patterns.push({ list: 'layers', index, pattern, matches });
    });
  }
  const excluded = new Set<string>();
  pruning.exclude.forEach((pattern, index) => {
    const matches = matchLayers(pattern, names);
    matches.forEach((n) => excluded.add(n));
    patterns.push({ list: 'exclude', index, pattern, matches });
  });

  const prunes = methodFormat(pruning).prunes;
  const target = targetSparsity(pruning);
  let zeros = 0;
  let entries = 0;
  const layers = candidates.map((l): LayerPlan => {
    const [rows, cols] = l.matrix!;
    const grid = blockGrid(rows, cols, block);
    let status: LayerPlanStatus = 'pruned';
    if (!selected.has(l.name)) status = 'not-selected';
    else if (excluded.has(l.name)) status = 'excluded';
    else if (grid.blocks < pruning.min_blocks) status = 'skipped-min-blocks';
    if (!prunes && status === 'pruned') status = 'not-selected';
    const kept = status === 'pruned' ? keptBlocks(grid.blocks, target) : grid.blocks;
    const sparsity = (grid.blocks - kept) / grid.blocks;
    zeros += sparsity * rows * cols;
    entries += rows * cols;
    return { name: l.name, ...grid, status, keptBlocks: kept, sparsity };
  });
  return {
    layers,
    patterns,
    targetSparsity: target,
    globalSparsity: entries > 0 ? zeros / entries : 0,
    kernelEntries: entries,
  };
}
