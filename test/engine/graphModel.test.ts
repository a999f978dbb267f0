/**
 * Graph models (engine/graphModel.ts) against tfjs-layers itself: for every supported layer
 * class, a small model around it, the same weights; tfjs-layers runs it on the cpu backend, our
 * GraphModel (kernels injected, all-ones masks) on wasm with our gradient kernels. Outputs and
 * the gradients of every weight agree within 1e-5; masks give exact zero blocks (edge blocks
 * too); export writes a LayersModel that plain `tf.loadLayersModel` reproduces.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from '../../server/src/data/random';
import { selectBackend } from '../../server/src/engine/backends';
import { blockSparseKernels, exportModel } from '../../server/src/engine/export';
import { GraphModel } from '../../server/src/engine/graphModel';
import type { StoredWeight } from '../../server/src/engine/tfjsModel';
import { GRAPH_LAYER_KINDS } from '../../server/src/experiment/graphShape';
import { PruningSchema } from '../../server/src/experiment/methods';
import { describeTfjsModel } from '../../server/src/experiment/modelShape';
import { planPruning } from '../../server/src/experiment/pruningPlan';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-graph-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const L = tfl.layers;
type Sym = tfl.SymbolicTensor;
const call = (layer: tfl.layers.Layer, x: Sym | Sym[]) => layer.apply(x) as Sym;

interface Case {
  /** The layer classes the case exercises (every supported class must appear in some case). */
  classes: string[];
  input: number[];
  /** Integer ids in [0, vocabulary) instead of normal features. */
  vocabulary?: number;
  build: (x: Sym) => Sym;
  /** Batch statistics (batch norm) or dropout make training mode differ; compare it too when deterministic. */
  training?: boolean;
}

const head = (x: Sym) => call(L.dense({ units: 3, name: 'out' }), x);

