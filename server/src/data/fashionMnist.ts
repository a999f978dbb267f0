/**
 * The `fashion-mnist` source: the four standard IDX files (gzipped or not) in one folder, by
 * default where Debian's `dataset-fashion-mnist` package puts them.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataConfig } from '../experiment/schema';
import { DataError, type Dataset } from './dataset';
import { loadIdxPair } from './idx';
import { InMemorySplit, firstRows } from './inMemorySplit';

export type FashionMnistDataConfig = Extract<DataConfig, { source: 'fashion-mnist' }>;

export const FASHION_MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

const PATH_KEY = ['data', 'path'];

/** The folder's problem, or null when it exists: the message says how to get the data. */
export function fashionMnistFolderProblem(folder: string): string | null {
  if (existsSync(folder) && statSync(folder).isDirectory()) return null;
  return `Fashion-MNIST folder not found: ${folder}. Install the Debian package \`dataset-fashion-mnist\` (apt-get install dataset-fashion-mnist) or set \`data.path\` to a folder holding the four IDX files (samples/data/fashion-mnist has a 10k subset).`;
}

/** The file for a standard name in `folder`: `name.gz` first, then `name`; null when neither exists. */
export function findFashionMnistFile(folder: string, name: string): string | null {
  for (const candidate of [`${name}.gz`, name]) {
    const path = join(folder, candidate);
    if (existsSync(path)) return path;
  }
  return null;
}

export async function openFashionMnist(data: FashionMnistDataConfig, baseDir: string): Promise<Dataset> {
  const folder = resolve(baseDir, data.path);
  const folderProblem = fashionMnistFolderProblem(folder);
  if (folderProblem) throw new DataError(folderProblem, folder, undefined, PATH_KEY);
  const find = (name: string) => {
    const path = findFashionMnistFile(folder, name);
    if (path === null) {
      throw new DataError(
        `Fashion-MNIST file ${name}.gz (or ${name}) not found in ${folder}`,
        join(folder, `${name}.gz`),
        undefined,
        PATH_KEY,
      );
    }
    return path;
  };
  const files = FASHION_MNIST_FILES;
  const pair = (images: string, labels: string) =>
    loadIdxPair({ images: find(images), labels: find(labels), imagesKey: PATH_KEY, labelsKey: PATH_KEY }, 10, 255);
  const train = await pair(files.trainImages, files.trainLabels);
  const test = await pair(files.testImages, files.testLabels);
  for (const rows of [train, test]) {
    if (rows.inputShape.join('x') !== '28x28x1') {
      throw new DataError(
        `Fashion-MNIST images in ${folder} are ${rows.inputShape.join('x')}, expected 28x28`,
        folder,
        undefined,
        PATH_KEY,
      );
    }
  }
  const trainSplit = new InMemorySplit(train, firstRows(train.labels.length, data.train_examples), data.shuffle);
  const testSplit = new InMemorySplit(test, firstRows(test.labels.length, data.test_examples));
  return {
    task: 'classification',
    inputShape: [28, 28, 1],
    classes: 10,
    train: trainSplit,
    test: testSplit,
    description: `fashion-mnist ${folder}: ${trainSplit.size} train / ${testSplit.size} test examples`,
    close: () => Promise.resolve(),
  };
}
