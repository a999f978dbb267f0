/**
 * Messages between the session manager (language server thread) and a session worker thread.
 * Internal to the server: they never cross to the client.
 */
import type { RunEvent, RunInfo } from '@protocol';
import type { BackendSearchOptions } from '../runs/runExperiment';

/**
 * The `workerData` of a session worker: the language server's bundle started as a worker thread
 * runs the session worker instead of the server (server/src/main.ts).
 */
export const SESSION_WORKER_DATA = { role: 'sparsity-session' } as const;

export function isSessionWorkerData(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { role?: unknown }).role === SESSION_WORKER_DATA.role;
}

export type ToWorker =
  | { type: 'start'; file: string; steps?: number; backendSearch?: BackendSearchOptions }
  | { type: 'resume'; runDir: string; backendSearch?: BackendSearchOptions }
  /** Abort the run: it writes a checkpoint and ends `cancelled`. */
  | { type: 'stop' };

export type FromWorker =
  | { type: 'started'; info: RunInfo; runDir: string }
  /** Run events in the order the run wrote them (batched: see sessionWorker.ts). */
  | { type: 'events'; events: RunEvent[] }
  /** What the run does before its first step (downloading its data), at most twice a second. */
  | { type: 'activity'; message: string }
  /** The run ended (completed, cancelled or failed: `info.status` says which). */
  | { type: 'done'; info: RunInfo; runDir: string }
  /** The run could not start (invalid file, no checkpoint, ...): nothing was written, or `runDir` was marked failed. */
  | { type: 'error'; message: string };
