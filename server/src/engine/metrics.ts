/**
 * Metrics of a run: AUC and log-loss for CTR, support recovery (precision@k) against a planted
 * teacher beside its chance level, and the sparsity a model's masks achieve (entry fractions, edge
 * blocks at their true size, and block fractions per layer). Pure functions over plain arrays,
 * plus the ones that read a model's masks.
 */
import type { GroundTruthSupport } from '../data/dataset';
import { Rng } from '../data/random';
import type { BlockGrid } from '../experiment/pruningPlan';
import type { TrainableModel } from './trainableModel';

/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative (ties count half), by ranks. NaN when a class is missing.
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1; // average 1-based rank of the tie group
    for (let k = i; k <= j; k++)
      if (labels[order[k]!]) {
        positives++;
        rankSum += rank;
      }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean binary cross-entropy of probabilities, clipped away from 0 and 1 like Keras (1e-7). */
export function logLoss(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  const eps = 1e-7;
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const p = Math.min(1 - eps, Math.max(eps, probabilities[i]!));
    sum -= labels[i] ? Math.log(p) : Math.log(1 - p);
  }
  return sum / Math.max(1, probabilities.length);
}

/** Support recovery of a kept-block mask against a planted support. */
export interface SupportRecovery {
  /** Precision@k: the share of the `k` kept blocks that are planted, after matching hidden units. */
  precision: number;
  /** The same precision for random masks of `k` blocks, after the same matching (the mean of seeded draws). */
  chance: number;
}

/**
 * Kept blocks that hit the planted support when the student's block columns are matched to the
 * teacher's. A student's hidden units are only defined up to a permutation of the teacher's, so
 * its block columns can hold the teacher's in any order, while the input row groups are fixed by
 * the data: each student column is matched to one teacher column so as to maximise agreeing kept
 * cells (an assignment problem). Undefined when the grids differ.
 */
export function matchedHits(
  mask: Uint8Array,
  gridRows: number,
  gridCols: number,
  truth: GroundTruthSupport,
): number | undefined {
  if (gridRows !== truth.gridRows || gridCols !== truth.gridCols) return undefined;
  const overlap = (studentCol: number, teacherCol: number) => {
    let both = 0;
    for (let r = 0; r < gridRows; r++)
      if (mask[r * gridCols + studentCol] === 1 && truth.support[r * gridCols + teacherCol]) both++;
    return both;
  };
  const gain = Array.from({ length: gridCols }, (_, i) => Array.from({ length: gridCols }, (_, j) => overlap(i, j)));
  return maxAssignment(gain).reduce((sum, j, i) => sum + gain[i]![j]!, 0);
}

/** Random masks behind the chance level: its standard error stays below 0.01 at the teacher's sizes. */
const CHANCE_DRAWS = 200;

/**
 * Precision@k of a mask's `k` kept blocks against the planted support (after matching), beside
 * the same precision of random masks with `k` blocks. Matching lifts chance well above the planted
 * share (random masks of 13 blocks out of 128 score 0.84 against 32 planted ones), so the precision
 * means something only next to it. Undefined when the grids differ or nothing is kept. (F1 is not
 * reported: with `k` below the planted count it cannot reach 1, and with `k` equal to it, it is
 * the precision.)
 */
export function supportRecovery(
  mask: Uint8Array,
  gridRows: number,
  gridCols: number,
  truth: GroundTruthSupport,
): SupportRecovery | undefined {
  const k = mask.reduce((n, m) => n + (m === 1 ? 1 : 0), 0);
  const hits = matchedHits(mask, gridRows, gridCols, truth);
  if (hits === undefined || k === 0) return undefined;
  const rng = Rng.from(k, 'support chance', gridRows, gridCols);
  let chanceHits = 0;
  for (let d = 0; d < CHANCE_DRAWS; d++) {
    const random = new Uint8Array(mask.length);
    const order = rng.permutation(mask.length);
    for (let i = 0; i < k; i++) random[order[i]!] = 1;
    chanceHits += matchedHits(random, gridRows, gridCols, truth)!;
  }
  return { precision: hits / k, chance: chanceHits / CHANCE_DRAWS / k };
}

