/**
 * Reads a finished (or running) run folder back: run.json, the events, and snapshot files. Every
 * file is read as a bounded regular file and checked (runFiles.ts); a snapshot file is read only
 * from inside its run folder, and only when it is as large as the layout its event announces.
 */
import { closeSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent, RunInfo, ScoreRange, SnapshotEvent, SnapshotLayerBase64 } from '@protocol';
import type { SnapshotLayerArrays } from '../engine/trainer';
import {
  CorruptFileError,
  FileReadError,
  MAX_WHOLE_FILE_BYTES,
  openRegularFile,
  pathKind,
  readRegularFile,
} from '../data/regularFile';
import { insideRunFolder, parseRunEvent, parseRunEvents, parseRunInfo } from './runFiles';

export interface LoadedRun {
  dir: string;
  info: RunInfo;
  events: RunEvent[];
  /** The resolved config the run used (config.json). */
  config: unknown;
}

/** The most of a run.json or config.json read: far more than either ever holds. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;

/** run.json of a run folder, checked; refused when the folder is not a run folder. */
export function readRunInfo(dir: string): RunInfo {
  const file = join(dir, 'run.json');
  if (pathKind(file) === 'missing') throw new Error(`${dir} is not a run folder (no run.json)`);
  return parseRunInfo(readRegularFile(file, MAX_JSON_BYTES).toString('utf8'), file);
}

export function loadRun(dir: string): LoadedRun {
  const info = readRunInfo(dir);
  const metrics = join(dir, 'metrics.jsonl');
  const events =
    pathKind(metrics) === 'missing'
      ? []
      : parseRunEvents(readRegularFile(metrics, MAX_WHOLE_FILE_BYTES).toString('utf8'), metrics);
  const configPath = join(dir, 'config.json');
  let config: unknown = null;
  if (pathKind(configPath) !== 'missing') {
    const text = readRegularFile(configPath, MAX_JSON_BYTES).toString('utf8');
    try {
      config = JSON.parse(text);
    } catch (error) {
      throw new CorruptFileError(configPath, '', `is not valid JSON: ${(error as Error).message}`);
    }
  }
  return { dir, info, events, config };
}

/**
 * The scores and masks a snapshot event announces. The file must be inside the run folder and
 * hold the layout (float32 scores and 0/1 mask bytes per layer, padded to 4 bytes) exactly.
 */
export function readSnapshot(dir: string, event: SnapshotEvent): SnapshotLayerArrays[] {
  const metrics = join(dir, 'metrics.jsonl');
  const file = insideRunFolder(dir, event.file, metrics);
  let end = 0;
  for (const l of event.layers) {
    const n = l.gridRows * l.gridCols;
    end = Math.max(end, l.scoresOffset + 4 * n, l.maskOffset + n);
  }
  let bytes: Buffer;
  try {
    bytes = readRegularFile(file, end + 3); // + the padding that aligns the next layer
  } catch (error) {
    if (error instanceof FileReadError && error.tooLarge !== undefined)
      throw new CorruptFileError(
        file,
        '',
        `holds ${error.tooLarge} bytes, more than the ${end} its snapshot event (step ${event.step}) lays out`,
      );
    throw error;
  }
  if (bytes.length < end)
    throw new CorruptFileError(
      file,
      '',
      `holds ${bytes.length} bytes, but its snapshot event (step ${event.step}) lays out ${end}`,
    );
  return event.layers.map((l, i) => {
    const n = l.gridRows * l.gridCols;
    const scores = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + l.scoresOffset, bytes.byteOffset + l.scoresOffset + 4 * n),
    );
    const mask = new Uint8Array(bytes.subarray(l.maskOffset, l.maskOffset + n));
    const badMask = mask.findIndex((v) => v > 1);
    if (badMask >= 0)
      throw new CorruptFileError(
        file,
        `layers[${i}] (${l.name})`,
        `mask of block ${badMask} is ${mask[badMask]}, not 0 or 1`,
      );
    return {
      name: l.name,
      gridRows: l.gridRows,
      gridCols: l.gridCols,
      ...(l.kernel && { kernel: l.kernel }),
      scores,
      mask,
    };
  });
}

