/**
 * Starts tfjs-backend-wasm with its threaded SIMD build in Node, which the package refuses there
 * (`WASM_HAS_MULTITHREAD_SUPPORT` is false whenever `IS_NODE`; tfjs issue #3830). Four things stand
 * in the way (notes/compute.md §9b), each handled only while the backend starts and undone after:
 *
 * 1. tfjs hands Emscripten its pthread worker script as a `blob:` URL, which Node's
 *    `worker_threads` cannot load: `Blob` and `URL.createObjectURL` are wrapped so that this one
 *    script becomes a file (in the temp folder, named by its content's hash, written once).
 * 2. The main script the workers import is also a Blob, of the bundled factory's `toString()`,
 *    which refers to names the bundler renamed: the worker file starts with a line that maps that
 *    Blob to the pristine `tfjs-backend-wasm-threaded-simd.js` shipped with the package (or next to
 *    our bundle). No `Object.prototype` setter, nothing left behind in this thread.
 * 3. The C++ caps XNNPACK's pool at half the logical cores `os.cpus()` reports: `os.cpus` reports
 *    twice the asked count while the backend starts, then is restored.
 * 4. Emscripten's pool workers would keep the process alive: they are unref'd once started, and
 *    the preloaded workers the pool does not use are terminated (each holds a module instance).
 *
 * Threads help only when the cores are free: with another busy process on them, XNNPACK's
 * threads wait on each other and a step gets slower than on one thread (compute.md §4-5).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import type * as OsModule from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

/**
 * The `os` module object itself (what the wasm glue calls `cpus()` on): an `import * as` binding
 * may be a copy whose properties cannot be patched.
 */
const os = createRequire(__filename)('node:os') as typeof OsModule;

/** What the experiment file asks for: `auto` (every core) or a count. */
export type ThreadsRequest = 'auto' | number;

/** The cores this process may use (`os.availableParallelism`, Node 18.14+). */
export function availableCores(): number {
  const available = (os as { availableParallelism?: () => number }).availableParallelism?.();
  return Math.max(1, available ?? os.cpus().length);
}

/**
 * The thread count a request means on this machine: `auto` is every core, or the count in
 * `SPARSITY_STUDIO_THREADS` when set (for shared machines and CI, like `OMP_NUM_THREADS`); a count
 * is capped at the cores.
 */
export function resolveThreads(request: ThreadsRequest, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env['SPARSITY_STUDIO_THREADS']);
  const count = request !== 'auto' ? request : Number.isInteger(fromEnv) && fromEnv >= 1 ? fromEnv : availableCores();
  return Math.max(1, Math.min(Math.floor(count), availableCores()));
}

const MAIN_SCRIPT = 'tfjs-backend-wasm-threaded-simd.js';

/** The pristine threaded main script: next to our bundle (dist/wasm/), or in the package's wasm-out/. */
export function threadedMainScript(wasmDir: string): string | null {
  const bundled = join(wasmDir, MAIN_SCRIPT);
  if (existsSync(bundled)) return bundled;
  try {
    return createRequire(__filename).resolve(`@tensorflow/tfjs-backend-wasm/wasm-out/${MAIN_SCRIPT}`);
  } catch {
    return null;
  }
}

/** Why this runtime cannot run wasm threads, or null when it can. */
function threadsUnsupported(): string | null {
  if (typeof SharedArrayBuffer === 'undefined') return 'this runtime has no SharedArrayBuffer';
  try {
    // A module with a shared memory: validates only where WebAssembly threads exist.
    const sharedMemoryModule = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 4, 1, 3, 1, 1]);
    if (
      !(globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(
        sharedMemoryModule,
      )
    )
      return 'this runtime has no WebAssembly threads';
  } catch {
    return 'this runtime has no WebAssembly threads';
  }
  return null;
}

/** Writes `text` to a temp file named by its hash (once per content), returning the path. */
function contentFile(text: string): string {
  const dir = join(os.tmpdir(), 'sparsity-studio-wasm');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `worker-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.js`);
  if (!existsSync(file)) {
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, file);
  }
  return file;
}

