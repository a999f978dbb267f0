// The schedule panel's state without a browser: the schedule the language server computes for the
// teacher sample (the same pure function) in, the lines, summary, tables and CSV out; errors keep
// the last schedule.
import type { SchedulePreviewResult } from '@protocol';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { schedulePreview } from '../../../server/src/experiment/schedulePreview';
import { validateExperiment } from '../../../server/src/experiment/validate';
import * as schedule from '../../../webview/src/state/scheduleState';
import { hostFor, SAMPLES_DIR } from '../../helpers/experimentFixtures';

function previewOf(file: string): SchedulePreviewResult {
  return schedulePreview(validateExperiment(readFileSync(file, 'utf8'), hostFor(file)));
}

const preview = previewOf(join(SAMPLES_DIR, 'teacher-sapp.prune.yaml'));

describe('schedule panel state', () => {
  it('an error keeps the last schedule drawn; the next schedule clears the error', () => {
    const state = new schedule.ScheduleState();
    assert.equal(state.fileName('schedule.csv'), 'experiment-schedule.csv');
    state.receive({ type: 'schedule', preview });
    assert.equal(state.preview, preview);
    assert.equal(state.error, undefined);
    state.receive({ type: 'schedule', error: 'teacher-sapp.prune.yaml:3:5: bad value' });
    assert.equal(state.preview, preview, 'the last schedule stays');
    assert.equal(state.error, 'teacher-sapp.prune.yaml:3:5: bad value');
    state.receive({ type: 'schedule', preview: { ...preview, name: 'my run/2' } });
    assert.equal(state.error, undefined);
    assert.equal(state.fileName('schedule.png'), 'my_run_2-schedule.png', 'a file-safe name');
  });

  it('the lines are the sampled target sparsity, and the learning rate only when it changes', () => {
    const lines = schedule.scheduleLines(preview);
    assert.deepEqual(
      lines.sparsity[0]!.data,
      preview.steps.map((x, i) => ({ x, y: preview.targetSparsity[i] })),
    );
    assert.equal(schedule.constantLearningRate(preview), 0.002, 'the teacher sample keeps its learning rate');
    assert.deepEqual(lines.lr, [], 'a constant learning rate is no chart');
    assert.match(schedule.scheduleSummary(preview), / · learning rate 0\.002 throughout$/);

    const decaying = {
      ...preview,
      learningRate: preview.learningRate.map((v, i) => v * (1 - i / preview.steps.length)),
    };
    const decayLines = schedule.scheduleLines(decaying);
    assert.equal(schedule.constantLearningRate(decaying), undefined);
    assert.deepEqual(
      decayLines.lr[0]!.data.map((p) => p.y),
      decaying.learningRate,
    );
    assert.deepEqual([decayLines.sparsity[0]!.color, decayLines.lr[0]!.color], [0, 1]);
    assert.doesNotMatch(schedule.scheduleSummary(decaying), /learning rate/);
    assert.deepEqual(schedule.scheduleAxes(), { sparsity: { min: 0, max: 1 }, lr: { min: 0 } }, 'the rate from 0');
  });

  it('summary and tables: phases with their targets at start and end, layers with kept blocks', () => {
    const dense1 = preview.layers.find((l) => l.name === 'dense_1')!;
    assert.ok(dense1.pruned && dense1.keptBlocks > 0 && dense1.keptBlocks < dense1.blocks);
    const summary = schedule.scheduleSummary(preview);
    assert.ok(summary.startsWith(`${preview.name} · ${preview.method} · ${preview.totalSteps} steps · `), summary);
    assert.match(summary, /blocks kept at the end \(\d+\.\d% sparse\)/);

    const phases = schedule.phaseTable(preview);
    assert.deepEqual(phases.head, ['#', 'phase', 'kind', 'steps', 'target at start', 'target at end']);
    assert.equal(phases.rows.length, preview.phases.length);
    const first = preview.phases[0]!;
    assert.deepEqual(phases.rows[0]!.slice(0, 4), [
      String(first.index),
      first.label,
      first.kind,
      `${first.startStep}–${first.endStep - 1}`,
    ]);
    // The run starts dense and ends at its target.
    assert.equal(phases.rows[0]![4], '0.0%');
    assert.equal(phases.rows.at(-1)![5], `${(100 * preview.targetSparsity.at(-1)!).toFixed(1)}%`);

    const layers = schedule.layerTable(preview);
    assert.deepEqual(
      layers.rows.find((r) => r[0] === 'dense_1'),
      ['dense_1', String(dense1.blocks), String(dense1.keptBlocks)],
    );
    const unpruned = preview.layers.find((l) => !l.pruned);
    if (unpruned)
      assert.deepEqual(layers.rows.find((r) => r[0] === unpruned.name)![2], `${unpruned.blocks} (not pruned)`);
  });

  it('CSV: one row per sample with its phase, labels quoted when they need it', () => {
    const rows = schedule.scheduleCsv(preview).trimEnd().split('\n');
    assert.equal(rows[0], 'step,phase,target_sparsity,learning_rate');
    assert.equal(rows.length, preview.steps.length + 1);
    assert.equal(
      rows[1],
      `${preview.steps[0]},${preview.phases[0]!.label},${preview.targetSparsity[0]},${preview.learningRate[0]}`,
    );
    const quoted = schedule.scheduleCsv({
      ...preview,
      phases: preview.phases.map((p) => ({ ...p, label: `${p.label}, "x"` })),
    });
    assert.ok(quoted.split('\n')[1]!.includes(`"${preview.phases[0]!.label}, ""x"""`), quoted.split('\n')[1]);
  });
});
