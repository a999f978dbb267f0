/**
 * The NPY/NPZ reader and the `npz` source against files written by real NumPy
 * (test/fixtures/npz/generate.py, Debian python3-numpy): every supported dtype, byte order and
 * memory order, header versions 1-3, stored and deflated archives, folders of .npy files; and the
 * files it must refuse (pickled objects, strings, complex, structured, one-hot or out-of-range
 * labels, mismatched lengths, truncated or foreign archives), each with a clear, located message.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { DataError } from '../../server/src/data/dataset';
import { npyHeader, readNpy } from '../../server/src/data/npy';
import { exampleShape, openNpzDataset, probeNpz } from '../../server/src/data/npz';
import { openDataset } from '../../server/src/data/openDataset';
import { probeDataSync } from '../../server/src/data/probe';
import { DataSchema } from '../../server/src/experiment/schema';
import { collect, tempDir } from './dataTestUtils';

const FIXTURES = resolve(__dirname, '../fixtures/npz');
const tmp = tempDir('npz');
after(tmp.remove);

interface Expected {
  shape: number[];
  descr: string;
  fortran: boolean;
  values: number[];
}
const { images_x_test: imagesTest, ...expected } = JSON.parse(
  readFileSync(join(FIXTURES, 'expected.json'), 'utf8'),
) as Record<string, Expected & { labels?: number[] }>;
const npz = (data: Record<string, unknown>) => DataSchema.parse({ source: 'npz', classes: 3, ...data });

describe('the NPY reader against NumPy-written files', () => {
  for (const [name, want] of Object.entries(expected)) {
    it(`${name}: ${want.descr}${want.fortran ? ', Fortran order' : ''}, shape (${want.shape.join(', ')})`, () => {
      const bytes = readFileSync(join(FIXTURES, `dtype-${name}.npy`));
      const header = npyHeader(bytes, name);
      assert.deepEqual(header.shape, want.shape);
      assert.equal(header.descr, want.descr);
      assert.equal(header.fortranOrder, want.fortran);
      const { values } = readNpy(bytes, name, 'features');
      assert.equal(values.length, want.values.length);
      // float32 holds every value NumPy wrote to the precision of float32.
      want.values.forEach((v, i) =>
        assert.ok(
          Math.abs(values[i]! - Math.fround(v)) <= 1e-6 * Math.max(1, Math.abs(v)),
          `${name}[${i}]: ${values[i]} vs ${v}`,
        ),
      );
      if (/^(u1|i1|b1|le_i2|be_u2|be_i4|u4|i8|scalar_rows)$/.test(name) && name !== 'u4' && name !== 'i8') {
        const labels = readNpy(bytes, name, 'labels').values;
        assert.deepEqual([...labels], want.values);
      }
    });
  }

  it('header versions 2.0 and 3.0', () => {
    for (const v of [2, 3]) {
      const bytes = readFileSync(join(FIXTURES, `version-${v}.npy`));
      assert.deepEqual([...readNpy(bytes, `v${v}`, 'features').values], [0, 1, 2, 3, 4]);
    }
  });

  it('refuses pickled objects, strings, complex, structured and truncated arrays, saying why', () => {
    const refused: [string, RegExp][] = [
      [
        'bad-object.npy',
        /holds Python objects \(dtype \|O\), which only NumPy can unpickle: save a plain numeric array/,
      ],
      ['bad-strings.npy', /holds strings \(dtype <U5\)/],
      ['bad-complex.npy', /holds complex numbers \(dtype <c16\)/],
      ['bad-structured.npy', /has a raw or structured dtype/],
      ['bad-truncated-data.npy', /truncated data: shape \(100\) of <f8 needs 800 bytes, the file has 72/],
      ['images.npz', /not a NumPy \.npy array/],
    ];
    for (const [file, message] of refused)
      assert.throws(() => readNpy(readFileSync(join(FIXTURES, file)), file, 'features'), message, file);
    assert.throws(
      () => readNpy(readFileSync(join(FIXTURES, 'dtype-f8.npy')), 'floats', 'labels'),
      /label -?\d\.\d+ at index 0 is not an integer class id/,
    );
  });
});

describe('the npz source', () => {
  it('one example shape per array rank: images get a channel axis', () => {
    assert.deepEqual(exampleShape([5]), [1]);
    assert.deepEqual(exampleShape([5, 7]), [7]);
    assert.deepEqual(exampleShape([5, 28, 28]), [28, 28, 1]);
    assert.deepEqual(exampleShape([5, 32, 32, 3]), [32, 32, 3]);
  });

  for (const file of ['images.npz', 'images-compressed.npz'])
    it(`${file}: uint8 images scaled to [0, 1], test split from x_test/y_test, the probe reads the headers only`, async () => {
      const data = npz({ path: file });
      const dataset = await openDataset({ seed: 1, data }, FIXTURES);
      assert.deepEqual(dataset.inputShape, [4, 4, 1]);
      assert.equal(dataset.train.size, 12);
      assert.equal(dataset.test.size, 6);
      const [batch] = await collect(dataset.test, { batchSize: 6, epoch: 0, shuffleSeed: null });
      // The test images as NumPy wrote them (bytes), divided by 255; the labels as they are.
      assert.deepEqual(
        [...batch!.features],
        imagesTest!.values.map((v) => Math.fround(v * (1 / 255))),
      );
      assert.deepEqual([...batch!.labels], imagesTest!.labels);
      const probe = probeDataSync(data, FIXTURES);
      assert.deepEqual(probe, { probe: { shape: [4, 4, 1], trainExamples: 12 }, problems: [], missing: [] });
    });

  it('stored and deflated archives hold the same values', async () => {
    const read = async (file: string) => {
      const dataset = await openDataset({ seed: 1, data: npz({ path: file, shuffle: false }) }, FIXTURES);
      const batches = await collect(dataset.train, { batchSize: 12, epoch: 0, shuffleSeed: null });
      return batches[0]!;
    };
    const [stored, deflated] = [await read('images.npz'), await read('images-compressed.npz')];
    assert.deepEqual(stored.features, deflated.features);
    assert.deepEqual(stored.labels, deflated.labels);
  });

  it('a folder of .npy files: Fortran-order float64 features, [n, 1] labels, a seeded test split', async () => {
    const data = npz({ path: 'folder', classes: 2, test_split: 0.2 });
    const dataset = await openNpzDataset(data as Extract<typeof data, { source: 'npz' }>, FIXTURES, 3);
    assert.deepEqual(dataset.inputShape, [3]);
    assert.equal(dataset.train.size! + dataset.test.size!, 10);
    assert.equal(dataset.test.size, 2);
    const x = readNpy(readFileSync(join(FIXTURES, 'folder', 'x_train.npy')), 'x', 'features').values;
    const all = [
      ...(await collect(dataset.train, { batchSize: 100, epoch: 0, shuffleSeed: null })),
      ...(await collect(dataset.test, { batchSize: 100, epoch: 0, shuffleSeed: null })),
    ];
    const rows = all.flatMap((b) =>
      Array.from({ length: b.size }, (_, i) => [...b.features.subarray(3 * i, 3 * i + 3)].join(',')),
    );
    const expectedRows = Array.from({ length: 10 }, (_, i) => [...x.subarray(3 * i, 3 * i + 3)].join(','));
    assert.deepEqual(rows.sort(), expectedRows.sort());
    assert.deepEqual(probeDataSync(data, FIXTURES).probe, { shape: [3], trainExamples: 8 });
  });

  it('refuses bad archives with a message at data.path, in the loader and in the probe alike', async () => {
    const refused: [string, RegExp][] = [
      ['bad-lengths.npz', /x_train has 12 examples but y_train has 7 labels/],
      ['bad-onehot.npz', /labels of shape \(12, 3\) look one-hot; give integer class ids/],
      ['bad-no-ytest.npz', /has x_test but no y_test: give both or neither/],
      ['bad-object-entry.npz', /\[x_train\]: holds Python objects/],
      ['bad-truncated.npz', /not a \.npz archive \(no zip end-of-directory record/],
      ['bad-not-zip.npz', /not a \.npz archive/],
      [
        'bad-bzip2.npz',
        /uses zip compression method 12; np\.savez \(stored\) and np\.savez_compressed \(deflate\) are supported/,
      ],
      ['folder/x_train.npy', /not a \.npz archive/],
    ];
    for (const [file, message] of refused) {
      await assert.rejects(
        openDataset({ seed: 1, data: npz({ path: file }) }, FIXTURES),
        (error: unknown) =>
          error instanceof DataError && message.test(error.message) && error.key?.join('.') === 'data.path',
        file,
      );
      const probe = probeDataSync(npz({ path: file }), FIXTURES);
      assert.equal(probe.problems.length, 1, file);
      assert.match(probe.problems[0]!.message, message, file);
      assert.deepEqual(probe.problems[0]!.key, ['data', 'path']);
    }
    // Labels outside [0, classes) are found when the data is read (the probe reads no values).
    await assert.rejects(
      openDataset({ seed: 1, data: npz({ path: 'bad-labels.npz' }) }, FIXTURES),
      /\[y_train\]: label \d at index \d+ is outside \[0, 3\) \(data.classes is 3\)/,
    );
    const missing = probeDataSync(npz({ path: 'nowhere.npz' }), FIXTURES);
    assert.deepEqual(missing.missing, [{ file: join(FIXTURES, 'nowhere.npz'), key: ['data', 'path'] }]);
    const noTrain = join(tmp.dir, 'empty.npz');
    writeFileSync(noTrain, readFileSync(join(FIXTURES, 'bad-not-zip.npz')));
    assert.throws(() => probeNpz(noTrain), DataError);
  });
});
