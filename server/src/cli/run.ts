/**
 * `sparsity-studio run FILE [--steps N] [--backend B] [--out DIR]`: one pruning run, with a
 * progress line (phase, step, sparsity, loss, ETA) on stderr and the run folder at the end.
 * Ctrl-C stops the run cleanly: its folder is marked `cancelled` and the command exits 130.
 */
import type { BackendNameDto } from '@protocol';
import { ExperimentFileError, resumeRun, runExperiment, type RunOptions } from '../runs/runExperiment';
import type { CliIo } from './io';

export const RUN_USAGE =
  'sparsity-studio run FILE [--steps N] [--backend auto|wasm|cpu|webgpu|tensorflow] [--out DIR] | run --resume RUN_DIR';

const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

export async function runCommand(args: string[], io: CliIo): Promise<number> {
  let file: string | undefined;
  let steps: number | undefined;
  let backend: BackendNameDto | 'auto' | undefined;
  let outputDir: string | undefined;
  let resumeDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = () => args[++i] ?? '';
    if (arg === '--steps') {
      steps = Number(value());
      if (!Number.isInteger(steps) || steps < 1) return usage(io, '--steps must be a positive integer');
    } else if (arg === '--backend') {
      const b = value();
      if (!BACKENDS.includes(b)) return usage(io, `--backend must be one of ${BACKENDS.join(', ')}`);
      backend = b as BackendNameDto | 'auto';
    } else if (arg === '--out') outputDir = value();
    else if (arg === '--resume') resumeDir = value();
    else if (arg.startsWith('-')) return usage(io, `unknown option ${arg}`);
    else if (file) return usage(io, 'give one experiment file');
    else file = arg;
  }
  if (!file && !resumeDir) return usage(io, 'no experiment file given');
  if (file && resumeDir) return usage(io, 'give an experiment file or --resume RUN_DIR, not both');

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
        `${info.status}: ${info.step} steps on ${info.backend.name}, median step ${info.timing.step_ms_median?.toFixed(1)} ms; accuracy ${m.accuracy !== undefined ? `${(100 * m.accuracy).toFixed(2)}%` : 'n/a'}${m.support_f1 !== undefined ? `, support F1 ${m.support_f1.toFixed(3)}` : ''}; global sparsity ${(100 * final.sparsity.global).toFixed(1)}%`,
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

function usage(io: CliIo, problem: string): number {
  io.error(`${problem}\nusage: ${RUN_USAGE}`);
  return 2;
}
