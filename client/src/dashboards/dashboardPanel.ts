/**
 * A dashboard webview panel: loads the panel's bundle under a nonce CSP, sends what it shows on
 * `ready` (a run, an experiment's schedule, or a comparison), keeps it live (session events, edits
 * of the experiment), relays snapshot requests, saves exports, and is revived after a window
 * reload. A relay only: the webview shapes every chart.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import {
  isFinalState,
  RunCompareRequest,
  RunReadRequest,
  RunSnapshotRequest,
  SchedulePreviewRequest,
  type DashboardKind,
  type HostToWebview,
} from '@protocol';
import type { Ctx } from '../ctx';
import { LiveEventRelay, parsePanelMessage } from './dashboardPanelMessages';

export const DASHBOARD_KINDS: readonly DashboardKind[] = ['sparsity', 'importance', 'schedule', 'compare'];
const TITLES: Record<DashboardKind, string> = {
  sparsity: 'Sparsity',
  importance: 'Block importance',
  schedule: 'Schedule',
  compare: 'Compare',
};
export const viewTypeOf = (kind: DashboardKind) => `sparsityStudio.dashboard.${kind}`;

/** What a panel shows; also what the host keeps to revive it after a reload. */
export type PanelSubject =
  | { kind: 'sparsity' | 'importance'; runDir: string }
  | { kind: 'schedule'; uri: string }
  | { kind: 'compare'; runDirs: string[] };

/** Re-sending a schedule or a comparison waits this long after the last edit or event. */
const REFRESH_DELAY_MS = { schedule: 300, compare: 1000 };

function keyOf(s: PanelSubject): string {
  return `${s.kind}:${'runDir' in s ? s.runDir : 'uri' in s ? s.uri : s.runDirs.join('|')}`;
}

function titleOf(s: PanelSubject): string {
  if ('runDir' in s) return `${TITLES[s.kind]} · ${basename(s.runDir)}`;
  if ('uri' in s) return `${TITLES[s.kind]} · ${basename(vscode.Uri.parse(s.uri).path)}`;
  return `${TITLES[s.kind]} · ${s.runDirs.length} runs`;
}

/** Where the save dialog opens for this panel's exports. */
function exportFolder(s: PanelSubject): vscode.Uri {
  if ('runDir' in s) return vscode.Uri.file(s.runDir);
  if ('uri' in s) return vscode.Uri.joinPath(vscode.Uri.parse(s.uri), '..');
  return vscode.Uri.file(dirname(s.runDirs[0] ?? '.'));
}

/** A subject read back from stored state, if it is still well-formed and its files exist. */
function restoredSubject(kind: DashboardKind, state: unknown): PanelSubject | undefined {
  if (typeof state !== 'object' || state === null) return undefined;
  const s = state as Record<string, unknown>;
  if ((kind === 'sparsity' || kind === 'importance') && typeof s['runDir'] === 'string' && existsSync(s['runDir']))
    return { kind, runDir: s['runDir'] };
  if (kind === 'schedule' && typeof s['uri'] === 'string') {
    const uri = vscode.Uri.parse(s['uri']);
    return uri.scheme !== 'file' || existsSync(uri.fsPath) ? { kind, uri: s['uri'] } : undefined;
  }
  const dirs = s['runDirs'];
  if (
    kind === 'compare' &&
    Array.isArray(dirs) &&
    dirs.length >= 2 &&
    dirs.every((d) => typeof d === 'string' && existsSync(d))
  )
    return { kind, runDirs: dirs as string[] };
  return undefined;
}

export class DashboardPanel implements vscode.Disposable {
  private static readonly open = new Map<string, DashboardPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private readonly queue: HostToWebview[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;

  /** Shows the panel for a subject, creating it when needed. */
  static show(ctx: Ctx, subject: PanelSubject, column = vscode.ViewColumn.Active): DashboardPanel {
    const existing = DashboardPanel.open.get(keyOf(subject));
    if (existing) {
      existing.panel.reveal(column);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(viewTypeOf(subject.kind), '', column, DashboardPanel.options(ctx));
    return new DashboardPanel(ctx, subject, panel);
  }

  /** Re-attaches a panel VS Code restored after a reload. */
  static revive(ctx: Ctx, kind: DashboardKind, panel: vscode.WebviewPanel, state: unknown): void {
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

  private static options(ctx: Ctx): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(ctx.extension.extensionUri, 'dist', 'webview')],
    };
  }

