import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEdits, codeActions } from '../../../server/src/experiment/codeActions';
import { validateExperiment } from '../../../server/src/experiment/validate';
import { LineIndex } from '../../../server/src/experiment/yamlDocument';
import { brokenFixtures, hostFor } from '../../helpers/experimentFixtures';

/** Fixture, the fix title we expect, and the text the fix must write into the file. */
const FIXES: [fixture: string, title: RegExp, written: RegExp][] = [
  ['unknown-key.prune.yaml', /Change to `hidden`/, /^ {2}hidden: \[512, 256\]$/m],
  ['out-of-range.prune.yaml', /Change to 0\.9 \(90%\)/, /^ {2}sparsity: 0\.9$/m],
  ['bad-enum.prune.yaml', /Change to `adam`/, /^ {2}optimizer: adam$/m],
  ['block-edge.prune.yaml', /Use 8x8 blocks/, /^ {2}block: 8$/m],
  ['pattern-no-match.prune.yaml', /Change to `output`/, /exclude: \[output\]/],
  ['schedule-sum.prune.yaml', /Renormalise/, /dense_warmup: 0\.181818/],
  ['mutually-exclusive.prune.yaml', /Remove `epochs`/, /^ {2}steps: 3000\npruning:/m],
  ['sparsity-gap.prune.yaml', /min_blocks: 4096/, /min_blocks: 4096/],
];

