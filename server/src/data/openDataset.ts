/**
 * The one entry point from an experiment to its data: picks the source module for
 * `config.data.source`. Paths are relative to `baseDir` (the experiment file's folder); synthetic
 * sources are seeded by `config.seed` (or their own `teacher_seed`); bad data throws a located
 * `DataError`. Fashion-MNIST without `data.path` may be downloaded first (`options.download`
 * reports progress and cancels).
 */
import type { ExperimentConfig } from '../experiment/schema';
import { openCriteoDataset } from './criteo';
import { openCsvDataset } from './csv';
import type { Dataset } from './dataset';
import { openFashionMnist, type FashionMnistOpenOptions } from './fashionMnist';
import { openIdxDataset } from './idxDataset';
import { openNpzDataset } from './npz';
import { openSyntheticCtrDataset } from './syntheticCtr';
import { openTeacherDataset } from './teacher';

/** How a source that may fetch its files (Fashion-MNIST without `data.path`) does it. */
export type OpenDatasetOptions = FashionMnistOpenOptions;

export function openDataset(
  config: Pick<ExperimentConfig, 'seed' | 'data'>,
  baseDir: string,
  options: OpenDatasetOptions = {},
): Promise<Dataset> {
  const { data, seed } = config;
  switch (data.source) {
    case 'fashion-mnist':
      return openFashionMnist(data, baseDir, options);
    case 'idx':
      return openIdxDataset(data, baseDir, seed);
    case 'csv':
      return openCsvDataset(data, baseDir, seed);
    case 'npz':
      return openNpzDataset(data, baseDir, seed);
    case 'criteo':
      return openCriteoDataset(data, baseDir);
    case 'teacher':
      return Promise.resolve(openTeacherDataset(data, seed));
    case 'synthetic-ctr':
      return Promise.resolve(openSyntheticCtrDataset(data, seed));
  }
}
