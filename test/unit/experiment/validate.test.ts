import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXPERIMENT_TEMPLATE_KINDS } from '@protocol';
import { DIAGNOSTIC_CODES } from '../../../server/src/experiment/diagnostics';
import { DataProbeCache, nodeHost } from '../../../server/src/data/nodeHost';
import type { ExperimentHost } from '../../../server/src/experiment/experimentHost';
import { experimentTemplate } from '../../../server/src/experiment/templates';
import { validateExperiment } from '../../../server/src/experiment/validate';
import { FASHION_MNIST_CHECKSUMS, type FashionMnistPlaces } from '../../../server/src/data/fashionMnistStore';
import { ROOT, brokenFixtures, hostFor, rangeText, sampleFiles } from '../../helpers/experimentFixtures';

const memoryHost: ExperimentHost = {
  baseDir: null,
  memoryBytes: null,
  pathKind: () => 'missing',
  readHead: () => ({ error: 'no files in memory' }),
  probeData: () => ({ probe: {}, problems: [], missing: [] }),
};

const found = (text: string, host: ExperimentHost = memoryHost) =>
  validateExperiment(text, host).diagnostics.map((d) => `${d.code} ${rangeText(d.range)}`);

describe('validation: every broken fixture gives exactly its expected diagnostics', () => {
  for (const fixture of brokenFixtures()) {
    it(fixture.name, () => {
      assert.ok(fixture.expected.length > 0, 'the fixture states what it expects');
      const actual = validateExperiment(fixture.text, hostFor(fixture.path)).diagnostics.map(
        (d) => `${d.code} ${rangeText(d.range)}`,
      );
      assert.deepEqual(actual.sort(), fixture.expected.map((e) => `${e.code} ${e.range}`).sort());
    });
  }

  it('covers every diagnostic code except model-unchecked, data-download (tested below) and bad-encoding (cli/check.test.ts)', () => {
    // data-download depends on what this machine holds, so a fixture cannot state it; an encoding
    // problem is in the bytes of a file, which the fixtures' text cannot hold.
    const covered = new Set(brokenFixtures().flatMap((f) => f.expected.map((e) => e.code)));
    const untestable = ['model-unchecked', 'data-download', 'bad-encoding'];
    const missing = Object.keys(DIAGNOSTIC_CODES).filter((c) => !covered.has(c) && !untestable.includes(c));
    assert.deepEqual(missing, []);
  });
});

describe('validation: valid files', () => {
  for (const file of sampleFiles()) {
    it(`sample ${file.split('/').pop()} has zero diagnostics`, () => {
      const result = validateExperiment(readFileSync(file, 'utf8'), hostFor(file));
      assert.deepEqual(
        result.diagnostics.map((d) => d.message),
        [],
      );
      assert.ok(
        result.analysis?.plan?.layers.some((l) => l.status === 'pruned'),
        'something is pruned',
      );
    });
  }
  // Templates name no data folder: Fashion-MNIST comes from the user cache (here: one holding the
  // bundled subset), so they check clean wherever the data is; without it, see data-download below.
  const subsetInCache = placesWith(join(ROOT, 'samples', 'data', 'fashion-mnist'));
  for (const kind of EXPERIMENT_TEMPLATE_KINDS) {
    it(`template ${kind} has zero diagnostics`, () => {
      const text = experimentTemplate('from-template', kind);
      const result = validateExperiment(text, nodeHost('/tmp', undefined, subsetInCache));
      assert.deepEqual(
        result.diagnostics.map((d) => d.message),
        [],
      );
      assert.equal(result.config?.name, 'from-template');
      assert.doesNotMatch(text, /^\s*path:/m, 'no template names a data folder');
    });
  }

  it('Fashion-MNIST found nowhere is information that a run downloads it, not an error', () => {
    const nowhere = placesWith(join(tmpdir(), 'sparsity-no-such-cache'));
    const text = experimentTemplate('fresh', 'sapp');
    const result = validateExperiment(text, nodeHost('/tmp', undefined, nowhere));
    assert.deepEqual(
      result.diagnostics.map((d) => [d.code, d.severity, rangeText(d.range)]),
      [
        [
          'data-download',
          'information',
          `${1 + text.split('\n').findIndex((l) => l.includes('source: fashion-mnist'))}:11-${1 + text.split('\n').findIndex((l) => l.includes('source: fashion-mnist'))}:24`,
        ],
      ],
    );
    assert.match(
      result.diagnostics[0]!.message,
      /downloads it \(31 MB, checksummed\) from http:\/\/mirror\.test\/ into .*sparsity-no-such-cache/,
    );
    assert.ok(
      result.analysis?.plan?.layers.some((l) => l.status === 'pruned'),
      'the model-aware checks still ran',
    );
  });
});