describe('quick fixes: applying the fix removes the diagnostic', () => {
  const fixtures = new Map(brokenFixtures().map((f) => [f.name, f]));
  for (const [name, title, written] of FIXES) {
    it(`${name}: ${title.source}`, () => {
      const fixture = fixtures.get(name)!;
      const before = validateExperiment(fixture.text, hostFor(fixture.path));
      const target = before.diagnostics.find((d) => d.fixes.some((f) => title.test(f.title)));
      assert.ok(target, `a diagnostic offers ${title}`);
      const actions = codeActions(before.diagnostics, target.range).filter((a) => title.test(a.title));
      assert.equal(actions.length, 1);
      const lines = new LineIndex(fixture.text);
      const fixed = applyEdits(fixture.text, actions[0]!.edits, (p) => lines.offsetAt(p));
      assert.match(fixed, written);
      const after = validateExperiment(fixed, hostFor(fixture.path));
      assert.ok(
        !after.diagnostics.some((d) => d.code === target.code),
        `${target.code} is gone: ${after.diagnostics.map((d) => d.message).join('; ')}`,
      );
      assert.ok(
        after.diagnostics.every((d) => d.severity !== 'error'),
        'no error left',
      );
    });
  }

  it('renormalising a schedule makes its fractions add up to exactly 1', () => {
    const fixture = brokenFixtures().find((f) => f.name === 'schedule-sum.prune.yaml')!;
    const result = validateExperiment(fixture.text, hostFor(fixture.path));
    const fix = result.diagnostics.find((d) => d.code === 'schedule-sum')!.fixes[0]!;
    const lines = new LineIndex(fixture.text);
    const after = validateExperiment(
      applyEdits(fixture.text, fix.edits, (p) => lines.offsetAt(p)),
      hostFor(fixture.path),
    );
    const s = after.config!.pruning;
    assert.ok(s.method === 'sapp');
    const sum =
      s.schedule.dense_warmup + s.schedule.cycles * s.schedule.cycle + s.schedule.extension + s.schedule.final_sparse;
    assert.ok(Math.abs(sum - 1) < 1e-6, String(sum));
    assert.ok(!after.diagnostics.some((d) => d.code === 'schedule-sum'), 'the warning is gone');
  });

  it('a split or schedule whose shares round to 6 decimals still adds up to 1 after the fix (the remainder goes to the last part)', () => {
    const host = hostFor('/tmp/x.prune.yaml');
    const text = (schedule: string) =>
      `version: 1\nname: x\ndata:\n  source: teacher\nmodel:\n  kind: mlp\npruning:\n  method: sapp\n  sparsity: 0.5\n  layers: [dense_1]\n  schedule:\n${schedule}`;
    for (const [schedule, written] of [
      ['    split: [0.5, 0.5, 0.5]\n', /split: \[0\.333333, 0\.333333, 0\.333334\]$/m],
      [
        '    dense_warmup: 0.1\n    cycles: 3\n    cycle: 0.1\n    extension: 0\n    final_sparse: 0.2\n',
        /final_sparse: 0\.333332$/m,
      ],
    ] as const) {
      const before = validateExperiment(text(schedule), host);
      const fix = before.diagnostics.find((d) => d.code === 'schedule-sum')?.fixes[0];
      assert.ok(fix, schedule);
      const lines = new LineIndex(text(schedule));
      const fixed = applyEdits(text(schedule), fix.edits, (p) => lines.offsetAt(p));
      assert.match(fixed, written);
      const after = validateExperiment(fixed, host);
      assert.deepEqual(
        after.diagnostics.filter((d) => d.code === 'schedule-sum').map((d) => d.message),
        [],
        `${schedule} → ${fixed}`,
      );
    }
  });

  it('a cycle split that does not add up is flagged on `split` and renormalised; the ablation has no split', () => {
    const text = (extra: string) =>
      `version: 1\nname: x\ndata:\n  source: teacher\nmodel:\n  kind: mlp\npruning:\n  method: sapp\n  sparsity: 0.5\n  layers: [dense_1]\n  schedule:\n    split: [1, 0.5, 0.5]\n${extra}`;
    const host = hostFor('/tmp/x.prune.yaml');
    const before = validateExperiment(text(''), host);
    const sums = before.diagnostics.filter((d) => d.code === 'schedule-sum');
    assert.equal(sums.length, 1);
    assert.equal(sums[0]!.message, 'The cycle split adds up to 2, not 1.');
    assert.deepEqual(sums[0]!.range, { start: { line: 11, character: 11 }, end: { line: 11, character: 24 } });
    const fix = sums[0]!.fixes.find((f) => f.title === 'Renormalise the split to add up to 1');
    assert.ok(fix);
    const lines = new LineIndex(text(''));
    const fixed = applyEdits(text(''), fix.edits, (p) => lines.offsetAt(p));
    assert.match(fixed, /split: \[0\.5, 0\.25, 0\.25\]$/m);
    assert.ok(!validateExperiment(fixed, host).diagnostics.some((d) => d.code === 'schedule-sum'));
    const ablation = validateExperiment(text('  sparsification: false\n'), host);
    assert.ok(!ablation.diagnostics.some((d) => d.code === 'schedule-sum'));
  });

  it('offers no action away from a diagnostic', () => {
    const fixture = brokenFixtures().find((f) => f.name === 'unknown-key.prune.yaml')!;
    const result = validateExperiment(fixture.text, hostFor(fixture.path));
    assert.deepEqual(
      codeActions(result.diagnostics, { start: { line: 1, character: 0 }, end: { line: 1, character: 3 } }),
      [],
    );
  });

  const inline: [what: string, text: string, title: RegExp, written: RegExp][] = [
    ['clamp to an inclusive bound', 'batch_size: 0', /Clamp to 1/, /batch_size: 1$/m],
    ['round a fraction where an integer belongs', 'batch_size: 12.5', /Round to 13/, /batch_size: 13$/m],
    [
      'a fraction written as a percentage',
      'batch_size: 8\ntraining:\n  weight_decay: 5',
      /Change to 0\.05 \(5%\)/,
      /weight_decay: 0\.05$/m,
    ],
  ];
  for (const [what, dataLine, title, written] of inline) {
    it(what, () => {
      const text = `version: 1\nname: x\ndata:\n  source: teacher\n  ${dataLine}\nmodel:\n  kind: mlp\npruning:\n  method: sapp\n  sparsity: 0.5\n  layers: [dense_1]\n`;
      const host = hostFor('/tmp/x.prune.yaml');
      const before = validateExperiment(text, host);
      const fix = before.diagnostics.flatMap((d) => d.fixes).find((f) => title.test(f.title));
      assert.ok(fix, `offered: ${before.diagnostics.flatMap((d) => d.fixes.map((f) => f.title)).join(', ')}`);
      const lines = new LineIndex(text);
      const fixed = applyEdits(text, fix.edits, (p) => lines.offsetAt(p));
      assert.match(fixed, written);
      assert.deepEqual(
        validateExperiment(fixed, host).diagnostics.filter((d) => d.severity === 'error'),
        [],
      );
    });
  }
});
