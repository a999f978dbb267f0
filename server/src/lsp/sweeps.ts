/**
 * LSP adapter for sweeps run from the editor: the requests and notification of protocol/sweep.ts,
 * one work-done progress per sweep, and the sweep's code lenses. The runs themselves are CLI
 * processes started by runs/ (the same `run --sweep-task` the CLI and SLURM tasks run), so no
 * training happens in the language server.
 */
import { fileURLToPath } from 'node:url';
import {
  LSPErrorCodes,
  ResponseError,
  type CodeLens,
  type Connection,
  type WorkDoneProgressServerReporter,
} from 'vscode-languageserver/node';
import {
  COMMAND_IDS,
  SweepDidChangeNotification,
  SweepReadRequest,
  SweepStartRequest,
  SweepStopRequest,
  type SweepSessionSummary,
} from '@protocol';
import type { ValidationResult } from '../experiment/validate';
import { defaultParallelism, LocalExecutor, nvidiaGpuCount } from '../runs/localExecutor';
import { startSweep, type SweepProgress } from '../runs/sweepRunner';
import { bundledCliCommand } from '../sessions/cliRole';
import { loadSweep, summarizeSweep } from '../runs/sweepSummary';

export interface SweepsOptions {
  connection: Connection;
  /** The validation of an experiment (the open document's, else the saved file's). */
  validationOf(uri: string): ValidationResult;
  trusted(): boolean;
  /** Asks the client to refresh code lenses (a sweep started or ended). */
  refreshLenses(): void;
  /** Whether two file URIs name the same file. */
  sameFile(a: string, b: string): boolean;
}

/** Progress and live notifications of a sweep at most this often while nothing ends. */
const NOTIFY_MS = 1000;

interface ActiveSweep {
  summary: SweepSessionSummary;
  controller: AbortController;
  ended: Promise<void>;
}

const failed = (message: string) => new ResponseError(LSPErrorCodes.RequestFailed, message);

export interface Sweeps {
  /** The sweep lenses of a document with a `sweep:` grid (they replace its Run lens), else null. */
  lenses(uri: string, result: ValidationResult | undefined): CodeLens[] | null;
  dispose(): Promise<void>;
}

