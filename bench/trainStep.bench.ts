/**
 * Training steps of our engine against PyTorch (Debian python3-torch with OpenBLAS: run
 * `bash bench/setup.sh` first), at one thread and at every core, with the issue-16 targets:
 *
 * - MLP 784-512-512-10 at batch 128, Adam: our dense step at 1 and N threads against PyTorch at
 *   the same counts, the speed-up threads give each, and ours by default (N threads) against
 *   PyTorch at its best count (target <= 4.0x);
 * - how far the dense step is from the wasm backend's own matmul peak (GFLOP/s of a bare matmul);
 * - SA++ phases against the dense step: a dense phase (every block kept), a whole SA++ schedule
 *   (dense, sparsify and sparse medians, each step paired with a dense step run right after it;
 *   target sparsify <= 1.15x), and fixed-mask sparse steps at 80/90/95% of 8x8 and 16x16 blocks
 *   (block-sparse kernels; target <= 0.6x at 90% of 16x16);
 * - the fashion-cnn sample's CNN dense and SA++ sparse (the ResNet, a graph model, has its own
 *   bench against PyTorch: resnetStep.bench.ts).
 *
 * Each thread count runs in its own process (the wasm backend fixes its pool at start). Models in
 * a process run interleaved, round by round, so the machine's load hits them alike; medians and
 * minimums are printed with the load average. Ratios, never timed tests.
 *
 *   node --import tsx bench/trainStep.bench.ts [steps] [--threads N]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describeModel, describeInput } from '../server/src/experiment/modelShape';
import { planPruning } from '../server/src/experiment/pruningPlan';
import { PruningSchema } from '../server/src/experiment/methods';
import { FashionMnistData, ModelSchema } from '../server/src/experiment/schema';
import { buildSchedule, type Phase } from '../server/src/experiment/schedule';
import { selectBackend } from '../server/src/engine/backends';
import { topKMask } from '../server/src/engine/blockMask';
import { MaskedModel } from '../server/src/engine/maskedModel';
import { MaskPolicy } from '../server/src/engine/maskPolicy';
import { methodEngine } from '../server/src/engine/methods';
import { builtInNetworkSpec } from '../server/src/engine/networkSpec';
import { availableCores, resolveThreads } from '../server/src/engine/wasmThreads';
import { patchWasmMatmul, unpatchWasmMatmul } from '../server/src/engine/wasmMatmulPatch';
import { adam } from '../server/src/engine/wasmAdam';
import { Rng } from '../server/src/data/random';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const CHILD = option('--child');
const THREADS_OPTION = option('--threads');
const STEPS = Number(args[0] ?? 40);

interface Timing {
  median: number;
  min: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const timing = (xs: number[]): Timing => ({ median: median(xs), min: Math.min(...xs) });

// ------------------------------------------------------------------------------------------------
// Models and steps (children)

type ModelConfig = Record<string, unknown>;
const MLP: ModelConfig = { kind: 'mlp', hidden: [512, 512] };
const CNN: ModelConfig = { kind: 'cnn', filters: [16, 32], kernel_size: 3, dense: [128] };

function build(model: ModelConfig, pruning: Record<string, unknown>): MaskedModel {
  const input = describeInput(FashionMnistData.parse({ source: 'fashion-mnist' }));
  const config = ModelSchema.parse(model);
  if (config.kind === 'tfjs' || config.kind === 'resnet') throw new Error('built-in chains only');
  const shape = describeModel(config, input);
  if (!shape.ok) throw new Error(shape.error.message);
  const parsed = PruningSchema.parse(pruning);
  const plan = planPruning(shape.shape, parsed);
  return new MaskedModel(
    builtInNetworkSpec(config, shape.shape, input),
    plan.layers,
    methodEngine(parsed).layerOptions(parsed, buildSchedule(parsed, 1000)),
    new Rng(1),
  );
}

/** Masks keeping a random `1 - sparsity` of every pruned layer's blocks (a sparse phase's fixed masks). */
function fixMasks(model: MaskedModel, sparsity: number): void {
  const rng = new Rng(3);
  for (const l of model.layers)
    if (l.pruned)
      model.setMask(
        l,
        topKMask(
          Float32Array.from({ length: l.grid.blocks }, () => rng.next()),
          Math.max(1, Math.round((1 - sparsity) * l.grid.blocks)),
          new Rng(1),
        ),
      );
}

