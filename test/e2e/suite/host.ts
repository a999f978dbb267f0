/** Helpers for in-host tests: open files, wait on VS Code events (never on sleeps). */
import * as vscode from 'vscode';

export const EXTENSION_ID = 'sparsity-studio.sparsity-studio';

export function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the e2e run opens a workspace folder');
  return vscode.Uri.joinPath(folder.uri, name);
}

/** A diagnostic's code as a string (`unknown-key`), whether VS Code holds it plain or with a link. */
export function codeOf(diagnostic: vscode.Diagnostic): string {
  return String(typeof diagnostic.code === 'object' ? diagnostic.code.value : diagnostic.code);
}

/** Resolves with the diagnostics of `uri` once `predicate` holds, or rejects after `timeoutMs`. */
export function waitForDiagnostics(
  uri: vscode.Uri,
  predicate: (diagnostics: vscode.Diagnostic[]) => boolean,
  timeoutMs = 30_000,
): Promise<vscode.Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const diagnostics = vscode.languages.getDiagnostics(uri);
      if (!predicate(diagnostics)) return false;
      subscription.dispose();
      clearTimeout(timer);
      resolve(diagnostics);
      return true;
    };
    const subscription = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === uri.toString())) check();
    });
    const timer = setTimeout(() => {
      subscription.dispose();
      const now = vscode.languages.getDiagnostics(uri).map((d) => `${codeOf(d)}: ${d.message}`);
      reject(
        new Error(`diagnostics of ${uri.fsPath} never matched within ${timeoutMs} ms; now: ${JSON.stringify(now)}`),
      );
    }, timeoutMs);
    check();
  });
}

export async function openExperiment(name: string): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument(workspaceFile(name));
  return vscode.window.showTextDocument(document);
}

/**
 * Asserts that the language server checked the editor's text and found nothing. An empty list is
 * also what a file the server never saw has, so this breaks the file first (an unknown top-level
 * key on line 1), waits for that error, removes the line again, waits for the list to become
 * empty, and saves the unchanged text so the editor is not left dirty.
 */
export async function expectNoDiagnostics(editor: vscode.TextEditor): Promise<void> {
  const { document } = editor;
  const probe = new vscode.WorkspaceEdit();
  probe.insert(document.uri, new vscode.Position(0, 0), 'e2e_probe_key: 1\n');
  if (!(await vscode.workspace.applyEdit(probe))) throw new Error('could not insert the probe line');
  await waitForDiagnostics(document.uri, (ds) =>
    ds.some((d) => codeOf(d) === 'unknown-key' && d.range.start.line === 0),
  );
  const restore = new vscode.WorkspaceEdit();
  restore.delete(document.uri, new vscode.Range(0, 0, 1, 0));
  if (!(await vscode.workspace.applyEdit(restore))) throw new Error('could not remove the probe line');
  await waitForDiagnostics(document.uri, (ds) => ds.length === 0);
  await document.save();
}
