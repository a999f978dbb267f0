/**
 * Checkpoints are self-validating and replaced atomically: every way a file can be damaged,
 * truncated or misplaced is refused with the file and the field, and a run stopped between any two
 * of its writes leaves either the previous complete checkpoint or the new one, and resumes to the
 * uninterrupted run's result.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RunEvent, RunInfo } from '@protocol';
import { onDurableWrite, type DurableWrite } from '../../server/src/data/durableFile';
import { Rng } from '../../server/src/data/random';
import { CorruptFileError } from '../../server/src/data/regularFile';
import type { TrainState } from '../../server/src/engine/trainer';
import {
  CHECKPOINT_FORMAT,
  decodeCheckpoint,
  encodeCheckpoint,
  type CheckpointOwner,
} from '../../server/src/runs/checkpointFile';
import { resumeRun, runExperiment } from '../../server/src/runs/runExperiment';
import { RunStore } from '../../server/src/runs/runStore';
import { writeTinySappRun } from '../helpers/experimentFixtures';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-checkpoint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const owner: CheckpointOwner = { runId: 'run-a', configHash: 'c0ffee', totalSteps: 100 };

function state(): TrainState {
  return {
    step: 42,
    phaseIndex: 2,
    stepMs: [1.5, 2.25],
    variables: {
      'dense_1/kernel': { shape: [2, 3], dtype: 'float32', data: Float32Array.from([1, -2, 3.5, 0, 1e-30, -0]) },
      'dense_1/bias': { shape: [3], dtype: 'float32', data: Float32Array.from([0.1, 0.2, 0.3]) },
    },
    masks: { dense_1: Uint8Array.from([1, 0, 1, 1]) },
    optimizer: [
      { name: 'iter', shape: [], dtype: 'int32', data: Int32Array.from([300]) },
      { name: 'dense_1/kernel/m', shape: [2, 3], dtype: 'float32', data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    ],
  };
}

const file = '/runs/a/checkpoints/checkpoint.bin';
const refusedAt = (field: string, text: RegExp) => (error: unknown) =>
  error instanceof CorruptFileError &&
  error.file === file &&
  error.field.startsWith(field) &&
  text.test(error.message) &&
  error.message.startsWith(file);

/** A checkpoint whose header and payload were edited, with a valid checksum and length (a crafted file). */
function recrafted(bytes: Buffer, edit: (header: Record<string, unknown>, payload: Buffer) => Buffer | void): Buffer {
  const firstEnd = bytes.indexOf(0x0a);
  const body = bytes.subarray(firstEnd + 1);
  const headerEnd = body.indexOf(0x0a);
  const header = JSON.parse(body.subarray(0, headerEnd).toString()) as Record<string, unknown>;
  const payload = Buffer.from(body.subarray(headerEnd + 1));
  const newPayload = edit(header, payload) ?? payload;
  const newBody = Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), newPayload]);
  const sha = createHash('sha256').update(newBody).digest('hex');
  return Buffer.concat([Buffer.from(`${CHECKPOINT_FORMAT} ${sha} ${newBody.length}\n`), newBody]);
}