  private constructor(
    private readonly ctx: Ctx,
    readonly subject: PanelSubject,
    readonly panel: vscode.WebviewPanel,
  ) {
    DashboardPanel.open.set(keyOf(subject), this);
    panel.title = titleOf(subject);
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      vscode.window.onDidChangeActiveColorTheme((theme) => this.post({ type: 'theme', kind: themeKind(theme) })),
      ...this.liveUpdates(subject),
    );
    void ctx.extension.workspaceState.update(`${viewTypeOf(subject.kind)}:${panel.title}`, subject);
  }

  get kind(): DashboardKind {
    return this.subject.kind;
  }

  /**
   * A run panel follows its session's events and re-reads the run when it ends; a schedule follows
   * edits; a comparison re-reads.
   */
  private liveUpdates(s: PanelSubject): vscode.Disposable[] {
    switch (s.kind) {
      case 'sparsity':
      case 'importance': {
        const relay = new LiveEventRelay(s.kind, (events) => this.post({ type: 'events', events }));
        return [
          this.ctx.sessionEvents.event((e) => {
            if (e.runDir === s.runDir) relay.push(e.events);
          }),
          // When the session ends, the run folder has its final record (status, final metrics); the
          // last events go first, so none arrives after the run that already holds it.
          this.ctx.sessionChanges.event((summary) => {
            if (summary.runDir !== s.runDir || !isFinalState(summary.state)) return;
            relay.flush();
            this.refreshSoon(0);
          }),
          relay,
        ];
      }
      case 'schedule':
        return [
          vscode.workspace.onDidChangeTextDocument((e) => {
            if (e.document.uri.toString() === s.uri) this.refreshSoon(REFRESH_DELAY_MS.schedule);
          }),
        ];
      case 'compare':
        return [
          this.ctx.sessionEvents.event((e) => {
            if (s.runDirs.includes(e.runDir)) this.refreshSoon(REFRESH_DELAY_MS.compare);
          }),
        ];
    }
  }

  private refreshSoon(delayMs: number): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      void this.contents().then((message) => this.post(message));
    }, delayMs);
  }

  /** What the panel shows, read fresh from the server. */
  private async contents(): Promise<HostToWebview> {
    const s = this.subject;
    const client = this.ctx.client;
    switch (s.kind) {
      case 'sparsity':
      case 'importance': {
        const run = await client.sendRequest(RunReadRequest, { runDir: s.runDir });
        return { type: 'run', info: run.info, events: run.events };
      }
      case 'schedule':
        try {
          return { type: 'schedule', preview: await client.sendRequest(SchedulePreviewRequest, { uri: s.uri }) };
        } catch (error) {
          return { type: 'schedule', error: (error as Error).message };
        }
      case 'compare': {
        const [table, ...read] = await Promise.all([
          client.sendRequest(RunCompareRequest, { runDirs: s.runDirs }),
          ...s.runDirs.map((runDir) => client.sendRequest(RunReadRequest, { runDir })),
        ]);
        return {
          type: 'compare',
          table,
          runs: read.map((r, i) => ({ runDir: s.runDirs[i]!, info: r.info, events: r.events })),
        };
      }
    }
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
<title>${TITLES[this.kind]}</title>
</head>
<body>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  private post(message: HostToWebview): void {
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
    switch (message.type) {
      case 'ready': {
        this.ready = true;
        try {
          void this.panel.webview.postMessage(await this.contents());
          void this.panel.webview.postMessage({
            type: 'theme',
            kind: themeKind(vscode.window.activeColorTheme),
          } satisfies HostToWebview);
          for (const queued of this.queue.splice(0)) void this.panel.webview.postMessage(queued);
        } catch (error) {
          void vscode.window.showErrorMessage(
            `Sparsity Studio: cannot show ${this.panel.title}: ${(error as Error).message}`,
          );
        }
        return;
      }
      case 'requestSnapshot': {
        if (!('runDir' in this.subject)) return;
        try {
          const snapshot = await this.ctx.client.sendRequest(RunSnapshotRequest, {
            runDir: this.subject.runDir,
            step: message.step,
          });
          this.post({ type: 'snapshot', step: snapshot.step, score: snapshot.score, layers: snapshot.layers });
        } catch (error) {
          this.ctx.output.warn(`dashboard: ${(error as Error).message}`);
        }
        return;
      }
      case 'exportCsv':
      case 'exportPng': {
        const csv = message.type === 'exportCsv';
        const target = await vscode.window.showSaveDialog({
          defaultUri: vscode.Uri.joinPath(exportFolder(this.subject), message.name),
          filters: csv ? { CSV: ['csv'] } : { PNG: ['png'] },
        });
        if (!target) return;
        const bytes = csv
          ? new TextEncoder().encode(message.csv)
          : Buffer.from(message.dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64');
        await vscode.workspace.fs.writeFile(target, bytes);
        return;
      }
    }
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    DashboardPanel.open.delete(keyOf(this.subject));
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function themeKind(theme: vscode.ColorTheme): 'light' | 'dark' | 'high-contrast' {
  switch (theme.kind) {
    case vscode.ColorThemeKind.Light:
      return 'light';
    case vscode.ColorThemeKind.Dark:
      return 'dark';
    default:
      return 'high-contrast';
  }
}
