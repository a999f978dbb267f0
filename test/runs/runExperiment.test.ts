import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { RunEvent, RunInfo } from '@protocol';
import { ExperimentFileError, buildModel, runExperiment, stepMsByPhaseKind } from '../../server/src/runs/runExperiment';
import { analyzeExperiment } from '../../server/src/experiment/analysis';
import { SappPruning } from '../../server/src/experiment/methods/sapp';
import { buildSchedule } from '../../server/src/experiment/schedule';
import { validateExperiment } from '../../server/src/experiment/validate';
import { nodeHost } from '../../server/src/data/nodeHost';
import { openDataset } from '../../server/src/data/openDataset';
import { train, type TrainState } from '../../server/src/engine/trainer';
import { ROOT as ROOT_DIR } from '../helpers/experimentFixtures';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-run-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function experiment(
  name: string,
  body: { method?: string; steps?: number; extra?: string; training?: string; seed?: number; data?: string },
): string {
  const file = join(dir, `${name}.prune.yaml`);
  writeFileSync(
    file,
    `version: 1
name: ${name}
seed: ${body.seed ?? 1}
backend: wasm
data:
${body.data ?? '  source: teacher\n  input_dim: 64\n  hidden: 64\n  train_examples: 4000\n  test_examples: 1000\n  batch_size: 128'}
model:
  kind: mlp
  hidden: [64]
training:
  steps: ${body.steps ?? 300}
  eval_every: 0
${body.training ?? '  learning_rate: 0.003'}
pruning:
  method: ${body.method ?? 'sapp'}
  sparsity: 0.75
  block: 8
  min_blocks: 16
  layers: [dense_1]
${body.extra ?? ''}
output:
  dir: runs
`,
  );
  return file;
}

const events = (runDir: string) =>
  readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent);

describe('step times by phase kind', () => {
  it('takes the median of each kind of phase, step i belonging to the phase that holds it', () => {
    const schedule = buildSchedule(SappPruning.parse({ method: 'sapp', sparsity: 0.9 }), 100);
    const kindAt = (step: number) => schedule.phases.find((p) => step >= p.startStep && step < p.endStep)!.kind;
    const cost = { dense: 10, sparsify: 20, sparse: 5 } as const;
    // Odd steps a hair slower: the median of each kind is its own cost.
    const stepMs = Array.from({ length: 100 }, (_, i) => cost[kindAt(i)] * (i % 2 === 0 ? 1 : 1.0001));
    const byKind = stepMsByPhaseKind(schedule, stepMs);
    for (const kind of ['dense', 'sparsify', 'sparse'] as const)
      assert.ok(Math.abs(byKind[kind]! - cost[kind]) < 0.01, `${kind}: ${byKind[kind]}`);
    assert.deepEqual(stepMsByPhaseKind(schedule, []), {}, 'no steps, no medians');
  });
});

