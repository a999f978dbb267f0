/**
 * SA++ masks (spec §1.2): dense phases train with every block; a sparsify phase starts from every
 * block and shrinks the kept set monotonically to the schedule's `k_t` by attention `A` among the
 * kept blocks; sparse phases freeze it. Without sparsification (the ablation) the mask becomes the
 * top-k of `A` at the start of each sparse phase.
 */
import type { MethodConfig } from '../../experiment/methods';
import type { MethodEngine } from './methodEngine';

export const sappEngine: MethodEngine<MethodConfig<'sapp'>> = {
  score: 'attention',
  zeroesPruned: (pruning) => pruning.pruned_weights === 'zero',
  layerOptions: (pruning, schedule) => ({
    attention: true,
    clipDensity: pruning.clip_attention ? 1 - schedule.sparsity : null,
    logitInit: pruning.logit_init,
  }),
  enterPhase(masks, phase, previous) {
    if (phase.kind === 'sparse') masks.keepFinal(phase, previous);
    else masks.keepAll();
  },
  beforeSparsifyStep: (masks, step, phase, pruning) => masks.shrinkToSchedule(step, phase, pruning.mask_update_every),
};
