/**
 * The Runs view in the activity bar: every run folder of the workspace (a `run.json`), newest
 * first, each under its short label (`experiment · method · s1`, the folder name in its tooltip)
 * with its status, final metric, sparsity and the config keys in which it differs from the other
 * runs of the same experiment; refreshed when run files change and when a session reports.
 */
import * as vscode from 'vscode';
import {
  COMMAND_IDS,
  differingValues,
  emptyProgress,
  formatMetric,
  headlineOf,
  headlineOfSession,
  metricName,
  primaryMetric,
  runLabel,
  type RunCompareResult,
  type RunInfo,
  type SessionSummary,
} from '@protocol';
import { escape, headlineTooltip } from './headline';

/** The config keys in which a run differs from the other runs of its experiment, as `key value`. */
export type Differences = string[];

export class RunItem extends vscode.TreeItem {
  constructor(
    readonly runDir: vscode.Uri,
    readonly info: RunInfo,
    readonly differences: Differences = [],
    session?: SessionSummary,
  ) {
    super(runLabel(info), vscode.TreeItemCollapsibleState.None);
    this.id = runDir.toString();
    this.description = describeRun(info, differences);
    const headline = session ? headlineOfSession(session) : headlineOf(info, emptyProgress(info.step));
    this.tooltip = headlineTooltip(`**${escape(runLabel(info))}**`, headline, [
      ...(differences.length > 0
        ? [`Differs from the other runs of ${escape(info.name)}: ${escape(differences.join(', '))}`]
        : []),
      `\`${info.id}\``,
      escape(runDir.fsPath),
    ]);
    this.iconPath = new vscode.ThemeIcon(
      { running: 'sync~spin', completed: 'pass', failed: 'error', cancelled: 'circle-slash' }[info.status],
    );
    this.contextValue = `run.${info.status}`;
    this.command = { command: COMMAND_IDS.openDashboard, title: 'Open Dashboard', arguments: [this] };
  }
}

/** `completed · accuracy 86.6% · 89.6% sparse · seed 2`: what a row says after its label. */
export function describeRun(info: RunInfo, differences: Differences = []): string {
  const final = info.final;
  const metrics = final?.metrics;
  const key = metrics ? primaryMetric(metrics).key : undefined;
  const value = key ? metrics?.[key] : undefined;
  const metric = key && value !== undefined ? `${metricName(key)} ${formatMetric(key, value)}` : undefined;
  const sparsity = final
    ? `${(100 * final.sparsity.global).toFixed(1)}% sparse`
    : `step ${info.step}/${info.totalSteps}`;
  return [info.status, metric, sparsity, ...differences].filter(Boolean).join(' · ');
}

/** Each run's differing keys, from the comparison of the runs of one experiment. */
export function differencesByRun(table: Pick<RunCompareResult, 'differences'>, runs: number): Differences[] {
  return Array.from({ length: runs }, (_, i) => differingValues(table.differences, i));
}

export interface RunsViewSources {
  /** The config differences of two or more run folders (the server's comparison); may fail. */
  compare(runDirs: string[]): Promise<Pick<RunCompareResult, 'differences'>>;
  /** The live session of a run folder, if one is running it. */
  session(runDir: string): SessionSummary | undefined;
}

export class RunsView implements vscode.TreeDataProvider<RunItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly watcher = vscode.workspace.createFileSystemWatcher('**/run.json');
  private readonly disposables: vscode.Disposable[] = [this.changed, this.watcher];
  /** Differences by the runs compared and their config hashes: configs never change, so neither do they. */
  private readonly differenceCache = new Map<string, Differences[]>();

  constructor(private readonly sources?: RunsViewSources) {
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
    // A `.staging-*` folder is a run folder being created (runStore.ts): listed once renamed into place.
    const files = await vscode.workspace.findFiles('**/run.json', '{**/node_modules/**,**/.staging-*/**}', 500);
    const runs: { dir: vscode.Uri; info: RunInfo }[] = [];
    for (const file of files) {
      try {
        const info = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(file))) as RunInfo;
        if (info.format === 1 && typeof info.id === 'string') runs.push({ dir: vscode.Uri.joinPath(file, '..'), info });
      } catch {
        // Half-written or foreign run.json: not a run of ours.
      }
    }
    runs.sort((a, b) => b.info.startedAt.localeCompare(a.info.startedAt));
    const differences = await this.differences(runs);
    return runs.map((r, i) => new RunItem(r.dir, r.info, differences[i], this.sources?.session(r.dir.fsPath)));
  }

  /** Per run, the keys in which it differs from the other runs of the same experiment name. */
  private async differences(runs: { dir: vscode.Uri; info: RunInfo }[]): Promise<Differences[]> {
    const out: Differences[] = runs.map(() => []);
    const sources = this.sources;
    if (!sources) return out;
    const groups = new Map<string, number[]>();
    runs.forEach((r, i) => groups.set(r.info.name, [...(groups.get(r.info.name) ?? []), i]));
    await Promise.all(
      [...groups.values()]
        .filter((members) => members.length >= 2)
        .map(async (members) => {
          const key = members.map((i) => `${runs[i]!.dir.fsPath}#${runs[i]!.info.configHash}`).join('|');
          try {
            let found = this.differenceCache.get(key);
            if (!found) {
              found = differencesByRun(await sources.compare(members.map((i) => runs[i]!.dir.fsPath)), members.length);
              this.differenceCache.set(key, found);
            }
            found.forEach((d, k) => (out[members[k]!] = d));
          } catch {
            // The server cannot read one of them (or is restarting): the rows go without.
          }
        }),
    );
    return out;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
