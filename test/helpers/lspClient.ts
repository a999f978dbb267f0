/**
 * A real JSON-RPC client connection to the built language server (`dist/server.js --stdio`):
 * initialize, open/change documents, wait for published diagnostics, send requests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { ROOT } from './experimentFixtures';

export class LspTestClient {
  readonly connection: MessageConnection;
  private readonly process: ChildProcess;
  private readonly versions = new Map<string, number>();
  private readonly waiters: {
    uri: string;
    version: number;
    accept: (d: Diagnostic[]) => boolean;
    resolve: (d: Diagnostic[]) => void;
  }[] = [];
  readonly published: PublishDiagnosticsParams[] = [];
  stderr = '';
  /** The language id sent on didOpen (other servers only look at their own languages). */
  languageId = 'prune-yaml';
  exitCode: number | null = null;

  /**
   * Starts our built server by default; benchmarks pass another server's command line. `cwd` is
   * the server's working folder (an editor starts it in the workspace).
   */
  constructor(
    command: string = process.execPath,
    args: string[] = [join(ROOT, 'dist', 'server.js'), '--stdio'],
    options: { cwd?: string } = {},
  ) {
    this.process = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: options.cwd });
    this.process.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.process.on('exit', (code) => (this.exitCode = code));
    this.connection = createMessageConnection(
      new StreamMessageReader(this.process.stdout!),
      new StreamMessageWriter(this.process.stdin!),
    );
    this.connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
      this.published.push(params);
      for (const waiter of [...this.waiters]) {
        const current = params.version === undefined || params.version >= waiter.version;
        if (waiter.uri === params.uri && current && waiter.accept(params.diagnostics)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(params.diagnostics);
        }
      }
    });
    this.connection.listen();
  }

  /** `root` is the workspace folder the client opens (the repository by default). */
  async initialize(capabilities: object = {}, initializationOptions?: unknown, root = ROOT): Promise<unknown> {
    const result = await this.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(root).href,
      capabilities,
      initializationOptions,
    });
    await this.connection.sendNotification('initialized', {});
    return result;
  }

  /** Opens a document and resolves with its first diagnostics. */
  open(uri: string, text: string): Promise<Diagnostic[]> {
    this.versions.set(uri, 1);
    const diagnostics = this.diagnosticsFor(uri, 1);
    void this.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: this.languageId, version: 1, text },
    });
    return diagnostics;
  }

  /**
   * Replaces the whole text and resolves with the diagnostics of the new version (for servers
   * that publish without a version, the first publication that `accept`s).
   */
  change(uri: string, text: string, accept: (d: Diagnostic[]) => boolean = () => true): Promise<Diagnostic[]> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    const diagnostics = this.diagnosticsFor(uri, version, accept);
    void this.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version },
      contentChanges: [{ text }],
    });
    return diagnostics;
  }

  /** Resolves with a later publication for the document's current version that `accept`s. */
  republished(uri: string, accept: (d: Diagnostic[]) => boolean): Promise<Diagnostic[]> {
    return this.diagnosticsFor(uri, this.versions.get(uri) ?? 1, accept);
  }

  request<R>(method: string, params: object): Promise<R> {
    return this.connection.sendRequest(method, params);
  }

  private diagnosticsFor(
    uri: string,
    version: number,
    accept: (d: Diagnostic[]) => boolean = () => true,
  ): Promise<Diagnostic[]> {
    return new Promise((resolve) => this.waiters.push({ uri, version, accept, resolve }));
  }

  async shutdown(): Promise<void> {
    await this.connection.sendRequest('shutdown');
    await this.connection.sendNotification('exit');
    await new Promise<void>((resolve) =>
      this.exitCode !== null ? resolve() : this.process.once('exit', () => resolve()),
    );
    this.connection.dispose();
  }

  /** Sends the server process a signal and resolves with its exit code once it has exited. */
  async signal(signal: NodeJS.Signals): Promise<number | null> {
    const exited = new Promise<void>((resolve) =>
      this.exitCode !== null ? resolve() : this.process.once('exit', () => resolve()),
    );
    this.process.kill(signal);
    await exited;
    this.connection.dispose();
    return this.exitCode;
  }

  get alive(): boolean {
    return this.exitCode === null && !this.process.killed;
  }
}
