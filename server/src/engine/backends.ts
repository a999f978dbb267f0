/**
 * Compute backend selection. `auto` tries, in order: native TensorFlow
 * (`@tensorflow/tfjs-node-gpu`, then `tfjs-node`, only when the user installed them at the version
 * of the bundled tfjs-core, found by backendSearch.ts), WebGPU
 * (the `webgpu` Dawn package, only on a real GPU adapter), wasm with the transposed-matmul patch,
 * and pure-JS cpu. Every backend considered is recorded with why it was used or skipped; the
 * name reported is the one TF.js really has active.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
// Gradients are opt-in with tfjs-core alone (the `@tensorflow/tfjs` umbrella imports them).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
// Imported by name so bundlers keep the module that registers the cpu backend.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendAttempt, BackendInfo, BackendNameDto, BackendSearchDto } from '@protocol';
import { findBackendPackage, NATIVE_PACKAGES, type SearchFolder } from './backendSearch';
import { isWasmMatmulPatched, patchWasmMatmul } from './wasmMatmulPatch';
import { registerWasmBlockScale } from './wasmBlockScale';
import { registerWasmBlockSparseTrain } from './wasmBlockSparseTrain';
import { resolveThreads, startWasmBackend, type ThreadsRequest } from './wasmThreads';
import { registerWasmSegmentSum } from './wasmSegmentSum';
import { registerWasmConvGradients } from './wasmConvGradients';

export type BackendRequest = BackendNameDto | 'auto';

const ORDER: BackendNameDto[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

/**
 * Where user-installed backend packages (tfjs-node, Dawn) are looked for (backendSearch.ts
 * `searchFolders`), or `'untrusted'`, which loads none: requiring a package runs its code, and an
 * untrusted workspace's code must never run (README, Guarantees).
 */
export type ModuleSearch = readonly SearchFolder[] | 'untrusted';

const UNTRUSTED_REASON = 'not searched: the workspace is not trusted, and loading it would run code from the workspace';

/** A module the user may have installed next to their workspace or globally; never our dependencies. */
function optionalRequire(name: string, from: readonly string[]): unknown {
  for (const base of from) {
    const require = createRequire(join(base, 'noop.js'));
    let path: string;
    try {
      path = require.resolve(name);
    } catch {
      continue; // not installed there: try the next place
    }
    return require(path);
  }
  return undefined;
}

/**
 * `tf.setBackend`, false instead of a throw when no such backend was registered: a package can
 * load and register nothing (a broken or foreign install), and `auto` must then go on.
 */
async function activate(name: BackendNameDto): Promise<boolean> {
  if (!tf.engine().registryFactory[name]) return false;
  return tf.setBackend(name);
}

/** The folder holding tfjs-backend-wasm's .wasm files: next to the bundle, or in node_modules. */
export function wasmDirectory(): string {
  const bundled = join(__dirname, 'wasm');
  if (existsSync(join(bundled, 'tfjs-backend-wasm-simd.wasm'))) return `${bundled}/`;
  const pkg = createRequire(__filename).resolve('@tensorflow/tfjs-backend-wasm');
  return `${join(dirname(pkg), '..', 'dist')}/`;
}

/** What the adapter says about itself (GPUAdapterInfo fields; all optional across Dawn versions). */
export interface AdapterDescription {
  isFallbackAdapter?: boolean;
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}

/** CPU rasterizers that expose a WebGPU adapter but are 6-12x slower than wasm (notes/compute.md §9c). */
const SOFTWARE_ADAPTERS = /llvmpipe|lavapipe|swiftshader|softpipe|software rasterizer|microsoft basic render/i;

