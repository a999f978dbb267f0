import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { complete } from '../../../server/src/experiment/completion';
import type { ExperimentDiagnostic } from '../../../server/src/experiment/diagnostics';
import { hover } from '../../../server/src/experiment/hover';
import { inlayHints } from '../../../server/src/experiment/inlayHints';
import { sweepKeyPaths } from '../../../server/src/experiment/sweepValidation';
import { validateExperiment } from '../../../server/src/experiment/validate';
import { LineIndex } from '../../../server/src/experiment/yamlDocument';
import { hostFor, rangeText, SAMPLES_DIR } from '../../helpers/experimentFixtures';
import { join } from 'node:path';

const HOST = hostFor(join(SAMPLES_DIR, 'teacher-sapp.prune.yaml'));

const BASE = `version: 1
name: sweep-test
data:
  source: teacher
  input_dim: 64
  hidden: 64
model:
  kind: mlp
  hidden: [64]
pruning:
  method: sapp
  sparsity: 0.75
  block: 8
  min_blocks: 16
  layers: [dense_1]
`;

const check = (sweep: string, base = BASE) => validateExperiment(`${base}sweep:\n${sweep}`, HOST);
/** `code line:col-line:col` of each diagnostic, 1-based, as the broken fixtures write them. */
const located = (diagnostics: ExperimentDiagnostic[]) => diagnostics.map((d) => `${d.code} ${rangeText(d.range)}`);
const lineOf = (sweep: string, needle: string) =>
  BASE.split('\n').length + 1 + sweep.split('\n').findIndex((l) => l.includes(needle));

describe('the sweep: format', () => {
  it('a valid grid checks clean and knows its runs', () => {
    const result = check('  pruning.sparsity: [0.5, 0.75, 0.9]\n  pruning.method: [sapp, acdc]\n  seed: [1, 2]');
    assert.deepEqual(located(result.diagnostics), []);
    assert.equal(result.sweep?.runs, 12);
    assert.deepEqual(
      result.sweep?.axes.map((a) => a.path),
      ['pruning.sparsity', 'pruning.method', 'seed'],
    );
  });

  it('marks the list item that is out of range, not the list', () => {
    const sweep = '  pruning.sparsity: [0.5, 1.2]';
    const result = check(sweep);
    const line = lineOf(sweep, 'sparsity');
    assert.deepEqual(located(result.diagnostics), [`out-of-range ${line}:27-${line}:30`]);
    assert.match(result.diagnostics[0]!.message, /`pruning\.sparsity` must be below 1; got 1\.2/);
    // The quick fix edits the item.
    const fix = result.diagnostics[0]!.fixes[0]!;
    assert.equal(rangeText(fix.edits[0]!.range), `${line}:27-${line}:30`);
  });

  it('marks a wrong item in a block list, and a value of the wrong type', () => {
    const sweep = '  pruning.method:\n    - sapp\n    - accd\n  seed: [1, two]';
    const result = check(sweep);
    const methodLine = lineOf(sweep, 'accd');
    const seedLine = lineOf(sweep, 'seed');
    assert.deepEqual(located(result.diagnostics), [
      `bad-enum ${methodLine}:7-${methodLine}:11`,
      `wrong-type ${seedLine}:13-${seedLine}:16`,
    ]);
    assert.equal(result.diagnostics[0]!.fixes[0]!.title, 'Change to `acdc`');
  });

  it('says what a path should be: did-you-mean, a bare key, and paths that cannot be swept', () => {
    const sweep = '  pruning.sparsty: [0.5]\n  block: [8]\n  version: [1]\n  nonsense.key: [1]';
    const messages = check(sweep).diagnostics.map((d) => `${d.code}: ${d.message}`);
    assert.deepEqual(messages, [
      'unknown-key: `pruning.sparsty` is not a key path of the experiment format, so it cannot be swept. Did you mean `pruning.sparsity`?',
      'unknown-key: `block` is not a key path of the experiment format, so it cannot be swept. Did you mean `data.block` or `pruning.block`?',
      'unknown-key: `version` cannot be swept.',
      'unknown-key: `nonsense.key` is not a key path of the experiment format, so it cannot be swept.',
    ]);
    const fix = check('  pruning.sparsty: [0.5]').diagnostics[0]!.fixes[0]!;
    assert.equal(fix.edits[0]!.newText, 'pruning.sparsity');
    assert.equal(fix.preferred, true);
  });

  it('an entry that is not a list is a wrong type on its value', () => {
    const sweep = '  training.steps: 500';
    const result = check(sweep);
    const line = lineOf(sweep, 'steps');
    assert.deepEqual(located(result.diagnostics), [`wrong-type ${line}:19-${line}:22`]);
    assert.match(result.diagnostics[0]!.message, /`sweep\.training\.steps` expects list, got number `500`/);
  });

  it('a value that only breaks in one combination is reported on it, naming the combination', () => {
    // `exponent` is a key of sapp, not of acdc: the acdc item is where the sweep goes wrong.
    const sweep = '  pruning.method: [sapp, acdc]\n  pruning.exponent: [2, 8]';
    const result = check(sweep);
    const line = lineOf(sweep, 'method');
    assert.deepEqual(located(result.diagnostics), [`unknown-key ${line}:26-${line}:30`]);
    assert.match(result.diagnostics[0]!.message, /^With `pruning\.method: acdc`: Unknown key `exponent` in `pruning`/);
  });

  it('runs the model-aware checks for every combination and reports on the value that breaks', () => {
    // dense_1 is 64x64: 8x8 gives 64 blocks, 12x12 leaves edge blocks (36 of them), 64 makes one block (< min_blocks).
    const sweep = '  pruning.block: [8, 12, 64]\n  pruning.sparsity: [0.5, 0.75]';
    const result = check(sweep);
    const line = lineOf(sweep, 'block');
    assert.deepEqual(located(result.diagnostics), [
      `block-edge ${line}:22-${line}:24`,
      `nothing-pruned ${line}:26-${line}:28`,
    ]);
    assert.match(result.diagnostics[1]!.message, /^With `pruning\.block: 64`: No layer is pruned/);
  });

  it('puts a problem of a value on that value, naming the other values it shows with', () => {
    // `none` prunes nothing, so 12x12 edge blocks matter only with sapp.
    const sweep = '  pruning.method: [sapp, none]\n  pruning.block: [8, 12]';
    const result = check(sweep);
    const line = lineOf(sweep, 'block');
    assert.deepEqual(located(result.diagnostics), [`block-edge ${line}:22-${line}:24`]);
    assert.match(result.diagnostics[0]!.message, /^With `pruning\.method: sapp`: 12x12 blocks do not tile/);
  });

  it("leaves the file's own model checks on swept keys to the combinations", () => {
    // The file's block (64) prunes nothing, but every run uses a swept block.
    const base = BASE.replace('block: 8', 'block: 64');
    assert.ok(validateExperiment(base, HOST).diagnostics.some((d) => d.code === 'nothing-pruned'));
    assert.deepEqual(located(check('  pruning.block: [8, 16]', base).diagnostics), []);
  });

  it('checks sweep.slurm against its schema', () => {
    const sweep = '  seed: [1]\n  slurm:\n    time: soon\n    cpus_per_task: 0\n    gpus: 1';
    const codes = check(sweep).diagnostics.map((d) => d.code);
    assert.deepEqual(codes, ['bad-format', 'out-of-range', 'unknown-key']);
  });

  it('warns above 200 runs, on the sweep key', () => {
    const result = check(
      `  pruning.sparsity: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]\n  seed: [${Array.from({ length: 30 }, (_, i) => i + 1).join(', ')}]`,
    );
    assert.deepEqual(
      result.diagnostics.map((d) => [d.code, d.severity]),
      [['sweep-large', 'warning']],
    );
    assert.match(result.diagnostics[0]!.message, /210 runs \(7 × 30\)/);
  });
});

