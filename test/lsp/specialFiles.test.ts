/**
 * A FIFO or a device named by an open experiment must not freeze the language server: it is
 * diagnosed at its key from its metadata, and every request keeps being answered.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Hover } from 'vscode-languageserver-protocol';
import { LspTestClient } from '../helpers/lspClient';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-lsp-special-'));
after(() => rmSync(dir, { recursive: true, force: true }));
for (const name of ['model.json', 'train.csv', 'fifo.prune.yaml'])
  assert.equal(spawnSync('mkfifo', [join(dir, name)]).status, 0, 'mkfifo');

/** Rejects when `promise` has not settled after `ms`: a blocked server fails the test instead of hanging it. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms).unref(),
    ),
  ]);
}

describe('special files in the language server', () => {
  const client = new LspTestClient();
  before(() => client.initialize({}, { trusted: true }));
  after(() => client.shutdown());

  it('diagnoses FIFOs and devices at their keys, then answers hover', async () => {
    const uri = pathToFileURL(join(dir, 'special.prune.yaml')).href;
    const text = `version: 1
name: special
data:
  source: csv
  path: ./train.csv
  test_path: /dev/zero
  classes: 2
model:
  kind: tfjs
  path: ./model.json
training:
  steps: 100
pruning:
  method: sapp
  sparsity: 0.5
`;
    const diagnostics = await within(client.open(uri, text), 20_000, 'diagnostics');
    const found = diagnostics.map((d) => `${String(d.code)} ${d.range.start.line + 1}:${d.range.start.character + 1}`);
    assert.deepEqual(found.sort(), ['path-unusable 10:9', 'path-unusable 5:9', 'path-unusable 6:14']);
    assert.match(JSON.stringify(diagnostics), /FIFO[\s\S]*device|device[\s\S]*FIFO/);
    const hover = await within(
      client.request<Hover | null>('textDocument/hover', {
        textDocument: { uri },
        position: { line: 13, character: 4 },
      }),
      5_000,
      'hover',
    );
    assert.ok(hover);
  });

  it('a request about an experiment file that is a FIFO is refused, not left waiting', async () => {
    const uri = pathToFileURL(join(dir, 'fifo.prune.yaml')).href;
    await assert.rejects(
      within(client.request('sparsity/schedule/preview', { uri }), 20_000, 'schedule preview'),
      /is a FIFO/,
    );
    assert.ok(client.alive);
  });
});
