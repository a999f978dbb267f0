/**
 * The `fashion-mnist` source: the four standard IDX files (gzipped or not) in one folder: the one
 * `data.path` names, else the user cache, Debian's folder, or a one-time download
 * (fashionMnistStore.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataConfig } from '../experiment/schema';
import { DataError, type Dataset } from './dataset';
import {
  FASHION_MNIST_FILES,
  fashionMnistFolder,
  fashionMnistPlaces,
  findFashionMnistFile,
  type DownloadOptions,
  type FashionMnistPlaces,
} from './fashionMnistStore';
import { loadIdxPair } from './idx';
import { InMemorySplit, firstRows } from './inMemorySplit';

export type FashionMnistDataConfig = Extract<DataConfig, { source: 'fashion-mnist' }>;

/** The folder's problem, or null when it exists: the message says how to get the data. */
export function fashionMnistFolderProblem(folder: string): string | null {
  if (existsSync(folder) && statSync(folder).isDirectory()) return null;
  return `Fashion-MNIST folder not found: ${folder}. Set \`data.path\` to a folder holding the four IDX files, or remove it to use the user cache, Debian's package \`dataset-fashion-mnist\` or a one-time download.`;
}

export interface FashionMnistOpenOptions {
  /** Where to look and download when `data.path` is not set (default: this user's). */
  places?: FashionMnistPlaces;
  download?: DownloadOptions;
}

export async function openFashionMnist(
  data: FashionMnistDataConfig,
  baseDir: string,
  options: FashionMnistOpenOptions = {},
): Promise<Dataset> {
  const folder =
    data.path !== undefined
      ? resolve(baseDir, data.path)
      : await fashionMnistFolder(options.places ?? fashionMnistPlaces(), options.download);
  // Without `data.path`, problems of the found folder belong to `data.source`.
  const folderKey = data.path !== undefined ? ['data', 'path'] : ['data', 'source'];
  const folderProblem = fashionMnistFolderProblem(folder);
  if (folderProblem) throw new DataError(folderProblem, folder, undefined, folderKey);
  const find = (name: string) => {
    const path = findFashionMnistFile(folder, name);
    if (path === null) {
      throw new DataError(
        `Fashion-MNIST file ${name}.gz (or ${name}) not found in ${folder}`,
        join(folder, `${name}.gz`),
        undefined,
        folderKey,
      );
    }
    return path;
  };
  const files = FASHION_MNIST_FILES;
  const pair = (images: string, labels: string) =>
    loadIdxPair({ images: find(images), labels: find(labels), imagesKey: folderKey, labelsKey: folderKey }, 10, 255);
  const train = await pair(files.trainImages, files.trainLabels);
  const test = await pair(files.testImages, files.testLabels);
  for (const rows of [train, test]) {
    if (rows.inputShape.join('x') !== '28x28x1') {
      throw new DataError(
        `Fashion-MNIST images in ${folder} are ${rows.inputShape.join('x')}, expected 28x28`,
        folder,
        undefined,
        folderKey,
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
