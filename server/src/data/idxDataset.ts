/** The `idx` source: your own images and labels in IDX files, with a test pair or a seeded split. */
import { resolve } from 'node:path';
import type { DataConfig } from '../experiment/schema';
import { DataError, type Dataset } from './dataset';
import { loadIdxPair } from './idx';
import { InMemorySplit, capIndices, firstRows, seededTestSplit } from './inMemorySplit';

export type IdxDataConfig = Extract<DataConfig, { source: 'idx' }>;

export async function openIdxDataset(data: IdxDataConfig, baseDir: string, seed: number): Promise<Dataset> {
  const file = (path: string) => resolve(baseDir, path);
  if ((data.test_images === undefined) !== (data.test_labels === undefined)) {
    const missing = data.test_images === undefined ? 'test_images' : 'test_labels';
    const given = data.test_images === undefined ? 'test_labels' : 'test_images';
    throw new DataError(`data.${given} is set but data.${missing} is not: give both or neither`, undefined, undefined, [
      'data',
      given,
    ]);
  }
  const train = await loadIdxPair(
    {
      images: file(data.train_images),
      labels: file(data.train_labels),
      imagesKey: ['data', 'train_images'],
      labelsKey: ['data', 'train_labels'],
    },
    data.classes,
    data.scale,
  );
  let trainSplit: InMemorySplit;
  let testSplit: InMemorySplit;
  let origin: string;
  if (data.test_images !== undefined && data.test_labels !== undefined) {
    const test = await loadIdxPair(
      {
        images: file(data.test_images),
        labels: file(data.test_labels),
        imagesKey: ['data', 'test_images'],
        labelsKey: ['data', 'test_labels'],
      },
      data.classes,
      data.scale,
    );
    if (test.stride !== train.stride || test.inputShape.join('x') !== train.inputShape.join('x')) {
      throw new DataError(
        `${file(data.test_images)}: test images are ${test.inputShape.join('x')} but training images are ${train.inputShape.join('x')}`,
        file(data.test_images),
        undefined,
        ['data', 'test_images'],
      );
    }
    trainSplit = new InMemorySplit(train, firstRows(train.labels.length, data.train_examples), data.shuffle);
    testSplit = new InMemorySplit(test, firstRows(test.labels.length, data.test_examples));
    origin = `test from ${data.test_images}`;
  } else {
    const split = seededTestSplit(train.labels.length, data.test_split, seed);
    trainSplit = new InMemorySplit(train, capIndices(split.train, data.train_examples), data.shuffle);
    testSplit = new InMemorySplit(train, capIndices(split.test, data.test_examples));
    origin = `test = seeded ${data.test_split} of the training file`;
  }
  return {
    task: 'classification',
    inputShape: train.inputShape,
    classes: data.classes,
    train: trainSplit,
    test: testSplit,
    description: `idx ${data.train_images}: ${trainSplit.size} train / ${testSplit.size} test examples of ${train.inputShape.join('x')} (${origin})`,
    close: () => Promise.resolve(),
  };
}
