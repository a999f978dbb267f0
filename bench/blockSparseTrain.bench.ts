/**
 * Where block-sparse training starts to pay: the training step of MLP 784-512-512-10 at batch
 * 128 (SA++ layers, fixed random masks on both hidden layers) with the pruned layers forced
 * block-sparse against the same model forced masked-dense, interleaved step by step, over kept
 * fractions and block shapes. The break-even (the largest kept fraction where block-sparse is
 * faster) is what `BREAK_EVEN_DENSITY` in server/src/engine/wasmBlockSparseTrain.ts encodes.
 * Also the kernels' own GFLOP/s on the first layer against XNNPACK's dense matmul.
 *
 *   node --import tsx bench/blockSparseTrain.bench.ts [steps] [threads]
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { describeInput, describeModel } from '../server/src/experiment/modelShape';
import { blockGrid, planPruning } from '../server/src/experiment/pruningPlan';
import { PruningSchema } from '../server/src/experiment/methods';
import { FashionMnistData, MlpModel } from '../server/src/experiment/schema';
import { selectBackend } from '../server/src/engine/backends';
import { topKMask } from '../server/src/engine/blockMask';
import { MaskedModel, type KernelMode } from '../server/src/engine/maskedModel';
import { builtInNetworkSpec } from '../server/src/engine/networkSpec';
import { adam } from '../server/src/engine/wasmAdam';
import { blockSparseLayout, blockSparseMatMul } from '../server/src/engine/wasmBlockSparseTrain';
import { Rng } from '../server/src/data/random';

const STEPS = Number(process.argv[2] ?? 20);
const THREADS = process.argv[3] === undefined ? 1 : Number(process.argv[3]);
const BATCH = 128;

function model(block: [number, number], kept: number, mode: KernelMode): MaskedModel {
  const input = describeInput(FashionMnistData.parse({ source: 'fashion-mnist' }));
  const mlp = MlpModel.parse({ kind: 'mlp', hidden: [512, 512] });
  const shape = describeModel(mlp, input);
  if (!shape.ok) throw new Error(shape.error.message);
  const plan = planPruning(
    shape.shape,
    PruningSchema.parse({ method: 'sapp', sparsity: 1 - kept, block, exclude: ['output'] }),
  );
  const m = new MaskedModel(
    builtInNetworkSpec(mlp, shape.shape, input),
    plan.layers,
    { attention: true, clipDensity: null, logitInit: 'zeros' },
    new Rng(1),
  );
  const rng = new Rng(3);
  for (const l of m.layers)
    if (l.pruned)
      m.setMask(
        l,
        topKMask(
          Float32Array.from({ length: l.grid.blocks }, () => rng.next()),
          Math.max(1, Math.round(kept * l.grid.blocks)),
          new Rng(1),
        ),
      );
  m.kernelMode = mode;
  return m;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const backend = await selectBackend('wasm', [], [], { threads: THREADS });
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(
    `MLP 784-512-512-10 @ ${BATCH}, Adam, ${String(backend.details['threads'])} thread(s), ${STEPS} interleaved steps; load average at start ${load()}`,
  );
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
  console.log('block   kept   block-sparse / masked dense step (median, min)');
  for (const block of [
    [4, 8],
    [8, 8],
    [16, 16],
    [32, 32],
  ] as [number, number][]) {
    let breakEven = 0;
    for (const kept of [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]) {
      const models = [model(block, kept, 'block-sparse'), model(block, kept, 'dense')];
      const optimizers = models.map(() => adam(1e-3));
      const times: number[][] = [[], []];
      for (let i = 0; i < STEPS + 3; i++)
        models.forEach((m, k) => {
          const t0 = performance.now();
          const loss = optimizers[k]!.minimize(() => tf.losses.softmaxCrossEntropy(y, m.forward(x)), true, [
            ...m.weights(),
            ...m.logitVariables(),
          ])!;
          loss.dataSync();
          loss.dispose();
          if (i >= 3) times[k]!.push(performance.now() - t0);
        });
      const byMedian = median(times[0]!) / median(times[1]!);
      const byMin = Math.min(...times[0]!) / Math.min(...times[1]!);
      if (byMedian < 1 && byMin < 1) breakEven = kept;
      console.log(
        `${block.join('x').padEnd(7)} ${kept.toFixed(1).padStart(4)}   ${byMedian.toFixed(2)}x, ${byMin.toFixed(2)}x   (${median(times[0]!).toFixed(1)} vs ${median(times[1]!).toFixed(1)} ms)`,
      );
      optimizers.forEach((o) => o.dispose());
      models.forEach((m) => m.dispose());
    }
    console.log(`${block.join('x')}: block-sparse faster up to ${breakEven.toFixed(1)} of the blocks kept`);
  }

  // The kernels alone on the first layer's shapes at 10% kept, against XNNPACK's dense matmul.
  console.log('\nfirst layer (128x784 @ 784x512), 10% of the blocks kept: GFLOP/s of the kept blocks (best of 20)');
  for (const block of [8, 16, 32]) {
    const grid = blockGrid(784, 512, [block, block]);
    const mask = topKMask(
      Float32Array.from({ length: grid.blocks }, () => rng.next()),
      Math.round(0.1 * grid.blocks),
      new Rng(1),
    );
    const layout = blockSparseLayout(grid, mask);
    const w = tf.randomNormal([784, 512]) as tf.Tensor2D;
    const s = tf.tensor2d(Float32Array.from(mask), [grid.gridRows, grid.gridCols]);
    const best = (fn: () => tf.Tensor) => {
      let b = Infinity;
      for (let i = 0; i < 23; i++) {
        const t0 = performance.now();
        fn().dispose();
        if (i >= 3) b = Math.min(b, performance.now() - t0);
      }
      return b;
    };
    const flops = 2 * BATCH * 784 * 512;
    const dense = best(() => tf.matMul(x, w));
    const sparse = best(() => blockSparseMatMul(x, w, s, layout));
    console.log(
      `${block}x${block}: XNNPACK dense ${((flops / dense) * 1e-6).toFixed(1)} GFLOP/s, block-sparse forward ${((0.1 * flops) / sparse / 1e6).toFixed(1)} GFLOP/s`,
    );
    tf.dispose([w, s]);
  }
  console.log(`load average at the end ${load()}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
