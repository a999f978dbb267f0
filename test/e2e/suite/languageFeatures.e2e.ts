import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { codeOf, EXTENSION_ID, expectNoDiagnostics, openExperiment, waitForDiagnostics, workspaceFile } from './host';

suite('Sparsity Studio in a real VS Code', () => {
  suiteSetup(() => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, 'the extension under development is loaded');
  });

  test('a broken experiment gets its diagnostics with code, source and range', async () => {
    const editor = await openExperiment('broken.prune.yaml');
    assert.equal(editor.document.languageId, 'prune-yaml');
    const diagnostics = await waitForDiagnostics(editor.document.uri, (ds) => ds.length >= 2);
    const unknown = diagnostics.find((d) => codeOf(d) === 'unknown-key')!;
    assert.ok(unknown, 'unknown-key is reported');
    assert.equal(unknown.source, 'sparsity-studio');
    assert.equal(unknown.severity, vscode.DiagnosticSeverity.Error);
    assert.deepEqual([unknown.range.start.line, unknown.range.start.character, unknown.range.end.character], [8, 2, 7]);
    assert.match(unknown.message, /Did you mean `hidden`\?/);
    assert.ok(diagnostics.some((d) => codeOf(d) === 'out-of-range'));
  });

  test('completion offers the keys of the chosen method', async () => {
    const editor = await openExperiment('broken.prune.yaml');
    const line = editor.document
      .getText()
      .split('\n')
      .findIndex((l) => l.startsWith('pruning:'));
    const list = await vscode.commands.executeCommand<vscode.CompletionList>(
      'vscode.executeCompletionItemProvider',
      editor.document.uri,
      new vscode.Position(line + 1, 2),
    );
    const labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    for (const key of ['schedule', 'exponent', 'min_blocks', 'exclude'])
      assert.ok(labels.includes(key), `${key} in ${labels.join(',')}`);
    assert.ok(!labels.includes('sparse_share'), 'an acdc key is not offered for sapp');
  });

  test('a quick fix applies and its diagnostic disappears', async () => {
    const editor = await openExperiment('broken.prune.yaml');
    const uri = editor.document.uri;
    const [diagnostic] = await waitForDiagnostics(uri, (ds) => ds.some((d) => codeOf(d) === 'out-of-range'));
    const target = vscode.languages.getDiagnostics(uri).find((d) => codeOf(d) === 'out-of-range') ?? diagnostic!;
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      uri,
      target.range,
    );
    const fix = actions.find((a) => a.title === 'Change to 0.75 (75%)');
    assert.ok(fix?.edit, `fix offered among ${actions.map((a) => a.title).join(', ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    await waitForDiagnostics(uri, (ds) => !ds.some((d) => codeOf(d) === 'out-of-range'));
    assert.match(editor.document.getText(), /^ {2}sparsity: 0\.75$/m);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  test('New Experiment writes a file that has no diagnostics, and opens it', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const uri = await vscode.commands.executeCommand<vscode.Uri>('sparsityStudio.newExperiment', {
      name: 'e2e-new',
      template: 'teacher',
      folder,
    });
    assert.ok(uri, 'the command returns the new file');
    assert.equal(uri.fsPath, workspaceFile('e2e-new.prune.yaml').fsPath);
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    assert.match(text, /^name: e2e-new$/m);
    const editor = vscode.window.activeTextEditor;
    assert.equal(editor?.document.uri.toString(), uri.toString());
    assert.equal(editor.document.languageId, 'prune-yaml');
    await expectNoDiagnostics(editor);
  });

  test('New Experiment never overwrites: the same name gets a numbered file', async () => {
    const first = workspaceFile('e2e-new.prune.yaml');
    const before = await vscode.workspace.fs.readFile(first);
    const uri = await vscode.commands.executeCommand<vscode.Uri>('sparsityStudio.newExperiment', {
      name: 'e2e-new',
      template: 'sapp',
      folder: vscode.workspace.workspaceFolders![0]!.uri.fsPath,
    });
    assert.equal(uri.fsPath, workspaceFile('e2e-new-2.prune.yaml').fsPath);
    assert.deepEqual(await vscode.workspace.fs.readFile(first), before, 'the existing file is untouched');
    assert.match(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)), /^ {2}method: sapp$/m);
  });

  test('New Experiment without a folder writes next to the active file', async () => {
    const nested = workspaceFile('nested');
    await vscode.workspace.fs.createDirectory(nested);
    const beside = vscode.Uri.joinPath(nested, 'beside.prune.yaml');
    await vscode.workspace.fs.copy(workspaceFile('valid.prune.yaml'), beside, { overwrite: true });
    await vscode.window.showTextDocument(beside);
    const uri = await vscode.commands.executeCommand<vscode.Uri>('sparsityStudio.newExperiment', {
      name: 'e2e-beside',
      template: 'magnitude',
    });
    assert.equal(uri.fsPath, vscode.Uri.joinPath(nested, 'e2e-beside.prune.yaml').fsPath);
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, uri.fsPath);
  });

  test('diagnostics follow a data file appearing and vanishing', async () => {
    const editor = await openExperiment('broken-missing-data.prune.yaml');
    const uri = editor.document.uri;
    await waitForDiagnostics(uri, (ds) => ds.length === 1 && codeOf(ds[0]!) === 'path-missing');
    const csv = workspaceFile('data/e2e-train.csv');
    const header = [...Array.from({ length: 16 }, (_, i) => `x${i}`), 'label'].join(',');
    const rows = Array.from({ length: 4 }, (_, r) => [...Array<string>(16).fill('0.5'), String(r % 2)].join(','));
    await vscode.workspace.fs.writeFile(csv, new TextEncoder().encode([header, ...rows, ''].join('\n')));
    try {
      await waitForDiagnostics(uri, (ds) => ds.length === 0);
    } finally {
      await vscode.workspace.fs.delete(csv);
    }
    await waitForDiagnostics(uri, (ds) => ds.some((d) => codeOf(d) === 'path-missing'));
  });

  test('Restart Language Server clears the old diagnostics and brings them back', async () => {
    const editor = await openExperiment('broken.prune.yaml');
    const uri = editor.document.uri;
    await waitForDiagnostics(uri, (ds) => ds.some((d) => codeOf(d) === 'unknown-key'));
    let cleared = false;
    const watch = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === uri.toString()) && vscode.languages.getDiagnostics(uri).length === 0)
        cleared = true;
    });
    try {
      await vscode.commands.executeCommand('sparsityStudio.restartServer');
      const diagnostics = await waitForDiagnostics(uri, (ds) => cleared && ds.some((d) => codeOf(d) === 'unknown-key'));
      assert.deepEqual(diagnostics.map(codeOf).sort(), ['out-of-range', 'unknown-key']);
    } finally {
      watch.dispose();
    }
  });
});
