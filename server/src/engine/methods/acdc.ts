/**
 * ACDC masks (spec §2): each sparse phase keeps the top-k blocks by Frobenius norm at its start;
 * dense phases bring every block back (zeroed or with old values, by `pruned_weights`).
 */
import type { MethodConfig } from '../../experiment/methods';
import { PLAIN_LAYERS, type MethodEngine } from './methodEngine';

export const acdcEngine: MethodEngine<MethodConfig<'acdc'>> = {
  score: 'magnitude',
  zeroesPruned: (pruning) => pruning.pruned_weights === 'zero',
  layerOptions: () => PLAIN_LAYERS,
  enterPhase(masks, phase, previous) {
    if (phase.kind === 'dense') masks.keepAll();
    else if (phase.kind === 'sparse') masks.keepFinal(phase, previous);
  },
};
