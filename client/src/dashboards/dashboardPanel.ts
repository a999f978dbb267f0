/**
 * A dashboard webview panel: loads the panel's bundle under a nonce CSP, sends what it shows on
 * `ready` (a run, an experiment's schedule, or a comparison), keeps it live (session events, edits
 * of the experiment), relays snapshot requests, saves exports, and is revived after a window
 * reload. A relay only: the webview shapes every chart. What differs between the kinds is one row
 * of `PANEL_KINDS` each; a panel of kind `K` is a `DashboardPanel<K>`, so it can post only its own
 * kind's messages.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import {
  isFinalState,
  RunCompareRequest,
  RunReadRequest,
  runLabel,
  RunSnapshotRequest,
  SchedulePreviewRequest,
  SweepReadRequest,
  type DashboardKind,
  type HostMessageOf,
  type PanelMessageOf,
  type ThemeMessage,
} from '@protocol';
import type { Ctx } from '../ctx';
import { LiveEventRelay, parsePanelMessage } from './dashboardPanelMessages';

/** What each kind of panel shows; also what the host keeps to revive it after a reload. */
interface SubjectFields {
  run: { runDir: string };
  schedule: { uri: string };
  compare: { runDirs: string[] };
  sweep: { sweepDir: string };
}
export type SubjectOf<K extends DashboardKind> = { kind: K } & SubjectFields[K];
export type PanelSubject = { [K in DashboardKind]: SubjectOf<K> }[DashboardKind];

/** What a panel can do to itself, for its kind's row. */
interface PanelHandle<K extends DashboardKind> {
  post(message: HostMessageOf<K>): void;
  /**
   * Re-sends what the panel shows after `delayMs` (later calls move the time), or with
   * `atMostEvery` no later than that (a pending refresh stands).
   */
  refreshSoon(delayMs: number, atMostEvery?: boolean): void;
  /** Replaces the tab title (a run's label once its record is read). */
  retitle(title: string): void;
}

/** One kind of panel: its title, its subject's identity, what it shows and how it stays live. */
interface PanelKind<K extends DashboardKind> {
  title: string;
  key(subject: SubjectOf<K>): string;
  /** The tab title before the contents are read. */
  label(subject: SubjectOf<K>): string;
  /** Where the save dialog opens for the panel's exports. */
  exportFolder(subject: SubjectOf<K>): vscode.Uri;
  /** The subject read back from stored state, if it is still well-formed and its files exist. */
  restore(state: Record<string, unknown>): SubjectOf<K> | undefined;
  /** What the panel shows, read fresh from the server. */
  contents(ctx: Ctx, subject: SubjectOf<K>, panel: PanelHandle<K>): Promise<HostMessageOf<K>>;
  /** What keeps it up to date: session events, edits of the experiment. */
  live(ctx: Ctx, subject: SubjectOf<K>, panel: PanelHandle<K>): vscode.Disposable[];
  /** The messages this kind sends beyond `ready` and the exports. */
  handle?(ctx: Ctx, subject: SubjectOf<K>, message: PanelMessageOf<K>, panel: PanelHandle<K>): Promise<void>;
}

/** Re-sending a schedule, a comparison or a sweep waits this long after the last edit or event. */
const REFRESH_DELAY_MS = { schedule: 300, compare: 1000, sweep: 1000 };

const isRunDir = (value: unknown): value is string => typeof value === 'string' && existsSync(value);

