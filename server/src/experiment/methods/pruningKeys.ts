/** The keys of the `pruning` section that every method shares, and those the cyclic schedules share. */
import { z } from 'zod';
import { doc, documentedEnum, int, stepFraction, tag } from '../schemaParts';

export const sparsity = doc(
  z.number().min(0).lt(1),
  'Fraction of **blocks** removed from every pruned layer, in `[0, 1)` (uniform per layer, as the paper recommends). `0.9` keeps `round(0.1 * blocks)` blocks per layer.',
);

const block = doc(
  z.union([int(1, 65_536), z.tuple([int(1, 65_536), int(1, 65_536)])]),
  "Block shape: one number for square blocks, or `[rows, cols]`. Blocks tile each layer's 2-D kernel (conv kernels as `(kh*kw*cin) x cout`); when a side does not divide, the last row or column holds smaller edge blocks, which count as blocks.",
).default(8);

const minBlocks = doc(
  int(0, 100_000_000),
  "Layers with fewer blocks than this are not pruned (the paper's rule: 100 on ImageNet). This is why the achieved global sparsity can fall below `sparsity`.",
).default(100);

const layers = doc(
  z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]),
  'Layers to prune: `all`, or a list of layer names and globs (`dense_*`, `conv_?`). Every layer with a 2-D kernel is a candidate.',
).default('all');

const exclude = doc(
  z.array(z.string().min(1)),
  'Layer names or globs never pruned, even when `layers` selects them (e.g. `[output]`).',
).default([]);

const resetOptimizer = doc(
  z.boolean(),
  'Re-create the optimizer (fresh moments and step count) at every phase boundary, as the paper does (it calls this crucial: each phase is its own optimisation problem). `false` keeps the moments and step count across the boundaries.',
).default(true);

export const pruningCommon = {
  sparsity,
  block,
  min_blocks: minBlocks,
  layers,
  exclude,
  reset_optimizer: resetOptimizer,
};

const scheduleDoc = 'Phase lengths as fractions of the training steps; they must add up to 1.';

export const denseWarmup = stepFraction('Fraction of steps trained dense before the first cycle.', 0.1);
export const cycleLength = stepFraction('Length of one cycle, as a fraction of all steps.', 0.1);
export const finalSparse = stepFraction('Final sparse fine-tune at the end of training.', 0.15);

/** `pruned_weights`, with the method's docs of each choice (in its order) and its default. */
export const prunedWeights = (choices: Record<'mask' | 'zero', string>, fallback: 'mask' | 'zero') =>
  documentedEnum(choices, 'What happens to the weights of pruned blocks.').default(fallback);

/**
 * A method's `pruning` section: `method` (with the method's docs), the shared keys, its `schedule`
 * and its own keys, in this order in completion and the JSON Schema.
 */
export function pruningSection<const M extends string, S extends z.ZodObject, Own extends z.ZodRawShape>(
  method: M,
  markdown: string,
  schedule: S,
  own: Own,
) {
  return z.strictObject({
    method: tag(method, markdown),
    ...pruningCommon,
    // Every schedule key has a default, so an absent `schedule` is the default schedule.
    schedule: doc(schedule, scheduleDoc).prefault({} as z.input<S>),
    ...own,
  });
}
