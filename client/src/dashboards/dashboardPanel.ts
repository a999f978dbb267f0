/**
 * A dashboard webview panel for one run folder: loads the panel's bundle under a nonce CSP, sends
 * the run on `ready`, relays live session events and snapshot requests, saves exports, and is
 * revived after a window reload. A relay only: the webview shapes every chart.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { RunReadRequest, RunSnapshotRequest, type DashboardKind, type HostToWebview } from '@protocol';
import type { Ctx } from '../ctx';
import { parseWebviewMessage } from './dashboardPanelMessages';

const TITLES: Record<DashboardKind, string> = { sparsity: 'Sparsity', importance: 'Block importance' };
export const viewTypeOf = (kind: DashboardKind) => `sparsityStudio.dashboard.${kind}`;

/** What the host keeps to revive a panel after a reload. */
interface PanelState {
  runDir: string;
}

export class DashboardPanel implements vscode.Disposable {
  private static readonly open = new Map<string, DashboardPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private readonly queue: HostToWebview[] = [];

  /** Shows the panel of `kind` for a run folder, creating it when needed. */
  static show(ctx: Ctx, kind: DashboardKind, runDir: string, column = vscode.ViewColumn.Active): DashboardPanel {
    const key = `${kind}:${runDir}`;
    const existing = DashboardPanel.open.get(key);
    if (existing) {
      existing.panel.reveal(column);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(viewTypeOf(kind), '', column, DashboardPanel.options(ctx));
    return new DashboardPanel(ctx, kind, runDir, panel);
  }

  /** Re-attaches a panel VS Code restored after a reload. */
  static revive(ctx: Ctx, kind: DashboardKind, panel: vscode.WebviewPanel, state: unknown): void {
    // The webview's own state, else what the host recorded under the panel's title.
    const runDir =
      (state as Partial<PanelState> | undefined)?.runDir ??
      ctx.extension.workspaceState.get<PanelState>(`${viewTypeOf(kind)}:${panel.title}`)?.runDir;
    if (typeof runDir !== 'string' || !existsSync(runDir)) {
      panel.dispose();
      return;
    }
    panel.webview.options = DashboardPanel.options(ctx);
    new DashboardPanel(ctx, kind, runDir, panel);
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
    readonly kind: DashboardKind,
    readonly runDir: string,
    readonly panel: vscode.WebviewPanel,
  ) {
    DashboardPanel.open.set(`${kind}:${runDir}`, this);
    panel.title = `${TITLES[kind]} · ${basename(runDir)}`;
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      ctx.sessionEvents.event((e) => {
        if (e.runDir === runDir) this.post({ type: 'events', events: e.events });
      }),
      vscode.window.onDidChangeActiveColorTheme((theme) => this.post({ type: 'theme', kind: themeKind(theme) })),
    );
    void ctx.extension.workspaceState.update(`${viewTypeOf(kind)}:${panel.title}`, { runDir } satisfies PanelState);
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
<body data-run-dir="${encodeURIComponent(this.runDir)}">
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

  /** Every message from the webview is untrusted input: checked before it is acted on. */
  private async receive(raw: unknown): Promise<void> {
    const message = parseWebviewMessage(raw);
    if (!message) {
      this.ctx.output.warn(`dashboard: ignored a malformed message ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    switch (message.type) {
      case 'ready': {
        this.ready = true;
        try {
          const run = await this.ctx.client.sendRequest(RunReadRequest, { runDir: this.runDir });
          void this.panel.webview.postMessage({
            type: 'run',
            info: run.info,
            events: run.events,
          } satisfies HostToWebview);
          void this.panel.webview.postMessage({
            type: 'theme',
            kind: themeKind(vscode.window.activeColorTheme),
          } satisfies HostToWebview);
          for (const queued of this.queue.splice(0)) void this.panel.webview.postMessage(queued);
        } catch (error) {
          void vscode.window.showErrorMessage(
            `Sparsity Studio: cannot read ${this.runDir}: ${(error as Error).message}`,
          );
        }
        return;
      }
      case 'requestSnapshot': {
        try {
          const snapshot = await this.ctx.client.sendRequest(RunSnapshotRequest, {
            runDir: this.runDir,
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
          defaultUri: vscode.Uri.joinPath(vscode.Uri.file(this.runDir), `${message.name}.${csv ? 'csv' : 'png'}`),
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
    DashboardPanel.open.delete(`${this.kind}:${this.runDir}`);
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