const PANEL_KINDS: { [K in DashboardKind]: PanelKind<K> } = {
  run: {
    title: 'Run',
    key: (s) => s.runDir,
    label: (s) => basename(s.runDir),
    exportFolder: (s) => vscode.Uri.file(s.runDir),
    restore: (state) => (isRunDir(state['runDir']) ? { kind: 'run', runDir: state['runDir'] } : undefined),
    async contents(ctx, s, panel) {
      const run = await ctx.client.sendRequest(RunReadRequest, { runDir: s.runDir });
      panel.retitle(runLabel(run.info));
      return { type: 'run', info: run.info, events: run.events };
    },
    live(ctx, s, panel) {
      const relay = new LiveEventRelay((events) => panel.post({ type: 'events', events }));
      return [
        ctx.sessionEvents.event((e) => {
          if (e.runDir === s.runDir) relay.push(e.events);
        }),
        ctx.sessionChanges.event((summary) => {
          if (summary.runDir !== s.runDir) return;
          // The events first, so the strip's numbers never run ahead of the charts.
          relay.flush();
          panel.post({ type: 'session', summary });
          // When the session ends, the run folder has its final record (status, final metrics); the
          // last events went first, so none arrives after the run that already holds them.
          if (isFinalState(summary.state)) panel.refreshSoon(0);
        }),
        relay,
      ];
    },
    async handle(ctx, s, message, panel) {
      if (message.type !== 'requestSnapshot') return;
      const snapshot = await ctx.client.sendRequest(RunSnapshotRequest, { runDir: s.runDir, step: message.step });
      panel.post({
        type: 'snapshot',
        step: snapshot.step,
        score: snapshot.score,
        layers: snapshot.layers,
        runRanges: snapshot.runRanges,
      });
    },
  },
  schedule: {
    title: 'Schedule',
    key: (s) => s.uri,
    label: (s) => basename(vscode.Uri.parse(s.uri).path),
    exportFolder: (s) => vscode.Uri.joinPath(vscode.Uri.parse(s.uri), '..'),
    restore(state) {
      const uri = state['uri'];
      if (typeof uri !== 'string') return undefined;
      const parsed = vscode.Uri.parse(uri);
      return parsed.scheme !== 'file' || existsSync(parsed.fsPath) ? { kind: 'schedule', uri } : undefined;
    },
    async contents(ctx, s) {
      try {
        return { type: 'schedule', preview: await ctx.client.sendRequest(SchedulePreviewRequest, { uri: s.uri }) };
      } catch (error) {
        return { type: 'schedule', error: (error as Error).message };
      }
    },
    live: (_ctx, s, panel) => [
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.toString() === s.uri) panel.refreshSoon(REFRESH_DELAY_MS.schedule);
      }),
    ],
  },
  compare: {
    title: 'Compare',
    key: (s) => s.runDirs.join('|'),
    label: (s) => `${s.runDirs.length} runs`,
    exportFolder: (s) => vscode.Uri.file(dirname(s.runDirs[0] ?? '.')),
    restore(state) {
      const dirs = state['runDirs'];
      return Array.isArray(dirs) && dirs.length >= 2 && dirs.every(isRunDir)
        ? { kind: 'compare', runDirs: dirs }
        : undefined;
    },
    async contents(ctx, s) {
      const [table, ...read] = await Promise.all([
        ctx.client.sendRequest(RunCompareRequest, { runDirs: s.runDirs }),
        ...s.runDirs.map((runDir) => ctx.client.sendRequest(RunReadRequest, { runDir })),
      ]);
      return {
        type: 'compare',
        table,
        runs: read.map((r, i) => ({ runDir: s.runDirs[i]!, info: r.info, events: r.events })),
      };
    },
    live: (ctx, s, panel) => [
      ctx.sessionEvents.event((e) => {
        if (s.runDirs.includes(e.runDir)) panel.refreshSoon(REFRESH_DELAY_MS.compare);
      }),
    ],
  },
  sweep: {
    title: 'Sweep',
    key: (s) => s.sweepDir,
    label: (s) => basename(s.sweepDir),
    exportFolder: (s) => vscode.Uri.file(s.sweepDir),
    restore: (state) =>
      typeof state['sweepDir'] === 'string' && existsSync(state['sweepDir'])
        ? { kind: 'sweep', sweepDir: state['sweepDir'] }
        : undefined,
    async contents(ctx, s) {
      return { type: 'sweep', summary: await ctx.client.sendRequest(SweepReadRequest, { sweepDir: s.sweepDir }) };
    },
    live(ctx, s, panel) {
      // The editor's sweeps report; the CLI's and SLURM's only write their folders.
      const files = vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(vscode.Uri.file(s.sweepDir), '**/{run,sweep}.json'),
      );
      const refresh = () => panel.refreshSoon(REFRESH_DELAY_MS.sweep, true);
      return [
        files,
        files.onDidChange(refresh),
        files.onDidCreate(refresh),
        ctx.sweepChanges.event((summary) => {
          if (summary.sweepDir !== s.sweepDir) return;
          if (summary.state === 'running') panel.refreshSoon(REFRESH_DELAY_MS.sweep, true);
          else panel.refreshSoon(0); // its final state at once
        }),
      ];
    },
  },
};