/** Fashion-MNIST places with only `cacheDir` (no system folder) and a made-up mirror. */
function placesWith(cacheDir: string): FashionMnistPlaces {
  return { cacheDir, systemDirs: [], mirror: 'http://mirror.test/', checksums: FASHION_MNIST_CHECKSUMS };
}

describe('validation: robustness', () => {
  it('keeps checking the rest of the file after a syntax error', () => {
    const text =
      'version: 1\nname: x\ndata: {source: teacher\nmodel:\n  kind: mlp\n  hiden: [4]\npruning:\n  method: sapp\n  sparsity: 0.5\n';
    const codes = validateExperiment(text, memoryHost).diagnostics.map((d) => d.code);
    assert.ok(codes.includes('yaml-syntax'), codes.join());
    assert.ok(codes.includes('unknown-key'), codes.join());
  });

  it('reports the schema errors and still runs model checks on the rest', () => {
    const text =
      'version: 1\nname: x\ndata:\n  source: teacher\nmodel:\n  kind: mlp\n  hidden: [128]\ntraining:\n  optimizer: adamw\npruning:\n  method: sapp\n  sparsity: 0.9\n  layers: [dense_9]\n';
    assert.deepEqual(found(text).sort(), [
      'bad-enum 9:14-9:19',
      'nothing-pruned 10:1-10:8',
      'pattern-no-match 13:12-13:19',
    ]);
  });

  it('an empty file asks for the required keys at the start', () => {
    const codes = validateExperiment('', memoryHost).diagnostics;
    assert.ok(codes.length > 0);
    assert.ok(codes.every((d) => d.code === 'missing-required' && d.range.start.line === 0));
  });

  it('a file that is not a mapping is a type error, not a crash', () => {
    for (const text of ['- a\n- b\n', '42\n', '"x"\n', '~\n', '[}\n']) {
      const result = validateExperiment(text, memoryHost);
      assert.ok(result.diagnostics.length > 0, text);
      assert.equal(result.config, null);
    }
  });

  it('says when model-aware checks cannot run yet (csv in an unsaved file)', () => {
    const text =
      'version: 1\nname: x\ndata:\n  source: csv\n  path: ./x.csv\n  classes: 3\nmodel:\n  kind: mlp\npruning:\n  method: sapp\n  sparsity: 0.5\n';
    assert.deepEqual(found(text), ['model-unchecked 4:11-4:14']);
  });

  it('alias bombs are refused without expanding them', () => {
    const bomb =
      'a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d]\n';
    const result = validateExperiment(bomb, memoryHost);
    assert.ok(result.diagnostics.some((d) => d.code === 'yaml-syntax'));
  });

  it('a list or mapping used as a key is a syntax error at the key, never stringified (the fuzz found 3 s)', () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const deep = `version: 1\n${'['.repeat(400)}${']'.repeat(400)}: 1\n? {a: [1, 2]}\n: 2\nname: x\n`;
      const found = validateExperiment(deep, memoryHost).diagnostics.filter((d) => /plain value/.test(d.message));
      assert.deepEqual(
        found.map((d) => `${d.code} ${rangeText(d.range)}`),
        ['yaml-syntax 2:1-2:801', 'yaml-syntax 3:3-3:14'],
      );
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, [], 'no "Keys with collection values will be stringified" warning');
  });
});

