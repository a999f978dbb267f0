import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describeInput, describeModel, describeTfjsModel } from '../../server/src/experiment/modelShape';
import { planPruning } from '../../server/src/experiment/pruningPlan';
import { PruningSchema } from '../../server/src/experiment/methods';
import { DataSchema, ModelSchema } from '../../server/src/experiment/schema';
import { selectBackend } from '../../server/src/engine/backends';
import { conv2dByMatmul } from '../../server/src/engine/im2col';
import { MaskedModel } from '../../server/src/engine/maskedModel';
import { builtInNetworkSpec, isKernelSpec, kernelMatrix } from '../../server/src/engine/networkSpec';
import { Rng } from '../../server/src/data/random';
import { loadTfjsModel } from '../../server/src/engine/tfjsModel';
import { GraphModel } from '../../server/src/engine/graphModel';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-networks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

function builtIn(
  model: unknown,
  data: unknown,
  pruning: unknown = { method: 'sapp', sparsity: 0.5, block: 4, min_blocks: 1 },
) {
  const input = describeInput(DataSchema.parse(data));
  const config = ModelSchema.parse(model);
  if (config.kind === 'tfjs' || config.kind === 'resnet') throw new Error('built-in chains only');
  const shape = describeModel(config, input);
  assert.ok(shape.ok);
  const plan = planPruning(shape.shape, PruningSchema.parse(pruning));
  const spec = builtInNetworkSpec(config, shape.shape, input);
  return { shape: shape.shape, plan, spec, input };
}

/** Saves a tfjs-layers model as model.json + weights.bin in `folder`. */
async function saveLayersModel(model: tfl.LayersModel, folder: string): Promise<string> {
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
  return join(folder, 'model.json');
}

