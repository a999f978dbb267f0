/**
 * A run folder on disk (architecture.md §6): `run.json` rewritten atomically (temp file + rename,
 * so a killed process never leaves it half-written), `metrics.jsonl` appended one event per line,
 * and the config snapshot.
 */
import { appendFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent, RunInfo } from '@protocol';

export function writeFileAtomic(path: string, content: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, content);
  renameSync(temp, path);
}

function timestamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
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

  writeInfo(info: RunInfo): void {
    writeFileAtomic(join(this.dir, 'run.json'), `${JSON.stringify(info, null, 2)}\n`);
  }

  writeFile(name: string, content: string): void {
    writeFileAtomic(join(this.dir, name), content);
  }

  append(event: RunEvent): void {
    appendFileSync(join(this.dir, 'metrics.jsonl'), `${JSON.stringify(event)}\n`);
  }
}
