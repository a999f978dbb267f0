/**
 * Magnitude masks (spec §2): train dense, then keep the top-k blocks by norm once at the sparse
 * phase (or ramp down gradually through a sparsify phase) and zero the rest; blocks never return.
 */
import type { MethodConfig } from '../../experiment/methods';
import { PLAIN_LAYERS, type MethodEngine } from './methodEngine';

export const magnitudeEngine: MethodEngine<MethodConfig<'magnitude'>> = {
  score: 'magnitude',
  zeroesPruned: () => true,
  layerOptions: () => PLAIN_LAYERS,
  enterPhase(masks, phase, previous) {
    if (phase.kind === 'sparse') masks.keepFinal(phase, previous);
  },
  beforeSparsifyStep: (masks, step, phase, pruning) => masks.shrinkToSchedule(step, phase, pruning.update_every),
};