/** Validates `text` with `|` marking the cursor. */
function at(textWithCursor: string) {
  const offset = textWithCursor.indexOf('|');
  const text = textWithCursor.replace('|', '');
  return { result: validateExperiment(text, HOST), position: new LineIndex(text).positionAt(offset) };
}

describe('the sweep: key in the editor', () => {
  it('completes key paths with their docs (common ones first) and leaves out those written', () => {
    const { result, position } = at(`${BASE}sweep:\n  seed: [1, 2]\n  pruning.s|`);
    const items = complete(result, position);
    const names = items.map((c) => c.label);
    assert.ok(names.includes('pruning.sparsity') && names.includes('pruning.schedule.cycles'));
    assert.ok(names.includes('data.source') && names.includes('slurm'));
    assert.ok(!names.includes('seed'), 'written already');
    assert.ok(!names.includes('version') && !names.includes('sweep'));
    const sparsity = items.find((c) => c.label === 'pruning.sparsity')!;
    assert.match(sparsity.documentation ?? '', /Fraction of \*\*blocks\*\*/);
    assert.equal(sparsity.insertText, 'pruning.sparsity: [$1]');
    assert.equal([...items].sort((a, b) => a.sortText!.localeCompare(b.sortText!))[0]!.label, 'pruning.sparsity');
    assert.equal(items.length, sweepKeyPaths().size, 'every path but `seed`, plus `slurm`');
  });

  it("completes a swept key's values: each choice inside the list, or all of them", () => {
    const inside = at(`${BASE}sweep:\n  pruning.method: [sapp, |`);
    assert.deepEqual(
      complete(inside.result, inside.position).map((c) => c.label),
      ['sapp', 'acdc', 'magnitude', 'none'],
    );
    const after = at(`${BASE}sweep:\n  pruning.method: |`);
    const items = complete(after.result, after.position);
    assert.equal(items[0]!.insertText, '[sapp, acdc, magnitude, none]');
    assert.ok(items.some((c) => c.insertText === '[acdc]'));
  });

  it('hover on sweep lists the runs; on a path, the docs of the key it sets', () => {
    const text = `${BASE}sweep:\n  pruning.sparsity: [0.5, 0.9]\n  seed: [1, 2, 3]\n`;
    const result = validateExperiment(text, HOST);
    const lines = new LineIndex(text);
    const sweepHover = hover(result, lines.positionAt(text.indexOf('sweep:') + 2))!;
    assert.match(sweepHover.markdown, /\*\*6 runs\*\* \(`pruning\.sparsity` × 2, `seed` × 3\)/);
    assert.match(sweepHover.markdown, /\| 5 \| `0\.9` \| `3` \|/);
    const pathHover = hover(result, lines.positionAt(text.indexOf('pruning.sparsity: [') + 3))!;
    assert.match(pathHover.markdown, /^\*\*sweep: pruning\.sparsity\*\*/);
    assert.match(pathHover.markdown, /Fraction of \*\*blocks\*\*/);
    assert.match(pathHover.markdown, /2 values; each runs in 3 of the 6 runs/);
  });

  it('an inlay hint after `sweep:` gives the number of runs', () => {
    const text = `${BASE}sweep: # the grid\n  pruning.sparsity: [0.5, 0.9]\n  seed: [1, 2, 3]\n`;
    const hints = inlayHints(validateExperiment(text, HOST));
    const hint = hints.find((h) => h.label === ' 6 runs')!;
    assert.ok(hint);
    assert.deepEqual(hint.position, { line: BASE.split('\n').length - 1, character: 'sweep:'.length });
  });
});
