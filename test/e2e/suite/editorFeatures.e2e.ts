/** The server's other capabilities as VS Code's own providers return them: hover, outline, inlay hints. */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { openExperiment } from './host';

const lineOf = (document: vscode.TextDocument, prefix: string) =>
  document
    .getText()
    .split('\n')
    .findLastIndex((l) => l.startsWith(prefix));

const markdownOf = (hovers: vscode.Hover[]) =>
  hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');

suite('hover, outline and inlay hints in a real VS Code', () => {
  test('hover on pruning.block shows the key docs and the computed block grid', async () => {
    const { document } = await openExperiment('valid.prune.yaml');
    const line = lineOf(document, '  block:');
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      document.uri,
      new vscode.Position(line, 3),
    );
    const text = markdownOf(hovers);
    assert.match(text, /\*\*pruning\.block\*\*/);
    assert.match(text, /\| dense_1 \| 64x64 \| 8x8 \| 64 \| 16 \| pruned \|/);
  });

  test('the outline lists the top-level sections', async () => {
    const { document } = await openExperiment('valid.prune.yaml');
    const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>(
      'vscode.executeDocumentSymbolProvider',
      document.uri,
    );
    const names = symbols.map((s) => s.name);
    for (const section of ['data', 'model', 'training', 'pruning']) assert.ok(names.includes(section), names.join());
  });

  test('inlay hints give the kept blocks after `block` and the global sparsity after `sparsity`', async () => {
    const { document } = await openExperiment('valid.prune.yaml');
    const hints = await vscode.commands.executeCommand<vscode.InlayHint[]>(
      'vscode.executeInlayHintProvider',
      document.uri,
      new vscode.Range(0, 0, document.lineCount, 0),
    );
    const labelAt = (line: number) =>
      hints
        .filter((h) => h.position.line === line)
        .map((h) => (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join('')))
        .join('|');
    assert.match(labelAt(lineOf(document, '  block:')), /dense_1: 16\/64/);
    assert.match(labelAt(lineOf(document, '  sparsity:')), /% of all kernel weights/);
  });
});
