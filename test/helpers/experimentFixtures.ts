/** Shared by the unit, CLI and LSP tests: the broken fixtures with their `# expect:` lines, and the samples. */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { nodeHost } from '../../server/src/data/nodeHost';
import type { ExperimentHost } from '../../server/src/experiment/experimentHost';

export const ROOT = join(__dirname, '..', '..');
export const BROKEN_DIR = join(ROOT, 'test', 'fixtures', 'broken');
export const SAMPLES_DIR = join(ROOT, 'samples');

export interface Expectation {
  code: string;
  /** 1-based, as the CLI prints: `line:col-endLine:endCol`. */
  range: string;
}

export interface BrokenFixture {
  name: string;
  path: string;
  text: string;
  expected: Expectation[];
}

export function brokenFixtures(): BrokenFixture[] {
  return readdirSync(BROKEN_DIR)
    .filter((f) => f.endsWith('.prune.yaml'))
    .sort()
    .map((name) => {
      const path = join(BROKEN_DIR, name);
      const text = readFileSync(path, 'utf8');
      const expected = [...text.matchAll(/^# expect: (\S+) (\S+)$/gm)].map((m) => ({ code: m[1]!, range: m[2]! }));
      return { name, path, text, expected };
    });
}

export function sampleFiles(): string[] {
  return readdirSync(SAMPLES_DIR)
    .filter((f) => f.endsWith('.prune.yaml'))
    .sort()
    .map((f) => join(SAMPLES_DIR, f));
}

export function hostFor(file: string): ExperimentHost {
  return nodeHost(dirname(file));
}

/** `line:col-endLine:endCol`, 1-based, from an LSP-style 0-based range. */
export function rangeText(r: {
  start: { line: number; character: number };
  end: { line: number; character: number };
}): string {
  return `${r.start.line + 1}:${r.start.character + 1}-${r.end.line + 1}:${r.end.character + 1}`;
}

/** What differs between the tiny SA++ runs of the run-folder tests (writeTinySappRun). */
export interface TinySappRun {
  name: string;
  seed: number;
  steps: number;
  /** `training.log_every`; the format's default when absent. */
  logEvery?: number;
  checkpointEvery: number;
  snapshots: number;
  /** Training examples (a quarter of them again held out); 256 by default. */
  trainExamples?: number;
  export?: boolean;
}

/**
 * Writes `file`: a teacher 16→16 MLP whose `dense_1` SA++ prunes to half of its 4×4 blocks, a run
 * of a few milliseconds per step for the tests that kill, stop or corrupt run folders.
 */
export function writeTinySappRun(file: string, run: TinySappRun): void {
  const train = run.trainExamples ?? 256;
  writeFileSync(
    file,
    `version: 1
name: ${run.name}
seed: ${run.seed}
backend: wasm
data:
  source: teacher
  input_dim: 16
  hidden: 16
  train_examples: ${train}
  test_examples: ${train / 4}
  batch_size: 32
model:
  kind: mlp
  hidden: [16]
training:
  steps: ${run.steps}
  eval_every: 0${run.logEvery !== undefined ? `\n  log_every: ${run.logEvery}` : ''}
pruning:
  method: sapp
  sparsity: 0.5
  block: 4
  min_blocks: 4
  layers: [dense_1]
output:
  dir: runs
  checkpoint_every: ${run.checkpointEvery}
  snapshots: ${run.snapshots}${run.export === false ? '\n  export: false' : ''}
`,
  );
}
