/**
 * The checkpoint file `checkpoints/checkpoint.bin`: one file (so it is replaced atomically as a
 * whole), self-validating, and tied to its run.
 *
 * ```
 * sparsity-studio/checkpoint@2 <sha256 of the rest, hex> <bytes of the rest>\n
 * {"runId":…,"configHash":…,"step":…,"phaseIndex":…,"stepMs":[…],"entries":[…]}\n
 * <payload: each entry's values, little-endian, at its offset>
 * ```
 *
 * A reader refuses, naming the file and the field: another format, a truncated or altered file
 * (length, checksum), another run's checkpoint (run id, config hash), a step outside the run,
 * entries that overlap the end or do not match their shape and dtype, masks that are not 0/1,
 * and non-finite values (a checkpoint is written only after a finite loss: NaN there is damage).
 */
import { createHash } from 'node:crypto';
import { CorruptFileError } from '../data/regularFile';
import type { SavedDtype, SavedTensor, TrainState } from '../engine/trainer';

export const CHECKPOINT_FORMAT = 'sparsity-studio/checkpoint@2';

/** Which run a checkpoint belongs to: a file from another run (or another config) is refused. */
export interface CheckpointOwner {
  runId: string;
  configHash: string;
  /** Steps of the run: a checkpoint's step is at most this. */
  totalSteps: number;
}

type EntryKind = 'variable' | 'mask' | 'optimizer';

interface CheckpointEntry {
  kind: EntryKind;
  name: string;
  shape: number[];
  dtype: SavedDtype | 'uint8';
  /** Byte offset in the payload. */
  offset: number;
  /** Bytes: the product of the shape times the dtype's size. */
  length: number;
}

interface CheckpointHeader {
  runId: string;
  configHash: string;
  step: number;
  phaseIndex: number;
  stepMs: number[];
  entries: CheckpointEntry[];
}

const DTYPE_BYTES: Record<CheckpointEntry['dtype'], number> = { float32: 4, int32: 4, uint8: 1 };
const KIND_DTYPES: Record<EntryKind, CheckpointEntry['dtype'][]> = {
  variable: ['float32', 'int32'],
  optimizer: ['float32', 'int32'],
  mask: ['uint8'],
};

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export function encodeCheckpoint(state: TrainState, owner: CheckpointOwner): Buffer {
  const parts: Uint8Array[] = [];
  const entries: CheckpointEntry[] = [];
  let offset = 0;
  const add = (kind: EntryKind, name: string, shape: number[], dtype: CheckpointEntry['dtype'], bytes: Uint8Array) => {
    entries.push({ kind, name, shape, dtype, offset, length: bytes.length });
    parts.push(bytes);
    offset += bytes.length;
  };
  const bytesOf = (t: SavedTensor) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  for (const [name, v] of Object.entries(state.variables)) add('variable', name, v.shape, v.dtype, bytesOf(v));
  for (const [name, m] of Object.entries(state.masks)) add('mask', name, [m.length], 'uint8', m);
  for (const w of state.optimizer) add('optimizer', w.name, w.shape, w.dtype, bytesOf(w));
  const header: CheckpointHeader = {
    runId: owner.runId,
    configHash: owner.configHash,
    step: state.step,
    phaseIndex: state.phaseIndex,
    stepMs: state.stepMs,
    entries,
  };
  const body = Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), ...parts]);
  return Buffer.concat([Buffer.from(`${CHECKPOINT_FORMAT} ${sha256(body)} ${body.length}\n`), body]);
}

