// The run panel's curves without a browser: a real 300-step teacher-sapp run
// (test/fixtures/webview/run.json) in, the charts' lines and axes, the summary strip and the CSV
// out; then live events and sessions, a CTR run, a long run's decimation, and the redraw throttle
// on a fake timer.
import type { EvalEvent, HostToWebview, RunEvent, RunMessage, SessionSummary, StepEvent } from '@protocol';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MAX_POINTS } from '../../../webview/src/decimate';
import { CurvesState } from '../../../webview/src/state/curvesState';
import { LiveRedraw, type Timer } from '../../../webview/src/state/liveRedraw';
import { accuracyAxis } from '../../../webview/src/state/series';
import { ROOT } from '../../helpers/experimentFixtures';

const fixture = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/webview/run.json'), 'utf8')) as HostToWebview[];
const run = fixture.find((m): m is RunMessage => m.type === 'run')!;
const stepEvents = run.events.filter((e): e is StepEvent => e.type === 'step');
const evalEvents = run.events.filter((e): e is EvalEvent => e.type === 'eval');
const lastStep = stepEvents.at(-1)!;

/** A step event like the run's last, at `step`. */
const stepAt = (step: number, extra: Partial<StepEvent> = {}): StepEvent => ({ ...lastStep, step, ...extra });

const strip = (state: CurvesState) => Object.fromEntries(state.headline().map((i) => [i.key, i.value]));

