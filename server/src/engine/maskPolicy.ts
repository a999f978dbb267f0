/**
 * How each method moves the block masks through the phases of the one schedule (spec §1.2, §2):
 * - sapp: dense phases train with every block; a sparsify phase shrinks the kept set monotonically
 *   to the schedule's `k_t` by attention `A` among the kept blocks; sparse phases freeze it. Without
 *   sparsification (the ablation) the mask becomes the top-k of `A` at the start of each sparse phase.
 * - acdc: each sparse phase keeps the top-k blocks by Frobenius norm at its start; dense phases
 *   bring every block back (zeroed or with old values, by `pruned_weights`).
 * - magnitude: train dense, then keep the top-k by norm once (or ramp down gradually), zero the rest.
 * - none: nothing is pruned.
 */
import type { PruningConfig } from '../experiment/schema';
import { keptBlocks, keptBlocksAt, type Phase, type Schedule } from '../experiment/schedule';
import { blockNorms, countKept, topKMask } from './blockMask';
import type { KernelLayer, MaskedModel } from './maskedModel';

export class MaskPolicy {
  constructor(
    private readonly pruning: PruningConfig,
    private readonly schedule: Schedule,
    private readonly model: MaskedModel,
  ) {}

  private get pruned(): KernelLayer[] {
    return this.model.layers.filter((l) => l.pruned);
  }

  private get zeroes(): boolean {
    return (
      this.pruning.method === 'magnitude' ||
      ('pruned_weights' in this.pruning && this.pruning.pruned_weights === 'zero')
    );
  }

  private scores(layer: KernelLayer): ArrayLike<number> {
    return this.pruning.method === 'sapp' ? this.model.attentionValues(layer)! : blockNorms(layer.kernel, layer.grid);
  }

  private keep(layer: KernelLayer, k: number, amongKept: boolean): void {
    const mask = topKMask(this.scores(layer), k, amongKept ? layer.mask! : undefined);
    this.model.setMask(layer, mask);
    if (this.zeroes) this.model.zeroMaskedWeights(layer);
  }

  /** Called once when the trainer enters `phase` (also when a resumed run re-enters it). */
  enterPhase(phase: Phase, previous: Phase | null): void {
    if (this.pruning.method === 'none') return;
    for (const layer of this.pruned) {
      const k = keptBlocks(layer.grid.blocks, this.schedule.sparsity);
      switch (phase.kind) {
        case 'dense':
          if (this.pruning.method !== 'magnitude') this.model.setMask(layer, new Uint8Array(layer.grid.blocks).fill(1));
          break;
        case 'sparsify':
          if (this.pruning.method === 'sapp') this.model.setMask(layer, new Uint8Array(layer.grid.blocks).fill(1));
          break;
        case 'sparse':
          // After a sparsify phase the mask already holds exactly k blocks; otherwise pick them now.
          if (previous?.kind !== 'sparsify' || countKept(layer.mask!) !== k)
            this.keep(layer, k, previous?.kind === 'sparsify');
          break;
      }
    }
  }

  /** Called before the update of `step` inside a sparsify phase. */
  beforeStep(step: number, phase: Phase): void {
    if (phase.kind !== 'sparsify' || this.pruning.method === 'none') return;
    const every =
      this.pruning.method === 'sapp'
        ? this.pruning.mask_update_every
        : this.pruning.method === 'magnitude'
          ? this.pruning.update_every
          : 1;
    const offset = step - phase.startStep;
    const last = step === phase.endStep - 1;
    if (offset % every !== 0 && !last) return;
    for (const layer of this.pruned) {
      const target = last
        ? keptBlocks(layer.grid.blocks, this.schedule.sparsity)
        : keptBlocksAt(this.schedule, step, layer.grid.blocks);
      if (target < countKept(layer.mask!)) this.keep(layer, target, true);
    }
  }
}
