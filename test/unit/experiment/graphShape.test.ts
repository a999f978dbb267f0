/**
 * Graph descriptions from model.json alone (experiment/graphShape.ts): shapes through branches and
 * merges, prunable matrices, located errors for mismatches and unsupported layers; the built-in
 * ResNet in the editor (names, shapes, hover, inlay hints, outline, globs).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { documentSymbols } from '../../../server/src/experiment/documentSymbols';
import { describeGraph, parseTopology } from '../../../server/src/experiment/graphShape';
import { hover } from '../../../server/src/experiment/hover';
import { inlayHints } from '../../../server/src/experiment/inlayHints';
import { describeInput, describeModel, describeTfjsModel } from '../../../server/src/experiment/modelShape';
import { DataSchema, ModelSchema } from '../../../server/src/experiment/schema';
import { validateExperiment } from '../../../server/src/experiment/validate';
import { LineIndex } from '../../../server/src/experiment/yamlDocument';
import { SAMPLES_DIR, hostFor } from '../../helpers/experimentFixtures';

type Layer = { class_name: string; name: string; config: Record<string, unknown>; inbound_nodes: unknown[] };

/** A functional model.json; `inputs` of each layer are the names of the layers it reads. */
function functional(input: number[], layers: [string, string, Record<string, unknown>, string[]][], output: string) {
  const all: Layer[] = [
    {
      class_name: 'InputLayer',
      name: 'x',
      config: { name: 'x', batch_input_shape: [null, ...input] },
      inbound_nodes: [],
    },
    ...layers.map(([className, name, config, inputs]) => ({
      class_name: className,
      name,
      config: { name, ...config },
      inbound_nodes: [inputs.map((i) => [i, 0, 0, {}])],
    })),
  ];
  return {
    modelTopology: {
      class_name: 'Functional',
      config: { name: 'm', layers: all, input_layers: [['x', 0, 0]], output_layers: [[output, 0, 0]] },
    },
  };
}

const conv = (filters: number, kernel: number, strides = 1, padding = 'same') => ({
  filters,
  kernel_size: [kernel, kernel],
  strides: [strides, strides],
  padding,
});

