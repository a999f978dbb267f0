/**
 * Per-step training time of our engine against PyTorch (Debian python3-torch with OpenBLAS, one
 * thread) on the same MLP 784-512-512-10 at batch 128 with Adam, measured in one run and printed
 * as ratios: our dense step, our SA++ step (8x8 blocks, attention + mask on both hidden layers),
 * and the stock wasm backend without the transposed-matmul patch.
 *
 *   node --import tsx bench/trainStep.bench.ts [steps]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describeModel, describeInput } from '../server/src/experiment/modelShape';
import { planPruning } from '../server/src/experiment/pruningPlan';
import { PruningSchema } from '../server/src/experiment/methods';
import { MlpModel, FashionMnistData } from '../server/src/experiment/schema';
import { selectBackend } from '../server/src/engine/backends';
import { MaskedModel } from '../server/src/engine/maskedModel';
import { builtInNetworkSpec } from '../server/src/engine/networkSpec';
import { Rng } from '../server/src/data/random';
import { patchWasmMatmul, unpatchWasmMatmul } from '../server/src/engine/wasmMatmulPatch';

const STEPS = Number(process.argv[2] ?? 60);
const BATCH = 128;

function build(method: 'none' | 'sapp'): MaskedModel {
  const input = describeInput(FashionMnistData.parse({ source: 'fashion-mnist' }));
  const mlp = MlpModel.parse({ kind: 'mlp', hidden: [512, 512] });
  const shape = describeModel(mlp, input);
  if (!shape.ok) throw new Error(shape.error.message);
  const pruning = PruningSchema.parse(
    method === 'none' ? { method } : { method, sparsity: 0.9, block: 8, exclude: ['output'] },
  );
  const plan = planPruning(shape.shape, pruning);
  return new MaskedModel(
    builtInNetworkSpec(mlp, shape.shape, input),
    plan.layers,
    { attention: method === 'sapp', clipDensity: method === 'sapp' ? 0.1 : null, logitInit: 'zeros' },
    new Rng(1),
  );
}

/** A training-step timer for one model: warm it up, then time steps in rounds the caller interleaves. */
function stepper(model: MaskedModel): { run: (steps: number) => void; times: number[]; dispose: () => void } {
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
  const step = () => {
    const t0 = performance.now();
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.forward(x)), true, variables)!;
    loss.dataSync();
    loss.dispose();
    return performance.now() - t0;
  };
  for (let i = 0; i < 10; i++) step();
  return {
    times,
    run: (steps) => {
      for (let i = 0; i < steps; i++) times.push(step());
    },
    dispose: () => {
      optimizer.dispose();
      tf.dispose([x, y]);
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median ms per step of each model, timed in interleaved rounds so machine load hits all alike. */
function interleaved(models: MaskedModel[], rounds = 4): number[] {
  const steppers = models.map(stepper);
  for (let r = 0; r < rounds; r++) for (const s of steppers) s.run(Math.ceil(STEPS / rounds));
  const result = steppers.map((s) => median(s.times));
  steppers.forEach((s) => s.dispose());
  return result;
}

function torchStepMs(): { ms: number; version: string } | string {
  const lib = '/usr/lib/x86_64-linux-gnu/openblas-pthread';
  if (!existsSync('/usr/bin/python3')) return 'no /usr/bin/python3';
  const out = spawnSync(
    '/usr/bin/python3',
    [join(__dirname, 'torchStep.py'), '784', '512', '512', '10', String(BATCH), String(STEPS)],
    {
      env: { ...process.env, LD_LIBRARY_PATH: lib, OMP_NUM_THREADS: '1' },
      encoding: 'utf8',
    },
  );
  if (out.status !== 0) return `python3-torch did not run (${out.stderr.trim().split('\n').pop() ?? out.status})`;
  const result = JSON.parse(out.stdout) as { median_ms: number; torch: string };
  return { ms: result.median_ms, version: result.torch };
}

async function main(): Promise<void> {
  const backend = await selectBackend('wasm');
  console.log(
    `backend ${backend.name} (transposed-matmul patch ${String(backend.details['transposedMatmulPatch'])}), 1 thread, ${STEPS} timed steps after 10 warm-up, MLP 784-512-512-10 @ ${BATCH}, Adam`,
  );
  const dense = build('none');
  const masked = build('sapp');
  const [ours, sapp] = interleaved([dense, masked]) as [number, number];
  unpatchWasmMatmul();
  const [stock] = interleaved([dense], 1) as [number];
  patchWasmMatmul();
  dense.dispose();
  masked.dispose();
  const torch = torchStepMs();
  const rows: [string, number][] = [
    ['ours, dense step (wasm, patched)', ours],
    ['ours, SA++ step (8x8 blocks, A and mask)', sapp],
    ['stock tfjs-backend-wasm, dense step', stock],
  ];
  if (typeof torch !== 'string') rows.push([`PyTorch ${torch.version} + OpenBLAS, 1 thread`, torch.ms]);
  for (const [label, ms] of rows) console.log(`${label.padEnd(44)} ${ms.toFixed(2).padStart(8)} ms/step`);
  console.log(`SA++ step / our dense step:         ${(sapp / ours).toFixed(2)}x   (target <= 1.15x)`);
  console.log(`stock wasm / our dense step:        ${(stock / ours).toFixed(2)}x   (the patch's speed-up)`);
  if (typeof torch === 'string') console.log(`PyTorch peer skipped: ${torch}`);
  else console.log(`our dense step / PyTorch step:      ${(ours / torch.ms).toFixed(2)}x   (target <= 3.5x)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
