import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { codeActions } from '../../../server/src/experiment/codeActions';
import { complete } from '../../../server/src/experiment/completion';
import { documentSymbols } from '../../../server/src/experiment/documentSymbols';
import { hover } from '../../../server/src/experiment/hover';
import { inlayHints } from '../../../server/src/experiment/inlayHints';
import { validateExperiment } from '../../../server/src/experiment/validate';
import { LineIndex } from '../../../server/src/experiment/yamlDocument';
import { SAMPLES_DIR, hostFor } from '../../helpers/experimentFixtures';

const SAMPLE = join(SAMPLES_DIR, 'fashion-mlp-sapp.prune.yaml');
const sampleText = readFileSync(SAMPLE, 'utf8');

/** Validates `text` with `|` marking the cursor; returns the result and the cursor position. */
function at(textWithCursor: string) {
  const offset = textWithCursor.indexOf('|');
  const text = textWithCursor.replace('|', '');
  return { result: validateExperiment(text, hostFor(SAMPLE)), position: new LineIndex(text).positionAt(offset) };
}

const labels = (textWithCursor: string) => {
  const { result, position } = at(textWithCursor);
  return complete(result, position).map((c) => c.label);
};

describe('completion', () => {
  it('offers the top-level keys not yet written, and whole-experiment snippets in an empty file', () => {
    const empty = labels('|');
    for (const key of ['version', 'name', 'data', 'model', 'training', 'pruning', 'output'])
      assert.ok(empty.includes(key), key);
    assert.ok(empty.includes('new experiment (sapp)'));
    const some = labels('version: 1\nname: x\n|');
    assert.ok(!some.includes('version') && !some.includes('name') && some.includes('pruning'));
    assert.ok(!some.includes('new experiment (sapp)'));
  });

  it('offers the keys of the chosen method inside pruning, the discriminator first', () => {
    const { result, position } = at('version: 1\npruning:\n  method: sapp\n  |');
    const items = complete(result, position);
    const names = items.map((c) => c.label);
    for (const key of ['sparsity', 'block', 'schedule', 'exponent', 'clip_attention'])
      assert.ok(names.includes(key), key);
    assert.ok(!names.includes('sparse_share'), 'acdc-only key is not offered for sapp');
    assert.ok(!names.includes('method'), 'written keys are not offered again');
    const sparsity = items.find((c) => c.label === 'sparsity')!;
    assert.match(sparsity.documentation ?? '', /Fraction of \*\*blocks\*\*/);
  });

  it('offers every method with its docs after `method:`', () => {
    const { result, position } = at('pruning:\n  method: |');
    const items = complete(result, position);
    assert.deepEqual(
      items.map((c) => c.label),
      ['sapp', 'acdc', 'magnitude', 'none'],
    );
    assert.match(items[0]!.documentation ?? '', /SequentialAttention\+\+/);
  });

  it('offers enum values and schedule keys at depth', () => {
    assert.deepEqual(labels('training:\n  optimizer: |'), ['adam', 'sgd', 'momentum']);
    const schedule = labels('pruning:\n  method: acdc\n  schedule:\n    |');
    assert.ok(schedule.includes('sparse_share') && schedule.includes('dense_warmup') && !schedule.includes('split'));
  });

  it('offers the model layer names inside `exclude: [...]`', () => {
    const text = sampleText.replace('exclude: [output]', 'exclude: [|]');
    const { result, position } = at(text);
    const items = complete(result, position);
    assert.deepEqual(
      items.map((c) => c.label),
      ['dense_1', 'dense_2', 'output'],
    );
    assert.match(items[0]!.detail ?? '', /784x512 · 6272 blocks/);
  });

  it('offers nothing inside a comment', () => {
    assert.deepEqual(labels('# a comment |'), []);
  });
});

