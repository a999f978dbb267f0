/**
 * Block magnitude pruning (spec §2): train dense, keep the top-k blocks by norm once or along a
 * gradual ramp (Zhu & Gupta), then fine-tune the sparse model.
 */
import { z } from 'zod';
import { doc, int, MAX_STEPS, stepFraction } from '../schemaParts';
import { flat, type MethodFormat, type PlannedPhase } from './methodFormat';
import { pruningSection } from './pruningKeys';

export const MagnitudeSchedule = z.strictObject({
  dense: stepFraction('Dense training before pruning starts.', 0.7),
  ramp: stepFraction(
    'Length of the gradual pruning ramp. `0` prunes once at the end of the dense phase; more ramps the sparsity up as `s * (1 - (1 - t)^exponent)` (Zhu & Gupta).',
    0,
  ),
  fine_tune: stepFraction('Sparse fine-tune after pruning.', 0.3),
});

export const MagnitudePruning = pruningSection(
  'magnitude',
  'Block magnitude pruning: train dense, keep the top-k blocks by Frobenius norm (once, or gradually), zero the rest, fine-tune.',
  MagnitudeSchedule,
  {
    exponent: doc(z.number().gt(0).max(50), 'Exponent of the gradual ramp (3: the cubic schedule).').default(3),
    update_every: doc(int(1, MAX_STEPS), 'Re-prune every this many steps during the ramp.').default(10),
  },
);

export const magnitudeFormat: MethodFormat<typeof MagnitudePruning> = {
  schema: MagnitudePruning,
  prunes: true,
  plannedPhases(pruning) {
    const { dense, ramp, fine_tune } = pruning.schedule;
    const phases: PlannedPhase[] = [flat('dense', dense, null, 'dense training')];
    if (ramp > 0)
      phases.push({ kind: 'sparsify', length: ramp, cycle: null, curve: 'polynomial', label: 'gradual pruning' });
    phases.push(flat('sparse', fine_tune, null, 'sparse fine-tune'));
    return phases;
  },
  fractionParts: ({ schedule }) => [
    { key: 'dense', value: schedule.dense },
    { key: 'ramp', value: schedule.ramp },
    { key: 'fine_tune', value: schedule.fine_tune },
  ],
  exponent: (pruning) => pruning.exponent,
};