describe('pruning runs end to end (teacher task, wasm)', () => {
  it('SA++ learns the planted task well above chance on 3 seeds and keeps exactly k blocks', async () => {
    const accuracies: number[] = [];
    for (const seed of [1, 2, 3]) {
      const { info, dir: runDir } = await runExperiment(experiment(`sapp-${seed}`, { seed }));
      assert.equal(info.status, 'completed', info.error?.message);
      const layer = info.final!.sparsity.layers.find((l) => l.name === 'dense_1')!;
      assert.equal(layer.blocks, 64);
      assert.equal(layer.keptBlocks, 16);
      assert.equal(info.final!.sparsity.layers.find((l) => l.name === 'output')!.pruned, false);
      const { support_precision: precision, support_precision_chance: chance } = info.final!.metrics;
      assert.ok(precision !== undefined && chance !== undefined && chance > 0.2 && chance < 0.6, `chance ${chance}`);
      accuracies.push(info.final!.metrics.accuracy!);
      const saved = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
      assert.equal(saved.status, 'completed');
      assert.equal(saved.backend.name, 'wasm');
      assert.match(saved.configHash, /^[0-9a-f]{64}$/);
      assert.ok(saved.timing.step_ms_median! > 0);
      // The best evaluation (here the only one, at the end) and the kernel each snapshot's grid tiles.
      assert.deepEqual(saved.bestEvaluation, { step: 300, metrics: saved.final!.metrics });
      const snapshot = events(runDir).findLast((e) => e.type === 'snapshot');
      assert.ok(snapshot?.type === 'snapshot');
      assert.deepEqual(snapshot.layers[0]!.kernel, { kind: 'dense', rows: 64, cols: 64, blockRows: 8, blockCols: 8 });
      const byKind = saved.timing.step_ms_by_phase_kind!;
      assert.deepEqual(Object.keys(byKind).sort(), ['dense', 'sparse', 'sparsify'], 'a median per phase kind');
      for (const ms of Object.values(byKind)) assert.ok(ms > 0);
    }
    const mean = accuracies.reduce((a, b) => a + b, 0) / accuracies.length;
    assert.ok(mean > 0.3, `mean accuracy ${mean} (chance 0.1): ${accuracies.join(', ')}`);
  });

  it('walks the schedule the editor previews, one phase event per phase', async () => {
    const { info, dir: runDir } = await runExperiment(experiment('phases', { steps: 210 }));
    assert.equal(info.status, 'completed');
    const phases = events(runDir).filter((e) => e.type === 'phase');
    const schedule = buildSchedule(SappPruning.parse({ method: 'sapp', sparsity: 0.75 }), 210);
    assert.deepEqual(
      phases.map((p) => [p.kind, p.startStep, p.endStep]),
      schedule.phases.filter((p) => p.endStep > p.startStep).map((p) => [p.kind, p.startStep, p.endStep]),
    );
    assert.deepEqual(
      phases.slice(0, 3).map((p) => p.kind),
      ['dense', 'sparsify', 'sparse'],
    );
  });

  for (const reset of [true, false]) {
    it(`reset_optimizer: ${reset} ${reset ? 'restarts' : 'keeps'} Adam's moments and step count at every phase boundary`, async () => {
      const file = experiment(`reset-${reset}`, { steps: 60, extra: `  reset_optimizer: ${reset}` });
      const text = readFileSync(file, 'utf8');
      const { config } = validateExperiment(text, nodeHost(dir));
      const analysis = analyzeExperiment(config!, nodeHost(dir));
      const schedule = buildSchedule(config!.pruning, 60);
      const dataset = await openDataset(config!, dir);
      const model = await buildModel(config!, analysis, dir, schedule);
      // The optimizer's state after each step, by the step that comes next.
      const after = new Map<number, TrainState['optimizer']>();
      await train(config!, dataset, model, schedule, {
        onEvent: () => {},
        checkpoint: { every: 1, save: (state) => Promise.resolve(void after.set(state.step, state.optimizer)) },
      });
      model.dispose();
      const boundaries = schedule.phases.slice(1).filter((p) => p.endStep > p.startStep);
      assert.ok(boundaries.length >= 10);
      for (const phase of boundaries) {
        // The state after the first step of the phase.
        const state = after.get(phase.startStep + 1)!;
        const iterations = state.find((w) => w.name === 'iter')!.data[0];
        assert.equal(iterations, reset ? 1 : phase.startStep + 1, `${phase.label}: step count`);
        // One step from zero moments: m = (1 − β1)·g and v = (1 − β2)·g², so m²/v = 0.01/0.001 = 10 wherever g ≠ 0.
        let ratios = 0;
        let tens = 0;
        for (const m of state.filter((w) => w.name.endsWith('/m'))) {
          const v = state.find((w) => w.name === `${m.name.slice(0, -2)}/v`)!;
          m.data.forEach((mi, i) => {
            if (v.data[i]! < 1e-20) return;
            ratios++;
            if (Math.abs((mi * mi) / v.data[i]! - 10) < 1e-2) tens++;
          });
        }
        assert.ok(ratios > 1000, `${phase.label}: ${ratios} moments`);
        if (reset) assert.equal(tens, ratios, `${phase.label}: every moment restarted`);
        else assert.ok(tens < 0.05 * ratios, `${phase.label}: ${tens}/${ratios} moments look restarted`);
      }
    });
  }

  it('the same seed gives the same masks and metrics', async () => {
    const a = await runExperiment(experiment('det-a', { steps: 120 }));
    const b = await runExperiment(experiment('det-b', { steps: 120 }));
    assert.deepEqual(a.info.final!.metrics, b.info.final!.metrics);
  });

  it('ACDC, magnitude and the SA++ ablation all end at the target sparsity', async () => {
    for (const [method, extra] of [
      ['acdc', ''],
      ['magnitude', '  schedule: { dense: 0.5, ramp: 0.2, fine_tune: 0.3 }'],
      ['sapp', '  sparsification: false'],
    ] as const) {
      const { info } = await runExperiment(
        experiment(`m-${method}-${extra ? 'x' : 'y'}`, { method, extra, steps: 200 }),
      );
      assert.equal(info.status, 'completed', `${method}: ${info.error?.message}`);
      assert.equal(info.final!.sparsity.layers.find((l) => l.name === 'dense_1')!.keptBlocks, 16, method);
    }
  });

  it('leaks no tensors over a 500-step run', async () => {
    const before = tf.memory().numTensors;
    const { info } = await runExperiment(experiment('leak', { steps: 500 }));
    assert.equal(info.status, 'completed');
    assert.equal(tf.memory().numTensors, before);
  });

  it('a NaN loss fails the run with the step and the cause, in run.json', async () => {
    const { info, dir: runDir } = await runExperiment(
      experiment('nan', {
        steps: 300,
        training: '  optimizer: momentum\n  momentum: 0.99\n  learning_rate: 10\n  weight_decay: 0',
      }),
    );
    assert.equal(info.status, 'failed');
    assert.match(
      info.error!.message,
      /the loss became (NaN|Infinity|-Infinity) at step \d+ .*lower training\.learning_rate/,
    );
    const saved = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
    assert.equal(saved.status, 'failed');
    assert.deepEqual(events(runDir).at(-1), {
      type: 'status',
      step: saved.step,
      status: 'failed',
      message: saved.error!.message,
    });
    assert.ok(!readdirSync(runDir).some((f) => f.includes('.tmp-')), 'no half-written files');
  });

  it('a truncated IDX file fails the run naming the file and the key', async () => {
    const header = (count: number, rows: number, cols: number) =>
      new Uint8Array([0, 0, 8, 3, 0, 0, 0, count, 0, 0, 0, rows, 0, 0, 0, cols]);
    writeFileSync(join(dir, 'imgs.idx'), Buffer.concat([header(10, 8, 8), Buffer.alloc(100)]));
    writeFileSync(join(dir, 'labels.idx'), new Uint8Array([0, 0, 8, 1, 0, 0, 0, 10, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const file = experiment('truncated', {
      data: '  source: idx\n  train_images: imgs.idx\n  train_labels: labels.idx\n  test_images: imgs.idx\n  test_labels: labels.idx\n  batch_size: 2',
    });
    const { info } = await runExperiment(file);
    assert.equal(info.status, 'failed');
    assert.match(info.error!.message, /imgs\.idx.*truncated.*640 bytes.*100/);
    assert.deepEqual(info.error!.key, ['data', 'train_images']);
  });

  it('refuses a file with errors, located, before creating a run folder', async () => {
    const file = experiment('broken', { extra: '  exponent: -1' });
    await assert.rejects(runExperiment(file), (error: unknown) => {
      assert.ok(error instanceof ExperimentFileError);
      assert.equal(error.diagnostics[0]!.code, 'out-of-range');
      return true;
    });
    assert.ok(!existsSync(join(dir, 'runs')) || !readdirSync(join(dir, 'runs')).some((d) => d.startsWith('broken-')));
  });
  it('the Fashion-MNIST MLP sample trains on image inputs (an mlp flattens them)', async () => {
    const { info } = await runExperiment(join(ROOT_DIR, 'samples', 'fashion-mlp-sapp.prune.yaml'), {
      steps: 30,
      outputDir: join(dir, 'fashion'),
    });
    assert.equal(info.status, 'completed', info.error?.message);
    assert.ok(info.final!.metrics.accuracy! > 0.3, String(info.final!.metrics.accuracy));
  });
});
