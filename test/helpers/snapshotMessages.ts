/** Snapshot messages for the importance panel's tests, in Chromium and in Node. */
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
