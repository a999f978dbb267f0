/**
 * Messages between the extension host and the dashboard webviews (the sparsity, importance,
 * schedule and compare panels): two discriminated unions keyed by `type`, switched exhaustively on both sides. The host
 * validates every `WebviewToHost` message (webview input is untrusted). Plain JSON-safe payloads:
 * binary data travels as base64.
 */
import type { RunEvent, RunInfo, SnapshotLayerBase64, SnapshotScoreKind } from './run';
import type { RunCompareResult, SchedulePreviewResult } from './session';

/**
 * Which bundle a panel runs: `sparsity` and `importance` show one run folder, `schedule` one
 * experiment file before any run, `compare` two or more run folders.
 */
export type DashboardKind = 'sparsity' | 'importance' | 'schedule' | 'compare';

/** One run of a comparison: its record and every event of its `metrics.jsonl`. */
export interface ComparedRunDto {
  runDir: string;
  info: RunInfo;
  events: RunEvent[];
}

/**
 * Host → webview.
 * - `run`: sent after `ready` (and whenever the panel is revived), and again when the run's session
 *   ends; the panel replaces its state.
 * - `events`: new run events appended as the run progresses; the panel appends and redraws.
 * - `snapshot`: scores and masks at one step, in answer to `requestSnapshot` (or the latest one
 *   pushed as it is written); the importance panel redraws its heatmap.
 * - `theme`: the colour theme changed; panels re-read the `--vscode-*` variables and redraw.
 * - `schedule`: the schedule of the experiment file, after `ready` and again as the file is
 *   edited; while the file has errors, `error` says why and `preview` is absent (the panel keeps
 *   the last schedule it drew).
 * - `compare`: the runs of a comparison with their events, after `ready` and again while one of
 *   them is still training; the panel replaces its state.
 */
export type HostToWebview =
  | { type: 'run'; info: RunInfo; events: RunEvent[] }
  | { type: 'events'; events: RunEvent[] }
  | {
      type: 'snapshot';
      step: number;
      score: SnapshotScoreKind;
      layers: SnapshotLayerBase64[];
    }
  | { type: 'theme'; kind: 'light' | 'dark' | 'high-contrast' }
  | { type: 'schedule'; preview?: SchedulePreviewResult; error?: string }
  | { type: 'compare'; runs: ComparedRunDto[]; table: RunCompareResult };

/**
 * Webview → host.
 * - `ready`: the panel has loaded and listens; the host sends `run` (and queued messages).
 * - `requestSnapshot`: the user picked a step on the slider; the host answers with `snapshot`.
 * - `exportCsv`: the user pressed the CSV button; the host offers to save `csv` as `name`.
 * - `exportPng`: the user saved a chart; `dataUrl` is a `data:image/png;base64,…` URL.
 */
export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'requestSnapshot'; step: number }
  | { type: 'exportCsv'; name: string; csv: string }
  | { type: 'exportPng'; name: string; dataUrl: string };
