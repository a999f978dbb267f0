/**
 * `sparsity-studio run FILE [--steps N] [--backend B] [--threads T] [--out DIR]`: one pruning run, with a
 * progress line (phase, step, sparsity, loss, ETA) on stderr and the run folder at the end.
 * Ctrl-C, SIGTERM and SIGHUP stop the run cleanly: its folder is marked `cancelled` and the command
 * exits 128 + the signal's number (130, 143, 129).
 */
import { constants as osConstants } from 'node:os';
import type { BackendNameDto, RunInfo } from '@protocol';
import { ExperimentFileError, resumeRun, runExperiment, type RunOptions } from '../runs/runExperiment';
import { isSweepFolder } from '../runs/sweepStore';
import { runSweepTask } from '../runs/sweepTask';
import { UsageError, type CommandSpec } from './args';
import type { CliIo, ParsedCommand } from './io';
import { isSweepFile, sweepCommand, SWEEP_OPTIONS, sweepOptions } from './sweep';

const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

export const RUN: CommandSpec = {
  name: 'run',
  summary:
    'Run one pruning experiment into a new run folder, or every combination of its `sweep:` grid (here or on SLURM); or resume a run or sweep folder.',
  positionals: { names: 'FILE', min: 0, max: 1 },
  options: {
    steps: { type: 'string', value: 'N', integer: { min: 1 }, description: 'Train N steps instead of training.steps.' },
    backend: { type: 'string', choices: BACKENDS, description: 'Override `backend:` of the experiment.' },
    threads: {
      type: 'string',
      value: 'auto|N',
      description: 'Override `threads:` of the experiment (wasm compute threads; auto: every core).',
    },
    out: { type: 'string', value: 'DIR', description: 'Write the run folder under DIR instead of output.dir.' },
    resume: {
      type: 'string',
      value: 'RUN_DIR',
      description: 'Continue RUN_DIR from its last checkpoint, or finish the runs of a sweep folder (no FILE).',
    },
    ...SWEEP_OPTIONS,
  },
  alternative: '--resume RUN_DIR|SWEEP_DIR [--backend ...]',
  notes: [
    'Ctrl-C (SIGINT), SIGTERM (scancel, a SLURM time limit) and SIGHUP stop after the current step with a',
    'checkpoint: the run ends `cancelled`, resumable.',
    'A FILE with a `sweep:` grid runs every combination into <output.dir>/<name>-sweep-<time>/ and prints',
    'a line per run and a table of mean ± sd over seeds; a sweep exits 1 when a run failed.',
    'exit status: 0 completed, 1 failed or refused (errors in FILE), 2 bad usage, 130/143/129 cancelled by SIGINT/SIGTERM/SIGHUP.',
  ],
};

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export async function runCommand({ options, positionals }: ParsedCommand, io: CliIo): Promise<number> {
  const file = positionals[0];
  const steps = options['steps'] === undefined ? undefined : Number(options['steps']);
  const backend = options['backend'] as BackendNameDto | 'auto' | undefined;
  const threadsOption = options['threads'] as string | undefined;
  const threads = threadsOption === undefined || threadsOption === 'auto' ? threadsOption : Number(threadsOption);
  if (typeof threads === 'number' && (!Number.isInteger(threads) || threads < 1))
    throw new UsageError('--threads must be auto or a positive integer');
  const outputDir = options['out'] as string | undefined;
  const resumeDir = options['resume'] as string | undefined;
  const sweep = sweepOptions(options);
  const task = sweep.task;
  if (!file && !resumeDir && !task) throw new UsageError('no experiment file given');
  if (file && resumeDir) throw new UsageError('give an experiment file or --resume RUN_DIR, not both');
  if (task && (file || resumeDir))
    throw new UsageError('--sweep-task SWEEP_DIR runs one run of a sweep: give no FILE or --resume with it');
  if ((resumeDir || task) && (steps !== undefined || outputDir !== undefined))
    throw new UsageError('--steps and --out apply to a new run, not to --resume');
  if ((file && isSweepFile(file)) || (resumeDir && isSweepFolder(resumeDir)))
    return sweepCommand({ file, resumeDir, steps, backend, outputDir, options: sweep }, io);
  if (sweep.given.length > 0)
    throw new UsageError(`${sweep.given.join(', ')} only apply to a sweep (a file with \`sweep:\`, or a sweep folder)`);

  // Ctrl-C, `kill` (SIGTERM) and a closed terminal (SIGHUP) all stop after the current step with a
  // checkpoint and the run marked `cancelled`; the same signal again kills at once.
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    io.error(`\n${signal}: stopping after this step (${signal} again to kill)...`);
    stoppedBy = signal;
    controller.abort();
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  const started = performance.now();
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  try {
    const common: RunOptions = {
      backend,
      ...(threads !== undefined && { threads: threads }),
      signal: controller.signal,
      onStart: (run, dir) => {
        io.error(`run folder: ${dir}${run.resumes > 0 ? ` (resumed from step ${run.step})` : ''}`);
        const skipped = run.backend.attempts.filter((a) => !a.used).map((a) => `${a.backend} (${a.reason})`);
        io.error(`backend: ${describeBackend(run.backend)}${skipped.length ? `; skipped ${skipped.join('; ')}` : ''}`);
      },
      onActivity: (message) => {
        const now = performance.now();
        if (tty) process.stderr.write(`\r${message.padEnd(100)}`);
        else if (now - lastLine >= 2000) {
          lastLine = now;
          io.error(message);
        }
      },
      onEvent: (event, run) => {
        if (event.type === 'status' && event.message && event.status === 'running')
          io.error(`${tty ? '\n' : ''}${event.message}`);
        if (event.type === 'phase')
          io.error(`${tty ? '\n' : ''}phase ${event.index + 1}: ${event.label} [${event.startStep}, ${event.endStep})`);
        if (event.type === 'eval')
          io.error(
            `${tty ? '\n' : ''}eval @${event.step}: loss ${event.metrics.loss.toFixed(4)}${event.metrics.accuracy !== undefined ? `, accuracy ${(100 * event.metrics.accuracy).toFixed(2)}%` : ''}`,
          );
        if (event.type !== 'step') return;
        const now = performance.now();
        if (!tty && now - lastLine < 2000) return;
        lastLine = now;
        const done = event.step + 1;
        const eta = (((now - started) / done) * (run.totalSteps - done)) / 1000;
        const line = `step ${done}/${run.totalSteps}  sparsity ${(100 * event.globalSparsity).toFixed(1)}% (target ${(100 * event.targetSparsity).toFixed(0)}%/layer)  loss ${event.loss.toFixed(4)}  ETA ${eta.toFixed(0)} s`;
        if (tty) process.stderr.write(`\r${line.padEnd(100)}`);
        else io.error(line);
      },
    };
    const result = task
      ? await runSweepTask(task.sweepDir, task.index, common)
      : resumeDir
        ? await resumeRun(resumeDir, common)
        : await runExperiment(file!, { ...common, steps, outputDir });
    if ('skipped' in result) {
      io.out(`${result.skipped}: ${result.dir}`);
      return 0;
    }
    const { info, dir } = result;
    if (tty) process.stderr.write('\n');
    const final = info.final;
    if (info.status === 'failed') {
      io.error(`run failed: ${info.error?.message ?? 'unknown error'}`);
      io.out(`run folder: ${dir}`);
      return 1;
    }
    if (final) {
      const m = final.metrics;
      io.out(
        `${info.status}: ${info.step} steps on ${describeBackend(info.backend)}, median step ${info.timing.step_ms_median?.toFixed(1)} ms${byPhaseKind(info)}; accuracy ${m.accuracy !== undefined ? `${(100 * m.accuracy).toFixed(2)}%` : 'n/a'}${m.support_precision !== undefined ? `, support precision@k ${m.support_precision.toFixed(3)} (chance ${m.support_precision_chance?.toFixed(3)})` : ''}; global sparsity ${(100 * final.sparsity.global).toFixed(1)}%`,
      );
    }
    io.out(`run folder: ${dir}`);
    return info.status === 'cancelled' ? 128 + osConstants.signals[stoppedBy ?? 'SIGINT'] : 0;
  } catch (error) {
    if (error instanceof ExperimentFileError) {
      for (const d of error.diagnostics)
        io.error(
          `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity} [${d.code}] ${d.message}`,
        );
    }
    io.error(`sparsity-studio run: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  }
}

/** `wasm, 2 threads` (with why, when fewer threads run than were asked for). */
export function describeBackend(backend: RunInfo['backend']): string {
  const threads = backend.details['threads'];
  if (typeof threads !== 'number') return backend.name;
  const note = backend.details['threadsNote'];
  return `${backend.name}, ${threads} thread${threads === 1 ? '' : 's'}${typeof note === 'string' ? ` (${note})` : ''}`;
}

/** ` (dense 12.0, sparse 5.1 ms)`: the median step of each kind of phase the run had. */
function byPhaseKind(info: RunInfo): string {
  const byKind = info.timing.step_ms_by_phase_kind;
  const parts = (['dense', 'sparsify', 'sparse'] as const).flatMap((kind) =>
    byKind?.[kind] !== undefined ? [`${kind} ${byKind[kind].toFixed(1)}`] : [],
  );
  return parts.length > 1 ? ` (${parts.join(', ')} ms)` : '';
}
