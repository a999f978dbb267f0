/**
 * Sweeps: an optional top-level `sweep:` maps dotted key paths of the format to lists of values,
 * and the runs are their product. This module is the grid itself, pure: reading the axes from a
 * parsed file, expanding them in a fixed order, and applying one combination to the file's value
 * before the schema sees it (so each combination gets its own defaults, e.g. per method).
 */
import type { SweepAxis, SweepValue } from '@protocol';
import { ExperimentSchema, type ExperimentConfig } from './schema';

export const SWEEP_KEY = 'sweep';
/** The one key inside `sweep:` that is not a key path: where the SLURM executor's options go. */
export const SWEEP_SLURM_KEY = 'slurm';
/** Above this many runs the validator warns (a typo in a list multiplies quickly). */
export const SWEEP_RUNS_WARNING = 200;

export type SweepParams = Record<string, SweepValue>;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The axes of a parsed file's `sweep:` in the order written; entries that are not non-empty lists are left out. */
export function sweepAxes(fileValue: unknown): SweepAxis[] {
  const sweep = isRecord(fileValue) ? fileValue[SWEEP_KEY] : undefined;
  if (!isRecord(sweep)) return [];
  return Object.entries(sweep)
    .filter(([path, values]) => path !== SWEEP_SLURM_KEY && Array.isArray(values) && values.length > 0)
    .map(([path, values]) => ({ path, values: values as SweepValue[] }));
}

/** Whether a parsed file declares a sweep (a `sweep:` mapping, even an empty or broken one). */
export function hasSweep(fileValue: unknown): boolean {
  return isRecord(fileValue) && fileValue[SWEEP_KEY] !== undefined;
}

export function combinationCount(axes: SweepAxis[]): number {
  return axes.reduce((n, axis) => n * axis.values.length, 1);
}

/**
 * Every combination, the first axis varying slowest: `sparsity: [a, b]`, `seed: [1, 2]` gives
 * (a,1), (a,2), (b,1), (b,2). Run indices (and SLURM array task ids) are positions in this list.
 */
export function expandGrid(axes: SweepAxis[]): SweepParams[] {
  let combinations: SweepParams[] = [{}];
  for (const axis of axes)
    combinations = combinations.flatMap((partial) => axis.values.map((value) => ({ ...partial, [axis.path]: value })));
  return axes.length === 0 ? [] : combinations;
}

/** `pruning.sparsity` → `['pruning', 'sparsity']`. */
export function splitKeyPath(path: string): string[] {
  return path.split('.');
}

/**
 * The file's value with `sweep:` removed and one combination applied: each path is set (missing
 * mappings on the way are created), replacing what the file wrote there.
 */
export function applySweepParams(fileValue: unknown, params: SweepParams): Record<string, unknown> {
  const result: Record<string, unknown> = isRecord(fileValue) ? structuredClone(fileValue) : {};
  delete result[SWEEP_KEY];
  for (const [path, value] of Object.entries(params)) {
    const keys = splitKeyPath(path);
    let target = result;
    for (const key of keys.slice(0, -1)) {
      if (!isRecord(target[key])) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[keys[keys.length - 1]!] = structuredClone(value);
  }
  return result;
}

/** A value as a short name part: `0.9`, `sapp`, `[8, 8]` → `8x8`. */
function nameOf(value: SweepValue): string {
  if (Array.isArray(value)) return value.map(nameOf).join('x');
  if (isRecord(value)) return Object.values(value).map(nameOf).join('-');
  return String(value).replace(/[^A-Za-z0-9.]+/g, '');
}

/**
 * The folder of run `index` in the sweep folder: `003_sparsity-0.9_method-sapp_seed-2` (the last
 * segment of each path and its value). The index keeps names unique and sorted.
 */
export function sweepRunFolderName(index: number, total: number, params: SweepParams): string {
  const digits = Math.max(3, String(Math.max(0, total - 1)).length);
  const parts = Object.entries(params).map(([path, value]) => `${splitKeyPath(path).at(-1)}-${nameOf(value)}`);
  return [String(index).padStart(digits, '0'), ...parts].join('_').slice(0, 120);
}

/** `pruning.sparsity=0.9 seed=2`: a combination as people read it. */
export function describeParams(params: SweepParams): string {
  return Object.entries(params)
    .map(([path, value]) => `${path}=${JSON.stringify(value)}`)
    .join(' ');
}

/**
 * The config one combination runs: the file with the combination applied, parsed with its
 * defaults. The validator reports a combination's problems on the file first; this throws for
 * one that slipped through (a file edited since), naming the keys.
 */
export function sweepCombinationConfig(fileValue: unknown, params: SweepParams): ExperimentConfig {
  const parsed = ExperimentSchema.safeParse(applySweepParams(fileValue, params));
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'the file'}: ${issue.message}`);
  throw new Error(`the combination ${describeParams(params)} is not a valid experiment: ${problems.join('; ')}`);
}
