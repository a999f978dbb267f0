/**
 * `sparsity-studio run` on a file with a `sweep:` grid, or `run --resume` of a sweep folder: every
 * combination as its own run, on this machine (`--parallel N`) or as one SLURM job array
 * (`--executor slurm`), one progress line per run as it ends and a final table of mean ± sd over
 * the seeds of each cell. The options here are taken out of `run`'s arguments before it parses
 * the rest.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ExperimentFileError } from '../runs/runExperiment';
import { defaultParallelism, LocalExecutor, nvidiaGpuCount } from '../runs/localExecutor';
import { SlurmError, SlurmExecutor, type SlurmOptions } from '../runs/slurmExecutor';
import type { SweepExecutor } from '../runs/sweepExecutor';
import { resumeSweep, startSweep, type SweepRunOptions } from '../runs/sweepRunner';
import { readSweep } from '../runs/sweepStore';
import { formatMetric, loadSweep, summarizeSweep, sweepTable } from '../runs/sweepSummary';
import { describeParams, hasSweep, SWEEP_KEY, SWEEP_SLURM_KEY } from '../experiment/sweep';
import { SlurmSchema } from '../experiment/schema';
import { ExperimentDocument } from '../experiment/yamlDocument';
import type { CliIo } from './io';

export const SWEEP_USAGE =
  'sparsity-studio run SWEEP_FILE [--parallel N] [--executor local|slurm] [--no-wait] [--partition P] [--time T] [--cpus-per-task N] [--mem M] [--gres G] [--max-parallel N] [--sbatch-arg ARG]... | run --resume SWEEP_DIR [same options]';

export interface SweepCliOptions {
  parallel?: number;
  executor: 'local' | 'slurm';
  wait: boolean;
  /** Command-line overrides of `sweep.slurm`. */
  slurm: SlurmOptions;
  /** `--sweep-task SWEEP_DIR --index I`: run one combination (what each local process and SLURM task runs). */
  task?: { sweepDir: string; index: number };
  /** The sweep-only flags given, for the error when the file is not a sweep. */
  given: string[];
}

const positive = (v: string) => (/^\d+$/.test(v) && Number(v) >= 1 ? Number(v) : undefined);

/** Takes the sweep options out of `run`'s arguments; the rest is parsed as a single run's. */
export function takeSweepOptions(args: string[]): { rest: string[]; options: SweepCliOptions } | { error: string } {
  const options: SweepCliOptions = { executor: 'local', wait: true, slurm: {}, given: [] };
  const rest: string[] = [];
  let taskDir: string | undefined;
  let taskIndex: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const value = () => inline ?? args[++i] ?? '';
    const count = (what: string): number | { error: string } => {
      const v = value();
      return positive(v) ?? { error: `${what} must be a positive integer, got "${v}"` };
    };
    switch (flag) {
      case '--parallel': {
        const n = count('--parallel');
        if (typeof n !== 'number') return n;
        options.parallel = n;
        break;
      }
      case '--executor': {
        const v = value();
        if (v !== 'local' && v !== 'slurm') return { error: `--executor must be local or slurm, got "${v}"` };
        options.executor = v;
        break;
      }
      case '--no-wait':
        options.wait = false;
        break;
      case '--partition':
        options.slurm.partition = value();
        break;
      case '--time':
        options.slurm.time = value();
        break;
      case '--mem':
        options.slurm.mem = value();
        break;
      case '--gres':
        options.slurm.gres = value();
        break;
      case '--cpus-per-task': {
        const n = count('--cpus-per-task');
        if (typeof n !== 'number') return n;
        options.slurm.cpus_per_task = n;
        break;
      }
      case '--max-parallel': {
        const n = count('--max-parallel');
        if (typeof n !== 'number') return n;
        options.slurm.max_parallel = n;
        break;
      }
      case '--sbatch-arg':
        options.slurm.sbatch_args = [...(options.slurm.sbatch_args ?? []), value()];
        break;
      case '--sweep-task':
        taskDir = value();
        continue;
      case '--index': {
        const v = value();
        if (!/^\d+$/.test(v)) return { error: `--index must be a run index (0, 1, ...), got "${v}"` };
        taskIndex = Number(v);
        continue;
      }
      default:
        rest.push(arg);
        continue;
    }
    options.given.push(flag);
  }
  if ((taskDir === undefined) !== (taskIndex === undefined))
    return { error: '--sweep-task SWEEP_DIR and --index I go together' };
  if (taskDir !== undefined) options.task = { sweepDir: taskDir, index: taskIndex! };
  if (options.executor !== 'slurm') {
    const slurmOnly = options.given.filter((f) => f !== '--parallel' && f !== '--executor');
    if (slurmOnly.length > 0) return { error: `${slurmOnly.join(', ')} only apply with --executor slurm` };
  } else if (options.parallel !== undefined)
    return {
      error: '--parallel is for the local executor; with SLURM use --max-parallel (or sweep.slurm.max_parallel)',
    };
  return { rest, options };
}

