/**
 * Says when a session ends: a completed run with its result and **Open Dashboard** / **Compare
 * with…**, a failed one with the reason and **Show Log** (the reason is in the Sparsity Studio output
 * too). The progress while it trains is the server's work-done progress (progressNotifications.ts).
 */
import * as vscode from 'vscode';
import { COMMAND_IDS, isFinalState, type SessionState, type SessionSummary } from '@protocol';
import type { Ctx } from './ctx';
import { COMPARE_WITH, endMessage, OPEN_DASHBOARD, SHOW_LOG } from './endMessage';

/** Follows the sessions and speaks once when each one ends. */
export class RunNotifications implements vscode.Disposable {
  private readonly states = new Map<string, SessionState>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly ctx: Ctx) {
    this.subscription = ctx.sessionChanges.event((s) => void this.changed(s));
  }

  private async changed(s: SessionSummary): Promise<void> {
    const before = this.states.get(s.sessionId);
    this.states.set(s.sessionId, s.state);
    if (!isFinalState(s.state) || (before !== undefined && isFinalState(before))) return;
    const message = endMessage(s);
    if (!message) return;
    if (message.error) this.ctx.output.error(`${s.name}: ${s.error ?? 'failed'} (run folder ${s.runDir || 'none'})`);
    const picked = message.error
      ? await vscode.window.showErrorMessage(message.text, ...message.actions)
      : await vscode.window.showInformationMessage(message.text, ...message.actions);
    const runDir = s.runDir || undefined;
    switch (picked) {
      case OPEN_DASHBOARD:
        if (runDir) await vscode.commands.executeCommand(COMMAND_IDS.openDashboard, runDir);
        return;
      case COMPARE_WITH:
        if (runDir) await vscode.commands.executeCommand(COMMAND_IDS.compareWith, runDir);
        return;
      case SHOW_LOG:
        this.ctx.output.show(true);
        return;
    }
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
