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
import { defaultParallelism, LocalExecutor, nvidiaGpuCount, threadsPerRun } from '../runs/localExecutor';
import { SlurmError, SlurmExecutor, type SlurmOptions } from '../runs/slurmExecutor';
import type { SweepExecutor } from '../runs/sweepExecutor';
import { resumeSweep, startSweep, type SweepRunOptions } from '../runs/sweepRunner';
import { readSweep } from '../runs/sweepStore';
import { formatMetric, loadSweep, summarizeSweep, sweepTable } from '../runs/sweepSummary';
import { describeParams, hasSweep, SWEEP_KEY, SWEEP_SLURM_KEY } from '../experiment/sweep';
import { SlurmSchema } from '../experiment/schema';
import { ExperimentDocument } from '../experiment/yamlDocument';
import { UsageError, type OptionSpec, type ParsedOptions } from './args';
import type { CliIo } from './io';

/** The options of `run` for sweeps (declared with the others in run.ts's `RUN`). */
export const SWEEP_OPTIONS: Record<string, OptionSpec> = {
  parallel: {
    type: 'string',
    value: 'N',
    integer: { min: 1 },
    description: 'Sweeps: runs at once on this machine (default: one per GPU, else one per CPU core).',
  },
  executor: {
    type: 'string',
    choices: ['local', 'slurm'],
    description: 'Sweeps: run here (local, the default) or as one SLURM job array (slurm).',
  },
  'no-wait': { type: 'boolean', description: 'SLURM: print the job id and return instead of following the runs.' },
  partition: { type: 'string', value: 'P', description: 'SLURM: the partition (over sweep.slurm.partition).' },
  time: { type: 'string', value: 'T', description: 'SLURM: time limit of each run, e.g. 2:00:00.' },
  'cpus-per-task': { type: 'string', value: 'N', integer: { min: 1 }, description: 'SLURM: cores of each run.' },
  mem: { type: 'string', value: 'M', description: 'SLURM: memory of each run, e.g. 8G.' },
  gres: { type: 'string', value: 'G', description: 'SLURM: generic resources of each run, e.g. gpu:1.' },
  'max-parallel': { type: 'string', value: 'N', integer: { min: 1 }, description: 'SLURM: at most N runs at once.' },
  'sbatch-arg': {
    type: 'string',
    value: 'ARG',
    multiple: true,
    description: 'SLURM: one more sbatch argument; repeatable; write --sbatch-arg=--account=ml.',
  },
  'sweep-task': {
    type: 'string',
    value: 'SWEEP_DIR',
    description: 'Run one combination of SWEEP_DIR (with --index): what each sweep process and SLURM task runs.',
  },
  index: { type: 'string', value: 'I', integer: { min: 0 }, description: 'The run of --sweep-task, from 0.' },
};

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

const SLURM_FLAGS: Record<string, keyof SlurmOptions> = {
  partition: 'partition',
  time: 'time',
  'cpus-per-task': 'cpus_per_task',
  mem: 'mem',
  gres: 'gres',
  'max-parallel': 'max_parallel',
  'sbatch-arg': 'sbatch_args',
};

/** The sweep options of a parsed `run`; a combination that does not fit is a `UsageError`. */
export function sweepOptions(options: ParsedOptions): SweepCliOptions {
  const given = Object.keys(SWEEP_OPTIONS).filter(
    (name) => options[name] !== undefined && name !== 'sweep-task' && name !== 'index',
  );
  const result: SweepCliOptions = {
    executor: options['executor'] === 'slurm' ? 'slurm' : 'local',
    wait: options['no-wait'] !== true,
    slurm: {},
    given: given.map((name) => `--${name}`),
  };
  if (options['parallel'] !== undefined) result.parallel = Number(options['parallel']);
  for (const [flag, key] of Object.entries(SLURM_FLAGS)) {
    const value = options[flag];
    if (value === undefined) continue;
    if (key === 'sbatch_args') result.slurm.sbatch_args = [value].flat() as string[];
    else if (key === 'cpus_per_task' || key === 'max_parallel') result.slurm[key] = Number(value);
    else result.slurm[key] = value as string;
  }
  const taskDir = options['sweep-task'] as string | undefined;
  const taskIndex = options['index'] as string | undefined;
  if ((taskDir === undefined) !== (taskIndex === undefined))
    throw new UsageError('--sweep-task SWEEP_DIR and --index I go together');
  if (taskDir !== undefined) result.task = { sweepDir: taskDir, index: Number(taskIndex) };
  const slurmOnly = given.filter((name) => name !== 'parallel' && name !== 'executor').map((n) => `--${n}`);
  if (result.executor !== 'slurm' && slurmOnly.length > 0)
    throw new UsageError(`${slurmOnly.join(', ')} only apply with --executor slurm`);
  if (result.executor === 'slurm' && result.parallel !== undefined)
    throw new UsageError(
      '--parallel is for the local executor; with SLURM use --max-parallel (or sweep.slurm.max_parallel)',
    );
  return result;
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
 * source through tsx (tests), with absolute paths since SLURM tasks start in the sweep folder, where
 * tsx would not find the project's tsconfig (its `@protocol` paths) by itself.
 */
export function cliCommand(): string[] {
  if (__filename.endsWith('.js')) return [process.execPath, __filename];
  // createRequire: a plain require.resolve would make esbuild try to bundle tsx.
  const tsx = join(dirname(createRequire(__filename).resolve('tsx/package.json')), 'dist', 'loader.mjs');
  const tsconfig = join(__dirname, '..', '..', '..', 'tsconfig.base.json');
  return [
    'env',
    `TSX_TSCONFIG_PATH=${tsconfig}`,
    process.execPath,
    '--import',
    pathToFileURL(tsx).href,
    join(__dirname, '..', 'cli.ts'),
  ];
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
      `parallel: ${parallel} run(s) at once, ${threadsPerRun(parallel)} wasm thread(s) each${options.parallel === undefined ? ` (default: ${fallback.why})` : ''}`,
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