/** A training step of one model on a fixed random batch (the trainer's Adam: fused on wasm). */
class Stepper {
  readonly times: number[] = [];
  private optimizer = adam(1e-3);
  private readonly x: tf.Tensor;
  private readonly y: tf.Tensor;
  constructor(
    readonly model: MaskedModel,
    batch: number,
  ) {
    const rng = new Rng(2);
    const shape = [batch, ...model.spec.inputShape];
    this.x = tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
      shape,
    );
    this.y = tf.oneHot(
      tf.tensor1d(
        Int32Array.from({ length: batch }, () => rng.int(10)),
        'int32',
      ),
      10,
    );
  }
  /** A fresh optimizer, as the trainer makes at every phase boundary. */
  resetOptimizer(): void {
    this.optimizer.dispose();
    this.optimizer = adam(1e-3);
  }
  step(record = true): number {
    const t0 = performance.now();
    const variables = [...this.model.weights(), ...this.model.logitVariables()];
    const loss = this.optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(this.y, this.model.forward(this.x)),
      true,
      variables,
    )!;
    loss.dataSync();
    loss.dispose();
    const ms = performance.now() - t0;
    if (record) this.times.push(ms);
    return ms;
  }
  dispose(): void {
    this.optimizer.dispose();
    tf.dispose([this.x, this.y]);
    this.model.dispose();
  }
}

/** Runs the steppers round-robin: `STEPS` timed steps each after 5 untimed ones. */
function interleaved(steppers: Stepper[], steps = STEPS): Timing[] {
  for (let i = 0; i < 5; i++) for (const s of steppers) s.step(false);
  for (let i = 0; i < steps; i++) for (const s of steppers) s.step();
  return steppers.map((s) => timing(s.times));
}

/** FLOPs of the matmuls of one dense MLP training step: forward, weight gradients, and input gradients but the first layer's. */
function stepFlops(model: MaskedModel, batch: number): number {
  return model.layers.reduce((sum, l, i) => sum + 2 * batch * l.grid.rows * l.grid.cols * (i === 0 ? 2 : 3), 0);
}

/** GFLOP/s of a bare matmul `[m, k] x [k, n]` on the active backend (best of 10). */
function matmulGflops(m: number, k: number, n: number): number {
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  let best = Infinity;
  for (let i = 0; i < 13; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
    if (i >= 3) best = Math.min(best, performance.now() - t0);
  }
  tf.dispose([a, b]);
  return (2 * m * k * n) / best / 1e6;
}

