import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildSchedule,
  exponentialSparsity,
  keptBlocksAt,
  phaseAt,
  targetSparsityAt,
} from '../../../server/src/experiment/schedule';
import { PruningSchema } from '../../../server/src/experiment/methods';

const sapp = (extra: Record<string, unknown> = {}) => PruningSchema.parse({ method: 'sapp', sparsity: 0.9, ...extra });

describe('schedule', () => {
  it("lays out the paper's SA++ ImageNet schedule: 10% dense, 6 cycles, 15% sparsify, 15% sparse", () => {
    const s = buildSchedule(sapp(), 3000);
    assert.equal(s.fractionSum, 1);
    assert.deepEqual(s.phases.map((p) => [p.kind, p.startStep, p.endStep]).slice(0, 4), [
      ['dense', 0, 300],
      ['sparsify', 300, 400],
      ['sparse', 400, 500],
      ['dense', 500, 600],
    ]);
    assert.deepEqual(s.phases.at(-2)!.kind, 'sparsify');
    assert.deepEqual([s.phases.at(-2)!.startStep, s.phases.at(-2)!.endStep], [2100, 2550]);
    assert.deepEqual(
      [s.phases.at(-1)!.kind, s.phases.at(-1)!.startStep, s.phases.at(-1)!.endStep],
      ['sparse', 2550, 3000],
    );
  });

  it('covers every step exactly once, with no gaps', () => {
    for (const total of [1, 7, 100, 2999]) {
      const s = buildSchedule(sapp(), total);
      assert.equal(s.phases[0]!.startStep, 0);
      assert.equal(s.phases.at(-1)!.endStep, total);
      for (let i = 1; i < s.phases.length; i++) assert.equal(s.phases[i]!.startStep, s.phases[i - 1]!.endStep);
    }
  });

  it('sparsify curve is 0 at tau=0, s at tau=1, monotone, and matches the spec values for c=4', () => {
    assert.equal(exponentialSparsity(0, 0.9, 4), 0);
    assert.ok(Math.abs(exponentialSparsity(1, 0.9, 4) - 0.9) < 1e-12);
    const expected: [number, number][] = [
      [0.1, 0.34],
      [0.25, 0.64],
      [0.5, 0.88],
      [0.75, 0.97],
    ];
    for (const [tau, ratio] of expected)
      assert.ok(Math.abs(exponentialSparsity(tau, 1, 4) - ratio) < 0.01, `tau ${tau}`);
    let last = -1;
    for (let t = 0; t <= 1; t += 0.01) {
      const v = exponentialSparsity(t, 0.9, 4);
      assert.ok(v >= last);
      last = v;
    }
  });

  it('kept blocks only shrink inside a sparsify phase and land exactly on k', () => {
    const s = buildSchedule(sapp(), 3000);
    const phase = s.phases[1]!;
    let last = Infinity;
    for (let step = phase.startStep; step < phase.endStep; step++) {
      const k = keptBlocksAt(s, step, 1000);
      assert.ok(k <= last);
      last = k;
    }
    assert.equal(last, 100);
    assert.equal(targetSparsityAt(s, phase.endStep - 1), 0.9);
    assert.equal(phaseAt(s, 0).kind, 'dense');
  });

  it('the ablation without sparsification ends its cycles dense before the final fine-tune', () => {
    const s = buildSchedule(sapp({ sparsification: false }), 1000);
    assert.ok(s.phases.every((p) => p.kind !== 'sparsify'));
    assert.equal(s.phases.at(-2)!.kind, 'dense');
    assert.equal(s.phases.at(-1)!.kind, 'sparse');
  });
});
