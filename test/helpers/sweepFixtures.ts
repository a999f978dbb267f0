/** Shared by the sweep tests: tiny sweep files on teacher data, the CLI as a child process, waiting on files. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunInfo, SweepInfo } from '@protocol';
import { CHECKPOINT_FILE, RunStore } from '../../server/src/runs/runStore';
import { ROOT } from './experimentFixtures';

/**
 * A sweep file on a small planted-teacher task (a run of 200 steps takes about a second here).
 * `sweep` is the YAML of the `sweep:` mapping's entries, indented by two spaces.
 */
export function writeSweepFile(
  dir: string,
  name: string,
  sweep: string,
  options: { steps?: number; checkpointEvery?: number; training?: string } = {},
): string {
  const file = join(dir, `${name}.prune.yaml`);
  writeFileSync(
    file,
    `version: 1
name: ${name}
seed: 1
backend: wasm
data:
  source: teacher
  input_dim: 32
  hidden: 32
  train_examples: 1000
  test_examples: 200
  batch_size: 64
model:
  kind: mlp
  hidden: [32]
training:
  steps: ${options.steps ?? 200}
  eval_every: 0
  learning_rate: 0.003
${options.training ?? ''}
pruning:
  method: sapp
  sparsity: 0.75
  block: 8
  min_blocks: 4
  layers: [dense_1]
output:
  dir: runs
  snapshots: 4
  export: false
  checkpoint_every: ${options.checkpointEvery ?? 200}
sweep:
${sweep}
`,
  );
  return file;
}

export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Exit code, or 128 + signal number style names for a signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `sparsity-studio ARGS` from source (tsx), without any SLURM_* variables of the caller. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLURM_')));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server/src/cli.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...clean, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Resolves when `check` holds, checking on a short timer; rejects after `timeoutMs`. */
export function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      let ok = false;
      try {
        ok = check();
      } catch {
        // A file being replaced: look again.
      }
      if (ok) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 50);
  });
}

export const readSweepJson = (sweepDir: string) =>
  JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8')) as SweepInfo;

export const readRunJson = (runDir: string): RunInfo | undefined =>
  existsSync(join(runDir, 'run.json'))
    ? (JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo)
    : undefined;

/** The checkpointed step of a run folder (0 before its first checkpoint). */
export function checkpointStep(runDir: string): number {
  if (!existsSync(join(runDir, CHECKPOINT_FILE))) return 0;
  const store = RunStore.open(runDir);
  const info = store.readInfo();
  const state = store.readCheckpoint({ runId: info.id, configHash: info.configHash, totalSteps: info.totalSteps });
  return state?.step ?? 0;
}

/** The sweep folder a CLI sweep printed (`sweep folder: DIR`). */
export function sweepDirOf(output: string): string | undefined {
  return /sweep folder: (\S+)/.exec(output)?.[1];
}
