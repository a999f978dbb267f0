import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readSnapshot, SnapshotIndex } from '../../server/src/runs/runReader';
import { RunStore } from '../../server/src/runs/runStore';

describe('SnapshotIndex', () => {
  const dir = mkdtempSync(join(tmpdir(), 'snapshot-index-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const metrics = join(dir, 'metrics.jsonl');
  const step = (n: number) => `${JSON.stringify({ type: 'step', step: n, loss: 1 })}\n`;
  const name = (n: number, resumed = false) =>
    `snapshots/step-${String(n + (resumed ? 10_000 : 0)).padStart(8, '0')}.bin`;
  const snapshot = (n: number, file = name(n)) =>
    `${JSON.stringify({ type: 'snapshot', step: n, phase: 0, score: 'attention', file, layers: [] })}\n`;

  it('finds snapshots as a live run appends them, reading only whole lines', () => {
    writeFileSync(join(dir, 'run.json'), '{}');
    writeFileSync(metrics, step(0) + snapshot(0) + step(1));
    const index = new SnapshotIndex();
    assert.equal(index.find(dir, 0)?.file, name(0));
    assert.equal(index.find(dir, 2), undefined);
    // A line half-written when the request comes: found once it is complete.
    const line = snapshot(2);
    appendFileSync(metrics, line.slice(0, 20));
    assert.equal(index.find(dir, 2), undefined);
    appendFileSync(metrics, line.slice(20) + step(3));
    assert.equal(index.find(dir, 2)?.step, 2);
    assert.equal(index.find(dir, 0)?.file, name(0), 'earlier snapshots stay found');
    // A resumed run writes a step's snapshot again: the last one describes the file.
    appendFileSync(metrics, snapshot(2, name(2, true)));
    assert.equal(index.find(dir, 2)?.file, name(2, true));
  });

  it('starts over when the file is replaced, and refuses a folder that is not a run', () => {
    const index = new SnapshotIndex();
    assert.equal(index.find(dir, 0)?.step, 0);
    writeFileSync(`${metrics}.new`, snapshot(5));
    renameSync(`${metrics}.new`, metrics);
    assert.equal(index.find(dir, 0), undefined);
    assert.equal(index.find(dir, 5)?.step, 5);
    assert.throws(() => index.find(join(dir, 'nope'), 0), /not a run folder/);
  });

  it("each layer's score range over every snapshot so far, growing as a live run writes more; the kernel geometry kept", () => {
    const store = RunStore.create(dir, 'ranges', 'sapp', 1, () => ({ 'run.json': '{}' }));
    writeFileSync(join(store.dir, 'run.json'), '{}');
    const kernel = { kind: 'dense' as const, rows: 16, cols: 8, blockRows: 8, blockCols: 8 };
    const layer = (name: string, scores: number[]) => ({
      name,
      gridRows: 2,
      gridCols: 1,
      kernel,
      scores: Float32Array.from(scores),
      mask: Uint8Array.from([1, 0]),
    });
    const index = new SnapshotIndex();
    assert.deepEqual(index.runRanges(store.dir), {}, 'no events yet');
    const first = store.writeSnapshot(0, 0, 'attention', [layer('a', [1, 1]), layer('b', [0.5, 2])]);
    store.writeSnapshot(10, 0, 'attention', [layer('a', [0.8, 1.5]), layer('b', [Number.NaN, 1])]);
    assert.deepEqual(index.runRanges(store.dir), { a: { min: 0.800000011920929, max: 1.5 }, b: { min: 0.5, max: 2 } });
    store.writeSnapshot(20, 1, 'attention', [layer('a', [0.2, 3]), layer('b', [1, 1])]);
    assert.deepEqual(index.runRanges(store.dir).a, { min: 0.20000000298023224, max: 3 }, 'a later snapshot widens it');
    assert.deepEqual(readSnapshot(store.dir, first)[0]!.kernel, kernel);
  });
  it('refuses a snapshot line that does not hold a snapshot event, naming the line and the field', () => {
    const run = join(dir, 'crafted');
    mkdirSync(run);
    writeFileSync(join(run, 'run.json'), '{}');
    const bad = { type: 'snapshot', step: 9, phase: 0, score: 'softmax', file: name(9), layers: [] };
    writeFileSync(join(run, 'metrics.jsonl'), `${step(0)}${JSON.stringify(bad)}\n`);
    assert.throws(
      () => new SnapshotIndex().find(run, 9),
      /metrics\.jsonl:2: score .*expected one of "attention"\|"magnitude"/,
    );
  });
});
