import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { RunEvent, RunInfo } from '@protocol';
import { onDurableWrite } from '../../server/src/data/durableFile';
import { resumeRun, runExperiment } from '../../server/src/runs/runExperiment';
import { Rng } from '../../server/src/data/random';
import { ROOT } from '../helpers/experimentFixtures';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-resume-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const file = join(dir, 'resume.prune.yaml');
// Small and quick (120 steps in about half a second here) with checkpoints every 7 steps, so that
// most checkpoints fall inside a phase.
writeFileSync(
  file,
  `version: 1
name: resume
seed: 4
backend: wasm
data:
  source: teacher
  input_dim: 32
  hidden: 32
  train_examples: 512
  test_examples: 128
  batch_size: 32
model:
  kind: mlp
  hidden: [32]
training:
  steps: 120
  eval_every: 0
  log_every: 1
pruning:
  method: sapp
  sparsity: 0.75
  block: 4
  min_blocks: 16
  layers: [dense_1]
output:
  dir: runs
  checkpoint_every: 7
  snapshots: 4
`,
);

/** Trials in the default suite; `RESUME_TRIALS=50` for a long run. */
const TRIALS = Number(process.env['RESUME_TRIALS'] ?? 4);

function events(runDir: string): RunEvent[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent);
}

/** The bytes of the last snapshot a run folder announced: the final scores and masks. */
function finalSnapshot(runDir: string): Buffer {
  const last = events(runDir)
    .filter((e) => e.type === 'snapshot')
    .at(-1);
  assert.ok(last && last.type === 'snapshot');
  return readFileSync(join(runDir, last.file));
}

/** Every exported file's bytes, by path under export/. */
function exported(runDir: string): Record<string, Buffer> {
  const files = ['block-sparse.json', 'block-sparse.bin', 'model/model.json', 'model/weights.bin'];
  return Object.fromEntries(files.map((f) => [f, readFileSync(join(runDir, 'export', f))]));
}

/** The loss logged at each step; a resumed folder logs the steps after its checkpoint twice, the last value counts. */
function losses(runDir: string): Map<number, number> {
  const byStep = new Map<number, number>();
  for (const e of events(runDir)) if (e.type === 'step') byStep.set(e.step, e.loss);
  return byStep;
}

/**
 * Runs the experiment in a child process that SIGKILLs itself once step `at` is reported, or just
 * before its `at`-th write; resolves with the run folder, or null when it died before the folder
 * was renamed into place (then there is no run to resume: nothing had happened yet).
 */
async function killedRun(experiment: string, out: string, mode: 'step' | 'write', at: number): Promise<string | null> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'test/helpers/killedRun.ts'), experiment, out, mode, String(at)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, s) => resolve(s)));
  assert.equal(signal, 'SIGKILL', stderr);
  const runs = existsSync(out) ? readdirSync(out).filter((e) => !e.startsWith('.')) : [];
  assert.ok(runs.length <= 1);
  return runs[0] === undefined ? null : join(out, runs[0]);
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

describe('resume after SIGKILL', () => {
  it('a residual network killed mid-way resumes to the same final masks, scores and metrics', async () => {
    const reference = await runExperiment(residual, { outputDir: join(dir, 'residual-reference') });
    assert.equal(reference.info.status, 'completed', reference.info.error?.message);
    const runDir = await killedRun(residual, join(dir, 'residual-killed'), 'step', 70);
    assert.ok(runDir);
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

  it(`killed at ${TRIALS} seeded random steps and writes (mid-phase included), every run resumes to the uninterrupted run's masks, metrics, losses and exported weights`, async () => {
    let writes = 0;
    onDurableWrite(() => void writes++);
    const reference = await runExperiment(file, { outputDir: join(dir, 'reference') }).finally(() =>
      onDurableWrite(null),
    );
    assert.equal(reference.info.status, 'completed');
    const referenceLosses = losses(reference.dir);
    const phases = events(reference.dir).flatMap((e) => (e.type === 'phase' ? [e.startStep] : []));
    const rng = new Rng(2024);
    let midPhase = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      // Even trials die after a seeded step, odd ones before a seeded write (inside a checkpoint too).
      const mode = trial % 2 === 0 ? 'step' : 'write';
      const at = mode === 'step' ? 1 + rng.int(118) : rng.int(writes);
      const runDir = await killedRun(file, join(dir, `killed-${trial}`), mode, at);
      if (runDir === null) continue;
      const killed = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
      const where = `trial ${trial}: killed at ${mode} ${at}`;
      if (killed.status === 'completed') continue; // killed after its last write that mattered
      assert.equal(killed.status, 'running', `${where}: a killed run is left running`);

      const tensorsBefore = tf.memory().numTensors;
      const resumed = await resumeRun(runDir);
      assert.equal(tf.memory().numTensors, tensorsBefore, 'resuming leaks no tensors');
      const from = events(runDir).find((e) => e.type === 'status' && e.status === 'resumed')?.step ?? 0;
      if (!phases.includes(from)) midPhase++;
      const resumedFrom = `${where}, resumed from step ${from}`;
      assert.equal(resumed.info.status, 'completed', `${resumedFrom}: ${resumed.info.error?.message}`);
      assert.deepEqual(
        finalSnapshot(resumed.dir),
        finalSnapshot(reference.dir),
        `${resumedFrom}: final scores and masks`,
      );
      assert.deepEqual(resumed.info.final, reference.info.final, `${resumedFrom}: final metrics`);
      assert.deepEqual(losses(resumed.dir), referenceLosses, `${resumedFrom}: the loss at every step`);
      assert.deepEqual(exported(resumed.dir), exported(reference.dir), `${resumedFrom}: exported weights`);
    }
    assert.ok(TRIALS < 2 || midPhase > 0, 'no trial resumed from inside a phase');
  });

  it('acdc with momentum (another optimizer, zeroed blocks) resumes from mid-phase kills to the same result', async () => {
    const acdc = join(dir, 'acdc.prune.yaml');
    writeFileSync(
      acdc,
      readFileSync(file, 'utf8')
        .replace('  log_every: 1', '  log_every: 1\n  optimizer: momentum\n  learning_rate: 0.05')
        .replace('method: sapp', 'method: acdc\n  pruned_weights: zero')
        .replace('name: resume', 'name: acdc'),
    );
    const reference = await runExperiment(acdc, { outputDir: join(dir, 'acdc-reference') });
    assert.equal(reference.info.status, 'completed', reference.info.error?.message);
    for (const at of [38, 75]) {
      const runDir = await killedRun(acdc, join(dir, `acdc-killed-${at}`), 'step', at);
      assert.ok(runDir);
      const resumed = await resumeRun(runDir);
      assert.equal(resumed.info.status, 'completed', resumed.info.error?.message);
      assert.deepEqual(finalSnapshot(resumed.dir), finalSnapshot(reference.dir), `killed at ${at}: final masks`);
      assert.deepEqual(resumed.info.final, reference.info.final, `killed at ${at}: final metrics`);
      assert.deepEqual(exported(resumed.dir), exported(reference.dir), `killed at ${at}: exported weights`);
    }
  });

  it('refuses a folder whose config was edited, and a completed run', async () => {
    const { dir: runDir } = await runExperiment(file, { outputDir: join(dir, 'edited'), steps: 30 });
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