async function child(part: string, threads: number): Promise<unknown> {
  const backend = await selectBackend('wasm', [], [], { threads });
  const result: Record<string, unknown> = { threads: backend.details['threads'], load: loadavg() };
  if (part === 'mlp') {
    const dense = new Stepper(build(MLP, { method: 'none' }), 128);
    const sappDense = new Stepper(build(MLP, { method: 'sapp', sparsity: 0.9, block: 16, exclude: ['output'] }), 128);
    const [d, s] = interleaved([dense, sappDense]);
    result['dense'] = d;
    result['sappDensePhase'] = s;
    result['stepGflop'] = stepFlops(dense.model, 128) / 1e9;
    result['peakGflops'] = { square1024: matmulGflops(1024, 1024, 1024), layer1: matmulGflops(128, 784, 512) };
    if (threads === 1) {
      unpatchWasmMatmul();
      const stock = new Stepper(build(MLP, { method: 'none' }), 128);
      result['stock'] = interleaved([stock], Math.max(5, Math.floor(STEPS / 4)))[0];
      stock.dispose();
      patchWasmMatmul();
    }
    dense.dispose();
    sappDense.dispose();
  } else if (part === 'fixed') {
    // Fixed-mask sparse steps (a sparse phase) against the dense step, each pair interleaved.
    const rows: Record<string, unknown>[] = [];
    for (const block of [8, 16])
      for (const sparsity of [0.8, 0.9, 0.95]) {
        const dense = new Stepper(build(MLP, { method: 'none' }), 128);
        const sparse = new Stepper(build(MLP, { method: 'sapp', sparsity, block, exclude: ['output'] }), 128);
        fixMasks(sparse.model, sparsity);
        const masked = sparse.model.layers.filter((l) => l.pruned);
        const blockSparse = masked.every((l) => sparse.model.blockSparseLayoutOf(l) !== null);
        const [d, s] = interleaved([dense, sparse], Math.max(10, Math.floor(STEPS / 2)));
        rows.push({ block, sparsity, blockSparse, dense: d, sparse: s });
        dense.dispose();
        sparse.dispose();
      }
    result['fixed'] = rows;
  } else if (part === 'schedule') {
    // A whole SA++ schedule (90% of 16x16 blocks) stepped as the trainer steps it, each step
    // followed by a dense model's step: the medians per phase kind and the paired dense median.
    const pruning = PruningSchema.parse({ method: 'sapp', sparsity: 0.9, block: 16, exclude: ['output'] });
    const total = Math.max(150, 4 * STEPS);
    const schedule = buildSchedule(pruning, total);
    const sapp = new Stepper(build(MLP, pruning), 128);
    const dense = new Stepper(build(MLP, { method: 'none' }), 128);
    const policy = new MaskPolicy(pruning, schedule, sapp.model, 1);
    const byKind: Record<string, number[]> = {};
    let phase: Phase | null = null;
    for (let i = 0; i < 3; i++) dense.step(false);
    for (let step = 0; step < total; step++) {
      // Timed as the trainer times a step: phase entry and mask moves included.
      const t0 = performance.now();
      const current = schedule.phases.find((p) => step >= p.startStep && step < p.endStep)!;
      if (current !== phase) {
        policy.enterPhase(current, phase);
        sapp.resetOptimizer();
        phase = current;
      }
      policy.beforeStep(step, current);
      sapp.step(false);
      (byKind[current.kind] ??= []).push(performance.now() - t0);
      dense.step();
    }
    result['schedule'] = {
      steps: total,
      dense: timing(dense.times),
      byKind: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, timing(v)])),
    };
    sapp.dispose();
    dense.dispose();
  } else if (part === 'cnn') {
    const models: [string, ModelConfig, number][] = [['cnn', CNN, 64]];
    for (const [name, config, batch] of models) {
      const dense = new Stepper(build(config, { method: 'none' }), batch);
      const sparse = new Stepper(
        build(config, { method: 'sapp', sparsity: 0.9, block: [4, 8], min_blocks: 50 }),
        batch,
      );
      fixMasks(sparse.model, 0.9);
      const [d, s] = interleaved([dense, sparse], Math.max(10, Math.floor(STEPS / 2)));
      result[name] = {
        dense: d,
        sparse: s,
        blockSparseLayers: sparse.model.layers.filter((l) => sparse.model.blockSparseLayoutOf(l)).map((l) => l.name),
      };
      dense.dispose();
      sparse.dispose();
    }
  }
  return result;
}

// ------------------------------------------------------------------------------------------------
// Parent: children per thread count, the PyTorch peer, the report

