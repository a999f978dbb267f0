/**
 * Messages between the extension host and the dashboard webviews: one union per panel (run,
 * schedule, compare, sweep) and direction, keyed by `type` and switched exhaustively on both
 * sides, so a panel's switch lists exactly its own messages. The unions are built from the message
 * shapes below; a shape two panels share (`theme`, `ready`, the exports) is declared once. The host
 * validates every message a panel sends against that panel's union (webview input is untrusted).
 * Plain JSON-safe payloads: binary data travels as base64.
 */
import type { RunEvent, RunInfo, SnapshotLayerBase64, SnapshotScoreKind } from './run';
import type { RunCompareResult, SchedulePreviewResult, ScoreRange, SessionSummary } from './session';
import type { SweepSummary } from './sweep';

/** One run of a comparison: its record and every event of its `metrics.jsonl`. */
export interface ComparedRunDto {
  runDir: string;
  info: RunInfo;
  events: RunEvent[];
}

// Host → webview.

/**
 * The run a panel shows: sent after `ready` (and whenever the panel is revived), and again when the
 * run's session ends; the panel replaces its state. Run panel.
 */
export interface RunMessage {
  type: 'run';
  info: RunInfo;
  events: RunEvent[];
}

/** New run events as the run progresses; the panel appends and redraws. Run panel. */
export interface RunEventsMessage {
  type: 'events';
  events: RunEvent[];
}

/**
 * Scores and masks at one step, in answer to `requestSnapshot`; the run panel redraws its heatmap,
 * coloured on `runRanges` (each layer's score range over the run so far) unless the user asked
 * for the step's own range.
 */
export interface SnapshotMessage {
  type: 'snapshot';
  step: number;
  score: SnapshotScoreKind;
  layers: SnapshotLayerBase64[];
  runRanges: Record<string, ScoreRange>;
}

/**
 * The live session of the run shown, whenever it changes (state, phase, step at most twice a
 * second): the summary strip follows its state (`queued` included) and its progress. Run panel.
 */
export interface SessionMessage {
  type: 'session';
  summary: SessionSummary;
}

/** The colour theme changed; the panel re-reads the `--vscode-*` variables and redraws. Every panel. */
export interface ThemeMessage {
  type: 'theme';
  kind: 'light' | 'dark' | 'high-contrast';
}

/**
 * The schedule of the experiment file, after `ready` and again as the file is edited; while the
 * file has errors, `error` says why and `preview` is absent (the panel keeps the last schedule it
 * drew). Schedule panel.
 */
export interface ScheduleMessage {
  type: 'schedule';
  preview?: SchedulePreviewResult;
  error?: string;
}

/**
 * The runs of a comparison with their events, after `ready` and again while one of them is still
 * training; the panel replaces its state. Compare panel.
 */
export interface CompareMessage {
  type: 'compare';
  runs: ComparedRunDto[];
  table: RunCompareResult;
}

/**
 * A sweep's runs summarised per cell, after `ready` and again (at most once a second) while its
 * runs go on; the panel replaces its state. Sweep panel.
 */
export interface SweepMessage {
  type: 'sweep';
  summary: SweepSummary;
}

// Webview → host.

/** The panel has loaded and listens; the host sends what it shows and `theme`, then what it queued. Every panel. */
export interface ReadyMessage {
  type: 'ready';
}

/** The user picked a step (or a new snapshot came); the host answers with `snapshot`. Run panel. */
export interface RequestSnapshotMessage {
  type: 'requestSnapshot';
  step: number;
}

/** The user pressed the CSV button; the host offers to save `csv` as `name`. Chart panels. */
export interface ExportCsvMessage {
  type: 'exportCsv';
  name: string;
  csv: string;
}

/** The user saved a chart; `dataUrl` is a `data:image/png;base64,…` URL. Chart panels. */
export interface ExportPngMessage {
  type: 'exportPng';
  name: string;
  dataUrl: string;
}

/** The toolbar's Export CSV and Save PNG buttons (every panel). */
export type ExportMessage = ExportCsvMessage | ExportPngMessage;

/** Run panel: one run's summary strip, its curves and its block heatmap at a snapshot step. */
export type RunHostMessage = RunMessage | RunEventsMessage | SessionMessage | SnapshotMessage | ThemeMessage;
export type RunPanelMessage = ReadyMessage | RequestSnapshotMessage | ExportMessage;

/** Schedule panel: one experiment file before any run. */
export type ScheduleHostMessage = ScheduleMessage | ThemeMessage;
export type SchedulePanelMessage = ReadyMessage | ExportMessage;

/** Compare panel: two or more runs. */
export type CompareHostMessage = CompareMessage | ThemeMessage;
export type ComparePanelMessage = ReadyMessage | ExportMessage;

/** Sweep panel: the accuracy–sparsity curve of a sweep folder. */
export type SweepHostMessage = SweepMessage | ThemeMessage;
export type SweepPanelMessage = ReadyMessage | ExportMessage;

/** Each panel's messages: `fromHost` host → webview, `fromPanel` webview → host. */
export interface DashboardMessages {
  run: { fromHost: RunHostMessage; fromPanel: RunPanelMessage };
  schedule: { fromHost: ScheduleHostMessage; fromPanel: SchedulePanelMessage };
  compare: { fromHost: CompareHostMessage; fromPanel: ComparePanelMessage };
  sweep: { fromHost: SweepHostMessage; fromPanel: SweepPanelMessage };
}

/**
 * Which bundle a panel runs: `run` shows one run folder, `schedule` one experiment file before any
 * run, `compare` two or more run folders, `sweep` a sweep folder.
 */
export type DashboardKind = keyof DashboardMessages;

/** What the host may send a panel of kind `K`. */
export type HostMessageOf<K extends DashboardKind> = DashboardMessages[K]['fromHost'];
/** What a panel of kind `K` may send its host. */
export type PanelMessageOf<K extends DashboardKind> = DashboardMessages[K]['fromPanel'];

/**
 * Any panel's messages, for code that speaks to every kind (the host's one panel class, the
 * fixture script, the Chromium test pages); a panel itself uses its own union.
 */
export type HostToWebview = HostMessageOf<DashboardKind>;
export type WebviewToHost = PanelMessageOf<DashboardKind>;
