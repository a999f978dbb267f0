/**
 * The engine part of each pruning method, one row per row of `METHOD_FORMATS`
 * (server/src/experiment/methods/): a method with a format and no engine does not compile.
 */
import type { MethodConfig, PruningConfig, PruningMethod } from '../../experiment/methods';
import { acdcEngine } from './acdc';
import { magnitudeEngine } from './magnitude';
import type { MethodEngine } from './methodEngine';
import { noneEngine } from './none';
import { sappEngine } from './sapp';

export const METHOD_ENGINES = {
  sapp: sappEngine,
  acdc: acdcEngine,
  magnitude: magnitudeEngine,
  none: noneEngine,
} satisfies { [M in PruningMethod]: MethodEngine<MethodConfig<M>> };

/** The engine part of `pruning`'s method. */
export function methodEngine(pruning: PruningConfig): MethodEngine<PruningConfig> {
  return METHOD_ENGINES[pruning.method];
}
