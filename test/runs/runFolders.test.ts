/**
 * Run folders have one owner at a time, appear complete, and get unique names even when several
 * runs start at the same instant into one `output.dir`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RunInfo } from '@protocol';
import { main } from '../../server/src/cli';
import { RunFolderBusyError } from '../../server/src/runs/runLock';
import { exportRun, resumeRun, runExperiment } from '../../server/src/runs/runExperiment';
import { ROOT, writeTinySappRun } from '../helpers/experimentFixtures';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-folders-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const experiment = join(dir, 'folders.prune.yaml');
writeTinySappRun(experiment, {
  name: 'folders',
  seed: 1,
  steps: 20,
  trainExamples: 128,
  checkpointEvery: 5,
  snapshots: 2,
});

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A process that lives until it is killed: the owner of a lock in these tests. */
function liveProcess() {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { pid: child.pid!, kill: () => (child.kill('SIGKILL'), exited) };
}

describe('run folder ownership', () => {
  it('a second resume of a folder another process owns is refused naming its pid; once it is dead, its lock is taken over', async () => {
    const controller = new AbortController();
    const stopped = await runExperiment(experiment, {
      outputDir: join(dir, 'lock'),
      signal: controller.signal,
      onEvent: (e) => e.type === 'step' && e.step >= 7 && controller.abort(),
    });
    assert.equal(stopped.info.status, 'cancelled');
    assert.equal(existsSync(join(stopped.dir, '.lock')), false, 'the lock goes with its owner');

    const owner = liveProcess();
    writeFileSync(join(stopped.dir, '.lock'), JSON.stringify({ pid: owner.pid, since: 'now' }));
    const refused = await cli(['run', '--resume', stopped.dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, new RegExp(`is in use by process ${owner.pid} .*delete .*\\.lock`));
    assert.equal((JSON.parse(readFileSync(join(stopped.dir, 'run.json'), 'utf8')) as RunInfo).status, 'cancelled');

    await owner.kill();
    const resumed = await cli(['run', '--resume', stopped.dir]);
    assert.equal(resumed.code, 0, resumed.err);
    assert.equal(existsSync(join(stopped.dir, '.lock')), false);
  });

  it('a run folder being trained by this process cannot be resumed or exported meanwhile', async () => {
    // Settled at once (the error kept): an unhandled rejection would end the test process.
    const attempts: Promise<unknown>[] = [];
    const run = await runExperiment(experiment, {
      outputDir: join(dir, 'live'),
      onEvent: (e, info) => {
        if (e.type !== 'step' || attempts.length > 0) return;
        const runDir = join(dir, 'live', info.id);
        attempts.push(
          ...[resumeRun(runDir), exportRun(runDir)].map((p) =>
            p.then(
              () => null,
              (error: unknown) => error,
            ),
          ),
        );
      },
    });
    assert.equal(run.info.status, 'completed');
    assert.equal(attempts.length, 2);
    for (const error of await Promise.all(attempts))
      assert.ok(error instanceof RunFolderBusyError && error.pid === process.pid, String(error));
    assert.equal(existsSync(join(run.dir, '.lock')), false);
  });

  it('six runs started at once into one output.dir each get their own complete folder', async () => {
    const out = join(dir, 'six');
    const runs = Array.from({ length: 6 }, () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'server/src/cli.ts'), 'run', experiment, '--steps', '4', '--out', out],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      return new Promise<{ code: number | null; err: string }>((resolve) =>
        child.on('exit', (code) => resolve({ code, err })),
      );
    });
    const results = await Promise.all(runs);
    for (const r of results) assert.equal(r.code, 0, r.err);
    const folders = readdirSync(out);
    assert.equal(folders.filter((f) => !f.startsWith('.')).length, 6, folders.join(', '));
    assert.deepEqual(
      folders.filter((f) => f.startsWith('.')),
      [],
      'no staging folder is left',
    );
    for (const f of folders) {
      const info = JSON.parse(readFileSync(join(out, f, 'run.json'), 'utf8')) as RunInfo;
      assert.equal(info.id, f);
      assert.equal(info.status, 'completed');
    }
  });
});
