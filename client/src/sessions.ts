/**
 * The editor side of pruning sessions: the commands that start, stop, resume and export runs
 * through the language server, and the status bar item that follows the active session.
 */
import * as vscode from 'vscode';
import {
  BackendInfoRequest,
  COMMAND_IDS,
  headlineOfSession,
  RunExportRequest,
  SessionResumeRequest,
  SessionStartRequest,
  SessionStopRequest,
  type SessionSummary,
} from '@protocol';
import { LANGUAGE_ID } from './contributions';
import type { Ctx } from './ctx';
import { escape, headlineTooltip } from './headline';
import { RunItem, SweepItem } from './runsView';

/**
 * A run folder from a command argument: a Runs view item, a path, a URI, or (unless
 * `orLatest` is false) the last session's.
 */
export function runDirOf(arg: unknown, sessions: SessionTracker, orLatest = true): string | undefined {
  if (arg instanceof RunItem) return arg.runDir.fsPath;
  if (arg instanceof SweepItem) return arg.sweepDir.fsPath;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === 'string' && arg !== '') return arg;
  return orLatest ? sessions.latest()?.runDir || undefined : undefined;
}

/** Follows `sparsity/session/didChange` and shows the active session in the status bar. */
export class SessionTracker implements vscode.Disposable {
  private readonly sessions = new Map<string, SessionSummary>();
  private readonly item = vscode.window.createStatusBarItem(
    'sparsityStudio.session',
    vscode.StatusBarAlignment.Left,
    10,
  );
  private readonly subscription: vscode.Disposable;

  constructor(ctx: Ctx) {
    this.item.name = 'Sparsity Studio session';
    this.subscription = ctx.sessionChanges.event((s) => this.update(s));
  }

  /** The session that runs (or last ran) a run folder. */
  forRunDir(runDir: string): SessionSummary | undefined {
    return [...this.sessions.values()].reverse().find((s) => s.runDir === runDir);
  }

  /** The running session, else the most recent one. */
  latest(): SessionSummary | undefined {
    const all = [...this.sessions.values()];
    return all.find((s) => s.state === 'running') ?? all.at(-1);
  }

  running(): SessionSummary | undefined {
    return [...this.sessions.values()].find((s) => s.state === 'running' || s.state === 'queued');
  }

  private update(summary: SessionSummary): void {
    this.sessions.delete(summary.sessionId);
    this.sessions.set(summary.sessionId, summary);
    const s = this.latest();
    if (!s) return this.item.hide();
    const icon = {
      queued: '$(clock)',
      running: '$(sync~spin)',
      completed: '$(pass)',
      failed: '$(error)',
      cancelled: '$(circle-slash)',
    }[s.state];
    const phase = s.phase ? ` · ${s.phase.label}` : '';
    const threads = s.threads !== undefined && s.threads > 1 ? ` ×${s.threads}` : '';
    const backend = s.backend ? ` · ${s.backend}${threads}` : '';
    this.item.text = `${icon} ${s.name}${backend}${phase} · ${s.step}/${s.totalSteps} · ${(100 * s.globalSparsity).toFixed(1)}% sparse`;
    this.item.tooltip = headlineTooltip(
      `**${escape(s.name)}** (${s.method})${s.phase ? ` · ${escape(s.phase.label)}` : ''}`,
      headlineOfSession(s),
      ['Click to open its dashboard.'],
    );
    this.item.command = { command: COMMAND_IDS.openDashboard, title: 'Open Dashboard', arguments: [s.runDir] };
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}

/** Arguments the Run command accepts from code lenses (a URI string) and tests (`{uri, steps}`). */
type RunArgs = string | vscode.Uri | { uri: string; steps?: number } | undefined;

export async function runExperiment(ctx: Ctx, arg: RunArgs): Promise<SessionSummary | undefined> {
  const given = typeof arg === 'object' && !(arg instanceof vscode.Uri) ? arg : undefined;
  const uriText =
    given?.uri ?? (arg instanceof vscode.Uri ? arg.toString() : typeof arg === 'string' ? arg : undefined);
  const document = uriText
    ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === uriText)
    : vscode.window.activeTextEditor?.document;
  const uri = uriText ?? (document?.languageId === LANGUAGE_ID ? document.uri.toString() : undefined);
  if (!uri) {
    void vscode.window.showErrorMessage('Sparsity Studio: open a *.prune.yaml experiment to run it.');
    return undefined;
  }
  if (document?.isDirty) await document.save(); // the session runs the saved file
  try {
    const { session } = await ctx.client.sendRequest(SessionStartRequest, {
      uri,
      ...(given?.steps !== undefined && { steps: given.steps }),
    });
    return session;
  } catch (error) {
    void vscode.window.showErrorMessage(`Sparsity Studio: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

export async function stopSession(
  ctx: Ctx,
  tracker: SessionTracker,
  sessionId?: string,
): Promise<SessionSummary | undefined> {
  const id = typeof sessionId === 'string' ? sessionId : tracker.running()?.sessionId;
  if (!id) {
    void vscode.window.showInformationMessage('Sparsity Studio: no session is running.');
    return undefined;
  }
  return ctx.client.sendRequest(SessionStopRequest, { sessionId: id });
}

export async function resumeRun(ctx: Ctx, tracker: SessionTracker, arg?: unknown): Promise<SessionSummary | undefined> {
  const runDir = runDirOf(arg, tracker);
  if (!runDir) return undefined;
  try {
    return (await ctx.client.sendRequest(SessionResumeRequest, { runDir })).session;
  } catch (error) {
    void vscode.window.showErrorMessage(`Sparsity Studio: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

export async function exportRun(ctx: Ctx, tracker: SessionTracker, arg?: unknown): Promise<string[]> {
  const runDir = runDirOf(arg, tracker);
  if (!runDir) return [];
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Sparsity Studio: exporting the folded model…' },
      () => ctx.client.sendRequest(RunExportRequest, { runDir }),
    );
    for (const warning of result.warnings) void vscode.window.showWarningMessage(`Sparsity Studio: ${warning}`);
    if (result.files.length > 0)
      void vscode.window.showInformationMessage(
        `Sparsity Studio: exported ${result.files.length} files to ${runDir}/export`,
      );
    return result.files;
  } catch (error) {
    void vscode.window.showErrorMessage(`Sparsity Studio: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  }
}

export async function deleteRun(tracker: SessionTracker, arg?: unknown, confirm = true): Promise<boolean> {
  const runDir = runDirOf(arg, tracker);
  if (!runDir) return false;
  if (confirm) {
    const answer = await vscode.window.showWarningMessage(
      `Delete the run folder ${runDir}?`,
      { modal: true },
      'Delete',
    );
    if (answer !== 'Delete') return false;
  }
  const uri = vscode.Uri.file(runDir);
  try {
    await vscode.workspace.fs.delete(uri, { recursive: true, useTrash: true });
  } catch {
    // Remote file systems (code-server, SSH) have no trash: the user confirmed, delete for good.
    await vscode.workspace.fs.delete(uri, { recursive: true, useTrash: false });
  }
  return true;
}

export async function showBackendInfo(ctx: Ctx): Promise<void> {
  const info = await ctx.client.sendRequest(BackendInfoRequest);
  // The server's report, line for line what `sparsity-studio backends` prints.
  for (const line of info.report) ctx.output.info(line);
  ctx.output.show(true);
  void vscode.window.showInformationMessage(
    `Sparsity Studio trains on ${info.chosen}. ${info.attempts
      .filter((a) => !a.used)
      .map((a) => `${a.backend}: ${a.reason}`)
      .join('; ')}`,
  );
}
