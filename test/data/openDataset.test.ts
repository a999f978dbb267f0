import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { openDataset } from '../../server/src/data/openDataset';
import { probeDataSync } from '../../server/src/data/probe';
import { describeInput } from '../../server/src/experiment/modelShape';
import { DataSchema, type ExperimentConfig } from '../../server/src/experiment/schema';
import { assertDataError, collect } from './dataTestUtils';

const repo = resolve(__dirname, '../..');
const experiment = (data: Record<string, unknown>, seed = 1): Pick<ExperimentConfig, 'seed' | 'data'> => ({
  seed,
  data: DataSchema.parse(data),
});

describe('openDataset', () => {
  const cases: [string, Record<string, unknown>][] = [
    [
      'fashion-mnist',
      { source: 'fashion-mnist', path: 'samples/data/fashion-mnist', train_examples: 500, test_examples: 100 },
    ],
    [
      'idx',
      {
        source: 'idx',
        train_images: 'samples/data/fashion-mnist/t10k-images-idx3-ubyte.gz',
        train_labels: 'samples/data/fashion-mnist/t10k-labels-idx1-ubyte.gz',
        train_examples: 300,
      },
    ],
    ['npz', { source: 'npz', path: 'test/fixtures/npz/blobs.npz', classes: 3 }],
    ['criteo', { source: 'criteo', path: 'samples/data/criteo-sample.tsv', train_examples: 500, test_examples: 100 }],
    ['teacher', { source: 'teacher', train_examples: 500, test_examples: 100 }],
    ['synthetic-ctr', { source: 'synthetic-ctr', train_examples: 500, test_examples: 100 }],
  ];
  for (const [source, data] of cases) {
    it(`opens ${source} from the experiment folder, agreeing with describeInput`, async () => {
      const config = experiment(data);
      const dataset = await openDataset(config, repo);
      const described = describeInput(config.data, probeDataSync(config.data, repo).probe);
      assert.equal(dataset.task, described.task);
      if (described.shape) assert.deepEqual(dataset.inputShape, described.shape);
      assert.equal(dataset.classes, described.classes);
      if (described.ctr) assert.deepEqual(dataset.ctr, described.ctr);
      const [batch] = await collect(dataset.train, { batchSize: 50, epoch: 0, shuffleSeed: 1, dropRemainder: true });
      const width = dataset.task === 'ctr' ? dataset.ctr!.numeric : dataset.inputShape.reduce((a, b) => a * b, 1);
      assert.equal(batch!.size, 50);
      assert.equal(batch!.features.length, 50 * width);
      assert.ok(batch!.labels.every((l) => l >= 0 && l < Math.max(2, dataset.classes)));
      assert.ok(dataset.description.startsWith(source), dataset.description);
      await dataset.close();
    });
  }

  it('seeds synthetic data by the experiment seed unless teacher_seed is set', async () => {
    const labels = async (data: Record<string, unknown>, seed: number) => {
      const dataset = await openDataset(experiment({ source: 'teacher', train_examples: 200, ...data }, seed), repo);
      return Array.from((await collect(dataset.train, { batchSize: 200, epoch: 0, shuffleSeed: null }))[0]!.labels);
    };
    assert.notDeepEqual(await labels({}, 1), await labels({}, 2));
    assert.deepEqual(await labels({ teacher_seed: 9 }, 1), await labels({ teacher_seed: 9 }, 2));
  });

  it('reports a missing file as a located DataError', async () => {
    await assertDataError(openDataset(experiment({ source: 'csv', path: 'nowhere.csv', classes: 2 }), repo), {
      message: /CSV file not found: .*nowhere\.csv/,
      file: resolve(repo, 'nowhere.csv'),
      key: ['data', 'path'],
    });
  });
});
