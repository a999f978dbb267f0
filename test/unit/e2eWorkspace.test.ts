/**
 * The e2e workspace says what the real-VS-Code tests expect of it: `valid.prune.yaml` validates
 * clean, `broken.prune.yaml` has exactly its `# expect:` diagnostics. Checked here with the pure
 * validator, so a drifting fixture fails in seconds instead of inside code-server.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validateExperiment } from '../../server/src/experiment/validate';
import { hostFor, rangeText, ROOT } from '../helpers/experimentFixtures';

const WORKSPACE = join(ROOT, 'test', 'fixtures', 'e2e-workspace');

function check(name: string) {
  const path = join(WORKSPACE, name);
  const text = readFileSync(path, 'utf8');
  const expected = [...text.matchAll(/^# expect: (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
  const got = validateExperiment(text, hostFor(path)).diagnostics.map((d) => `${d.code} ${rangeText(d.range)}`);
  return { expected, got };
}

describe('the e2e workspace fixtures', () => {
  it('valid files get no diagnostics at all', () => {
    const valid = readdirSync(WORKSPACE).filter((f) => f.startsWith('valid'));
    assert.ok(valid.length > 0);
    for (const name of valid) assert.deepEqual(check(name).got, [], name);
  });

  it('broken files get exactly their `# expect:` diagnostics', () => {
    const broken = readdirSync(WORKSPACE).filter((f) => f.startsWith('broken'));
    assert.ok(broken.length > 0);
    for (const name of broken) {
      const { expected, got } = check(name);
      assert.ok(expected.length > 0, `${name} declares what it expects`);
      assert.deepEqual(got.sort(), expected.sort(), name);
    }
  });
});
