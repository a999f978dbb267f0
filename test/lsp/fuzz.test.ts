/**
 * Seeded fuzzing of `check` and the language server with mutated samples (test/helpers/configFuzz.ts:
 * editing accidents, paths to FIFOs, devices and folders, sizes that cannot fit, thousands of
 * keys, other encodings) and a 1 MB file. After every edit the server must publish diagnostics
 * for that version and answer every request; `check` must answer in its own process.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { FuzzWorkspace } from '../helpers/configFuzz';
import { sampleFiles } from '../helpers/experimentFixtures';
import { runFuzz } from '../helpers/fuzzDriver';
import { LspTestClient } from '../helpers/lspClient';

describe('fuzz: check and the language server survive mutated experiment files', () => {
  const client = new LspTestClient();
  const workspace = new FuzzWorkspace();
  before(() => client.initialize({}, { trusted: true }, workspace.dir));
  after(async () => {
    await client.shutdown();
    workspace.dispose();
  });

  // A seeded slice of bench/fuzz.bench.ts (10,000 and more): editing accidents, special-file paths,
  // huge sizes, thousands of keys, other encodings. No answer is timed here (the bench says how
  // fast); a hang, a crash or an internal error fails.
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 60 mutated files, every one checked, diagnosed and every request answered`, async () => {
      const samples = sampleFiles().map((f) => readFileSync(f, 'utf8'));
      const report = await runFuzz({ seed, cases: 60, samples, workspace, client, slowMs: Infinity });
      assert.deepEqual(report.failures, []);
      assert.equal(report.cases, 60);
      assert.ok(client.alive);
    });
  }

  it('a 1 MB file is diagnosed and answered', async () => {
    const sample = readFileSync(sampleFiles()[0]!, 'utf8');
    const filler = Array.from({ length: 26_000 }, (_, i) => `# padding comment line ${i} ..........`).join('\n');
    const text = `${sample}${filler}\nunexpected: 1\n`;
    assert.ok(text.length > 1_000_000);
    const uri = `${pathToFileURL(sampleFiles()[0]!).href}?big`;
    const diagnostics = await client.open(uri, text);
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ['unknown-key'],
    );
    assert.ok(
      await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 3, character: 2 } }),
    );
    assert.ok(client.alive);
    assert.equal(client.stderr, '');
  });
});
