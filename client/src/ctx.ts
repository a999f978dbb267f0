/**
 * The one object that owns the extension's lifetime: the language client, the output channel and
 * every disposable. Commands reach the server only through it.
 */
import * as vscode from 'vscode';
import {
  LanguageClient,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import {
  COMMAND_IDS,
  SessionDidChangeNotification,
  SessionDidReportEventsNotification,
  SweepDidChangeNotification,
  type SessionEventsParams,
  type SessionSummary,
  type SweepSessionSummary,
} from '@protocol';
import { Config } from './config';
import { LANGUAGE_ID, SETTINGS_SECTION } from './contributions';
import { showProgressAsNotifications } from './progressNotifications';

export class Ctx implements vscode.Disposable {
  readonly config = new Config();
  readonly output = vscode.window.createOutputChannel('Sparsity Studio', { log: true });
  private languageClient: LanguageClient | undefined;
  /**
   * Data and model files the experiments point at: diagnostics follow them appearing or vanishing.
   * Made once: the language client hooks its listeners on every start but never disposes the
   * watcher itself, so one per restart would leak.
   */
  private readonly dataFiles = vscode.workspace.createFileSystemWatcher('**/*.{json,gz,csv,tsv,idx,ubyte,bin}');
  /** Session notifications fanned out: a notification method can have only one client handler. */
  readonly sessionChanges = new vscode.EventEmitter<SessionSummary>();
  readonly sessionEvents = new vscode.EventEmitter<SessionEventsParams>();
  readonly sweepChanges = new vscode.EventEmitter<SweepSessionSummary>();
  private readonly disposables: vscode.Disposable[] = [
    this.output,
    this.dataFiles,
    this.sessionChanges,
    this.sessionEvents,
    this.sweepChanges,
  ];

  constructor(readonly extension: vscode.ExtensionContext) {}

  get client(): LanguageClient {
    if (!this.languageClient) throw new Error('the Sparsity Studio language server is not running');
    return this.languageClient;
  }

  register(...disposables: vscode.Disposable[]): void {
    this.disposables.push(...disposables);
  }

  async start(): Promise<void> {
    const module = this.extension.asAbsolutePath('dist/server.js');
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ language: LANGUAGE_ID }],
      outputChannel: this.output,
      synchronize: { fileEvents: this.dataFiles },
      // The server refuses sessions (which run code and read files) in an untrusted workspace.
      initializationOptions: { trusted: vscode.workspace.isTrusted },
      // Hovers link to the schedule preview; no other command may run from the server's Markdown.
      markdown: { isTrusted: { enabledCommands: [COMMAND_IDS.previewSchedule] }, supportHtml: false },
    };
    // The client id makes vscode-languageclient honour `sparsityStudio.trace.server`.
    this.languageClient = new LanguageClient(SETTINGS_SECTION, 'Sparsity Studio', serverOptions, clientOptions);
    this.languageClient.onNotification(SessionDidChangeNotification, (s) => this.sessionChanges.fire(s));
    this.languageClient.onNotification(SessionDidReportEventsNotification, (e) => this.sessionEvents.fire(e));
    this.languageClient.onNotification(SweepDidChangeNotification, (s) => this.sweepChanges.fire(s));
    await this.languageClient.start();
    showProgressAsNotifications(this.languageClient);
  }

  async restart(): Promise<void> {
    const old = this.languageClient;
    this.languageClient = undefined;
    if (old) await old.dispose();
    await this.start();
  }

  async dispose(): Promise<void> {
    const client = this.languageClient;
    this.languageClient = undefined;
    if (client) await client.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
