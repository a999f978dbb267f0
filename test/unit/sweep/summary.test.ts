import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RunInfo, SweepInfo, SweepRunEntry } from '@protocol';
import { loadSweep, stat, summarizeSweep, sweepTable } from '../../../server/src/runs/sweepSummary';
import { readSweep } from '../../../server/src/runs/sweepStore';

const root = mkdtempSync(join(tmpdir(), 'sweep-summary-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A sweep folder with these runs; `accuracy` undefined leaves the run without run.json. */
function sweepFolder(
  name: string,
  runs: { method: string; sparsity: number; seed: number; status: RunInfo['status'] | 'pending'; accuracy?: number }[],
  entryStatus?: (i: number) => SweepRunEntry['status'],
): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const entries: SweepRunEntry[] = runs.map((r, i) => ({
    dir: `r${i}`,
    params: { 'pruning.method': r.method, 'pruning.sparsity': r.sparsity, seed: r.seed },
    status: entryStatus?.(i) ?? (r.status === 'pending' ? 'pending' : 'running'),
    method: r.method,
    sparsity: r.method === 'none' ? 0 : r.sparsity,
    log: `logs/${i}.log`,
  }));
  const info: SweepInfo = {
    format: 1,
    id: name,
    name,
    experimentFile: '/nowhere.prune.yaml',
    fileHash: 'x',
    overrides: {},
    grid: [
      { path: 'pruning.method', values: [...new Set(runs.map((r) => r.method))] },
      { path: 'pruning.sparsity', values: [...new Set(runs.map((r) => r.sparsity))] },
      { path: 'seed', values: [...new Set(runs.map((r) => r.seed))] },
    ],
    executor: { kind: 'local', parallel: 2 },
    status: 'running',
    createdAt: '',
    updatedAt: '',
    runs: entries,
  };
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify(info));
  runs.forEach((r, i) => {
    if (r.status === 'pending') return;
    mkdirSync(join(dir, `r${i}`));
    // A complete run.json: the sweep reads run folders through the validating reader.
    const run = {
      format: 1,
      id: `r${i}`,
      name,
      method: r.method,
      status: r.status,
      seed: r.seed,
      configHash: '0'.repeat(64),
      experimentFile: '/nowhere.prune.yaml',
      backend: { name: 'cpu', requested: 'cpu', attempts: [], details: {} },
      versions: {},
      task: 'classification',
      step: 10,
      totalSteps: 10,
      targetSparsity: r.method === 'none' ? 0 : r.sparsity,
      startedAt: '',
      updatedAt: '',
      timing: { step_ms_median: null, total_s: 0 },
      resumes: 0,
      ...(r.status === 'failed' ? { error: { message: 'the loss became NaN' } } : {}),
      ...(r.accuracy !== undefined
        ? {
            final: {
              metrics: { loss: 1, accuracy: r.accuracy },
              sparsity: { global: r.method === 'none' ? 0 : r.sparsity * 0.9, layers: [] },
            },
          }
        : {}),
    };
    writeFileSync(join(dir, `r${i}`, 'run.json'), JSON.stringify(run));
  });
  return dir;
}