describe('validation: data and tfjs model files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sparsity-validate-'));
  const write = (name: string, content: string | Uint8Array) => writeFileSync(join(dir, name), content);
  const experiment = (data: string, model: string) =>
    `version: 1\nname: x\ndata:\n${data}\nmodel:\n${model}\npruning:\n  method: sapp\n  sparsity: 0.5\n  block: 1\n  min_blocks: 1\n`;

  it('reads the CSV header for the input width and checks the label column', () => {
    write('train.csv', 'a,b,c,d,label\n1,2,3,4,0\n');
    const ok = validateExperiment(
      experiment('  source: csv\n  path: train.csv\n  classes: 2', '  kind: mlp\n  hidden: [8]'),
      nodeHost(dir),
    );
    assert.deepEqual(
      ok.diagnostics.map((d) => d.code),
      [],
    );
    assert.deepEqual(
      ok.analysis?.plan?.layers.map((l) => [l.name, l.rows, l.cols]),
      [
        ['dense_1', 4, 8],
        ['output', 8, 2],
      ],
    );
    const bad = validateExperiment(
      experiment('  source: csv\n  path: train.csv\n  classes: 2\n  label_column: target', '  kind: mlp'),
      nodeHost(dir),
    );
    assert.deepEqual(
      bad.diagnostics.map((d) => `${d.code} ${rangeText(d.range)}`),
      ['model-invalid 7:17-7:23'],
    );
  });

  it('reads IDX headers (gz or raw) and rejects a file that is not IDX', () => {
    const header = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 12, 0, 0, 0, 12]);
    write('imgs.idx', header);
    write('labels.idx', new Uint8Array([0, 0, 8, 1, 0, 0, 0, 5]));
    write('junk.idx', 'not idx at all');
    const data = (images: string) => `  source: idx\n  train_images: ${images}\n  train_labels: labels.idx`;
    const ok = validateExperiment(
      experiment(data('imgs.idx'), '  kind: cnn\n  filters: [8]\n  dense: [16]'),
      nodeHost(dir),
    );
    assert.deepEqual(
      ok.diagnostics.map((d) => d.message),
      [],
    );
    assert.deepEqual(ok.analysis?.input.shape, [12, 12, 1]);
    const junk = validateExperiment(experiment(data('junk.idx'), '  kind: mlp'), nodeHost(dir));
    assert.deepEqual(
      junk.diagnostics.map((d) => d.code),
      ['model-invalid'],
    );
    assert.match(junk.diagnostics[0]!.message, /not an IDX file: magic number/);
  });

  it('describes a tfjs model from its manifest and names an unsupported layer', () => {
    const model = (layers: unknown[], weights: unknown[]) =>
      JSON.stringify({
        modelTopology: { class_name: 'Sequential', config: { name: 'm', layers } },
        weightsManifest: [{ paths: ['w.bin'], weights }],
      });
    const dense = (name: string, extra: object = {}) => ({ class_name: 'Dense', config: { name, units: 8, ...extra } });
    write(
      'good.json',
      model(
        [dense('hidden', { batch_input_shape: [null, 20] }), dense('logits', { units: 10 })],
        [
          { name: 'hidden/kernel', shape: [20, 8], dtype: 'float32' },
          { name: 'hidden/bias', shape: [8], dtype: 'float32' },
          { name: 'logits/kernel', shape: [8, 10], dtype: 'float32' },
        ],
      ),
    );
    write(
      'lstm.json',
      model(
        [dense('hidden', { batch_input_shape: [null, 20] }), { class_name: 'LSTM', config: { name: 'recurrent' } }],
        [],
      ),
    );
    const teacher = '  source: teacher\n  input_dim: 20';
    const good = validateExperiment(experiment(teacher, '  kind: tfjs\n  path: good.json'), nodeHost(dir));
    assert.deepEqual(
      good.analysis?.plan?.layers.map((l) => `${l.name} ${l.rows}x${l.cols}`),
      ['hidden 20x8', 'logits 8x10'],
    );
    assert.deepEqual(
      good.diagnostics.map((d) => d.code),
      [],
    );
    const bad = validateExperiment(experiment(teacher, '  kind: tfjs\n  path: lstm.json'), nodeHost(dir));
    assert.deepEqual(
      bad.diagnostics.map((d) => `${d.code} ${rangeText(d.range)}`),
      ['model-invalid 8:9-8:18'],
    );
    assert.match(bad.diagnostics[0]!.message, /`recurrent` is a LSTM/);
    const missing = validateExperiment(experiment(teacher, '  kind: tfjs\n  path: none.json'), nodeHost(dir));
    assert.deepEqual(
      missing.diagnostics.map((d) => d.code),
      ['path-missing'],
    );
  });

  it('caches data probes until cleared, so edits do not re-read headers but new files are seen', () => {
    const cache = new DataProbeCache(60_000);
    const text = experiment('  source: csv\n  path: later.csv\n  classes: 2', '  kind: mlp\n  hidden: [8]');
    const codes = () => validateExperiment(text, nodeHost(dir, cache)).diagnostics.map((d) => d.code);
    assert.deepEqual(codes(), ['path-missing']);
    write('later.csv', 'a,b,label\n1,2,0\n');
    assert.deepEqual(codes(), ['path-missing'], 'cached until the watcher says files changed');
    cache.clear();
    assert.deepEqual(codes(), []);
    assert.deepEqual(validateExperiment(text, nodeHost(dir)).diagnostics, [], 'no cache: read every time');
  });

  it('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});
