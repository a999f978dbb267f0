import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ExperimentFileError, runExperiment } from '../../server/src/runs/runExperiment';
import { ROOT } from '../helpers/experimentFixtures';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-models-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function experiment(name: string, body: string): string {
  const file = join(dir, `${name}.prune.yaml`);
  writeFileSync(
    file,
    `version: 1\nname: ${name}\nseed: 1\nbackend: wasm\n${body}\noutput:\n  dir: runs\n  export: false\n`,
  );
  return file;
}

async function saveLayersModel(model: tfl.LayersModel, folder: string): Promise<void> {
  mkdirSync(folder, { recursive: true });
  await model.save(
    tf.io.withSaveHandler((artifacts) => {
      writeFileSync(join(folder, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
      writeFileSync(
        join(folder, 'model.json'),
        JSON.stringify({
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        }),
      );
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
    }),
  );
}

describe('cnn, ctr and user tfjs models train end to end (wasm)', () => {
  it('ctr: SA++ on dense_1 of an embedding model learns synthetic clicks (AUC well above 0.5) with exactly k blocks', async () => {
    const file = experiment(
      'ctr',
      `data:
  source: synthetic-ctr
  vocabulary: 100
  hash_buckets: 100
  train_examples: 6000
  test_examples: 2000
  batch_size: 128
model:
  kind: ctr
  embedding_dim: 4
  hidden: [32, 16]
training:
  steps: 250
  eval_every: 0
  learning_rate: 0.003
pruning:
  method: sapp
  sparsity: 0.75
  block: 4
  min_blocks: 10
  layers: [dense_1]`,
    );
    const { info } = await runExperiment(file);
    assert.equal(info.status, 'completed', info.error?.message);
    assert.equal(info.task, 'ctr');
    const m = info.final!.metrics;
    assert.equal(m.accuracy, undefined);
    assert.ok(m.auc! > 0.6, `AUC ${m.auc}`);
    assert.ok(m.log_loss! > 0 && m.log_loss! < 0.69, `log-loss ${m.log_loss}`);
    const dense1 = info.final!.sparsity.layers.find((l) => l.name === 'dense_1')!;
    assert.equal(dense1.blocks, 39 * 8); // (39 features x 4) x 32 in 4x4 blocks
    assert.equal(dense1.keptBlocks, 78);
  });

  it('cnn: SA++ prunes a conv layer and a dense layer of a small CNN on the bundled Fashion-MNIST subset', async () => {
    const file = experiment(
      'cnn',
      `data:
  source: fashion-mnist
  path: ${join(ROOT, 'samples', 'data', 'fashion-mnist')}
  train_examples: 2000
  test_examples: 500
  batch_size: 32
model:
  kind: cnn
  filters: [4, 8]
  dense: [32]
training:
  steps: 150
  eval_every: 0
  learning_rate: 0.003
pruning:
  method: sapp
  sparsity: 0.5
  block: 4
  min_blocks: 4
  layers: [conv_2, dense_1]`,
    );
    const { info } = await runExperiment(file);
    assert.equal(info.status, 'completed', info.error?.message);
    assert.ok(info.final!.metrics.accuracy! > 0.4, `accuracy ${info.final!.metrics.accuracy} (chance 0.1)`);
    const byName = new Map(info.final!.sparsity.layers.map((l) => [l.name, l]));
    assert.equal(byName.get('conv_2')!.blocks, 9 * 2); // (3·3·4) x 8 in 4x4 blocks
    assert.equal(byName.get('conv_2')!.keptBlocks, 9);
    assert.equal(byName.get('conv_1')!.pruned, false);
    assert.equal(byName.get('dense_1')!.keptBlocks, Math.round(0.5 * byName.get('dense_1')!.blocks));
  });

  it('tfjs: a user LayersModel trains under magnitude pruning from its own weights', async () => {
    const folder = join(dir, 'user-model');
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [32], units: 32, activation: 'relu', name: 'hidden' }),
        tfl.layers.dropout({ rate: 0.1, name: 'drop' }),
        tfl.layers.dense({ units: 4, activation: 'softmax', name: 'probs' }),
      ],
    });
    await saveLayersModel(model, folder);
    model.dispose();
    const file = experiment(
      'tfjs',
      `data:
  source: teacher
  input_dim: 32
  hidden: 32
  classes: 4
  train_examples: 2000
  test_examples: 500
  batch_size: 64
model:
  kind: tfjs
  path: user-model/model.json
training:
  steps: 150
  eval_every: 0
  learning_rate: 0.003
pruning:
  method: magnitude
  sparsity: 0.5
  block: 8
  min_blocks: 8
  layers: [hidden]`,
    );
    const { info } = await runExperiment(file);
    assert.equal(info.status, 'completed', info.error?.message);
    assert.ok(info.final!.metrics.accuracy! > 0.4, `accuracy ${info.final!.metrics.accuracy} (chance 0.25)`);
    assert.deepEqual(
      info.final!.sparsity.layers.map((l) => [l.name, l.blocks, l.keptBlocks]),
      [
        ['hidden', 16, 8],
        ['probs', 4, 4],
      ],
    );
  });

  it('tfjs: a model with an unsupported layer is refused before training, naming the layer', async () => {
    const folder = join(dir, 'bad-model');
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [32], units: 8, name: 'hidden' }),
        tfl.layers.repeatVector({ n: 2, name: 'norm' }),
        tfl.layers.flatten({ name: 'flat' }),
        tfl.layers.dense({ units: 4, name: 'out' }),
      ],
    });
    await saveLayersModel(model, folder);
    model.dispose();
    const file = experiment(
      'tfjs-bad',
      `data:
  source: teacher
  input_dim: 32
  classes: 4
model:
  kind: tfjs
  path: bad-model/model.json
training:
  steps: 10
pruning:
  method: none`,
    );
    await assert.rejects(runExperiment(file), (error: unknown) => {
      assert.ok(error instanceof ExperimentFileError);
      assert.ok(
        error.diagnostics.some((d) => /`norm` is a RepeatVector/.test(d.message)),
        error.diagnostics.map((d) => d.message).join('\n'),
      );
      return true;
    });
  });
});
