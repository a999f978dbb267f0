/**
 * Inference of the exported block-sparse format at 90% sparsity with 16x16 blocks against dense
 * baselines measured in the same run, on the MLP 784-512-512-10 at batch 128 (the two hidden
 * layers pruned): the WebAssembly SIMD block-sparse kernel that `readBlockSparse` uses (one
 * thread), the JS reference kernel on the same blocks, and the dense tfjs-backend-wasm matmul
 * (XNNPACK, what an unpruned TF.js model runs) with `threads` threads (default: every core, or
 * SPARSITY_STUDIO_THREADS). Every variant reads its result back into a Float32Array, outside
 * `tf.tidy` (a typed array returned from `tidy` is scanned element by element for tensors, which
 * once added ~15 ms to the dense timing and made block-sparse look faster than it was).
 * The variants run interleaved, round by round; the minimum is the least disturbed time on a
 * shared machine (a long dense call is preempted more often than a short sparse one, which
 * inflates median ratios there), so both are printed with the load average.
 *
 *   node --import tsx bench/blockSparseInference.bench.ts [repeats] [threads]
 */
import { cpus, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { blockGrid } from '../server/src/experiment/pruningPlan';
import { selectBackend } from '../server/src/engine/backends';
import { blockSparseMatmul } from '../server/src/engine/export';
import { WasmBlockSparseNetwork } from '../server/src/engine/wasmBlockSparseMatmul';
import { Rng } from '../server/src/data/random';

const REPEATS = Number(process.argv[2] ?? 30);
const THREADS: 'auto' | number =
  process.argv[3] === undefined || process.argv[3] === 'auto' ? 'auto' : Number(process.argv[3]);
const BATCH = 128;
const SIZES = [784, 512, 512];
const BLOCK = 16;
const SPARSITY = 0.9;

interface Layer {
  rows: number;
  cols: number;
  dense: Float32Array;
  layout: { rows: number; cols: number; blockRows: number; blockCols: number; gridCols: number; kept: number[] };
  blocks: Float32Array;
  allLayout: Layer['layout'];
  allBlocks: Float32Array;
}

function makeLayer(rows: number, cols: number, rng: Rng): Layer {
  const grid = blockGrid(rows, cols, [BLOCK, BLOCK]);
  const order = [...Array(grid.blocks).keys()].sort(() => rng.next() - 0.5);
  const keptSet = new Set(order.slice(0, Math.round((1 - SPARSITY) * grid.blocks)));
  const dense = new Float32Array(rows * cols);
  const pack = (kept: number[]) => {
    const blocks = new Float32Array(kept.length * BLOCK * BLOCK);
    kept.forEach((b, k) => {
      const r0 = Math.floor(b / grid.gridCols) * BLOCK;
      const c0 = (b % grid.gridCols) * BLOCK;
      for (let r = 0; r < BLOCK; r++)
        for (let c = 0; c < BLOCK; c++) blocks[(k * BLOCK + r) * BLOCK + c] = dense[(r0 + r) * cols + c0 + c]!;
    });
    return blocks;
  };
  for (let b = 0; b < grid.blocks; b++) {
    if (!keptSet.has(b)) continue;
    const r0 = Math.floor(b / grid.gridCols) * BLOCK;
    const c0 = (b % grid.gridCols) * BLOCK;
    for (let r = 0; r < BLOCK; r++)
      for (let c = 0; c < BLOCK; c++) dense[(r0 + r) * cols + c0 + c] = rng.normal() * 0.05;
  }
  const kept = [...keptSet].sort((a, b) => a - b);
  const all = [...Array(grid.blocks).keys()];
  const base = { rows, cols, blockRows: BLOCK, blockCols: BLOCK, gridCols: grid.gridCols };
  return {
    rows,
    cols,
    dense,
    layout: { ...base, kept },
    blocks: pack(kept),
    allLayout: { ...base, kept: all },
    allBlocks: pack(all),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Min and median ms of each function, called in interleaved rounds (`every[i]`: call it every n-th round). */
function interleaved(fns: (() => void)[], every: number[]): { min: number; median: number }[] {
  for (const fn of fns) for (let i = 0; i < 3; i++) fn();
  const times: number[][] = fns.map(() => []);
  for (let round = 0; round < REPEATS; round++)
    fns.forEach((fn, i) => {
      if (round % every[i]! !== 0) return;
      const t0 = performance.now();
      fn();
      times[i]!.push(performance.now() - t0);
    });
  return times.map((t) => ({ min: Math.min(...t), median: median(t) }));
}

async function main(): Promise<void> {
  const backend = await selectBackend('wasm', [], [], { threads: THREADS });
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  const loadBefore = load();
  const rng = new Rng(1);
  const layers = SIZES.slice(0, -1).map((rows, i) => makeLayer(rows, SIZES[i + 1]!, rng));
  const x = Float32Array.from({ length: BATCH * SIZES[0]! }, () => rng.normal());
  const relu = (v: Float32Array) => {
    for (let i = 0; i < v.length; i++) if (v[i]! < 0) v[i] = 0;
  };
  const forwardJs = () => {
    let h = x;
    for (const l of layers) {
      const out = new Float32Array(BATCH * l.cols);
      blockSparseMatmul(h, BATCH, l.rows, l.layout, l.blocks, out);
      relu(out);
      h = out;
    }
    return h;
  };
  const network = new WasmBlockSparseNetwork(
    layers.map((l) => ({ ...l.layout, blocks: l.blocks, bias: new Float32Array(l.cols) })),
  );
  const forwardSimd = () => network.forward(x, BATCH, ['relu', 'relu']);
  const weights = layers.map((l) => tf.tensor2d(l.dense, [l.rows, l.cols]));
  const input = tf.tensor2d(x, [BATCH, SIZES[0]!]);
  const forwardWasm = () => {
    const y = tf.tidy(() => {
      let h: tf.Tensor = input;
      for (const w of weights) h = tf.relu(tf.matMul(h, w));
      return h;
    });
    const values = y.dataSync() as Float32Array;
    y.dispose();
    return values;
  };

  // Same function, three ways: check before timing.
  const dense = forwardWasm();
  const diff = (a: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - dense[i]!)));
  const agree = Math.max(diff(forwardJs()), diff(forwardSimd()));
  const [wasm, simd, js] = interleaved([forwardWasm, forwardSimd, forwardJs], [1, 1, 5]) as [
    { min: number; median: number },
    { min: number; median: number },
    { min: number; median: number },
  ];
  tf.dispose([...weights, input]);
  console.log(
    `784-512-512 hidden stack, batch ${BATCH}, ${BLOCK}x${BLOCK} blocks at ${SPARSITY * 100}% sparsity, ${REPEATS} interleaved rounds; outputs agree to ${agree.toExponential(1)}`,
  );
  console.log(`load average (1/5/15 min) before ${loadBefore}, after ${load()} on ${cpus().length} cores`);
  const row = (label: string, t: { min: number; median: number }, vs?: { min: number; median: number }) =>
    console.log(
      `${label.padEnd(48)} min ${t.min.toFixed(2).padStart(7)} ms  median ${t.median.toFixed(2).padStart(7)} ms${vs ? `   speed-up over dense: ${(vs.min / t.min).toFixed(2)}x by min, ${(vs.median / t.median).toFixed(2)}x by median` : ''}`,
    );
  row(`dense tfjs-backend-wasm (XNNPACK, ${String(backend.details['threads'])} thread(s))`, wasm);
  row('block-sparse, WebAssembly SIMD kernel (1 thread)', simd, wasm);
  row('block-sparse, JS reference kernel', js, wasm);
  console.log('target: block-sparse >= 5x dense (issue 16)');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