describe('networks: built-in models, convolutions, embeddings, user tfjs models', () => {
  before(() => selectBackend('wasm'));

  it('mlp, cnn and ctr build exactly the layer names and kernel matrices describeModel reports', () => {
    const cases = [
      [
        { kind: 'mlp', hidden: [32, 16], dropout: 0.2 },
        { source: 'teacher', input_dim: 20 },
      ],
      [{ kind: 'cnn', filters: [4, 8], dense: [16] }, { source: 'fashion-mnist' }],
      [
        { kind: 'ctr', embedding_dim: 3, hidden: [12, 6] },
        { source: 'synthetic-ctr', numeric_features: 2, categorical_features: 3, hash_buckets: 7 },
      ],
    ] as const;
    for (const [modelConfig, data] of cases) {
      const { shape, plan, spec } = builtIn(modelConfig, data);
      const described = shape.layers.filter((l) => l.matrix !== null).map((l) => [l.name, l.matrix]);
      const built = spec.layers.filter(isKernelSpec).map((l) => [l.name, kernelMatrix(l)]);
      assert.deepEqual(built, described, modelConfig.kind);
      const before = tf.memory().numTensors;
      const model = new MaskedModel(
        spec,
        plan.layers,
        { attention: true, clipDensity: 0.5, logitInit: 'zeros' },
        new Rng(1),
      );
      assert.deepEqual(
        model.layers.map((l) => [l.name, l.kernel.shape]),
        described,
      );
      const rng = new Rng(2);
      const batch = 3;
      const input =
        spec.layers[0]!.kind === 'embedding'
          ? {
              numeric: tf.tensor2d(
                Float32Array.from({ length: batch * 2 }, () => rng.normal()),
                [batch, 2],
              ),
              categorical: tf.tensor2d(
                Int32Array.from({ length: batch * 3 }, () => rng.int(7)),
                [batch, 3],
                'int32',
              ),
            }
          : tf.tensor(
              Float32Array.from({ length: batch * shape.inputShape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
              [batch, ...shape.inputShape],
            );
      const out = model.forward(input, { training: true, step: 0 });
      assert.deepEqual(out.shape, [batch, shape.layers.at(-1)!.outputShape[0]]);
      tf.dispose([out, ...(input instanceof tf.Tensor ? [input] : [input.numeric, input.categorical])]);
      model.commitBatchStats();
      model.dispose();
      assert.equal(tf.memory().numTensors, before, `${modelConfig.kind} leaks no tensors`);
    }
  });

  it('convolution by im2col matmul equals tf.conv2d (same/valid, strides 1-2, random shapes)', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 8; trial++) {
      const [h, w, cin, cout] = [3 + rng.int(8), 3 + rng.int(8), 1 + rng.int(4), 1 + rng.int(5)];
      const [kh, kw] = [1 + rng.int(3), 1 + rng.int(3)];
      const strides: [number, number] = [1 + rng.int(2), 1 + rng.int(2)];
      const padding = rng.next() < 0.5 ? 'same' : 'valid';
      const x = tf.tensor4d(
        Float32Array.from({ length: 2 * h * w * cin }, () => rng.normal()),
        [2, h, w, cin],
      );
      const k = tf.tensor4d(
        Float32Array.from({ length: kh * kw * cin * cout }, () => rng.normal()),
        [kh, kw, cin, cout],
      );
      const reference = tf.conv2d(x, k, strides, padding);
      const ours = conv2dByMatmul(x, k.reshape([kh * kw * cin, cout]), {
        kernelHeight: kh,
        kernelWidth: kw,
        strides,
        padding,
      });
      assert.deepEqual(ours.shape, reference.shape);
      assert.ok(maxAbsDiff(ours, reference) < 1e-4, `${h}x${w}x${cin} k${kh}x${kw} s${strides.join('x')} ${padding}`);
      tf.dispose([x, k, reference, ours]);
    }
  });

  it('a pruned conv layer: identity at init, and exactly N − k zero blocks in its folded (kh·kw·cin) x cout kernel', () => {
    const { plan, spec } = builtIn(
      { kind: 'cnn', filters: [8], dense: [], pool: 2 },
      { source: 'fashion-mnist' },
      {
        method: 'sapp',
        sparsity: 0.75,
        block: [3, 2],
        min_blocks: 1,
        layers: ['conv_1'],
      },
    );
    const model = new MaskedModel(
      spec,
      plan.layers,
      { attention: true, clipDensity: 0.25, logitInit: 'zeros' },
      new Rng(3),
    );
    const conv = model.layers[0]!;
    assert.deepEqual(conv.kernel.shape, [9, 8]);
    const x = tf.tidy(() => tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 5) as tf.Tensor4D);
    const plain = tf.tidy(() => {
      const y = tf.relu(tf.add(tf.conv2d(x, tf.reshape<tf.Rank.R4>(conv.kernel, [3, 3, 1, 8]), 1, 'same'), conv.bias!));
      const pooled = tf.maxPool(y as tf.Tensor4D, 2, 2, 'valid');
      return tf.add(tf.matMul(pooled.reshape([2, -1]), model.layers[1]!.kernel), model.layers[1]!.bias!);
    });
    const masked = model.forward(x);
    assert.ok(maxAbsDiff(masked, plain) < 1e-4);
    const keep = new Uint8Array(conv.grid.blocks);
    [0, 3, 5].forEach((b) => (keep[b] = 1));
    model.setMask(conv, keep);
    const folded = tf.tidy(() => model.effectiveKernel(conv).arraySync());
    let zeroBlocks = 0;
    for (let br = 0; br < conv.grid.gridRows; br++)
      for (let bc = 0; bc < conv.grid.gridCols; bc++) {
        let allZero = true;
        for (let r = br * 3; r < br * 3 + 3; r++)
          for (let c = bc * 2; c < bc * 2 + 2; c++) if (folded[r]![c] !== 0) allZero = false;
        assert.equal(allZero, keep[br * conv.grid.gridCols + bc] === 0);
        if (allZero) zeroBlocks++;
      }
    assert.equal(zeroBlocks, conv.grid.blocks - 3);
    tf.dispose([x, plain, masked]);
    model.dispose();
  });

  it('embedding gradients on wasm (our UnsortedSegmentSum kernel) equal the cpu backend', async () => {
    const rng = new Rng(4);
    const table = Array.from({ length: 20 * 3 }, () => rng.normal());
    const ids = Int32Array.from({ length: 15 }, () => rng.int(20));
    const weights = Array.from({ length: 15 * 3 }, () => rng.normal());
    const grad = () =>
      tf.tidy(() =>
        tf
          .grad((t: tf.Tensor) =>
            tf.sum(tf.mul(tf.gather(t, tf.tensor1d(ids, 'int32')), tf.tensor2d(weights, [15, 3]))),
          )(tf.tensor2d(table, [20, 3]))
          .dataSync(),
      );
    const onWasm = grad();
    await selectBackend('cpu');
    const onCpu = grad();
    await selectBackend('wasm');
    assert.ok(Math.max(...onWasm.map((v, i) => Math.abs(v - onCpu[i]!))) < 1e-5);
  });

  it('a user tfjs LayersModel (Conv2D, BatchNormalization, MaxPooling2D, Flatten, Dropout, Dense) loads with its weights and computes what tfjs-layers computes', async () => {
    const folder = mkdtempSync(join(dir, 'tfjs-'));
    const layers = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [10, 10, 2],
          filters: 6,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
          name: 'c1',
        }),
        tfl.layers.batchNormalization({ name: 'bn' }),
        tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
        tfl.layers.flatten({ name: 'flat' }),
        tfl.layers.dropout({ rate: 0.3, name: 'drop' }),
        tfl.layers.dense({ units: 12, activation: 'tanh', name: 'd1' }),
        tfl.layers.dense({ units: 4, activation: 'softmax', name: 'out' }),
      ],
    });
    // Non-trivial moving statistics, so inference-mode batch norm is really checked.
    const bn = layers.getLayer('bn');
    const [gamma, beta] = [tf.randomUniform([6], 0.5, 1.5, 'float32', 1), tf.randomNormal([6], 0, 1, 'float32', 2)];
    const [mean, variance] = [tf.randomNormal([6], 0, 1, 'float32', 3), tf.randomUniform([6], 0.5, 2, 'float32', 4)];
    bn.setWeights([gamma, beta, mean, variance]);
    const file = await saveLayersModel(layers, folder);
    const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const described = describeTfjsModel(json);
    assert.ok(described.ok);
    assert.deepEqual(
      described.shape.layers.map((l) => l.name),
      ['c1', 'bn', 'pool', 'flat', 'drop', 'd1', 'out'],
    );
    const loaded = loadTfjsModel(file);
    const plan = planPruning(
      described.shape,
      PruningSchema.parse({ method: 'sapp', sparsity: 0.5, block: 2, min_blocks: 1 }),
    );
    const model = await GraphModel.build({
      topology: loaded.json['modelTopology'] as Record<string, unknown>,
      shape: described.shape,
      plan: plan.layers,
      options: { attention: true, clipDensity: 0.5, logitInit: 'zeros' },
      rng: new Rng(1),
      dropoutSeed: 0,
      stored: loaded.weights,
    });
    assert.deepEqual(
      model.layers.map((l) => [l.name, [l.grid.rows, l.grid.cols]]),
      described.shape.layers.filter((l) => l.matrix).map((l) => [l.name, l.matrix]),
    );
    const x = tf.randomNormal([5, 10, 10, 2], 0, 1, 'float32', 9);
    const expected = layers.predict(x) as tf.Tensor;
    // Our forward stops before the final softmax (the loss takes logits).
    const ours = tf.tidy(() => tf.softmax(model.forward(x)));
    assert.ok(maxAbsDiff(ours, expected) < 1e-5, String(maxAbsDiff(ours, expected)));
    tf.dispose([gamma, beta, mean, variance, x, expected, ours]);
    model.dispose();
    layers.dispose();
  });

  it('a tfjs model with an unsupported layer is refused with an error naming the layer and its class', async () => {
    const folder = mkdtempSync(join(dir, 'tfjs-bad-'));
    const layers = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [6], units: 8, name: 'd1' }),
        tfl.layers.reshape({ targetShape: [2, 2, 2], name: 'grid' }),
        tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 2, name: 'up' }),
        tfl.layers.flatten({ name: 'flat' }),
        tfl.layers.dense({ units: 3, name: 'out' }),
      ],
    });
    const file = await saveLayersModel(layers, folder);
    layers.dispose();
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
    };
    const refused = describeTfjsModel(json);
    assert.ok(!refused.ok);
    assert.match(refused.error.message, /layer `up` is a Conv2DTranspose, which cannot be trained here/);
    assert.deepEqual(refused.error.path, ['model', 'path']);
    // An activation TF.js does not have is refused too, naming the layer.
    json.modelTopology.config.layers = json.modelTopology.config.layers.filter((l) => l.class_name === 'Dense');
    json.modelTopology.config.layers[0]!.config['activation'] = 'crelu';
    const activation = describeTfjsModel(json);
    assert.ok(!activation.ok);
    assert.match(activation.error.message, /layer `d1` \(Dense\) uses the activation "crelu"/);
  });
});
