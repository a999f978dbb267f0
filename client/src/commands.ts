/** Command implementations, one per id of the COMMANDS table. */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import {
  COMMAND_IDS,
  EXPERIMENT_TEMPLATE_KINDS,
  ExperimentTemplateRequest,
  runLabel,
  type CommandId,
  type ExperimentTemplateKind,
} from '@protocol';
import { DashboardPanel } from './dashboards/dashboardPanel';
import { RunItem, SweepItem, type RunsView, type RunsViewItem } from './runsView';
import {
  deleteRun,
  exportRun,
  resumeRun,
  runDirOf,
  runExperiment,
  showBackendInfo,
  stopSession,
  type SessionTracker,
} from './sessions';
import { openSweep, runSweep, stopSweep, type SweepTracker } from './sweeps';
import { COMMANDS, LANGUAGE_ID, TEMPLATE_DESCRIPTIONS } from './contributions';
import type { Ctx } from './ctx';

/** Arguments that let tests and other extensions skip the prompts of New Experiment. */
export interface NewExperimentArgs {
  name?: string;
  template?: ExperimentTemplateKind;
  folder?: string;
}

const TEMPLATE_PICKS = EXPERIMENT_TEMPLATE_KINDS.map((label) => ({ label, description: TEMPLATE_DESCRIPTIONS[label] }));

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

async function newExperiment(ctx: Ctx, args: NewExperimentArgs = {}): Promise<vscode.Uri | undefined> {
  const name =
    args.name ??
    (await vscode.window.showInputBox({
      title: 'New pruning experiment',
      prompt: 'Experiment name (also the file name)',
      value: 'my-experiment',
      validateInput: (v) =>
        NAME_PATTERN.test(v) ? undefined : 'Letters, digits, ".", "_" and "-", at most 64 characters',
    }));
  if (!name) return undefined;
  const template =
    args.template ??
    (
      await vscode.window.showQuickPick(
        TEMPLATE_PICKS.map((p) => ({ ...p, picked: p.label === ctx.config.get('newExperiment.template') })),
        { title: 'Start from', placeHolder: ctx.config.get('newExperiment.template') },
      )
    )?.label;
  if (!template) return undefined;
  const folder = args.folder
    ? vscode.Uri.file(args.folder)
    : vscode.window.activeTextEditor?.document.uri.scheme === 'file'
      ? vscode.Uri.joinPath(vscode.window.activeTextEditor.document.uri, '..')
      : vscode.workspace.workspaceFolders?.[0]?.uri;
  if (!folder) {
    void vscode.window.showErrorMessage('Open a folder first: the experiment file is written into it.');
    return undefined;
  }
  let text: string;
  try {
    ({ text } = await ctx.client.sendRequest(ExperimentTemplateRequest, { name, template }));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`Sparsity Studio: no experiment written: ${reason}`);
    return undefined;
  }
  let uri = vscode.Uri.joinPath(folder, `${name}.prune.yaml`);
  for (let n = 2; await exists(uri); n++) uri = vscode.Uri.joinPath(folder, `${name}-${n}.prune.yaml`);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  await vscode.window.showTextDocument(uri);
  return uri;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/** What the session and dashboard commands need besides the Ctx. */
export interface Views {
  sessions: SessionTracker;
  sweeps: SweepTracker;
  runs: RunsView;
  /** The Runs view's current selection, for commands run from its title bar. */
  selectedRuns(): RunsViewItem[];
}

async function openDashboard(ctx: Ctx, views: Views, arg?: unknown): Promise<void> {
  const runDir = runDirOf(arg, views.sessions) ?? (await pickRun(views, 'Open the dashboard of which run?'));
  if (!runDir) return;
  DashboardPanel.show(ctx, { kind: 'run', runDir }, vscode.ViewColumn.Beside);
}

type RunPick = vscode.QuickPickItem & { runDir: string };

/** Every run of the Runs view (a sweep's too) as quick-pick items: the short label, what the row says, the folder name. */
async function runPicks(views: Views): Promise<RunPick[]> {
  const items = await views.runs.allRuns();
  return items.map((i) => ({
    label: runLabel(i.info),
    description: String(i.description ?? ''),
    detail: i.info.id,
    runDir: i.runDir.fsPath,
  }));
}

async function pickRun(views: Views, title: string): Promise<string | undefined> {
  return (await vscode.window.showQuickPick(runPicks(views), { title, matchOnDetail: true }))?.runDir;
}

/**
 * Asks which runs to compare, with `ticked` ticked already; asks again (saying why) while fewer than
 * two are ticked, until the user picks two or more or dismisses it.
 */
async function pickRunsToCompare(views: Views, ticked: string[], title: string): Promise<string[] | undefined> {
  const picks = await runPicks(views);
  let chosen = ticked;
  let prompt = title;
  for (;;) {
    const selection = await vscode.window.showQuickPick(
      picks.map((p) => ({ ...p, picked: chosen.includes(p.runDir) })),
      { title: prompt, canPickMany: true, matchOnDetail: true, placeHolder: 'Tick two or more runs, then press Enter' },
    );
    if (!selection) return undefined;
    chosen = selection.map((p) => p.runDir);
    if (chosen.length >= 2) return chosen;
    if (picks.length < 2) {
      void vscode.window.showInformationMessage(
        'Sparsity Studio: there is only one run to compare; run another first.',
      );
      return undefined;
    }
    prompt = `${title} — ${chosen.length === 0 ? 'nothing' : 'one run'} ticked: tick at least ${2 - chosen.length} more`;
  }
}

