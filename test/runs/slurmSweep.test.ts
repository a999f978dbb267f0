/**
 * Sweeps on a real one-node SLURM cluster (slurmctld + slurmd on this machine, started by
 * test/setup/slurm.sh). As root the test starts the cluster itself (CI runs as root); otherwise it
 * runs when the cluster is already up and is skipped, naming the command, when it is not.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from '../helpers/experimentFixtures';
import { cli, readRunJson, readSweepJson, sweepDirOf, until, writeSweepFile } from '../helpers/sweepFixtures';
import { CHECKPOINT_FILE } from '../../server/src/runs/runStore';

const SETUP = 'sudo bash test/setup/slurm.sh';

/** Why the SLURM tests cannot run here, or undefined when the cluster is (made) ready. */
function slurmUnavailable(): string | undefined {
  if (process.getuid?.() === 0) {
    const setup = spawnSync('bash', [join(ROOT, 'test/setup/slurm.sh')], { encoding: 'utf8' });
    // As root a broken setup is a failure, not a skip: CI must run these tests.
    if (setup.status !== 0) throw new Error(`test/setup/slurm.sh failed:\n${setup.stdout}${setup.stderr}`);
    return undefined;
  }
  const sinfo = spawnSync('sinfo', ['--noheader', '--responding', '--format=%t'], { encoding: 'utf8' });
  if (sinfo.error || sinfo.status !== 0 || !/^(idle|mix|alloc)/m.test(sinfo.stdout))
    return `no SLURM cluster answers here; start the one-node test cluster with \`${SETUP}\` (as root the tests do it themselves)`;
  return undefined;
}

const skip = slurmUnavailable();
if (skip) console.log(`# SKIP SLURM sweep tests: ${skip}`);

const dir = mkdtempSync(join(tmpdir(), 'sparsity-slurm-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const squeueEmpty = (jobId: string) => {
  const q = spawnSync('squeue', ['--noheader', `--jobs=${jobId}`], { encoding: 'utf8' });
  return q.status !== 0 || q.stdout.trim() === '';
};

describe('sweeps on a one-node SLURM cluster (--executor slurm)', { skip }, () => {
  before(() => {
    assert.equal(spawnSync('sbatch', ['--version']).status, 0, 'sbatch runs');
  });

  it('submits 4 runs as one job array; each run.json records its SLURM job', async () => {
    const file = writeSweepFile(dir, 'array', '  pruning.sparsity: [0.5, 0.75]\n  seed: [1, 2]');
    const run = cli(['run', file, '--executor', 'slurm', '--cpus-per-task', '1']);
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    const sweepDir = sweepDirOf(run.stdout())!;
    const sweep = readSweepJson(sweepDir);
    assert.equal(sweep.status, 'completed');
    assert.equal(sweep.executor.kind, 'slurm');
    const jobId = sweep.executor.kind === 'slurm' ? sweep.executor.jobIds[0]! : '';
    assert.match(jobId, /^\d+$/);
    assert.match(run.stderr(), new RegExp(`SLURM job ${jobId} \\(4 array tasks\\)`));
    assert.match(
      readFileSync(join(sweepDir, 'sweep.sbatch'), 'utf8'),
      /'--sweep-task' .* '--index' "\$SLURM_ARRAY_TASK_ID"/,
    );
    for (const [i, entry] of sweep.runs.entries()) {
      assert.equal(entry.status, 'completed');
      const info = readRunJson(join(sweepDir, entry.dir))!;
      assert.equal(info.slurm?.array_job_id, jobId);
      assert.equal(info.slurm?.array_task_id, String(i));
      assert.match(info.slurm?.job_id ?? '', /^\d+$/);
      assert.match(readFileSync(join(sweepDir, entry.log), 'utf8'), /^run folder: /m, 'the task output is the log');
    }
    assert.equal(run.stderr().match(/^\[\d\/4\] completed/gm)?.length, 4);
    assert.match(run.stdout(), /^4 runs: 4 completed, 0 failed, 0 cancelled/m);
  });

  it('a failing task is `failed` with its log; a task stopped by scancel ends `cancelled` with a checkpoint', async () => {
    const file = writeSweepFile(dir, 'mixed', '  training.learning_rate: [10, 0.003]', {
      steps: 4000,
      checkpointEvery: 50,
      training: '  optimizer: sgd',
    });
    const run = cli(['run', file, '--executor', 'slurm']);
    await until(
      () => sweepDirOf(run.stderr()) !== undefined && /SLURM job \d+/.test(run.stderr()),
      60_000,
      'the submission',
    );
    const sweepDir = sweepDirOf(run.stderr())!;
    const jobId = /SLURM job (\d+)/.exec(run.stderr())![1]!;
    const long = readSweepJson(sweepDir).runs[1]!;
    await until(() => (readRunJson(join(sweepDir, long.dir))?.step ?? 0) >= 100, 120_000, 'the long run under way');
    assert.equal(spawnSync('scancel', [`${jobId}_1`]).status, 0);
    const { code } = await run.exited;
    assert.equal(code, 1, 'a failed run fails the sweep');

    const [failed, cancelled] = readSweepJson(sweepDir).runs;
    assert.equal(failed!.status, 'failed');
    assert.match(failed!.error!, /the loss became NaN/);
    assert.equal(failed!.log, 'logs/0.log');
    assert.match(readFileSync(join(sweepDir, failed!.log), 'utf8'), /run failed: the loss became NaN/);
    assert.match(run.stdout(), /^failed: training\.learning_rate=10: .*\(log: \/.*\/logs\/0\.log\)$/m);
    assert.equal(cancelled!.status, 'cancelled');
    const info = readRunJson(join(sweepDir, cancelled!.dir))!;
    assert.equal(info.status, 'cancelled', 'SIGTERM from scancel stops the run cleanly');
    assert.ok(info.step >= 100 && info.step < 4000);
    assert.ok(existsSync(join(sweepDir, cancelled!.dir, CHECKPOINT_FILE)));
    assert.match(run.stderr(), /^\[\d\/2\] cancelled 001_learning_rate-0\.003/m);
  });

  it('--no-wait prints the job id and returns; the runs go on and report reads them', async () => {
    const file = writeSweepFile(dir, 'nowait', '  seed: [1, 2]');
    const run = cli(['run', file, '--executor', 'slurm', '--no-wait']);
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    const jobId = /^submitted: SLURM job (\d+)$/m.exec(run.stdout())?.[1];
    assert.ok(jobId, run.stdout());
    const sweepDir = sweepDirOf(run.stdout())!;
    const entries = readSweepJson(sweepDir).runs;
    await until(
      () => squeueEmpty(jobId) && entries.every((e) => readRunJson(join(sweepDir, e.dir))?.status === 'completed'),
      120_000,
      'both runs to complete',
    );
    const report = cli(['report', sweepDir]);
    assert.equal((await report.exited).code, 0, report.stderr());
    assert.match(readFileSync(join(sweepDir, 'report.html'), 'utf8'), /2 runs on the slurm executor: 2 completed/);
  });

  it("a rejected submission gives SLURM's own message, exits 1 and leaves no sweep folder", async () => {
    const file = writeSweepFile(dir, 'rejected', '  seed: [1, 2]');
    const run = cli(['run', file, '--executor', 'slurm', '--partition', 'no-such-partition']);
    const { code } = await run.exited;
    assert.equal(code, 1);
    assert.match(run.stderr(), /SLURM: sbatch: error: .*(invalid partition|Batch job submission failed)/i);
    assert.ok(!readdirSync(join(dir, 'runs')).some((n) => n.startsWith('rejected-')));
  });
});
