/** No pruning: the masks never move (the plan prunes no layer). */
import type { MethodConfig } from '../../experiment/methods';
import { PLAIN_LAYERS, type MethodEngine } from './methodEngine';

export const noneEngine: MethodEngine<MethodConfig<'none'>> = {
  score: 'magnitude',
  zeroesPruned: () => false,
  layerOptions: () => PLAIN_LAYERS,
  enterPhase: () => {},
};
