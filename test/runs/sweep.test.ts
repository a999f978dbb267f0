import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  checkpointStep,
  cli,
  readRunJson,
  readSweepJson,
  sweepDirOf,
  until,
  writeSweepFile,
} from '../helpers/sweepFixtures';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-sweep-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('sweeps on this machine (the CLI, --parallel 2)', () => {
  it('runs every combination into its own run folder, keeps sweep.json, prints a line per run and the table', async () => {
    const file = writeSweepFile(dir, 'grid', '  pruning.sparsity: [0.5, 0.75]\n  seed: [1, 2]');
    const run = cli(['run', file, '--parallel', '2']);
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    const sweepDir = sweepDirOf(run.stdout())!;
    assert.match(sweepDir, /\/runs\/grid-sweep-\d{8}-\d{6}$/);

    const sweep = readSweepJson(sweepDir);
    assert.equal(sweep.status, 'completed');
    assert.equal(sweep.fileHash, createHash('sha256').update(readFileSync(file)).digest('hex'));
    assert.deepEqual(sweep.grid, [
      { path: 'pruning.sparsity', values: [0.5, 0.75] },
      { path: 'seed', values: [1, 2] },
    ]);
    assert.deepEqual(sweep.executor, { kind: 'local', parallel: 2 });
    assert.deepEqual(
      sweep.runs.map((r) => [r.dir, r.status]),
      [
        ['000_sparsity-0.5_seed-1', 'completed'],
        ['001_sparsity-0.5_seed-2', 'completed'],
        ['002_sparsity-0.75_seed-1', 'completed'],
        ['003_sparsity-0.75_seed-2', 'completed'],
      ],
    );
    for (const [i, entry] of sweep.runs.entries()) {
      const info = readRunJson(join(sweepDir, entry.dir))!;
      assert.equal(info.status, 'completed');
      assert.deepEqual(info.sweep, { index: i, params: entry.params });
      assert.equal(info.seed, entry.params['seed']);
      assert.equal(info.targetSparsity, entry.params['pruning.sparsity']);
      assert.equal(info.slurm, undefined, 'not under SLURM');
      assert.ok(existsSync(join(sweepDir, entry.log)), 'every run keeps its log');
    }
    const lines = run.stderr().split('\n');
    assert.equal(lines.filter((l) => /^\[[1-4]\/4\] completed +\d{3}_sparsity/.test(l)).length, 4);
    assert.match(run.stdout(), /^pruning\.sparsity +n +accuracy +support_precision +global_sparsity +failed$/m);
    assert.match(run.stdout(), /^0\.5 +2\/2 +\d+\.\d\d% ± \d+\.\d\d /m);
    assert.match(run.stdout(), /^4 runs: 4 completed, 0 failed, 0 cancelled/m);

    const report = cli(['report', sweepDir]);
    assert.equal((await report.exited).code, 0, report.stderr());
    const html = readFileSync(join(sweepDir, 'report.html'), 'utf8');
    assert.match(html, /<svg [^>]*aria-label="accuracy \(higher is better\) against sparsity/);
    assert.equal(html.match(/<a href="\d{3}_[^"]+\/report\.html">/g)?.length, 4);
    assert.ok(existsSync(join(sweepDir, sweep.runs[0]!.dir, 'report.html')), "each run's report beside it");

    const compare = cli(['compare', sweepDir, '--format', 'json']);
    assert.equal((await compare.exited).code, 0, compare.stderr());
    const rows = JSON.parse(compare.stdout()) as { run: string; status: string }[];
    assert.deepEqual(
      rows.map((r) => r.run),
      sweep.runs.map((r) => r.dir),
    );
  });

  it('stops every run with a checkpoint on Ctrl-C, and `run --resume` finishes the rest', async () => {
    const file = writeSweepFile(dir, 'stop', '  pruning.sparsity: [0.5, 0.75]\n  seed: [1, 2]', {
      steps: 1200,
      checkpointEvery: 50,
    });
    const run = cli(['run', file, '--parallel', '2']);
    await until(() => sweepDirOf(run.stderr()) !== undefined, 60_000, 'the sweep folder line');
    const sweepDir = sweepDirOf(run.stderr())!;
    const first = readSweepJson(sweepDir).runs.slice(0, 2);
    await until(
      () => first.every((r) => checkpointStep(join(sweepDir, r.dir)) >= 100),
      120_000,
      'checkpoints of the two first runs',
    );
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    assert.equal(code, 130, run.stderr());

    const stopped = readSweepJson(sweepDir);
    assert.equal(stopped.status, 'cancelled');
    assert.deepEqual(
      stopped.runs.map((r) => r.status),
      ['cancelled', 'cancelled', 'cancelled', 'cancelled'],
    );
    assert.match(stopped.runs[3]!.error!, /stopped before it started/);
    for (const entry of stopped.runs.slice(0, 2)) {
      const info = readRunJson(join(sweepDir, entry.dir))!;
      assert.equal(info.status, 'cancelled');
      assert.ok(info.step >= 100 && info.step < 1200, `stopped mid-way at ${info.step}`);
    }
    assert.deepEqual(readdirSync(sweepDir).filter((n) => /^\d{3}_/.test(n)).length, 2, 'the others never started');

    const resumed = cli(['run', '--resume', sweepDir, '--parallel', '2']);
    assert.equal((await resumed.exited).code, 0, resumed.stderr());
    const done = readSweepJson(sweepDir);
    assert.equal(done.status, 'completed');
    assert.deepEqual(
      done.runs.map((r) => readRunJson(join(sweepDir, r.dir))?.resumes),
      [1, 1, 0, 0],
      'the stopped runs resumed from their checkpoints, the others started fresh',
    );
    assert.equal(resumed.stderr().match(/^\[\d\/4\] completed/gm)?.length, 4);

    const again = cli(['run', '--resume', sweepDir]);
    assert.equal((await again.exited).code, 0, again.stderr());
    assert.match(again.stderr(), /4 runs \(pruning\.sparsity × 2, seed × 2\), 4 already completed/);
  });

  it('a combination that fails is `failed` with its reason and log; the rest go on', async () => {
    const file = writeSweepFile(dir, 'nan', '  training.learning_rate: [0.003, 10]', { training: '  optimizer: sgd' });
    const run = cli(['run', file, '--parallel', '2']);
    const { code } = await run.exited;
    assert.equal(code, 1, 'a failed run fails the sweep');
    const sweepDir = sweepDirOf(run.stdout())!;
    const [good, bad] = readSweepJson(sweepDir).runs;
    assert.equal(good!.status, 'completed');
    assert.equal(bad!.status, 'failed');
    assert.match(bad!.error!, /the loss became NaN/);
    assert.match(
      run.stdout(),
      /^failed: training\.learning_rate=10: the loss became NaN.*\(log: \/.*\/logs\/1\.log\)$/m,
    );
    assert.match(readFileSync(join(sweepDir, bad!.log), 'utf8'), /run failed: the loss became NaN/);
  });

  it('without sbatch on the PATH, --executor slurm says so, exits 1 and leaves no sweep folder', async () => {
    const file = writeSweepFile(dir, 'nosbatch', '  seed: [1, 2]');
    const run = cli(['run', file, '--executor', 'slurm'], { PATH: '/nonexistent' });
    const { code } = await run.exited;
    assert.equal(code, 1);
    assert.match(run.stderr(), /sbatch: command not found/);
    assert.ok(!existsSync(join(dir, 'runs')) || !readdirSync(join(dir, 'runs')).some((n) => n.startsWith('nosbatch-')));
  });
});
