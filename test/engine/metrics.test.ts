import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auc, logLoss, matchedHits, maxAssignment, supportRecovery } from '../../server/src/engine/metrics';
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

function plantedSupport(rng: Rng, gridRows: number, gridCols: number, density: number): GroundTruthSupport {
  const support = new Uint8Array(gridRows * gridCols).map(() => (rng.next() < density ? 1 : 0));
  return { layer: 'dense_1', block: [8, 8], gridRows, gridCols, support };
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

  it('support precision@k is 1 for the planted blocks with their block columns in any order, k below the planted count included', () => {
    for (const seed of [1, 2, 3]) {
      const rng = new Rng(seed);
      const truth = plantedSupport(rng, 8, 16, 0.25);
      const order = [...Array(16).keys()].sort(() => rng.next() - 0.5);
      const permuted = new Uint8Array(8 * 16);
      for (let r = 0; r < 8; r++)
        for (let c = 0; c < 16; c++) permuted[r * 16 + order[c]!] = truth.support[r * 16 + c]!;
      assert.equal(supportRecovery(truth.support, 8, 16, truth)!.precision, 1);
      assert.equal(supportRecovery(permuted, 8, 16, truth)!.precision, 1);
      // Only some of the planted blocks kept: still all hits, which F1 could not say.
      const subset = permuted.slice();
      for (const i of [...subset.keys()].filter((i) => subset[i] === 1).slice(0, 10)) subset[i] = 0;
      const recovery = supportRecovery(subset, 8, 16, truth)!;
      assert.equal(recovery.precision, 1);
      assert.ok(recovery.chance > 0.25 && recovery.chance < 1, `chance ${recovery.chance}`);
    }
  });

  it('the chance level is the mean precision of random masks with as many blocks; a wrong block costs 1/k', () => {
    const rng = new Rng(7);
    const truth = plantedSupport(rng, 8, 16, 0.25);
    const planted = truth.support.reduce((a, b) => a + b, 0);
    const k = 13;
    const draws = Array.from({ length: 300 }, () => {
      const random = new Uint8Array(8 * 16);
      const order = rng.permutation(8 * 16);
      for (let i = 0; i < k; i++) random[order[i]!] = 1;
      return matchedHits(random, 8, 16, truth)! / k;
    });
    const mean = draws.reduce((a, d) => a + d, 0) / draws.length;
    const sd = Math.sqrt(draws.reduce((a, d) => a + (d - mean) ** 2, 0) / (draws.length - 1));
    const some = new Uint8Array(128).fill(1, 0, k);
    const chance = supportRecovery(some, 8, 16, truth)!.chance;
    assert.ok(chance > planted / 128 + 0.2, `matching lifts chance (${chance}) above the planted share`);
    assert.ok(Math.abs(mean - chance) < 4 * (sd / Math.sqrt(draws.length)) + 0.02, `mean ${mean} chance ${chance}`);
    // Dropping one planted block and keeping a wrong one instead: one hit fewer (at most).
    const oneWrong = truth.support.slice();
    const [on, off] = [oneWrong.indexOf(1), oneWrong.indexOf(0)];
    oneWrong[on] = 0;
    oneWrong[off] = 1;
    const precision = supportRecovery(oneWrong, 8, 16, truth)!.precision;
    assert.ok(precision < 1 && precision >= (planted - 1) / planted - 1e-12, `one wrong block: ${precision}`);
    assert.equal(supportRecovery(truth.support, 4, 32, truth), undefined, 'grids differ');
  });
});
