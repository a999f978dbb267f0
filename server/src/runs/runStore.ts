/**
 * A run folder on disk (its layout: protocol/run.ts): `run.json` rewritten atomically (temp file +
 * rename, so a killed process never leaves it half-written), `metrics.jsonl` appended one event per
 * line, the config snapshot, block-importance snapshots (binary) and the resumable checkpoint.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RunEvent, RunInfo, SnapshotEvent, SnapshotLayerInFile, SnapshotScoreKind } from '@protocol';
import { appendDurable, makeFolder, renameDurable, syncPath, TEMP_SUFFIX, writeFileAtomic } from '../data/durableFile';
import { MAX_WHOLE_FILE_BYTES, pathKind, readRegularFile } from '../data/regularFile';
import type { SnapshotLayerArrays, TrainState } from '../engine/trainer';
import { folderProblem } from '../experiment/experimentHost';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointOwner } from './checkpointFile';
import { processIsAlive } from './runLock';
import { readRunInfo } from './runReader';

/** `YYYYMMDD-HHMMSS` in local time: the suffix of run and sweep folder names. */
export function timestamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}

/** The checkpoint, relative to the run folder. */
export const CHECKPOINT_FILE = 'checkpoints/checkpoint.bin';

const STAGING_PREFIX = '.staging-';

/**
 * Space set aside in every run folder while it runs: when the disk fills up, removing it leaves
 * room to mark run.json `failed` (an atomic write needs a new file), so a full disk never leaves a
 * run that says it is still running.
 */
const RESERVE_FILE = '.reserve';
const RESERVE_BYTES = 256 * 1024;

/** Staging folders of processes that died before their run folder was complete. */
function removeDeadStaging(outputDir: string): void {
  for (const entry of readdirSync(outputDir)) {
    const pid = Number(/^\.staging-(\d+)-/.exec(entry)?.[1]);
    if (pid && !processIsAlive(pid)) rmSync(join(outputDir, entry), { recursive: true, force: true });
  }
}

/** The text of run.json. */
export const runJson = (info: RunInfo) => `${JSON.stringify(info, null, 2)}\n`;

export class RunStore {
  private constructor(
    readonly dir: string,
    readonly id: string,
  ) {}

  /**
   * A new, unique folder `<name>-<method>-s<seed>-<YYYYMMDD-HHMMSS>[-n]` under `outputDir`, with
   * its first files (`contents` of the id it gets: run.json, the config). They are written into a
   * hidden staging folder that is then renamed into place, so a run folder exists only complete
   * (a kill before leaves a `.staging-*` folder, removed by the next run), and the rename claims
   * the name atomically: runs started at the same instant get `-2`, `-3`, ...
   */
  static create(
    outputDir: string,
    name: string,
    method: string,
    seed: number,
    contents: (id: string) => Record<string, string | Uint8Array>,
    now = new Date(),
  ): RunStore {
    const problem = folderProblem(outputDir, pathKind);
    if (problem) throw new Error(`cannot create run folders: ${problem}`);
    makeFolder(outputDir);
    removeDeadStaging(outputDir);
    const base = `${name}-${method}-s${seed}-${timestamp(now)}`;
    for (let n = 1; ; n++) {
      const id = n === 1 ? base : `${base}-${n}`;
      const dir = join(outputDir, id);
      if (pathKind(dir) !== 'missing') continue; // rename would also replace an empty folder
      const store = RunStore.stage(dir, contents);
      if (store) return store;
    }
  }

  /**
   * A new run folder at exactly `dir` (a sweep names its runs). A folder left without run.json
   * by a run that died before starting is reused; one that holds a run is refused.
   */
  static createAt(dir: string, contents: (id: string) => Record<string, string | Uint8Array>): RunStore {
    const parent = dirname(dir);
    makeFolder(parent);
    if (pathKind(join(dir, 'run.json')) !== 'missing') throw new Error(`${dir} already holds a run`);
    rmSync(dir, { recursive: true, force: true });
    const store = RunStore.stage(dir, contents);
    if (!store) throw new Error(`${dir} was created by another process meanwhile`);
    return store;
  }

