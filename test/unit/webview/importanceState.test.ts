// The importance panel's state without a browser: the host's messages and the user's actions in,
// the requests, saved state and redraws out, on the snapshots of a real 300-step teacher-sapp run
// (test/fixtures/webview/run.json) and a fake clock for the 2 s answer timeout.
import type { HostToWebview, RunEvent, RunMessage, SnapshotMessage } from '@protocol';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ANSWER_TIMEOUT_MS,
  decodeLayer,
  ImportanceState,
  type ImportanceUpdate,
  type SavedImportanceState,
} from '../../../webview/src/state/importanceState';
import { ROOT } from '../../helpers/experimentFixtures';
import { withSecondLayer } from '../../helpers/snapshotMessages';

const fixture = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/webview/run.json'), 'utf8')) as HostToWebview[];
const run = fixture.find((m): m is RunMessage => m.type === 'run')!;
const snapshots = fixture.filter((m): m is SnapshotMessage => m.type === 'snapshot');
const STEPS = snapshots.map((s) => s.step); // [0, 144, 300]
const template = snapshots.at(-1)!;
const snapshotEvent = run.events.find((e) => e.type === 'snapshot')!;

/** The run's snapshot event at `step` (the offsets do not matter to the panel). */
const snapshotAt = (step: number): RunEvent => ({ ...snapshotEvent, step });
/** The host's answer for `step`: the fixture's snapshot at that step, else the last one relabelled. */
const answer = (step: number): SnapshotMessage => snapshots.find((s) => s.step === step) ?? { ...template, step };
/** The steps an update asks the host for. */
const asked = (update: ImportanceUpdate) => update.post.map((m) => m.step);
/** What `setState` stored and `getState` gives back after a reload: JSON, as VS Code keeps it. */
const reloaded = (update: ImportanceUpdate): SavedImportanceState =>
  JSON.parse(JSON.stringify(update.save)) as SavedImportanceState;

/** A panel on a fake clock, `time` in milliseconds. */
function panel(saved: SavedImportanceState = {}) {
  const clock = { time: 0 };
  return { state: new ImportanceState(saved, () => clock.time), clock };
}

