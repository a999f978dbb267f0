/**
 * A sweep folder on disk: `sweep.json` (`SweepInfo`, rewritten atomically), one run folder per
 * combination and `logs/`. Readers check what they read, since a sweep folder may come from
 * another version, another machine or a hand edit.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import type { RunInfo, SweepInfo, SweepRunStatus } from '@protocol';
import { writeFileAtomic } from '../data/durableFile';
import { readRunInfo } from './runReader';
import { timestamp } from './runStore';

export const SWEEP_FILE = 'sweep.json';

export const FINAL_RUN_STATES: ReadonlySet<SweepRunStatus> = new Set(['completed', 'failed', 'cancelled']);

export function fileHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function isSweepFolder(dir: string): boolean {
  return existsSync(join(dir, SWEEP_FILE));
}

/** A new, unique folder `<name>-sweep-<YYYYMMDD-HHMMSS>[-n]` under `outputDir`. */
export function createSweepFolder(outputDir: string, name: string, now = new Date()): string {
  mkdirSync(outputDir, { recursive: true });
  const base = `${name}-sweep-${timestamp(now)}`;
  for (let n = 1; ; n++) {
    const dir = join(outputDir, n === 1 ? base : `${base}-${n}`);
    try {
      mkdirSync(dir); // not recursive: fails when another process took the name first
      mkdirSync(join(dir, 'logs'));
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

export function writeSweep(dir: string, info: SweepInfo): void {
  info.updatedAt = new Date().toISOString();
  writeFileAtomic(join(dir, SWEEP_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `sweep.json` of a sweep folder, checked enough that every reader can trust its shape. */
export function readSweep(dir: string): SweepInfo {
  const path = join(dir, SWEEP_FILE);
  if (!existsSync(path)) throw new Error(`${dir} is not a sweep folder (no ${SWEEP_FILE})`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const bad = (what: string) => new Error(`${path} is not a sweep file of this version: ${what}`);
  if (!isRecord(value) || value['format'] !== 1) throw bad('`format` is not 1');
  if (typeof value['experimentFile'] !== 'string' || typeof value['fileHash'] !== 'string')
    throw bad('no `experimentFile` or `fileHash`');
  if (!Array.isArray(value['grid']) || !Array.isArray(value['runs'])) throw bad('no `grid` or `runs` list');
  for (const [i, run] of (value['runs'] as unknown[]).entries()) {
    if (!isRecord(run) || typeof run['dir'] !== 'string' || !isRecord(run['params']) || typeof run['log'] !== 'string')
      throw bad(`runs[${i}] needs \`dir\`, \`params\` and \`log\``);
    // Run folders and logs live inside the sweep folder: a path that leaves it is refused (a
    // resume writes there).
    for (const key of ['dir', 'log'] as const)
      if (!resolve(dir, run[key] as string).startsWith(resolve(dir) + sep))
        throw bad(`runs[${i}].${key} leaves the sweep folder`);
  }
  return value as unknown as SweepInfo;
}

/** A run's run.json when it exists and is valid (a run that has not started has none). */
export function startedRunInfo(runDir: string): RunInfo | undefined {
  try {
    return readRunInfo(runDir);
  } catch {
    return undefined;
  }
}

/** The folder's name, as `SweepInfo.id` records it. */
export function sweepId(dir: string): string {
  return basename(resolve(dir));
}
