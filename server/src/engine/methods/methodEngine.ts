/**
 * What a pruning method does in the engine: each method module in this folder exports one
 * `MethodEngine`, registered in `METHOD_ENGINES` (index.ts) under the same name as its format row
 * in server/src/experiment/methods/ (its keys and schedule).
 */
import type { SnapshotScoreKind } from '@protocol';
import type { Phase, Schedule } from '../../experiment/schedule';
import type { MaskedModelOptions } from '../maskedModel';

/** The mask moves the methods share, each over every pruned layer (`MaskPolicy` implements them). */
export interface PrunedMasks {
  /** Every block kept. */
  keepAll(): void;
  /**
   * At the start of the sparse `phase`: the final `k` blocks by the method's score. After a
   * sparsify phase they are chosen among the kept blocks, and only when it did not already end at `k`.
   */
  keepFinal(phase: Phase, previous: Phase | null): void;
  /**
   * Inside a sparsify phase: shrink the kept set (never grow it) to the schedule's `k_t` every
   * `every` steps from the phase start, and to the final `k` on its last step.
   */
  shrinkToSchedule(step: number, phase: Phase, every: number): void;
}

/** A method's row in `METHOD_ENGINES`, for its own variant `C` of the `pruning` section. */
export interface MethodEngine<C> {
  /** The block score it ranks blocks by and its snapshots hold: SA++'s attention `A` (before the clip), or block norms. */
  score: SnapshotScoreKind;
  /** Whether pruned blocks are set to zero (else only masked: they come back with their values). */
  zeroesPruned(pruning: C): boolean;
  /** How the pruned layers are built: attention logits (SA++), their clip and initial values. */
  layerOptions(pruning: C, schedule: Schedule): MaskedModelOptions;
  /** Called once when the trainer enters `phase` (also when a resumed run re-enters it). */
  enterPhase(masks: PrunedMasks, phase: Phase, previous: Phase | null): void;
  /** Called before the update of `step` inside a sparsify phase; absent when the method plans none. */
  beforeSparsifyStep?(masks: PrunedMasks, step: number, phase: Phase, pruning: C): void;
}

/** Layers without attention: the weights times the mask. */
export const PLAIN_LAYERS: MaskedModelOptions = { attention: false, clipDensity: null, logitInit: 'zeros' };
