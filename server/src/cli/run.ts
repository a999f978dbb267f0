/**
 * `sparsity-studio run FILE [--steps N] [--backend B] [--out DIR]`: one pruning run, with a
 * progress line (phase, step, sparsity, loss, ETA) on stderr and the run folder at the end.
 * Ctrl-C stops the run cleanly: its folder is marked `cancelled` and the command exits 130.
 */
import type { BackendNameDto } from '@protocol';
import { ExperimentFileError, resumeRun, runExperiment, type RunOptions } from '../runs/runExperiment';
import { UsageError, type CommandSpec } from './args';
import type { CliIo, ParsedCommand } from './io';

const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

export const RUN: CommandSpec = {
  name: 'run',
  summary: 'Run one pruning experiment into a new run folder, or resume a run folder from its last checkpoint.',
  positionals: { names: 'FILE', min: 0, max: 1 },
  options: {
    steps: { type: 'string', value: 'N', integer: { min: 1 }, description: 'Train N steps instead of training.steps.' },
    backend: { type: 'string', choices: BACKENDS, description: 'Override `backend:` of the experiment.' },
    out: { type: 'string', value: 'DIR', description: 'Write the run folder under DIR instead of output.dir.' },
    resume: { type: 'string', value: 'RUN_DIR', description: 'Continue RUN_DIR from its last checkpoint (no FILE).' },
  },
  alternative: '--resume RUN_DIR [--backend ...]',
  notes: [
    'Ctrl-C (SIGINT) stops after the current step with a checkpoint: the run ends `cancelled`, resumable.',
    'exit status: 0 completed, 1 failed or refused (errors in FILE), 2 bad usage, 130 cancelled.',
  ],
};

export async function runCommand({ options, positionals }: ParsedCommand, io: CliIo): Promise<number> {
  const file = positionals[0];
  const steps = options['steps'] === undefined ? undefined : Number(options['steps']);
  const backend = options['backend'] as BackendNameDto | 'auto' | undefined;
  const outputDir = options['out'] as string | undefined;
  const resumeDir = options['resume'] as string | undefined;
  if (!file && !resumeDir) throw new UsageError('no experiment file given');
  if (file && resumeDir) throw new UsageError('give an experiment file or --resume RUN_DIR, not both');
  if (resumeDir && (steps !== undefined || outputDir !== undefined))
    throw new UsageError('--steps and --out apply to a new run, not to --resume');

  const controller = new AbortController();
  const onSignal = () => {
    io.error('\nstopping after this step (Ctrl-C again to kill)...');
    controller.abort();
    process.off('SIGINT', onSignal);
  };
  process.on('SIGINT', onSignal);
  const started = performance.now();
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  try {
    const common: RunOptions = {
      backend,
      signal: controller.signal,
      onStart: (run, dir) => {
        io.error(`run folder: ${dir}${run.resumes > 0 ? ` (resumed from step ${run.step})` : ''}`);
        const skipped = run.backend.attempts.filter((a) => !a.used).map((a) => `${a.backend} (${a.reason})`);
        io.error(`backend: ${run.backend.name}${skipped.length ? `; skipped ${skipped.join('; ')}` : ''}`);
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
    const { info, dir } = resumeDir
      ? await resumeRun(resumeDir, common)
      : await runExperiment(file!, { ...common, steps, outputDir });
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
        `${info.status}: ${info.step} steps on ${info.backend.name}, median step ${info.timing.step_ms_median?.toFixed(1)} ms; accuracy ${m.accuracy !== undefined ? `${(100 * m.accuracy).toFixed(2)}%` : 'n/a'}${m.support_precision !== undefined ? `, support precision@k ${m.support_precision.toFixed(3)} (chance ${m.support_precision_chance?.toFixed(3)})` : ''}; global sparsity ${(100 * final.sparsity.global).toFixed(1)}%`,
      );
    }
    io.out(`run folder: ${dir}`);
    return info.status === 'cancelled' ? 130 : 0;
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
    process.off('SIGINT', onSignal);
  }
}
