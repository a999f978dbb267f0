/**
 * LSP adapter for pruning sessions and run folders: the custom requests and notifications of
 * protocol/session.ts, work-done progress per session, and the code lenses above an experiment.
 * The work itself is in sessions/ (SessionManager, run reader) and engine/.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  LSPErrorCodes,
  ResponseError,
  type CodeLens,
  type Connection,
  type TextDocuments,
  type WorkDoneProgressServerReporter,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import {
  BackendInfoRequest,
  MODULE_PATHS_SETTING,
  COMMAND_IDS,
  formatDuration,
  formatMetric,
  isFinalState,
  metricName,
  primaryMetric,
  RunCompareRequest,
  RunExportRequest,
  RunReadRequest,
  RunSnapshotRequest,
  SchedulePreviewRequest,
  SessionDidChangeNotification,
  SessionDidReportEventsNotification,
  SessionListRequest,
  SessionResumeRequest,
  SessionStartRequest,
  SessionStopRequest,
  type LensCommandId,
  type SessionSummary,
} from '@protocol';
import { nodeHost, readExperimentText } from '../data/nodeHost';
import { schedulePreview } from '../experiment/schedulePreview';
import { validateExperiment, type ValidationResult } from '../experiment/validate';
import { selectBackend } from '../engine/backends';
import { describeBackendInfo, modulePathsFromEnv, searchFolders } from '../engine/backendSearch';
import { exportRun, type BackendSearchOptions } from '../runs/runExperiment';
import { comparison } from '../runs/runComparison';
import { loadRun, readSnapshot, snapshotLayerBase64, SnapshotIndex } from '../runs/runReader';
import { SessionManager } from '../sessions/sessionManager';
import { documentUri, integerParam, optionalIntegerParam, paramsOf, stringListParam, stringParam } from './params';

export interface SessionsOptions {
  connection: Connection;
  documents: TextDocuments<TextDocument>;
  /** The latest validation of an open document. */
  resultFor(document: TextDocument): ValidationResult;
  /** False in an untrusted workspace: sessions are refused, validation goes on. */
  trusted(): boolean;
  /** Asks the client to fetch code lenses again (a session's lenses changed). */
  refreshLenses(): void;
  /** The workspace folders the client opened (paths); empty without any. */
  workspaceFolders(): string[];
  /** Whether the client answers `workspace/configuration`. */
  canReadConfiguration(): boolean;
  /** The lenses of a sweep file, which replace the Run lens (lsp/sweeps.ts); null for other files. */
  sweepLenses?(uri: string, result: ValidationResult | undefined): CodeLens[] | null;
}

/** The validation of an experiment: the open document's, else the saved file's. */
export function experimentValidation(
  documents: TextDocuments<TextDocument>,
  resultFor: (document: TextDocument) => ValidationResult,
  uri: string,
): ValidationResult {
  const open = documents.get(uri);
  if (open) return resultFor(open);
  const path = pathOf(uri);
  if (!path) throw failed(`${uri} is not a file on disk`);
  const read = readExperimentText(path);
  if ('problem' in read) throw failed(read.problem.message);
  return validateExperiment(read.text, nodeHost(dirname(path)));
}

const failed = (message: string) => new ResponseError(LSPErrorCodes.RequestFailed, message);
const pathOf = (uri: string) => (uri.startsWith('file:') ? fileURLToPath(uri) : null);
/**
 * Whether two URIs name the same file. Compared as paths: VS Code percent-encodes more characters
 * (`(`, `)`, `'`, ...) than `pathToFileURL`, which builds the URI of a resumed run's experiment.
 */
export function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    const path = pathOf(a);
    return path !== null && path === pathOf(b);
  } catch {
    return false; // not a valid file URI (a host on POSIX, an encoded `/`): only equal strings match
  }
}

