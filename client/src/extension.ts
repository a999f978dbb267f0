/** Entry points of the Sparsity Studio extension. */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { RUNS_VIEW } from './contributions';
import { Ctx } from './ctx';
import { DASHBOARD_KINDS, DashboardPanel, viewTypeOf } from './dashboards/dashboardPanel';
import type { RunItem } from './runsView';
import { RunsView } from './runsView';
import { SessionTracker } from './sessions';

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const c = new Ctx(context);
  ctx = c;
  const runs = new RunsView();
  const tree = vscode.window.createTreeView<RunItem>(RUNS_VIEW, { treeDataProvider: runs, canSelectMany: true });
  const sessions = new SessionTracker(c);
  c.register(
    runs,
    tree,
    sessions,
    c.sessionChanges.event(() => runs.refresh()),
  );
  for (const kind of DASHBOARD_KINDS)
    c.register(
      vscode.window.registerWebviewPanelSerializer(viewTypeOf(kind), {
        deserializeWebviewPanel: (panel, state) => Promise.resolve(DashboardPanel.revive(c, kind, panel, state)),
      }),
    );
  registerCommands(c, { sessions, runs, selectedRuns: () => [...tree.selection] });
  // Sessions need a trusted workspace; granting trust restarts the server with sessions on.
  c.register(vscode.workspace.onDidGrantWorkspaceTrust(() => void c.restart()));
  await c.start();
}

export async function deactivate(): Promise<void> {
  await ctx?.dispose();
  ctx = undefined;
}