describe('importance panel state', () => {
  it('a new panel asks for the newest snapshot and draws its answer', () => {
    const { state } = panel();
    const shown = state.showRun(run.events);
    assert.deepEqual(asked(shown), [300]);
    assert.deepEqual(state.steps, STEPS);
    assert.equal(shown.draw, false, 'nothing to draw before the answer');
    assert.deepEqual(shown.save, { step: 300, latest: true });
    const drawn = state.showSnapshot(answer(300));
    assert.equal(drawn.draw, true);
    assert.deepEqual(asked(drawn), []);
    assert.equal(state.snapshotStep, 300);
    assert.equal(state.sliderIndex, 2);
    assert.equal(state.layer?.name, 'dense_1');
    assert.deepEqual(drawn.save, { layer: 'dense_1', step: 300, latest: true });
  });

  it('a run without snapshots asks for nothing and keeps the slider empty', () => {
    const { state } = panel();
    const shown = state.showRun(run.events.filter((e) => e.type !== 'snapshot'));
    assert.deepEqual(shown, { post: [], draw: false, slider: true });
    assert.deepEqual(state.steps, []);
    assert.equal(state.layer, undefined);
  });

  it('follows a live run one request at a time, asking next for the newest wish, not each snapshot', () => {
    const { state, clock } = panel();
    assert.deepEqual(asked(state.showRun([snapshotAt(100)])), [100]);
    // Three snapshots arrive while 100 is answered: each moves the slider, none is asked yet.
    for (const step of [110, 120, 130]) {
      clock.time += 100;
      const update = state.addEvents([snapshotAt(step)]);
      assert.deepEqual(asked(update), [], `${step} waits for the answer`);
      assert.equal(state.selectedStep, step, 'the slider follows the newest');
    }
    const first = state.showSnapshot(answer(100));
    assert.deepEqual(asked(first), [130], 'then only the newest is asked');
    assert.equal(state.snapshotStep, 100);
    assert.equal(state.selectedStep, 130, 'the slider stays on the wish, not the step drawn');
    assert.deepEqual(first.save, { layer: 'dense_1', step: 130, latest: true });
    assert.deepEqual(asked(state.showSnapshot(answer(130))), []);
    assert.deepEqual(asked(state.addEvents([snapshotAt(140)])), [140], 'with nothing in flight, asked at once');
  });

  it('a request unanswered for 2 s no longer blocks the next', () => {
    const { state, clock } = panel();
    assert.deepEqual(asked(state.showRun([snapshotAt(100)])), [100]);
    clock.time = ANSWER_TIMEOUT_MS - 1;
    assert.deepEqual(asked(state.addEvents([snapshotAt(200)])), [], 'just inside the timeout: queued');
    clock.time = ANSWER_TIMEOUT_MS;
    assert.deepEqual(asked(state.addEvents([snapshotAt(300)])), [300], 'at the timeout: asked at once');
  });

  it('after a timed-out request, the wish queued behind it is dropped: the live panel keeps following', () => {
    // The bug fixed in 379e5c6: the answer to 300 re-asked the stale 200, moving the slider back.
    const { state, clock } = panel();
    assert.deepEqual(asked(state.showRun([snapshotAt(100)])), [100]);
    clock.time = 100;
    assert.deepEqual(asked(state.addEvents([snapshotAt(200)])), [], '200 waits behind the unanswered 100');
    clock.time = 2300;
    assert.deepEqual(asked(state.addEvents([snapshotAt(300)])), [300]);
    const late = state.showSnapshot(answer(100));
    assert.deepEqual(late, { post: [], draw: false, slider: false }, 'the late answer to 100 is not drawn');
    assert.equal(state.snapshotStep, undefined);
    const drawn = state.showSnapshot(answer(300));
    assert.equal(drawn.draw, true);
    assert.deepEqual(asked(drawn), [], 'the stale wish for 200 is never asked');
    assert.equal(state.selectedStep, 300);
    assert.deepEqual(drawn.save, { layer: 'dense_1', step: 300, latest: true });
    assert.deepEqual(asked(state.addEvents([snapshotAt(400)])), [400], 'the next snapshot is followed');
  });

  it('a panel the user moved stays on its step as snapshots arrive', () => {
    const { state } = panel();
    state.showRun(run.events);
    state.showSnapshot(answer(300));
    const moved = state.pickStepAt(1);
    assert.deepEqual(asked(moved), [144]);
    assert.deepEqual(moved.save, { layer: 'dense_1', step: 144, latest: false });
    state.showSnapshot(answer(144));
    const more = state.addEvents([snapshotAt(400)]);
    assert.deepEqual(asked(more), []);
    assert.equal(more.slider, true, 'the slider gets the new step');
    assert.equal(state.selectedStep, 144);
    assert.deepEqual(state.steps, [...STEPS, 400]);
    assert.deepEqual(asked(state.pickStepAt(1)), [], 'the step drawn is not asked again');
    assert.deepEqual(asked(state.pickStepAt(9)), [], 'no step there');
    assert.deepEqual(asked(state.addEvents([])), []);
  });

  it('a re-sent run (its session ended) redraws the snapshot shown without asking again', () => {
    const { state } = panel();
    state.showRun(run.events);
    state.showSnapshot(answer(300));
    const again = state.showRun(run.events);
    assert.deepEqual(asked(again), []);
    assert.equal(again.draw, true);
  });

  it('the layer picked is drawn and saved; a snapshot without it falls back to the first layer', () => {
    const { state } = panel();
    state.showRun(run.events);
    state.showSnapshot(withSecondLayer(answer(300)));
    assert.deepEqual(state.layerNames, ['dense_1', 'dense_2']);
    const picked = state.pickLayer('dense_2');
    assert.equal(picked.draw, true);
    assert.deepEqual(picked.save, { layer: 'dense_2', step: 300, latest: true });
    assert.equal(state.layer?.rows, 8);
    state.pickStepAt(1);
    state.showSnapshot(answer(144));
    assert.equal(state.selectedLayer, 'dense_1');
    assert.equal(state.layer?.name, 'dense_1');
  });

  it('state restores after a reload: the step and layer the user picked come back', () => {
    const { state } = panel();
    state.showRun(run.events);
    state.showSnapshot(withSecondLayer(answer(300)));
    state.pickStepAt(1);
    state.showSnapshot(withSecondLayer(answer(144)));
    const saved = reloaded(state.pickLayer('dense_2'));
    assert.deepEqual(saved, { layer: 'dense_2', step: 144, latest: false });

    const restored = panel(saved).state;
    assert.deepEqual(asked(restored.showRun(run.events)), [144], 'asks for the saved step, not the newest');
    restored.showSnapshot(withSecondLayer(answer(144)));
    assert.equal(restored.selectedLayer, 'dense_2');
    assert.equal(restored.sliderIndex, 1);
    // Its run went on meanwhile: a panel the user moved still stays where it was.
    assert.deepEqual(asked(restored.addEvents([snapshotAt(400)])), []);
  });

  it('a panel rebuilt while its run goes on follows the newest snapshot again if it was following', () => {
    // The bug fixed in 317ea87: the rebuilt panel stuck to the step it had shown.
    const { state } = panel();
    state.showRun([snapshotAt(0), snapshotAt(144)]);
    const saved = reloaded(state.showSnapshot(answer(144)));
    assert.deepEqual(saved, { layer: 'dense_1', step: 144, latest: true });
    const rebuilt = panel(saved).state;
    assert.deepEqual(asked(rebuilt.showRun(run.events)), [300], 'the run is at 300 now');
    assert.equal(rebuilt.selectedStep, 300);
  });

  it('older saved state: a step without `latest` is restored; a step the run lacks gives the newest', () => {
    assert.deepEqual(asked(panel({ step: 144 }).state.showRun(run.events)), [144]);
    assert.deepEqual(asked(panel({ step: 144, latest: false }).state.showRun(run.events)), [144]);
    assert.deepEqual(asked(panel({ step: 999, latest: false }).state.showRun(run.events)), [300]);
    assert.deepEqual(asked(panel({ layer: 'dense_1' }).state.showRun(run.events)), [300]);
  });

  it('decodes a snapshot layer as the wire sends it: float32 scores, mask bytes, their range', () => {
    const dto = answer(300).layers[0]!;
    const layer = decodeLayer(dto);
    const bytes = Buffer.from(dto.scores, 'base64');
    const scores = Array.from({ length: dto.gridRows * dto.gridCols }, (_, i) => bytes.readFloatLE(i * 4));
    assert.deepEqual(Array.from(layer.scores), scores);
    assert.deepEqual(Array.from(layer.mask), Array.from(Buffer.from(dto.mask, 'base64')));
    assert.equal(layer.min, Math.min(...scores));
    assert.equal(layer.max, Math.max(...scores));
    assert.deepEqual([layer.rows, layer.cols], [16, 16]);
    assert.ok(layer.mask.includes(0) && layer.mask.includes(1), 'the last snapshot keeps and prunes blocks');
  });
});
