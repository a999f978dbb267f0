/**
 * WebGPU (Dawn, through Vulkan) on this machine's real GPU adapter against wasm, measured in one
 * process: the adapter the engine accepts (or why it refuses it), the training-step time of the
 * same MLP 784-512-512-10 at batch 128 with Adam (dense, and SA++ with 8x8 blocks) on each backend
 * with their ratio, and a short end-to-end run through the real trainer on each. Every part
 * reports and the next one runs whatever happened. Needs the `webgpu` and
 * `@tensorflow/tfjs-backend-webgpu` packages where the engine looks (GPU_CHECK_MODULES, else the
 * working directory): bench/gpu-check.sh --prepare puts them, and this file bundled, in .gpu-check/.
 *
 *   node --import tsx bench/gpuCheck.bench.ts [steps]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendNameDto } from '@protocol';
import { describeModel, describeInput } from '../server/src/experiment/modelShape';
import { planPruning } from '../server/src/experiment/pruningPlan';
import { PruningSchema } from '../server/src/experiment/methods';
import { MlpModel, FashionMnistData } from '../server/src/experiment/schema';
import { selectBackend } from '../server/src/engine/backends';
import { describeBackendInfo, searchFolders } from '../server/src/engine/backendSearch';
import { MaskedModel } from '../server/src/engine/maskedModel';
import { builtInNetworkSpec } from '../server/src/engine/networkSpec';
import { Rng } from '../server/src/data/random';
import { runExperiment } from '../server/src/runs/runExperiment';

const STEPS = Number(process.argv[2] ?? 50);
const BATCH = 128;
const folders = searchFolders({
  modulePaths: (process.env['GPU_CHECK_MODULES'] ?? process.cwd()).split(':'),
  globalRoot: null,
});

function build(method: 'none' | 'sapp'): MaskedModel {
  const input = describeInput(FashionMnistData.parse({ source: 'fashion-mnist' }));
  const mlp = MlpModel.parse({ kind: 'mlp', hidden: [512, 512] });
  const shape = describeModel(mlp, input);
  if (!shape.ok) throw new Error(shape.error.message);
  const pruning = PruningSchema.parse(
    method === 'none' ? { method } : { method, sparsity: 0.9, block: 8, exclude: ['output'] },
  );
  return new MaskedModel(
    builtInNetworkSpec(mlp, shape.shape, input),
    planPruning(shape.shape, pruning).layers,
    { attention: method === 'sapp', clipDensity: method === 'sapp' ? 0.1 : null, logitInit: 'zeros' },
    new Rng(1),
  );
}

/** Median ms of `STEPS` training steps after 10 warm-up ones; the loss is read back each step (async: WebGPU has no dataSync in Node). */
async function stepMs(method: 'none' | 'sapp'): Promise<number> {
  const model = build(method);
  const rng = new Rng(2);
  const x = tf.tensor2d(
    Float32Array.from({ length: BATCH * 784 }, () => rng.normal()),
    [BATCH, 784],
  );
  const y = tf.oneHot(
    tf.tensor1d(
      Int32Array.from({ length: BATCH }, () => rng.int(10)),
      'int32',
    ),
    10,
  );
  const optimizer = tf.train.adam(1e-3);
  const variables = [...model.weights(), ...model.logitVariables()];
  const times: number[] = [];
  try {
    for (let i = 0; i < 10 + STEPS; i++) {
      const t0 = performance.now();
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.forward(x)), true, variables)!;
      const value = (await loss.data())[0]!;
      loss.dispose();
      if (!Number.isFinite(value)) throw new Error(`the loss is ${value} at step ${i}`);
      if (i >= 10) times.push(performance.now() - t0);
    }
  } finally {
    optimizer.dispose();
    tf.dispose([x, y]);
    model.dispose();
  }
  return [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/** A short run of a teacher experiment through the real trainer and run folder, on `backend`. */
async function endToEnd(backend: BackendNameDto): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'gpu-check-run-'));
  try {
    const file = join(dir, 'gpu.prune.yaml');
    writeFileSync(
      file,
      `version: 1
name: gpu-check
seed: 1
backend: ${backend}
data:
  source: teacher
  input_dim: 256
  hidden: 512
  train_examples: 20000
  test_examples: 2000
  batch_size: 256
model:
  kind: mlp
  hidden: [1024, 1024]
training:
  steps: 300
  eval_every: 100
pruning:
  method: sapp
  sparsity: 0.9
  block: 16
  layers: [dense_1, dense_2]
output:
  dir: runs
`,
    );
    const { info } = await runExperiment(file, {
      backendSearch: { workspace: [], modulePaths: folders.map((f) => f.dir) },
    });
    if (info.status !== 'completed') return `${info.status} on ${info.backend.name}: ${info.error?.message ?? ''}`;
    return `completed on ${info.backend.name}: median step ${info.timing.step_ms_median?.toFixed(2)} ms, ${info.timing.total_s.toFixed(1)} s in all, accuracy ${((info.final?.metrics.accuracy ?? NaN) * 100).toFixed(2)}%`;
  } catch (error) {
    return `threw: ${(error as Error).message}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function part<T>(label: string, run: () => Promise<T>): Promise<T | undefined> {
  console.log(`\n[gpu-check] ${label}`);
  try {
    return await run();
  } catch (error) {
    console.log(
      `[gpu-check] ${label} FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return undefined;
  }
}

async function main(): Promise<void> {
  console.log(`[gpu-check] packages searched in: ${folders.map((f) => f.dir).join(', ')}`);
  const webgpu = await part('backend: webgpu (the engine accepts only a real GPU adapter)', async () => {
    const info = await selectBackend('webgpu', folders);
    for (const line of describeBackendInfo(info)) console.log(line);
    return info.name === 'webgpu';
  });
  const ms: Partial<Record<string, number>> = {};
  for (const backend of webgpu ? (['webgpu', 'wasm'] as const) : (['wasm'] as const))
    for (const method of ['none', 'sapp'] as const)
      await part(`training steps on ${backend}, ${method === 'none' ? 'dense' : 'SA++'}`, async () => {
        await selectBackend(backend, folders);
        ms[`${backend}/${method}`] = await stepMs(method);
        console.log(
          `${backend} ${method === 'none' ? 'dense' : 'SA++ '} ${ms[`${backend}/${method}`]!.toFixed(2)} ms/step (median of ${STEPS}, MLP 784-512-512-10 @ ${BATCH}, Adam)`,
        );
      });
  for (const method of ['none', 'sapp'] as const) {
    const gpu = ms[`webgpu/${method}`];
    const cpu = ms[`wasm/${method}`];
    if (gpu !== undefined && cpu !== undefined)
      console.log(
        `[gpu-check] ${method === 'none' ? 'dense' : 'SA++'} step, webgpu / wasm: ${(gpu / cpu).toFixed(3)}x (below 1: the GPU is faster)`,
      );
  }
  for (const backend of webgpu ? (['webgpu', 'wasm'] as const) : (['wasm'] as const))
    await part(
      `end-to-end run on ${backend} (teacher MLP 256-1024-1024-10 @ 256, 300 steps, SA++ 90% of 16x16 blocks)`,
      async () => console.log(await endToEnd(backend)),
    );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
