import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { loadIdx, readIdxHeaderSync } from '../../server/src/data/idx';
import { openIdxDataset } from '../../server/src/data/idxDataset';
import { DataSchema } from '../../server/src/experiment/schema';
import type { IdxDataConfig } from '../../server/src/data/idxDataset';
import { assertDataError, assertDeterministicSplit, collect, idxBytes, tempDir, writeIdx } from './dataTestUtils';

const tmp = tempDir('idx');
after(tmp.remove);
const at = (name: string) => join(tmp.dir, name);

/** `count` 4x3 images whose first two pixels encode their index, and labels `i % classes`. */
function writePair(prefix: string, count: number, classes = 10, gzip = false) {
  const pixels = new Uint8Array(count * 12);
  for (let i = 0; i < count; i++) for (let j = 0; j < 12; j++) pixels[i * 12 + j] = (i * 7 + j) % 256;
  for (let i = 0; i < count; i++) [pixels[i * 12], pixels[i * 12 + 1]] = [i % 256, Math.floor(i / 256)];
  const labels = Array.from({ length: count }, (_, i) => i % classes);
  const ext = gzip ? '.gz' : '';
  return {
    images: writeIdx(at(`${prefix}-images${ext}`), 'images', [count, 4, 3], pixels, gzip),
    labels: writeIdx(at(`${prefix}-labels${ext}`), 'labels', [count], labels, gzip),
  };
}

const idxConfig = (extra: Record<string, unknown>) => DataSchema.parse({ source: 'idx', ...extra }) as IdxDataConfig;

describe('IDX files', () => {
  it('reads images and labels, raw and gzipped, with the same bytes', async () => {
    const raw = writePair('raw', 50);
    const gz = writePair('gz', 50, 10, true);
    const a = await loadIdx(raw.images, 'images');
    const b = await loadIdx(gz.images, 'images');
    assert.deepEqual(a.dims, [50, 4, 3]);
    assert.deepEqual(Array.from(b.data), Array.from(a.data));
    assert.equal(a.data[12 * 3 + 2], 23);
    assert.deepEqual(readIdxHeaderSync(gz.images, 'images').dims, [50, 4, 3]);
    assert.deepEqual(readIdxHeaderSync(raw.labels, 'labels').dims, [50]);
  });

  it('reads only the header of a large gzipped file for the probe', () => {
    const big = writeIdx(at('big.gz'), 'images', [3000, 28, 28], new Uint8Array(3000 * 784).fill(3), true);
    assert.deepEqual(readIdxHeaderSync(big, 'images', ['data', 'train_images']).dims, [3000, 28, 28]);
  });

  it('rejects a corrupt magic number, naming the file and key', async () => {
    const file = at('corrupt');
    writeFileSync(file, Buffer.from([0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 9]));
    const key = ['data', 'train_images'];
    await assertDataError(loadIdx(file, 'images', key), {
      message: /not an IDX file: magic number 0x12345678/,
      file,
      key,
    });
    assert.throws(() => readIdxHeaderSync(file, 'images', key), /not an IDX file/);
  });

  it('rejects a labels file given as images', async () => {
    const file = writeIdx(at('labels-as-images'), 'labels', [3], [1, 2, 3]);
    await assertDataError(loadIdx(file, 'images', ['data', 'train_images']), {
      message: /magic number 0x00000801 is not IDX images \(0x00000803\) \(this is an IDX labels file\)/,
      file,
    });
  });

  it('rejects an unsupported element type', async () => {
    const file = at('floats');
    writeFileSync(file, idxBytes(0x0d03, [1, 1, 1], [0, 0, 0, 0]));
    await assertDataError(loadIdx(file, 'images'), { message: /element type float .* only unsigned bytes/, file });
  });

  it('rejects truncated data, raw and gzipped', async () => {
    const full = idxBytes(0x0803, [10, 4, 3], new Uint8Array(120));
    const raw = at('truncated');
    writeFileSync(raw, full.subarray(0, 100));
    await assertDataError(loadIdx(raw, 'images', ['data', 'train_images']), {
      message: /truncated IDX data: the header declares \[10 x 4 x 3\] = 120 bytes but only 84 follow/,
      file: raw,
      key: ['data', 'train_images'],
    });
    const gz = at('truncated.gz');
    const zipped = gzipSync(full);
    writeFileSync(gz, zipped.subarray(0, zipped.length - 10));
    await assertDataError(loadIdx(gz, 'images'), { message: /truncated or corrupt gzip data/, file: gz });
    const header = at('truncated-header');
    writeFileSync(header, full.subarray(0, 9));
    await assertDataError(loadIdx(header, 'images'), { message: /truncated IDX header/, file: header });
  });

  it('rejects trailing bytes the header does not declare', async () => {
    const file = at('long');
    writeFileSync(file, idxBytes(0x0801, [3], [1, 2, 3, 4]));
    await assertDataError(loadIdx(file, 'labels'), { message: /size mismatch.*3 bytes but 4 follow/, file });
  });

  it('rejects a missing file', async () => {
    const file = at('nope');
    await assertDataError(loadIdx(file, 'labels', ['data', 'train_labels']), {
      message: /IDX labels file not found: .*nope/,
      file,
      key: ['data', 'train_labels'],
    });
  });
});