describe('run panel curves', () => {
  it("a run's events become the four charts' lines: the target dashed on top, wider lines under narrower ones", () => {
    const state = new CurvesState();
    state.showRun(run.info, run.events);
    const lines = state.lines();
    assert.deepEqual(
      lines.sparsity.map((l) => [l.label, l.color, l.data.length, l.style?.order, l.style?.borderWidth]),
      [
        ['target', 'target', stepEvents.length, 0, 2],
        ['layer dense_1 (blocks)', 1, stepEvents.length, 1, 4],
        ['clipped dense_1', 1, stepEvents.length, 0, 1],
        ['global (all kernels)', 0, stepEvents.length, 2, 6],
      ],
    );
    assert.deepEqual(lines.sparsity[0]!.style?.borderDash, [6, 4]);
    assert.deepEqual(lines.sparsity[2]!.style?.borderDash, [2, 3], 'the clipped fraction dotted');
    assert.deepEqual(
      lines.sparsity[3]!.data,
      stepEvents.map((e) => ({ x: e.step, y: e.globalSparsity })),
    );
    assert.deepEqual(
      lines.sparsity[1]!.data,
      stepEvents.map((e) => ({ x: e.step, y: e.layerBlockSparsity['dense_1'] })),
    );
    assert.deepEqual(
      lines.sparsity[2]!.data,
      stepEvents.map((e) => ({ x: e.step, y: e.layerClippedFraction!['dense_1'] })),
      'the fraction of blocks whose attention is clipped',
    );
    assert.deepEqual(
      lines.loss.map((l) => [l.label, l.data.length, l.style?.hidden ?? false]),
      [
        ['training loss', stepEvents.length, false],
        ['evaluation loss', evalEvents.length, false],
      ],
      'the evaluation loss is shown by default, beside the training loss',
    );
    assert.deepEqual(
      lines.quality.map((l) => [l.label, l.data.length]),
      [['evaluation accuracy', evalEvents.length]],
    );
    assert.equal(state.qualityTitle, 'Accuracy (evaluation)');
    assert.deepEqual(
      lines.time[0]!.data.map((p) => p.x),
      stepEvents.map((e) => e.step),
    );
    assert.equal(state.totalSteps, 300);
    const phaseIndices = new Set(run.events.flatMap((e) => (e.type === 'phase' ? [e.index] : [])));
    assert.equal(state.phases.length, phaseIndices.size, 'each phase once');
    assert.deepEqual(strip(state), {
      status: 'completed',
      step: '300/300',
      metric: `${(100 * run.info.final!.metrics.accuracy!).toFixed(1)}%`,
      support: run.info.final!.metrics.support_precision!.toFixed(3),
      sparsity: `${(100 * run.info.final!.sparsity.global).toFixed(1)}%`,
      backend: run.info.backend.name,
    });
    assert.equal(state.fileName('metrics.csv'), `${run.info.id}-metrics.csv`);
  });

  it('y axes: sparsity 0–100%, accuracy from a round tenth at least 0.05 below its lowest value, the rest from 0', () => {
    const state = new CurvesState();
    state.showRun(run.info, run.events);
    const lowest = Math.min(...evalEvents.map((e) => e.metrics.accuracy!));
    assert.deepEqual(state.axes(), {
      sparsity: { min: 0, max: 1 },
      loss: { min: 0 },
      quality: { min: Math.floor((lowest - 0.05) * 10) / 10, max: 1 },
      time: { min: 0 },
    });
    assert.deepEqual(accuracyAxis([0.8, 0.87, 0.85]), { min: 0.7, max: 1 }, '0.80–0.87 is not zoomed into noise');
    assert.deepEqual(accuracyAxis([0.03]), { min: 0, max: 1 });
    assert.deepEqual(accuracyAxis([]), { min: 0, max: 1 });
  });

  it('before a run: no lines with points, no strip', () => {
    const state = new CurvesState();
    assert.deepEqual(state.headline(), []);
    assert.deepEqual(
      Object.values(state.lines()).flatMap((ls) => ls.flatMap((l) => l.data)),
      [],
    );
    assert.equal(state.fileName('sparsity.png'), 'run-sparsity.png');
  });

  it('live events append; a status event updates the record except `resumed`; a new run starts afresh', () => {
    const state = new CurvesState();
    const live = { ...run.info, status: 'running' as const, step: 10, final: undefined, bestEvaluation: undefined };
    state.showRun(live, stepEvents.slice(0, 1));
    assert.equal(strip(state)['status'], 'running');
    assert.equal(strip(state)['step'], '10/300');
    state.add([stepAt(200), stepAt(210)]);
    assert.equal(strip(state)['step'], '211/300', 'how far the events say the run has got');
    state.add([{ type: 'status', step: 211, status: 'resumed' } as RunEvent]);
    assert.equal(strip(state)['status'], 'running');
    state.add([{ type: 'status', step: 211, status: 'cancelled' } as RunEvent]);
    assert.equal(strip(state)['status'], 'cancelled');
    assert.equal(state.lines().loss[0]!.data.length, 3);
    state.showRun(run.info, []);
    assert.equal(state.lines().loss[0]!.data.length, 0);
  });

  it("a live session's state and ETA show in the strip; the run's final record replaces it once it ends", () => {
    const state = new CurvesState();
    const live = { ...run.info, status: 'running' as const, step: 0, final: undefined, bestEvaluation: undefined };
    state.showRun(live, []);
    const session: SessionSummary = {
      sessionId: 'session-1',
      experimentUri: 'file:///x.prune.yaml',
      runDir: '/runs/x',
      name: run.info.name,
      method: 'sapp',
      state: 'queued',
      step: 0,
      totalSteps: 300,
      globalSparsity: 0,
      targetSparsity: 0,
      finalTargetSparsity: 0.75,
    };
    state.showSession(session);
    assert.equal(strip(state)['status'], 'queued');
    state.showSession({ ...session, state: 'running', backend: 'wasm', threads: 2, step: 80, etaSeconds: 61 });
    state.add(Array.from({ length: 10 }, (_, i) => stepAt(10 * i, { stepMs: 5 })));
    const items = Object.fromEntries(state.headline().map((i) => [i.key, i]));
    assert.equal(items['step']!.value, '91/300', 'the events may be ahead of the last summary');
    assert.equal(items['step']!.detail, 'ETA 1 min 1 s', "the session's pace");
    assert.equal(items['backend']!.detail, '2 threads');
    state.showSession({ ...session, state: 'completed' });
    state.showRun(run.info, run.events);
    assert.equal(strip(state)['status'], 'completed');
    assert.equal(strip(state)['step'], '300/300');
  });

  it('a CTR run shows log-loss, from 0', () => {
    const state = new CurvesState();
    const evals: RunEvent[] = [
      { type: 'eval', step: 10, metrics: { log_loss: 0.5, loss: 0.5, auc: 0.7 } } as EvalEvent,
      { type: 'eval', step: 20, metrics: { log_loss: 0.4, loss: 0.4, auc: 0.75 } } as EvalEvent,
    ];
    state.showRun({ ...run.info, task: 'ctr', final: undefined }, evals);
    const [logLoss] = state.lines().quality;
    assert.equal(state.qualityTitle, 'Log-loss (evaluation)');
    assert.equal(logLoss!.label, 'evaluation log-loss');
    assert.deepEqual(logLoss!.data, [
      { x: 10, y: 0.5 },
      { x: 20, y: 0.4 },
    ]);
    assert.deepEqual(state.axes().quality, { min: 0 });
    const metric = state.headline().find((i) => i.key === 'metric')!;
    assert.deepEqual(
      [metric.label, metric.value, metric.detail],
      ['Log-loss', '0.4000', 'best 0.4000 at step 20 · AUC 0.7500'],
    );
  });

  it('CSV: one row per step event, evaluation columns where an evaluation ran, empty cells for missing values', () => {
    const state = new CurvesState();
    state.showRun(run.info, run.events);
    const csv = state.toCsv().trimEnd().split('\n');
    assert.equal(
      csv[0],
      'step,phase,loss,learning_rate,target_sparsity,global_sparsity,block_sparsity_dense_1,clipped_fraction_dense_1,step_ms,eval_loss,eval_accuracy,eval_log_loss',
    );
    const head = csv[0].split(',');
    assert.equal(csv.length, stepEvents.length + 1);
    const rowAt = (step: number) => csv.find((l) => l.startsWith(`${step},`))!.split(',');
    const evaluated = evalEvents.find((e) => stepEvents.some((s) => s.step === e.step));
    assert.ok(evaluated, 'an evaluation at a logged step');
    assert.equal(rowAt(evaluated.step)[head.indexOf('eval_accuracy')], String(evaluated.metrics.accuracy));
    const plain = stepEvents.find((s) => !evalEvents.some((e) => e.step === s.step))!;
    assert.equal(rowAt(plain.step)[head.indexOf('eval_accuracy')], '');

    state.showRun(run.info, [stepAt(5, { loss: Number.NaN })]);
    assert.equal(state.toCsv().split('\n')[1]!.split(',')[2], '', 'a NaN loss is an empty cell');
  });

  it("a long run's lines are decimated, keeping each stretch's extremes", () => {
    const state = new CurvesState();
    const steps = Array.from({ length: 10_000 }, (_, i) => stepAt(i, { loss: 1 + Math.sin(i / 50) * 0.1 }));
    steps[6_789] = stepAt(6_789, { loss: 50 });
    state.showRun({ ...run.info, totalSteps: 10_000 }, steps);
    const loss = state.lines().loss[0]!.data;
    assert.ok(loss.length <= MAX_POINTS, `${loss.length} points`);
    assert.ok(
      loss.some((p) => p.x === 6_789 && p.y === 50),
      'the spike survives',
    );
    assert.ok(
      loss.every((p, i) => i === 0 || p.x > loss[i - 1]!.x),
      'in step order',
    );
  });
});