  /**
   * Writes the first files into a hidden staging folder beside `dir` and renames it to `dir`; null
   * when `dir` appeared meanwhile (the rename claims the name atomically).
   */
  private static stage(dir: string, contents: (id: string) => Record<string, string | Uint8Array>): RunStore | null {
    const id = basename(dir);
    const staging = join(dirname(dir), `${STAGING_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
    makeFolder(staging);
    try {
      const files = { ...contents(id), [RESERVE_FILE]: new Uint8Array(RESERVE_BYTES) };
      for (const [file, content] of Object.entries(files)) writeFileAtomic(join(staging, file), content);
      try {
        renameDurable(staging, dir);
        return new RunStore(dir, id);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
        return null;
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  static open(dir: string): RunStore {
    if (!existsSync(join(dir, 'run.json'))) throw new Error(`${dir} is not a run folder (no run.json)`);
    return new RunStore(dir, dir.split('/').filter(Boolean).pop()!);
  }

  readInfo(): RunInfo {
    return readRunInfo(this.dir);
  }

  /**
   * Before a new owner writes into a folder a dead process left (resume; a worker that crashed):
   * the half line a kill during an append leaves at the end of metrics.jsonl is cut off (else the
   * next event would be glued to it), and temporary files of dead processes are removed.
   */
  prepareToContinue(): void {
    const metrics = join(this.dir, 'metrics.jsonl');
    if (pathKind(metrics) === 'file') {
      const text = readRegularFile(metrics, MAX_WHOLE_FILE_BYTES);
      const end = text.lastIndexOf(0x0a) + 1;
      if (end !== text.length) {
        truncateSync(metrics, end);
        syncPath(metrics);
      }
    }
    for (const folder of ['', 'checkpoints', 'snapshots', 'export', 'export/model']) {
      const path = join(this.dir, folder);
      if (pathKind(path) !== 'folder') continue;
      for (const entry of readdirSync(path)) {
        const pid = Number(entry.slice(entry.lastIndexOf(TEMP_SUFFIX) + TEMP_SUFFIX.length));
        if (entry.includes(TEMP_SUFFIX) && pid > 0 && !processIsAlive(pid)) rmSync(join(path, entry), { force: true });
      }
    }
  }

  /** Sets space aside for a run's last writes (see RESERVE_FILE): a resumed run does it again. */
  reserveSpace(): void {
    if (pathKind(join(this.dir, RESERVE_FILE)) === 'missing')
      writeFileAtomic(join(this.dir, RESERVE_FILE), new Uint8Array(RESERVE_BYTES));
  }

  /** Frees the space set aside for the last writes (see RESERVE_FILE): before them, and once the run ends. */
  releaseReserve(): void {
    rmSync(join(this.dir, RESERVE_FILE), { force: true });
  }

  writeInfo(info: RunInfo): void {
    writeFileAtomic(join(this.dir, 'run.json'), runJson(info));
  }

  writeFile(name: string, content: string): void {
    writeFileAtomic(join(this.dir, name), content);
  }

  append(event: RunEvent): void {
    appendDurable(join(this.dir, 'metrics.jsonl'), `${JSON.stringify(event)}\n`);
  }

  /** `snapshots/step-<8 digits>.bin`: per layer, float32 scores then mask bytes; announced by a snapshot event. */
  writeSnapshot(step: number, phase: number, score: SnapshotScoreKind, layers: SnapshotLayerArrays[]): SnapshotEvent {
    makeFolder(join(this.dir, 'snapshots'));
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

  /**
   * `checkpoints/checkpoint.bin` (checkpointFile.ts), replaced atomically as one file. The events
   * it covers are flushed first: a checkpoint never survives a power loss that its events do not.
   */
  writeCheckpoint(state: TrainState, owner: CheckpointOwner): void {
    const metrics = join(this.dir, 'metrics.jsonl');
    if (existsSync(metrics)) syncPath(metrics);
    makeFolder(join(this.dir, 'checkpoints'));
    writeFileAtomic(join(this.dir, CHECKPOINT_FILE), encodeCheckpoint(state, owner));
  }

  /** The last complete checkpoint, validated against its run; null when the run has none yet. */
  readCheckpoint(owner: CheckpointOwner): TrainState | null {
    const file = join(this.dir, CHECKPOINT_FILE);
    if (pathKind(file) === 'missing') return null;
    return decodeCheckpoint(readRegularFile(file, MAX_WHOLE_FILE_BYTES), file, owner);
  }
}
