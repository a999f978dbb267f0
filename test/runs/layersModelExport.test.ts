/**
 * Export of every model as a plain LayersModel: a run's `export/model/` loads with
 * `tf.loadLayersModel` (no custom class) and reproduces the run's own test accuracy on the same
 * inputs, for the built-in ResNet, the built-in CNN and a user's functional model with a final
 * softmax; the block-sparse file holds exactly the folded kernels.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { openDataset } from '../../server/src/data/openDataset';
import { selectBackend } from '../../server/src/engine/backends';
import { blockSparseKernels } from '../../server/src/engine/export';
import { runExperiment } from '../../server/src/runs/runExperiment';
import { ExperimentSchema } from '../../server/src/experiment/schema';
import { parse } from 'yaml';
import { ROOT } from '../helpers/experimentFixtures';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-layers-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BLOBS = join(ROOT, 'test/fixtures/npz/blobs.npz');

function experiment(name: string, data: string, model: string, pruning: string): string {
  const file = join(dir, `${name}.prune.yaml`);
  writeFileSync(
    file,
    `version: 1
name: ${name}
seed: 3
backend: wasm
data:
${data}
model:
${model}
training:
  steps: 120
  eval_every: 0
pruning:
${pruning}
output:
  dir: runs
`,
  );
  return file;
}

async function loadExport(runDir: string): Promise<tfl.LayersModel> {
  const folder = join(runDir, 'export', 'model');
  const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const weights = readFileSync(join(folder, json.weightsManifest[0]!.paths[0]!));
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0]!.weights,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
}

/** Accuracy of a plain LayersModel on the run's own test split, fed exactly as the run's evaluation is. */
async function exportedAccuracy(file: string, model: tfl.LayersModel): Promise<number> {
  const config = ExperimentSchema.parse(parse(readFileSync(file, 'utf8')));
  const dataset = await openDataset(config, dir);
  let correct = 0;
  let n = 0;
  for await (const batch of dataset.test.batches({ batchSize: 1000, epoch: 0, shuffleSeed: null })) {
    const hits = tf.tidy(() => {
      const shape = model.inputs[0]!.shape.slice(1) as number[];
      const x = tf.tensor(batch.features, [batch.size, ...shape]);
      const predicted = tf.argMax(model.predict(x) as tf.Tensor, 1);
      return tf.sum(tf.equal(predicted, tf.tensor1d(batch.labels, 'int32'))).dataSync()[0]!;
    });
    correct += hits;
    n += batch.size;
  }
  await dataset.close();
  return correct / n;
}

describe('export as a plain LayersModel', () => {
  before(() => selectBackend('wasm'));

  const cases: [string, string, string, string][] = [
    [
      'resnet',
      `  source: npz\n  path: ${BLOBS}\n  classes: 3\n  batch_size: 16`,
      '  kind: resnet\n  depth: 8\n  width: 4',
      "  method: sapp\n  sparsity: 0.75\n  block: 4\n  min_blocks: 8\n  layers: ['stage*']",
    ],
    [
      'cnn',
      `  source: fashion-mnist\n  path: ${join(ROOT, 'samples/data/fashion-mnist')}\n  train_examples: 2000\n  test_examples: 300\n  batch_size: 32`,
      '  kind: cnn\n  filters: [4, 8]\n  dense: [16]\n  dropout: 0.1',
      '  method: acdc\n  sparsity: 0.5\n  block: [4, 4]\n  min_blocks: 4\n  exclude: [output]',
    ],
  ];
  for (const [name, data, model, pruning] of cases)
    it(`${name}: tf.loadLayersModel reproduces the run's test accuracy; zero blocks as exported`, async () => {
      const file = experiment(name, data, model, pruning);
      const { info, dir: runDir } = await runExperiment(file);
      assert.equal(info.status, 'completed', info.error?.message);
      const loaded = await loadExport(runDir);
      const accuracy = await exportedAccuracy(file, loaded);
      assert.equal(
        accuracy,
        info.final!.metrics.accuracy,
        `${name}: exported ${accuracy}, run ${info.final!.metrics.accuracy}`,
      );
      // Every pruned layer's kernel in the LayersModel has the run's masked blocks at exactly zero.
      const kernels = blockSparseKernels(join(runDir, 'export'));
      for (const layer of info.final!.sparsity.layers.filter((l) => l.pruned)) {
        const saved = kernels.get(layer.name)!;
        const inModel = Float32Array.from(loaded.getLayer(layer.name).getWeights()[0]!.dataSync());
        // Equal as numbers: a folded zero is -0 where W was negative.
        assert.ok(
          inModel.every((v, i) => v === saved.kernel[i]),
          `${name}: ${layer.name} as in the block-sparse file`,
        );
        const zeros = inModel.filter((v) => v === 0).length;
        assert.ok(
          zeros >= layer.entrySparsity * inModel.length,
          `${name}: ${layer.name} has its pruned blocks at zero`,
        );
      }
      loaded.dispose();
    });

  it("a user's functional model with a final softmax: trained on logits, exported with its softmax", async () => {
    const input = tfl.input({ shape: [8, 8, 1], name: 'image' });
    const a = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'a' })
      .apply(input) as tfl.SymbolicTensor;
    const b = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'b' })
      .apply(a) as tfl.SymbolicTensor;
    const sum = tfl.layers.add({ name: 'skip' }).apply([a, b]) as tfl.SymbolicTensor;
    const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(sum) as tfl.SymbolicTensor;
    const out = tfl.layers
      .dense({ units: 3, activation: 'softmax', name: 'probs' })
      .apply(pooled) as tfl.SymbolicTensor;
    const user = tfl.model({ inputs: input, outputs: out, name: 'user' });
    await user.save(
      tf.io.withSaveHandler((artifacts) => {
        writeFileSync(join(dir, 'user-weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
        writeFileSync(
          join(dir, 'user-model.json'),
          JSON.stringify({
            modelTopology: artifacts.modelTopology,
            weightsManifest: [{ paths: ['user-weights.bin'], weights: artifacts.weightSpecs }],
          }),
        );
        return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
      }),
    );
    user.dispose();
    const file = experiment(
      'user',
      `  source: npz\n  path: ${BLOBS}\n  classes: 3\n  batch_size: 16`,
      '  kind: tfjs\n  path: user-model.json',
      '  method: magnitude\n  sparsity: 0.5\n  block: 4\n  min_blocks: 2\n  layers: [b]',
    );
    const { info, dir: runDir } = await runExperiment(file);
    assert.equal(info.status, 'completed', info.error?.message);
    const loaded = await loadExport(runDir);
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 1);
    const probabilities = loaded.predict(x) as tf.Tensor;
    // The softmax is back: rows sum to 1.
    for (const rowSum of tf.sum(probabilities, 1).dataSync()) assert.ok(Math.abs(rowSum - 1) < 1e-5);
    tf.dispose([x, probabilities]);
    assert.equal(await exportedAccuracy(file, loaded), info.final!.metrics.accuracy);
    loaded.dispose();
  });
});
