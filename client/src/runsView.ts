/**
 * The Runs view in the activity bar: every run folder of the workspace (a `run.json`), newest
 * first, each under its short label (`experiment · method · s1`, the folder name in its tooltip)
 * with its status, final metric, sparsity and the config keys in which it differs from the other
 * runs of the same experiment; a sweep's runs grouped under it. Refreshed when run or sweep files
 * change and when a session or sweep reports.
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
  type SweepInfo,
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

/** A sweep folder: its runs are its children. */
export class SweepItem extends vscode.TreeItem {
  constructor(
    readonly sweepDir: vscode.Uri,
    readonly info: SweepInfo,
    readonly runs: RunItem[],
  ) {
    super(info.id, vscode.TreeItemCollapsibleState.Collapsed);
    this.id = sweepDir.toString();
    const count = (status: RunInfo['status']) => runs.filter((r) => r.info.status === status).length;
    const completed = count('completed');
    const failed = count('failed');
    const running = count('running');
    this.description = [
      `sweep · ${completed}/${info.runs.length} completed`,
      running > 0 ? `${running} running` : '',
      failed > 0 ? `${failed} failed` : '',
      info.executor.kind === 'slurm' ? 'SLURM' : '',
    ]
      .filter(Boolean)
      .join(' · ');
    this.tooltip = new vscode.MarkdownString(
      [
        `**${escape(info.name)}** sweep (\`${info.id}\`): ${info.runs.length} runs, ${info.status}`,
        ...info.grid.map((a) => `- \`${a.path}\`: ${escape(a.values.map((v) => JSON.stringify(v)).join(', '))}`),
        `- ${escape(sweepDir.fsPath)}`,
      ].join('\n'),
    );
    const status = running > 0 ? 'running' : info.status;
    this.iconPath = new vscode.ThemeIcon(
      { running: 'sync~spin', completed: 'pass-filled', failed: 'error', cancelled: 'circle-slash' }[status],
    );
    this.contextValue = `sweep.${status}`;
    this.command = { command: COMMAND_IDS.openSweep, title: 'Open Sweep', arguments: [this] };
  }
}

export type RunsViewItem = RunItem | SweepItem;

export class RunsView implements vscode.TreeDataProvider<RunsViewItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly watcher = vscode.workspace.createFileSystemWatcher('**/{run,sweep}.json');
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

  getTreeItem(item: RunsViewItem): vscode.TreeItem {
    return item;
  }

  /** Sweeps (their runs inside) and the runs of no sweep, newest first; a sweep's runs in grid order. */
  async getChildren(parent?: RunsViewItem): Promise<RunsViewItem[]> {
    if (parent instanceof SweepItem) return parent.runs;
    if (parent) return [];
    const runs = await this.allRuns();
    const sweeps: SweepItem[] = [];
    for (const file of await vscode.workspace.findFiles('**/sweep.json', '**/node_modules/**', 200)) {
      let info: SweepInfo;
      try {
        info = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(file))) as SweepInfo;
      } catch {
        continue; // half-written or foreign: not a sweep of ours
      }
      if (info.format !== 1 || !Array.isArray(info.runs)) continue;
      const dir = vscode.Uri.joinPath(file, '..');
      const order = new Map(info.runs.map((r, i) => [vscode.Uri.joinPath(dir, r.dir).fsPath, i]));
      const mine = runs
        .filter((r) => order.has(r.runDir.fsPath))
        .sort((a, b) => order.get(a.runDir.fsPath)! - order.get(b.runDir.fsPath)!);
      sweeps.push(new SweepItem(dir, info, mine));
    }
    const inSweep = new Set(sweeps.flatMap((s) => s.runs.map((r) => r.runDir.fsPath)));
    const items: RunsViewItem[] = [...sweeps, ...runs.filter((r) => !inSweep.has(r.runDir.fsPath))];
    const started = (i: RunsViewItem) => (i instanceof SweepItem ? i.info.createdAt : i.info.startedAt);
    return items.sort((a, b) => started(b).localeCompare(started(a)));
  }

  /** Every run folder of the workspace (a sweep's too), newest first. */
  async allRuns(): Promise<RunItem[]> {
    // A `.staging-*` folder is a run folder being created (runStore.ts): listed once renamed into place.
    const files = await vscode.workspace.findFiles('**/run.json', '{**/node_modules/**,**/.staging-*/**}', 2000);
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
