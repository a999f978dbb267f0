// The sweep panel's state without a browser: a recorded 18-run sweep (two methods at three
// sparsities and a dense baseline, two seeds; test/fixtures/webview/sweep.json) in, the series,
// error bars, Pareto front, baseline, table and CSV out.
import type { SweepMessage } from '@protocol';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SweepState } from '../../../webview/src/state/sweepState';
import { ROOT } from '../../helpers/experimentFixtures';

const message = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/webview/sweep.json'), 'utf8')) as SweepMessage;
const cells = message.summary.cells;

describe('sweep panel state', () => {
  it('one series per method, its cells by sparsity with mean ± sd over the seeds', () => {
    const state = new SweepState();
    assert.equal(state.statusLine(), 'Waiting for the sweep…');
    state.receive(message);
    assert.equal(state.metric, 'accuracy');
    const series = state.series();
    assert.deepEqual(
      series.map((s) => [s.label, s.color, s.points.map((p) => p.x)]),
      [
        ['sapp', 0, [0.5, 0.75, 0.9]],
        ['magnitude', 1, [0.5, 0.75, 0.9]],
      ],
    );
    for (const s of series)
      for (const p of s.points) {
        const cell = cells[p.cell]!;
        const accuracies = message.summary.runs
          .filter((r) => r.params['pruning.method'] === cell.method && r.params['pruning.sparsity'] === cell.sparsity)
          .map((r) => r.metrics!.accuracy!);
        assert.equal(accuracies.length, 2);
        const mean = (accuracies[0]! + accuracies[1]!) / 2;
        assert.ok(Math.abs(p.y - mean) < 1e-12, `${s.label}@${p.x}: mean of its two seeds`);
        assert.ok(Math.abs(p.sd! - Math.abs(accuracies[0]! - accuracies[1]!) / Math.SQRT2) < 1e-12, 'sample sd');
        assert.equal(p.n, 2);
      }
  });

  it('the dense runs are one baseline; the front holds the cells nothing beats on both sparsity and accuracy', () => {
    const state = new SweepState();
    state.receive(message);
    const [baseline, ...more] = state.baselines();
    assert.deepEqual(more, []);
    assert.equal(baseline!.label, 'dense baseline (none)');
    assert.equal(baseline!.stat.n, 6, 'the none runs of every sparsity, pooled');
    const points = [...state.series().flatMap((s) => s.points), { x: 0, y: baseline!.stat.mean }];
    const front = state.front();
    assert.ok(front.length >= 2);
    for (const p of front)
      assert.ok(!points.some((q) => q.x >= p.x && q.y >= p.y && (q.x > p.x || q.y > p.y)), `${p.x}, ${p.y} dominated`);
    for (const q of points.filter((q) => !front.some((p) => p.x === q.x && p.y === q.y)))
      assert.ok(
        points.some((p) => p.x >= q.x && p.y >= q.y && (p.x > q.x || p.y > q.y)),
        `${q.x}, ${q.y} off the front`,
      );
    assert.equal(state.pointCount(), 7);
  });

  it('the table and the CSV have every cell; the metric can be picked and falls back when absent', () => {
    const state = new SweepState('support_precision');
    state.receive(message);
    assert.equal(state.metric, 'support_precision');
    assert.match(state.title, /^Support precision@k against sparsity \(higher is better\)/);
    const { columns, rows, pareto } = state.table();
    assert.deepEqual(columns, [
      'pruning.method',
      'pruning.sparsity',
      'n',
      'support_precision (mean ± sd)',
      'global sparsity',
      'failed',
    ]);
    assert.equal(rows.length, 7);
    assert.deepEqual(rows[6]!.slice(0, 3), ['none', '-', '6/6']);
    assert.equal(pareto.length, 7);
    state.pick('accuracy');
    assert.match(state.table().rows[0]![3]!, /^\d+\.\d\d% ± \d+\.\d\d$/);
    state.pick('log_loss'); // not reported by a classification sweep
    assert.equal(state.metric, 'accuracy');
    const csv = state.csv().trim().split('\n');
    assert.equal(csv.length, 8);
    assert.equal(
      csv[0],
      'pruning.method,pruning.sparsity,method,sparsity,runs,completed,failed,global_sparsity_mean,accuracy_mean,accuracy_sd,accuracy_n,support_precision_mean,support_precision_sd,support_precision_n,loss_mean,loss_sd,loss_n,pareto',
    );
    assert.match(
      state.statusLine(),
      /^18 runs \(pruning\.method × 3, pruning\.sparsity × 3, seed × 2\) on the local executor: 18 completed;/,
    );
    assert.equal(state.fileName('cells.csv'), 'sweep-fixture-sweep-cells.csv');
  });
});
