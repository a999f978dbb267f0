/**
 * Nothing wrong: every reader of our formats (run.json, metrics.jsonl, snapshots, config.json, the
 * block-sparse export) refuses an empty, truncated, garbage or crafted file with the file and the
 * field, and never reads outside its run folder.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunEvent, RunInfo } from '@protocol';
import { CorruptFileError } from '../../server/src/data/regularFile';
import { readBlockSparse } from '../../server/src/engine/export';
import { exportRun, resumeRun, runExperiment } from '../../server/src/runs/runExperiment';
import { loadRun, readSnapshot, SnapshotIndex } from '../../server/src/runs/runReader';
import { writeTinySappRun } from '../helpers/experimentFixtures';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-readers-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const experiment = join(dir, 'readers.prune.yaml');
writeTinySappRun(experiment, { name: 'readers', seed: 3, steps: 30, checkpointEvery: 10, snapshots: 3 });

let original = '';
let copies = 0;
/** A fresh copy of the finished run folder, to damage. */
const copy = () => {
  const target = join(dir, `copy-${copies++}`);
  cpSync(original, target, { recursive: true });
  return target;
};
const refused = (file: RegExp, field: string, problem: RegExp) => (error: unknown) => {
  assert.ok(error instanceof CorruptFileError, String(error));
  assert.match(error.file, file);
  assert.equal(error.field, field);
  assert.match(error.message, problem);
  return true;
};
const events = (runDir: string) =>
  readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent);

