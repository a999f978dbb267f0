/**
 * Diagnostics follow a data file that appears and vanishes even when no file watcher reports it
 * (a watcher started late, a network file system): the server looks for missing files itself.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { LspTestClient } from '../helpers/lspClient';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-lsp-missing-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('missing data files without watcher events', () => {
  const client = new LspTestClient();
  before(() => client.initialize({}, { trusted: true }, dir));
  after(() => client.shutdown());

  it('a CSV that appears clears path-missing, without didChangeWatchedFiles', { timeout: 20_000 }, async () => {
    const uri = pathToFileURL(join(dir, 'late.prune.yaml')).href;
    const text = `version: 1
name: late
data:
  source: csv
  path: train.csv
  classes: 2
  batch_size: 2
model:
  kind: mlp
  hidden: [4]
training:
  steps: 10
pruning:
  method: none
`;
    const first = await client.open(uri, text);
    assert.deepEqual(
      first.map((d) => d.code),
      ['path-missing'],
    );
    const cleared = client.republished(uri, (ds) => ds.length === 0);
    const header = [...Array.from({ length: 4 }, (_, i) => `x${i}`), 'label'].join(',');
    writeFileSync(join(dir, 'train.csv'), `${header}\n0,1,0,1,0\n1,0,1,0,1\n`);
    const started = Date.now();
    await cleared;
    assert.ok(Date.now() - started < 10_000, 'within a few seconds');
  });
});