describe('the checkpoint file', () => {
  it('round-trips every value with its dtype (the int32 step count stays 300, not 4.2e-43)', () => {
    const decoded = decodeCheckpoint(encodeCheckpoint(state(), owner), file, owner);
    assert.deepEqual(decoded, state());
    assert.ok(decoded.optimizer[0]!.data instanceof Int32Array);
  });

  it('refuses empty, truncated, extended and damaged files, naming the file and the field', () => {
    const good = encodeCheckpoint(state(), owner);
    assert.throws(() => decodeCheckpoint(Buffer.alloc(0), file, owner), refusedAt('', /is empty/));
    for (const cut of [1, 20, 100, good.length - 1])
      assert.throws(
        () => decodeCheckpoint(good.subarray(0, cut), file, owner),
        refusedAt(cut < 30 ? 'format' : 'length', /./),
        `cut at ${cut}`,
      );
    assert.throws(
      () => decodeCheckpoint(Buffer.concat([good, Buffer.from('x')]), file, owner),
      refusedAt('length', /truncated or was appended to/),
    );
    const rng = new Rng(5);
    for (let trial = 0; trial < 20; trial++) {
      const flipped = Buffer.from(good);
      const at = 100 + rng.int(good.length - 100);
      flipped[at]! ^= 1 << rng.int(8);
      assert.throws(() => decodeCheckpoint(flipped, file, owner), refusedAt('sha256', /altered or damaged/));
    }
    assert.throws(
      () => decodeCheckpoint(Buffer.from('garbage\n'.repeat(10)), file, owner),
      refusedAt('format', /is not a sparsity-studio\/checkpoint@2 file/),
    );
  });

  it("refuses another run's checkpoint, another config's, and a step beyond the run", () => {
    const good = encodeCheckpoint(state(), owner);
    assert.throws(
      () => decodeCheckpoint(good, file, { ...owner, runId: 'run-b' }),
      refusedAt('runId', /belongs to another run \(this is `run-b`\)/),
    );
    assert.throws(
      () => decodeCheckpoint(good, file, { ...owner, configHash: 'other' }),
      refusedAt('configHash', /another config/),
    );
    assert.throws(() => decodeCheckpoint(good, file, { ...owner, totalSteps: 40 }), refusedAt('step', /beyond/));
  });

  it('refuses crafted files with a valid checksum: NaN values, bad masks, entries past the end or of the wrong size', () => {
    const good = encodeCheckpoint(state(), owner);
    const nan = recrafted(good, (_h, payload) => {
      payload.writeFloatLE(NaN, 8);
    });
    assert.throws(
      () => decodeCheckpoint(nan, file, owner),
      refusedAt('entries[0] (variable `dense_1/kernel`)', /holds NaN at index 2: the checkpoint is corrupt/),
    );
    const mask = recrafted(good, (h, payload) => {
      const entries = h['entries'] as { kind: string; offset: number }[];
      payload[entries.find((e) => e.kind === 'mask')!.offset + 1] = 7;
    });
    assert.throws(() => decodeCheckpoint(mask, file, owner), refusedAt('entries[2] (mask `dense_1`)', /holds 7/));
    const past = recrafted(good, (h) => {
      (h['entries'] as { offset: number }[])[1]!.offset = 10_000;
    });
    assert.throws(() => decodeCheckpoint(past, file, owner), refusedAt('entries[1]', /past the payload/));
    const size = recrafted(good, (h) => {
      (h['entries'] as { shape: number[] }[])[0]!.shape = [3, 3];
    });
    assert.throws(() => decodeCheckpoint(size, file, owner), refusedAt('entries[0]', /takes 36/));
    const dtype = recrafted(good, (h) => {
      (h['entries'] as { dtype: string }[])[0]!.dtype = 'float64';
    });
    assert.throws(() => decodeCheckpoint(dtype, file, owner), refusedAt('entries[0].dtype', /"float64"/));
  });
});

describe('a run folder with a damaged checkpoint', () => {
  it('NaN inside a checkpoint is refused as corrupt by resume, not trained into a NaN loss', async () => {
    const file = join(dir, 'nan.prune.yaml');
    writeFileSync(
      file,
      'version: 1\nname: nan\nbackend: wasm\ndata:\n  source: teacher\n  input_dim: 16\n  hidden: 16\n  train_examples: 128\n  test_examples: 32\n  batch_size: 32\nmodel:\n  kind: mlp\n  hidden: [16]\ntraining:\n  steps: 40\npruning:\n  method: sapp\n  sparsity: 0.5\n  block: 4\n  min_blocks: 4\n  layers: [dense_1]\noutput:\n  dir: runs\n',
    );
    const controller = new AbortController();
    const stopped = await runExperiment(file, {
      outputDir: join(dir, 'nan-runs'),
      signal: controller.signal,
      onEvent: (e) => e.type === 'step' && e.step >= 20 && controller.abort(),
    });
    assert.equal(stopped.info.status, 'cancelled');
    const checkpoint = join(stopped.dir, 'checkpoints', 'checkpoint.bin');
    writeFileSync(
      checkpoint,
      recrafted(readFileSync(checkpoint), (_h, payload) => {
        payload.writeFloatLE(NaN, 4);
      }),
    );
    await assert.rejects(resumeRun(stopped.dir), (error: unknown) => {
      assert.ok(error instanceof CorruptFileError, String(error));
      assert.match(error.message, /checkpoint\.bin: entries\[0\] .* holds NaN at index 1: the checkpoint is corrupt/);
      assert.ok(!/learning_rate/.test(error.message));
      return true;
    });
    const info = JSON.parse(readFileSync(join(stopped.dir, 'run.json'), 'utf8')) as RunInfo;
    assert.equal(info.status, 'cancelled', 'the refused resume changed nothing');
  });
});

