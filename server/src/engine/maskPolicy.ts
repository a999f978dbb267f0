/**
 * Moves the block masks of the pruned layers through the phases of the one schedule: the method
 * (engine/methods/) says which move each phase makes; the moves themselves are shared here.
 */
import type { PruningConfig } from '../experiment/methods';
import { keptBlocks, keptBlocksAt, type Phase, type Schedule } from '../experiment/schedule';
import { blockNorms, countKept, topKMask } from './blockMask';
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

  keepFinal(previous: Phase | null): void {
    const afterSparsify = previous?.kind === 'sparsify';
    for (const layer of this.pruned) {
      const k = keptBlocks(layer.grid.blocks, this.schedule.sparsity);
      if (!afterSparsify || countKept(layer.mask!) !== k) this.keep(layer, k, afterSparsify);
    }
  }

  shrinkToSchedule(step: number, phase: Phase, every: number): void {
    const last = step === phase.endStep - 1;
    if ((step - phase.startStep) % every !== 0 && !last) return;
    for (const layer of this.pruned) {
      const target = last
        ? keptBlocks(layer.grid.blocks, this.schedule.sparsity)
        : keptBlocksAt(this.schedule, step, layer.grid.blocks);
      if (target < countKept(layer.mask!)) this.keep(layer, target, true);
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

  private keep(layer: PrunableLayer, k: number, amongKept: boolean): void {
    const mask = topKMask(this.scores(layer), k, amongKept ? layer.mask! : undefined);
    this.model.setMask(layer, mask);
    if (this.zeroes) this.model.zeroMaskedWeights(layer);
  }
}
