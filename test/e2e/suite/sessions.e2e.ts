/**
 * Session and run commands inside the real extension host: run (saving only the file it runs),
 * export, compare, preview the schedule, open a run's dashboard, delete, and a refused start.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RunInfo, SessionSummary } from '@protocol';
import { openExperiment, workspaceFile } from './host';

/**
 * Resolves once `runDir/run.json` reports a final status. Polled: code-server's file watcher does
 * not report the engine's atomic renames inside a folder created after the watch began.
 */
async function finished(runDir: string, timeoutMs = 240_000): Promise<RunInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
      if (info.status !== 'running') return info;
    } catch {
      // not written yet, or mid-rename
    }
    if (Date.now() > deadline) throw new Error(`${runDir} did not finish within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The run folder of a session, once the worker has created it. */
async function runDirOf(session: SessionSummary, other: string[] = []): Promise<string> {
  const runs = workspaceFile('runs');
  for (let i = 0; i < 600; i++) {
    const entries = existsSync(runs.fsPath) ? await vscode.workspace.fs.readDirectory(runs) : [];
    const match = entries
      .map(([name]) => name)
      .find((n) => n.startsWith(`${session.name}-`) && !other.includes(join(runs.fsPath, n)));
    if (match) return join(runs.fsPath, match);
    await new Promise((r) => setTimeout(r, 100)); // the folder appears when the worker starts the run
  }
  throw new Error(`no run folder for ${session.name}`);
}

/** The view types of the open webview tabs, without VS Code's prefix. */
function webviewTabs(): string[] {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .flatMap((t) =>
      t.input instanceof vscode.TabInputWebview ? [t.input.viewType.replace(/^.*(?=sparsityStudio\.)/, '')] : [],
    );
}

/** Waits for a webview tab of `viewType` (VS Code may prefix it) titled `label`. */
async function waitForWebviewTab(viewType: string, label: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
    if (
      tabs.some(
        (t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(viewType) && t.label === label,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const labels = vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label));
  throw new Error(`no webview tab "${label}" (${viewType}); tabs: ${labels.join(', ')}`);
}

suite('sessions and runs from commands', () => {
  test('Run Experiment, Export Run and Delete Run on real run folders', async function () {
    this.timeout(300_000); // two real training runs in the host's worker threads
    await openExperiment('valid.prune.yaml');
    const uri = workspaceFile('valid.prune.yaml').toString();
    const first = await vscode.commands.executeCommand<SessionSummary>('sparsityStudio.runExperiment', {
      uri,
      steps: 150,
    });
    assert.ok(first, 'the session started');
    const firstDir = await runDirOf(first);
    const firstInfo = await finished(firstDir);
    assert.equal(firstInfo.status, 'completed', firstInfo.error?.message);
    assert.equal(firstInfo.totalSteps, 150, 'the steps the command asked for, not the 400 of the file');
    assert.equal(firstInfo.step, 150);

    const files = await vscode.commands.executeCommand<string[]>('sparsityStudio.exportRun', firstDir);
    assert.ok(
      files.some((f) => f.endsWith(join('model', 'model.json'))),
      JSON.stringify(files),
    );
    assert.ok(files.some((f) => f.endsWith('block-sparse.bin')));

    const second = await vscode.commands.executeCommand<SessionSummary>('sparsityStudio.runExperiment', {
      uri,
      steps: 120,
    });
    const secondRun = await runDirOf(second, [firstDir]);
    assert.equal((await finished(secondRun)).status, 'completed');

    // Compare Runs on the two folders and Preview Schedule on the file open their panels.
    const compared = await vscode.commands.executeCommand<string[]>('sparsityStudio.compareRuns', undefined, [
      firstDir,
      secondRun,
    ]);
    assert.deepEqual(compared, [firstDir, secondRun]);
    await waitForWebviewTab('sparsityStudio.dashboard.compare', 'Compare · 2 runs');
    assert.equal(await vscode.commands.executeCommand<string>('sparsityStudio.previewSchedule', uri), uri);
    await waitForWebviewTab('sparsityStudio.dashboard.schedule', 'Schedule · valid.prune.yaml');

    const deleted = await vscode.commands.executeCommand<boolean>('sparsityStudio.deleteRun', secondRun, false);
    assert.equal(deleted, true);
    assert.ok(!existsSync(secondRun), 'the run folder is gone');
    assert.ok(existsSync(firstDir), 'the other run is kept');
  });

  test('Run saves the file it runs and no other; Open Dashboard opens one run panel', async function () {
    this.timeout(240_000);
    const runFile = workspaceFile('valid.prune.yaml');
    const otherFile = workspaceFile('valid-long.prune.yaml');
    const runText = readFileSync(runFile.fsPath, 'utf8');
    const otherText = readFileSync(otherFile.fsPath, 'utf8');
    const edited = '# edited before Run\n';
    const other = await vscode.workspace.openTextDocument(otherFile);
    const run = await vscode.workspace.openTextDocument(runFile);
    const edit = new vscode.WorkspaceEdit();
    edit.insert(otherFile, new vscode.Position(0, 0), edited);
    edit.insert(runFile, new vscode.Position(0, 0), edited);
    assert.ok(await vscode.workspace.applyEdit(edit));
    await vscode.window.showTextDocument(run);
    assert.ok(run.isDirty && other.isDirty, 'both edited, neither saved');
    try {
      const session = await vscode.commands.executeCommand<SessionSummary>('sparsityStudio.runExperiment', {
        uri: runFile.toString(),
        steps: 40,
      });
      assert.ok(session, 'the session started');
      assert.ok(!run.isDirty, 'the file that runs is saved');
      assert.ok(readFileSync(runFile.fsPath, 'utf8').startsWith(edited));
      assert.ok(other.isDirty, 'the other file is still unsaved');
      assert.equal(readFileSync(otherFile.fsPath, 'utf8'), otherText, 'and its edit is not on disk');
      const runDir = await runDirOf(session);
      assert.equal((await finished(runDir)).status, 'completed');

      // One panel for the run, titled with its short label; none of the two former kinds.
      const before = webviewTabs();
      await vscode.commands.executeCommand('sparsityStudio.openDashboard', runDir);
      await waitForWebviewTab('sparsityStudio.dashboard.run', 'Run · e2e-valid · sapp · s7');
      const opened = webviewTabs().filter((t) => !before.includes(t));
      assert.deepEqual(opened, ['sparsityStudio.dashboard.run'], 'exactly one new panel');
    } finally {
      // Leave the shared workspace as it was: both files back to their text, saved.
      for (const [document, text] of [
        [run, runText],
        [other, otherText],
      ] as const) {
        const restore = new vscode.WorkspaceEdit();
        restore.replace(document.uri, new vscode.Range(0, 0, document.lineCount, 0), text);
        await vscode.workspace.applyEdit(restore);
        await document.save();
      }
    }
  });

  test('Run Experiment refuses a file with errors and says why', async () => {
    await openExperiment('broken.prune.yaml');
    const result = await vscode.commands.executeCommand<SessionSummary | undefined>('sparsityStudio.runExperiment', {
      uri: workspaceFile('broken.prune.yaml').toString(),
    });
    assert.equal(result, undefined);
  });
});
