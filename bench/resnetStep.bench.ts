/**
 * Training-step time of graph models, printed as ratios against baselines measured in the same
 * run (interleaved rounds, so machine load hits all alike):
 *
 * 1. The built-in ResNet (dense, and SA++ with 90% of 4x4 blocks masked in every stage conv) on
 *    the default backend (`auto`: wasm here) against the same network in PyTorch (Debian
 *    python3-torch, libblas routed to OpenBLAS), at the same thread count.
 * 2. The CNN sample (samples/fashion-cnn-sapp.prune.yaml's network with its masks) on both
 *    engines: our own chain (maskedModel.ts, convolutions as im2col matmuls) and tfjs-layers
 *    executing it as a graph with the masked kernels injected (graphModel.ts).
 *
 *   node --import tsx bench/resnetStep.bench.ts [depth=8] [width=16] [batch=64] [steps=12]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from '../server/src/data/random';
import { selectBackend } from '../server/src/engine/backends';
import { GraphModel } from '../server/src/engine/graphModel';
import { MaskedModel } from '../server/src/engine/maskedModel';
import { builtInNetworkSpec } from '../server/src/engine/networkSpec';
import type { TrainableModel } from '../server/src/engine/trainableModel';
import { PruningSchema } from '../server/src/experiment/methods';
import { describeInput, describeModel, describeResnet, describeTfjsModel } from '../server/src/experiment/modelShape';
import { planPruning } from '../server/src/experiment/pruningPlan';
import { resnetTopology } from '../server/src/experiment/resnet';
import { CnnModel, FashionMnistData } from '../server/src/experiment/schema';

const DEPTH = Number(process.argv[2] ?? 8) as 8 | 14 | 20;
const WIDTH = Number(process.argv[3] ?? 16);
const BATCH = Number(process.argv[4] ?? 64);
const STEPS = Number(process.argv[5] ?? 12);
const OPTIONS = { attention: true, clipDensity: 0.1, logitInit: 'zeros' } as const;

/** Masks keeping 10% of the blocks of every pruned layer (a sparse phase of SA++ at 90%). */
function sparseMasks(model: TrainableModel): void {
  const rng = new Rng(5);
  for (const layer of model.layers.filter((l) => l.pruned)) {
    const keep = Math.max(1, Math.round(0.1 * layer.grid.blocks));
    const order = rng.permutation(layer.grid.blocks);
    const mask = new Uint8Array(layer.grid.blocks);
    for (let i = 0; i < keep; i++) mask[order[i]!] = 1;
    model.setMask(layer, mask);
  }
}

async function resnet(method: 'none' | 'sapp'): Promise<GraphModel> {
  const config = { kind: 'resnet' as const, depth: DEPTH, width: WIDTH };
  const shape = describeResnet(config, [28, 28, 1], 10);
  if (!shape.ok) throw new Error(shape.error.message);
  const pruning = PruningSchema.parse(
    method === 'none' ? { method } : { method, sparsity: 0.9, block: 4, min_blocks: 100, layers: ['stage*/conv?'] },
  );
  const model = await GraphModel.build({
    topology: resnetTopology(config, [28, 28, 1], 10),
    shape: shape.shape,
    plan: planPruning(shape.shape, pruning).layers,
    options: { ...OPTIONS, attention: method === 'sapp' },
    rng: new Rng(1),
    dropoutSeed: 1,
  });
  sparseMasks(model);
  return model;
}

/** The CNN sample on our chain engine and as a tfjs-layers graph, with the sample's pruning. */
async function cnnPair(): Promise<[MaskedModel, GraphModel]> {
  const cnn = CnnModel.parse({ kind: 'cnn', filters: [16, 32], kernel_size: 3, dense: [128] });
  const input = describeInput(FashionMnistData.parse({ source: 'fashion-mnist' }));
  const shape = describeModel(cnn, input);
  if (!shape.ok) throw new Error(shape.error.message);
  const pruning = PruningSchema.parse({
    method: 'sapp',
    sparsity: 0.8,
    block: [4, 8],
    min_blocks: 50,
    layers: ['conv_2', 'dense_1'],
  });
  const chain = new MaskedModel(
    builtInNetworkSpec(cnn, shape.shape, input),
    planPruning(shape.shape, pruning).layers,
    OPTIONS,
    new Rng(1),
  );
  const sequential = tfl.sequential({
    name: 'cnn',
    layers: [
      tfl.layers.conv2d({
        inputShape: [28, 28, 1],
        filters: 16,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: 'conv_1',
      }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool_1' }),
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv_2' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool_2' }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ units: 128, activation: 'relu', name: 'dense_1' }),
      tfl.layers.dense({ units: 10, name: 'output' }),
    ],
  });
  const json = { modelTopology: sequential.toJSON(undefined, false) };
  sequential.dispose();
  const described = describeTfjsModel(json);
  if (!described.ok) throw new Error(described.error.message);
  const graph = await GraphModel.build({
    topology: json.modelTopology as unknown as Record<string, unknown>,
    shape: described.shape,
    plan: planPruning(described.shape, pruning).layers,
    options: OPTIONS,
    rng: new Rng(1),
    dropoutSeed: 1,
  });
  sparseMasks(chain);
  sparseMasks(graph);
  return [chain, graph];
}

