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
import { pathKind } from './data/regularFile';
import { hover } from './experiment/hover';
import { inlayHints } from './experiment/inlayHints';
import { ExperimentSchema } from './experiment/schema';
import { SPARSITY_STUDIO_VERSION } from './experiment/version';
import { experimentTemplate } from './experiment/templates';
import { toCodeAction, toCompletionItem, toDiagnostic, toDocumentSymbol } from './lsp/conversions';
import { documentUri, paramsOf, positionIn, rangeIn } from './lsp/params';
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
/** How often missing data files are looked for without a watcher event. */
const MISSING_FILES_POLL_MS = 2000;
const validation = new ValidationScheduler(
  (uri) => nodeHost(baseDirOf(uri), dataProbes),
  (uri, version, result) => {
    void connection.sendDiagnostics({ uri, version, diagnostics: result.diagnostics.map(toDiagnostic) });
  },
);

/**
 * Sessions run code and read files, and backend packages are code: only a client that says the
 * workspace is trusted (`initializationOptions.trusted: true`) gets them. Fail closed: a client
 * that says nothing gets validation only.
 */
let trusted = false;
let codeLensRefresh = false;
let workspaceFolders: string[] = [];
let configurationRequests = false;

connection.onInitialize((params): InitializeResult => {
  const init = params.initializationOptions as { trusted?: unknown } | undefined;
  trusted = init?.trusted === true;
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
const filesChanged = () => {
  dataProbes.clear();
  validation.invalidateAll(documents.all());
};
connection.onDidChangeWatchedFiles(filesChanged);
// A file watcher can miss an event (one started after the file appeared, a network file system, a
// busy machine): missing data files are also looked for every few seconds, one stat each.
const missingFilesPoll = setInterval(() => {
  if (validation.missingDataFiles().some((file) => pathKind(file) !== 'missing')) filesChanged();
}, MISSING_FILES_POLL_MS);
missingFilesPoll.unref();

/**
 * Answers a request about an open document with its checked params; a document that is not open
 * gets `fallback`. Bad params throw `InvalidParams` (lsp/params.ts), which the connection sends back.
 */
const withDocument = <T>(
  method: string,
  raw: unknown,
  fallback: T,
  answer: (doc: TextDocument, params: Record<string, unknown>) => T,
): T => {
  const params = paramsOf(raw, method);
  const doc = documents.get(documentUri(params));
  return doc ? answer(doc, params) : fallback;
};

connection.onCompletion((raw) =>
  withDocument('completion', raw, [], (doc, params) =>
    complete(validation.resultFor(doc), positionIn(doc, params['position'])).map(toCompletionItem),
  ),
);

connection.onHover((raw) =>
  withDocument('hover', raw, null, (doc, params) => {
    const args = encodeURIComponent(JSON.stringify([doc.uri]));
    const link = `[Preview the schedule](command:${COMMAND_IDS.previewSchedule}?${args})`;
    const result = hover(validation.resultFor(doc), positionIn(doc, params['position']), link);
    return result ? { contents: { kind: 'markdown', value: result.markdown }, range: result.range } : null;
  }),
);

connection.onCodeAction((raw) =>
  withDocument('codeAction', raw, [], (doc, params) =>
    codeActions(validation.resultFor(doc).diagnostics, rangeIn(doc, params['range'])).map((a) =>
      toCodeAction(doc.uri, a),
    ),
  ),
);

connection.onDocumentSymbol((raw) =>
  withDocument('documentSymbol', raw, [], (doc) =>
    documentSymbols(validation.resultFor(doc).document).map(toDocumentSymbol),
  ),
);

connection.languages.inlayHint.on((raw) =>
  withDocument('inlayHint', raw, [], (doc, params) => {
    const range = rangeIn(doc, params['range']);
    return inlayHints(validation.resultFor(doc), range.start.line, range.end.line).map((h) => ({
      position: h.position,
      label: h.label,
      tooltip: h.tooltip,
      paddingLeft: true,
    }));
  }),
);

connection.onRequest(ExperimentTemplateRequest, (raw) => {
  const params = paramsOf(raw, ExperimentTemplateRequest.method);
  const name = ExperimentSchema.shape.name.safeParse(params['name']);
  const template = params['template'];
  if (!name.success || typeof template !== 'string' || !isExperimentTemplateKind(template))
    return new ResponseError(
      ErrorCodes.InvalidParams,
      `invalid experiment name or template: ${JSON.stringify(params)}`,
    );
  return { text: experimentTemplate(name.data, template) };
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
// Runs and sweeps end `cancelled` with a checkpoint when the server is asked to stop, by the client
// or by a signal (SIGTERM from a process manager, SIGHUP when the terminal or SSH session closes).
const stopEverything = async () => {
  clearInterval(missingFilesPoll);
  await sweeps.dispose();
  await sessions.stopAll();
  await sessions.dispose();
  lenses.dispose(); // last: stopping sessions asks for refreshes
};
connection.onShutdown(stopEverything);
for (const [signal, code] of [
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const)
  process.once(signal, () => {
    void stopEverything().finally(() => process.exit(code));
  });

documents.listen(connection);
connection.listen();
