/**
 * The shape of a sweep on disk and of its summary: written by the sweep runner (CLI, local or
 * SLURM), read by `report`, `compare`, the Runs view and the sweep panel. Plain JSON-safe DTOs.
 *
 * A sweep folder `<output.dir>/<name>-sweep-<YYYYMMDD-HHMMSS>/` holds `sweep.json` (`SweepInfo`,
 * rewritten atomically as runs end), one ordinary run folder per combination of the grid, and
 * `logs/` (each run's stderr, or its SLURM task output). Below: the LSP messages of sweeps run
 * from the editor.
 */
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { FinalMetrics, RunStatus, SweepValue } from './run';

/** One axis of the grid: a dotted key path of the experiment format and the values it takes. */
export interface SweepAxis {
  /** `pruning.sparsity`, `seed`, `model.hidden`, ... */
  path: string;
  values: SweepValue[];
}

/** `pending`: not started yet (or submitted to SLURM and waiting in its queue). */
export type SweepRunStatus = 'pending' | RunStatus;

export interface SweepRunEntry {
  /** The run folder, relative to `sweep.json`. */
  dir: string;
  /** One value per axis, keyed by the axis path, in the grid's order. */
  params: Record<string, SweepValue>;
  status: SweepRunStatus;
  /** The method this combination runs (`pruning.method` of the file or of the combination). */
  method: string;
  /** Its target sparsity per pruned layer (fraction of blocks); 0 for `none`. */
  sparsity: number;
  /** The run's stderr or SLURM task output, relative to `sweep.json` (kept for every run). */
  log: string;
  /** Why it failed, when the run folder cannot say (a task that died before writing run.json). */
  error?: string;
}

export type SweepExecutorInfo =
  | { kind: 'local'; parallel: number }
  | {
      kind: 'slurm';
      /** The job id of each submission (a resume submits the unfinished runs again). */
      jobIds: string[];
      /** The batch script, relative to `sweep.json`. */
      script: string;
    };

export interface SweepInfo {
  /** Format version of this file. */
  format: 1;
  /** Folder name, unique under `output.dir`. */
  id: string;
  name: string;
  /** Absolute path of the experiment file. */
  experimentFile: string;
  /** SHA-256 of the experiment file's text when the sweep started; runs and resumes check it. */
  fileHash: string;
  /** Command-line overrides every run of the sweep uses. */
  overrides: { steps?: number; backend?: string };
  grid: SweepAxis[];
  executor: SweepExecutorInfo;
  /** `running` until every run has ended; `cancelled` when the sweep was stopped. */
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  createdAt: string;
  updatedAt: string;
  runs: SweepRunEntry[];
}

/** Final metrics a sweep summarises; `accuracy`/`support_precision`/`auc` are better higher, the losses lower. */
export type SweepMetric = keyof FinalMetrics;

/** Mean, sample standard deviation (null with one value) and count of one metric over a cell's runs. */
export interface SweepStat {
  mean: number;
  sd: number | null;
  n: number;
}

/** One cell of the grid: the runs that differ only in their seed. */
export interface SweepCell {
  /** The cell's parameters (every axis but `seed`). */
  params: Record<string, SweepValue>;
  /** `method=sapp · block=[8,8]`: every parameter but the sparsity; one chart line per series. */
  series: string;
  /** The method of the cell's runs. */
  method: string;
  /** Target sparsity per pruned layer (fraction of blocks), the chart's x. */
  sparsity: number;
  /** Achieved global sparsity (fraction of zero kernel entries), over the completed runs. */
  globalSparsity: SweepStat | null;
  /** Per metric, over the completed runs of the cell. */
  metrics: Partial<Record<SweepMetric, SweepStat>>;
  /** Runs of the cell by status. */
  runs: { total: number; completed: number; failed: number; running: number };
  /** A dense reference cell (`pruning.method: none` or sparsity 0). */
  dense: boolean;
  /**
   * The metrics for which the cell is on the Pareto front of sparsity against that metric's mean:
   * no other cell is at least as sparse and at least as good, and better in one.
   */
  pareto: SweepMetric[];
}

