/**
 * What a pruning method adds to the experiment format and to the one phase schedule (schedule.ts):
 * each method module in this folder exports one `MethodFormat`, registered in `METHOD_FORMATS`
 * (index.ts). Its engine part (mask policy, model options) is in server/src/engine/methods/.
 */
import type { z } from 'zod';

export type PhaseKind = 'dense' | 'sparsify' | 'sparse';

/** How the target sparsity moves inside a phase. */
export type PhaseCurve = 'flat' | 'exponential' | 'polynomial';

/** One phase as a method plans it: its length a fraction of the training steps, not yet normalised. */
export interface PlannedPhase {
  kind: PhaseKind;
  length: number;
  cycle: number | null;
  curve: PhaseCurve;
  label: string;
}

/** One configured length, with the schedule key(s) it comes from. */
export interface FractionPart {
  key: string;
  value: number;
}

/** A list inside `pruning.schedule` whose parts must add up to 1, like SA++'s cycle `split`. */
export interface ScheduleSplit {
  key: string;
  /** How messages name it: "The cycle split adds up to …". */
  name: string;
  parts: number[];
}

/** The schedule side of a method, for its own variant `C` of the `pruning` section. */
export interface MethodSchedule<C> {
  /** False for `none`: target sparsity 0 and no layer pruned, whatever the file says. */
  prunes: boolean;
  /** The phases the method asks for, in order (schedule.ts normalises and places them). */
  plannedPhases(pruning: C): PlannedPhase[];
  /**
   * The configured schedule lengths in the order the file states them, for the "fractions add up"
   * check and its quick fix; repeated cycles count `cycles` times. Empty when there are none.
   */
  fractionParts(pruning: C): FractionPart[];
  /** Exponent of the sparsify curve (`c` for SA++, the ramp power for magnitude); 1 without one. */
  exponent(pruning: C): number;
  /** Other lists that must add up to 1, checked like the fractions. */
  splits?(pruning: C): ScheduleSplit[];
}

/** A method's row in `METHOD_FORMATS`: its `pruning` section (keys, defaults, docs) and its schedule. */
export interface MethodFormat<S extends z.ZodObject> extends MethodSchedule<z.output<S>> {
  /** A strict object whose `method` key is the tag the table's row is named after. */
  schema: S;
}

/** A phase at a constant target sparsity. */
export const flat = (kind: PhaseKind, length: number, cycle: number | null, label: string): PlannedPhase => ({
  kind,
  length,
  cycle,
  curve: 'flat',
  label,
});

/**
 * A cyclic schedule (SA++, ACDC): the dense warm-up, the phases of cycles 1 to `cycles` (the last
 * one knows it is last: it takes the `extension`), the final sparse fine-tune.
 */
export function cyclicPhases(
  schedule: { dense_warmup: number; cycles: number; final_sparse: number },
  cyclePhases: (cycle: number, last: boolean) => PlannedPhase[],
): PlannedPhase[] {
  const phases = [flat('dense', schedule.dense_warmup, null, 'dense warm-up')];
  for (let i = 1; i <= schedule.cycles; i++) phases.push(...cyclePhases(i, i === schedule.cycles));
  phases.push(flat('sparse', schedule.final_sparse, null, 'final sparse fine-tune'));
  return phases;
}

/** The lengths of a cyclic schedule (SA++, ACDC): warm-up, the cycles, the last one's extension, the fine-tune. */
export function cyclicFractionParts(schedule: {
  dense_warmup: number;
  cycles: number;
  cycle: number;
  extension: number;
  final_sparse: number;
}): FractionPart[] {
  return [
    { key: 'dense_warmup', value: schedule.dense_warmup },
    { key: 'cycle', value: schedule.cycles * schedule.cycle },
    { key: 'extension', value: schedule.extension },
    { key: 'final_sparse', value: schedule.final_sparse },
  ];
}
