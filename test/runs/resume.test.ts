import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { RunEvent, RunInfo } from '@protocol';
import { resumeRun, runExperiment } from '../../server/src/runs/runExperiment';
import { ROOT } from '../helpers/experimentFixtures';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-resume-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const file = join(dir, 'resume.prune.yaml');
writeFileSync(
  file,
  `version: 1
name: resume
seed: 4
backend: wasm
data:
  source: teacher
  input_dim: 64
  hidden: 64
  train_examples: 3000
  test_examples: 500
  batch_size: 64
model:
  kind: mlp
  hidden: [64]
training:
  steps: 1500
  eval_every: 0
pruning:
  method: sapp
  sparsity: 0.75
  block: 8
  min_blocks: 16
  layers: [dense_1]
output:
  dir: runs
  checkpoint_every: 40
  snapshots: 10
`,
);

/** The bytes of the last snapshot a run folder announced: the final scores and masks. */
function finalSnapshot(runDir: string): Buffer {
  const events = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent);
  const last = events.filter((e) => e.type === 'snapshot').at(-1);
  assert.ok(last && last.type === 'snapshot');
  return readFileSync(join(runDir, last.file));
}

/** Resolves when `check` holds, checking on a short timer; rejects after `timeoutMs`. */
function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (check()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 20);
  });
}

// A residual network (the built-in resnet: Add, batch norm, global pooling, executed by tfjs-layers).
const residual = join(dir, 'residual.prune.yaml');
writeFileSync(
  residual,
  `version: 1
name: residual
seed: 2
backend: wasm
data:
  source: npz
  path: ${join(ROOT, 'test/fixtures/npz/blobs.npz')}
  classes: 3
  batch_size: 16
model:
  kind: resnet
  depth: 8
  width: 4
training:
  steps: 160
  eval_every: 0
pruning:
  method: sapp
  sparsity: 0.75
  block: 4
  min_blocks: 8
  layers: ['stage*/conv?']
output:
  dir: runs
  checkpoint_every: 20
  snapshots: 8
`,
);

/** Runs the CLI on `experiment`, SIGKILLs it once a checkpoint passes `step`, and returns the run folder. */
async function killedRun(experiment: string, out: string, step: number): Promise<string> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'server/src/cli.ts'), 'run', experiment, '--out', out],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await until(() => /run folder: (\S+)/.test(stderr), 60_000, 'the run folder line');
  const runDir = /run folder: (\S+)/.exec(stderr)![1]!;
  const manifest = join(runDir, 'checkpoints', 'checkpoint.json');
  const checkpointStep = () =>
    existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { step: number }).step : 0;
  await until(() => checkpointStep() >= step, 120_000, `a checkpoint past step ${step}`);
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  return runDir;
}

describe('resume after SIGKILL', () => {
  it('a residual network killed mid-way resumes to the same final masks, scores and metrics', async () => {
    const reference = await runExperiment(residual, { outputDir: join(dir, 'residual-reference') });
    assert.equal(reference.info.status, 'completed', reference.info.error?.message);
    const runDir = await killedRun(residual, join(dir, 'residual-killed'), 60);
    const killed = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
    assert.ok(killed.status === 'running' && killed.step < 160);
    const tensorsBefore = tf.memory().numTensors;
    const resumed = await resumeRun(runDir);
    assert.equal(tf.memory().numTensors, tensorsBefore, 'resuming leaks no tensors');
    assert.equal(resumed.info.status, 'completed', resumed.info.error?.message);
    assert.deepEqual(finalSnapshot(resumed.dir), finalSnapshot(reference.dir), 'identical final scores and masks');
    assert.deepEqual(resumed.info.final, reference.info.final);
    assert.ok(resumed.info.final!.sparsity.layers.some((l) => l.name === 'stage3/block1/conv2' && l.pruned));
  });

  it('a run killed mid-way resumes from its checkpoint and ends with the same masks as an uninterrupted run', async () => {
    const reference = await runExperiment(file, { outputDir: join(dir, 'reference') });
    assert.equal(reference.info.status, 'completed');

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'server/src/cli.ts'), 'run', file, '--out', join(dir, 'killed')],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    await until(() => /run folder: (\S+)/.test(stderr), 60_000, 'the run folder line');
    const runDir = /run folder: (\S+)/.exec(stderr)![1]!;
    const manifest = join(runDir, 'checkpoints', 'checkpoint.json');
    const checkpointStep = () =>
      existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { step: number }).step : 0;
    await until(() => checkpointStep() >= 400, 60_000, 'a checkpoint past step 400');
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    const killed = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
    assert.equal(killed.status, 'running', 'a killed run is left running, not completed');
    assert.ok(killed.step < 1500);

    const tensorsBefore = tf.memory().numTensors;
    const resumed = await resumeRun(runDir);
    assert.equal(tf.memory().numTensors, tensorsBefore, 'resuming leaks no tensors');
    assert.equal(resumed.info.status, 'completed', resumed.info.error?.message);
    assert.equal(resumed.info.resumes, 1);
    assert.deepEqual(finalSnapshot(resumed.dir), finalSnapshot(reference.dir), 'identical final scores and masks');
    assert.deepEqual(resumed.info.final, reference.info.final);
  });

  it('refuses a folder whose config was edited, and a completed run', async () => {
    const { dir: runDir } = await runExperiment(file, { outputDir: join(dir, 'edited'), steps: 60 });
    await assert.rejects(resumeRun(runDir), /already completed/);
    const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
    writeFileSync(join(runDir, 'run.json'), JSON.stringify({ ...info, status: 'cancelled' }));
    writeFileSync(
      join(runDir, 'config.json'),
      readFileSync(join(runDir, 'config.json'), 'utf8').replace('"seed": 4', '"seed": 5'),
    );
    await assert.rejects(resumeRun(runDir), /does not match the run's config_hash/);
  });
});
