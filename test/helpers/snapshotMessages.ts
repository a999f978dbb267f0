/** Snapshot messages for the run panel's heatmap tests, in Chromium and in Node. */
import type { SnapshotMessage } from '@protocol';

/** A second, synthetic 8x4 layer (the teacher run prunes one), so the layer picker has a choice. */
export function withSecondLayer(snapshot: SnapshotMessage): SnapshotMessage {
  const rows = 8;
  const cols = 4;
  const scores = Buffer.alloc(rows * cols * 4);
  const mask = Buffer.alloc(rows * cols);
  for (let i = 0; i < rows * cols; i++) {
    scores.writeFloatLE(i / (rows * cols - 1), i * 4);
    mask[i] = i % 3 === 0 ? 0 : 1;
  }
  return {
    ...snapshot,
    runRanges: { ...snapshot.runRanges, dense_2: { min: 0, max: 1 } },
    layers: [
      ...snapshot.layers,
      {
        name: 'dense_2',
        gridRows: rows,
        gridCols: cols,
        scores: scores.toString('base64'),
        mask: mask.toString('base64'),
      },
    ],
  };
}

/**
 * A snapshot of one synthetic `rows` x `cols` layer whose score is its index (so every block's
 * colour is known) and whose blocks are pruned where `pruned(i)`; the run's range is the layer's.
 */
export function syntheticSnapshot(
  step: number,
  rows: number,
  cols: number,
  pruned: (i: number) => boolean,
): SnapshotMessage {
  const n = rows * cols;
  const scores = Buffer.alloc(n * 4);
  const mask = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    scores.writeFloatLE(i, i * 4);
    mask[i] = pruned(i) ? 0 : 1;
  }
  return {
    type: 'snapshot',
    step,
    score: 'attention',
    layers: [
      { name: 'big', gridRows: rows, gridCols: cols, scores: scores.toString('base64'), mask: mask.toString('base64') },
    ],
    runRanges: { big: { min: 0, max: n - 1 } },
  };
}
