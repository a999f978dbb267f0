/**
 * Show Backend Information through the built server: the search includes the client's
 * `sparsityStudio.engine.modulePaths` (answered over workspace/configuration) and the workspace
 * folder, and the report lists a planted tfjs-node of the wrong version with why it was not used.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BackendInfoRequest, MODULE_PATHS_SETTING, type BackendInfoResult } from '@protocol';
import { ROOT } from '../helpers/experimentFixtures';
import { LspTestClient } from '../helpers/lspClient';
import { plantNativeBackend } from '../helpers/plantedBackend';

const tools = mkdtempSync(join(tmpdir(), 'sparsity-modulepaths-'));
const client = new LspTestClient();
const asked: unknown[] = [];

before(async () => {
  plantNativeBackend(tools, '@tensorflow/tfjs-node-gpu', '4.10.0');
  client.connection.onRequest('workspace/configuration', (params: { items: { section?: string }[] }) => {
    asked.push(...params.items.map((i) => i.section));
    return params.items.map((i) => (i.section === MODULE_PATHS_SETTING ? [tools] : null));
  });
  await client.initialize({ workspace: { configuration: true } }, { trusted: true });
});
after(async () => {
  await client.shutdown();
  rmSync(tools, { recursive: true, force: true });
});

describe('Show Backend Information', () => {
  it('searches the setting and the workspace, and says why the planted copy was not used', async () => {
    const info = await client.request<BackendInfoResult>(BackendInfoRequest.method, {});
    assert.deepEqual(asked, [MODULE_PATHS_SETTING]);
    assert.equal(info.chosen, 'wasm');
    assert.deepEqual(info.search?.folders.slice(0, 2), [
      { dir: tools, origin: 'setting' },
      { dir: ROOT, origin: 'workspace' },
    ]);
    assert.deepEqual(
      info.search?.candidates.map((c) => [c.package, c.version, c.origin, c.used]),
      [['@tensorflow/tfjs-node-gpu', '4.10.0', 'setting', false]],
    );
    const report = info.report.join('\n');
    assert.match(report, /^backend auto → wasm$/m);
    assert.match(report, /✖ tensorflow: no installed copy is usable: @tensorflow\/tfjs-node-gpu 4\.10\.0/);
    assert.match(report, new RegExp(`^  setting +${tools}$`, 'm'));
    assert.match(
      report,
      /✖ not used: @tensorflow\/tfjs-node-gpu 4\.10\.0 at .* \(setting\): version 4\.10\.0 does not match the bundled @tensorflow\/tfjs-core 4\.22\.0: `npm install @tensorflow\/tfjs-node-gpu@4\.22\.0`/,
    );
  });
});
