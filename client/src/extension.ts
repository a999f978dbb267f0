/** Entry points of the Sparsity Studio extension. */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { RUNS_VIEW } from './contributions';
import { Ctx } from './ctx';
import { RunCompareRequest } from '@protocol';
import { DASHBOARD_KINDS, DashboardPanel, LEGACY_VIEW_TYPES, viewTypeOf } from './dashboards/dashboardPanel';
import { RunNotifications } from './runNotifications';
import { RunsView, type RunsViewItem } from './runsView';
import { SessionTracker } from './sessions';
import { SweepTracker } from './sweeps';

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const c = new Ctx(context);
  ctx = c;
  const sessions = new SessionTracker(c);
  const sweeps = new SweepTracker(c);
  const runs = new RunsView({
    compare: (runDirs) => c.client.sendRequest(RunCompareRequest, { runDirs }),
    session: (runDir) => sessions.forRunDir(runDir),
  });
  const tree = vscode.window.createTreeView<RunsViewItem>(RUNS_VIEW, { treeDataProvider: runs, canSelectMany: true });
  c.register(
    runs,
    tree,
    sessions,
    new RunNotifications(c),
    sweeps,
    c.sessionChanges.event(() => runs.refresh()),
    c.sweepChanges.event(() => runs.refresh()),
  );
  for (const viewType of LEGACY_VIEW_TYPES)
    c.register(
      vscode.window.registerWebviewPanelSerializer(viewType, {
        deserializeWebviewPanel: (panel, state) =>
          Promise.resolve(DashboardPanel.reviveLegacy(c, viewType, panel, state)),
      }),
    );
  for (const kind of DASHBOARD_KINDS)
    c.register(
      vscode.window.registerWebviewPanelSerializer(viewTypeOf(kind), {
        deserializeWebviewPanel: (panel, state) => Promise.resolve(DashboardPanel.revive(c, kind, panel, state)),
      }),
    );
  registerCommands(c, { sessions, sweeps, runs, selectedRuns: () => [...tree.selection] });
  // Sessions need a trusted workspace; granting trust restarts the server with sessions on.
  c.register(vscode.workspace.onDidGrantWorkspaceTrust(() => void c.restart()));
  await c.start();
}

export async function deactivate(): Promise<void> {
  await ctx?.dispose();
  ctx = undefined;
}
