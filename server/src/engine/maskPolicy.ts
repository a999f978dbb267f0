/**
 * Moves the block masks of the pruned layers through the phases of the one schedule: the method
 * (engine/methods/) says which move each phase makes; the moves themselves are shared here.
 * SA++ ranks blocks by their logits `L` (the order of `A = N·softmax(L)` before the clip: the
 * clip would tie every block at its floor), the other methods by block Frobenius norm; exact ties
 * go in a random order seeded by the run's seed, the layer and the step.
 */
import type { PruningConfig } from '../experiment/methods';
import { keptBlocks, keptBlocksAt, type Phase, type Schedule } from '../experiment/schedule';
import { blockNorms, countKept, topKMask } from './blockMask';
import { Rng } from '../data/random';
import type { PrunableLayer, TrainableModel } from './trainableModel';
import { methodEngine } from './methods';
import type { MethodEngine, PrunedMasks } from './methods/methodEngine';

export class MaskPolicy implements PrunedMasks {
  private readonly method: MethodEngine<PruningConfig>;
  private readonly zeroes: boolean;

  constructor(
    private readonly pruning: PruningConfig,
    private readonly schedule: Schedule,
    private readonly model: TrainableModel,
    /** The run's seed: the order of exact ties in the top-k. */
    private readonly seed: number,
  ) {
    this.method = methodEngine(pruning);
    this.zeroes = this.method.zeroesPruned(pruning);
  }

  /** Called once when the trainer enters `phase` (also when a resumed run re-enters it). */
  enterPhase(phase: Phase, previous: Phase | null): void {
    this.method.enterPhase(this, phase, previous);
  }

  /** Called before the update of `step`. */
  beforeStep(step: number, phase: Phase): void {
    if (phase.kind === 'sparsify') this.method.beforeSparsifyStep?.(this, step, phase, this.pruning);
  }

  keepAll(): void {
    for (const layer of this.pruned) this.model.setMask(layer, new Uint8Array(layer.grid.blocks).fill(1));
  }

  keepFinal(phase: Phase, previous: Phase | null): void {
    const afterSparsify = previous?.kind === 'sparsify';
    for (const layer of this.pruned) {
      const k = keptBlocks(layer.grid.blocks, this.schedule.sparsity);
      if (!afterSparsify || countKept(layer.mask!) !== k) this.keep(layer, k, afterSparsify, phase.startStep);
    }
  }

  shrinkToSchedule(step: number, phase: Phase, every: number): void {
    const last = step === phase.endStep - 1;
    if ((step - phase.startStep) % every !== 0 && !last) return;
    for (const layer of this.pruned) {
      const target = last
        ? keptBlocks(layer.grid.blocks, this.schedule.sparsity)
        : keptBlocksAt(this.schedule, step, layer.grid.blocks);
      if (target < countKept(layer.mask!)) this.keep(layer, target, true, step);
    }
  }

  private get pruned(): PrunableLayer[] {
    return this.model.layers.filter((l) => l.pruned);
  }

  private scores(layer: PrunableLayer): ArrayLike<number> {
    return this.method.score === 'attention'
      ? this.model.attentionValues(layer)!
      : blockNorms(layer.kernel, layer.grid);
  }

  private keep(layer: PrunableLayer, k: number, amongKept: boolean, step: number): void {
    const ties = Rng.from(this.seed, 'top-k ties', layer.name, step);
    const mask = topKMask(this.scores(layer), k, ties, amongKept ? layer.mask! : undefined);
    this.model.setMask(layer, mask);
    if (this.zeroes) this.model.zeroMaskedWeights(layer);
  }
}
