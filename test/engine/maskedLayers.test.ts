import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { blockGrid, type LayerPlan } from '../../server/src/experiment/pruningPlan';
import { buildSchedule } from '../../server/src/experiment/schedule';
import { SappPruning } from '../../server/src/experiment/methods/sapp';
import { selectBackend } from '../../server/src/engine/backends';
import { blockAttention, countKept, scaleBlocks, topKMask } from '../../server/src/engine/blockMask';
import { MaskedModel } from '../../server/src/engine/maskedModel';
import { MaskPolicy } from '../../server/src/engine/maskPolicy';
import type { NetworkSpec } from '../../server/src/engine/networkSpec';
import { Rng } from '../../server/src/data/random';

const plan = (
  name: string,
  rows: number,
  cols: number,
  block: number,
  status: LayerPlan['status'] = 'pruned',
): LayerPlan => ({
  name,
  ...blockGrid(rows, cols, [block, block]),
  status,
  keptBlocks: 0,
  sparsity: 0,
});

function mlp(rows: number, hidden: number, out: number, block: number, attention = true, clip: number | null = null) {
  const spec: NetworkSpec = {
    inputShape: [rows],
    outputUnits: out,
    layers: [
      { kind: 'dense', name: 'dense_1', rows, cols: hidden, activation: 'relu', useBias: true },
      { kind: 'dense', name: 'output', rows: hidden, cols: out, activation: 'linear', useBias: true },
    ],
  };
  return new MaskedModel(
    spec,
    [plan('dense_1', rows, hidden, block), plan('output', hidden, out, block, 'excluded')],
    { attention, clipDensity: clip, logitInit: 'zeros' },
    new Rng(1),
  );
}

