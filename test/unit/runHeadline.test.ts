// The run headline (protocol/runHeadline.ts): the same numbers in the summary strip, the status
// bar, the Runs view and the notification, from a real run's record and events
// (test/fixtures/webview/run.json: a 300-step teacher-sapp run, best accuracy at step 200).
import type { EvalEvent, HostToWebview, RunEvent, RunMessage, StepEvent } from '@protocol';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  betterEvaluation,
  differingValues,
  emptyProgress,
  formatDuration,
  headlineItems,
  headlineLine,
  headlineOf,
  headlineOfSession,
  metricName,
  progressAfter,
  runLabel,
  supportMetrics,
} from '../../protocol/runHeadline';
import { ROOT } from '../helpers/experimentFixtures';

const fixture = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/webview/run.json'), 'utf8')) as HostToWebview[];
const run = fixture.find((m): m is RunMessage => m.type === 'run')!;
const evals = run.events.filter((e): e is EvalEvent => e.type === 'eval');
const steps = run.events.filter((e): e is StepEvent => e.type === 'step');

describe('run headline', () => {
  it('labels a run `name · method · s<seed>`', () => {
    assert.equal(runLabel(run.info), 'teacher-sapp-75 · sapp · s1');
  });

  it('a finished run: status, steps, accuracy now and best, support precision, sparsity against its target, backend', () => {
    // A run that peaked before its end: the fixture with its last evaluation 5 points lower.
    const lastEval = evals.at(-1)!;
    const lowered = { ...lastEval.metrics, accuracy: lastEval.metrics.accuracy! - 0.05 };
    const events = run.events.map((e) => (e === lastEval ? { ...e, metrics: lowered } : e));
    const info = { ...run.info, final: { ...run.info.final!, metrics: lowered }, bestEvaluation: undefined };
    const items = headlineItems(headlineOf(info, progressAfter(emptyProgress(), events)));
    const byKey = Object.fromEntries(items.map((i) => [i.key, i]));
    assert.deepEqual(
      items.map((i) => i.key),
      ['status', 'step', 'metric', 'support', 'sparsity', 'backend'],
    );
    assert.equal(byKey['status']!.value, 'completed');
    assert.equal(byKey['step']!.value, '300/300');
    assert.equal(byKey['step']!.detail, undefined, 'no ETA once done');
    const final = info.final.metrics;
    const best = evals.slice(0, -1).reduce((a, b) => (b.metrics.accuracy! > a.metrics.accuracy! ? b : a));
    assert.ok(best.step < 300 && best.metrics.accuracy! > final.accuracy, 'the fixture peaks before its end');
    assert.equal(byKey['metric']!.label, 'Accuracy');
    assert.equal(byKey['metric']!.value, `${(100 * final.accuracy).toFixed(1)}%`);
    assert.equal(byKey['metric']!.detail, `best ${(100 * best.metrics.accuracy!).toFixed(1)}% at step ${best.step}`);
    assert.equal(byKey['support']!.label, 'Support precision@k');
    assert.equal(byKey['support']!.value, final.support_precision!.toFixed(3));
    assert.equal(byKey['support']!.detail, `chance ${final.support_precision_chance!.toFixed(3)}`);
    assert.equal(byKey['sparsity']!.value, `${(100 * info.final.sparsity.global).toFixed(1)}%`);
    assert.equal(byKey['sparsity']!.detail, 'target 75% of blocks');
    assert.equal(byKey['backend']!.value, run.info.backend.name);
    assert.match(
      headlineLine(items),
      new RegExp(
        `^completed · step 300/300 · accuracy ${(100 * final.accuracy).toFixed(1)}% \\(best ${(100 * best.metrics.accuracy!).toFixed(1)}% at step ${best.step}\\) · support precision@k ${final.support_precision!.toFixed(3)} `,
      ),
    );
  });

  it('a record alone (the Runs view) takes the best evaluation from run.json', () => {
    const items = headlineItems(headlineOf(run.info, emptyProgress(run.info.step)));
    const best = evals.reduce((a, b) => (b.metrics.accuracy! > a.metrics.accuracy! ? b : a));
    assert.deepEqual(run.info.bestEvaluation, { step: best.step, metrics: best.metrics });
    assert.equal(
      items.find((i) => i.key === 'metric')!.detail,
      `best ${(100 * best.metrics.accuracy!).toFixed(1)}% at step ${best.step}`,
    );
  });

  it("a live session: the ETA from the session's pace, the target now and at the end, backend threads", () => {
    const progress = progressAfter(
      emptyProgress(),
      Array.from({ length: 30 }, (_, i) => ({ ...steps[0]!, step: 10 * i, targetSparsity: 0.3, globalSparsity: 0.25 })),
    );
    assert.equal(progress.step, 291);
    const session = {
      state: 'running' as const,
      step: 291,
      totalSteps: 1291,
      globalSparsity: 0.25,
      finalTargetSparsity: 0.9,
      backend: 'wasm' as const,
      threads: 2,
      etaSeconds: 60,
      progress,
    };
    const byKey = Object.fromEntries(headlineItems(headlineOfSession(session)).map((i) => [i.key, i]));
    assert.equal(byKey['step']!.detail, 'ETA 1 min 0 s');
    assert.equal(byKey['sparsity']!.detail, 'target 90% of blocks (30% at this step)');
    assert.equal(byKey['backend']!.detail, '2 threads');
    assert.equal(byKey['metric'], undefined, 'no evaluation yet');
    const stopping = headlineItems(headlineOfSession({ ...session, state: 'cancelled' }));
    assert.equal(stopping.find((i) => i.key === 'step')!.detail, undefined, 'no ETA once it is not running');
  });

  it('a phase event counts the steps before it as run (the status bar said 191 at a phase starting at 200)', () => {
    const progress = progressAfter(emptyProgress(), [
      { ...steps[0]!, step: 190 },
      {
        type: 'phase',
        step: 200,
        index: 2,
        kind: 'sparsify',
        label: 'cycle 1 · sparsify',
        startStep: 200,
        endStep: 300,
      },
    ] as RunEvent[]);
    assert.equal(progress.step, 200);
  });

  it('the best evaluation by the primary metric: accuracy up, log-loss down, ties to the earlier', () => {
    const a = { step: 1, metrics: { loss: 1, accuracy: 0.8 } };
    const b = { step: 2, metrics: { loss: 0.9, accuracy: 0.7 } };
    assert.equal(betterEvaluation(a, b), a);
    assert.equal(betterEvaluation(undefined, b), b);
    const c = { step: 1, metrics: { loss: 0.5, log_loss: 0.5, auc: 0.7 } };
    const d = { step: 2, metrics: { loss: 0.4, log_loss: 0.4, auc: 0.6 } };
    assert.equal(betterEvaluation(c, d), d);
    assert.equal(betterEvaluation(d, { ...d, step: 3 }), d);
    assert.equal(betterEvaluation(a, { step: 4, metrics: { loss: NaN, accuracy: NaN } }), a);
  });

  it('CTR runs are judged by log-loss with the AUC beside it; any other metric is a support metric, named', () => {
    const items = headlineItems({
      status: 'completed',
      step: 10,
      totalSteps: 10,
      progress: emptyProgress(10),
      final: { loss: 0.45, log_loss: 0.45, auc: 0.71 },
    });
    const metric = items.find((i) => i.key === 'metric')!;
    assert.equal(metric.label, 'Log-loss');
    assert.equal(metric.value, '0.4500');
    assert.equal(metric.detail, 'AUC 0.7100');
    assert.deepEqual(
      supportMetrics({
        loss: 1,
        accuracy: 0.5,
        support_f1: 0.9,
        precision_at_k: 0.8,
        precision_at_k_chance: 0.2,
      } as never),
      [
        ['support_f1', 0.9],
        ['precision_at_k', 0.8],
      ],
      'a chance level is not a metric of its own',
    );
    assert.equal(metricName('precision_at_k'), 'precision at k');
    assert.equal(metricName('support_f1'), 'support F1');
  });

  it('a failed run says why', () => {
    const items = headlineItems({
      status: 'failed',
      step: 3,
      totalSteps: 10,
      progress: emptyProgress(3),
      error: 'the loss became NaN',
    });
    assert.deepEqual(items[0], { key: 'status', label: 'Status', value: 'failed', detail: 'the loss became NaN' });
  });

  it('durations and differing config values read as people write them', () => {
    assert.equal(formatDuration(0.2), '1 s');
    assert.equal(formatDuration(59.4), '59 s');
    assert.equal(formatDuration(125), '2 min 5 s');
    assert.equal(formatDuration(7260), '2 h 1 min');
    const differences = [
      { path: 'seed', values: ['1', '2'] },
      { path: 'pruning.schedule.cycles', values: ['7', '(absent)'] },
      { path: 'pruning.method', values: ['"sapp"', '"magnitude"'] },
      { path: 'pruning.schedule.split', values: ['[0.3333333333333333,0.3333333333333333]', '[0.5,0.5]'] },
      { path: 'training.learning_rate', values: ['0.001', '0.002'] },
      { path: 'pruning.sparsity', values: ['0.9', '0.8'] },
    ];
    assert.deepEqual(differingValues(differences, 0), [
      'seed 1',
      'split [0.33333333…',
      'learning_rate 0.001',
      '+1 more',
    ]);
    assert.deepEqual(differingValues(differences, 1, 10), [
      'seed 2',
      'split [0.5,0.5]',
      'learning_rate 0.002',
      'sparsity 0.8',
    ]);
  });
});
