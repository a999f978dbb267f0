/**
 * One run of a sweep, as a local child process or a SLURM array task runs it
 * (`sparsity-studio run --sweep-task SWEEP_DIR --index I`): the combination `I` of `sweep.json`
 * into its run folder. A completed run is left alone, an unfinished one resumes from its
 * checkpoint, and one that never wrote a checkpoint starts again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resumeRun, runExperiment, type RunOptions, type RunResult } from './runExperiment';
import { fileHash, startedRunInfo, readSweep } from './sweepStore';

export type SweepTaskResult = (RunResult & { started: 'fresh' | 'resumed' }) | { skipped: string; dir: string };

export async function runSweepTask(
  sweepDir: string,
  index: number,
  options: Pick<RunOptions, 'signal' | 'onEvent' | 'onStart'> = {},
): Promise<SweepTaskResult> {
  const sweep = readSweep(sweepDir);
  const entry = sweep.runs[index];
  if (!Number.isInteger(index) || !entry)
    throw new Error(`${sweepDir} has runs 0 to ${sweep.runs.length - 1}; there is no run ${index}`);
  const text = existsSync(sweep.experimentFile) ? readFileSync(sweep.experimentFile, 'utf8') : undefined;
  if (text === undefined)
    throw new Error(`the sweep's experiment file ${sweep.experimentFile} does not exist any more`);
  if (fileHash(text) !== sweep.fileHash)
    throw new Error(
      `${sweep.experimentFile} has changed since the sweep started, so its runs would no longer be the same experiment; start a new sweep instead`,
    );
  const runDir = join(sweepDir, entry.dir);
  const backend = sweep.overrides.backend as RunOptions['backend'];
  const existing = startedRunInfo(runDir);
  if (existing?.status === 'completed') return { skipped: `run ${index} has already completed`, dir: runDir };
  // A run that stopped resumes from its checkpoint (or starts over in its folder when it had none).
  if (existing) return { ...(await resumeRun(runDir, { ...options, backend })), started: 'resumed' };
  const result = await runExperiment(sweep.experimentFile, {
    ...options,
    backend,
    steps: sweep.overrides.steps,
    sweepRun: { index, params: entry.params, runDir },
  });
  return { ...result, started: 'fresh' };
}