describe('block-masked layers (spec §6.5)', () => {
  before(() => selectBackend('wasm'));

  it('1. identity at init: with L = 0 and mask 1 the layer is the plain layer, mean(A) = 1 (tiling and edge grids)', () => {
    for (const [rows, hidden, block] of [
      [64, 32, 8],
      [30, 20, 8],
    ] as const) {
      const model = mlp(rows, hidden, 5, block, true, 0.1);
      const x = tf.tidy(() => tf.randomNormal([7, rows], 0, 1, 'float32', 3) as tf.Tensor2D);
      const masked = model.forward(x);
      const plain = tf.tidy(() =>
        tf.add(
          tf.matMul(
            tf.relu(tf.add(tf.matMul(x, model.layers[0]!.kernel), model.layers[0]!.bias!)),
            model.layers[1]!.kernel,
          ),
          model.layers[1]!.bias!,
        ),
      );
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(masked, plain))).dataSync()[0]!);
      assert.ok(diff < 1e-6, `max diff ${diff}`);
      const a = model.attentionValues(model.layers[0]!)!;
      assert.ok(Math.abs(a.reduce((s, v) => s + v, 0) / a.length - 1) < 1e-6);
      tf.dispose([x, masked, plain]);
      model.dispose();
    }
  });

  it('scaleBlocks puts each block value on exactly its entries, edge blocks included', () => {
    const grid = blockGrid(5, 7, [2, 3]); // 3x3 grid with a 1-row and a 1-column edge
    const values = Array.from({ length: grid.blocks }, (_, i) => i + 1);
    const out = tf.tidy(() =>
      scaleBlocks(tf.ones([5, 7]), tf.tensor2d(values, [grid.gridRows, grid.gridCols]), grid).arraySync(),
    );
    for (let r = 0; r < 5; r++)
      for (let c = 0; c < 7; c++) assert.equal(out[r]![c], values[Math.floor(r / 2) * 3 + Math.floor(c / 3)]);
  });

  it('2. gradients through expand, softmax and clip match finite differences, with the clip binding and edge blocks', async () => {
    await selectBackend('cpu');
    const rng = new Rng(5);
    // 7x5 in 2x2 blocks: a 4x3 grid whose last block row and column are edge blocks (1 entry wide).
    const [rows, cols] = [7, 5];
    const grid = blockGrid(rows, cols, [2, 2]);
    assert.ok(grid.edgeRows > 0 && grid.edgeCols > 0);
    const density = 0.5; // A is clipped to [0.5, 2]
    // Two blocks far below the floor, one far above the ceiling, the rest inside.
    const l0 = [-1.6, 1.9, 0.1, -0.2, 0.3, -1.4, 0.2, 0, -0.1, 0.25, 0.15, -0.3];
    const x = tf.tensor2d(
      Array.from({ length: 4 * rows }, () => rng.normal()),
      [4, rows],
    );
    const w0 = Array.from({ length: rows * cols }, () => rng.normal());
    const attention = (l: number[]) =>
      tf.tidy(() => blockAttention(tf.tensor2d(l, [grid.gridRows, grid.gridCols]), null).dataSync());
    const a0 = attention(l0);
    const low = [...a0].filter((a) => a < density).length;
    const high = [...a0].filter((a) => a > 1 / density).length;
    assert.ok(low >= 2 && high >= 1, `the clip binds below (${low}) and above (${high})`);
    const loss = (w: tf.Tensor2D, l: tf.Tensor2D) =>
      tf.tidy(() => tf.sum(tf.square(tf.matMul(x, scaleBlocks(w, blockAttention(l, density), grid)))));
    const [gw, gl] = tf.grads((w: tf.Tensor, l: tf.Tensor) => loss(w as tf.Tensor2D, l as tf.Tensor2D))([
      tf.tensor2d(w0, [rows, cols]),
      tf.tensor2d(l0, [grid.gridRows, grid.gridCols]),
    ]);
    const analyticW = gw!.dataSync();
    const analyticL = gl!.dataSync();
    const eps = 1e-2;
    const numeric = (values: number[], i: number, which: 'w' | 'l') => {
      const at = (delta: number) => {
        const v = [...values];
        v[i]! += delta;
        if (which === 'l') {
          // No finite-difference point may cross a clip bound (the loss has a kink there).
          const a = attention(v);
          a.forEach((ai, b) => {
            const inside = (y: number) => y > density && y < 1 / density;
            assert.equal(inside(ai), inside(a0[b]!), `logit ${i} ± eps moves block ${b} across a bound`);
          });
        }
        const w = tf.tensor2d(which === 'w' ? v : w0, [rows, cols]);
        const l = tf.tensor2d(which === 'l' ? v : l0, [grid.gridRows, grid.gridCols]);
        const out = loss(w, l).dataSync()[0]!;
        tf.dispose([w, l]);
        return out;
      };
      return (at(eps) - at(-eps)) / (2 * eps);
    };
    for (let i = 0; i < rows * cols; i++) {
      const n = numeric(w0, i, 'w');
      assert.ok(
        Math.abs(n - analyticW[i]!) <= 2e-2 * (1 + Math.abs(n)),
        `dW[${i}] numeric ${n} analytic ${analyticW[i]}`,
      );
    }
    for (let i = 0; i < grid.blocks; i++) {
      const n = numeric(l0, i, 'l');
      assert.ok(
        Math.abs(n - analyticL[i]!) <= 2e-2 * (1 + Math.abs(n)),
        `dL[${i}] numeric ${n} analytic ${analyticL[i]}`,
      );
    }
    // A clipped block's own A passes no gradient, yet its logit still moves the others' A through the softmax.
    const clipped = [...a0.keys()].filter((b) => a0[b]! < density || a0[b]! > 1 / density);
    assert.ok(
      clipped.some((b) => Math.abs(analyticL[b]!) > 1e-4),
      'clipped logits get the normaliser gradient',
    );
    tf.dispose([x, gw!, gl!]);
    await selectBackend('wasm');
  });

  it('top-k breaks exact ties in a seeded random order: over many seeds every tied block is kept equally often', () => {
    const n = 64;
    const k = 16;
    const seeds = 2000;
    const kept = new Array<number>(n).fill(0);
    for (let seed = 0; seed < seeds; seed++) {
      const mask = topKMask(new Array<number>(n).fill(0.5), k, Rng.from(seed, 'ties'));
      assert.equal(countKept(mask), k);
      mask.forEach((m, i) => (kept[i]! += m));
    }
    const expected = (seeds * k) / n;
    // Pearson's chi-square over 63 degrees of freedom: mean 63, sd 11.2.
    const chi2 = kept.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
    assert.ok(chi2 < 63 + 5 * 11.2, `chi-square ${chi2.toFixed(1)}: ${kept.join(' ')}`);
    // No position bias: the first and last quarter of the indices are kept as often as the rest.
    const quarter = (from: number) => kept.slice(from, from + n / 4).reduce((a, b) => a + b, 0) / (n / 4);
    for (const from of [0, (3 * n) / 4]) assert.ok(Math.abs(quarter(from) / expected - 1) < 0.05, `quarter at ${from}`);
    // Distinct scores are never reordered by the tie rule.
    const distinct = Array.from({ length: n }, (_, i) => (i * 37) % n);
    const top = topKMask(distinct, k, Rng.from(1, 'ties'));
    distinct.forEach((v, i) => assert.equal(top[i], v >= n - k ? 1 : 0));
  });

  it('SA++ ranks by the logits: blocks tied at the clip floor keep their order, and tied logits go in a seeded order', () => {
    const model = mlp(64, 64, 10, 8, true, 0.5); // 64 blocks, A clipped to [0.5, 2]
    const layer = model.layers[0]!;
    const pruning = SappPruning.parse({ method: 'sapp', sparsity: 0.5, clip_attention: true });
    const schedule = buildSchedule(pruning, 400);
    const sparse = schedule.phases.find((p) => p.kind === 'sparse')!;
    // Every block far below the floor, in a known order: the clipped A is the same for all of them.
    const logits = Array.from({ length: 64 }, (_, i) => -3 - 0.01 * ((i * 29) % 64));
    logits[0] = 10; // one block holds almost all of the softmax mass
    tf.tidy(() => layer.logits!.assign(tf.tensor2d(logits, [8, 8])));
    new MaskPolicy(pruning, schedule, model, 1).enterPhase(sparse, null);
    const byLogit = [...logits.keys()].sort((i, j) => logits[j]! - logits[i]!).slice(0, 32);
    assert.deepEqual(
      [...layer.mask!.keys()].filter((i) => layer.mask![i]),
      byLogit.sort((i, j) => i - j),
    );
    // All logits equal (as at init): which blocks are kept depends on the seed, not on their position.
    tf.tidy(() => layer.logits!.assign(tf.zeros([8, 8])));
    const masks = [1, 2, 3].map((seed) => {
      new MaskPolicy(pruning, schedule, model, seed).enterPhase(sparse, null);
      return layer.mask!.slice();
    });
    assert.notDeepEqual(masks[0], masks[1]);
    assert.ok(masks.every((m) => countKept(m) === 32));
    model.dispose();
  });

  it('3. a sparsify phase only shrinks the kept set and ends with exactly k blocks', () => {
    const model = mlp(64, 64, 10, 8); // dense_1: 8x8 = 64 blocks
    const pruning = SappPruning.parse({ method: 'sapp', sparsity: 0.75 });
    const schedule = buildSchedule(pruning, 400);
    const policy = new MaskPolicy(pruning, schedule, model, 1);
    const layer = model.layers[0]!;
    const rng = new Rng(2);
    let previous: (typeof schedule.phases)[number] | null = null;
    for (const phase of schedule.phases) {
      policy.enterPhase(phase, previous);
      let kept = layer.mask!.slice();
      for (let step = phase.startStep; step < phase.endStep; step++) {
        // Let the attention move as training would.
        layer.logits!.assign(
          tf.add(
            layer.logits!,
            tf.tensor2d(
              Array.from({ length: 64 }, () => 0.1 * rng.normal()),
              [8, 8],
            ),
          ),
        );
        policy.beforeStep(step, phase);
        if (phase.kind === 'sparsify')
          for (let i = 0; i < 64; i++)
            assert.ok(layer.mask![i]! <= kept[i]!, 'a pruned block never returns inside the phase');
        kept = layer.mask!.slice();
      }
      const count = layer.mask!.reduce((a, b) => a + b, 0);
      if (phase.endStep > phase.startStep)
        assert.equal(count, phase.kind === 'dense' ? 64 : 16, `${phase.label} ends with ${count} blocks`);
      previous = phase;
    }
    model.dispose();
  });

  it('4. masked blocks of W ⊙ A ⊙ mask are exact zeros: N − k all-zero blocks; excluded layers untouched', () => {
    const model = mlp(64, 32, 10, 8);
    const layer = model.layers[0]!;
    const mask = topKMask(
      Array.from({ length: 32 }, (_, i) => (i * 7919) % 32),
      8,
      new Rng(1),
    );
    model.setMask(layer, mask);
    const w = tf.tidy(() => model.effectiveKernel(layer).arraySync());
    let zeroBlocks = 0;
    for (let br = 0; br < 8; br++)
      for (let bc = 0; bc < 4; bc++) {
        let allZero = true;
        for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) if (w[br * 8 + r]![bc * 8 + c] !== 0) allZero = false;
        if (allZero) zeroBlocks++;
        assert.equal(allZero, mask[br * 4 + bc] === 0);
      }
    assert.equal(zeroBlocks, 32 - 8);
    assert.equal(model.layers[1]!.mask, null);
    assert.equal(model.effectiveKernel(model.layers[1]!), model.layers[1]!.kernel);
    model.dispose();
  });
});