describe('idx source', () => {
  const train = writePair('train', 200, 10, true);
  const test = writePair('test', 40);

  it('yields scaled images of the right shape with their labels', async () => {
    const data = await openIdxDataset(
      idxConfig({
        train_images: train.images,
        train_labels: train.labels,
        test_images: test.images,
        test_labels: test.labels,
        scale: 2,
      }),
      tmp.dir,
      1,
    );
    assert.deepEqual(data.inputShape, [4, 3, 1]);
    assert.equal(data.train.size, 200);
    assert.equal(data.test.size, 40);
    const [first] = await collect(data.test, { batchSize: 16, epoch: 0, shuffleSeed: null });
    assert.ok(first);
    assert.equal(first.size, 16);
    assert.equal(first.features.length, 16 * 12);
    assert.equal(first.features[12 + 2], 4.5, 'pixel 9 of example 1 is 9/2');
    assert.deepEqual(Array.from(first.labels.subarray(0, 4)), [0, 1, 2, 3]);
    const sizes = (await collect(data.test, { batchSize: 16, epoch: 0, shuffleSeed: null })).map((b) => b.size);
    assert.deepEqual(sizes, [16, 16, 8], 'evaluation keeps the last partial batch');
    await assertDeterministicSplit(data.train, 16);
  });

  it('resolves paths against the experiment folder and honours caps', async () => {
    const data = await openIdxDataset(
      idxConfig({
        train_images: 'train-images.gz',
        train_labels: 'train-labels.gz',
        train_examples: 30,
        test_examples: 5,
      }),
      tmp.dir,
      1,
    );
    assert.equal(data.train.size, 30);
    assert.equal(data.test.size, 5);
  });

  it('holds out a seeded test split disjoint from train', async () => {
    const config = idxConfig({ train_images: train.images, train_labels: train.labels, test_split: 0.25 });
    const a = await openIdxDataset(config, tmp.dir, 3);
    const b = await openIdxDataset(config, tmp.dir, 4);
    assert.equal(a.test.size, 50);
    assert.equal(a.train.size, 150);
    const ids = async (split: typeof a.train) =>
      (await collect(split, { batchSize: 64, epoch: 0, shuffleSeed: null })).flatMap((batch) =>
        Array.from({ length: batch.size }, (_, k) =>
          Math.round(batch.features[k * 12]! * 255 + batch.features[k * 12 + 1]! * 255 * 256),
        ),
      );
    const trainIds = await ids(a.train);
    const testIds = await ids(a.test);
    assert.deepEqual(
      [...trainIds, ...testIds].sort((x, y) => x - y),
      Array.from({ length: 200 }, (_, i) => i),
      'train and test partition the file',
    );
    assert.deepEqual(
      testIds,
      [...testIds].sort((x, y) => x - y),
      'the test split keeps file order',
    );
    assert.notDeepEqual(await ids(b.test), testIds, 'another seed holds out other examples');
    const capped = await openIdxDataset({ ...config, train_examples: 10 }, tmp.dir, 3);
    assert.deepEqual(await ids(capped.train), trainIds.slice(0, 10), 'the cap keeps the first training examples');
  });

  it('rejects labels out of range, count mismatches and half a test pair', async () => {
    const labels = writeIdx(
      at('bad-labels'),
      'labels',
      [200],
      Array.from({ length: 200 }, (_, i) => (i === 42 ? 12 : 1)),
    );
    await assertDataError(openIdxDataset(idxConfig({ train_images: train.images, train_labels: labels }), tmp.dir, 1), {
      message: /label 12 of example 43 is outside \[0, 10\)/,
      file: labels,
      line: 43,
      key: ['data', 'train_labels'],
    });
    const short = writeIdx(at('short-labels'), 'labels', [199], new Uint8Array(199));
    await assertDataError(openIdxDataset(idxConfig({ train_images: train.images, train_labels: short }), tmp.dir, 1), {
      message: /count mismatch: 199 labels for 200 images/,
      file: short,
      key: ['data', 'train_labels'],
    });
    await assertDataError(
      openIdxDataset(
        idxConfig({ train_images: train.images, train_labels: train.labels, test_images: test.images }),
        tmp.dir,
        1,
      ),
      { message: /data.test_images is set but data.test_labels is not/, key: ['data', 'test_images'] },
    );
  });
});
