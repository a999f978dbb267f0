/**
 * Nothing lost on the way out: SIGINT, SIGTERM and SIGHUP stop `sparsity-studio run` after the
 * current step with a checkpoint, the run folder marked `cancelled` and the exit code 128 + the
 * signal's number; the run then resumes to completion.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RunInfo } from '@protocol';
import { resumeRun } from '../../server/src/runs/runExperiment';
import { ROOT, writeTinySappRun } from '../helpers/experimentFixtures';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-signals-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const experiment = join(dir, 'signals.prune.yaml');
writeTinySappRun(experiment, {
  name: 'signals',
  seed: 1,
  steps: 20000,
  logEvery: 1,
  checkpointEvery: 100000,
  snapshots: 2,
  export: false,
});

describe('signals to sparsity-studio run', () => {
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} ends the run cancelled with a checkpoint, exit ${code}, and it resumes`, async () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'server/src/cli.ts'), 'run', experiment, '--out', join(dir, signal)],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      // The first progress line comes after the first logged step: training is under way.
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (/step \d+\/20000/.test(stderr)) resolve();
        });
        void exited.then(() => reject(new Error(`the run ended before training: ${stderr}`)));
      });
      child.kill(signal);
      assert.equal(await exited, code, stderr);
      const runDir = /run folder: (\S+)/.exec(stderr)![1]!;
      const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
      assert.equal(info.status, 'cancelled');
      assert.ok(existsSync(join(runDir, 'checkpoints', 'checkpoint.bin')), 'a checkpoint on the way out');
      assert.equal(existsSync(join(runDir, '.lock')), false);
      if (signal !== 'SIGTERM') return; // one resume is enough to show the checkpoint is whole
      const resumed = await resumeRun(runDir, { signal: AbortSignal.timeout(1) });
      assert.equal(resumed.info.status, 'cancelled');
      assert.ok(resumed.info.step >= info.step);
    });
  }
});
