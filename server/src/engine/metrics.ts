/**
 * Metrics of a run: AUC and log-loss for CTR, support-recovery F1 against a planted teacher, and
 * the sparsity a model's masks achieve (globally and per layer, in kernel entries, edge blocks at
 * their true size). Pure functions over plain arrays, plus the two that read a model's masks.
 */
import type { GroundTruthSupport } from '../data/dataset';
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

/**
 * F1 of the kept blocks against the planted support, after matching the student's block columns to
 * the teacher's; undefined when the grids differ. A student's hidden units are only defined up to a
 * permutation of the teacher's, so its block columns can hold the teacher's in any order, while the
 * input row groups are fixed by the data. Matching each student column to one teacher column so as
 * to maximise agreeing kept cells (an assignment problem) makes the score blind to that order:
 * comparing cell by cell instead leaves the F1 of a perfect recovery near chance.
 */
export function supportF1(
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
  const assignment = maxAssignment(gain);
  const tp = assignment.reduce((sum, j, i) => sum + gain[i]![j]!, 0);
  const kept = mask.reduce((n, m) => n + (m === 1 ? 1 : 0), 0);
  const planted = truth.support.reduce((n, t) => n + (t ? 1 : 0), 0);
  return tp === 0 ? 0 : (2 * tp) / (kept + planted);
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

/** Support F1 of the model layer the teacher mirrors. */
export function modelSupportF1(model: TrainableModel, truth: GroundTruthSupport): number | undefined {
  const layer = model.layers.find((l) => l.name === truth.layer);
  if (!layer?.mask) return undefined;
  return supportF1(layer.mask, layer.grid.gridRows, layer.grid.gridCols, truth);
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

/** Fraction of zero kernel entries over all kernel layers, and masked-block fraction per pruned layer. */
export function maskSparsity(model: TrainableModel): { global: number; layers: Record<string, number> } {
  let zeros = 0;
  let total = 0;
  const layers: Record<string, number> = {};
  for (const l of model.layers) {
    total += l.grid.rows * l.grid.cols;
    if (!l.mask) continue;
    layers[l.name] = 1 - l.mask.reduce((a, b) => a + b, 0) / l.grid.blocks;
    zeros += maskedEntries(l.grid, l.mask);
  }
  return { global: total > 0 ? zeros / total : 0, layers };
}
