/**
 * ACDC (Alternating Compressed/DeCompressed training, spec §2): after a dense warm-up, cycles of a
 * sparse phase on the top-k blocks by norm and a dense phase, then a sparse fine-tune.
 */
import { z } from 'zod';
import { doc, int, stepFraction } from '../schemaParts';
import { cyclicFractionParts, cyclicPhases, flat, type MethodFormat } from './methodFormat';
import { cycleLength, denseWarmup, finalSparse, prunedWeights, pruningSection } from './pruningKeys';

export const AcdcSchedule = z.strictObject({
  dense_warmup: denseWarmup,
  cycles: doc(int(1, 1000), 'Number of sparse-dense cycles.').default(7),
  cycle: cycleLength,
  sparse_share: doc(z.number().gt(0).lt(1), 'Part of each cycle that is sparse (the rest is dense).').default(0.5),
  extension: stepFraction('Extra length of the last dense phase.', 0.05),
  final_sparse: finalSparse,
});

export const AcdcPruning = pruningSection(
  'acdc',
  'Alternating Compressed/DeCompressed training: dense phases alternate with sparse phases whose support is the top-k blocks by Frobenius norm at the phase start.',
  AcdcSchedule,
  {
    pruned_weights: prunedWeights(
      {
        zero: 'Pruned blocks are zeroed and come back as zeros (the original ACDC, the paper on ImageNet).',
        mask: 'Pruned blocks are masked and come back with their old values (the paper on Criteo).',
      },
      'zero',
    ),
  },
);

export const acdcFormat: MethodFormat<typeof AcdcPruning> = {
  schema: AcdcPruning,
  prunes: true,
  plannedPhases(pruning) {
    const { cycle, sparse_share, extension } = pruning.schedule;
    return cyclicPhases(pruning.schedule, (i, last) => [
      flat('sparse', sparse_share * cycle, i, `cycle ${i} · sparse`),
      flat('dense', (1 - sparse_share) * cycle + (last ? extension : 0), i, `cycle ${i} · dense`),
    ]);
  },
  fractionParts: (pruning) => cyclicFractionParts(pruning.schedule),
  exponent: () => 1,
};
