import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { METHOD_FORMATS, PruningSchema } from '../../server/src/experiment/methods';
import { planPruning } from '../../server/src/experiment/pruningPlan';
import { buildSchedule, keptBlocks } from '../../server/src/experiment/schedule';
import { selectBackend } from '../../server/src/engine/backends';
import { blockNorms, countKept } from '../../server/src/engine/blockMask';
import { MaskedModel } from '../../server/src/engine/maskedModel';
import { MaskPolicy } from '../../server/src/engine/maskPolicy';
import { methodEngine } from '../../server/src/engine/methods';
import type { NetworkSpec } from '../../server/src/engine/networkSpec';
import { Rng } from '../../server/src/data/random';

const SPEC: NetworkSpec = {
  inputShape: [64],
  outputUnits: 10,
  layers: [
    { kind: 'dense', name: 'dense_1', rows: 64, cols: 64, activation: 'relu', useBias: true },
    { kind: 'dense', name: 'output', rows: 64, cols: 10, activation: 'linear', useBias: true },
  ],
};
const SHAPE = {
  inputShape: [64],
  layers: [
    { name: 'dense_1', kind: 'dense' as const, matrix: [64, 64] as [number, number], outputShape: [64], params: 0 },
    { name: 'output', kind: 'dense' as const, matrix: [64, 10] as [number, number], outputShape: [10], params: 0 },
  ],
};

/** Each method with its defaults and the variants that take other paths, with whether pruned blocks end zeroed. */
const VARIANTS: [variant: Record<string, unknown>, zeroes: boolean][] = [
  [{ method: 'sapp' }, false],
  [{ method: 'sapp', sparsification: false }, false],
  [{ method: 'sapp', pruned_weights: 'zero', mask_update_every: 7 }, true],
  [{ method: 'acdc' }, true],
  [{ method: 'acdc', pruned_weights: 'mask' }, false],
  [{ method: 'magnitude' }, true],
  [{ method: 'magnitude', schedule: { dense: 0.5, ramp: 0.2, fine_tune: 0.3 }, update_every: 5 }, true],
  [{ method: 'none' }, false],
];

describe('every pruning method through its table rows (format, schedule, engine)', () => {
  before(() => selectBackend('wasm'));

  it('covers every method of the table', () => {
    const covered = new Set(VARIANTS.map(([v]) => v['method']));
    for (const method of Object.keys(METHOD_FORMATS)) assert.ok(covered.has(method), `add ${method} to VARIANTS`);
  });

  for (const [variant, zeroes] of VARIANTS) {
    it(`${JSON.stringify(variant)}: masks move only as the phases allow and end at k blocks`, () => {
      const pruning = PruningSchema.parse({
        sparsity: 0.75,
        block: 8,
        min_blocks: 16,
        layers: ['dense_1'],
        ...variant,
      });
      const schedule = buildSchedule(pruning, 400);
      assert.ok(Math.abs(schedule.fractionSum - 1) < 1e-9, 'the defaults add up to 1');
      assert.equal(schedule.phases[0]!.startStep, 0);
      schedule.phases.forEach((p, i) => i > 0 && assert.equal(p.startStep, schedule.phases[i - 1]!.endStep));
      assert.equal(schedule.phases.at(-1)!.endStep, 400);

      const tensors = tf.memory().numTensors;
      const plan = planPruning(SHAPE, pruning);
      const engine = methodEngine(pruning);
      const model = new MaskedModel(SPEC, plan.layers, engine.layerOptions(pruning, schedule), new Rng(1));
      const layer = model.layers[0]!;
      const policy = new MaskPolicy(pruning, schedule, model, 1);
      const rng = new Rng(2);
      let previous: (typeof schedule.phases)[number] | null = null;
      for (const phase of schedule.phases) {
        policy.enterPhase(phase, previous);
        if (phase.kind === 'dense' && layer.mask)
          assert.equal(countKept(layer.mask), 64, `${phase.label} trains every block`);
        const atStart = layer.mask?.slice();
        for (let step = phase.startStep; step < phase.endStep; step++) {
          // Let the scores move as training would.
          const noise = Array.from({ length: 64 }, () => 0.1 * rng.normal());
          if (layer.logits) tf.tidy(() => layer.logits!.assign(tf.add(layer.logits!, tf.tensor2d(noise, [8, 8]))));
          const kept = layer.mask?.slice();
          policy.beforeStep(step, phase);
          if (kept && phase.kind === 'sparsify')
            kept.forEach((v, i) => assert.ok(layer.mask![i]! <= v, 'a pruned block never returns inside the phase'));
        }
        if (phase.kind === 'sparse' && atStart) assert.deepEqual(layer.mask, atStart, `${phase.label} keeps its mask`);
        previous = phase;
      }
      if (METHOD_FORMATS[pruning.method].prunes) {
        assert.equal(countKept(layer.mask!), keptBlocks(64, 0.75));
        const norms = blockNorms(layer.kernel, layer.grid);
        const zeroed = norms.filter((n, i) => layer.mask![i] === 0 && n === 0).length;
        assert.equal(zeroed, zeroes ? 64 - 16 : 0, 'pruned blocks are zero exactly when the method zeroes them');
      } else assert.equal(layer.pruned, false, 'nothing is pruned');
      assert.equal(model.layers[1]!.mask, null, 'the output layer is not selected');
      model.dispose();
      assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
    });
  }
});
