/**
 * Pruning sessions of the language server: each runs in its own worker thread, one at a time per
 * device queue (every backend here computes on the CPU, so there is one queue: a run's `threads`
 * (all cores by default) never compete with another run's), and reports back
 * through two callbacks: `onChange` (state, phase, and step at most twice a second) and `onEvents`
 * (run events batched to at most ten calls a second per session). No LSP in here.
 */
import { Worker } from 'node:worker_threads';
import { isFinalState, type RunEvent, type RunInfo, type SessionEventsParams, type SessionSummary } from '@protocol';
import { emptyProgress, progressAfter } from '@protocol/runHeadline';
import { Batcher } from './batcher';
import { releaseRunFolder } from '../runs/runLock';
import { RunStore } from '../runs/runStore';
import type { BackendSearchOptions } from '../runs/runExperiment';
import { SESSION_WORKER_DATA, type FromWorker, type ToWorker } from './workerProtocol';

export interface SessionManagerOptions {
  /** The built script a worker runs: dist/server.js, which becomes a session worker given `SESSION_WORKER_DATA`. */
  workerPath: string;
  onChange(summary: SessionSummary): void;
  onEvents(params: SessionEventsParams): void;
  /**
   * Minimum time between two `onEvents` calls of one session. The default, 125 ms, keeps the
   * promised "at most 10 a second" with room for the final flush and for delivery jitter: with
   * exactly 100 ms a client saw 11 batches in one second.
   */
  eventBatchMs?: number;
  /** Minimum time between two step-only `onChange` calls of one session (default 500 ms). */
  changeThrottleMs?: number;
  /** How long a stopping run may take to write its checkpoint before its worker is terminated. */
  stopTimeoutMs?: number;
}

export interface StartRequest {
  /** Absolute path of the experiment file (its saved text is what runs). */
  file: string;
  experimentUri: string;
  name: string;
  method: RunInfo['method'];
  totalSteps: number;
  steps?: number;
  /** Where the run looks for tfjs-node(-gpu): the editor's workspace folders and setting. */
  backendSearch?: BackendSearchOptions;
}

/** How many logged steps the pace (and so the ETA) is measured over. */
const PACE_STEPS = 20;

interface Session {
  summary: SessionSummary;
  /** Wall clock (ms) and step of the last `PACE_STEPS` step events. */
  pace: { at: number; step: number }[];
  message: ToWorker;
  worker?: Worker;
  events: Batcher<RunEvent>;
  lastChange: number;
  changeTimer?: NodeJS.Timeout;
  ended: Promise<SessionSummary>;
  resolveEnded(summary: SessionSummary): void;
}