/** Whether `file` declares a sweep (read with the same YAML parser as the validator; unreadable: no). */
export function isSweepFile(file: string): boolean {
  try {
    return hasSweep(new ExperimentDocument(readFileSync(file, 'utf8')).value);
  } catch {
    return false;
  }
}

/**
 * The CLI as a child process or a SLURM task runs it: the bundle itself (dist/cli.js), or from
 * source through tsx (tests), with absolute paths since SLURM tasks start in the sweep folder.
 */
export function cliCommand(): string[] {
  if (__filename.endsWith('.js')) return [process.execPath, __filename];
  // createRequire: a plain require.resolve would make esbuild try to bundle tsx.
  const tsx = join(dirname(createRequire(__filename).resolve('tsx/package.json')), 'dist', 'loader.mjs');
  return [process.execPath, '--import', pathToFileURL(tsx).href, join(__dirname, '..', 'cli.ts')];
}

/** A top-level value of the experiment file as written (undefined when unreadable: the runner says why). */
function fileValue(experimentFile: string, key: string): unknown {
  try {
    const value = new ExperimentDocument(readFileSync(experimentFile, 'utf8')).value;
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  } catch {
    return undefined;
  }
}

/** `sweep.slurm` of the experiment file, with the command line's options over it. */
function slurmOptions(experimentFile: string, overrides: SlurmOptions): SlurmOptions {
  let fromFile: SlurmOptions = {};
  const sweep = fileValue(experimentFile, SWEEP_KEY) as Record<string, unknown> | undefined;
  const parsed = SlurmSchema.safeParse(sweep?.[SWEEP_SLURM_KEY] ?? {});
  if (parsed.success) fromFile = parsed.data;
  const merged: SlurmOptions = { ...fromFile, ...overrides };
  if (overrides.sbatch_args) merged.sbatch_args = [...(fromFile.sbatch_args ?? []), ...overrides.sbatch_args];
  return merged;
}

export interface SweepCommandInput {
  file?: string;
  resumeDir?: string;
  steps?: number;
  backend?: string;
  outputDir?: string;
  options: SweepCliOptions;
}