describe('graph descriptions from model.json', () => {
  it('follows shapes through branches, Add and Concatenate, and gives every prunable matrix', () => {
    const json = functional(
      [8, 8, 3],
      [
        ['Conv2D', 'a', conv(4, 3), ['x']],
        ['Conv2D', 'b', conv(4, 1), ['x']],
        ['Add', 'sum', {}, ['a', 'b']],
        ['SeparableConv2D', 'sep', { ...conv(6, 3, 2), depth_multiplier: 2 }, ['sum']],
        ['DepthwiseConv2D', 'dw', { kernel_size: 3, padding: 'valid' }, ['sep']],
        ['ZeroPadding2D', 'pad', { padding: 1 }, ['dw']],
        ['Concatenate', 'cat', { axis: -1 }, ['pad', 'sep']],
        ['GlobalAveragePooling2D', 'gap', {}, ['cat']],
        ['Dense', 'out', { units: 10 }, ['gap']],
      ],
      'out',
    );
    const described = describeTfjsModel(json);
    assert.ok(described.ok, described.ok ? '' : described.error.message);
    const byName = new Map(described.shape.layers.map((l) => [l.name, l]));
    assert.deepEqual(byName.get('sum')!.outputShape, [8, 8, 4]);
    assert.deepEqual(byName.get('sep')!.outputShape, [4, 4, 6]);
    assert.deepEqual(byName.get('dw')!.outputShape, [2, 2, 6]);
    assert.deepEqual(byName.get('cat')!.outputShape, [4, 4, 12]);
    assert.deepEqual(
      described.shape.layers.filter((l) => l.matrix).map((l) => [l.name, l.matrix]),
      [
        ['a', [27, 4]],
        ['b', [3, 4]],
        ['sep', [8, 6]],
        ['out', [12, 10]],
      ],
    );
    assert.deepEqual(byName.get('sum')!.inputs, ['a', 'b']);
    assert.equal(byName.get('sep')!.params, 3 * 3 * 4 * 2 + 8 * 6 + 6);
  });

  it('a shape mismatch at a merge is an error naming the layer, its class and the shapes, at model.path', () => {
    const add = describeTfjsModel(
      functional(
        [8, 8, 3],
        [
          ['Conv2D', 'a', conv(4, 3, 2), ['x']],
          ['Conv2D', 'b', conv(4, 1), ['x']],
          ['Add', 'skip', {}, ['a', 'b']],
          ['Flatten', 'f', {}, ['skip']],
          ['Dense', 'out', { units: 2 }, ['f']],
        ],
        'out',
      ),
    );
    assert.ok(!add.ok);
    assert.equal(add.error.message, 'layer `skip` (Add) cannot add inputs of shapes [4, 4, 4] and [8, 8, 4]');
    assert.deepEqual(add.error.path, ['model', 'path']);
    const cat = describeTfjsModel(
      functional(
        [6],
        [
          ['Reshape', 'r', { target_shape: [2, 3] }, ['x']],
          ['Reshape', 's', { target_shape: [3, 2] }, ['x']],
          ['Concatenate', 'join', { axis: 1 }, ['r', 's']],
          ['Flatten', 'f', {}, ['join']],
          ['Dense', 'out', { units: 2 }, ['f']],
        ],
        'out',
      ),
    );
    assert.ok(!cat.ok);
    assert.match(
      cat.error.message,
      /layer `join` \(Concatenate\) cannot concatenate inputs of shapes \[2, 3\] and \[3, 2\] along axis 1/,
    );
  });

  it('checks the weight manifest against the config and the data against the model', () => {
    const json = {
      ...functional([5], [['Dense', 'out', { units: 3 }, ['x']]], 'out'),
      weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'out/kernel', shape: [5, 4], dtype: 'float32' }] }],
    };
    const wrong = describeTfjsModel(json);
    assert.ok(!wrong.ok);
    assert.match(
      wrong.error.message,
      /layer `out` \(Dense\): the weights hold `kernel` of shape \[5, 4\], but its config and input need \[5, 3\]/,
    );
    const model = functional([5], [['Dense', 'out', { units: 3 }, ['x']]], 'out');
    const data = describeInput(DataSchema.parse({ source: 'teacher', input_dim: 6, classes: 3 }));
    const input = describeTfjsModel(model, data);
    assert.ok(!input.ok);
    assert.match(input.error.message, /takes inputs of shape \[5\], but the data has examples of shape \[6\]/);
    const classes = describeTfjsModel(model, describeInput(DataSchema.parse({ source: 'teacher', input_dim: 5 })));
    assert.ok(!classes.ok);
    assert.match(classes.error.message, /output `out` has 3 units, but the data has 10 classes/);
  });

  it('refuses what TF.js cannot train or load, naming the layer', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...conv(2, 3), dilation_rate: [2, 2] }, /layer `c` \(Conv2D\) uses dilation_rate \[2,2\]/],
      [{ ...conv(2, 3), data_format: 'channels_first' }, /uses "channels_first" data/],
      [{ ...conv(2, 3), activation: 'crelu' }, /uses the activation "crelu", which TF.js cannot run/],
      [conv(2, 9, 1, 'valid'), /would output shape \[-4, -4, 2\]: its window does not fit its input/],
    ];
    for (const [config, message] of cases) {
      const d = describeTfjsModel(functional([4, 4, 1], [['Conv2D', 'c', config, ['x']]], 'c'));
      assert.ok(!d.ok);
      assert.match(d.error.message, message);
    }
    const keras3 = functional([4], [['Dense', 'd', { units: 2 }, ['x']]], 'd');
    (keras3.modelTopology.config.layers[1] as Layer).inbound_nodes = [{ args: [], kwargs: {} }];
    const k3 = describeTfjsModel(keras3);
    assert.ok(!k3.ok);
    assert.match(k3.error.message, /Keras 3 format/);
    const topology = parseTopology(functional([4], [['LSTM', 'rnn', {}, ['x']]], 'rnn'));
    assert.ok(typeof topology !== 'string');
    const lstm = describeGraph(topology, ['model', 'path']);
    assert.ok(!lstm.ok);
    assert.match(
      lstm.error.message,
      /layer `rnn` is a LSTM, which cannot be trained here \(supported: InputLayer, Dense, Conv2D/,
    );
  });

  it('fills open input dimensions from the data, and refuses them otherwise', () => {
    const json = functional(
      [null as unknown as number, null as unknown as number, 1],
      [['GlobalMaxPooling2D', 'g', {}, ['x']]],
      'g',
    );
    const open = describeTfjsModel(json);
    assert.ok(!open.ok);
    assert.match(open.error.message, /open dimensions \[\?, \?, 1\]/);
    const filled = describeTfjsModel(json, {
      task: 'classification',
      shape: [28, 28, 1],
      classes: 1,
      trainExamples: null,
    });
    assert.ok(filled.ok);
    assert.deepEqual(filled.shape.inputShape, [28, 28, 1]);
  });
});

