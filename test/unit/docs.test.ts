import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS, SETTINGS, SETTINGS_SECTION } from '../../client/src/contributions';
import { DIAGNOSTIC_CODES } from '../../server/src/experiment/diagnostics';
import { METHOD_FORMATS } from '../../server/src/experiment/methods';
import { ROOT } from '../helpers/experimentFixtures';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('the README moves with the code', () => {
  it('documents every diagnostic code with its level and severity', () => {
    for (const [code, info] of Object.entries(DIAGNOSTIC_CODES))
      assert.ok(readme.includes(`| \`${code}\` | ${info.level} | ${info.severity} |`), code);
  });

  it('lists every command and setting', () => {
    for (const id of Object.keys(COMMANDS)) assert.ok(readme.includes(`\`${id}\``), id);
    for (const key of Object.keys(SETTINGS)) assert.ok(readme.includes(`\`${SETTINGS_SECTION}.${key}\``), key);
  });

  it('lists every pruning method in the sample file', () => {
    assert.ok(readme.includes(`  method: sapp # ${Object.keys(METHOD_FORMATS).join(' | ')}\n`));
  });
});