/** One run of a sweep as the panel and the report list it. */
export interface SweepRunSummary {
  /** Absolute path of the run folder. */
  runDir: string;
  params: Record<string, SweepValue>;
  status: SweepRunStatus;
  step: number;
  totalSteps: number;
  metrics?: FinalMetrics;
  globalSparsity?: number;
  error?: string;
  /** Absolute path of the run's log. */
  log: string;
}

/** A sweep folder read back with the runs' own `run.json` (fresher than `sweep.json` while it runs). */
export interface SweepSummary {
  /** Absolute path of the sweep folder. */
  sweepDir: string;
  name: string;
  status: SweepInfo['status'];
  grid: SweepAxis[];
  executor: SweepExecutorInfo['kind'];
  task: 'classification' | 'ctr' | null;
  /** The metric the chart shows first: `accuracy` for classification, `auc` for CTR. */
  metric: SweepMetric;
  /** Metrics some completed run reported. */
  metricsAvailable: SweepMetric[];
  cells: SweepCell[];
  runs: SweepRunSummary[];
  counts: Record<SweepRunStatus, number>;
}

// ---------------------------------------------------------------------------------------------
// Sweeps from the editor over LSP (the CLI runs them directly).
// ---------------------------------------------------------------------------------------------

/** Where an editor sweep stands; `runs` are those going on now, with the step and phase they are at. */
export interface SweepSessionSummary {
  sweepId: string;
  /** The experiment document the sweep came from (a `file:` URI). */
  experimentUri: string;
  /** Absolute path of the sweep folder. */
  sweepDir: string;
  name: string;
  state: 'running' | 'completed' | 'failed' | 'cancelled';
  /** Runs that have ended, and how many the sweep runs. */
  done: number;
  total: number;
  running: { index: number; step: number; totalSteps: number; phase?: string }[];
  /** Why it could not go on, when `state` is `failed` for a reason no run holds. */
  error?: string;
}

export interface SweepStartParams {
  /** The `prune-yaml` document with a `sweep:` grid; its saved file is what runs. */
  uri: string;
  /** Overrides `training.steps` of every run; tests and quick looks use it. */
  steps?: number;
  /** Runs at once; default one per device (a GPU each, else a CPU core each). */
  parallel?: number;
}

export interface SweepStartResult {
  sweep: SweepSessionSummary;
}

export interface SweepIdParams {
  sweepId: string;
}

export interface SweepReadParams {
  /** Absolute path of a sweep folder (one with `sweep.json`). */
  sweepDir: string;
}

/**
 * client -> server request. Trigger: the "Run sweep (N runs)" code lens or the "Run Sweep"
 * command. Reaction: the server validates the file (errors refuse it, naming the first), creates
 * the sweep folder and starts the runs as CLI processes (`--parallel` of them at once), answering
 * once the folder exists; one work-done progress follows the whole sweep (runs done / total, the
 * current run's phase) and cancelling it stops the sweep. Refused in an untrusted workspace.
 */
export const SweepStartRequest = new RequestType<SweepStartParams, SweepStartResult, void>('sparsity/sweep/start');

/**
 * client -> server request. Trigger: the "Stop sweep" lens or command, or cancelling its progress.
 * Reaction: every running run writes a checkpoint and ends `cancelled`, runs not started never
 * start; the answer comes once they have stopped (`run --resume SWEEP_DIR` continues it).
 */
export const SweepStopRequest = new RequestType<SweepIdParams, SweepSessionSummary, void>('sparsity/sweep/stop');

/**
 * client -> server request. Trigger: the sweep panel opens or refreshes. Reaction: `sweep.json`
 * with each run's own `run.json` summarised per cell (`SweepSummary`), for any sweep folder (the
 * editor's, the CLI's, a SLURM one).
 */
export const SweepReadRequest = new RequestType<SweepReadParams, SweepSummary, void>('sparsity/sweep/read');

/**
 * server -> client notification. Trigger: an editor sweep starts, a run of it ends, or (at most
 * once a second) its running runs move on. Reaction: the code lenses, the Runs view and an open
 * sweep panel of that folder refresh.
 */
export const SweepDidChangeNotification = new NotificationType<SweepSessionSummary>('sparsity/sweep/didChange');
