/**
 * Metrics of a run: AUC and log-loss for CTR, support-recovery F1 against a planted teacher, and
 * the sparsity a model's masks achieve (globally and per layer, in kernel entries, edge blocks at
 * their true size). Pure functions over plain arrays, plus the two that read a model's masks.
 */
import type { GroundTruthSupport } from './data/dataset';
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

/** F1 of the kept blocks against the planted support; undefined when the grids differ. */
export function supportF1(
  mask: Uint8Array,
  gridRows: number,
  gridCols: number,
  truth: GroundTruthSupport,
): number | undefined {
  if (gridRows !== truth.gridRows || gridCols !== truth.gridCols) return undefined;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  truth.support.forEach((t, i) => {
    const kept = mask[i] === 1;
    if (kept && t) tp++;
    else if (kept) fp++;
    else if (t) fn++;
  });
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** Support F1 of the model layer the teacher mirrors. */
export function modelSupportF1(model: MaskedModel, truth: GroundTruthSupport): number | undefined {
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
export function maskSparsity(model: MaskedModel): { global: number; layers: Record<string, number> } {
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
