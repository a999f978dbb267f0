/** No pruning: the dense model trained on the same schedule machinery, the other methods' reference. */
import { z } from 'zod';
import { tag } from '../schemaParts';
import { flat, type MethodFormat } from './methodFormat';
import { pruningCommon, sparsity } from './pruningKeys';

export const NonePruning = z.strictObject({
  method: tag('none', 'No pruning: trains the dense model, the reference point for the other methods.'),
  ...pruningCommon,
  sparsity: sparsity.optional(),
});

export const noneFormat: MethodFormat<typeof NonePruning> = {
  schema: NonePruning,
  prunes: false,
  plannedPhases: () => [flat('dense', 1, null, 'dense training')],
  fractionParts: () => [],
  exponent: () => 1,
};