function stepper(model: TrainableModel): { run: (steps: number) => void; times: number[]; dispose: () => void } {
  const rng = new Rng(2);
  const x = tf.tensor4d(
    Float32Array.from({ length: BATCH * 784 }, () => rng.next()),
    [BATCH, 28, 28, 1],
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
  let step = 0;
  const one = () => {
    const t0 = performance.now();
    const context = { training: true, step: step++ };
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.forward(x, context)),
      true,
      variables,
    )!;
    loss.dataSync();
    loss.dispose();
    model.commitBatchStats();
    return performance.now() - t0;
  };
  for (let i = 0; i < 3; i++) one();
  return {
    times,
    run: (steps) => {
      for (let i = 0; i < steps; i++) times.push(one());
    },
    dispose: () => {
      optimizer.dispose();
      tf.dispose([x, y]);
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function interleaved(models: TrainableModel[], rounds = 3): number[] {
  const steppers = models.map(stepper);
  for (let r = 0; r < rounds; r++) for (const s of steppers) s.run(Math.ceil(STEPS / rounds));
  const result = steppers.map((s) => median(s.times));
  steppers.forEach((s) => s.dispose());
  return result;
}

function torchStepMs(threads: number): { ms: number; version: string } | string {
  if (!existsSync('/usr/bin/python3')) return 'no /usr/bin/python3';
  const out = spawnSync(
    '/usr/bin/python3',
    [join(__dirname, 'torchResnet.py'), String(DEPTH), String(WIDTH), String(BATCH), String(STEPS), String(threads)],
    {
      env: {
        ...process.env,
        LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-pthread',
        OMP_NUM_THREADS: String(threads),
      },
      encoding: 'utf8',
    },
  );
  if (out.status !== 0) return `python3-torch did not run (${out.stderr.trim().split('\n').pop() ?? out.status})`;
  const result = JSON.parse(out.stdout) as { median_ms: number; torch: string };
  return { ms: result.median_ms, version: result.torch };
}

async function main(): Promise<void> {
  const backend = await selectBackend('auto');
  const threads = 1;
  console.log(
    `backend ${backend.name} (auto), ${threads} thread, Adam, batch ${BATCH}, ${STEPS} timed steps after 3 warm-up, 28x28x1 inputs`,
  );
  // The peer runs before and after ours (a separate process cannot interleave): their mean is the baseline.
  const torchBefore = torchStepMs(threads);
  const [dense, masked] = [await resnet('none'), await resnet('sapp')];
  const [ours, sapp] = interleaved([dense, masked]) as [number, number];
  dense.dispose();
  masked.dispose();
  const torchAfter = torchStepMs(threads);
  const torch =
    typeof torchBefore === 'string'
      ? torchBefore
      : typeof torchAfter === 'string'
        ? torchAfter
        : {
            ms: (torchBefore.ms + torchAfter.ms) / 2,
            version: torchBefore.version,
            spread: [torchBefore.ms, torchAfter.ms],
          };
  console.log(`\nResNet-${DEPTH}, width ${WIDTH}`);
  console.log(`${'ours, dense'.padEnd(40)} ${ours.toFixed(1).padStart(8)} ms/step`);
  console.log(`${'ours, SA++ (90% of 4x4 blocks masked)'.padEnd(40)} ${sapp.toFixed(1).padStart(8)} ms/step`);
  if (typeof torch === 'string') console.log(`PyTorch peer skipped: ${torch}`);
  else {
    console.log(
      `${`PyTorch ${torch.version}, ${threads} thread`.padEnd(40)} ${torch.ms.toFixed(1).padStart(8)} ms/step (before ${torch.spread[0]!.toFixed(1)}, after ${torch.spread[1]!.toFixed(1)})`,
    );
    console.log(`our dense step / PyTorch step: ${(ours / torch.ms).toFixed(2)}x`);
  }
  console.log(`SA++ step / our dense step:    ${(sapp / ours).toFixed(2)}x`);
  const [chain, graph] = await cnnPair();
  const [chainMs, graphMs] = interleaved([chain, graph]) as [number, number];
  chain.dispose();
  graph.dispose();
  console.log('\nCNN sample (conv 16, conv 32, dense 128; SA++ masks on conv_2 and dense_1)');
  console.log(`${'our chain (im2col matmuls)'.padEnd(40)} ${chainMs.toFixed(1).padStart(8)} ms/step`);
  console.log(`${'tfjs-layers graph, kernels injected'.padEnd(40)} ${graphMs.toFixed(1).padStart(8)} ms/step`);
  console.log(`graph step / chain step:       ${(graphMs / chainMs).toFixed(2)}x`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