export function registerSessions(options: SessionsOptions): SessionManager {
  const { connection, documents } = options;
  const progress = new Map<string, WorkDoneProgressServerReporter>();
  /**
   * What the lenses show of each session (its state, and whether its run folder is known): a
   * refresh goes out when that changes, not per step. A resumed run starts at its checkpoint's
   * step, so "step 0" could not tell when it began to run.
   */
  const shownInLenses = new Map<string, string>();

  const manager = new SessionManager({
    // This bundle itself: started as a worker with SESSION_WORKER_DATA it runs a session (main.ts).
    workerPath: join(__dirname, 'server.js'),
    onChange: (summary) => {
      // A copy: the connection serialises later, when the live summary may have moved on, and the
      // client would see a newer state in an older notification (and out of order with refreshes).
      void connection.sendNotification(SessionDidChangeNotification, structuredClone(summary));
      reportProgress(summary);
      const shown = `${summary.state} ${summary.runDir}`;
      if (shownInLenses.get(summary.sessionId) !== shown) {
        shownInLenses.set(summary.sessionId, shown);
        options.refreshLenses();
      }
    },
    onEvents: (params) => void connection.sendNotification(SessionDidReportEventsNotification, params),
  });

  /** `cycle 2 · sparsify · step 640/3000 · sparsity 52.1% · accuracy 84.2% · ETA 1 min 5 s`, or what it does before training. */
  const progressMessage = (s: SessionSummary) => {
    if (s.activity) return s.activity;
    const eta = s.state === 'running' ? s.etaSeconds : undefined;
    const latest = s.progress?.latest?.metrics;
    const metric = latest ? primaryMetric(latest).key : undefined;
    const value = metric && latest ? latest[metric] : undefined;
    return [
      s.phase?.label ?? s.state,
      `step ${s.step}/${s.totalSteps}`,
      `sparsity ${(100 * s.globalSparsity).toFixed(1)}%`,
      ...(metric && value !== undefined ? [`${metricName(metric)} ${formatMetric(metric, value)}`] : []),
      ...(eta !== undefined ? [`ETA ${formatDuration(eta)}`] : []),
    ].join(' · ');
  };

  const reportProgress = (summary: SessionSummary) => {
    const reporter = progress.get(summary.sessionId);
    if (!reporter) return;
    if (isFinalState(summary.state)) {
      reporter.done();
      progress.delete(summary.sessionId);
      return;
    }
    const percentage = summary.totalSteps > 0 ? Math.floor((100 * summary.step) / summary.totalSteps) : 0;
    reporter.report(percentage, progressMessage(summary));
  };

  const beginProgress = async (summary: SessionSummary) => {
    try {
      const reporter = await connection.window.createWorkDoneProgress();
      reporter.begin(`Pruning ${summary.name}`, 0, progressMessage(summary), true);
      reporter.token.onCancellationRequested(() => void manager.stop(summary.sessionId).catch(() => undefined));
      progress.set(summary.sessionId, reporter);
      reportProgress(manager.get(summary.sessionId) ?? summary);
    } catch {
      // A client without work-done progress still gets the session notifications.
    }
  };

  /**
   * Where sessions and Show Backend Information look for tfjs-node(-gpu), besides the experiment's
   * folders and the global npm root: the modulePaths setting (then SPARSITY_STUDIO_MODULE_PATHS)
   * and the workspace folders (the server's working directory when none is open).
   */
  const backendSearch = async (): Promise<BackendSearchOptions> => {
    let setting: string[] = [];
    if (options.canReadConfiguration()) {
      try {
        const value: unknown = await connection.workspace.getConfiguration(MODULE_PATHS_SETTING);
        if (Array.isArray(value)) setting = value.filter((v): v is string => typeof v === 'string' && v !== '');
      } catch {
        // a client that cannot answer: no setting
      }
    }
    const folders = options.workspaceFolders();
    return {
      workspace: folders.length > 0 ? folders : [process.cwd()],
      modulePaths: [...setting, ...modulePathsFromEnv()],
    };
  };

  const requireTrust = () => {
    if (!options.trusted())
      throw failed(
        'Sessions are disabled in an untrusted workspace: training runs code and reads files. Trust the workspace to run experiments.',
      );
  };

  const validationOf = (uri: string) => experimentValidation(documents, (doc) => options.resultFor(doc), uri);

  connection.onRequest(SessionStartRequest, async (raw) => {
    try {
      const params = paramsOf(raw, SessionStartRequest.method);
      const uri = stringParam(params, 'uri');
      const steps = optionalIntegerParam(params, 'steps', 1);
      requireTrust();
      const file = pathOf(uri);
      if (!file) throw failed('Save the experiment to a file before running it.');
      const result = validationOf(uri);
      const error = result.diagnostics.find((d) => d.severity === 'error');
      if (error)
        throw failed(
          `${file}:${error.range.start.line + 1}:${error.range.start.character + 1}: ${error.message} — fix the errors before running.`,
        );
      if (result.sweep && result.sweep.runs > 0)
        throw failed(
          `${file} is a sweep of ${result.sweep.runs} runs: run it with Run Sweep (the code lens above it).`,
        );
      const config = result.config;
      const totalSteps = result.analysis?.steps;
      if (!config || !totalSteps)
        throw failed(`${file}: the number of training steps cannot be known; give training.steps`);
      const session = manager.start({
        file,
        experimentUri: uri,
        name: config.name,
        method: config.pruning.method,
        totalSteps,
        ...(steps !== undefined && { steps }),
        backendSearch: await backendSearch(),
      });
      void beginProgress(session);
      return { session };
    } catch (error) {
      return error instanceof ResponseError ? error : failed(String(error));
    }
  });

  connection.onRequest(SessionResumeRequest, async (raw) => {
    try {
      const runDir = stringParam(paramsOf(raw, SessionResumeRequest.method), 'runDir');
      requireTrust();
      const run = loadRun(runDir);
      if (run.info.status === 'completed') throw failed(`${runDir} has already completed; nothing to resume`);
      if (run.info.status === 'running' && manager.list().some((s) => s.runDir === runDir && s.state === 'running'))
        throw failed(`${runDir} is running now`);
      const session = manager.resume(
        run.info,
        runDir,
        pathToFileURL(run.info.experimentFile).href,
        await backendSearch(),
      );
      void beginProgress(session);
      return { session };
    } catch (error) {
      return error instanceof ResponseError ? error : failed((error as Error).message);
    }
  });

  connection.onRequest(SessionStopRequest, async (raw) => {
    try {
      return await manager.stop(stringParam(paramsOf(raw, SessionStopRequest.method), 'sessionId'));
    } catch (error) {
      return error instanceof ResponseError ? error : failed((error as Error).message);
    }
  });

  connection.onRequest(SessionListRequest, () => ({ sessions: manager.list() }));

  connection.onRequest(RunReadRequest, (raw) => {
    try {
      const params = paramsOf(raw, RunReadRequest.method);
      const run = loadRun(stringParam(params, 'runDir'));
      const from = optionalIntegerParam(params, 'fromLine') ?? 0;
      return { info: run.info, events: run.events.slice(from), nextLine: run.events.length };
    } catch (error) {
      return error instanceof ResponseError ? error : failed((error as Error).message);
    }
  });

  const snapshots = new SnapshotIndex();
  connection.onRequest(RunSnapshotRequest, (raw) => {
    try {
      const params = paramsOf(raw, RunSnapshotRequest.method);
      const runDir = stringParam(params, 'runDir');
      const step = integerParam(params, 'step');
      const event = snapshots.find(runDir, step);
      if (!event) throw new Error(`${runDir} has no snapshot at step ${step}`);
      return {
        step: event.step,
        phase: event.phase,
        score: event.score,
        layers: readSnapshot(runDir, event).map(snapshotLayerBase64),
        runRanges: snapshots.runRanges(runDir),
      };
    } catch (error) {
      return error instanceof ResponseError ? error : failed((error as Error).message);
    }
  });

  connection.onRequest(RunCompareRequest, (raw) => {
    try {
      const runDirs = stringListParam(paramsOf(raw, RunCompareRequest.method), 'runDirs');
      if (runDirs.length < 2) throw failed('Compare needs two or more run folders.');
      return comparison(runDirs.map((dir) => loadRun(dir)));
    } catch (error) {
      return error instanceof ResponseError ? error : failed((error as Error).message);
    }
  });

  connection.onRequest(RunExportRequest, async (raw) => {
    try {
      const runDir = stringParam(paramsOf(raw, RunExportRequest.method), 'runDir');
      requireTrust();
      const { files, warnings } = await exportRun(runDir);
      return { files, warnings };
    } catch (error) {
      return error instanceof ResponseError ? error : failed((error as Error).message);
    }
  });

  connection.onRequest(SchedulePreviewRequest, (raw) => {
    try {
      return schedulePreview(validationOf(stringParam(paramsOf(raw, SchedulePreviewRequest.method), 'uri')));
    } catch (error) {
      return error instanceof ResponseError ? error : failed((error as Error).message);
    }
  });

  connection.onRequest(BackendInfoRequest, async () => {
    try {
      const search = options.trusted() ? searchFolders(await backendSearch()) : 'untrusted';
      const info = await selectBackend('auto', search);
      return {
        chosen: info.name,
        attempts: info.attempts,
        details: info.details,
        ...(info.search && { search: info.search }),
        report: describeBackendInfo(info),
      };
    } catch (error) {
      return failed((error as Error).message);
    }
  });

  connection.onCodeLens((raw) => {
    const uri = documentUri(paramsOf(raw, 'codeLens'));
    const at = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    const lens = (title: string, command: LensCommandId | 'workbench.trust.manage', ...args: unknown[]): CodeLens => ({
      range: at,
      command: { title, command, arguments: args },
    });
    if (!options.trusted())
      return [lens('$(shield) Sessions disabled: workspace not trusted', 'workbench.trust.manage')];
    const mine = manager.list().filter((s) => sameFile(s.experimentUri, uri));
    const active = mine.find((s) => s.state === 'running' || s.state === 'queued');
    const latest = [...mine].reverse().find((s) => s.runDir !== '');
    const lenses: CodeLens[] = [];
    const open = documents.get(uri);
    const sweepLenses = options.sweepLenses?.(uri, open ? options.resultFor(open) : undefined) ?? null;
    if (sweepLenses) lenses.push(...sweepLenses);
    else if (active) {
      lenses.push(lens(`$(debug-stop) Stop (${active.state})`, COMMAND_IDS.stopSession, active.sessionId));
    } else {
      lenses.push(lens('$(play) Run', COMMAND_IDS.runExperiment, uri));
    }
    lenses.push(lens('$(graph-line) Preview schedule', COMMAND_IDS.previewSchedule, uri));
    if (latest) lenses.push(lens('$(dashboard) Open dashboard', COMMAND_IDS.openDashboard, latest.runDir));
    return lenses;
  });

  return manager;
}
