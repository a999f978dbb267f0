import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SweepInfo } from '@protocol';
import { helpText, parseCommand, UsageError } from '../../../server/src/cli/args';
import { RUN } from '../../../server/src/cli/run';
import { sweepOptions } from '../../../server/src/cli/sweep';
import { availableParallelism } from 'node:os';
import { defaultParallelism, threadsPerRun } from '../../../server/src/runs/localExecutor';
import { arraySpec, sbatchResourceArgs, SlurmExecutor } from '../../../server/src/runs/slurmExecutor';
import { slurmJobFromEnv } from '../../../server/src/runs/slurmJob';

/** `run ARGS` through the CLI's own parser, then the sweep options out of it. */
function parse(args: string[]) {
  const parsed = parseCommand(RUN, args);
  assert.ok(parsed !== 'help');
  return { ...parsed, sweep: sweepOptions(parsed.options) };
}

const usageError = (args: string[]) => {
  try {
    parse(args);
    return '';
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    return error.message;
  }
};

describe('sweep options of `run`', () => {
  it('reads the local options beside the single-run ones', () => {
    const { positionals, options, sweep } = parse(['file.prune.yaml', '--parallel', '3', '--steps', '10']);
    assert.deepEqual(positionals, ['file.prune.yaml']);
    assert.equal(options['steps'], '10');
    assert.equal(sweep.parallel, 3);
    assert.equal(sweep.executor, 'local');
    assert.equal(sweep.wait, true);
    assert.deepEqual(sweep.given, ['--parallel']);
  });

  it('collects SLURM resources, --flag=value too, and repeated --sbatch-arg', () => {
    const { sweep } = parse([
      'f.prune.yaml',
      '--executor=slurm',
      '--no-wait',
      '--partition',
      'gpu',
      '--time=1:00:00',
      '--cpus-per-task',
      '4',
      '--mem',
      '8G',
      '--gres=gpu:1',
      '--max-parallel',
      '2',
      '--sbatch-arg=--account=ml',
      '--sbatch-arg=--qos=short',
    ]);
    assert.equal(sweep.executor, 'slurm');
    assert.equal(sweep.wait, false);
    assert.deepEqual(sweep.slurm, {
      partition: 'gpu',
      time: '1:00:00',
      cpus_per_task: 4,
      mem: '8G',
      gres: 'gpu:1',
      max_parallel: 2,
      sbatch_args: ['--account=ml', '--qos=short'],
    });
    assert.deepEqual(sbatchResourceArgs(sweep.slurm), [
      '--partition=gpu',
      '--time=1:00:00',
      '--cpus-per-task=4',
      '--mem=8G',
      '--gres=gpu:1',
      '--account=ml',
      '--qos=short',
    ]);
  });

  it('refuses what does not fit together, saying why', () => {
    assert.match(usageError(['f', '--parallel', '0']), /--parallel must be an integer of at least 1, not "0"/);
    assert.match(usageError(['f', '--executor', 'kubernetes']), /--executor must be one of local, slurm/);
    assert.match(usageError(['f', '--partition', 'gpu']), /--partition only apply with --executor slurm/);
    assert.match(usageError(['f', '--executor', 'slurm', '--parallel', '2']), /--max-parallel/);
    assert.match(usageError(['--sweep-task', 'dir']), /go together/);
    const { sweep } = parse(['--sweep-task', 'dir', '--index', '7']);
    assert.deepEqual(sweep.task, { sweepDir: 'dir', index: 7 });
    assert.match(helpText(RUN), /--executor local\|slurm +Sweeps: run here/);
  });

  it('defaults to one run per core when no GPU backend is asked for; parallel runs split the cores', () => {
    const { parallel, why } = defaultParallelism('wasm');
    assert.equal(parallel, availableParallelism());
    assert.match(why, /one per CPU core \(\d+ cores\)/);
    const cores = availableParallelism();
    assert.equal(threadsPerRun(1), cores);
    assert.equal(threadsPerRun(cores), 1);
    assert.equal(threadsPerRun(cores * 4), 1, 'never fewer than one');
  });
});

describe('SLURM helpers', () => {
  it('writes run indices as an --array list', () => {
    assert.equal(arraySpec([0, 1, 2, 3]), '0-3');
    assert.equal(arraySpec([5, 0, 1, 9, 10, 3]), '0-1,3,5,9-10');
    assert.equal(arraySpec([4]), '4');
  });

  it('reads the job of a process from the SLURM_* variables', () => {
    assert.equal(slurmJobFromEnv({}), undefined);
    assert.deepEqual(slurmJobFromEnv({ SLURM_JOB_ID: '12' }), { job_id: '12' });
    assert.deepEqual(slurmJobFromEnv({ SLURM_JOB_ID: '13', SLURM_ARRAY_JOB_ID: '10', SLURM_ARRAY_TASK_ID: '3' }), {
      job_id: '13',
      array_job_id: '10',
      array_task_id: '3',
    });
  });

  it("writes a batch script whose every task runs its index's combination, paths quoted", () => {
    const executor = new SlurmExecutor({ slurm: {}, command: ['/opt/node', "/it's/cli.js"] });
    const script = executor.script('/shared/sweeps/a b', { name: 'demo', runs: [{}, {}] } as unknown as SweepInfo);
    assert.match(script, /^#!\/bin\/bash\n/);
    assert.match(
      script,
      /^exec '\/opt\/node' '\/it'\\''s\/cli\.js' 'run' '--sweep-task' '\/shared\/sweeps\/a b' '--index' "\$SLURM_ARRAY_TASK_ID"$/m,
    );
  });
});