function runChild(part: string, threads: number): Record<string, unknown> {
  const out = spawnSync(
    process.execPath,
    ['--import', 'tsx', __filename, String(STEPS), '--child', part, '--threads', String(threads)],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (out.status !== 0) throw new Error(`child ${part}@${threads} failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

function torch(threads: number, cnn = false): { median_ms: number; min_ms: number; torch: string } | string {
  const lib = '/usr/lib/x86_64-linux-gnu/openblas-pthread';
  if (!existsSync('/usr/bin/python3')) return 'no /usr/bin/python3';
  const shape = cnn ? ['--cnn', '64'] : ['784', '512', '512', '10', '128'];
  const out = spawnSync(
    '/usr/bin/python3',
    [join(__dirname, 'torchStep.py'), '--threads', String(threads), ...shape, String(STEPS)],
    { env: { ...process.env, LD_LIBRARY_PATH: lib, OMP_NUM_THREADS: String(threads) }, encoding: 'utf8' },
  );
  if (out.status !== 0) return `python3-torch did not run (${out.stderr.trim().split('\n').pop() ?? out.status})`;
  return JSON.parse(out.stdout) as { median_ms: number; min_ms: number; torch: string };
}

const f = (ms: number) => `${ms.toFixed(2).padStart(7)} ms`;
const t = (x: Timing) => `median ${f(x.median)}  min ${f(x.min)}`;
const ratio = (a: Timing, b: Timing) => `${(a.median / b.median).toFixed(2)}x (by min ${(a.min / b.min).toFixed(2)}x)`;

async function main(): Promise<void> {
  if (CHILD) {
    console.log(
      JSON.stringify(
        await child(CHILD, resolveThreads(THREADS_OPTION === undefined ? 'auto' : Number(THREADS_OPTION))),
      ),
    );
    return;
  }
  const cores = availableCores();
  const all = THREADS_OPTION === undefined ? resolveThreads('auto') : Number(THREADS_OPTION);
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(
    `${cpus()[0]?.model ?? 'CPU'}, ${cores} cores; ${STEPS} timed steps per model; load average (1/5/15 min) at start ${load()}`,
  );
  const counts = [...new Set([1, all])];
  const mlp = new Map(counts.map((n) => [n, runChild('mlp', n)]));
  const torchMlp = new Map(counts.map((n) => [n, torch(n)]));
  console.log(`\nMLP 784-512-512-10 @ 128, Adam (load now ${load()})`);
  for (const n of counts) {
    const r = mlp.get(n)! as { threads: number; dense: Timing; sappDensePhase: Timing; stock?: Timing };
    const p = torchMlp.get(n)!;
    console.log(`  ours, ${r.threads} thread(s), dense step        ${t(r.dense)}`);
    console.log(
      `  ours, ${r.threads} thread(s), SA++ dense phase  ${t(r.sappDensePhase)}   = ${ratio(r.sappDensePhase, r.dense)} the dense step`,
    );
    if (r.stock)
      console.log(`  stock tfjs-backend-wasm, 1 thread, dense   ${t(r.stock)}   = ${ratio(r.stock, r.dense)} ours`);
    if (typeof p === 'string') console.log(`  PyTorch peer skipped: ${p}`);
    else {
      const pt = { median: p.median_ms, min: p.min_ms };
      console.log(
        `  PyTorch ${p.torch} + OpenBLAS, ${n} thread(s)    ${t(pt)}   ours / PyTorch: ${ratio(r.dense, pt)}`,
      );
    }
  }
  const one = mlp.get(1)! as { dense: Timing; stepGflop: number; peakGflops: { square1024: number; layer1: number } };
  const many = mlp.get(all)! as {
    dense: Timing;
    threads: number;
    stepGflop: number;
    peakGflops: { square1024: number; layer1: number };
  };
  if (all > 1) {
    console.log(
      `  threads: ours 1 -> ${many.threads}: ${ratio(one.dense, many.dense)} faster (target >= 1.2x where the hardware gains)`,
    );
    const [p1, pn] = [torchMlp.get(1), torchMlp.get(all)];
    if (typeof p1 !== 'string' && typeof pn !== 'string' && p1 && pn)
      console.log(
        `  threads: PyTorch 1 -> ${all}: ${(p1.median_ms / pn.median_ms).toFixed(2)}x faster (by min ${(p1.min_ms / pn.min_ms).toFixed(2)}x)`,
      );
  }
  const peers = [...torchMlp.values()].filter((p): p is Exclude<typeof p, string> => typeof p !== 'string');
  if (peers.length > 0) {
    const best = { median: Math.min(...peers.map((p) => p.median_ms)), min: Math.min(...peers.map((p) => p.min_ms)) };
    console.log(
      `  ours by default (${many.threads} thread(s)) / PyTorch at its best count: ${ratio(many.dense, best)} (target <= 4.0x)`,
    );
  }
  for (const r of all > 1 ? [one, many] : [one]) {
    const achieved = r.stepGflop / (r.dense.min / 1000);
    const peak = Math.max(r.peakGflops.square1024, r.peakGflops.layer1);
    const threads = (r as { threads?: number }).threads ?? 1;
    console.log(
      `  bare matmul at ${threads} thread(s): ${r.peakGflops.square1024.toFixed(1)} GFLOP/s (1024^2), ${r.peakGflops.layer1.toFixed(1)} (128x784x512); ` +
        `the dense step's matmuls (${r.stepGflop.toFixed(3)} GFLOP) run at ${achieved.toFixed(1)} GFLOP/s over its min step = ${((100 * achieved) / peak).toFixed(0)}% of the best; ` +
        `at that peak they would take ${f((r.stepGflop / peak) * 1000)} of its ${f(r.dense.min)}`,
    );
  }

  const schedule = runChild('schedule', all)['schedule'] as {
    steps: number;
    dense: Timing;
    byKind: Record<string, Timing>;
  };
  console.log(
    `\nSA++ schedule, 90% of 16x16 blocks, ${schedule.steps} steps at ${all} thread(s), each step paired with a dense step (load now ${load()})`,
  );
  console.log(`  dense model (paired)           ${t(schedule.dense)}`);
  for (const [kind, x] of Object.entries(schedule.byKind))
    console.log(
      `  SA++ ${kind.padEnd(9)} phases        ${t(x)}   = ${ratio(x, schedule.dense)} dense${kind === 'sparsify' ? ' (target <= 1.15x)' : ''}`,
    );

  const fixed = runChild('fixed', all)['fixed'] as {
    block: number;
    sparsity: number;
    blockSparse: boolean;
    dense: Timing;
    sparse: Timing;
  }[];
  console.log(
    `\nSparse phase (fixed masks) against dense, MLP 784-512-512-10 @ 128, ${all} thread(s) (load now ${load()})`,
  );
  for (const r of fixed)
    console.log(
      `  ${r.block}x${r.block} at ${(100 * r.sparsity).toFixed(0)}%${r.blockSparse ? ' (block-sparse)' : ' (masked dense)'}: ${t(r.sparse)}   = ${ratio(r.sparse, r.dense)} dense${r.block === 16 && r.sparsity === 0.9 ? ' (target <= 0.6x)' : ''}`,
    );

  const cnn = runChild('cnn', all);
  const torchCnn = counts.map((n) => [n, torch(n, true)] as const);
  console.log(`\nConvolutional models, ${all} thread(s) (load now ${load()})`);
  for (const name of ['cnn']) {
    const r = cnn[name] as { dense: Timing; sparse: Timing; blockSparseLayers: string[] } | undefined;
    if (!r) {
      console.log(`  ${name}: no such model kind in this version`);
      continue;
    }
    console.log(`  ${name} dense step                 ${t(r.dense)}`);
    console.log(
      `  ${name} SA++ sparse step, 90% of 4x8 (block-sparse: ${r.blockSparseLayers.join(', ') || 'none'}) ${t(r.sparse)}   = ${ratio(r.sparse, r.dense)} dense`,
    );
    if (name === 'cnn')
      for (const [n, p] of torchCnn)
        if (typeof p !== 'string')
          console.log(
            `  PyTorch cnn, ${n} thread(s)        ${t({ median: p.median_ms, min: p.min_ms })}   ours dense / PyTorch: ${ratio(r.dense, { median: p.median_ms, min: p.min_ms })}`,
          );
  }
  console.log(`\nload average at the end ${load()}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