const CASES: Record<string, Case> = {
  dense: {
    classes: ['InputLayer', 'Dense'],
    input: [6],
    build: (x) => head(call(L.dense({ units: 5, activation: 'relu', name: 'd1' }), x)),
  },
  conv2d: {
    classes: ['Conv2D', 'Flatten'],
    input: [7, 6, 2],
    build: (x) => {
      let y = call(
        L.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'c1' }),
        x,
      );
      y = call(L.conv2d({ filters: 3, kernelSize: [2, 3], padding: 'valid', useBias: false, name: 'c2' }), y);
      return head(call(L.flatten({ name: 'flat' }), y));
    },
    training: true,
  },
  conv1d: {
    classes: ['Conv1D', 'MaxPooling1D', 'AveragePooling1D', 'GlobalAveragePooling1D'],
    input: [9, 3],
    build: (x) => {
      let y = call(L.conv1d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'c1' }), x);
      y = call(L.maxPooling1d({ poolSize: 2, name: 'mp' }), y);
      y = call(L.conv1d({ filters: 5, kernelSize: 2, strides: 1, padding: 'valid', name: 'c2' }), y);
      y = call(L.averagePooling1d({ poolSize: 2, padding: 'same', name: 'ap' }), y);
      return head(call(L.globalAveragePooling1d({ name: 'gap' }), y));
    },
    training: true,
  },
  globalMax1d: {
    classes: ['GlobalMaxPooling1D'],
    input: [5, 4],
    build: (x) =>
      head(call(L.globalMaxPooling1d({ name: 'gmp' }), call(L.conv1d({ filters: 3, kernelSize: 2, name: 'c' }), x))),
  },
  depthwise: {
    classes: ['DepthwiseConv2D', 'GlobalAveragePooling2D'],
    input: [8, 8, 3],
    build: (x) => {
      let y = call(
        L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', name: 'dw' }),
        x,
      );
      y = call(L.depthwiseConv2d({ kernelSize: 2, padding: 'valid', useBias: false, name: 'dw2' }), y);
      return head(call(L.globalAveragePooling2d({ name: 'gap' }), y));
    },
    training: true,
  },
  separable: {
    classes: ['SeparableConv2D', 'GlobalMaxPooling2D'],
    input: [6, 6, 3],
    build: (x) => {
      const y = call(
        L.separableConv2d({
          filters: 8,
          kernelSize: 3,
          depthMultiplier: 2,
          padding: 'same',
          activation: 'relu',
          name: 'sep',
        }),
        x,
      );
      return head(call(L.globalMaxPooling2d({ name: 'gmp' }), y));
    },
    training: true,
  },
  pooling2d: {
    classes: ['MaxPooling2D', 'AveragePooling2D', 'ZeroPadding2D'],
    input: [9, 8, 2],
    build: (x) => {
      let y = call(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c' }), x);
      y = call(
        L.zeroPadding2d({
          padding: [
            [1, 0],
            [2, 1],
          ],
          name: 'zp',
        }),
        y,
      );
      y = call(L.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same', name: 'mp' }), y);
      y = call(L.averagePooling2d({ poolSize: [2, 3], strides: 1, padding: 'valid', name: 'ap' }), y);
      return head(call(L.flatten({ name: 'flat' }), y));
    },
    training: true,
  },
  reshapeActivations: {
    classes: ['Reshape', 'Activation', 'ReLU', 'Softmax', 'Dropout'],
    input: [12],
    build: (x) => {
      let y = call(L.dense({ units: 12, name: 'd1' }), x);
      y = call(L.reshape({ targetShape: [3, 4], name: 'rs' }), y);
      y = call(L.activation({ activation: 'elu', name: 'act' }), y);
      y = call(L.reLU({ maxValue: 1.5, name: 'relu' }), y);
      y = call(L.softmax({ axis: -1, name: 'soft' }), y);
      y = call(L.dropout({ rate: 0.3, name: 'drop' }), y);
      return head(call(L.flatten({ name: 'flat' }), y));
    },
  },
  normalization: {
    classes: ['BatchNormalization', 'LayerNormalization'],
    input: [5, 5, 3],
    build: (x) => {
      let y = call(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, name: 'c' }), x);
      y = call(L.batchNormalization({ name: 'bn' }), y);
      y = call(L.layerNormalization({ name: 'ln' }), y);
      y = call(L.batchNormalization({ momentum: 0.9, name: 'bn2' }), call(L.flatten({ name: 'flat' }), y));
      return head(y);
    },
    training: true,
  },
  merges: {
    classes: ['Add', 'Concatenate', 'Multiply'],
    input: [6, 6, 2],
    build: (x) => {
      const a = call(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'a' }), x);
      const b = call(L.conv2d({ filters: 4, kernelSize: 1, name: 'b' }), x);
      const sum = call(L.add({ name: 'add' }), [a, b]);
      const prod = call(L.multiply({ name: 'mul' }), [sum, b]);
      const cat = call(L.concatenate({ axis: -1, name: 'cat' }), [prod, a, x]);
      return head(call(L.globalAveragePooling2d({ name: 'gap' }), cat));
    },
    training: true,
  },
  embedding: {
    classes: ['Embedding'],
    input: [5],
    vocabulary: 11,
    build: (x) => {
      const e = call(L.embedding({ inputDim: 11, outputDim: 4, name: 'emb' }), x);
      return head(call(L.flatten({ name: 'flat' }), call(L.conv1d({ filters: 6, kernelSize: 2, name: 'c' }), e)));
    },
    training: true,
  },
};

/** Seeded weights (tfjs-layers' own initializers are not seeded); moving variances stay positive. */
function seedWeights(model: tfl.LayersModel, seed: number): Map<string, StoredWeight> {
  const rng = new Rng(seed);
  const stored = new Map<string, StoredWeight>();
  for (const layer of model.layers)
    for (const w of layer.weights) {
      const n = (w.shape as number[]).reduce((a, b) => a * b, 1);
      const positive = /moving_variance|gamma/.test(w.originalName);
      const data = Float32Array.from({ length: n }, () => (positive ? 0.5 + rng.next() : 0.5 * rng.normal()));
      stored.set(w.originalName, { data, shape: w.shape as number[] });
    }
  for (const layer of model.layers)
    layer.setWeights(layer.weights.map((w) => tf.tensor(stored.get(w.originalName)!.data, w.shape as number[])));
  return stored;
}

function inputs(c: Case, batch: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const size = batch * c.input.reduce((a, b) => a * b, 1);
  return {
    x: Float32Array.from({ length: size }, () => (c.vocabulary ? rng.int(c.vocabulary) : rng.normal())),
    labels: Int32Array.from({ length: batch }, () => rng.int(3)),
  };
}

interface Computed {
  output: Float32Array;
  grads: Map<string, Float32Array>;
}