// ---------------------------------------------------------------------------------------------

const experiment = join(dir, 'atomic.prune.yaml');
writeTinySappRun(experiment, { name: 'atomic', seed: 2, steps: 40, logEvery: 1, checkpointEvery: 6, snapshots: 3 });

/** Copies resumed in the default suite; `KILL_EVERY_WRITE=1` resumes the copy at every write. */
const RESUMED = process.env['KILL_EVERY_WRITE'] ? Infinity : 6;

function finalOf(runDir: string) {
  const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
  const events = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent);
  const snapshot = events.filter((e) => e.type === 'snapshot').at(-1);
  assert.ok(snapshot?.type === 'snapshot');
  return {
    status: info.status,
    final: info.final,
    masks: readFileSync(join(runDir, snapshot.file)),
    weights: readFileSync(join(runDir, 'export', 'block-sparse.bin')),
  };
}

describe('a run stopped between any two of its writes', () => {
  it('leaves the previous complete checkpoint or the new one, and resumes to the same result', async () => {
    const reference = await runExperiment(experiment, { outputDir: join(dir, 'reference') });
    const expected = finalOf(reference.dir);

    // The state a kill just before each write would leave: the output folder as it is then.
    const out = join(dir, 'stopped');
    const copies: { at: number; write: DurableWrite }[] = [];
    onDurableWrite((write) => {
      if (!existsSync(out)) return;
      const at = copies.length;
      cpSync(out, join(dir, 'copies', String(at)), { recursive: true });
      copies.push({ at, write });
    });
    try {
      await runExperiment(experiment, { outputDir: out });
    } finally {
      onDurableWrite(null);
    }
    assert.ok(copies.length > 100, `only ${copies.length} writes`);

    const checkpointSteps: number[] = [];
    let previous = -1;
    const runFolders: { at: number; runDir: string }[] = [];
    for (const { at, write } of copies) {
      const copy = join(dir, 'copies', String(at));
      const runs = readdirSync(copy).filter((e) => !e.startsWith('.'));
      if (runs.length === 0) continue; // killed before the run folder was renamed into place: no run yet
      assert.equal(runs.length, 1);
      const runDir = join(copy, runs[0]!);
      const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
      const checkpoint = RunStore.open(runDir).readCheckpoint({
        runId: info.id,
        configHash: info.configHash,
        totalSteps: info.totalSteps,
      });
      const step = checkpoint?.step ?? 0;
      assert.ok(step >= previous, `before write ${at} (${write.op} ${write.path}): checkpoint went back to ${step}`);
      if (checkpoint && !checkpointSteps.includes(step)) checkpointSteps.push(step);
      previous = step;
      runFolders.push({ at, runDir });
    }
    assert.ok(checkpointSteps.length >= 5, `checkpoints seen: ${checkpointSteps.join(', ')}`);

    // Resume a seeded sample of the stopped folders (every one with KILL_EVERY_WRITE=1).
    const rng = new Rng(11);
    const sample =
      RESUMED >= runFolders.length
        ? runFolders
        : Array.from({ length: RESUMED }, () => runFolders.splice(rng.int(runFolders.length), 1)[0]!);
    for (const { at, runDir } of sample) {
      const status = (JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo).status;
      // The copy's lock names this (live) process, which "died" at that write: a dead owner's lock is
      // taken over (runFolders.test.ts), so remove it as that would.
      rmSync(join(runDir, '.lock'), { force: true });
      if (status !== 'completed') {
        const resumed = await resumeRun(runDir);
        assert.equal(resumed.info.status, 'completed', `stopped before write ${at}: ${resumed.info.error?.message}`);
      }
      const got = finalOf(runDir);
      assert.deepEqual(got.final, expected.final, `stopped before write ${at}: final metrics`);
      assert.deepEqual(got.masks, expected.masks, `stopped before write ${at}: final masks`);
      assert.deepEqual(got.weights, expected.weights, `stopped before write ${at}: exported weights`);
    }
  });
});