interface PThreadLike {
  runningWorkers?: { unref?: () => void }[];
  unusedWorkers?: { unref?: () => void; terminate?: () => unknown }[];
}

/**
 * Activates the wasm backend with `threads` XNNPACK threads (the threaded build for more than
 * one). Returns the count the backend really uses, and why it differs from the one asked for.
 * Once the wasm backend is started in a process its count stays: tfjs builds its pool only once.
 */
export async function startWasmBackend(
  threads: number,
  wasmDir: string,
): Promise<{ ok: boolean; threads: number; note?: string }> {
  if (tf.findBackend('wasm')) {
    // Started before in this process (another run, the backend info request): the pool is fixed.
    const ok = await tf.setBackend('wasm');
    const actual = ok ? getThreadsCount() : 1;
    return {
      ok,
      threads: actual,
      ...(actual !== threads && {
        note: `the wasm backend was started earlier in this process with ${actual} thread(s)`,
      }),
    };
  }
  const unsupported = threads > 1 ? threadsUnsupported() : null;
  const mainScript = threads > 1 ? threadedMainScript(wasmDir) : null;
  if (threads <= 1 || unsupported || !mainScript) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const ok = await tf.setBackend('wasm');
    const why =
      unsupported ?? (threads > 1 ? `${MAIN_SCRIPT} was not found next to the bundle or in node_modules` : undefined);
    return { ok, threads: 1, ...(why && { note: `one thread: ${why}` }) };
  }
  const restore = patchForThreadedStart(threads, mainScript);
  let ok = false;
  try {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    setThreadsCount(threads);
    ok = await tf.setBackend('wasm');
  } catch {
    ok = false;
  } finally {
    restore();
  }
  if (!ok) {
    // Fall back to the single-threaded build rather than no wasm at all.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setThreadsCount(1);
    if (tf.findBackend('wasm')) tf.removeBackend('wasm');
    const single = await tf.setBackend('wasm');
    return { ok: single, threads: 1, note: 'one thread: the threaded wasm build failed to start' };
  }
  releasePool();
  return { ok: true, threads: getThreadsCount() };
}

/** The temporary patches of the threaded start (points 1-3 above); returns their undo. */
function patchForThreadedStart(threads: number, mainScript: string): () => void {
  const g = globalThis as unknown as { Blob: typeof Blob; URL: typeof URL };
  const OriginalBlob = g.Blob;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be put back unchanged; called with URL
  const originalCreate = g.URL.createObjectURL;
  const originalCpus = os.cpus;
  const texts = new WeakMap<Blob, string>();
  class RecordingBlob extends OriginalBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const parts: unknown[] | undefined = args[0];
      if (parts?.every((p) => typeof p === 'string')) texts.set(this, parts.join(''));
    }
  }
  g.Blob = RecordingBlob;
  g.URL.createObjectURL = (blob: Blob): string => {
    const text = texts.get(blob);
    if (text === undefined) return originalCreate.call(g.URL, blob);
    // The worker script: in the worker, the main-script Blob it is sent becomes the pristine file.
    const prologue = `URL.createObjectURL = () => ${JSON.stringify(mainScript)}; URL.revokeObjectURL = () => {};\n`;
    return contentFile(prologue + text);
  };
  const cpus = originalCpus.call(os);
  const reported = Array.from({ length: Math.max(cpus.length, 2 * threads) }, (_, i) => cpus[i % cpus.length]!);
  os.cpus = () => reported;
  return () => {
    g.Blob = OriginalBlob;
    g.URL.createObjectURL = originalCreate;
    os.cpus = originalCpus;
  };
}

/** Point 4: the pool's threads must not keep the process alive, and idle preloaded workers go. */
function releasePool(): void {
  const backend = tf.findBackend('wasm') as unknown as { wasm?: { PThread?: PThreadLike } } | undefined;
  const pool = backend?.wasm?.PThread;
  if (!pool) return;
  for (const worker of pool.runningWorkers ?? []) worker.unref?.();
  for (const worker of pool.unusedWorkers ?? []) {
    worker.unref?.();
    void worker.terminate?.();
  }
  if (pool.unusedWorkers) pool.unusedWorkers.length = 0;
}
