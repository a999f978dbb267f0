/**
 * Runs a sweep on a SLURM cluster as one job array: `sbatch --array=<run indices>` of a batch
 * script whose every task is an ordinary `sparsity-studio run --sweep-task` into the sweep folder
 * (on the shared filesystem). Tasks are followed through their run folders and `squeue`; `scancel`
 * stops them. SLURM's own messages are passed on as they are.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SweepExecutorInfo, SweepInfo } from '@protocol';
import { sweepTaskArgs, type SweepExecutor, type TaskState } from './sweepExecutor';

/** Resources of each run: `sweep.slurm` of the file, overridden by command-line options. */
export interface SlurmOptions {
  partition?: string;
  time?: string;
  cpus_per_task?: number;
  mem?: string;
  gres?: string;
  max_parallel?: number;
  /** More `sbatch` arguments, one per item (`--account=ml`). */
  sbatch_args?: string[];
}

/** A SLURM command failed: `message` is SLURM's own (or says the command is missing). */
export class SlurmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SlurmError';
  }
}

interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a SLURM command to its end; a missing command is a SlurmError that says so. */
export function slurmCommand(program: string, args: string[]): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        new SlurmError(
          error.code === 'ENOENT'
            ? `${program}: command not found: the SLURM client commands are not on the PATH (run on a login node of the cluster)`
            : `${program}: ${error.message}`,
        ),
      ),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** `0-3,7,9-10`: run indices as an `--array` list. */
