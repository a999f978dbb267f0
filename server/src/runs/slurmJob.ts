/** The SLURM job a process runs in, from the variables `slurmd` sets in every job's environment. */
import type { SlurmJobInfo } from '@protocol';

export function slurmJobFromEnv(env: NodeJS.ProcessEnv = process.env): SlurmJobInfo | undefined {
  const jobId = env['SLURM_JOB_ID'];
  if (!jobId) return undefined;
  const arrayJobId = env['SLURM_ARRAY_JOB_ID'];
  const arrayTaskId = env['SLURM_ARRAY_TASK_ID'];
  return {
    job_id: jobId,
    ...(arrayJobId ? { array_job_id: arrayJobId } : {}),
    ...(arrayTaskId ? { array_task_id: arrayTaskId } : {}),
  };
}