/**
 * The assignment of rows to columns of a square gain matrix with the largest total gain
 * (Hungarian method, O(n^3)); `result[row]` is the row's column.
 */
export function maxAssignment(gain: number[][]): number[] {
  const n = gain.length;
  const max = Math.max(0, ...gain.flat());
  // Minimise cost = max - gain with potentials u (rows) and v (columns), 1-based with a dummy 0.
  const cost = (i: number, j: number) => max - gain[i - 1]![j - 1]!;
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const rowOfCol = new Int32Array(n + 1);
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    rowOfCol[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = rowOfCol[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const reduced = cost(i0, j) - u[i0]! - v[j]!;
        if (reduced < minv[j]!) {
          minv[j] = reduced;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[rowOfCol[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (rowOfCol[j0] !== 0);
    do {
      const j1 = way[j0]!;
      rowOfCol[j0] = rowOfCol[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const result = new Array<number>(n).fill(0);
  for (let j = 1; j <= n; j++) if (rowOfCol[j]! > 0) result[rowOfCol[j]! - 1] = j - 1;
  return result;
}

/** Support recovery of the model layer the teacher mirrors. */
export function modelSupportRecovery(model: TrainableModel, truth: GroundTruthSupport): SupportRecovery | undefined {
  const layer = model.layers.find((l) => l.name === truth.layer);
  if (!layer?.mask) return undefined;
  return supportRecovery(layer.mask, layer.grid.gridRows, layer.grid.gridCols, truth);
}

/** Fraction of a layer's blocks whose attention lies outside the clip range `[density, 1/density]` (0 without a clip). */
export function clippedFraction(attention: ArrayLike<number> | null, density: number | null): number {
  if (!attention || attention.length === 0 || density === null || density <= 0 || density >= 1) return 0;
  let clipped = 0;
  for (let i = 0; i < attention.length; i++) {
    const v = attention[i]!;
    if (v < density || v > 1 / density) clipped++;
  }
  return clipped / attention.length;
}

/** Kernel entries a mask zeroes, edge blocks counted at their true size. */
export function maskedEntries(grid: BlockGrid, mask: Uint8Array): number {
  let zeros = 0;
  for (let r = 0; r < grid.gridRows; r++)
    for (let c = 0; c < grid.gridCols; c++)
      if (!mask[r * grid.gridCols + c])
        zeros +=
          Math.min(grid.blockRows, grid.rows - r * grid.blockRows) *
          Math.min(grid.blockCols, grid.cols - c * grid.blockCols);
  return zeros;
}

/**
 * Sparsity of a model's masks, each per-layer figure under its own name: `global` is the fraction
 * of zero kernel entries over every layer with a kernel; `blockSparsity` the fraction of a pruned
 * layer's blocks that are masked (what the schedule's target counts); `entrySparsity` the fraction
 * of its kernel entries that are zero (edge blocks are smaller, so the two differ on edge grids).
 */
export function maskSparsity(model: TrainableModel): {
  global: number;
  blockSparsity: Record<string, number>;
  entrySparsity: Record<string, number>;
} {
  let zeros = 0;
  let total = 0;
  const blockSparsity: Record<string, number> = {};
  const entrySparsity: Record<string, number> = {};
  for (const l of model.layers) {
    const entries = l.grid.rows * l.grid.cols;
    total += entries;
    if (!l.mask) continue;
    const masked = maskedEntries(l.grid, l.mask);
    blockSparsity[l.name] = 1 - l.mask.reduce((a, b) => a + b, 0) / l.grid.blocks;
    entrySparsity[l.name] = masked / entries;
    zeros += masked;
  }
  return { global: total > 0 ? zeros / total : 0, blockSparsity, entrySparsity };
}