export function arraySpec(indices: number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The `sbatch` options of these resources (without `--array`). */
export function sbatchResourceArgs(options: SlurmOptions): string[] {
  const args: string[] = [];
  if (options.partition) args.push(`--partition=${options.partition}`);
  if (options.time) args.push(`--time=${options.time}`);
  if (options.cpus_per_task) args.push(`--cpus-per-task=${options.cpus_per_task}`);
  if (options.mem) args.push(`--mem=${options.mem}`);
  if (options.gres) args.push(`--gres=${options.gres}`);
  return [...args, ...(options.sbatch_args ?? [])];
}

const WAITING = new Set(['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD']);
const RUNNING = new Set(['RUNNING', 'COMPLETING', 'SUSPENDED', 'STOPPED', 'SIGNALING', 'STAGE_OUT', 'RESIZING']);

export const SWEEP_SCRIPT = 'sweep.sbatch';

export interface SlurmExecutorOptions {
  slurm: SlurmOptions;
  /** The CLI: program and its leading arguments, as the compute nodes can run them (shared filesystem). */
  command: string[];
}

export class SlurmExecutor implements SweepExecutor {
  /** Job id of each submission, and which submission each run index was last part of. */
  private readonly jobIds: string[] = [];
  private readonly jobOf = new Map<number, string>();
  /** `jobId_task` → SLURM state, from the last squeue. */
  private states = new Map<string, string>();
  private sweepDir = '';
  private sweep: SweepInfo | undefined;

  constructor(private readonly options: SlurmExecutorOptions) {}

  /** The batch script: every task runs its combination (its array index is the run index). */
  script(sweepDir: string, sweep: SweepInfo): string {
    const [program, ...leading] = this.options.command;
    const cli = [program!, ...leading].map(quote).join(' ');
    const task = sweepTaskArgs(sweepDir, '$SLURM_ARRAY_TASK_ID').map((a) =>
      a === '$SLURM_ARRAY_TASK_ID' ? `"${a}"` : quote(a),
    );
    return [
      '#!/bin/bash',
      `# Sweep ${sweep.name}: one array task per run of ${sweep.runs.length}, submitted by sparsity-studio`,
      `# (sbatch --array=<run indices> ${sbatchResourceArgs(this.options.slurm).join(' ')} ${SWEEP_SCRIPT}).`,
      '# A run trains on the cores SLURM gave the task (`threads: auto`), not on every core of the node.',
      'export SPARSITY_STUDIO_THREADS="${SPARSITY_STUDIO_THREADS:-${SLURM_CPUS_PER_TASK:-1}}"',
      `exec ${cli} ${task.join(' ')}`,
      '',
    ].join('\n');
  }

  async launch(sweepDir: string, sweep: SweepInfo, indices: number[]): Promise<void> {
    this.sweepDir = sweepDir;
    this.sweep = sweep;
    const script = join(sweepDir, SWEEP_SCRIPT);
    writeFileSync(script, this.script(sweepDir, sweep), { mode: 0o755 });
    const max = this.options.slurm.max_parallel;
    const args = [
      '--parsable',
      `--job-name=${sweep.name}-sweep`,
      `--array=${arraySpec(indices)}${max ? `%${max}` : ''}`,
      `--output=${join(sweepDir, 'logs', '%a.log')}`,
      '--open-mode=append',
      `--chdir=${sweepDir}`,
      ...sbatchResourceArgs(this.options.slurm),
      script,
    ];
    const result = await slurmCommand('sbatch', args);
    const jobId = result.stdout.trim().split(';')[0] ?? '';
    if (result.code !== 0 || !/^\d+$/.test(jobId))
      throw new SlurmError(result.stderr.trim() || result.stdout.trim() || `sbatch exited with code ${result.code}`);
    this.jobIds.push(jobId);
    for (const i of indices) this.jobOf.set(i, jobId);
  }

  /** The job ids of this executor's submissions (the last one is the newest). */
  get submitted(): readonly string[] {
    return this.jobIds;
  }

  async refresh(): Promise<void> {
    if (this.jobIds.length === 0) return;
    const result = await slurmCommand('squeue', [
      '--noheader',
      '--array',
      '--states=all',
      `--jobs=${this.jobIds.join(',')}`,
      '--format=%F|%K|%T',
    ]);
    // Every job of the list gone (aged out of slurmctld's memory) is an error for squeue, and means
    // no task is left; any other failure (slurmctld restarting) keeps what we knew.
    if (result.code !== 0) {
      if (/invalid job id/i.test(result.stderr)) this.states = new Map();
      return;
    }
    const states = new Map<string, string>();
    for (const line of result.stdout.split('\n')) {
      const [job, task, state] = line.trim().split('|');
      if (job && task && state) states.set(`${job}_${task}`, state.replace(/[+ ].*$/, ''));
    }
    this.states = states;
  }

  state(index: number): TaskState {
    const job = this.jobOf.get(index);
    if (job === undefined) return { kind: 'waiting' };
    const state = this.states.get(`${job}_${index}`);
    const log = this.sweep?.runs[index]?.log ?? `logs/${index}.log`;
    if (state === undefined) {
      // Gone from squeue: a task that never wrote its log never started (cancelled while pending).
      return existsSync(join(this.sweepDir, log))
        ? {
            kind: 'ended',
            status: 'failed',
            reason: `SLURM task ${job}_${index} ended without finishing its run; see ${log}`,
          }
        : { kind: 'ended', status: 'cancelled', reason: `SLURM task ${job}_${index} was cancelled before it started` };
    }
    if (WAITING.has(state)) return { kind: 'waiting' };
    if (RUNNING.has(state)) return { kind: 'running' };
    if (state === 'CANCELLED')
      return { kind: 'ended', status: 'cancelled', reason: `SLURM task ${job}_${index} was cancelled (scancel)` };
    if (state === 'COMPLETED')
      return {
        kind: 'ended',
        status: 'failed',
        reason: `SLURM task ${job}_${index} ended without finishing its run; see ${log}`,
      };
    return { kind: 'ended', status: 'failed', reason: `SLURM task ${job}_${index} ended ${state}; see ${log}` };
  }

  async cancel(): Promise<void> {
    if (this.jobIds.length === 0) return;
    const result = await slurmCommand('scancel', this.jobIds);
    if (result.code !== 0) throw new SlurmError(result.stderr.trim() || `scancel exited with code ${result.code}`);
  }

  nextChange(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  describe(previous?: SweepExecutorInfo): SweepExecutorInfo {
    const earlier = previous?.kind === 'slurm' ? previous.jobIds : [];
    return { kind: 'slurm', jobIds: [...earlier, ...this.jobIds], script: SWEEP_SCRIPT };
  }
}

/** Whether any task of these jobs is still queued or running (a resume must not run them twice). */
export async function slurmJobsActive(jobIds: string[]): Promise<string[]> {
  if (jobIds.length === 0) return [];
  const result = await slurmCommand('squeue', ['--noheader', `--jobs=${jobIds.join(',')}`, '--format=%F']);
  if (result.code !== 0) return [];
  return [
    ...new Set(
      result.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
    ),
  ];
}
