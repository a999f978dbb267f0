import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type {
  CodeAction,
  CompletionList,
  CompletionItem,
  DocumentSymbol,
  Hover,
  InlayHint,
  TextEdit,
} from 'vscode-languageserver-protocol';
import { BROKEN_DIR, SAMPLES_DIR, brokenFixtures, rangeText } from '../helpers/experimentFixtures';
import { LspTestClient } from '../helpers/lspClient';

const uriOf = (path: string) => pathToFileURL(path).href;

function applyTextEdits(text: string, edits: TextEdit[]): string {
  const lineStarts = [0, ...[...text.matchAll(/\n/g)].map((m) => m.index + 1)];
  const offset = (p: { line: number; character: number }) => (lineStarts[p.line] ?? text.length) + p.character;
  return [...edits]
    .sort((a, b) => offset(b.range.start) - offset(a.range.start))
    .reduce((t, e) => t.slice(0, offset(e.range.start)) + e.newText + t.slice(offset(e.range.end)), text);
}

describe('language server over stdio with a real JSON-RPC client', () => {
  const client = new LspTestClient();
  before(async () => {
    const init = (await client.initialize()) as { capabilities: Record<string, unknown> };
    for (const capability of [
      'completionProvider',
      'hoverProvider',
      'codeActionProvider',
      'documentSymbolProvider',
      'inlayHintProvider',
    ])
      assert.ok(init.capabilities[capability], capability);
  });
  after(() => client.shutdown());

  it('publishes the expected diagnostics, with code and source, for every broken fixture', async () => {
    for (const fixture of brokenFixtures()) {
      const diagnostics = await client.open(uriOf(fixture.path), fixture.text);
      const got = diagnostics.map((d) => `${String(d.code)} ${rangeText(d.range)}`).sort();
      assert.deepEqual(got, fixture.expected.map((e) => `${e.code} ${e.range}`).sort(), fixture.name);
      assert.ok(diagnostics.every((d) => d.source === 'sparsity-studio'));
    }
  });

  it('re-validates on change: fixing the text clears the diagnostic', async () => {
    const path = join(BROKEN_DIR, 'unknown-key.prune.yaml');
    const text = readFileSync(path, 'utf8');
    const uri = uriOf(path) + '?change';
    assert.equal((await client.open(uri, text)).length, 1);
    assert.deepEqual(await client.change(uri, text.replace('hiden:', 'hidden:')), []);
  });

  it('answers completion, hover, a quick fix that applies, symbols and inlay hints', async () => {
    const path = join(BROKEN_DIR, 'out-of-range.prune.yaml');
    const text = readFileSync(path, 'utf8');
    const uri = uriOf(path) + '?features';
    const [diagnostic] = await client.open(uri, text);
    assert.equal(diagnostic?.code, 'out-of-range');

    const lines = text.split('\n');
    const pruningLine = lines.findIndex((l) => l.startsWith('pruning:'));
    const completion = await client.request<CompletionList | CompletionItem[]>('textDocument/completion', {
      textDocument: { uri },
      position: { line: pruningLine + 1, character: 2 },
    });
    const items = Array.isArray(completion) ? completion : completion.items;
    assert.ok(items.some((i) => i.label === 'schedule') && items.some((i) => i.label === 'exponent'));

    const blockLine = lines.findIndex((l) => l.trim().startsWith('block:'));
    const hover = await client.request<Hover>('textDocument/hover', {
      textDocument: { uri },
      position: { line: blockLine, character: 3 },
    });
    assert.match((hover.contents as { value: string }).value, /Block shape/);

    const actions = await client.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: diagnostic.range,
      context: { diagnostics: [diagnostic] },
    });
    const fix = actions.find((a) => a.isPreferred)!;
    assert.equal(fix.title, 'Change to 0.9 (90%)');
    const fixed = applyTextEdits(text, fix.edit!.changes![uri]!);
    assert.deepEqual(await client.change(uri, fixed), []);

    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.deepEqual(
      symbols.map((s) => s.name),
      ['version', 'name', 'data', 'model', 'training', 'pruning'],
    );

    const hints = await client.request<InlayHint[]>('textDocument/inlayHint', {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } },
    });
    assert.ok(hints.some((h) => typeof h.label === 'string' && h.label.includes('dense_1: 627/6272')));
  });

  it('writes a valid experiment for the New Experiment template request and rejects a bad name', async () => {
    const { text } = await client.request<{ text: string }>('sparsity/experiment/template', {
      name: 'my-run',
      template: 'teacher',
    });
    assert.match(text, /^name: my-run$/m);
    const diagnostics = await client.open(uriOf(join(SAMPLES_DIR, 'new.prune.yaml')), text);
    assert.deepEqual(diagnostics, []);
    await assert.rejects(
      client.request('sparsity/experiment/template', { name: 'bad name', template: 'sapp' }),
      /invalid experiment name/,
    );
  });

  it('is still alive and wrote nothing unexpected to stderr', () => {
    assert.ok(client.alive);
    assert.equal(client.stderr, '');
  });
});
