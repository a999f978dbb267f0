/**
 * Validation work grows linearly with the number of keys. Wall time is not asserted (the machine
 * is shared); the work is counted instead: every element the array searches and `Object.keys`
 * visit during one validation (ours, the YAML parser's and zod's), for N and 4N unknown keys. A
 * linear validator visits about 4x as many; the old one (each key compared with every other, in
 * the parser's duplicate check, `locate` and the did-you-mean) visited about 16x.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nodeHost } from '../../../server/src/data/nodeHost';
import { validateExperiment } from '../../../server/src/experiment/validate';
import { SAMPLES_DIR } from '../../helpers/experimentFixtures';

const SEARCHES = ['find', 'findIndex', 'some', 'every', 'includes', 'indexOf', 'filter', 'map', 'forEach'] as const;

/** Elements visited by array searches and `Object.keys` while `run` runs (an upper bound for early exits). */
function visitedElements(run: () => void): number {
  let visited = 0;
  const proto = Array.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = SEARCHES.map((name) => proto[name]!);
  const keys = Object.keys;
  SEARCHES.forEach((name, i) => {
    const original = originals[i]!;
    proto[name] = function (this: unknown[], ...args: unknown[]) {
      visited += this.length;
      return original.apply(this, args);
    };
  });
  Object.keys = (o: object) => {
    const result = keys(o);
    visited += result.length;
    return result;
  };
  try {
    run();
  } finally {
    SEARCHES.forEach((name, i) => (proto[name] = originals[i]!));
    Object.keys = keys;
  }
  return visited;
}

const sample = readFileSync(join(SAMPLES_DIR, 'teacher-sapp.prune.yaml'), 'utf8');
/** The sample with `n` unknown top-level keys, the last 100 of them repeating earlier ones. */
const withUnknownKeys = (n: number) =>
  `${sample}${Array.from({ length: n }, (_, i) => `unknown_key_${i % (n - 100)}: ${i}`).join('\n')}\n`;

describe('validation of files with many keys', () => {
  it('10,000 unknown keys: one located diagnostic each, and every repeated key found', () => {
    const text = withUnknownKeys(10_000);
    const { diagnostics, config } = validateExperiment(text, nodeHost(SAMPLES_DIR));
    const unknown = diagnostics.filter((d) => d.code === 'unknown-key');
    const duplicate = diagnostics.filter((d) => d.code === 'duplicate-key');
    assert.equal(unknown.length, 9_900);
    assert.equal(duplicate.length, 100);
    const firstLine = sample.split('\n').length - 1;
    assert.deepEqual(unknown[123]!.range.start, { line: firstLine + 123, character: 0 });
    assert.match(unknown[123]!.message, /^Unknown key `unknown_key_123` at the top level\. Allowed here: /);
    assert.deepEqual(duplicate[0]!.range.start, { line: firstLine + 9_900, character: 0 });
    assert.ok(config, 'the rest of the file is still checked');
  });

  it('the work of validating grows linearly with the number of unknown keys', () => {
    const work = (n: number) => {
      const text = withUnknownKeys(n);
      return visitedElements(() => validateExperiment(text, nodeHost(SAMPLES_DIR)));
    };
    const small = work(1_000);
    const large = work(4_000);
    assert.ok(large / small < 6, `4x the keys took ${(large / small).toFixed(1)}x the work (${small} -> ${large})`);
  });
});
