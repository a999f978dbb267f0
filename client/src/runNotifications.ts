/**
 * Says when a session ends: a completed run with its result and **Open Dashboard** / **Compare
 * with…**, a failed one with the reason and **Show Log** (the reason is in the Sparsity Studio output
 * too). The progress while it trains is the server's work-done progress (progressNotifications.ts).
 */
import * as vscode from 'vscode';
import { COMMAND_IDS, headlineOfSession, isFinalState, type SessionState, type SessionSummary } from '@protocol';
import type { Ctx } from './ctx';
import { headlineText } from './headline';

export const OPEN_DASHBOARD = 'Open Dashboard';
export const COMPARE_WITH = 'Compare with…';
export const SHOW_LOG = 'Show Log';

/** What the user is told when a session ends in `state`; nothing for a stop they asked for. */
export function endMessage(s: SessionSummary): { text: string; actions: string[]; error: boolean } | undefined {
  switch (s.state) {
    case 'completed':
      return {
        text: `Sparsity Studio: ${s.name} (${s.method}) completed — ${headlineText(headlineOfSession(s))}.`,
        actions: [OPEN_DASHBOARD, COMPARE_WITH],
        error: false,
      };
    case 'failed':
      return {
        text: `Sparsity Studio: ${s.name} (${s.method}) failed at step ${s.step}: ${s.error ?? 'no reason given'}`,
        actions: [SHOW_LOG, OPEN_DASHBOARD],
        error: true,
      };
    default:
      return undefined;
  }
}

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
