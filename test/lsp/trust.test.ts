/**
 * Nobody in: nothing from an untrusted workspace runs inside the language server. A workspace with
 * a planted `node_modules/@tensorflow/tfjs-node-gpu` (which writes a marker file when it is
 * required) is opened untrusted, then trusted; "Show Backend Information" must load it only when
 * trusted, and `auto` must then fall back, naming why, since the plant registers no backend.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfoResult } from '@protocol';
import { LspTestClient } from '../helpers/lspClient';

const workspace = mkdtempSync(join(tmpdir(), 'sparsity-trust-'));
after(() => rmSync(workspace, { recursive: true, force: true }));
const marker = join(workspace, 'planted-code-ran');
const planted = join(workspace, 'node_modules', '@tensorflow', 'tfjs-node-gpu');
mkdirSync(planted, { recursive: true });
// The version of the bundled tfjs-core, so the search accepts it (backendSearch.ts).
writeFileSync(
  join(planted, 'package.json'),
  JSON.stringify({ name: '@tensorflow/tfjs-node-gpu', version: tf.version_core, main: 'index.js' }),
);
writeFileSync(
  join(planted, 'index.js'),
  `require('node:fs').writeFileSync(${JSON.stringify(marker)}, String(process.pid));\n`,
);

async function backendInfo(initializationOptions: unknown): Promise<BackendInfoResult> {
  const client = new LspTestClient(undefined, undefined, { cwd: workspace });
  try {
    await client.initialize({}, initializationOptions, workspace);
    return await client.request<BackendInfoResult>('sparsity/backend/info', {});
  } finally {
    await client.shutdown();
  }
}

describe('workspace trust in the language server', () => {
  for (const [what, options] of [
    ['untrusted', { trusted: false }],
    ['silent about trust (fails closed)', undefined],
  ] as const) {
    it(`${what}: backend information loads nothing from the workspace and says so`, async () => {
      rmSync(marker, { force: true });
      const info = await backendInfo(options);
      assert.equal(existsSync(marker), false, 'the planted package ran');
      assert.equal(info.chosen, 'wasm');
      const native = info.attempts.find((a) => a.backend === 'tensorflow');
      const webgpu = info.attempts.find((a) => a.backend === 'webgpu');
      assert.match(native?.reason ?? '', /not trusted/);
      assert.match(webgpu?.reason ?? '', /not trusted/);
    });
  }

  it('trusted: the workspace package is loaded, and `auto` falls back because it registered no backend', async () => {
    rmSync(marker, { force: true });
    const info = await backendInfo({ trusted: true });
    assert.equal(existsSync(marker), true, 'the trusted workspace package was not loaded');
    assert.equal(info.chosen, 'wasm');
    const native = info.attempts.find((a) => a.backend === 'tensorflow');
    assert.equal(native?.used, false);
    assert.match(native?.reason ?? '', /tfjs-node-gpu.*registered no `tensorflow` backend/);
  });
});