export function registerSweeps(options: SweepsOptions): Sweeps {
  const { connection } = options;
  const sweeps = new Map<string, ActiveSweep>();
  const recent = new Map<string, string>();
  let counter = 0;

  const progressMessage = (s: SweepSessionSummary) => {
    const current = s.running
      .map((r) => `run ${r.index + 1}: ${r.phase ?? 'starting'}, step ${r.step}/${r.totalSteps}`)
      .join('; ');
    return `${s.done}/${s.total} runs done${current ? ` · ${current}` : ''}`;
  };

  connection.onRequest(SweepStartRequest, async (params) => {
    if (!options.trusted())
      return failed('Sweeps are disabled in an untrusted workspace: training runs code and reads files.');
    const file = params.uri.startsWith('file:') ? fileURLToPath(params.uri) : null;
    if (!file) return failed('Save the experiment to a file before running its sweep.');
    const result = options.validationOf(params.uri);
    const error = result.diagnostics.find((d) => d.severity === 'error');
    if (error)
      return failed(
        `${file}:${error.range.start.line + 1}:${error.range.start.character + 1}: ${error.message} — fix the errors before running.`,
      );
    if (!result.sweep || result.sweep.runs === 0) return failed(`${file} has no \`sweep:\` grid to run.`);
    if ([...sweeps.values()].some((s) => options.sameFile(s.summary.experimentUri, params.uri)))
      return failed(`A sweep of ${file} is running already.`);

    const sweepId = `sweep-${++counter}`;
    const summary: SweepSessionSummary = {
      sweepId,
      experimentUri: params.uri,
      sweepDir: '',
      name: result.config?.name ?? 'sweep',
      state: 'running',
      done: 0,
      total: result.sweep.runs,
      running: [],
    };
    const controller = new AbortController();
    let reporter: WorkDoneProgressServerReporter | undefined;
    let lastNotice = 0;
    const notify = (force = false) => {
      const now = performance.now();
      if (!force && now - lastNotice < NOTIFY_MS) return;
      lastNotice = now;
      void connection.sendNotification(SweepDidChangeNotification, summary);
      reporter?.report(Math.floor((100 * summary.done) / Math.max(1, summary.total)), progressMessage(summary));
    };
    const onProgress = (p: SweepProgress) => {
      const moved = JSON.stringify(p.running) !== JSON.stringify(summary.running) || p.done !== summary.done;
      summary.done = p.done;
      summary.running = p.running;
      if (moved) notify();
    };
    // Each run is this bundle as the CLI (`server.js --cli run --sweep-task ...`), on this Node.
    const parallel = params.parallel ?? defaultParallelism(result.config?.backend).parallel;
    const command = bundledCliCommand(__dirname);
    const executor = new LocalExecutor({ parallel, command, gpus: nvidiaGpuCount() });

    let started!: () => void;
    const folderReady = new Promise<void>((resolve) => (started = resolve));
    const run = startSweep(file, {
      executor,
      ...(params.steps !== undefined && { steps: params.steps }),
      signal: controller.signal,
      pollMs: 500,
      onStart: (dir, info) => {
        summary.sweepDir = dir;
        summary.total = info.runs.length;
        started();
      },
      onProgress,
      onRunEnd: (ended) => {
        summary.done = ended.done;
        notify(true);
      },
    });
    const ended = run.then(
      ({ info }) => {
        summary.state = info.status === 'running' ? 'completed' : info.status;
      },
      (error: unknown) => {
        summary.state = 'failed';
        summary.error = error instanceof Error ? error.message : String(error);
      },
    );
    // The answer waits for the sweep folder (the client opens its panel), or for the failure.
    await Promise.race([folderReady, ended]);
    if (summary.state === 'failed' && summary.sweepDir === '') return failed(summary.error ?? 'the sweep failed');

    const active: ActiveSweep = {
      summary,
      controller,
      ended: ended.then(() => {
        summary.running = [];
        sweeps.delete(sweepId);
        // The progress ends before the last notification, which says how the sweep ended.
        reporter?.done();
        reporter = undefined;
        notify(true);
        options.refreshLenses();
      }),
    };
    sweeps.set(sweepId, active);
    recent.set(params.uri, summary.sweepDir);
    void connection.window.createWorkDoneProgress().then(
      (r) => {
        if (!sweeps.has(sweepId)) return r.done();
        reporter = r;
        r.begin(`Sweep ${summary.name} (${summary.total} runs)`, 0, progressMessage(summary), true);
        r.token.onCancellationRequested(() => controller.abort());
      },
      () => undefined, // a client without work-done progress still gets the notifications
    );
    notify(true);
    options.refreshLenses();
    return { sweep: summary };
  });

  connection.onRequest(SweepStopRequest, async (params) => {
    const active = sweeps.get(params.sweepId);
    if (!active) return failed(`No sweep ${params.sweepId} is running.`);
    active.controller.abort();
    await active.ended;
    return active.summary;
  });

  connection.onRequest(SweepReadRequest, (params) => {
    try {
      return summarizeSweep(loadSweep(params.sweepDir));
    } catch (error) {
      return failed((error as Error).message);
    }
  });

  /** The last sweep folder of each experiment run from here: its Open sweep lens. */
  const recentDir = (uri: string) => [...recent].reverse().find(([u]) => options.sameFile(u, uri))?.[1];
  return {
    lenses(uri, result) {
      const runs = result?.sweep?.runs ?? 0;
      if (runs === 0) return null;
      const at = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
      const lens = (title: string, command: string, arg: unknown): CodeLens => ({
        range: at,
        command: { title, command, arguments: [arg] },
      });
      const active = [...sweeps.values()].find((s) => options.sameFile(s.summary.experimentUri, uri));
      const lenses = [
        active
          ? lens(
              `$(debug-stop) Stop sweep (${active.summary.done}/${active.summary.total})`,
              COMMAND_IDS.stopSweep,
              active.summary.sweepId,
            )
          : lens(`$(play) Run sweep (${runs} runs)`, COMMAND_IDS.runSweep, uri),
      ];
      const dir = recentDir(uri);
      if (dir) lenses.push(lens('$(graph-scatter) Open sweep', COMMAND_IDS.openSweep, dir));
      return lenses;
    },
    async dispose() {
      for (const s of sweeps.values()) s.controller.abort();
      await Promise.all([...sweeps.values()].map((s) => s.ended));
    },
  };
}