/** Every kind of panel, from the table (so no kind lacks a row and no row lacks a kind). */
export const DASHBOARD_KINDS = Object.keys(PANEL_KINDS) as DashboardKind[];

export const viewTypeOf = (kind: DashboardKind) => `sparsityStudio.dashboard.${kind}`;

/**
 * View types of panels this extension no longer has: the sparsity and block-importance panels,
 * now both in the run panel. One restored after an update reopens as the run panel.
 */
export const LEGACY_VIEW_TYPES = ['sparsityStudio.dashboard.sparsity', 'sparsityStudio.dashboard.importance'];

const keyOf = <K extends DashboardKind>(s: SubjectOf<K>) => `${s.kind}:${kindOf(s).key(s)}`;

/** The row of a subject's kind, typed for that kind. */
function kindOf<K extends DashboardKind>(s: SubjectOf<K>): PanelKind<K> {
  return PANEL_KINDS[s.kind] as PanelKind<K>;
}

const titleOf = <K extends DashboardKind>(s: SubjectOf<K>, label: string) => `${kindOf(s).title} · ${label}`;

export class DashboardPanel<K extends DashboardKind> implements vscode.Disposable {
  private static readonly open = new Map<string, DashboardPanel<DashboardKind>>();
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private readonly queue: HostMessageOf<K>[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly row: PanelKind<K>;
  private readonly handle: PanelHandle<K>;

  /** Shows the panel for a subject, creating it when needed. */
  static show<K extends DashboardKind>(
    ctx: Ctx,
    subject: SubjectOf<K>,
    column = vscode.ViewColumn.Active,
  ): DashboardPanel<K> {
    const existing = DashboardPanel.open.get(keyOf(subject)) as DashboardPanel<K> | undefined;
    if (existing) {
      existing.panel.reveal(column);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(viewTypeOf(subject.kind), '', column, DashboardPanel.options(ctx));
    return new DashboardPanel(ctx, subject, panel);
  }

  /** Re-attaches a panel VS Code restored after a reload. */
  static revive<K extends DashboardKind>(ctx: Ctx, kind: K, panel: vscode.WebviewPanel, state: unknown): void {
    // The webview's own state, else what the host recorded under the panel's title.
    const subject =
      restoredSubject(kind, state) ??
      restoredSubject(kind, ctx.extension.workspaceState.get(`${viewTypeOf(kind)}:${panel.title}`));
    if (!subject) {
      panel.dispose();
      return;
    }
    panel.webview.options = DashboardPanel.options(ctx);
    new DashboardPanel(ctx, subject, panel);
  }

  /** A panel of a kind this version no longer has: reopened as the run panel of its run folder. */
  static reviveLegacy(ctx: Ctx, viewType: string, panel: vscode.WebviewPanel, state: unknown): void {
    const subject =
      restoredSubject('run', state) ??
      restoredSubject('run', ctx.extension.workspaceState.get(`${viewType}:${panel.title}`));
    const column = panel.viewColumn ?? vscode.ViewColumn.Active;
    panel.dispose();
    if (subject) DashboardPanel.show(ctx, subject, column);
  }

  private static options(ctx: Ctx): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(ctx.extension.extensionUri, 'dist', 'webview')],
    };
  }

  private constructor(
    private readonly ctx: Ctx,
    readonly subject: SubjectOf<K>,
    readonly panel: vscode.WebviewPanel,
  ) {
    this.row = kindOf(subject);
    this.handle = {
      post: (message) => this.post(message),
      refreshSoon: (delayMs, atMostEvery) => this.refreshSoon(delayMs, atMostEvery),
      retitle: (label) => {
        this.panel.title = titleOf(this.subject, label);
        this.remember();
      },
    };
    DashboardPanel.open.set(keyOf(subject), this as unknown as DashboardPanel<DashboardKind>);
    panel.title = titleOf(subject, this.row.label(subject));
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      // Every kind's union holds `theme` (DashboardMessages), which a generic K cannot show the compiler.
      vscode.window.onDidChangeActiveColorTheme((theme) => this.post(themeMessage(theme) as HostMessageOf<K>)),
      ...this.row.live(ctx, subject, this.handle),
    );
    this.remember();
  }

  get kind(): K {
    return this.subject.kind;
  }

  /** Records the subject under the panel's title, for a revival that finds no webview state. */
  private remember(): void {
    void this.ctx.extension.workspaceState.update(`${viewTypeOf(this.kind)}:${this.panel.title}`, this.subject);
  }

  /**
   * Re-sends what the panel shows after `delayMs`; each call restarts the wait (an edit burst ends
   * first), unless `atMostEvery`: then a pending refresh stands, so a live sweep's stream of
   * changes still redraws once a second rather than never.
   */
  private refreshSoon(delayMs: number, atMostEvery = false): void {
    if (atMostEvery && this.refreshTimer !== undefined) return;
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      // A run folder deleted meanwhile (a compared run) cannot be read: say so, keep what is shown.
      this.contents().then(
        (message) => this.post(message),
        (error: unknown) =>
          this.ctx.output.warn(`dashboard: cannot refresh ${this.panel.title}: ${(error as Error).message}`),
      );
    }, delayMs);
  }

  private contents(): Promise<HostMessageOf<K>> {
    return this.row.contents(this.ctx, this.subject, this.handle);
  }

  private html(): string {
    const webview = this.panel.webview;
    const nonce = randomBytes(16).toString('base64');
    const base = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'dist', 'webview');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(base, `${this.kind}.js`));
    const cssPath = vscode.Uri.joinPath(base, `${this.kind}.css`);
    const css = existsSync(cssPath.fsPath)
      ? `<link rel="stylesheet" href="${webview.asWebviewUri(cssPath).toString()}">`
      : '';
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src ${webview.cspSource}`,
      `img-src ${webview.cspSource} data:`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${css}
<title>${this.row.title}</title>
</head>
<body>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  private post(message: HostMessageOf<K>): void {
    if (!this.ready) {
      this.queue.push(message);
      return;
    }
    void this.panel.webview.postMessage(message);
  }

  /** Every message from the webview is untrusted input: checked against its panel's union before it is acted on. */
  private async receive(raw: unknown): Promise<void> {
    const message = parsePanelMessage(this.kind, raw);
    if (!message) {
      this.ctx.output.warn(`dashboard: ignored a malformed message ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    try {
      switch (message.type) {
        case 'ready':
          await this.onReady();
          return;
        case 'exportCsv':
        case 'exportPng':
          await this.save(message);
          return;
        default:
          await this.row.handle?.(this.ctx, this.subject, message, this.handle);
      }
    } catch (error) {
      this.ctx.output.warn(`dashboard: ${(error as Error).message}`);
    }
  }

  private async onReady(): Promise<void> {
    this.ready = true;
    try {
      void this.panel.webview.postMessage(await this.contents());
      void this.panel.webview.postMessage(themeMessage(vscode.window.activeColorTheme));
      for (const queued of this.queue.splice(0)) void this.panel.webview.postMessage(queued);
    } catch (error) {
      void vscode.window.showErrorMessage(
        `Sparsity Studio: cannot show ${this.panel.title}: ${(error as Error).message}`,
      );
    }
  }

  private async save(message: Extract<PanelMessageOf<DashboardKind>, { type: 'exportCsv' | 'exportPng' }>) {
    const csv = message.type === 'exportCsv';
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(this.row.exportFolder(this.subject), message.name),
      filters: csv ? { CSV: ['csv'] } : { PNG: ['png'] },
    });
    if (!target) return;
    const bytes = csv
      ? new TextEncoder().encode(message.csv)
      : Buffer.from(message.dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64');
    await vscode.workspace.fs.writeFile(target, bytes);
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    DashboardPanel.open.delete(keyOf(this.subject));
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** A subject of `kind` from stored state, if it is still well-formed and its files exist. */
function restoredSubject<K extends DashboardKind>(kind: K, state: unknown): SubjectOf<K> | undefined {
  if (typeof state !== 'object' || state === null) return undefined;
  return (PANEL_KINDS[kind] as PanelKind<K>).restore(state as Record<string, unknown>);
}

function themeMessage(theme: vscode.ColorTheme): ThemeMessage {
  switch (theme.kind) {
    case vscode.ColorThemeKind.Light:
      return { type: 'theme', kind: 'light' };
    case vscode.ColorThemeKind.Dark:
      return { type: 'theme', kind: 'dark' };
    default:
      return { type: 'theme', kind: 'high-contrast' };
  }
}
