import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { openFashionMnist, type FashionMnistDataConfig } from '../../server/src/data/fashionMnist';
import { DEBIAN_FASHION_MNIST_DIR } from '../../server/src/data/fashionMnistStore';
import { DataSchema } from '../../server/src/experiment/schema';
import { assertDataError, assertDeterministicSplit, collect, tempDir } from './dataTestUtils';

const repo = resolve(__dirname, '../..');
const SAMPLE = join(repo, 'samples/data/fashion-mnist');
const config = (extra: Record<string, unknown> = {}) =>
  DataSchema.parse({ source: 'fashion-mnist', ...extra }) as FashionMnistDataConfig;
const tmp = tempDir('fmnist');
after(tmp.remove);

const FIRST_TRAIN_LABELS = [9, 0, 0, 3, 0, 2, 7, 2, 5, 5];
const FIRST_TEST_LABELS = [9, 2, 1, 1, 6, 1, 4, 6, 5, 7];

async function checkFirstExamples(path: string, trainSize: number, testSize: number) {
  const data = await openFashionMnist(config({ path }), repo);
  assert.deepEqual(data.inputShape, [28, 28, 1]);
  assert.equal(data.classes, 10);
  assert.equal(data.train.size, trainSize);
  assert.equal(data.test.size, testSize);
  const [train] = await collect(data.train, { batchSize: 10, epoch: 0, shuffleSeed: null });
  const [test] = await collect(data.test, { batchSize: 10, epoch: 0, shuffleSeed: null });
  assert.deepEqual(Array.from(train!.labels), FIRST_TRAIN_LABELS);
  assert.deepEqual(Array.from(test!.labels), FIRST_TEST_LABELS);
  const first = train!.features.subarray(0, 784);
  assert.equal(Math.max(...first), 1, 'pixels are scaled into [0, 1]');
  assert.equal(Math.min(...first), 0);
  // Sum of the first image's raw bytes is 76247 in the published file.
  assert.ok(Math.abs(first.reduce((a, b) => a + b, 0) * 255 - 76247) < 0.05);
  return data;
}

describe('fashion-mnist source', () => {
  it('reads the bundled subset (relative path) with the published first labels', async () => {
    const data = await checkFirstExamples('samples/data/fashion-mnist', 10_000, 2_000);
    const labels = (await collect(data.train, { batchSize: 10_000, epoch: 0, shuffleSeed: null }))[0]!.labels;
    const counts = new Array<number>(10).fill(0);
    for (const l of labels) counts[l]! += 1;
    assert.ok(
      counts.every((c) => c > 800 && c < 1200),
      `balanced classes: ${counts.join(',')}`,
    );
  });

  it('reads the full Debian set when installed', { skip: !existsSync(DEBIAN_FASHION_MNIST_DIR) }, async () => {
    await checkFirstExamples(DEBIAN_FASHION_MNIST_DIR, 60_000, 10_000);
  });

  it('shuffles deterministically, resumes, caps, and honours shuffle: false', async () => {
    const data = await openFashionMnist(config({ path: SAMPLE, train_examples: 300, test_examples: 50 }), repo);
    assert.equal(data.train.size, 300);
    assert.equal(data.test.size, 50);
    await assertDeterministicSplit(data.train, 32);
    const sizes = (await collect(data.train, { batchSize: 32, epoch: 0, shuffleSeed: 1, dropRemainder: true })).map(
      (b) => b.size,
    );
    assert.deepEqual(sizes, new Array<number>(9).fill(32), 'training drops the last partial batch');
    const unshuffled = await openFashionMnist(config({ path: SAMPLE, train_examples: 20, shuffle: false }), repo);
    const [batch] = await collect(unshuffled.train, { batchSize: 10, epoch: 3, shuffleSeed: 99 });
    assert.deepEqual(Array.from(batch!.labels), FIRST_TRAIN_LABELS);
  });

  it('reads uncompressed files too', async () => {
    const dir = join(tmp.dir, 'raw');
    mkdirSync(dir);
    for (const name of [
      'train-images-idx3-ubyte',
      'train-labels-idx1-ubyte',
      't10k-images-idx3-ubyte',
      't10k-labels-idx1-ubyte',
    ]) {
      writeFileSync(join(dir, name), gunzipSync(readFileSync(join(SAMPLE, `${name}.gz`))));
    }
    const data = await openFashionMnist(config({ path: dir, test_examples: 10 }), repo);
    const [test] = await collect(data.test, { batchSize: 10, epoch: 0, shuffleSeed: null });
    assert.deepEqual(Array.from(test!.labels), FIRST_TEST_LABELS);
  });

  it('says how to get the data when the folder is missing', async () => {
    const folder = join(tmp.dir, 'absent');
    await assertDataError(openFashionMnist(config({ path: folder }), repo), {
      message:
        /Fashion-MNIST folder not found: .*absent\. Set `data.path` to a folder holding the four IDX files, or remove it to use the user cache, Debian's package `dataset-fashion-mnist` or a one-time download/,
      file: folder,
      key: ['data', 'path'],
    });
  });

  it('names a missing file of the four', async () => {
    const dir = join(tmp.dir, 'partial');
    mkdirSync(dir);
    for (const name of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz']) {
      copyFileSync(join(SAMPLE, name), join(dir, name));
    }
    await assertDataError(openFashionMnist(config({ path: dir }), repo), {
      message: /t10k-labels-idx1-ubyte\.gz \(or t10k-labels-idx1-ubyte\) not found in/,
      file: join(dir, 't10k-labels-idx1-ubyte.gz'),
      key: ['data', 'path'],
    });
  });
});
