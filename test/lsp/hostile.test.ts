/**
 * Requests from a hostile or broken client: missing params, wrong types and positions outside the
 * document are `InvalidParams` errors naming the field (never an internal TypeError, never an
 * answer about line 2147483648), and a run folder cannot lead the server to read outside it, in a
 * trusted or an untrusted workspace.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, type ResponseError } from 'vscode-jsonrpc/node';
import type { CompletionItem, CompletionList } from 'vscode-languageserver-protocol';
import type { RunEvent } from '@protocol';
import { runExperiment } from '../../server/src/runs/runExperiment';
import { sampleFiles } from '../helpers/experimentFixtures';
import { LspTestClient } from '../helpers/lspClient';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-hostile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Resolves with the error a request is refused with (and fails the test when it is answered). */
async function refusal(client: LspTestClient, method: string, params: unknown): Promise<ResponseError<unknown>> {
  try {
    const answer: unknown = await client.connection.sendRequest(method, params);
    assert.fail(`${method} answered ${JSON.stringify(answer).slice(0, 200)}`);
  } catch (error) {
    return error as ResponseError<unknown>;
  }
}

const invalid = async (client: LspTestClient, method: string, params: unknown, field: RegExp) => {
  const error = await refusal(client, method, params);
  assert.equal(error.code, ErrorCodes.InvalidParams, `${method}: ${error.message}`);
  assert.match(error.message, field, method);
  assert.ok(!/TypeError|Cannot read properties/.test(error.message), error.message);
};

describe('hostile requests', () => {
  const client = new LspTestClient();
  const sample = readFileSync(sampleFiles()[0]!, 'utf8');
  const uri = `${pathToFileURL(sampleFiles()[0]!).href}?hostile`;
  const textDocument = { uri };
  before(async () => {
    await client.initialize({}, { trusted: true });
    await client.open(uri, sample);
  });
  after(() => client.shutdown());

  it('positions past the document, negative or not integers are InvalidParams; characters past a line are clamped', async () => {
    const lines = sample.split('\n').length;
    for (const position of [
      { line: 2147483648, character: 0 },
      { line: lines, character: 0 },
      { line: -1, character: 0 },
      { line: 1.5, character: 0 },
      { line: 0, character: -3 },
      { line: '0', character: 0 },
    ]) {
      await invalid(client, 'textDocument/completion', { textDocument, position }, /position/);
      await invalid(client, 'textDocument/hover', { textDocument, position }, /position/);
    }
    const clamped = await client.request<CompletionList | CompletionItem[]>('textDocument/completion', {
      textDocument,
      position: { line: 2, character: 100_000 },
    });
    assert.ok(clamped);
    await invalid(
      client,
      'textDocument/codeAction',
      {
        textDocument,
        range: { start: { line: 3, character: 0 }, end: { line: 1, character: 0 } },
        context: { diagnostics: [] },
      },
      /ends before it starts/,
    );
  });

  it('missing or mistyped params are InvalidParams naming the field', async () => {
    for (const method of [
      'textDocument/completion',
      'textDocument/hover',
      'textDocument/documentSymbol',
      'textDocument/inlayHint',
      'textDocument/codeLens',
    ])
      await invalid(client, method, {}, /textDocument\.uri/);
    await invalid(client, 'textDocument/completion', { textDocument }, /position/);
    await invalid(client, 'textDocument/inlayHint', { textDocument }, /range/);
    await invalid(client, 'sparsity/run/read', {}, /runDir/);
    await invalid(client, 'sparsity/run/snapshot', { runDir: dir }, /step/);
    await invalid(client, 'sparsity/run/snapshot', { runDir: 5, step: 0 }, /runDir/);
    await invalid(client, 'sparsity/run/compare', { runDirs: 'a' }, /runDirs/);
    await invalid(client, 'sparsity/session/start', { uri: 7 }, /uri/);
    await invalid(client, 'sparsity/session/stop', {}, /sessionId/);
    await invalid(client, 'sparsity/schedule/preview', [], /params must be an object/);
    await invalid(client, 'sparsity/experiment/template', null, /params must be an object/);
    assert.ok(client.alive);
  });
});

describe('a run folder that points outside itself', () => {
  let runDir = '';
  before(async () => {
    const file = join(dir, 'escape.prune.yaml');
    writeFileSync(
      file,
      'version: 1\nname: escape\nbackend: wasm\ndata:\n  source: teacher\n  input_dim: 16\n  hidden: 16\n  train_examples: 128\n  test_examples: 32\n  batch_size: 32\nmodel:\n  kind: mlp\n  hidden: [16]\ntraining:\n  steps: 10\npruning:\n  method: sapp\n  sparsity: 0.5\n  block: 4\n  min_blocks: 4\n  layers: [dense_1]\noutput:\n  dir: runs\n',
    );
    runDir = (await runExperiment(file)).dir;
    const snapshot = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent)
      .find((e) => e.type === 'snapshot')!;
    appendFileSync(
      join(runDir, 'metrics.jsonl'),
      `${JSON.stringify({ ...snapshot, step: 999, file: '../../../../../../../../etc/passwd' })}\n`,
    );
  });

  for (const trusted of [true, false])
    it(`${trusted ? 'trusted' : 'untrusted'}: a snapshot file like ../../etc/passwd is refused, not read`, async () => {
      const client = new LspTestClient();
      await client.initialize({}, { trusted });
      try {
        const error = await refusal(client, 'sparsity/run/snapshot', { runDir, step: 999 });
        assert.match(error.message, /metrics\.jsonl:\d+: file must be snapshots\/step-<8 digits>\.bin/);
        assert.ok(!error.message.includes('root:'), 'nothing of /etc/passwd comes back');
      } finally {
        await client.shutdown();
      }
    });
});
