import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auc, logLoss, matchBlockColumns, maxAssignment, supportRecovery } from '../../server/src/engine/metrics';
import { Rng } from '../../server/src/data/random';
import type { GroundTruthSupport } from '../../server/src/data/dataset';

/** The best total by trying every permutation (n ≤ 6). */
function bruteForceBest(gain: number[][]): number {
  const n = gain.length;
  let best = -Infinity;
  const walk = (row: number, used: boolean[], total: number) => {
    if (row === n) {
      best = Math.max(best, total);
      return;
    }
    for (let j = 0; j < n; j++)
      if (!used[j]) {
        used[j] = true;
        walk(row + 1, used, total + gain[row]![j]!);
        used[j] = false;
      }
  };
  walk(0, new Array<boolean>(n).fill(false), 0);
  return best;
}

/** A planted support on a grid of 8x8 blocks with a teacher kernel that is zero outside it. */
function plantedSupport(rng: Rng, gridRows: number, gridCols: number, density: number): GroundTruthSupport {
  const support = new Uint8Array(gridRows * gridCols).map(() => (rng.next() < density ? 1 : 0));
  const [rows, cols] = [8 * gridRows, 8 * gridCols];
  const kernel = new Float32Array(rows * cols).map((_, i) =>
    support[Math.floor(i / cols / 8) * gridCols + Math.floor((i % cols) / 8)] ? rng.normal() : 0,
  );
  return {
    layer: 'dense_1',
    block: [8, 8],
    gridRows,
    gridCols,
    support,
    kernel,
    inputScales: new Float32Array(rows).fill(1),
  };
}

/** A student that computes the teacher's units with its block columns permuted (`order[c]` is where column `c` goes) and scaled. */
function permutedStudent(truth: GroundTruthSupport, order: number[]): { kernel: Float32Array; mask: Uint8Array } {
  const { gridRows, gridCols } = truth;
  const cols = 8 * gridCols;
  const kernel = new Float32Array(truth.kernel.length);
  for (let i = 0; i < truth.kernel.length; i++) {
    const [r, c] = [Math.floor(i / cols), i % cols];
    kernel[r * cols + 8 * order[Math.floor(c / 8)]! + (c % 8)] = 2.5 * truth.kernel[i]!;
  }
  const mask = new Uint8Array(gridRows * gridCols);
  for (let r = 0; r < gridRows; r++)
    for (let c = 0; c < gridCols; c++) mask[r * gridCols + order[c]!] = truth.support[r * gridCols + c]!;
  return { kernel, mask };
}

describe('metrics', () => {
  it('AUC is 1 for a perfect ranking, 0.5 for ties, and matches the pair count on random data', () => {
    assert.equal(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
    assert.equal(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 0.5);
    const rng = new Rng(3);
    const scores = Array.from({ length: 60 }, () => Math.round(rng.next() * 10) / 10);
    const labels = scores.map(() => (rng.next() < 0.4 ? 1 : 0));
    let wins = 0;
    let pairs = 0;
    scores.forEach((p, i) =>
      scores.forEach((q, j) => {
        if (labels[i] === 1 && labels[j] === 0) {
          pairs++;
          wins += p > q ? 1 : p === q ? 0.5 : 0;
        }
      }),
    );
    assert.ok(Math.abs(auc(scores, labels) - wins / pairs) < 1e-12);
    assert.ok(Number.isNaN(auc([0.3, 0.4], [1, 1])));
  });

  it('log-loss is the mean binary cross-entropy, finite at 0 and 1', () => {
    assert.ok(Math.abs(logLoss([0.8, 0.3], [1, 0]) - -(Math.log(0.8) + Math.log(0.7)) / 2) < 1e-12);
    assert.ok(Number.isFinite(logLoss([0, 1], [1, 0])));
  });

  it('maxAssignment finds the best total of random gain matrices (checked by brute force)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rng = new Rng(seed);
      for (let n = 1; n <= 6; n++) {
        const gain = Array.from({ length: n }, () => Array.from({ length: n }, () => Math.floor(rng.next() * 9)));
        const assignment = maxAssignment(gain);
        assert.deepEqual(
          [...assignment].sort((a, b) => a - b),
          [...Array(n).keys()],
          'a permutation',
        );
        const total = assignment.reduce((sum, j, i) => sum + gain[i]![j]!, 0);
        assert.equal(total, bruteForceBest(gain), `seed ${seed}, n ${n}`);
      }
    }
  });

  it('support precision@k is 1 for the planted blocks with the block columns in any order, k below the planted count included', () => {
    for (const seed of [1, 2, 3]) {
      const rng = new Rng(seed);
      const truth = plantedSupport(rng, 8, 16, 0.25);
      const order = [...Array(16).keys()].sort(() => rng.next() - 0.5);
      const student = permutedStudent(truth, order);
      const matching = matchBlockColumns(student.kernel, truth);
      const recovery = supportRecovery(student.mask, matching, 8, 16, truth)!;
      assert.equal(recovery.precision, 1);
      assert.equal(recovery.chance, truth.support.reduce((a, b) => a + b, 0) / 128, 'chance is the planted share');
      // Keeping only some of the planted blocks (k below the planted count): still all hits, which F1 could not say.
      const subset = student.mask.slice();
      const planted = [...subset.keys()].filter((i) => subset[i] === 1);
      for (const i of planted.slice(0, 10)) subset[i] = 0;
      assert.equal(supportRecovery(subset, matching, 8, 16, truth)!.precision, 1);
    }
  });

  it('matching is by what the units compute, not by the mask: random masks score near the planted share', () => {
    const rng = new Rng(7);
    const truth = plantedSupport(rng, 8, 16, 0.25);
    const order = [...Array(16).keys()].sort(() => rng.next() - 0.5);
    const { kernel, mask } = permutedStudent(truth, order);
    const matching = matchBlockColumns(kernel, truth);
    for (let c = 0; c < 16; c++)
      if (truth.support.some((t, i) => t && i % 16 === c)) assert.equal(matching[order[c]!], c, 'columns matched back');
    const k = 13;
    const precisions = Array.from({ length: 300 }, () => {
      const random = new Uint8Array(128);
      const picked = rng.permutation(128);
      for (let i = 0; i < k; i++) random[picked[i]!] = 1;
      return supportRecovery(random, matching, 8, 16, truth)!.precision;
    });
    const mean = precisions.reduce((a, b) => a + b, 0) / precisions.length;
    const chance = supportRecovery(mask, matching, 8, 16, truth)!.chance;
    assert.ok(Math.abs(mean - chance) < 0.05, `random masks ${mean}, chance ${chance}`);
    // Dropping one planted block and keeping a wrong one instead: one hit fewer.
    const oneWrong = mask.slice();
    const [on, off] = [mask.indexOf(1), mask.indexOf(0)];
    oneWrong[on] = 0;
    oneWrong[off] = 1;
    const planted = mask.reduce((a, b) => a + b, 0);
    assert.equal(supportRecovery(oneWrong, matching, 8, 16, truth)!.precision, (planted - 1) / planted);
    assert.equal(supportRecovery(mask, matching, 4, 32, truth), undefined, 'grids differ');
  });
});