describe('sweep summary', () => {
  it('mean and sample sd', () => {
    assert.deepEqual(stat([1, 2, 3]), { mean: 2, sd: 1, n: 3 });
    assert.deepEqual(stat([0.5]), { mean: 0.5, sd: null, n: 1 });
    assert.equal(stat([]), null);
    assert.deepEqual(stat([NaN, 4]), { mean: 4, sd: null, n: 1 });
  });

  it('groups seeds into cells, collapses the dense runs, marks the Pareto front', () => {
    const dir = sweepFolder('grid', [
      { method: 'sapp', sparsity: 0.5, seed: 1, status: 'completed', accuracy: 0.8 },
      { method: 'sapp', sparsity: 0.5, seed: 2, status: 'completed', accuracy: 0.84 },
      { method: 'sapp', sparsity: 0.9, seed: 1, status: 'completed', accuracy: 0.7 },
      { method: 'sapp', sparsity: 0.9, seed: 2, status: 'failed' },
      { method: 'acdc', sparsity: 0.5, seed: 1, status: 'completed', accuracy: 0.75 },
      { method: 'acdc', sparsity: 0.5, seed: 2, status: 'completed', accuracy: 0.77 },
      { method: 'acdc', sparsity: 0.9, seed: 1, status: 'running' },
      { method: 'acdc', sparsity: 0.9, seed: 2, status: 'pending' },
      { method: 'none', sparsity: 0.5, seed: 1, status: 'completed', accuracy: 0.9 },
      { method: 'none', sparsity: 0.9, seed: 1, status: 'completed', accuracy: 0.9 },
    ]);
    const summary = summarizeSweep(loadSweep(dir));
    assert.equal(summary.metric, 'accuracy');
    assert.deepEqual(summary.counts, { pending: 1, running: 1, completed: 7, failed: 1, cancelled: 0 });
    assert.equal(summary.cells.length, 5, 'two methods x two sparsities, and one dense cell');
    const cell = (method: string, sparsity: number) =>
      summary.cells.find((c) => c.method === method && (method === 'none' || c.sparsity === sparsity))!;
    const sapp5 = cell('sapp', 0.5);
    assert.ok(Math.abs(sapp5.metrics.accuracy!.mean - 0.82) < 1e-12);
    assert.ok(Math.abs(sapp5.metrics.accuracy!.sd! - Math.sqrt(0.0008)) < 1e-12);
    assert.equal(cell('sapp', 0.9).metrics.accuracy!.n, 1);
    assert.deepEqual(cell('sapp', 0.9).runs, { total: 2, completed: 1, failed: 1, running: 0 });
    assert.equal(cell('acdc', 0.9).metrics.accuracy, undefined);
    const dense = cell('none', 0);
    assert.equal(dense.dense, true);
    assert.equal(dense.metrics.accuracy!.n, 2);
    assert.equal(dense.params['pruning.sparsity'], undefined);
    // Front: dense (best accuracy), sapp 0.5 (sparser than dense), sapp 0.9 (sparsest); acdc 0.5 is dominated.
    assert.deepEqual(
      summary.cells.filter((c) => c.pareto.includes('accuracy')).map((c) => `${c.method}@${c.sparsity}`),
      ['sapp@0.5', 'sapp@0.9', 'none@0'],
    );
    assert.equal(summary.runs[3]!.error, 'the loss became NaN');
    const table = sweepTable(summary);
    assert.deepEqual(table.columns, [
      'pruning.method',
      'pruning.sparsity',
      'n',
      'accuracy',
      'global_sparsity',
      'failed',
    ]);
    assert.deepEqual(table.rows[0], ['sapp', '0.5', '2/2', '82.00% ± 2.83', '45.0%', '0']);
    assert.deepEqual(table.rows[4], ['none', '-', '2/2', '90.00% ± 0.00', '0.0%', '0']);
  });

  it("trusts a run's final run.json over the sweep's record, and the sweep's final record over a stale run.json", () => {
    const dir = sweepFolder(
      'stale',
      [
        { method: 'sapp', sparsity: 0.5, seed: 1, status: 'completed', accuracy: 0.8 },
        { method: 'sapp', sparsity: 0.5, seed: 2, status: 'running' },
      ],
      (i) => (i === 0 ? 'pending' : 'failed'),
    );
    const summary = summarizeSweep(loadSweep(dir));
    assert.deepEqual(
      summary.runs.map((r) => r.status),
      ['completed', 'failed'],
    );
  });

  it('refuses sweep files it cannot trust', () => {
    const dir = join(root, 'bad');
    mkdirSync(dir);
    assert.throws(() => readSweep(dir), /not a sweep folder/);
    writeFileSync(join(dir, 'sweep.json'), '{"format": 1');
    assert.throws(() => readSweep(dir), /not valid JSON/);
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify({ format: 2 }));
    assert.throws(() => readSweep(dir), /format/);
    const escaping = {
      format: 1,
      experimentFile: '/x',
      fileHash: 'x',
      grid: [],
      runs: [{ dir: '../../etc', params: {}, log: 'logs/0.log' }],
    };
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(escaping));
    assert.throws(() => readSweep(dir), /runs\[0\]\.dir leaves the sweep folder/);
    escaping.runs[0]!.dir = 'r0';
    escaping.runs[0]!.log = '../../home/user/.bashrc';
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(escaping));
    assert.throws(() => readSweep(dir), /runs\[0\]\.log leaves the sweep folder/);
  });
});