export async function sweepCommand(input: SweepCommandInput, io: CliIo): Promise<number> {
  const { options } = input;
  let executor: SweepExecutor;
  let experimentFile: string;
  try {
    experimentFile = input.resumeDir ? readSweep(input.resumeDir).experimentFile : input.file!;
  } catch (error) {
    io.error(`sparsity-studio run: ${(error as Error).message}`);
    return 1;
  }
  if (options.executor === 'slurm') {
    executor = new SlurmExecutor({ slurm: slurmOptions(experimentFile, options.slurm), command: cliCommand() });
  } else {
    const fallback = defaultParallelism(input.backend ?? fileValue(experimentFile, 'backend'));
    const parallel = options.parallel ?? fallback.parallel;
    io.error(
      `parallel: ${parallel} run(s) at once${options.parallel === undefined ? ` (default: ${fallback.why})` : ''}`,
    );
    executor = new LocalExecutor({ parallel, command: cliCommand(), gpus: nvidiaGpuCount(), detached: true });
  }

  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      io.error('\nstopping the sweep: every run writes a checkpoint and ends cancelled (Ctrl-C again to kill them)...');
      controller.abort();
    } else void executor.cancel().finally(() => process.exit(130)); // local runs are killed, not asked
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = performance.now();
  const runOptions: SweepRunOptions = {
    executor,
    steps: input.steps,
    backend: input.backend,
    outputDir: input.outputDir,
    wait: options.wait,
    signal: controller.signal,
    pollMs: options.executor === 'slurm' ? 2000 : 500,
    onStart: (dir, info, toRun) => {
      io.error(`sweep folder: ${dir}`);
      const axes = info.grid.map((a) => `${a.path} × ${a.values.length}`).join(', ');
      const skipped = info.runs.length - toRun.length;
      io.error(
        `sweep ${info.name}: ${info.runs.length} runs (${axes})${skipped > 0 ? `, ${skipped} already completed` : ''}${
          info.executor.kind === 'slurm'
            ? `; SLURM job ${info.executor.jobIds.at(-1)} (${toRun.length} array tasks)`
            : ''
        }`,
      );
    },
    onRunEnd: ({ entry, info, done, total }) => {
      const width = String(total).length;
      const m = info?.final?.metrics;
      const metric =
        m?.accuracy !== undefined
          ? `accuracy ${formatMetric('accuracy', m.accuracy)}`
          : m?.auc !== undefined
            ? `auc ${formatMetric('auc', m.auc)}`
            : '';
      const detail =
        entry.status === 'completed'
          ? [
              metric,
              info?.final ? `sparsity ${(100 * info.final.sparsity.global).toFixed(1)}%` : '',
              `${info?.timing.total_s.toFixed(1)} s`,
            ]
          : [entry.error ?? info?.error?.message ?? '', `log: ${entry.log}`];
      io.error(
        `[${String(done).padStart(width)}/${total}] ${entry.status.padEnd(9)} ${entry.dir}  ${detail.filter(Boolean).join('  ')}`,
      );
    },
  };
  try {
    const outcome = input.resumeDir
      ? await resumeSweep(input.resumeDir, runOptions)
      : await startSweep(input.file!, runOptions);
    if (!options.wait) {
      const job = outcome.info.executor.kind === 'slurm' ? outcome.info.executor.jobIds.at(-1) : undefined;
      io.out(`submitted: SLURM job ${job}`);
      io.out(`sweep folder: ${outcome.dir}`);
      io.out(`follow it with: squeue --jobs=${job}; then: sparsity-studio report ${outcome.dir}`);
      return 0;
    }
    const summary = summarizeSweep(loadSweep(outcome.dir));
    const { columns, rows } = sweepTable(summary);
    const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
    io.out(columns.map((c, i) => c.padEnd(widths[i]!)).join('  '));
    for (const row of rows) io.out(row.map((v, i) => v.padEnd(widths[i]!)).join('  '));
    const c = summary.counts;
    io.out(
      `${summary.runs.length} runs: ${c.completed} completed, ${c.failed} failed, ${c.cancelled} cancelled${c.pending ? `, ${c.pending} not started` : ''} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
    for (const run of summary.runs.filter((r) => r.status === 'failed'))
      io.out(`failed: ${describeParams(run.params)}: ${run.error ?? ''} (log: ${run.log})`);
    io.out(`sweep folder: ${outcome.dir}`);
    if (outcome.info.status === 'cancelled') return 130;
    return c.failed > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof ExperimentFileError) {
      for (const d of error.diagnostics)
        io.error(
          `${input.file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity} [${d.code}] ${d.message}`,
        );
    }
    io.error(
      `sparsity-studio run: ${error instanceof SlurmError ? `SLURM: ${error.message}` : (error as Error).message}`,
    );
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