const BATCH = 4;

/** tfjs-layers on the cpu backend: output and the gradient of every trainable weight. */
function reference(model: tfl.LayersModel, c: Case, training: boolean): Computed {
  const { x, labels } = inputs(c, BATCH, 7);
  let result!: Computed;
  tf.tidy(() => {
    const xs = tf.tensor(x, [BATCH, ...c.input]);
    const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const names = new Map(vars.map((v, i) => [v.name, model.trainableWeights[i]!.originalName]));
    const output = (model.apply(xs, { training }) as tf.Tensor).dataSync() as Float32Array;
    const { grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training }) as tf.Tensor) as tf.Scalar,
      vars,
    );
    result = {
      output: Float32Array.from(output),
      grads: new Map(Object.entries(grads).map(([k, g]) => [names.get(k)!, Float32Array.from(g.dataSync())])),
    };
  });
  return result;
}

async function ours(
  json: Record<string, unknown>,
  stored: Map<string, StoredWeight>,
  pruning: object = { method: 'sapp', sparsity: 0.5, block: 2, min_blocks: 1 },
): Promise<GraphModel> {
  const described = describeTfjsModel(json);
  assert.ok(described.ok, described.ok ? '' : described.error.message);
  const plan = planPruning(described.shape, PruningSchema.parse(pruning));
  return GraphModel.build({
    topology: json['modelTopology'] as Record<string, unknown>,
    shape: described.shape,
    plan: plan.layers,
    options: { attention: true, clipDensity: null, logitInit: 'zeros' },
    rng: new Rng(1),
    dropoutSeed: 3,
    stored,
  });
}

function computeOurs(model: GraphModel, c: Case, training: boolean): Computed {
  const { x, labels } = inputs(c, BATCH, 7);
  let result!: Computed;
  tf.tidy(() => {
    const xs = tf.tensor(x, [BATCH, ...c.input]);
    const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
    const named = model.namedVariables().filter(([name, v]) => v.trainable && !name.endsWith('/logits'));
    const output = model.forward(xs, { training, step: 0 }).dataSync() as Float32Array;
    const { grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(ys, model.forward(xs, { training, step: 0 })) as tf.Scalar,
      named.map(([, v]) => v),
    );
    const byVariable = new Map(named.map(([name, v]) => [v.name, name]));
    result = {
      output: Float32Array.from(output),
      grads: new Map(Object.entries(grads).map(([k, g]) => [byVariable.get(k)!, Float32Array.from(g.dataSync())])),
    };
  });
  return result;
}

const maxDiff = (a: Float32Array, b: Float32Array) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** model.json's topology; tfjs-layers' own serialisation drops SeparableConv2D's depth multiplier, Keras' keeps it. */
function modelJson(model: tfl.LayersModel): Record<string, unknown> {
  const topology = model.toJSON(undefined, false) as unknown as {
    config: { layers: { class_name: string; name: string; config: Record<string, unknown> }[] };
  };
  for (const l of topology.config.layers)
    if (l.class_name === 'SeparableConv2D')
      l.config['depth_multiplier'] = (model.getLayer(l.name) as unknown as { depthMultiplier: number }).depthMultiplier;
  return { modelTopology: topology };
}

async function loadExported(folder: string): Promise<tfl.LayersModel> {
  const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
  };
  const weights = readFileSync(join(folder, 'weights.bin'));
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0]!.weights,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
}

