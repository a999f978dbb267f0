/**
 * A run folder on disk (its layout: protocol/run.ts): `run.json` rewritten atomically (temp file +
 * rename, so a killed process never leaves it half-written), `metrics.jsonl` appended one event per
 * line, the config snapshot, block-importance snapshots (binary) and the resumable checkpoint.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent, RunInfo, SnapshotEvent, SnapshotLayerInFile, SnapshotScoreKind } from '@protocol';
import type { SavedDtype, SavedTensor, SnapshotLayerArrays, TrainState } from '../engine/trainer';

export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, content);
  renameSync(temp, path);
}

function timestamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}

interface CheckpointManifest {
  step: number;
  phaseIndex: number;
  stepMs: number[];
  /** Each array's place in checkpoint.bin, by byte offset, with its dtype (masks are uint8). */
  entries: {
    kind: 'variable' | 'mask' | 'optimizer';
    name: string;
    shape: number[];
    dtype: SavedDtype | 'uint8';
    offset: number;
    length: number;
  }[];
}

export class RunStore {
  private constructor(
    readonly dir: string,
    readonly id: string,
  ) {}

  /** A new, unique folder `<name>-<method>-s<seed>-<YYYYMMDD-HHMMSS>[-n]` under `outputDir`. */
  static create(outputDir: string, name: string, method: string, seed: number, now = new Date()): RunStore {
    mkdirSync(outputDir, { recursive: true });
    const base = `${name}-${method}-s${seed}-${timestamp(now)}`;
    let id = base;
    for (let n = 2; existsSync(join(outputDir, id)); n++) id = `${base}-${n}`;
    const dir = join(outputDir, id);
    mkdirSync(dir);
    return new RunStore(dir, id);
  }

  static open(dir: string): RunStore {
    if (!existsSync(join(dir, 'run.json'))) throw new Error(`${dir} is not a run folder (no run.json)`);
    return new RunStore(dir, dir.split('/').filter(Boolean).pop()!);
  }

  readInfo(): RunInfo {
    return JSON.parse(readFileSync(join(this.dir, 'run.json'), 'utf8')) as RunInfo;
  }

  writeInfo(info: RunInfo): void {
    writeFileAtomic(join(this.dir, 'run.json'), `${JSON.stringify(info, null, 2)}\n`);
  }

  writeFile(name: string, content: string): void {
    writeFileAtomic(join(this.dir, name), content);
  }

  append(event: RunEvent): void {
    appendFileSync(join(this.dir, 'metrics.jsonl'), `${JSON.stringify(event)}\n`);
  }

  /** `snapshots/step-<8 digits>.bin`: per layer, float32 scores then mask bytes; announced by a snapshot event. */
  writeSnapshot(
    step: number,
    phase: number,
    score: SnapshotScoreKind,
    layers: SnapshotLayerArrays[],
  ): SnapshotEvent {
    mkdirSync(join(this.dir, 'snapshots'), { recursive: true });
    const file = `snapshots/step-${String(step).padStart(8, '0')}.bin`;
    const parts: Uint8Array[] = [];
    const described: SnapshotLayerInFile[] = [];
    let offset = 0;
    for (const l of layers) {
      const scores = new Uint8Array(new Float32Array(l.scores).buffer);
      described.push({
        name: l.name,
        gridRows: l.gridRows,
        gridCols: l.gridCols,
        ...(l.kernel && { kernel: l.kernel }),
        scoresOffset: offset,
        maskOffset: offset + scores.length,
      });
      parts.push(scores, l.mask);
      offset += scores.length + l.mask.length;
      const pad = (4 - (offset % 4)) % 4; // keep the next float32 array aligned
      parts.push(new Uint8Array(pad));
      offset += pad;
    }
    writeFileAtomic(join(this.dir, file), Buffer.concat(parts));
    const event: SnapshotEvent = { type: 'snapshot', step, phase, score, file, layers: described };
    this.append(event);
    return event;
  }

  /** `checkpoints/checkpoint.bin` then `checkpoint.json`, each atomic; the manifest is written last. */
  writeCheckpoint(state: TrainState): void {
    mkdirSync(join(this.dir, 'checkpoints'), { recursive: true });
    const parts: Uint8Array[] = [];
    const entries: CheckpointManifest['entries'] = [];
    let offset = 0;
    const add = (
      kind: CheckpointManifest['entries'][number]['kind'],
      name: string,
      shape: number[],
      dtype: CheckpointManifest['entries'][number]['dtype'],
      bytes: Uint8Array,
    ) => {
      entries.push({ kind, name, shape, dtype, offset, length: bytes.length });
      parts.push(bytes);
      offset += bytes.length;
      const pad = (4 - (offset % 4)) % 4;
      parts.push(new Uint8Array(pad));
      offset += pad;
    };
    const bytesOf = (t: SavedTensor) =>
      new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
    for (const [name, v] of Object.entries(state.variables)) add('variable', name, v.shape, v.dtype, bytesOf(v));
    for (const [name, m] of Object.entries(state.masks)) add('mask', name, [m.length], 'uint8', m);
    for (const w of state.optimizer) add('optimizer', w.name, w.shape, w.dtype, bytesOf(w));
    writeFileAtomic(join(this.dir, 'checkpoints', 'checkpoint.bin'), Buffer.concat(parts));
    const manifest: CheckpointManifest = {
      step: state.step,
      phaseIndex: state.phaseIndex,
      stepMs: state.stepMs,
      entries,
    };
    writeFileAtomic(join(this.dir, 'checkpoints', 'checkpoint.json'), JSON.stringify(manifest));
  }

  readCheckpoint(): TrainState | null {
    const manifestPath = join(this.dir, 'checkpoints', 'checkpoint.json');
    if (!existsSync(manifestPath)) return null;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as CheckpointManifest;
    const bin = readFileSync(join(this.dir, 'checkpoints', 'checkpoint.bin'));
    const state: TrainState = {
      step: manifest.step,
      phaseIndex: manifest.phaseIndex,
      stepMs: manifest.stepMs,
      variables: {},
      masks: {},
      optimizer: [],
    };
    for (const e of manifest.entries) {
      const bytes = bin.subarray(e.offset, e.offset + e.length);
      if (bytes.length !== e.length) throw new Error(`${this.dir}/checkpoints/checkpoint.bin is truncated`);
      if (e.kind === 'mask') state.masks[e.name] = new Uint8Array(bytes);
      else {
        const copy = new Uint8Array(bytes).buffer;
        const saved: SavedTensor =
          e.dtype === 'int32'
            ? { shape: e.shape, dtype: 'int32', data: new Int32Array(copy) }
            : { shape: e.shape, dtype: 'float32', data: new Float32Array(copy) };
        if (e.kind === 'variable') state.variables[e.name] = saved;
        else state.optimizer.push({ name: e.name, ...saved });
      }
    }
    return state;
  }
}
