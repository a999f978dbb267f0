// The compare panel's state without a browser: two real 300-step runs
// (test/fixtures/webview/compare.json) in, the overlaid lines, summary, best results and CSV out.
import type { CompareMessage, RunCompareResult } from '@protocol';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { differingValues } from '../../../protocol/runHeadline';
import { bestRows, compareCsv, CompareState } from '../../../webview/src/state/compareState';
import { ROOT } from '../../helpers/experimentFixtures';

const message = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/webview/compare.json'), 'utf8')) as CompareMessage;
/** Each run's short label and what differs in its config (the fixture: sapp against magnitude). */
const labels = message.runs.map(
  (r, i) =>
    `${r.info.name} · ${r.info.method} · s${r.info.seed} (${differingValues(message.table.differences, i).join(', ')})`,
);

describe('compare panel state', () => {
  it('each run has one colour on every chart, labelled with what differs; its target is dashed in the same colour', () => {
    const state = new CompareState();
    assert.equal(state.summary(), 'Waiting for the runs…');
    state.receive(message);
    const lines = state.lines();
    assert.deepEqual(
      lines.sparsity.map((l) => [l.label, l.color, l.style?.borderDash !== undefined, l.inLegend ?? true]),
      [
        [labels[0], 0, false, true],
        [`${labels[0]} target`, 0, true, false],
        [labels[1], 1, false, true],
        [`${labels[1]} target`, 1, true, false],
      ],
    );
    for (const chart of ['loss', 'quality', 'time'] as const)
      assert.deepEqual(
        lines[chart].map((l) => [l.label, l.color]),
        [
          [labels[0], 0],
          [labels[1], 1],
        ],
        chart,
      );
    const steps = message.runs[0]!.events.filter((e) => e.type === 'step').length;
    assert.equal(lines.loss[0]!.data.length, steps);
    assert.ok(lines.quality[0]!.data.length > 0, 'evaluation points');
    assert.equal(state.qualityTitle, 'Accuracy (evaluation)');
    assert.equal(state.maxStep, 300);
    assert.equal(labels[0], 'teacher-cmp · sapp · s1 (exponent 4)', 'the keys both runs have, not the method');
    assert.equal(state.summary(), `2 runs: ${labels[0]} completed; ${labels[1]} completed`);
    assert.deepEqual(state.axes().sparsity, { min: 0, max: 1 });
    assert.equal(state.axes().quality.max, 1);
  });

  it('a CTR run turns the quality chart to log-loss', () => {
    const state = new CompareState();
    const [first, second] = message.runs;
    state.receive({ ...message, runs: [{ ...first!, info: { ...first!.info, task: 'ctr' } }, second!] });
    assert.equal(state.qualityTitle, 'Log-loss (evaluation)');
  });

  it('the best value of each metric column: highest accuracy, lowest log-loss, none when equal or no metric', () => {
    const best = bestRows(message.table);
    const column = (key: string) => message.table.columns.indexOf(key);
    // In the fixture the sapp run has the higher accuracy and support precision, both the same
    // sparsity and chance level, and neither a log-loss.
    assert.equal(best[column('accuracy')], 0);
    assert.equal(best[column('support_precision')], 0);
    assert.equal(best[column('support_precision_chance')], undefined, 'chance is not a result to win');
    assert.equal(best[column('run')], undefined);
    assert.equal(best[column('global_sparsity')], undefined);
    assert.equal(best[column('log_loss')], undefined, "'-' cells are no values");
    const table: RunCompareResult = {
      ...message.table,
      columns: ['run', 'accuracy', 'log_loss', 'auc'],
      rows: [
        ['a', '91.00%', '0.40', '0.80'],
        ['b', '93.50%', '0.45', '0.80'],
        ['c', '92.00%', '0.35', '-'],
      ],
    };
    assert.deepEqual(bestRows(table), [undefined, 1, 2, undefined]);
  });

  it('CSV of the final-results table, fields quoted where needed', () => {
    const rows = compareCsv(message.table).trimEnd().split('\n');
    assert.equal(rows[0], message.table.columns.join(','));
    assert.equal(rows.length, message.table.rows.length + 1);
    const quoted = compareCsv({ ...message.table, columns: ['run'], rows: [['a,b']] });
    assert.equal(quoted, 'run\n"a,b"\n');
  });
});