/** Null when the adapter is a real GPU; otherwise why it is refused. */
export function refuseAdapter(adapter: AdapterDescription | null): string | null {
  if (!adapter) return 'no WebGPU adapter is available';
  if (adapter.isFallbackAdapter) return 'the only WebGPU adapter is a fallback (software) adapter';
  const text = [adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter(Boolean).join(' ');
  const software = SOFTWARE_ADAPTERS.exec(text);
  if (software) return `the WebGPU adapter is a CPU rasterizer (${software[0]}), not a GPU`;
  return null;
}

interface DawnModule {
  create(options: string[]): {
    requestAdapter(): Promise<
      | (AdapterDescription & { info?: AdapterDescription; requestAdapterInfo?: () => Promise<AdapterDescription> })
      | null
    >;
  };
  globals?: Record<string, unknown>;
}

async function tryWebGpu(searchPaths: readonly string[]): Promise<string | true> {
  let dawn: DawnModule | undefined;
  try {
    dawn = optionalRequire('webgpu', searchPaths) as DawnModule | undefined;
  } catch (error) {
    return `the \`webgpu\` package is installed but failed to load: ${(error as Error).message.split('\n')[0]}`;
  }
  if (!dawn || typeof dawn.create !== 'function') return 'the `webgpu` (Dawn) package is not installed';
  let gpu: ReturnType<DawnModule['create']>;
  let adapter: Awaited<ReturnType<ReturnType<DawnModule['create']>['requestAdapter']>>;
  try {
    gpu = dawn.create([]);
    adapter = await gpu.requestAdapter();
  } catch (error) {
    return `the \`webgpu\` package failed to start: ${(error as Error).message}`;
  }
  const info: AdapterDescription | null = adapter
    ? {
        isFallbackAdapter: adapter.isFallbackAdapter,
        ...(adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {}),
      }
    : null;
  const refused = refuseAdapter(info);
  if (refused) return refused;
  // tfjs-backend-webgpu registers itself only when navigator.gpu exists (Node has no navigator).
  const g = globalThis as Record<string, unknown>;
  if (!g['navigator']) g['navigator'] = { gpu };
  if (dawn.globals) Object.assign(globalThis, dawn.globals);
  let backendPackage: unknown;
  try {
    backendPackage = optionalRequire('@tensorflow/tfjs-backend-webgpu', searchPaths);
  } catch (error) {
    return `@tensorflow/tfjs-backend-webgpu failed to load: ${(error as Error).message.split('\n')[0]}`;
  }
  if (!backendPackage) return 'a GPU adapter exists, but @tensorflow/tfjs-backend-webgpu is not installed';
  webGpuAdapter = [info?.vendor, info?.architecture, info?.device].filter(Boolean).join(' ');
  return (await activate('webgpu')) ? true : 'the webgpu backend failed to initialise on the GPU adapter';
}

let webGpuAdapter = '';
/** The wasm backend's thread count and, when it differs from the request, why. */
let wasmThreads: { threads: number; note?: string } = { threads: 1 };

/** tfjs-node(-gpu) from the search: the first copy at the bundled tfjs-core version, loaded. */
async function tryNativeTensorflow(search: readonly SearchFolder[], found: (s: BackendSearchDto) => void) {
  const result = findBackendPackage(NATIVE_PACKAGES, search, tf.version_core);
  found(result);
  const chosen = result.candidates.find((c) => c.used);
  if (!chosen) {
    if (result.candidates.length === 0)
      return `neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed in the ${search.length} folder${search.length === 1 ? '' : 's'} searched (their install downloads libtensorflow)`;
    return `no installed copy is usable: ${result.candidates.map((c) => `${c.package} ${c.version ?? '?'} at ${c.path}: ${c.reason}`).join('; ')}`;
  }
  try {
    createRequire(join(chosen.path, 'package.json'))(chosen.path);
  } catch (error) {
    return `${chosen.package} at ${chosen.path} failed to load: ${(error as Error).message.split('\n')[0]}`;
  }
  if (!tf.engine().registryFactory['tensorflow'])
    return `${chosen.package} at ${chosen.path} loaded but registered no \`tensorflow\` backend (a broken install, or a package that is not tfjs-node)`;
  return (await activate('tensorflow')) ? true : 'tfjs-node is installed but its backend failed to initialise';
}

async function tryBackend(
  name: BackendNameDto,
  search: ModuleSearch,
  found: (s: BackendSearchDto) => void,
  threads: number,
): Promise<string | true> {
  switch (name) {
    case 'tensorflow':
      return search === 'untrusted' ? UNTRUSTED_REASON : tryNativeTensorflow(search, found);
    case 'webgpu':
      return search === 'untrusted' ? UNTRUSTED_REASON : tryWebGpu(search.map((f) => f.dir));
    case 'wasm': {
      setWasmPaths(wasmDirectory());
      const started = await startWasmBackend(threads, wasmDirectory());
      if (!started.ok) return 'the wasm backend failed to initialise';
      wasmThreads = started;
      patchWasmMatmul();
      registerWasmSegmentSum();
      registerWasmBlockScale();
      registerWasmBlockSparseTrain();
      registerWasmConvGradients();
      return true;
    }
    case 'cpu':
      return (await activate('cpu')) ? true : 'the cpu backend failed to initialise';
  }
}

/** Selects and activates a backend; never throws for `auto` (cpu always works). */
export async function selectBackend(
  requested: BackendRequest,
  /** Where the user's backend packages may be (backendSearch.ts `searchFolders`), or `'untrusted'`; none by default. */
  search: ModuleSearch = [],
  /** Kernels the model needs (e.g. conv gradients); a backend without them is skipped with that reason. */
  requiredKernels: string[] = [],
  /** Compute threads (the experiment's `threads:`); only the wasm backend takes a count. */
  options: { threads?: ThreadsRequest } = {},
): Promise<BackendInfo> {
  const threads = resolveThreads(options.threads ?? 1);
  // Production mode: no debug checks, and no console banner from tfjs-core (stdout belongs to the LSP).
  tf.enableProdMode();
  const candidates = requested === 'auto' ? ORDER : [requested];
  const attempts: BackendAttempt[] = [];
  let nativeSearch: BackendSearchDto | undefined;
  for (const name of candidates) {
    let result = await tryBackend(name, search, (s) => (nativeSearch = s), threads);
    const missing = result === true ? requiredKernels.filter((k) => !tf.getKernel(k, tf.getBackend())) : [];
    if (missing.length > 0)
      result = `tfjs ${tf.version_core} has no ${missing.join(', ')} kernel(s) for ${name}, which this model needs to train`;
    if (result === true) {
      attempts.push({
        backend: name,
        used: true,
        reason:
          requested === 'auto'
            ? 'first backend in the auto order that initialised'
            : 'forced by `backend:` in the experiment',
      });
      const active = tf.getBackend() as BackendNameDto;
      const details: BackendInfo['details'] = { tfjs: tf.version_core, tfjsBackendCpu: version_cpu };
      if (active === 'wasm') {
        details['transposedMatmulPatch'] = isWasmMatmulPatched();
        details['threadsRequested'] = String(options.threads ?? 1);
        if (wasmThreads.note) details['threadsNote'] = wasmThreads.note;
      }
      if (active === 'webgpu') details['adapter'] = webGpuAdapter;
      const info: BackendInfo = {
        name: active,
        requested,
        attempts,
        details,
        ...(nativeSearch && { search: nativeSearch }),
      };
      if (active === 'wasm') details['threads'] = wasmThreads.threads;
      else if (active === 'cpu') details['threads'] = 1;
      return info;
    }
    attempts.push({ backend: name, used: false, reason: result });
  }
  const why = attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ');
  throw new Error(`backend \`${requested}\` cannot run here (${why})`);
}
