/**
 * The editor side of sweeps: Run Sweep (the code lens above a file with a `sweep:` grid), Stop
 * Sweep and Open Sweep. The server runs the sweep and reports its progress as one cancellable
 * notification; this opens the sweep panel beside the file as soon as the sweep folder exists.
 */
import * as vscode from 'vscode';
import { SweepStartRequest, SweepStopRequest, type SweepSessionSummary } from '@protocol';
import { LANGUAGE_ID } from './contributions';
import type { Ctx } from './ctx';
import { DashboardPanel } from './dashboards/dashboardPanel';
import { SweepItem } from './runsView';

/** The editor's sweeps as the server last reported them. */
export class SweepTracker implements vscode.Disposable {
  private readonly sweeps = new Map<string, SweepSessionSummary>();
  private readonly subscription: vscode.Disposable;

  constructor(ctx: Ctx) {
    this.subscription = ctx.sweepChanges.event((s) => this.sweeps.set(s.sweepId, s));
  }

  running(): SweepSessionSummary | undefined {
    return [...this.sweeps.values()].find((s) => s.state === 'running');
  }

  dispose(): void {
    this.subscription.dispose();
  }
}

/** Arguments Run Sweep accepts from code lenses (a URI string) and tests (`{uri, steps, parallel}`). */
type RunSweepArgs = string | vscode.Uri | { uri: string; steps?: number; parallel?: number } | undefined;

export async function runSweep(ctx: Ctx, arg: RunSweepArgs): Promise<SweepSessionSummary | undefined> {
  const given = typeof arg === 'object' && !(arg instanceof vscode.Uri) ? arg : undefined;
  const uriText =
    given?.uri ?? (arg instanceof vscode.Uri ? arg.toString() : typeof arg === 'string' ? arg : undefined);
  const document = uriText
    ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === uriText)
    : vscode.window.activeTextEditor?.document;
  const uri = uriText ?? (document?.languageId === LANGUAGE_ID ? document.uri.toString() : undefined);
  if (!uri) {
    void vscode.window.showErrorMessage('Sparsity Studio: open a *.prune.yaml experiment with a sweep to run it.');
    return undefined;
  }
  if (document?.isDirty) await document.save(); // the runs read the saved file
  try {
    const { sweep } = await ctx.client.sendRequest(SweepStartRequest, {
      uri,
      ...(given?.steps !== undefined && { steps: given.steps }),
      ...(given?.parallel !== undefined && { parallel: given.parallel }),
    });
    DashboardPanel.show(ctx, { kind: 'sweep', sweepDir: sweep.sweepDir }, vscode.ViewColumn.Beside);
    return sweep;
  } catch (error) {
    void vscode.window.showErrorMessage(`Sparsity Studio: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

export async function stopSweep(
  ctx: Ctx,
  tracker: SweepTracker,
  sweepId?: unknown,
): Promise<SweepSessionSummary | undefined> {
  const id = typeof sweepId === 'string' ? sweepId : tracker.running()?.sweepId;
  if (!id) {
    void vscode.window.showInformationMessage('Sparsity Studio: no sweep is running.');
    return undefined;
  }
  return ctx.client.sendRequest(SweepStopRequest, { sweepId: id });
}

/** Opens the sweep panel of a sweep folder: a Runs view item, a path or a URI. */
export function openSweep(ctx: Ctx, arg?: unknown): string | undefined {
  const sweepDir =
    arg instanceof SweepItem
      ? arg.sweepDir.fsPath
      : arg instanceof vscode.Uri
        ? arg.fsPath
        : typeof arg === 'string' && arg !== ''
          ? arg
          : undefined;
  if (!sweepDir) {
    void vscode.window.showInformationMessage('Sparsity Studio: pick a sweep in the Runs view to open it.');
    return undefined;
  }
  DashboardPanel.show(ctx, { kind: 'sweep', sweepDir }, vscode.ViewColumn.Active);
  return sweepDir;
}
