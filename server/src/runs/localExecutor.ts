/**
 * Runs a sweep's runs as child processes on this machine, `parallel` at a time. Stopping the sweep
 * asks every child once to stop (SIGINT: the run writes a checkpoint and ends `cancelled`), a
 * second time kills it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { SweepExecutorInfo, SweepInfo } from '@protocol';
import { sweepTaskArgs, type SweepExecutor, type TaskState } from './sweepExecutor';

/** NVIDIA GPUs the driver lists, without running anything (0 on machines without one). */
export function nvidiaGpuCount(): number {
  const dir = '/proc/driver/nvidia/gpus';
  try {
    return existsSync(dir) ? readdirSync(dir).length : 0;
  } catch {
    return 0;
  }
}

/**
 * `--parallel` when not given: one run per device. A run on a GPU backend owns a GPU. On the CPU
 * each core is one: as many runs as cores, one wasm thread each, since separate runs scale where
 * threads do not (the 12-run sample: 26 s two at a time, 132 s one at a time on both cores, on a
 * busy 2-core machine; notes/compute.md: two threads give 1.3x a step even on idle cores).
 */
export function defaultParallelism(backend: unknown): { parallel: number; why: string } {
  const cores = availableParallelism();
  const gpus = backend === 'wasm' || backend === 'cpu' ? 0 : nvidiaGpuCount();
  if (gpus > 0) return { parallel: Math.min(gpus, cores), why: `one per GPU (${gpus} GPUs, ${cores} cores)` };
  return { parallel: cores, why: `one per CPU core (${cores} cores)` };
}

/**
 * The wasm threads of each of `parallel` runs sharing this machine's cores: they split them, so N
 * runs never ask for N times the cores (`threads: auto` reads it from SPARSITY_STUDIO_THREADS).
 */
export function threadsPerRun(parallel: number): number {
  return Math.max(1, Math.floor(availableParallelism() / parallel));
}

export interface LocalExecutorOptions {
  parallel: number;
  /** The CLI: program and its leading arguments (`node`, `dist/cli.js`). */
  command: string[];
  /** GPUs to hand out, one per parallel slot (CUDA_VISIBLE_DEVICES); 0 on CPU machines. */
  gpus?: number;
  /**
   * Each run in its own process group (the CLI: a Ctrl-C in the terminal reaches only the sweep,
   * which stops the runs with a checkpoint). The language server keeps them in its own group, so
   * they end with it.
   */
  detached?: boolean;
}

export class LocalExecutor implements SweepExecutor {
  private readonly queue: number[] = [];
  private readonly children = new Map<number, { child: ChildProcess; slot: number }>();
  private readonly ended = new Map<number, TaskState & { kind: 'ended' }>();
  private wake: (() => void) | undefined;
  private sweepDir = '';
  private sweep: SweepInfo | undefined;
  private cancelled = false;

  constructor(private readonly options: LocalExecutorOptions) {}

  launch(sweepDir: string, sweep: SweepInfo, indices: number[]): Promise<void> {
    this.sweepDir = sweepDir;
    this.sweep = sweep;
    this.queue.push(...indices);
    this.fill();
    return Promise.resolve();
  }

  private fill(): void {
    while (!this.cancelled && this.children.size < this.options.parallel && this.queue.length > 0)
      this.start(this.queue.shift()!);
  }

  private start(index: number): void {
    const used = new Set([...this.children.values()].map((c) => c.slot));
    let slot = 0;
    while (used.has(slot)) slot++;
    const entry = this.sweep!.runs[index]!;
    const log = openSync(join(this.sweepDir, entry.log), 'a');
    const env = { ...process.env };
    if (this.options.gpus) env['CUDA_VISIBLE_DEVICES'] = String(slot % this.options.gpus);
    // The runs split the cores (a thread count the user set for the sweep stands).
    env['SPARSITY_STUDIO_THREADS'] ??= String(threadsPerRun(this.options.parallel));
    const [program, ...leading] = this.options.command;
    const child = spawn(program!, [...leading, ...sweepTaskArgs(this.sweepDir, index)], {
      stdio: ['ignore', log, log],
      env,
      detached: this.options.detached ?? false,
    });
    closeSync(log);
    this.children.set(index, { child, slot });
    const end = (state: TaskState & { kind: 'ended' }) => {
      if (this.ended.has(index)) return;
      this.children.delete(index);
      this.ended.set(index, state);
      this.fill();
      this.wake?.();
    };
    child.on('error', (error) =>
      end({ kind: 'ended', status: 'failed', reason: `could not start ${program}: ${error.message}` }),
    );
    child.on('exit', (code, signal) => {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const stopped = code === 130 || signal === 'SIGINT' || signal === 'SIGTERM';
      end({
        kind: 'ended',
        status: stopped ? 'cancelled' : 'failed',
        reason: `the run's process ${how}; see ${entry.log}`,
      });
    });
  }

  refresh(): Promise<void> {
    return Promise.resolve();
  }

  state(index: number): TaskState {
    const ended = this.ended.get(index);
    if (ended) return ended;
    if (this.children.has(index)) return { kind: 'running' };
    if (this.cancelled)
      return { kind: 'ended', status: 'cancelled', reason: 'the sweep was stopped before it started' };
    return { kind: 'waiting' };
  }

  /** The first call asks each run to stop (SIGINT: checkpoint, `cancelled`); a second one kills them. */
  cancel(): Promise<void> {
    const signal = this.cancelled ? 'SIGKILL' : 'SIGINT';
    this.cancelled = true;
    for (const { child } of this.children.values()) child.kill(signal);
    this.wake?.();
    return Promise.resolve();
  }

  nextChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  describe(): SweepExecutorInfo {
    return { kind: 'local', parallel: this.options.parallel };
  }
}
