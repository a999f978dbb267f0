/** Reads a finished (or running) run folder back: run.json, the events, and snapshot files. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent, RunInfo, SnapshotEvent } from '@protocol';

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

export interface SnapshotLayerValues {
  name: string;
  gridRows: number;
  gridCols: number;
  scores: Float32Array;
  mask: Uint8Array;
}

export function readSnapshot(dir: string, event: SnapshotEvent): SnapshotLayerValues[] {
  const bytes = readFileSync(join(dir, event.file));
  return event.layers.map((l) => {
    const n = l.gridRows * l.gridCols;
    const scores = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + l.scoresOffset, bytes.byteOffset + l.scoresOffset + 4 * n),
    );
    const mask = new Uint8Array(bytes.subarray(l.maskOffset, l.maskOffset + n));
    return { name: l.name, gridRows: l.gridRows, gridCols: l.gridCols, scores, mask };
  });
}
