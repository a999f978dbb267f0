/**
 * The Runs view in the activity bar: every run folder of the workspace (a `run.json`), newest
 * first, with status, method, sparsity and final metric; refreshed when run files change and when
 * a session reports.
 */
import * as vscode from 'vscode';
import { COMMAND_IDS, type RunInfo } from '@protocol';

export class RunItem extends vscode.TreeItem {
  constructor(
    readonly runDir: vscode.Uri,
    readonly info: RunInfo,
  ) {
    super(info.id, vscode.TreeItemCollapsibleState.None);
    const final = info.final;
    const metric =
      final?.metrics.accuracy !== undefined
        ? `acc ${(100 * final.metrics.accuracy).toFixed(1)}%`
        : final?.metrics.log_loss !== undefined
          ? `log-loss ${final.metrics.log_loss.toFixed(4)}`
          : undefined;
    const sparsity = final
      ? `${(100 * final.sparsity.global).toFixed(1)}% sparse`
      : `step ${info.step}/${info.totalSteps}`;
    this.description = [info.status, info.method, sparsity, metric].filter(Boolean).join(' · ');
    this.tooltip = new vscode.MarkdownString(
      [
        `**${info.name}** (${info.id})`,
        `- status: ${info.status}${info.error ? ` — ${info.error.message}` : ''}`,
        `- method: ${info.method}, seed ${info.seed}, backend ${info.backend.name}`,
        `- step ${info.step} of ${info.totalSteps}`,
        final ? `- global sparsity ${(100 * final.sparsity.global).toFixed(2)}%` : '',
        metric ? `- ${metric}` : '',
        `- ${runDir.fsPath}`,
      ]
        .filter(Boolean)
        .join('\n'),
    );
    this.iconPath = new vscode.ThemeIcon(
      { running: 'sync~spin', completed: 'pass', failed: 'error', cancelled: 'circle-slash' }[info.status],
    );
    this.contextValue = `run.${info.status}`;
    this.command = { command: COMMAND_IDS.openDashboard, title: 'Open Dashboard', arguments: [this] };
  }
}

export class RunsView implements vscode.TreeDataProvider<RunItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly watcher = vscode.workspace.createFileSystemWatcher('**/run.json');
  private readonly disposables: vscode.Disposable[] = [this.changed, this.watcher];

  constructor() {
    const refresh = () => this.refresh();
    this.disposables.push(
      this.watcher.onDidCreate(refresh),
      this.watcher.onDidChange(refresh),
      this.watcher.onDidDelete(refresh),
    );
  }

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(item: RunItem): vscode.TreeItem {
    return item;
  }

  async getChildren(): Promise<RunItem[]> {
    const files = await vscode.workspace.findFiles('**/run.json', '**/node_modules/**', 500);
    const items: RunItem[] = [];
    for (const file of files) {
      try {
        const info = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(file))) as RunInfo;
        if (info.format === 1 && typeof info.id === 'string')
          items.push(new RunItem(vscode.Uri.joinPath(file, '..'), info));
      } catch {
        // Half-written or foreign run.json: not a run of ours.
      }
    }
    return items.sort((a, b) => b.info.startedAt.localeCompare(a.info.startedAt));
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