/** A snapshot layer as JSON messages carry it: the same float32 and mask bytes as the file, base64. */
export function snapshotLayerBase64(layer: SnapshotLayerArrays): SnapshotLayerBase64 {
  const { scores, mask, ...grid } = layer;
  return {
    ...grid,
    scores: Buffer.from(scores.buffer, scores.byteOffset, scores.byteLength).toString('base64'),
    mask: Buffer.from(mask.buffer, mask.byteOffset, mask.byteLength).toString('base64'),
  };
}

/**
 * The snapshot events of run folders, read incrementally. A live run's metrics.jsonl grows by a
 * line per logged step, and a dashboard asks for every new snapshot: parsing the whole file for
 * each request made a long run's requests ever slower on the server's thread.
 */
interface IndexedRun {
  ino: number;
  read: number;
  /** Lines read so far: a refused line is named by its number. */
  lines: number;
  snapshots: Map<number, SnapshotEvent>;
  /** Each snapshot's score range per layer, once read (a resumed run's rewrite is a new event). */
  ranges: WeakMap<SnapshotEvent, Record<string, ScoreRange>>;
}

export class SnapshotIndex {
  private readonly runs = new Map<string, IndexedRun>();

  /** The snapshot event at `step` (the last one written, after a resume), or undefined. */
  find(dir: string, step: number): SnapshotEvent | undefined {
    return this.refresh(dir)?.snapshots.get(step);
  }

  /**
   * Each layer's score range over every snapshot of the run so far: a colour scale that stays the
   * same across steps. Each file is read once; a live run's later calls read only its new ones.
   */
  runRanges(dir: string): Record<string, ScoreRange> {
    const run = this.refresh(dir);
    const out: Record<string, ScoreRange> = {};
    if (!run) return out;
    for (const event of run.snapshots.values()) {
      let ranges = run.ranges.get(event);
      if (!ranges) {
        ranges = {};
        for (const layer of readSnapshot(dir, event)) {
          let min = Infinity;
          let max = -Infinity;
          for (const v of layer.scores) {
            if (!Number.isFinite(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
          }
          if (min <= max) ranges[layer.name] = { min, max };
        }
        run.ranges.set(event, ranges);
      }
      for (const [name, r] of Object.entries(ranges)) {
        const known = out[name];
        out[name] = known ? { min: Math.min(known.min, r.min), max: Math.max(known.max, r.max) } : { ...r };
      }
    }
    return out;
  }

  /** The run's index, brought up to the end of its metrics.jsonl; undefined while it has none. */
  private refresh(dir: string): IndexedRun | undefined {
    const metrics = join(dir, 'metrics.jsonl');
    if (pathKind(join(dir, 'run.json')) === 'missing') throw new Error(`${dir} is not a run folder (no run.json)`);
    if (pathKind(metrics) === 'missing') return undefined;
    const { ino, size } = statSync(metrics);
    let run = this.runs.get(dir);
    if (!run || run.ino !== ino || size < run.read) {
      run = { ino, read: 0, lines: 0, snapshots: new Map(), ranges: new WeakMap() };
      this.runs.set(dir, run);
    }
    if (size > run.read) this.readFrom(metrics, run, size);
    return run;
  }

  private readFrom(metrics: string, run: IndexedRun, size: number): void {
    const chunk = Buffer.alloc(size - run.read);
    const { fd } = openRegularFile(metrics);
    try {
      readSync(fd, chunk, 0, chunk.length, run.read);
    } finally {
      closeSync(fd);
    }
    // Only whole lines: a line being appended is read next time.
    const end = chunk.lastIndexOf(0x0a) + 1;
    const lines = chunk.subarray(0, end).toString('utf8').split('\n').slice(0, -1);
    lines.forEach((line, i) => {
      if (!line.includes('"snapshot"')) return;
      const event = parseRunEvent(line, metrics, run.lines + i + 1);
      if (event.type === 'snapshot') run.snapshots.set(event.step, event);
    });
    run.read += end;
    run.lines += lines.length;
  }
}
