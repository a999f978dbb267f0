import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { availableCores, resolveThreads, threadedMainScript } from '../../server/src/engine/wasmThreads';
import { wasmDirectory } from '../../server/src/engine/backends';

const CHILD = join(__dirname, '..', 'helpers', 'wasmThreadsChild.ts');

interface ChildResult {
  threads: number;
  details: Record<string, unknown>;
  losses: number[];
  restored: boolean;
}

/** Runs the child; it must end by itself (the pool must not keep it alive) within the timeout. */
function child(threads: number, inWorker = false): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, String(threads), ...(inWorker ? ['worker'] : [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the child did not exit by itself within 60 s (threads ${threads}); stdout: ${out}`));
    }, 60_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`child exited with ${code}: ${err}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
      } catch (error) {
        reject(new Error(`no result from the child: ${out}${err}: ${String(error)}`));
      }
    });
  });
}

describe('wasm threads', () => {
  it('resolves `auto` to every core, or to SPARSITY_STUDIO_THREADS, and caps counts at the cores', () => {
    const cores = availableCores();
    assert.ok(cores >= 1);
    assert.equal(resolveThreads('auto', {}), cores);
    assert.equal(resolveThreads('auto', { SPARSITY_STUDIO_THREADS: '1' }), 1);
    assert.equal(resolveThreads('auto', { SPARSITY_STUDIO_THREADS: String(cores + 3) }), cores);
    assert.equal(resolveThreads('auto', { SPARSITY_STUDIO_THREADS: 'many' }), cores, 'not a count: ignored');
    assert.equal(resolveThreads(1, {}), 1);
    assert.equal(resolveThreads(2, { SPARSITY_STUDIO_THREADS: '1' }), Math.min(2, cores), 'a count in the file wins');
    assert.equal(resolveThreads(cores + 5, {}), cores);
    assert.equal(resolveThreads(0, {}), 1);
  });

  it('finds the pristine threaded script the pool workers import', () => {
    const script = threadedMainScript(wasmDirectory());
    assert.ok(script?.endsWith('tfjs-backend-wasm-threaded-simd.js'), String(script));
  });

  it('the threaded build starts with the asked count, restores what it patched, trains the same, and lets the process end', async (t) => {
    if (availableCores() < 2) {
      t.skip('one core: nothing to thread');
      return;
    }
    const [one, two] = await Promise.all([child(1), child(2)]);
    assert.equal(one.threads, 1);
    assert.equal(two.threads, 2, JSON.stringify(two.details));
    assert.equal(two.details['threadsNote'], undefined);
    assert.ok(two.restored, 'Blob, URL.createObjectURL and os.cpus are the originals again');
    // XNNPACK splits output tiles between threads; every sum keeps its order, so the results agree.
    two.losses.forEach((loss, i) => assert.ok(Math.abs(loss - one.losses[i]!) <= 1e-6, `step ${i}: ${loss}`));
    assert.ok(one.losses[4]! < one.losses[0]!, 'the steps train');
  });

  it('starts inside a worker thread too, as the editor runs sessions', async (t) => {
    if (availableCores() < 2) {
      t.skip('one core: nothing to thread');
      return;
    }
    const result = await child(2, true);
    assert.equal(result.threads, 2);
    assert.ok(result.restored);
  });
});
