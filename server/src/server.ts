/**
 * The Sparsity Studio language server: connection, capabilities and handler registration. Every
 * answer comes from the pure modules in experiment/ and sessions/; lsp/ only translates.
 * Transport from argv (`--stdio`, `--node-ipc`, `--socket=N`); never write to stdout directly.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CodeLensRefreshRequest,
  createConnection,
  ProposedFeatures,
  ResponseError,
  ErrorCodes,
  TextDocuments,
  TextDocumentSyncKind,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { COMMAND_IDS, ExperimentTemplateRequest, isExperimentTemplateKind } from '@protocol';
import { codeActions } from './experiment/codeActions';
import { complete } from './experiment/completion';
import { documentSymbols } from './experiment/documentSymbols';
import { DataProbeCache, nodeHost } from './data/nodeHost';
import { hover } from './experiment/hover';
import { inlayHints } from './experiment/inlayHints';
import { ExperimentSchema } from './experiment/schema';
import { SPARSITY_STUDIO_VERSION } from './experiment/version';
import { experimentTemplate } from './experiment/templates';
import { toCodeAction, toCompletionItem, toDiagnostic, toDocumentSymbol } from './lsp/conversions';
import { LensRefresher } from './lsp/lensRefresher';
import { experimentValidation, registerSessions, sameFile } from './lsp/sessions';
import { registerSweeps } from './lsp/sweeps';
import { ValidationScheduler } from './lsp/validationScheduler';

const connection = createConnection(ProposedFeatures.all);

const documents = new TextDocuments(TextDocument);

function baseDirOf(uri: string): string | null {
  return uri.startsWith('file:') ? dirname(fileURLToPath(uri)) : null;
}

const dataProbes = new DataProbeCache();
const validation = new ValidationScheduler(
  (uri) => nodeHost(baseDirOf(uri), dataProbes),
  (uri, version, result) => {
    void connection.sendDiagnostics({ uri, version, diagnostics: result.diagnostics.map(toDiagnostic) });
  },
);

/** Sessions run code and read files: the client says whether the workspace is trusted. */
let trusted = true;
let codeLensRefresh = false;
let workspaceFolders: string[] = [];
let configurationRequests = false;

connection.onInitialize((params): InitializeResult => {
  const init = params.initializationOptions as { trusted?: boolean } | undefined;
  trusted = init?.trusted !== false;
  codeLensRefresh = params.capabilities.workspace?.codeLens?.refreshSupport === true;
  configurationRequests = params.capabilities.workspace?.configuration === true;
  const folderUris = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
  workspaceFolders = folderUris.filter((uri) => uri.startsWith('file:')).map((uri) => fileURLToPath(uri));
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      completionProvider: { triggerCharacters: [':', ' ', '[', ',', '-'] },
      hoverProvider: true,
      codeActionProvider: { codeActionKinds: ['quickfix'] },
      documentSymbolProvider: true,
      inlayHintProvider: true,
      codeLensProvider: { resolveProvider: false },
    },
    serverInfo: { name: 'sparsity-studio', version: SPARSITY_STUDIO_VERSION },
  };
});

documents.onDidOpen((e) => validation.schedule(e.document));
documents.onDidChangeContent((e) => validation.schedule(e.document));
documents.onDidClose((e) => {
  validation.forget(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});
// Data and model files may appear or vanish: check the open experiments again.
connection.onDidChangeWatchedFiles(() => {
  dataProbes.clear();
  validation.invalidateAll(documents.all());
});

const withDocument = <T>(uri: string, fallback: T, answer: (doc: TextDocument) => T): T => {
  const doc = documents.get(uri);
  return doc ? answer(doc) : fallback;
};

connection.onCompletion((params) =>
  withDocument(params.textDocument.uri, [], (doc) =>
    complete(validation.resultFor(doc), params.position).map(toCompletionItem),
  ),
);

connection.onHover((params) =>
  withDocument(params.textDocument.uri, null, (doc) => {
    const args = encodeURIComponent(JSON.stringify([doc.uri]));
    const link = `[Preview the schedule](command:${COMMAND_IDS.previewSchedule}?${args})`;
    const result = hover(validation.resultFor(doc), params.position, link);
    return result ? { contents: { kind: 'markdown', value: result.markdown }, range: result.range } : null;
  }),
);

connection.onCodeAction((params) =>
  withDocument(params.textDocument.uri, [], (doc) =>
    codeActions(validation.resultFor(doc).diagnostics, params.range).map((a) => toCodeAction(doc.uri, a)),
  ),
);

connection.onDocumentSymbol((params) =>
  withDocument(params.textDocument.uri, [], (doc) =>
    documentSymbols(validation.resultFor(doc).document).map(toDocumentSymbol),
  ),
);

connection.languages.inlayHint.on((params) =>
  withDocument(params.textDocument.uri, [], (doc) =>
    inlayHints(validation.resultFor(doc), params.range.start.line, params.range.end.line).map((h) => ({
      position: h.position,
      label: h.label,
      tooltip: h.tooltip,
      paddingLeft: true,
    })),
  ),
);

connection.onRequest(ExperimentTemplateRequest, (params) => {
  const name = ExperimentSchema.shape.name.safeParse(params.name);
  if (!name.success || !isExperimentTemplateKind(params.template))
    return new ResponseError(
      ErrorCodes.InvalidParams,
      `invalid experiment name or template: ${JSON.stringify(params)}`,
    );
  return { text: experimentTemplate(name.data, params.template) };
});

const resultFor = (doc: TextDocument) => validation.resultFor(doc);
const lenses = new LensRefresher(() => {
  if (codeLensRefresh) void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
});
const sweeps = registerSweeps({
  connection,
  validationOf: (uri) => experimentValidation(documents, resultFor, uri),
  trusted: () => trusted,
  refreshLenses: () => lenses.refresh(),
  sameFile,
});
const sessions = registerSessions({
  connection,
  documents,
  resultFor,
  trusted: () => trusted,
  refreshLenses: () => lenses.refresh(),
  workspaceFolders: () => workspaceFolders,
  canReadConfiguration: () => configurationRequests,
  sweepLenses: (uri, result) => sweeps.lenses(uri, result),
});
connection.onShutdown(async () => {
  lenses.dispose();
  await sweeps.dispose();
  await sessions.dispose();
});

documents.listen(connection);
connection.listen();
