// One small cell of docs/reproduction.md (bench/reproduction.ts), so the experiment files the
// reproduction writes keep running: the planted teacher at B = 8, s = 0.9, one seed, on a small
// budget, for each compared method; the metrics the tables read are there and sane.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runExperiment } from '../../server/src/runs/runExperiment';
import { teacherExperiment } from '../helpers/teacherExperiment';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-repro-cell-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('a cell of the reproduction (teacher, B = 8, s = 0.9)', () => {
  for (const pruning of ['method: sapp', 'method: acdc\n  pruned_weights: zero', 'method: magnitude']) {
    it(`${pruning.split('\n')[0]}: k of N blocks kept, accuracy above chance, support precision beside its chance`, async () => {
      const file = join(dir, `${pruning.length}.prune.yaml`);
      const cell = { seed: 1, block: 8, sparsity: 0.9, pruning, trainExamples: 4000, epochs: 5 };
      writeFileSync(file, teacherExperiment('cell', cell));
      const { info } = await runExperiment(file);
      assert.equal(info.status, 'completed', info.error?.message);
      const layer = info.final!.sparsity.layers.find((l) => l.name === 'dense_1')!;
      assert.deepEqual([layer.keptBlocks, layer.blocks], [13, 128]);
      assert.ok(Math.abs(layer.blockSparsity - 115 / 128) < 1e-12 && layer.entrySparsity === layer.blockSparsity);
      const m = info.final!.metrics;
      assert.ok(m.accuracy! > 0.3, `accuracy ${m.accuracy} (chance 0.1)`);
      assert.ok(m.support_precision! >= 0 && m.support_precision! <= 1);
      // 13 kept blocks against 32 planted, matched: random masks score about 0.84.
      assert.ok(Math.abs(m.support_precision_chance! - 0.84) < 0.05, `chance ${m.support_precision_chance}`);
    });
  }
});
