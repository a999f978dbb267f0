/**
 * Pruning sessions and run folders over LSP: the custom messages between the extension and the
 * language server that LSP itself cannot express. Progress bars use standard `$/progress`
 * (work-done progress the server creates per session; cancelling it stops the session).
 * Each message is declared once here, with its direction, trigger and reaction.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import type { RunProgress } from './runHeadline';
import type {
  BackendAttempt,
  BackendNameDto,
  BackendSearchDto,
  PhaseKindDto,
  RunEvent,
  RunInfo,
  RunStatus,
  SnapshotLayerBase64,
  SnapshotScoreKind,
} from './run';

/** Where a session stands: `queued` waits for its device's queue; the rest mirror `RunStatus`. */
export type SessionState = 'queued' | RunStatus;

/** The states a session never leaves: its run folder holds its final record. */
export const FINAL_STATES = ['completed', 'failed', 'cancelled'] as const satisfies readonly RunStatus[];
export type FinalState = (typeof FINAL_STATES)[number];

/** Whether a session (or a run, by its `RunStatus`) has ended. */
export function isFinalState(state: SessionState): state is FinalState {
  return (FINAL_STATES as readonly string[]).includes(state);
}

/** What the status bar, code lenses and the Runs view need to know about one session. */
export interface SessionSummary {
  sessionId: string;
  /** The experiment document the session came from (a `file:` URI). */
  experimentUri: string;
  /** Absolute path of the run folder; empty while `queued`. */
  runDir: string;
  name: string;
  method: RunInfo['method'];
  state: SessionState;
  /** The backend that really runs it, once chosen. */
  backend?: BackendNameDto;
  phase?: { index: number; kind: PhaseKindDto; label: string };
  step: number;
  totalSteps: number;
  /** Fraction of zero kernel entries over all layers with a kernel, at the last logged step. */
  globalSparsity: number;
  /** The schedule's target (fraction of blocks per pruned layer) at the last logged step. */
  targetSparsity: number;
  loss?: number;
  /** What it does before its first step when that takes a while ("downloading Fashion-MNIST: 4.2 of 31 MB"). */
  activity?: string;
  /** Why it failed, when `state` is `failed`. */
  error?: string;
  /** The run's target: fraction of blocks removed from each pruned layer at the end. */
  finalTargetSparsity?: number;
  /** Threads the backend computes with, when the run records them. */
  threads?: number;
  /**
   * Seconds left while it runs, at the wall-clock pace of its last logged steps (evaluations and
   * snapshots included, which the step time alone leaves out).
   */
  etaSeconds?: number;
  /** Evaluations and recent step times from the run's events (the headline's numbers, `runHeadline.ts`). */
  progress?: RunProgress;
}

export interface SessionStartParams {
  /** The `prune-yaml` document to run; the server reads its current (possibly unsaved) text. */
  uri: string;
  /** Overrides `training.steps`; tests and quick looks use it. */
  steps?: number;
}

export interface SessionResumeParams {
  /** Absolute path of a run folder that holds a checkpoint. */
  runDir: string;
}

export interface SessionStartResult {
  session: SessionSummary;
}

export interface SessionIdParams {
  sessionId: string;
}

export interface SessionListResult {
  sessions: SessionSummary[];
}

export interface SessionEventsParams {
  sessionId: string;
  runDir: string;
  /** Events in order, exactly as appended to the run's `metrics.jsonl` since the last batch. */
  events: RunEvent[];
}

export interface RunReadParams {
  /** Absolute path of a run folder. */
  runDir: string;
  /** 0-based line of `metrics.jsonl` to read from; a dashboard catching up passes its `nextLine`. */
  fromLine?: number;
}

export interface RunReadResult {
  info: RunInfo;
  events: RunEvent[];
  /** Where the next read should start. */
  nextLine: number;
}

export interface RunSnapshotParams {
  runDir: string;
  /** Step of a `snapshot` event of that run. */
  step: number;
}

/** The smallest and largest block score of a layer. */
export interface ScoreRange {
  min: number;
  max: number;
}

/** Layers are base64 so the payload stays JSON-safe and compact. */
export interface RunSnapshotResult {
  step: number;
  phase: number;
  score: SnapshotScoreKind;
  layers: SnapshotLayerBase64[];
  /**
   * Each layer's score range over every snapshot the run has written so far, by layer name: the
   * heatmap's colour scale that stays the same across steps.
   */
  runRanges: Record<string, ScoreRange>;
}

export interface RunExportParams {
  runDir: string;
}

export interface RunExportResult {
  /** Absolute paths of the files written under `<runDir>/export/`. */
  files: string[];
  warnings: string[];
}

export interface RunCompareParams {
  /** Two or more run folders. */
  runDirs: string[];
}

export interface RunCompareResult {
  /** Column keys of the final-results table (`run`, `method`, `seed`, `accuracy`, …). */
  columns: string[];
  /** One row per run, in the order asked, each cell already formatted (`87.61%`, `-` when absent). */
  rows: string[][];
  /** Dotted config paths whose values differ, with each run's value as JSON text. */
  differences: { path: string; values: string[] }[];
  /** The same table and differences as Markdown (what `sparsity-studio compare` prints). */
  markdown: string;
}

