/**
 * What runs a sweep's runs: child processes on this machine (`LocalExecutor`) or a SLURM job
 * array (`SlurmExecutor`). Either way each run is an ordinary `sparsity-studio run --sweep-task
 * SWEEP_DIR --index I` writing its own run folder; the sweep runner follows those folders and asks
 * the executor only about runs whose folder cannot say (not started yet, or died without a word).
 */
import type { SweepExecutorInfo, SweepInfo } from '@protocol';

/** What the executor knows of one run. */
export type TaskState =
  | { kind: 'waiting' }
  | { kind: 'running' }
  /** The task is over: `status` is what the run is when its folder does not say otherwise. */
  | { kind: 'ended'; status: 'failed' | 'cancelled'; reason: string };

export interface SweepExecutor {
  /** Starts (or submits) these runs of the sweep; `taskArgs(i)` is the CLI invocation of run `i`. */
  launch(sweepDir: string, sweep: SweepInfo, indices: number[]): Promise<void>;
  /** Looks again (squeue); the local executor knows at once. */
  refresh(): Promise<void>;
  state(index: number): TaskState;
  /** Stops every run: running ones write a checkpoint and end `cancelled`, waiting ones never start. */
  cancel(): Promise<void>;
  /** Resolves on the next change worth a look, or after `ms`. */
  nextChange(ms: number): Promise<void>;
  /** How sweep.json records it. */
  describe(previous?: SweepExecutorInfo): SweepExecutorInfo;
}

/** The arguments after the CLI's own path that run one combination of a sweep. */
export function sweepTaskArgs(sweepDir: string, index: number | string): string[] {
  return ['run', '--sweep-task', sweepDir, '--index', String(index)];
}
