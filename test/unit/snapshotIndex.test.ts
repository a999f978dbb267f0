import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SnapshotIndex } from '../../server/src/runs/runReader';

describe('SnapshotIndex', () => {
  const dir = mkdtempSync(join(tmpdir(), 'snapshot-index-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const metrics = join(dir, 'metrics.jsonl');
  const step = (n: number) => `${JSON.stringify({ type: 'step', step: n, loss: 1 })}\n`;
  const snapshot = (n: number, file = `snapshots/${n}.bin`) =>
    `${JSON.stringify({ type: 'snapshot', step: n, phase: 0, score: 'softmax', file, layers: [] })}\n`;

  it('finds snapshots as a live run appends them, reading only whole lines', () => {
    writeFileSync(join(dir, 'run.json'), '{}');
    writeFileSync(metrics, step(0) + snapshot(0) + step(1));
    const index = new SnapshotIndex();
    assert.equal(index.find(dir, 0)?.file, 'snapshots/0.bin');
    assert.equal(index.find(dir, 2), undefined);
    // A line half-written when the request comes: found once it is complete.
    const line = snapshot(2);
    appendFileSync(metrics, line.slice(0, 20));
    assert.equal(index.find(dir, 2), undefined);
    appendFileSync(metrics, line.slice(20) + step(3));
    assert.equal(index.find(dir, 2)?.step, 2);
    assert.equal(index.find(dir, 0)?.file, 'snapshots/0.bin', 'earlier snapshots stay found');
    // A resumed run writes a step's snapshot again: the last one describes the file.
    appendFileSync(metrics, snapshot(2, 'snapshots/2-resumed.bin'));
    assert.equal(index.find(dir, 2)?.file, 'snapshots/2-resumed.bin');
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
});
