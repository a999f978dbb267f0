/**
 * SequentialAttention++ (spec §1): block attention logits trained with the weights; after a dense
 * warm-up, cycles of gradual sparsification, sparse and dense phases, then a sparse fine-tune.
 */
import { z } from 'zod';
import { doc, documentedEnum, int, MAX_STEPS, stepFraction } from '../schemaParts';
import { cyclicFractionParts, cyclicPhases, flat, type MethodFormat, type PlannedPhase } from './methodFormat';
import { cycleLength, denseWarmup, finalSparse, prunedWeights, pruningSection } from './pruningKeys';

export const SappSchedule = z.strictObject({
  dense_warmup: denseWarmup,
  cycles: doc(
    int(1, 1000),
    'Number of cycles after the dense warm-up. In SA++ the first `cycles - 1` are sparsify/sparse/dense and the last one, with `extension`, becomes one long sparsification phase.',
  ).default(7),
  cycle: cycleLength,
  split: doc(
    z.tuple([z.number().min(0).max(1), z.number().min(0).max(1), z.number().min(0).max(1)]),
    'How each cycle splits into `[sparsify, sparse, dense]`; the parts add up to 1. The paper does not state it: equal thirds by default.',
  ).default([1 / 3, 1 / 3, 1 / 3]),
  extension: stepFraction('Extra length of the last cycle (the paper extends the 7th cycle by 5%).', 0.05),
  final_sparse: finalSparse,
});

export const SappPruning = pruningSection(
  'sapp',
  "SequentialAttention++: a trainable softmax attention over each layer's blocks scales the weights; dense phases and gradual sparsification phases (top-k of the attention) alternate with sparse phases.",
  SappSchedule,
  {
    sparsification: doc(
      z.boolean(),
      "Run the gradual sparsification phases (SA++). `false` is the paper's ablation: alternating equal dense and sparse phases, the phase before the final fine-tune dense, the mask set to the top-k attention at the end of each dense phase.",
    ).default(true),
    exponent: doc(
      z.number().gt(0).max(50),
      'Exponent `c` of the sparsification curve `s * (1 - exp(-c*t)) / (1 - exp(-c))`: larger prunes harder early. The paper finds 2, 4 and 8 within 0.5 pp.',
    ).default(4),
    mask_update_every: doc(int(1, MAX_STEPS), 'Refresh the mask every this many steps during sparsification.').default(
      1,
    ),
    pruned_weights: prunedWeights(
      {
        mask: 'Pruned blocks keep their values and come back with them in the next dense phase (recommended for SA++).',
        zero: 'Pruned blocks are set to zero and come back as zeros.',
      },
      'mask',
    ),
    clip_attention: doc(
      z.boolean(),
      "Clip the attention `A = N*softmax(L)` to `[density, 1/density]` in the forward pass (our reading of the paper's clip rule).",
    ).default(true),
    logit_init: documentedEnum(
      {
        zeros: 'All logits 0, so `A = 1` and the model starts exactly as the plain one.',
        normal: 'Logits drawn from N(0, 1e-5), as in the Sequential Attention reference code.',
      },
      'Initial value of the block logits.',
    ).default('zeros'),
  },
);

export const sappFormat: MethodFormat<typeof SappPruning> = {
  schema: SappPruning,
  prunes: true,
  plannedPhases(pruning) {
    const { cycle, split, extension } = pruning.schedule;
    const sparsify = (length: number, i: number): PlannedPhase => ({
      kind: 'sparsify',
      length,
      cycle: i,
      curve: 'exponential',
      label: `cycle ${i} · sparsify`,
    });
    return cyclicPhases(pruning.schedule, (i, last) => {
      // The last cycle, extended, is one long sparsification phase (dense in the ablation).
      if (last)
        return [
          pruning.sparsification
            ? sparsify(cycle + extension, i)
            : flat('dense', cycle + extension, i, `cycle ${i} · dense`),
        ];
      if (pruning.sparsification) {
        const [toSparse, sparse, dense] = split;
        return [
          sparsify(toSparse * cycle, i),
          flat('sparse', sparse * cycle, i, `cycle ${i} · sparse`),
          flat('dense', dense * cycle, i, `cycle ${i} · dense`),
        ];
      }
      // The paper's ablation: equal dense and sparse halves.
      return [flat('sparse', cycle / 2, i, `cycle ${i} · sparse`), flat('dense', cycle / 2, i, `cycle ${i} · dense`)];
    });
  },
  fractionParts: (pruning) => cyclicFractionParts(pruning.schedule),
  exponent: (pruning) => pruning.exponent,
  // Only the sparsification cycles use the split (the ablation halves each cycle).
  splits: (pruning) =>
    pruning.sparsification ? [{ key: 'split', name: 'cycle split', parts: pruning.schedule.split }] : [],
};