describe('the built-in resnet', () => {
  const fashion = describeInput(DataSchema.parse({ source: 'fashion-mnist' }));
  const resnet = (depth: number, width = 16) => {
    const model = ModelSchema.parse({ kind: 'resnet', depth, width });
    if (model.kind !== 'resnet') throw new Error('resnet');
    const d = describeModel(model, fashion);
    assert.ok(d.ok, d.ok ? '' : d.error.message);
    return d.shape;
  };

  it('has 6n + 2 weighted layers named by stage and block, 28 → 14 → 7 pixels and 16 → 32 → 64 channels', () => {
    for (const [depth, blocks] of [
      [8, 1],
      [14, 2],
      [20, 3],
    ] as const) {
      const shape = resnet(depth);
      const kernels = shape.layers.filter((l) => l.matrix).map((l) => l.name);
      const shortcuts = kernels.filter((n) => n.endsWith('/shortcut'));
      assert.deepEqual(shortcuts, ['stage2/block1/shortcut', 'stage3/block1/shortcut']);
      assert.equal(kernels.length - shortcuts.length, depth, `depth ${depth}`);
      assert.equal(kernels.filter((n) => n.startsWith('stage3/')).length, 2 * blocks + 1);
    }
    const shape = resnet(14);
    const out = (name: string) => shape.layers.find((l) => l.name === name)!.outputShape;
    assert.deepEqual(out('stem/relu'), [28, 28, 16]);
    assert.deepEqual(out('stage2/block1/add'), [14, 14, 32]);
    assert.deepEqual(out('stage3/block2/relu2'), [7, 7, 64]);
    assert.deepEqual(out('output'), [10]);
    assert.deepEqual(shape.layers.find((l) => l.name === 'stage2/block1/conv1')!.matrix, [144, 32]);
    assert.deepEqual(shape.layers.find((l) => l.name === 'stage2/block1/shortcut')!.matrix, [16, 32]);
  });

  it('is refused for non-image data at model.kind', () => {
    const model = ModelSchema.parse({ kind: 'resnet' });
    if (model.kind !== 'resnet') throw new Error('resnet');
    const d = describeModel(model, describeInput(DataSchema.parse({ source: 'teacher' })));
    assert.ok(!d.ok);
    assert.deepEqual(d.error.path, ['model', 'kind']);
  });

  it('shows its layers in hover and inlay hints, its keys in the outline, and globs select stages', () => {
    const file = join(SAMPLES_DIR, 'fashion-resnet-sapp.prune.yaml');
    const text = readFileSync(file, 'utf8');
    const result = validateExperiment(text, hostFor(file));
    assert.deepEqual(
      result.diagnostics.map((d) => d.code),
      [],
    );
    const h = hover(result, new LineIndex(text).positionAt(text.indexOf('block: 4') + 1))!;
    assert.match(h.markdown, /\| stage2\/block1\/conv1 \| 144x32 \| 36x8 \| 288 \| 29 \| pruned \|/);
    assert.match(h.markdown, /\| stage2\/block1\/shortcut \| 16x32 \| 4x8 \| 32 \| 32 \| not-selected \|/);
    const kind = hover(result, new LineIndex(text).positionAt(text.indexOf('kind: resnet') + 8))!;
    assert.match(kind.markdown, /ResNet-v1/);
    assert.match(kind.markdown, /\| stem\/conv \| 9x16 \|/);
    const lines = text.split('\n');
    const hint = inlayHints(result).find((x) => lines[x.position.line]!.trimStart().startsWith('block:'))!.label;
    assert.match(hint, /stage1\/block1\/conv1: 14\/144/);
    const model = documentSymbols(result.document).find((s) => s.name === 'model')!;
    assert.deepEqual(
      model.children.map((c) => `${c.name}=${c.detail}`),
      ['kind=resnet', 'depth=8', 'width=16'],
    );
    const stage3 = validateExperiment(text.replace("layers: ['stage*/conv?']", "layers: ['stage3/*']"), hostFor(file));
    assert.deepEqual(
      stage3.analysis!.plan!.layers.filter((l) => l.status === 'pruned').map((l) => l.name),
      ['stage3/block1/conv1', 'stage3/block1/conv2', 'stage3/block1/shortcut'],
    );
  });
});
