/** Shared by the unit, CLI and LSP tests: the broken fixtures with their `# expect:` lines, and the samples. */
import { readdirSync, readFileSync } from 'node:fs';
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