export function decodeCheckpoint(bytes: Buffer, file: string, owner: CheckpointOwner): TrainState {
  const fail = (field: string, problem: string): never => {
    throw new CorruptFileError(file, field, problem);
  };
  if (bytes.length === 0) fail('', 'is empty: the checkpoint was never completed');
  const firstEnd = bytes.subarray(0, 256).indexOf(0x0a);
  const first = (firstEnd < 0 ? bytes.subarray(0, 64) : bytes.subarray(0, firstEnd)).toString('latin1');
  const [format, checksum, size] = first.split(' ');
  if (format !== CHECKPOINT_FORMAT)
    fail(
      'format',
      `is not a ${CHECKPOINT_FORMAT} file (an earlier version's checkpoint, whose optimizer state did not survive a resume, or not a checkpoint): start a new run`,
    );
  const body = bytes.subarray(firstEnd + 1);
  const declared = Number(size);
  if (!Number.isSafeInteger(declared) || declared < 0) fail('length', `is not a byte count: ${JSON.stringify(size)}`);
  if (body.length !== declared)
    fail(
      'length',
      `says ${declared} bytes follow its first line, but ${body.length} do: the file is truncated or was appended to`,
    );
  if (checksum !== sha256(body)) fail('sha256', 'does not match the contents: the file was altered or damaged on disk');

  const headerEnd = body.indexOf(0x0a);
  if (headerEnd < 0) fail('header', 'has no end of line');
  let header: unknown;
  try {
    header = JSON.parse(body.subarray(0, headerEnd).toString('utf8'));
  } catch (error) {
    fail('header', `is not JSON: ${(error as Error).message}`);
  }
  const h = checkHeader(header, fail);
  if (h.runId !== owner.runId)
    fail('runId', `is \`${h.runId}\`: the checkpoint belongs to another run (this is \`${owner.runId}\`)`);
  if (h.configHash !== owner.configHash)
    fail('configHash', "differs from the run's config: the checkpoint belongs to another config");
  if (h.step > owner.totalSteps) fail('step', `${h.step} is beyond the run's ${owner.totalSteps} steps`);

  const payload = body.subarray(headerEnd + 1);
  const state: TrainState = {
    step: h.step,
    phaseIndex: h.phaseIndex,
    stepMs: h.stepMs,
    variables: {},
    masks: {},
    optimizer: [],
  };
  const seen = new Set<string>();
  h.entries.forEach((e, i) => {
    const field = `entries[${i}] (${e.kind} \`${e.name}\`)`;
    if (seen.has(`${e.kind}/${e.name}`)) fail(field, 'appears twice');
    seen.add(`${e.kind}/${e.name}`);
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (e.length !== count * DTYPE_BYTES[e.dtype])
      fail(
        field,
        `has ${e.length} bytes, but [${e.shape.join(', ')}] ${e.dtype} takes ${count * DTYPE_BYTES[e.dtype]}`,
      );
    if (e.offset + e.length > payload.length)
      fail(field, `ends at byte ${e.offset + e.length}, past the payload's ${payload.length}`);
    // A copy: the views below must not keep the whole file alive, and need aligned buffers.
    const copy = new Uint8Array(payload.subarray(e.offset, e.offset + e.length)).buffer;
    if (e.kind === 'mask') {
      const mask = new Uint8Array(copy);
      const bad = mask.findIndex((v) => v > 1);
      if (bad >= 0) fail(field, `holds ${mask[bad]} at block ${bad}: a mask is 0 or 1`);
      state.masks[e.name] = mask;
      return;
    }
    const saved: SavedTensor =
      e.dtype === 'int32'
        ? { shape: e.shape, dtype: 'int32', data: new Int32Array(copy) }
        : { shape: e.shape, dtype: 'float32', data: new Float32Array(copy) };
    if (saved.dtype === 'float32') {
      const bad = saved.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0)
        fail(
          field,
          `holds ${saved.data[bad]} at index ${bad}: the checkpoint is corrupt (one is written only after a finite loss)`,
        );
    }
    if (e.kind === 'variable') state.variables[e.name] = saved;
    else state.optimizer.push({ name: e.name, ...saved });
  });
  return state;
}

function checkHeader(value: unknown, fail: (field: string, problem: string) => never): CheckpointHeader {
  const isInt = (v: unknown, min: number): v is number => Number.isSafeInteger(v) && (v as number) >= min;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('header', 'is not an object');
  const h = value as Record<string, unknown>;
  if (typeof h['runId'] !== 'string') fail('runId', 'is missing');
  if (typeof h['configHash'] !== 'string') fail('configHash', 'is missing');
  if (!isInt(h['step'], 0)) fail('step', `is not a step: ${JSON.stringify(h['step'])}`);
  if (!isInt(h['phaseIndex'], -1)) fail('phaseIndex', `is not a phase index: ${JSON.stringify(h['phaseIndex'])}`);
  const stepMs = h['stepMs'];
  if (!Array.isArray(stepMs) || !stepMs.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0))
    fail('stepMs', 'is not a list of step times');
  const entries = h['entries'];
  if (!Array.isArray(entries)) return fail('entries', 'is not a list');
  entries.forEach((raw: unknown, i) => {
    const field = `entries[${i}]`;
    if (typeof raw !== 'object' || raw === null) return fail(field, 'is not an object');
    const e = raw as Record<string, unknown>;
    const kind = e['kind'] as EntryKind;
    if (!(kind in KIND_DTYPES)) fail(`${field}.kind`, `is not variable, mask or optimizer: ${JSON.stringify(kind)}`);
    if (typeof e['name'] !== 'string' || e['name'] === '') fail(`${field}.name`, 'is missing');
    if (!Array.isArray(e['shape']) || !(e['shape'] as unknown[]).every((d) => isInt(d, 0)))
      fail(`${field}.shape`, 'is not a list of sizes');
    if (!KIND_DTYPES[kind].includes(e['dtype'] as CheckpointEntry['dtype']))
      fail(`${field}.dtype`, `is ${JSON.stringify(e['dtype'])}; a ${kind} is ${KIND_DTYPES[kind].join(' or ')}`);
    if (!isInt(e['offset'], 0)) fail(`${field}.offset`, 'is not a byte offset');
    if (!isInt(e['length'], 0)) fail(`${field}.length`, 'is not a byte count');
  });
  return h as unknown as CheckpointHeader;
}
