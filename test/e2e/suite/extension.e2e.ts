/** The extension as VS Code loads it: activation, the language id, the contributed commands and settings. */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { COMMANDS, LANGUAGE_ID, SETTINGS, SETTINGS_SECTION } from '../../../client/src/contributions';
import { EXTENSION_ID, expectNoDiagnostics, openExperiment, workspaceFile } from './host';

suite('the extension in a real VS Code', () => {
  test('is active in a workspace with experiment files, and *.prune.yaml is prune-yaml', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, 'the extension under development is loaded');
    await extension.activate();
    assert.ok(extension.isActive);
    const editor = await openExperiment('valid.prune.yaml');
    assert.equal(editor.document.languageId, LANGUAGE_ID);
  });

  test('*.prune.yml is prune-yaml too, and a plain *.yaml is not', async () => {
    const valid = await vscode.workspace.fs.readFile(workspaceFile('valid.prune.yaml'));
    const yml = workspaceFile('short-suffix.prune.yml');
    const plain = workspaceFile('plain.yaml');
    await vscode.workspace.fs.writeFile(yml, valid);
    await vscode.workspace.fs.writeFile(plain, valid);
    try {
      assert.equal((await vscode.workspace.openTextDocument(yml)).languageId, LANGUAGE_ID);
      assert.notEqual((await vscode.workspace.openTextDocument(plain)).languageId, LANGUAGE_ID);
    } finally {
      await vscode.workspace.fs.delete(yml);
      await vscode.workspace.fs.delete(plain);
    }
  });

  test('registers every command of the COMMANDS table', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const id of Object.keys(COMMANDS)) assert.ok(registered.has(id), `${id} is registered`);
  });

  test('the host sees every setting of the SETTINGS table with its default', () => {
    const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
    for (const [key, value] of Object.entries(SETTINGS))
      assert.deepEqual(config.inspect(key)?.defaultValue, value, `${SETTINGS_SECTION}.${key}`);
  });

  test('a valid experiment gets no diagnostics', async () => {
    await expectNoDiagnostics(await openExperiment('valid.prune.yaml'));
  });
});