/**
 * Opens the compare panel on two or more runs: the Runs view's selection, run folders given by a
 * caller (tests, other extensions), or the runs the user ticks in a list (the current ones ticked).
 */
async function compareRuns(ctx: Ctx, views: Views, item?: unknown, selected?: unknown): Promise<string[] | undefined> {
  let runDirs = runDirsOf(selected) ?? runDirsOf(item) ?? runDirsOf(views.selectedRuns());
  if (!runDirs || runDirs.length < 2) {
    const single = runDirOf(item, views.sessions, false);
    const ticked = [...new Set([...(single ? [single] : []), ...(runDirsIn(views.selectedRuns()) ?? [])])];
    runDirs = await pickRunsToCompare(views, ticked, 'Compare which runs?');
  }
  if (!runDirs) return undefined;
  DashboardPanel.show(ctx, { kind: 'compare', runDirs }, vscode.ViewColumn.Active);
  return runDirs;
}

/** Compares one run (a Runs view row, a run folder, or the last session's) with others the user ticks. */
async function compareWith(ctx: Ctx, views: Views, arg?: unknown): Promise<string[] | undefined> {
  const runDir = runDirOf(arg, views.sessions);
  if (!runDir) return compareRuns(ctx, views);
  const item = (await views.runs.allRuns()).find((i) => i.runDir.fsPath === runDir);
  const runDirs = await pickRunsToCompare(
    views,
    [runDir],
    `Compare ${item ? runLabel(item.info) : basename(runDir)} with which runs?`,
  );
  if (!runDirs) return undefined;
  DashboardPanel.show(ctx, { kind: 'compare', runDirs }, vscode.ViewColumn.Active);
  return runDirs;
}

/** The run folders of Runs-view items (a sweep stands for its runs), URIs or paths; undefined if one is none of those. */
function runDirsIn(values: readonly unknown[]): string[] | undefined {
  const dirs = values.flatMap((v: unknown) =>
    typeof v === 'string'
      ? [v]
      : v instanceof vscode.Uri
        ? [v.fsPath]
        : v instanceof RunItem
          ? [v.runDir.fsPath]
          : v instanceof SweepItem
            ? v.runs.map((r) => r.runDir.fsPath)
            : [undefined],
  );
  return dirs.every((d): d is string => d !== undefined) ? dirs : undefined;
}

/** Two or more run folders from a list (see `runDirsIn`), else undefined. */
function runDirsOf(value: unknown): string[] | undefined {
  const dirs = Array.isArray(value) ? runDirsIn(value) : undefined;
  return dirs && dirs.length >= 2 ? dirs : undefined;
}

/** Opens the schedule panel beside the experiment; it follows the file as it is edited. */
function previewSchedule(ctx: Ctx, arg?: unknown): string | undefined {
  const active = vscode.window.activeTextEditor?.document;
  const uri =
    typeof arg === 'string'
      ? arg
      : arg instanceof vscode.Uri
        ? arg.toString()
        : active?.languageId === LANGUAGE_ID
          ? active.uri.toString()
          : undefined;
  if (!uri) {
    void vscode.window.showErrorMessage('Sparsity Studio: open a *.prune.yaml experiment to preview its schedule.');
    return undefined;
  }
  DashboardPanel.show(ctx, { kind: 'schedule', uri }, vscode.ViewColumn.Beside);
  return uri;
}

function handlers(views: Views): Record<CommandId, (ctx: Ctx, ...args: never[]) => unknown> {
  return {
    [COMMAND_IDS.newExperiment]: newExperiment,
    [COMMAND_IDS.runExperiment]: runExperiment,
    [COMMAND_IDS.stopSession]: (ctx, sessionId?: string) => stopSession(ctx, views.sessions, sessionId),
    [COMMAND_IDS.resumeRun]: (ctx, arg?: unknown) => resumeRun(ctx, views.sessions, arg),
    [COMMAND_IDS.openDashboard]: (ctx, arg?: unknown) => openDashboard(ctx, views, arg),
    [COMMAND_IDS.previewSchedule]: previewSchedule,
    [COMMAND_IDS.compareRuns]: (ctx, item?: unknown, selected?: unknown) => compareRuns(ctx, views, item, selected),
    [COMMAND_IDS.compareWith]: (ctx, arg?: unknown) => compareWith(ctx, views, arg),
    [COMMAND_IDS.exportRun]: (ctx, arg?: unknown) => exportRun(ctx, views.sessions, arg),
    [COMMAND_IDS.deleteRun]: async (_ctx, arg?: unknown, confirm?: boolean) => {
      const deleted = await deleteRun(views.sessions, arg, confirm !== false);
      if (deleted) views.runs.refresh();
      return deleted;
    },
    [COMMAND_IDS.refreshRuns]: () => views.runs.refresh(),
    [COMMAND_IDS.showBackendInfo]: showBackendInfo,
    [COMMAND_IDS.restartServer]: (ctx) => ctx.restart(),
    [COMMAND_IDS.showServerOutput]: (ctx) => ctx.output.show(true),
    [COMMAND_IDS.runSweep]: runSweep,
    [COMMAND_IDS.stopSweep]: (ctx, sweepId?: unknown) => stopSweep(ctx, views.sweeps, sweepId),
    [COMMAND_IDS.openSweep]: openSweep,
  };
}

export function registerCommands(ctx: Ctx, views: Views): void {
  const table = handlers(views);
  for (const id of Object.keys(COMMANDS) as CommandId[]) {
    const handler = table[id] as (ctx: Ctx, ...args: unknown[]) => unknown;
    ctx.register(vscode.commands.registerCommand(id, (...args: unknown[]) => handler(ctx, ...args)));
  }
}
