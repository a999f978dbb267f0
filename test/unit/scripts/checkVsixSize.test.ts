/** The .vsix size budget (scripts/checkVsixSize.mjs, run by the e2e layer on the package it builds). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { ROOT } from '../../helpers/experimentFixtures';

interface Budget {
  VSIX_BUDGET_BYTES: number;
  vsixSizeProblems: (bytes: number, readme: string) => string[];
}
const load = async () => (await import(pathToFileURL(join(ROOT, 'scripts/checkVsixSize.mjs')).href)) as Budget;
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('the .vsix size budget', () => {
  it('the README states a size within the budget and the budget itself', async () => {
    const { VSIX_BUDGET_BYTES, vsixSizeProblems } = await load();
    const stated = Number(/\.vsix`\) is ([\d.]+) MB/.exec(readme)![1]) * 1e6;
    assert.ok(stated <= VSIX_BUDGET_BYTES);
    assert.deepEqual(vsixSizeProblems(stated, readme), []);
  });

  it('fails a package over the budget, and a README that no longer says its size', async () => {
    const { VSIX_BUDGET_BYTES, vsixSizeProblems } = await load();
    assert.match(vsixSizeProblems(VSIX_BUDGET_BYTES + 1, readme).join(), /over the budget of 2\.00 MB/);
    const stated = Number(/\.vsix`\) is ([\d.]+) MB/.exec(readme)![1]) * 1e6;
    assert.match(
      vsixSizeProblems(stated / 2, readme).join(),
      /the README says [\d.]+ MB, the package is [\d.]+ MB: update it/,
    );
    assert.match(vsixSizeProblems(stated, 'no size here').join(), /does not state the \.vsix size/);
  });
});
