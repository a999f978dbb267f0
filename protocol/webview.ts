/**
 * Messages between a dashboard panel's host (client/src/dashboards) and its webview bundle
 * (webview/src). Two unions keyed by `type`, switched exhaustively on both sides; the host
 * validates everything the webview sends. JSON-safe only: arrays as base64.
 */
import type { RunEvent, RunInfo } from './run';

/** Which bundle a panel runs. */
export type DashboardKind = 'sparsity' | 'importance';

export type HostToWebview =
  /** The whole run so far: sent after `ready`, and again after a reload. */
  | { type: 'run'; info: RunInfo; events: RunEvent[] }
  /** Events appended since, live while a session trains. */
  | { type: 'events'; events: RunEvent[] }
  /** One snapshot's block scores and masks (base64 float32 LE / bytes), answering `requestSnapshot`. */
  | {
      type: 'snapshot';
      step: number;
      score: 'attention' | 'magnitude';
      layers: { name: string; gridRows: number; gridCols: number; scores: string; mask: string }[];
    }
  | { type: 'theme'; kind: 'light' | 'dark' | 'high-contrast' };

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'requestSnapshot'; step: number }
  | { type: 'exportCsv'; name: string; csv: string }
  | { type: 'exportPng'; name: string; dataUrl: string };
