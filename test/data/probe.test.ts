import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { probeData, probeDataSync } from '../../server/src/data/probe';
import { DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_CHECKSUMS } from '../../server/src/data/fashionMnistStore';
import { DataSchema } from '../../server/src/experiment/schema';
import { existsSync } from 'node:fs';
import { tempDir, writeIdx } from './dataTestUtils';

const repo = resolve(__dirname, '../..');
const tmp = tempDir('probe');
after(tmp.remove);
const placesAt = (cacheDir: string) => ({
  cacheDir,
  systemDirs: [],
  mirror: 'http://127.0.0.1:9/',
  checksums: FASHION_MNIST_CHECKSUMS,
});
const probe = (data: Record<string, unknown>, baseDir = tmp.dir) => probeDataSync(DataSchema.parse(data), baseDir);
const write = (name: string, text: string) => {
  const file = join(tmp.dir, name);
  writeFileSync(file, text);
  return file;
};

describe('probeData', () => {
  it('reads the shape and count of the bundled Fashion-MNIST from its headers', async () => {
    const result = await probeData(
      DataSchema.parse({ source: 'fashion-mnist', path: 'samples/data/fashion-mnist' }),
      repo,
    );
    assert.deepEqual(result, { probe: { shape: [28, 28, 1], trainExamples: 10_000 }, problems: [], missing: [] });
  });

  it('finds the Debian set when installed', { skip: !existsSync(DEBIAN_FASHION_MNIST_DIR) }, () => {
    const places = { ...placesAt(join(tmp.dir, 'empty-cache')), systemDirs: [DEBIAN_FASHION_MNIST_DIR] };
    assert.equal(
      probeDataSync(DataSchema.parse({ source: 'fashion-mnist' }), tmp.dir, places).probe.trainExamples,
      60_000,
    );
  });

  it('without data.path: the cache first, then the system folders, else a note that a run downloads', () => {
    const fashion = DataSchema.parse({ source: 'fashion-mnist' });
    const subset = join(repo, 'samples/data/fashion-mnist');
    const inCache = probeDataSync(fashion, tmp.dir, { ...placesAt(subset), systemDirs: ['/nonexistent'] });
    assert.deepEqual(inCache, { probe: { shape: [28, 28, 1], trainExamples: 10_000 }, problems: [], missing: [] });
    const inSystem = probeDataSync(fashion, tmp.dir, { ...placesAt(join(tmp.dir, 'none')), systemDirs: [subset] });
    assert.equal(inSystem.probe.trainExamples, 10_000);
    const nowhere = probeDataSync(fashion, tmp.dir, placesAt(join(tmp.dir, 'none')));
    assert.deepEqual(nowhere.problems, []);
    assert.deepEqual(
      nowhere.notes?.map((n) => n.key),
      [['data', 'source']],
    );
    assert.match(
      nowhere.notes![0]!.message,
      /downloads it \(31 MB, checksummed\) from http:\/\/127\.0\.0\.1:9\/ into .*none/,
    );
  });

  it('says how to install Fashion-MNIST when the folder is missing', () => {
    const result = probe({ source: 'fashion-mnist', path: 'absent' });
    assert.deepEqual(result.missing, [{ file: join(tmp.dir, 'absent'), key: ['data', 'path'] }]);
    assert.match(
      result.problems[0]!.message,
      /set `data.path` to a folder .* or remove it to use the user cache, Debian's package `dataset-fashion-mnist` or a one-time download/i,
    );
  });

  it('probes IDX headers: shape, train count after the split, and count mismatches', () => {
    writeIdx(join(tmp.dir, 'img.gz'), 'images', [50, 4, 3], new Uint8Array(600), true);
    writeIdx(join(tmp.dir, 'lab'), 'labels', [50], new Uint8Array(50));
    writeIdx(join(tmp.dir, 'lab49'), 'labels', [49], new Uint8Array(49));
    const good = probe({ source: 'idx', train_images: 'img.gz', train_labels: 'lab', test_split: 0.2 });
    assert.deepEqual(good, { probe: { shape: [4, 3, 1], trainExamples: 40 }, problems: [], missing: [] });
    const bad = probe({ source: 'idx', train_images: 'img.gz', train_labels: 'lab49', test_images: 'gone' });
    assert.deepEqual(
      bad.problems.map((p) => [p.key.join('.'), p.message.replace(tmp.dir, '')]),
      [
        ['data.test_images', 'IDX images file not found: /gone'],
        ['data.test_images', 'data.test_images is set but data.test_labels is not: give both or neither'],
        ['data.train_labels', 'count mismatch: 49 labels for 50 images'],
      ],
    );
    assert.deepEqual(bad.missing, [{ file: join(tmp.dir, 'gone'), key: ['data', 'test_images'] }]);
  });

  it('reports a corrupt IDX header at its key', () => {
    write('corrupt', 'not an idx file at all');
    const result = probe({ source: 'idx', train_images: 'corrupt', train_labels: 'lab' });
    assert.equal(result.problems.length, 1);
    assert.deepEqual(result.problems[0]!.key, ['data', 'train_images']);
    assert.match(result.problems[0]!.message, /not an IDX file: magic number 0x6e6f7420/);
  });

  it('probes a CSV: feature count from the header line, label column and test file checks', () => {
    write('t.csv', 'a,b,label,c\n1,2,0,3\n');
    write('t2.csv', 'a,b,label\n1,2,0\n');
    assert.deepEqual(probe({ source: 'csv', path: 't.csv', classes: 2 }), {
      probe: { shape: [3] },
      problems: [],
      missing: [],
    });
    const bad = probe({ source: 'csv', path: 't.csv', test_path: 't2.csv', classes: 2, label_column: 'y' });
    assert.deepEqual(
      bad.problems.map((p) => [p.key.join('.'), p.line, p.message]),
      [
        ['data.label_column', 1, "no column named 'y' in the header of t.csv (a, b, label, c)"],
        ['data.test_path', 1, '3 columns, but t.csv has 4'],
      ],
    );
    assert.deepEqual(probe({ source: 'csv', path: 't.csv', classes: 2, label_column: 4 }).problems[0]!.key, [
      'data',
      'label_column',
    ]);
    assert.deepEqual(probe({ source: 'csv', path: 'none.csv', classes: 2 }).missing, [
      { file: join(tmp.dir, 'none.csv'), key: ['data', 'path'] },
    ]);
  });

  it('probes Criteo files: missing files and a first line of the wrong width', () => {
    const ok = probe({ source: 'criteo', path: 'samples/data/criteo-sample.tsv' }, repo);
    assert.deepEqual(ok, { probe: { shape: [39] }, problems: [], missing: [] });
    write('short.tsv', '1\t2\t3\n');
    const bad = probe({ source: 'criteo', path: 'short.tsv', test_path: 'nope.tsv' });
    assert.deepEqual(
      bad.problems.map((p) => [p.key.join('.'), p.line]),
      [
        ['data.path', 1],
        ['data.test_path', undefined],
      ],
    );
    assert.match(bad.problems[0]!.message, /short\.tsv:1: 3 tab-separated fields, expected 40/);
    assert.deepEqual(bad.missing, [{ file: join(tmp.dir, 'nope.tsv'), key: ['data', 'test_path'] }]);
  });

  it('describes synthetic sources from the config alone', () => {
    assert.deepEqual(probe({ source: 'teacher', input_dim: 32 }).probe, { shape: [32], trainExamples: 20_000 });
    assert.deepEqual(probe({ source: 'synthetic-ctr', numeric_features: 3, categorical_features: 4 }).probe, {
      shape: [7],
      trainExamples: 50_000,
    });
  });
});