export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  private readonly queue: Session[] = [];
  private running: Session | undefined;
  private counter = 0;

  constructor(private readonly options: SessionManagerOptions) {}

  /** Queues a new run of an experiment file; it starts at once when the device is free. */
  start(request: StartRequest): SessionSummary {
    return this.enqueue(
      {
        experimentUri: request.experimentUri,
        runDir: '',
        name: request.name,
        method: request.method,
        totalSteps: request.steps ?? request.totalSteps,
      },
      {
        type: 'start',
        file: request.file,
        ...(request.steps !== undefined && { steps: request.steps }),
        ...(request.backendSearch && { backendSearch: request.backendSearch }),
      },
    );
  }

  /** Queues the continuation of a run folder from its last checkpoint. */
  resume(info: RunInfo, runDir: string, experimentUri: string, backendSearch?: BackendSearchOptions): SessionSummary {
    return this.enqueue(
      { experimentUri, runDir, name: info.name, method: info.method, totalSteps: info.totalSteps, step: info.step },
      { type: 'resume', runDir, ...(backendSearch && { backendSearch }) },
    );
  }

  /** Stops a session: a queued one is dropped, a running one writes a checkpoint and ends `cancelled`. */
  async stop(sessionId: string): Promise<SessionSummary> {
    const session = this.sessions.get(sessionId);
    if (!session) throw new Error(`no session ${sessionId}`);
    if (isFinalState(session.summary.state)) return session.summary;
    const queued = this.queue.indexOf(session);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.finish(session, 'cancelled');
      return session.summary;
    }
    session.worker?.postMessage({ type: 'stop' } satisfies ToWorker);
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), this.options.stopTimeoutMs ?? 30_000).unref(),
    );
    if ((await Promise.race([session.ended, timeout])) === 'timeout') {
      await session.worker?.terminate();
      this.markRunFailed(session, 'stopped without a checkpoint: the run did not stop in time');
      this.finish(session, 'failed', 'stopped without a checkpoint: the run did not stop in time');
    }
    return session.summary;
  }

  list(): SessionSummary[] {
    return [...this.sessions.values()].map((s) => s.summary);
  }

  get(sessionId: string): SessionSummary | undefined {
    return this.sessions.get(sessionId)?.summary;
  }

  /** Waits until a session has ended (any final state). */
  ended(sessionId: string): Promise<SessionSummary> {
    const session = this.sessions.get(sessionId);
    if (!session) return Promise.reject(new Error(`no session ${sessionId}`));
    return session.ended;
  }

  /** Stops every session (running ones write a checkpoint and end `cancelled`): before the server exits. */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.sessions.values()]
        .filter((s) => !isFinalState(s.summary.state))
        .map((s) => this.stop(s.summary.sessionId).catch(() => undefined)),
    );
  }

  async dispose(): Promise<void> {
    this.queue.length = 0;
    await Promise.all([...this.sessions.values()].flatMap((s) => (s.worker ? [s.worker.terminate()] : [])));
  }

  private enqueue(
    fields: Pick<SessionSummary, 'experimentUri' | 'runDir' | 'name' | 'method' | 'totalSteps'> & { step?: number },
    message: ToWorker,
  ): SessionSummary {
    let resolveEnded!: (summary: SessionSummary) => void;
    const ended = new Promise<SessionSummary>((resolve) => (resolveEnded = resolve));
    const session: Session = {
      summary: {
        sessionId: `session-${++this.counter}`,
        state: 'queued',
        step: fields.step ?? 0,
        globalSparsity: 0,
        targetSparsity: 0,
        progress: emptyProgress(fields.step ?? 0),
        ...fields,
      },
      message,
      events: new Batcher(
        (events) =>
          this.options.onEvents({ sessionId: session.summary.sessionId, runDir: session.summary.runDir, events }),
        this.options.eventBatchMs ?? 125,
      ),
      lastChange: 0,
      pace: [],
      ended,
      resolveEnded,
    };
    this.sessions.set(session.summary.sessionId, session);
    this.queue.push(session);
    this.options.onChange(session.summary);
    this.next();
    return session.summary;
  }

  private next(): void {
    if (this.running) return;
    const session = this.queue.shift();
    if (!session) return;
    this.running = session;
    const worker = new Worker(this.options.workerPath, { workerData: SESSION_WORKER_DATA });
    session.worker = worker;
    session.summary.state = 'running';
    this.options.onChange(session.summary);
    worker.on('message', (message: FromWorker) => this.onWorkerMessage(session, message));
    worker.on('error', (error) => {
      this.markRunFailed(session, `the session worker crashed: ${error.message}`);
      this.finish(session, 'failed', `the session worker crashed: ${error.message}`);
    });
    worker.on('exit', (code) => {
      if (!isFinalState(session.summary.state)) {
        this.markRunFailed(session, `the session worker exited with code ${code}`);
        this.finish(session, 'failed', `the session worker exited with code ${code}`);
      }
    });
    worker.postMessage(session.message);
  }

  private onWorkerMessage(session: Session, message: FromWorker): void {
    const summary = session.summary;
    switch (message.type) {
      case 'started':
        summary.runDir = message.runDir;
        summary.backend = message.info.backend.name;
        summary.totalSteps = message.info.totalSteps;
        summary.name = message.info.name;
        summary.method = message.info.method;
        summary.targetSparsity = 0;
        summary.finalTargetSparsity = message.info.targetSparsity;
        {
          const threads = message.info.backend.details['threads'];
          if (typeof threads === 'number') summary.threads = threads;
        }
        // A resumed run's best evaluation so far is in its record; later ones come as events.
        if (message.info.bestEvaluation)
          summary.progress = {
            ...(summary.progress ?? emptyProgress(summary.step)),
            best: message.info.bestEvaluation,
          };
        this.changed(session, true);
        return;
      case 'events':
        for (const event of message.events) this.applyEvent(session, event);
        return;
      case 'activity':
        summary.activity = message.message;
        this.changed(session, false);
        return;
      case 'done':
        summary.runDir = message.runDir;
        summary.step = message.info.step;
        if (message.info.final) summary.globalSparsity = message.info.final.sparsity.global;
        this.finish(
          session,
          message.info.status === 'running' ? 'failed' : message.info.status,
          message.info.error?.message,
        );
        return;
      case 'error':
        this.finish(session, 'failed', message.message);
        return;
    }
  }

  private applyEvent(session: Session, event: RunEvent): void {
    const summary = session.summary;
    session.events.add(event);
    summary.progress = progressAfter(summary.progress ?? emptyProgress(summary.step), [event]);
    switch (event.type) {
      case 'phase':
        summary.phase = { index: event.index, kind: event.kind, label: event.label };
        // The phase starts at its first step: every step before it has run, logged or not (the
        // status bar said "sparsify · 191/2000" for a phase that starts at 200).
        summary.step = Math.max(summary.step, event.step);
        this.changed(session, true);
        return;
      case 'eval':
        this.changed(session, true);
        return;
      case 'step':
        delete summary.activity;
        summary.step = event.step + 1;
        session.pace.push({ at: performance.now(), step: summary.step });
        if (session.pace.length > PACE_STEPS) session.pace.shift();
        {
          const first = session.pace[0]!;
          const steps = summary.step - first.step;
          if (steps > 0)
            summary.etaSeconds =
              (((performance.now() - first.at) / steps) * Math.max(0, summary.totalSteps - summary.step)) / 1000;
        }
        summary.loss = event.loss;
        summary.globalSparsity = event.globalSparsity;
        summary.targetSparsity = event.targetSparsity;
        this.changed(session, false);
        return;
      default:
        return;
    }
  }

  /** Reports a change: at once when `important`, else at most every `changeThrottleMs`. */
  private changed(session: Session, important: boolean): void {
    const throttle = this.options.changeThrottleMs ?? 500;
    const now = performance.now();
    if (important || now - session.lastChange >= throttle) {
      clearTimeout(session.changeTimer);
      session.changeTimer = undefined;
      session.lastChange = now;
      this.options.onChange(session.summary);
    } else if (!session.changeTimer) {
      session.changeTimer = setTimeout(() => this.changed(session, true), session.lastChange + throttle - now);
    }
  }

  private finish(session: Session, state: SessionSummary['state'], error?: string): void {
    if (isFinalState(session.summary.state)) return;
    session.events.flush();
    clearTimeout(session.changeTimer);
    session.summary.state = state;
    if (error !== undefined) session.summary.error = error;
    else delete session.summary.error;
    this.options.onChange(session.summary);
    session.resolveEnded(session.summary);
    if (session.worker) void session.worker.terminate();
    if (this.running === session) {
      this.running = undefined;
      this.next();
    }
  }

  /** A worker that died mid-run cannot mark its own run folder: do it here so it never reads `running`. */
  private markRunFailed(session: Session, message: string): void {
    if (!session.summary.runDir) return;
    try {
      const store = RunStore.open(session.summary.runDir);
      // The dead worker's lock carries this process's id: only this manager knows it is gone.
      releaseRunFolder(session.summary.runDir);
      const info = store.readInfo();
      if (info.status !== 'running') return;
      store.prepareToContinue();
      store.releaseReserve();
      info.status = 'failed';
      info.error = { message };
      info.endedAt = info.updatedAt = new Date().toISOString();
      store.writeInfo(info);
      store.append({ type: 'status', step: info.step, status: 'failed', message });
    } catch {
      // The folder is unreadable: the summary still says why the session failed.
    }
  }
}