describe('graph models: every supported layer class against tfjs-layers', () => {
  before(async () => {
    await selectBackend('wasm');
  });

  it('the cases cover every supported class', () => {
    const covered = new Set(Object.values(CASES).flatMap((c) => c.classes));
    assert.deepEqual(
      Object.keys(GRAPH_LAYER_KINDS).filter((k) => !covered.has(k)),
      [],
    );
  });

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name} (${c.classes.join(', ')}): output and gradients within 1e-5 of tfjs-layers on cpu; export round trip`, async () => {
      await tf.setBackend('cpu');
      const input = tfl.input({ shape: c.input, name: 'x' });
      const refModel = tfl.model({ inputs: input, outputs: c.build(input), name: `m_${name}` });
      const stored = seedWeights(refModel, 11);
      const json = modelJson(refModel);
      const modes = c.training ? [false, true] : [false];
      const expected = modes.map((training) => reference(refModel, c, training));
      refModel.dispose();

      await tf.setBackend('wasm');
      const before = tf.memory().numTensors;
      const model = await ours(json, stored);
      assert.ok(model.layers.length > 0 && model.layers.every((l) => l.pruned), 'every kernel layer is masked');
      modes.forEach((training, i) => {
        const got = computeOurs(model, c, training);
        assert.ok(maxDiff(got.output, expected[i]!.output) <= 1e-5, `${name} output (training ${training})`);
        assert.deepEqual([...got.grads.keys()].sort(), [...expected[i]!.grads.keys()].sort());
        for (const [weight, g] of got.grads) {
          const scale = Math.max(1, ...expected[i]!.grads.get(weight)!.map(Math.abs));
          const d = maxDiff(g, expected[i]!.grads.get(weight)!);
          assert.ok(d <= 1e-5 * scale, `${name} gradient of ${weight} (training ${training}): ${d}`);
        }
      });

      // Export with a real mask: the reloaded plain LayersModel computes what our masked model does.
      for (const layer of model.layers) {
        const mask = Uint8Array.from({ length: layer.grid.blocks }, (_, b) => (b % 3 === 1 ? 0 : 1));
        model.setMask(layer, mask);
      }
      const exportDir = join(dir, name);
      assert.deepEqual(exportModel(model, exportDir), []);
      const { x } = inputs(c, BATCH, 8);
      const ourOutput = tf.tidy(() => model.forward(tf.tensor(x, [BATCH, ...c.input])).dataSync() as Float32Array);
      const kernels = blockSparseKernels(exportDir);
      for (const layer of model.layers) {
        const folded = tf.tidy(() => model.effectiveKernel(layer).dataSync() as Float32Array);
        assert.equal(maxDiff(kernels.get(layer.name)!.kernel, folded), 0, `block-sparse ${layer.name}`);
      }
      model.dispose();
      assert.equal(tf.memory().numTensors, before, `${name}: no tensor leaks`);
      const reloaded = await loadExported(join(exportDir, 'model'));
      const reloadedOutput = tf.tidy(
        () => (reloaded.predict(tf.tensor(x, [BATCH, ...c.input])) as tf.Tensor).dataSync() as Float32Array,
      );
      reloaded.dispose();
      assert.ok(maxDiff(Float32Array.from(reloadedOutput), Float32Array.from(ourOutput)) <= 1e-5, `${name} export`);
    });
  }

  it('batch norm without offset or scale trains (tfjs-layers 4.22 itself fails there): as with a constant zero offset and unit scale', async () => {
    const build = (center: boolean, scale: boolean) => {
      const input = tfl.input({ shape: [4, 4, 2], name: 'x' });
      const c = call(L.conv2d({ filters: 3, kernelSize: 3, padding: 'same', useBias: false, name: 'c' }), input);
      const bn = call(L.batchNormalization({ center, scale, name: 'bn' }), c);
      return tfl.model({ inputs: input, outputs: head(call(L.flatten({ name: 'flat' }), bn)) });
    };
    const c: Case = { classes: [], input: [4, 4, 2], build: (x) => x };
    await tf.setBackend('cpu');
    // The reference trains offset and scale; held at 0 and 1 they are what center/scale false mean.
    const refModel = build(true, true);
    const stored = seedWeights(refModel, 5);
    refModel
      .getLayer('bn')
      .setWeights([
        tf.ones([3]),
        tf.zeros([3]),
        tf.tensor(stored.get('bn/moving_mean')!.data),
        tf.tensor(stored.get('bn/moving_variance')!.data),
      ]);
    const expected = reference(refModel, c, true);
    refModel.dispose();
    const plain = build(false, false);
    const json = modelJson(plain);
    plain.dispose();
    stored.delete('bn/gamma');
    stored.delete('bn/beta');
    await tf.setBackend('wasm');
    const model = await ours(json, stored);
    const got = computeOurs(model, c, true);
    model.dispose();
    assert.ok(maxDiff(got.output, expected.output) <= 1e-5);
    for (const [weight, g] of got.grads) assert.ok(maxDiff(g, expected.grads.get(weight)!) <= 1e-5, weight);
    assert.deepEqual([...got.grads.keys()].sort(), ['c/kernel', 'out/bias', 'out/kernel']);
  });
});
