/** Reads a finished (or running) run folder back: run.json, the events, and snapshot files. */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent, RunInfo, ScoreRange, SnapshotEvent, SnapshotLayerBase64 } from '@protocol';
import type { SnapshotLayerArrays } from '../engine/trainer';

export interface LoadedRun {
  dir: string;
  info: RunInfo;
  events: RunEvent[];
  /** The resolved config the run used (config.json). */
  config: unknown;
}

export function loadRun(dir: string): LoadedRun {
  const runJson = join(dir, 'run.json');
  if (!existsSync(runJson)) throw new Error(`${dir} is not a run folder (no run.json)`);
  const info = JSON.parse(readFileSync(runJson, 'utf8')) as RunInfo;
  const metrics = join(dir, 'metrics.jsonl');
  const events: RunEvent[] = [];
  if (existsSync(metrics)) {
    for (const line of readFileSync(metrics, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        events.push(JSON.parse(line) as RunEvent);
      } catch {
        // A run killed mid-append leaves at most one partial last line; the rest is readable.
      }
    }
  }
  const configPath = join(dir, 'config.json');
  const config: unknown = existsSync(configPath) ? JSON.parse(readFileSync(configPath, 'utf8')) : null;
  return { dir, info, events, config };
}

export function readSnapshot(dir: string, event: SnapshotEvent): SnapshotLayerArrays[] {
  const bytes = readFileSync(join(dir, event.file));
  return event.layers.map((l) => {
    const n = l.gridRows * l.gridCols;
    const scores = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + l.scoresOffset, bytes.byteOffset + l.scoresOffset + 4 * n),
    );
    const mask = new Uint8Array(bytes.subarray(l.maskOffset, l.maskOffset + n));
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
    if (!existsSync(join(dir, 'run.json'))) throw new Error(`${dir} is not a run folder (no run.json)`);
    if (!existsSync(metrics)) return undefined;
    const { ino, size } = statSync(metrics);
    let run = this.runs.get(dir);
    if (!run || run.ino !== ino || size < run.read) {
      run = { ino, read: 0, snapshots: new Map(), ranges: new WeakMap() };
      this.runs.set(dir, run);
    }
    if (size > run.read) this.readFrom(metrics, run, size);
    return run;
  }

  private readFrom(metrics: string, run: { read: number; snapshots: Map<number, SnapshotEvent> }, size: number): void {
    const chunk = Buffer.alloc(size - run.read);
    const fd = openSync(metrics, 'r');
    try {
      readSync(fd, chunk, 0, chunk.length, run.read);
    } finally {
      closeSync(fd);
    }
    // Only whole lines: a line being appended is read next time.
    const end = chunk.lastIndexOf(0x0a) + 1;
    run.read += end;
    for (const line of chunk.subarray(0, end).toString('utf8').split('\n')) {
      if (!line.includes('"snapshot"')) continue;
      try {
        const event = JSON.parse(line) as RunEvent;
        if (event.type === 'snapshot') run.snapshots.set(event.step, event);
      } catch {
        // A partial line left by a killed run: loadRun skips it too.
      }
    }
  }
}