describe('readers of the run folder format', () => {
  before(async () => {
    const run = await runExperiment(experiment, { outputDir: join(dir, 'runs') });
    assert.equal(run.info.status, 'completed', run.info.error?.message);
    original = run.dir;
  });

  it('run.json and the events are read back whole: fields the reader does not check are kept', () => {
    const run = loadRun(original);
    assert.deepEqual(run.info, JSON.parse(readFileSync(join(original, 'run.json'), 'utf8')));
    assert.deepEqual(run.events, events(original));
  });

  it('run.json: empty, truncated, garbage, missing fields and wrong values are refused with the field', () => {
    const text = readFileSync(join(original, 'run.json'), 'utf8');
    const info = JSON.parse(text) as Record<string, unknown>;
    const cases: [string, string, RegExp][] = [
      ['', '', /is not valid JSON/],
      [text.slice(0, text.length / 2), '', /is not valid JSON/],
      ['\u0000\u0001garbage', '', /is not valid JSON/],
      ['{}', 'format', /expected 1/],
      [JSON.stringify({ ...info, status: 'exploded' }), 'status', /expected one of/],
      [JSON.stringify({ ...info, step: 'ten' }), 'step', /expected number/],
      [JSON.stringify({ ...info, step: 31 }), 'step', /beyond totalSteps 30/],
      [
        JSON.stringify({ ...info, final: { ...(info['final'] as object), sparsity: { global: 2, layers: [] } } }),
        'final.sparsity.global',
        /<=1/,
      ],
    ];
    for (const [content, field, problem] of cases) {
      const runDir = copy();
      writeFileSync(join(runDir, 'run.json'), content);
      assert.throws(() => loadRun(runDir), refused(/run\.json$/, field, problem), JSON.stringify(content.slice(0, 40)));
    }
  });

  it('metrics.jsonl: a bad line is refused with its line number and field; a half last line is left out', () => {
    const runDir = copy();
    const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    const damaged = [...lines];
    damaged[3] = damaged[3]!.replace(/"step":\d+/, '"step":-4');
    writeFileSync(join(runDir, 'metrics.jsonl'), `${damaged.join('\n')}\n`);
    assert.throws(() => loadRun(runDir), refused(/metrics\.jsonl:4$/, 'step', /expected number to be >=0/));
    damaged[3] = '{"type":"step"';
    writeFileSync(join(runDir, 'metrics.jsonl'), `${damaged.join('\n')}\n`);
    assert.throws(() => loadRun(runDir), refused(/metrics\.jsonl:4$/, '', /is not valid JSON/));
    writeFileSync(join(runDir, 'metrics.jsonl'), `${lines.join('\n')}\n{"type":"step","st`);
    assert.equal(loadRun(runDir).events.length, lines.length);
  });

  it('snapshots: a file outside the run folder, by path or by link, is never read', () => {
    const secret = join(dir, 'secret.txt');
    writeFileSync(secret, 'secret');
    const runDir = copy();
    const snapshot = loadRun(runDir).events.find((e) => e.type === 'snapshot')!;
    assert.equal(snapshot.type, 'snapshot');
    const escapes = { ...snapshot, file: '../../secret.txt' };
    assert.throws(() => readSnapshot(runDir, escapes), refused(/metrics\.jsonl$/, 'file', /outside the run folder/));
    const absolute = { ...snapshot, file: secret };
    assert.throws(() => readSnapshot(runDir, absolute), refused(/metrics\.jsonl$/, 'file', /outside the run folder/));
    rmSync(join(runDir, snapshot.file));
    symlinkSync(secret, join(runDir, snapshot.file));
    assert.throws(
      () => readSnapshot(runDir, snapshot),
      refused(/metrics\.jsonl$/, 'file', /a link out of the run folder/),
    );
    // The metrics line itself must name a snapshots/ file: the index refuses the line.
    const crafted = join(copy());
    appendFileSync(
      join(crafted, 'metrics.jsonl'),
      `${JSON.stringify({ ...snapshot, step: 999, file: '../../../../etc/passwd' })}\n`,
    );
    assert.throws(
      () => new SnapshotIndex().find(crafted, 999),
      refused(/metrics\.jsonl:\d+$/, 'file', /snapshots\/step-/),
    );
    assert.throws(() => loadRun(crafted), refused(/metrics\.jsonl:\d+$/, 'file', /snapshots\/step-/));
  });

  it('snapshots: empty, truncated or crafted files are refused, naming the layer', () => {
    const runDir = copy();
    const snapshot = loadRun(runDir).events.find((e) => e.type === 'snapshot')!;
    assert.equal(snapshot.type, 'snapshot');
    const file = join(runDir, snapshot.file);
    const bytes = readFileSync(file);
    writeFileSync(file, '');
    assert.throws(() => readSnapshot(runDir, snapshot), refused(/step-\d+\.bin$/, '', /holds 0 bytes/));
    writeFileSync(file, bytes.subarray(0, bytes.length - 8));
    assert.throws(() => readSnapshot(runDir, snapshot), refused(/step-\d+\.bin$/, '', /lays out/));
    const mask = Buffer.from(bytes);
    mask[snapshot.layers[0]!.maskOffset] = 7;
    writeFileSync(file, mask);
    assert.throws(
      () => readSnapshot(runDir, snapshot),
      refused(/step-\d+\.bin$/, 'layers[0] (dense_1)', /is 7, not 0 or 1/),
    );
    writeFileSync(file, Buffer.concat([bytes, Buffer.alloc(64)]));
    assert.throws(() => readSnapshot(runDir, snapshot), refused(/step-\d+\.bin$/, '', /more than/));
  });

  it('config.json: invalid JSON or an invalid config is refused naming the file, also when its hash was updated', async () => {
    const runDir = copy();
    const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { pruning: object };
    const withHash = (text: string) => {
      writeFileSync(join(runDir, 'config.json'), `${text}\n`);
      writeFileSync(
        join(runDir, 'run.json'),
        JSON.stringify({ ...info, status: 'cancelled', configHash: createHash('sha256').update(text).digest('hex') }),
      );
    };
    withHash('{"version": 1,');
    await assert.rejects(resumeRun(runDir), refused(/config\.json$/, '', /is not valid JSON/));
    withHash(JSON.stringify({ ...config, pruning: { ...config.pruning, sparsity: 3 } }));
    await assert.rejects(resumeRun(runDir), refused(/config\.json$/, 'pruning.sparsity', /./));
  });

  it('the block-sparse export: every damage to the pair is refused with the file and the field', () => {
    const runDir = copy();
    const exportDir = join(runDir, 'export');
    const json = readFileSync(join(exportDir, 'block-sparse.json'), 'utf8');
    const bin = readFileSync(join(exportDir, 'block-sparse.bin'));
    const manifest = JSON.parse(json) as Record<string, unknown> & { layers: Record<string, unknown>[] };
    const withManifest = (edit: (m: typeof manifest) => void) => {
      const m = structuredClone(manifest);
      edit(m);
      writeFileSync(join(exportDir, 'block-sparse.json'), JSON.stringify(m));
    };
    const reads = () => readBlockSparse(exportDir);
    assert.ok(reads().predict(new Float32Array(16), 1).length > 0, 'the intact export reads');

    writeFileSync(join(exportDir, 'block-sparse.json'), '');
    assert.throws(reads, refused(/block-sparse\.json$/, '', /is not valid JSON/));
    writeFileSync(join(exportDir, 'block-sparse.json'), json.slice(0, 50));
    assert.throws(reads, refused(/block-sparse\.json$/, '', /is not valid JSON/));
    withManifest((m) => (m['format'] = 'sparsity-studio/block-sparse@1'));
    assert.throws(reads, refused(/block-sparse\.json$/, 'format', /export the run again/));
    withManifest((m) => (m.layers[0]!['blockRows'] = 0));
    assert.throws(reads, refused(/block-sparse\.json$/, 'layers[0].blockRows', /not a positive integer/));
    withManifest((m) => (m.layers[0]!['kept'] = [0, 9999]));
    assert.throws(reads, refused(/block-sparse\.json$/, 'layers[0].kept[1]', /not a block of the 4x4 grid/));
    withManifest((m) => (m.layers[0]!['kept'] = [3, 1]));
    assert.throws(reads, refused(/block-sparse\.json$/, 'layers[0].kept[1]', /increasing/));
    withManifest((m) => (m.layers[1]!['offset'] = 1_000_000));
    assert.throws(reads, refused(/block-sparse\.json$/, 'layers[1].offset', /past the bin/));
    withManifest((m) => (m.layers[1]!['activation'] = 'swish'));
    assert.throws(reads, refused(/block-sparse\.json$/, 'layers[1].activation', /"swish"/));
    withManifest((m) => (m.layers[1]!['rows'] = 17));
    assert.throws(reads, refused(/block-sparse\.json$/, 'layers[1].rows', /the layer before gives 16/));

    writeFileSync(join(exportDir, 'block-sparse.json'), json);
    writeFileSync(join(exportDir, 'block-sparse.bin'), '');
    assert.throws(reads, refused(/block-sparse\.bin$/, '', /holds 0 bytes/));
    writeFileSync(join(exportDir, 'block-sparse.bin'), bin.subarray(0, bin.length - 4));
    assert.throws(reads, refused(/block-sparse\.bin$/, '', /holds \d+ bytes/));
    const other = Buffer.from(bin);
    other.writeFloatLE(0.5, 0);
    writeFileSync(join(exportDir, 'block-sparse.bin'), other);
    assert.throws(reads, refused(/block-sparse\.bin$/, '', /belongs to another export or is damaged/));
  });

  it('a half line left at the end of metrics.jsonl is cut off before the resumed run appends', async () => {
    const controller = new AbortController();
    const stopped = await runExperiment(experiment, {
      outputDir: join(dir, 'half'),
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.step >= 12) controller.abort();
      },
    });
    assert.equal(stopped.info.status, 'cancelled');
    appendFileSync(join(stopped.dir, 'metrics.jsonl'), '{"type":"step","step":13,"pha');
    const resumed = await resumeRun(stopped.dir);
    assert.equal(resumed.info.status, 'completed', resumed.info.error?.message);
    const all = events(stopped.dir);
    assert.ok(all.some((e) => e.type === 'status' && e.status === 'resumed'));
    assert.equal(loadRun(stopped.dir).events.length, all.length, 'every line is one whole event');
  });

  it('export refuses a run folder with a corrupt checkpoint, naming the file', async () => {
    const runDir = copy();
    const file = join(runDir, 'checkpoints', 'checkpoint.bin');
    writeFileSync(file, readFileSync(file).subarray(0, 200));
    await assert.rejects(exportRun(runDir), refused(/checkpoint\.bin$/, 'length', /truncated/));
  });
});