describe('hover', () => {
  const hoverAt = (needle: string, delta = 1) => {
    const doc = validateExperiment(sampleText, hostFor(SAMPLE));
    const position = new LineIndex(sampleText).positionAt(sampleText.indexOf(needle) + delta);
    return hover(doc, position);
  };

  it('shows the docs and the block grid of every layer on `block`', () => {
    const h = hoverAt('block: [8, 8]')!;
    assert.match(h.markdown, /Block shape/);
    assert.match(h.markdown, /\| dense_1 \| 784x512 \| 98x64 \| 6272 \| 627 \| pruned \|/);
    assert.match(h.markdown, /\| output \| 256x10 \| 32x2 \(edge\) \| 64 \| 64 \| excluded \|/);
  });

  it('shows the phase table with step ranges on `schedule`', () => {
    const h = hoverAt('schedule:')!;
    assert.match(h.markdown, /21 phases over 3000 steps/);
    assert.match(h.markdown, /\| dense warm-up \| dense \| 0–300 \| 300 \| 0% \|/);
    assert.match(h.markdown, /\| final sparse fine-tune \| sparse \| 2550–3000 \| 450 \| 90% \|/);
  });

  it('the phase table only on `schedule`; elsewhere one line with the link to the preview', () => {
    const link = '[Preview the schedule](command:sparsityStudio.previewSchedule?x)';
    const doc = validateExperiment(sampleText, hostFor(SAMPLE));
    const lines = new LineIndex(sampleText);
    for (const needle of ['method: sapp', 'steps: 3000', 'cycles: 7', 'cycle: 0.1']) {
      const h = hover(doc, lines.positionAt(sampleText.indexOf(needle) + 1), link)!;
      assert.doesNotMatch(h.markdown, /\| phase \|/, `${needle}: no table`);
      assert.ok(
        h.markdown.endsWith(
          `21 phases over 3000 steps from dense warm-up (steps 0–300) to final sparse fine-tune (2550–3000). ${link}`,
        ),
        `${needle}: ${h.markdown}`,
      );
    }
    assert.match(hover(doc, lines.positionAt(sampleText.indexOf('schedule:') + 1), link)!.markdown, /\| phase \|/);
  });

  it('on fractions that do not add up, hover, hints and the quick fix agree on what is wrong, from any line of the schedule', () => {
    const text = sampleText.replace('cycles: 7', 'cycles: 9');
    const doc = validateExperiment(text, hostFor(SAMPLE));
    const lines = new LineIndex(text);
    const sum = doc.diagnostics.find((d) => d.code === 'schedule-sum')!;
    assert.match(sum.message, /add up to 1\.2, not 1/);
    for (const needle of ['schedule:', 'cycles: 9', 'cycle: 0.1', 'method: sapp']) {
      const h = hover(doc, lines.positionAt(text.indexOf(needle) + 1))!.markdown;
      assert.ok(h.includes(`**Invalid schedule:** ${sum.message}`), `${needle}: ${h}`);
      assert.doesNotMatch(h, /\| phase \||phases over/, `${needle}: no renormalised phases presented`);
    }
    const hints = inlayHints(doc);
    const hintOn = (prefix: string) =>
      hints.filter((h) => text.split('\n')[h.position.line]!.trimStart().startsWith(prefix));
    assert.deepEqual(
      hintOn('cycle:').map((h) => h.label),
      [' 300 steps each as written'],
    );
    assert.deepEqual(
      hintOn('schedule:').map((h) => h.label),
      [' ⚠ 3600 of 3000 steps: the fractions add up to 1.2, not 1'],
    );
    // The quick fix from the line being edited, not only from the `schedule` key it marks.
    const cursor = lines.positionAt(text.indexOf('cycles: 9') + 9);
    const fixes = codeActions(doc.diagnostics, { start: cursor, end: cursor });
    assert.deepEqual(
      fixes.map((f) => f.title),
      ['Renormalise the schedule fractions to add up to 1'],
    );
    const outside = lines.positionAt(text.indexOf('output:'));
    assert.deepEqual(codeActions(doc.diagnostics, { start: outside, end: outside }), [], 'not from outside it');
  });

  it("shows the chosen value's own docs", () => {
    const h = hoverAt('method: sapp', 10)!;
    assert.match(h.markdown, /^\*\*pruning\.method\*\*\n\nSequentialAttention\+\+: a trainable softmax attention/);
    assert.match(h.markdown, /_one of `sapp`, `acdc`, `magnitude`, `none`_/);
  });
});

describe('document symbols and inlay hints', () => {
  it('outlines the sections and their keys', () => {
    const symbols = documentSymbols(validateExperiment(sampleText, hostFor(SAMPLE)).document);
    assert.deepEqual(
      symbols.map((s) => s.name),
      ['version', 'name', 'description', 'seed', 'backend', 'data', 'model', 'training', 'pruning', 'output'],
    );
    const pruning = symbols.find((s) => s.name === 'pruning')!;
    assert.equal(pruning.kind, 'section');
    assert.equal(pruning.children.find((c) => c.name === 'method')?.detail, 'sapp');
    assert.equal(pruning.children.find((c) => c.name === 'exclude')?.detail, '1 item');
  });

  it('puts kept blocks after `block`, global sparsity after `sparsity`, steps after fractions', () => {
    const hints = inlayHints(validateExperiment(sampleText, hostFor(SAMPLE)));
    const lines = sampleText.split('\n');
    const hintOn = (prefix: string) => hints.find((h) => lines[h.position.line]!.trimStart().startsWith(prefix))?.label;
    assert.equal(hintOn('block:'), ' kept blocks dense_1: 627/6272 · dense_2: 205/2048');
    assert.match(hintOn('sparsity:')!, /^ 89\.\d% of all kernel weights$/);
    assert.equal(hintOn('dense_warmup:'), ' 300 steps');
    assert.equal(hintOn('cycle:'), ' 300 steps each');
  });

  it('says `sparse_share` is a share of each cycle: the sparse steps of one cycle', () => {
    const acdc = join(SAMPLES_DIR, 'fashion-mlp-acdc.prune.yaml');
    const text = readFileSync(acdc, 'utf8');
    const hints = inlayHints(validateExperiment(text, hostFor(acdc)));
    const lines = text.split('\n');
    const hint = hints.find((h) => lines[h.position.line]!.trimStart().startsWith('sparse_share:'))?.label;
    assert.equal(hint, ' 150 steps of each cycle');
  });
});