export interface SchedulePreviewParams {
  /** A `prune-yaml` document; its current text is used. */
  uri: string;
}

export interface SchedulePhaseDto {
  index: number;
  kind: PhaseKindDto;
  label: string;
  startStep: number;
  /** Exclusive. */
  endStep: number;
}

export interface SchedulePreviewResult {
  name: string;
  method: RunInfo['method'];
  totalSteps: number;
  phases: SchedulePhaseDto[];
  /** Target sparsity (fraction of blocks per pruned layer) sampled at `steps`, same length. */
  steps: number[];
  targetSparsity: number[];
  learningRate: number[];
  /** Kept blocks per pruned layer at the end of training. */
  layers: { name: string; blocks: number; keptBlocks: number; pruned: boolean }[];
}

export interface BackendInfoResult {
  /** What `backend: auto` would choose on this machine now, with every attempt and its reason. */
  chosen: BackendNameDto;
  attempts: BackendAttempt[];
  details: Record<string, string | number | boolean>;
  search?: BackendSearchDto;
  /** All of it as lines of text, the same `sparsity-studio backends` prints; the client shows them as they are. */
  report: string[];
}

/**
 * client -> server request. Trigger: the Run code lens or the "Run Experiment" command.
 * Reaction: the server validates the document (errors refuse the start with a message naming the
 * first one), queues a session on its device's queue and answers at once; training runs in a
 * worker thread. Refused with `RequestFailed` in an untrusted workspace.
 */
export const SessionStartRequest = new RequestType<SessionStartParams, SessionStartResult, void>(
  'sparsity/session/start',
);

/** client -> server request. Trigger: "Resume Run" on a cancelled or failed run. Reaction: as start. */
export const SessionResumeRequest = new RequestType<SessionResumeParams, SessionStartResult, void>(
  'sparsity/session/resume',
);

/**
 * client -> server request. Trigger: the Stop code lens, the "Stop" command, or cancelling the
 * progress notification. Reaction: the worker writes a checkpoint, the run is marked `cancelled`,
 * and the answer comes once the run folder is consistent.
 */
export const SessionStopRequest = new RequestType<SessionIdParams, SessionSummary, void>('sparsity/session/stop');

/**
 * client -> server request. Not sent by the extension, which follows `didChange` (a restarted server
 * has no sessions); for other LSP clients and the tests. Reaction: every session of this server,
 * queued, running or ended, in the order they were started.
 */
export const SessionListRequest = new RequestType0<SessionListResult, void>('sparsity/session/list');

/**
 * server -> client notification. Trigger: a session changes state or phase, evaluates, or (at most
 * twice a second) moves on a step. Reaction: the client updates the status bar, code lenses, the Runs
 * view and the run panel's summary strip, and says when the session has ended.
 */
export const SessionDidChangeNotification = new NotificationType<SessionSummary>('sparsity/session/didChange');

/**
 * server -> client notification. Trigger: the session's run appended events; batched so that at
 * most 10 are sent per second per session. Reaction: open dashboards of that run append them.
 */
export const SessionDidReportEventsNotification = new NotificationType<SessionEventsParams>(
  'sparsity/session/didReportEvents',
);

/**
 * client -> server request. Trigger: a dashboard opens or replays a run folder (live or finished).
 * Reaction: `run.json` and the `metrics.jsonl` events from `fromLine` on.
 */
export const RunReadRequest = new RequestType<RunReadParams, RunReadResult, void>('sparsity/run/read');

/**
 * client -> server request. Trigger: the run panel's heatmap shows a step (slider, live update).
 * Reaction: that snapshot's scores and masks per layer, and each layer's score range over the run.
 */
export const RunSnapshotRequest = new RequestType<RunSnapshotParams, RunSnapshotResult, void>('sparsity/run/snapshot');

/**
 * client -> server request. Trigger: "Export Run". Reaction: the run's final checkpoint folded into
 * a TF.js LayersModel and the block-sparse format under `<runDir>/export/`.
 */
export const RunExportRequest = new RequestType<RunExportParams, RunExportResult, void>('sparsity/run/export');

/**
 * client -> server request. Trigger: "Compare Runs" on a selection in the Runs view (the compare
 * panel). Reaction: the table of `sparsity-studio compare` and the config differences.
 */
export const RunCompareRequest = new RequestType<RunCompareParams, RunCompareResult, void>('sparsity/run/compare');

/**
 * client -> server request. Trigger: the "Preview schedule" code lens. Reaction: the phases and
 * target-sparsity curve from the same schedule function the trainer executes.
 */
export const SchedulePreviewRequest = new RequestType<SchedulePreviewParams, SchedulePreviewResult, void>(
  'sparsity/schedule/preview',
);

/**
 * The setting the server reads with `workspace/configuration` when a session starts and for Show
 * Backend Information: folders where `@tensorflow/tfjs-node(-gpu)` may be installed.
 */
export const MODULE_PATHS_SETTING = 'sparsityStudio.engine.modulePaths';

/**
 * client -> server request. Trigger: "Show Backend Information". Reaction: what `auto` chooses and
 * why; in an untrusted workspace no backend package is loaded from it (its attempts say so).
 */
export const BackendInfoRequest = new RequestType0<BackendInfoResult, void>('sparsity/backend/info');
