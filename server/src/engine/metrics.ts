/**
 * Metrics of a run: AUC and log-loss for CTR, support recovery (precision@k) against a planted
 * teacher beside its chance level, and the sparsity a model's masks achieve (entry fractions, edge
 * blocks at their true size, and block fractions per layer). Pure functions over plain arrays,
 * plus the ones that read a model's masks.
 */
import type { GroundTruthSupport } from '../data/dataset';
import type { BlockGrid } from '../experiment/pruningPlan';
import type { MaskedModel } from './maskedModel';

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
  /** Precision@k: the share of the `k` kept blocks that are planted, once hidden units are matched. */
  precision: number;
  /** The expected precision of `k` blocks drawn at random: the planted share of the blocks. */
  chance: number;
}

/**
 * Which teacher block column each student block column stands for. Hidden units are only defined
 * up to a permutation, so a student's block columns can hold the teacher's in any order; they are
 * matched by what their units compute, never by the masks: the similarity of a student unit and a
 * teacher unit is the correlation of their pre-activations on the teacher's inputs (independent,
 * zero-mean, scale `σ_i`), `cos(σ⊙ŵ_j, σ⊙t_i)`; a student column scores against a teacher column
 * the sum over its units of the best match among the teacher column's units, and the assignment
 * maximising the total is the matching. Matching the columns to maximise mask agreement instead
 * lets any mask agree: at s = 0.9 with 8x8 blocks, random masks scored 0.84.
 * `studentKernel` is the student's folded `rows x cols` kernel, row-major.
 */
export function matchBlockColumns(studentKernel: ArrayLike<number>, truth: GroundTruthSupport): number[] {
  const { kernel: teacherKernel, inputScales, gridCols } = truth;
  const rows = inputScales.length;
  const cols = teacherKernel.length / rows;
  const units = (kernel: ArrayLike<number>) =>
    Array.from({ length: cols }, (_, j) => {
      const v = Float64Array.from({ length: rows }, (_, i) => inputScales[i]! * kernel[i * cols + j]!);
      const norm = Math.hypot(...v);
      return norm > 0 ? v.map((x) => x / norm) : v;
    });
  const student = units(studentKernel);
  const teacher = units(teacherKernel);
  const width = truth.block[1];
  const unitsOf = (c: number) => Array.from({ length: Math.min(width, cols - c * width) }, (_, u) => c * width + u);
  const gain = Array.from({ length: gridCols }, (_, sc) =>
    Array.from({ length: gridCols }, (_, tc) =>
      unitsOf(sc).reduce((sum, j) => {
        let best = -1;
        for (const i of unitsOf(tc)) {
          let dot = 0;
          for (let r = 0; r < rows; r++) dot += student[j]![r]! * teacher[i]![r]!;
          best = Math.max(best, dot);
        }
        return sum + best;
      }, 0),
    ),
  );
  return maxAssignment(gain);
}

/**
 * Precision@k of a mask's `k` kept blocks against the planted support, the student's block column
 * `c` standing for the teacher's `teacherColumn[c]` (`matchBlockColumns`), beside its chance
 * level. Undefined when the grids differ or nothing is kept. (F1 is not reported: with `k` below
 * the planted count it cannot reach 1, and with `k` equal to it, it is the precision.)
 */
export function supportRecovery(
  mask: Uint8Array,
  teacherColumn: number[],
  gridRows: number,
  gridCols: number,
  truth: GroundTruthSupport,
): SupportRecovery | undefined {
  if (gridRows !== truth.gridRows || gridCols !== truth.gridCols || teacherColumn.length !== gridCols) return undefined;
  const k = mask.reduce((n, m) => n + (m === 1 ? 1 : 0), 0);
  if (k === 0) return undefined;
  let hits = 0;
  for (let r = 0; r < gridRows; r++)
    for (let c = 0; c < gridCols; c++)
      if (mask[r * gridCols + c] === 1 && truth.support[r * gridCols + teacherColumn[c]!]) hits++;
  const planted = truth.support.reduce((n, t) => n + (t ? 1 : 0), 0);
  return { precision: hits / k, chance: planted / truth.support.length };
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

/** Support recovery of the model layer the teacher mirrors, matched by its folded kernel `W ⊙ A ⊙ mask`. */
export function modelSupportRecovery(model: MaskedModel, truth: GroundTruthSupport): SupportRecovery | undefined {
  const layer = model.layers.find((l) => l.name === truth.layer);
  if (!layer?.mask) return undefined;
  if (layer.grid.rows * layer.grid.cols !== truth.kernel.length) return undefined;
  const folded = model.effectiveKernel(layer);
  const kernel = folded.dataSync();
  folded.dispose();
  return supportRecovery(layer.mask, matchBlockColumns(kernel, truth), layer.grid.gridRows, layer.grid.gridCols, truth);
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
export function maskSparsity(model: MaskedModel): {
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
