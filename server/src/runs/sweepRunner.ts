/**
 * A sweep from its experiment file to a finished sweep folder: validate the file (every
 * combination), create `<output.dir>/<name>-sweep-<time>/` with `sweep.json`, hand the runs to an
 * executor (local processes or a SLURM job array), then follow the run folders until every run has
 * ended, rewriting `sweep.json` atomically as they do. `resumeSweep` does the same for the runs of
 * an existing sweep folder that have not completed.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { PhaseEvent, RunInfo, StepEvent, SweepInfo, SweepRunEntry } from '@protocol';
import { nodeHost } from '../data/nodeHost';
import { validateExperiment } from '../experiment/validate';
import {
  expandGrid,
  sweepAxes,
  sweepCombinationConfig,
  sweepRunFolderName,
  type SweepParams,
} from '../experiment/sweep';
import { ExperimentFileError } from './runExperiment';
import type { SweepExecutor } from './sweepExecutor';
import { slurmJobsActive, SlurmError } from './slurmExecutor';
import {
  createSweepFolder,
  FINAL_RUN_STATES,
  fileHash,
  startedRunInfo,
  readSweep,
  sweepId,
  writeSweep,
} from './sweepStore';
import { liveStatus } from './sweepSummary';

export interface SweepRunOptions {
  executor: SweepExecutor;
  /** Overrides `training.steps` of every run. */
  steps?: number;
  backend?: string;
  /** Overrides `output.dir` (absolute, or relative to the working directory). */
  outputDir?: string;
  /** false: return once the runs are submitted (SLURM `--no-wait`). */
  wait?: boolean;
  /** Aborting stops every run (each writes a checkpoint and ends `cancelled`). */
  signal?: AbortSignal;
  /** How often the run folders (and squeue) are looked at while nothing else wakes the follower. */
  pollMs?: number;
  /** Called once the sweep folder and sweep.json exist. */
  onStart?: (sweepDir: string, info: SweepInfo, toRun: number[]) => void;
  /** Called once per run that ends, in the order they end. */
  onRunEnd?: (ended: RunEnd) => void;
  /** Called after every look at the run folders. */
  onProgress?: (progress: SweepProgress) => void;
}

export interface RunEnd {
  index: number;
  entry: SweepRunEntry;
  info: RunInfo | undefined;
  /** Runs of this invocation that have ended so far, this one included, and how many it runs. */
  done: number;
  total: number;
}

export interface SweepProgress {
  done: number;
  total: number;
  /** The runs going on now, with the step and phase they are at. */
  running: { index: number; step: number; totalSteps: number; phase?: string }[];
}

export interface SweepOutcome {
  dir: string;
  info: SweepInfo;
}

/** Creates the sweep folder of a sweep file and runs every combination. */
export async function startSweep(file: string, options: SweepRunOptions): Promise<SweepOutcome> {
  const path = resolve(file);
  const text = readFileSync(path, 'utf8');
  const baseDir = dirname(path);
  const validation = validateExperiment(text, nodeHost(baseDir));
  const errors = validation.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !validation.config) throw new ExperimentFileError(file, errors);
  const axes = sweepAxes(validation.document.value);
  const combinations = expandGrid(axes);
  if (combinations.length === 0) throw new Error(`${file} has no \`sweep:\` grid to run`);
  // The validator checked every combination; this is the config each run will parse.
  const configs = combinations.map((params) => sweepCombinationConfig(validation.document.value, params));

  const outputDir = resolve(options.outputDir ?? resolve(baseDir, validation.config.output.dir));
  const dir = createSweepFolder(outputDir, validation.config.name);
  const now = new Date().toISOString();
  const info: SweepInfo = {
    format: 1,
    id: sweepId(dir),
    name: validation.config.name,
    experimentFile: path,
    fileHash: fileHash(text),
    overrides: {
      ...(options.steps !== undefined ? { steps: options.steps } : {}),
      ...(options.backend !== undefined ? { backend: options.backend } : {}),
    },
    grid: axes,
    executor: options.executor.describe(),
    status: 'running',
    createdAt: now,
    updatedAt: now,
    runs: combinations.map((params: SweepParams, index) => {
      const pruning = configs[index]!.pruning;
      return {
        dir: sweepRunFolderName(index, combinations.length, params),
        params,
        status: 'pending',
        method: pruning.method,
        sparsity: pruning.method === 'none' ? 0 : (pruning.sparsity ?? 0),
        log: `logs/${index}.log`,
      };
    }),
  };
  writeSweep(dir, info);
  try {
    await options.executor.launch(dir, info, [...info.runs.keys()]);
  } catch (error) {
    // Nothing ran (sbatch missing or the submission refused): leave no half-made sweep behind.
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return follow(dir, info, [...info.runs.keys()], options);
}

