// The heatmap's geometry and words (webview/src/state/heatmapLayout.ts) and the run panel's saved
// state (state/runPanelState.ts), without a browser.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  axisTitles,
  blockSpan,
  blockTooltip,
  cellSize,
  colourRange,
  type HeatmapLayer,
} from '../../../webview/src/state/heatmapLayout';
import { DEFAULT_RUN_PANEL, parseSavedRunPanel } from '../../../webview/src/state/runPanelState';

/** dense_1 of the Fashion-MNIST sample: a 784x512 kernel in 8x8 blocks. */
const dense: HeatmapLayer = {
  name: 'dense_1',
  rows: 98,
  cols: 64,
  kernel: { kind: 'dense', rows: 784, cols: 512, blockRows: 8, blockCols: 8 },
  min: 0.86,
  max: 1.41,
};

describe('heatmap layout', () => {
  it('blocks are whole pixels, as large as fit both ways, times the zoom', () => {
    assert.equal(cellSize(98, 64, 600, 700), 7, 'the height limits a tall grid: 700/98');
    assert.equal(cellSize(16, 16, 600, 700), 37);
    assert.equal(cellSize(98, 64, 600, 700, 4), 28);
    assert.equal(cellSize(400, 400, 200, 200), 1, 'never below one pixel');
  });

  it("axis titles say what the kernel's rows and columns are, how many, in blocks of what size", () => {
    assert.deepEqual(axisTitles(dense), {
      rows: 'rows: inputs: 784 in 98 blocks of 8',
      cols: 'columns: outputs: 512 in 64 blocks of 8',
    });
    const conv = {
      ...dense,
      rows: 36,
      cols: 8,
      kernel: { kind: 'conv' as const, rows: 288, cols: 64, blockRows: 8, blockCols: 8 },
    };
    assert.match(axisTitles(conv).rows, /kh·kw·cin.*288 in 36 blocks of 8/);
    assert.match(axisTitles(conv).cols, /output channels: 64 in 8 blocks of 8/);
    assert.deepEqual(axisTitles({ ...dense, kernel: undefined }), { rows: '98 block rows', cols: '64 block columns' });
  });

  it('a block covers its rows and columns of the kernel; an edge block stops at the kernel', () => {
    assert.deepEqual(blockSpan(0, 8, 784), [0, 7]);
    assert.deepEqual(blockSpan(97, 8, 784), [776, 783]);
    assert.deepEqual(blockSpan(3, 8, 30), [24, 29], 'an edge block of 6');
    assert.equal(
      blockTooltip(dense, 3, 12, 1.23456, true, 'attention'),
      'block (3, 12) · inputs 24–31 × outputs 96–103 · attention 1.2346 · kept',
    );
    assert.equal(
      blockTooltip({ ...dense, kernel: undefined }, 0, 1, 0.5, false, 'magnitude'),
      'block (0, 1) · magnitude 0.5000 · pruned',
    );
  });

  it("colours span the run's range by default, widened to the step's when it reaches past it; or the step's alone", () => {
    assert.deepEqual(colourRange(dense, 'run', { min: 0.66, max: 2.55 }), { min: 0.66, max: 2.55 });
    assert.deepEqual(colourRange(dense, 'step', { min: 0.66, max: 2.55 }), { min: 0.86, max: 1.41 });
    assert.deepEqual(colourRange(dense, 'run', { min: 0.9, max: 1.2 }), { min: 0.86, max: 1.41 });
    assert.deepEqual(colourRange(dense, 'run'), { min: 0.86, max: 1.41 }, 'no run range (an old host): the step');
  });
});

describe('run panel saved state', () => {
  it('reads back what it saved, and only well-formed fields of anything else', () => {
    const saved = { tab: 'blocks', importance: { layer: 'dense_2', step: 400, latest: false }, scale: 'step', zoom: 4 };
    assert.deepEqual(parseSavedRunPanel(saved), saved);
    assert.deepEqual(parseSavedRunPanel(undefined), DEFAULT_RUN_PANEL);
    assert.deepEqual(parseSavedRunPanel('blocks'), DEFAULT_RUN_PANEL);
    assert.deepEqual(
      parseSavedRunPanel({ tab: 'sideways', importance: { layer: 3, step: -1, latest: 'yes' }, scale: 'log', zoom: 3 }),
      DEFAULT_RUN_PANEL,
    );
    // The importance panel's state before the run panel (`{layer, step, latest}` at the top) is not mistaken for it.
    assert.deepEqual(parseSavedRunPanel({ layer: 'dense_1', step: 5, latest: true }), DEFAULT_RUN_PANEL);
  });
});