/** A timer that runs only when the test moves its clock. */
function fakeTimer() {
  let time = 0;
  let nextId = 1;
  const due = new Map<number, { at: number; run: () => void }>();
  const timer: Timer = {
    now: () => time,
    setTimeout: (run, ms) => {
      due.set(nextId, { at: time + ms, run });
      return nextId++;
    },
    clearTimeout: (handle) => void due.delete(handle as number),
  };
  const advance = (ms: number) => {
    time += ms;
    for (const [id, t] of [...due].sort((a, b) => a[1].at - b[1].at))
      if (t.at <= time) {
        due.delete(id);
        t.run();
      }
  };
  return { timer, advance, pending: () => due.size };
}

describe('live redraw throttle', () => {
  it('live events redraw at most once per interval, all of them in one redraw', () => {
    const { timer, advance, pending } = fakeTimer();
    const draws: number[] = [];
    const redraw = new LiveRedraw(() => draws.push(timer.now()), 2000, timer);
    redraw.now();
    assert.deepEqual(draws, [0], 'a whole state draws at once');
    advance(500);
    redraw.soon();
    redraw.soon();
    redraw.soon();
    assert.equal(pending(), 1, 'one redraw for the three batches');
    advance(1499);
    assert.deepEqual(draws, [0]);
    advance(1);
    assert.deepEqual(draws, [0, 2000], '2 s after the last draw');
    advance(5000);
    redraw.soon();
    advance(0);
    assert.deepEqual(draws, [0, 2000, 7000], 'long after the last draw: at once');
  });

  it('a whole new state draws at once and drops the redraw that was due', () => {
    const { timer, advance, pending } = fakeTimer();
    const draws: number[] = [];
    const redraw = new LiveRedraw(() => draws.push(timer.now()), 2000, timer);
    redraw.now();
    advance(100);
    redraw.soon();
    advance(100);
    redraw.now();
    assert.equal(pending(), 0);
    advance(10_000);
    assert.deepEqual(draws, [0, 200]);
    redraw.soon();
    advance(0);
    assert.deepEqual(draws, [0, 200, 10_200], 'and the next live batch is not blocked');
  });
});