/** Runs the unfinished runs of a sweep folder again (resuming each from its checkpoint); completed ones are skipped. */
export async function resumeSweep(sweepDir: string, options: SweepRunOptions): Promise<SweepOutcome> {
  if (options.steps !== undefined || options.backend !== undefined)
    throw new Error('a resumed sweep runs with the options it started with; --steps and --backend cannot change');
  const dir = resolve(sweepDir);
  const info = readSweep(dir);
  if (!existsSync(info.experimentFile))
    throw new Error(`the sweep's experiment file ${info.experimentFile} does not exist any more`);
  if (fileHash(readFileSync(info.experimentFile, 'utf8')) !== info.fileHash)
    throw new Error(
      `${info.experimentFile} has changed since the sweep started, so its runs would no longer be the same experiment; start a new sweep instead`,
    );
  if (info.executor.kind === 'slurm') {
    let active: string[] = [];
    try {
      active = await slurmJobsActive(info.executor.jobIds);
    } catch (error) {
      // No SLURM here (a sweep folder copied off the cluster): nothing of it can still be running.
      if (!(error instanceof SlurmError)) throw error;
    }
    if (active.length > 0)
      throw new Error(
        `SLURM job ${active.join(', ')} of this sweep is still queued or running; wait for it to end or stop it (scancel ${active.join(' ')}) before resuming`,
      );
  }
  const todo = info.runs.flatMap((entry, i) =>
    startedRunInfo(join(dir, entry.dir))?.status === 'completed' ? [] : [i],
  );
  for (const i of todo) {
    const entry = info.runs[i]!;
    entry.status = 'pending';
    delete entry.error;
  }
  info.status = 'running';
  if (todo.length === 0) {
    info.status = sweepStatus(info);
    writeSweep(dir, info);
    options.onStart?.(dir, info, todo);
    return { dir, info };
  }
  await options.executor.launch(dir, info, todo);
  return follow(dir, info, todo, options);
}

/** Follows launched runs through their folders (and the executor) until each has ended. */
async function follow(dir: string, info: SweepInfo, todo: number[], options: SweepRunOptions): Promise<SweepOutcome> {
  const { executor } = options;
  info.executor = executor.describe(info.executor);
  writeSweep(dir, info);
  options.onStart?.(dir, info, todo);
  if (options.wait === false) return { dir, info };

  // A resumed run's folder still holds how it ended last time until its task rewrites run.json.
  const stale = new Map(todo.map((i) => [i, runMark(startedRunInfo(join(dir, info.runs[i]!.dir)))]));
  const tails = new Map<number, RunTail>();
  const open = new Set(todo);
  let done = 0;
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void executor.cancel();
  };
  if (options.signal?.aborted) stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    while (open.size > 0) {
      await executor.refresh();
      let changed = false;
      const running: SweepProgress['running'] = [];
      for (const index of [...open]) {
        const entry = info.runs[index]!;
        const task = executor.state(index); // before run.json: a task that ended has written it
        let run = startedRunInfo(join(dir, entry.dir));
        if (run && runMark(run) === stale.get(index)) run = undefined;
        else stale.delete(index);
        let status = liveStatus({ ...entry, status: 'pending' }, run);
        if (!FINAL_RUN_STATES.has(status) && task.kind === 'ended') {
          status = task.status;
          entry.error = task.reason;
        } else if (status === 'pending' && task.kind === 'running') status = 'running';
        if (status === 'failed' && run?.error) entry.error = run.error.message;
        if (status !== entry.status) {
          entry.status = status;
          changed = true;
        }
        if (FINAL_RUN_STATES.has(status)) {
          open.delete(index);
          tails.delete(index);
          done++;
          writeSweep(dir, info); // as each run ends, before anyone hears of it
          changed = false;
          options.onRunEnd?.({ index, entry, info: run, done, total: todo.length });
        } else if (status === 'running') {
          let tail = tails.get(index);
          if (!tail) tails.set(index, (tail = new RunTail(join(dir, entry.dir))));
          tail.read();
          running.push({
            index,
            step: tail.step ?? run?.step ?? 0,
            totalSteps: run?.totalSteps ?? 0,
            ...(tail.phase ? { phase: tail.phase } : {}),
          });
        }
      }
      if (changed) writeSweep(dir, info);
      options.onProgress?.({ done, total: todo.length, running });
      if (open.size > 0) await executor.nextChange(options.pollMs ?? 1000);
    }
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
  info.status = stopping ? 'cancelled' : sweepStatus(info);
  writeSweep(dir, info);
  return { dir, info };
}

/** What changes in run.json whenever a run starts, resumes or ends. */
function runMark(info: RunInfo | undefined): string | undefined {
  return info ? `${info.startedAt}|${info.resumes}|${info.status}|${info.endedAt}` : undefined;
}

function sweepStatus(info: SweepInfo): SweepInfo['status'] {
  if (info.runs.every((r) => r.status === 'completed')) return 'completed';
  if (info.runs.some((r) => r.status === 'failed')) return 'failed';
  if (info.runs.some((r) => r.status === 'cancelled' || r.status === 'pending')) return 'cancelled';
  return 'running';
}

/** The newest step and phase of a running run, read from its metrics.jsonl as it grows. */
class RunTail {
  private offset = 0;
  step: number | undefined;
  phase: string | undefined;

  constructor(private readonly runDir: string) {}

  read(): void {
    const path = join(this.runDir, 'metrics.jsonl');
    if (!existsSync(path)) return;
    const size = statSync(path).size;
    if (size < this.offset) this.offset = 0; // restarted from scratch
    if (size === this.offset) return;
    const chunk = Buffer.alloc(size - this.offset);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, chunk, 0, chunk.length, this.offset);
    } finally {
      closeSync(fd);
    }
    const end = chunk.lastIndexOf(0x0a) + 1; // whole lines only
    this.offset += end;
    for (const line of chunk.subarray(0, end).toString('utf8').split('\n')) {
      if (!line.startsWith('{"type":"step"') && !line.startsWith('{"type":"phase"')) continue;
      try {
        const event = JSON.parse(line) as StepEvent | PhaseEvent;
        if (event.type === 'step') this.step = event.step + 1;
        else this.phase = event.label;
      } catch {
        // A torn line of a killed run; the next one is whole.
      }
    }
  }
}
