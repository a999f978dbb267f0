import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSyntheticCtrDataset, type SyntheticCtrDataConfig } from '../../server/src/data/syntheticCtr';
import { DataSchema } from '../../server/src/experiment/schema';
import { assertDeterministicSplit, collect, exampleKeys, logisticCheck } from './dataTestUtils';

const config = (extra: Record<string, unknown> = {}) =>
  DataSchema.parse({
    source: 'synthetic-ctr',
    train_examples: 4000,
    test_examples: 1000,
    ...extra,
  }) as SyntheticCtrDataConfig;
const fileOrder = { batchSize: 1000, epoch: 0, shuffleSeed: null };

describe('synthetic-ctr source', () => {
  it('yields the Criteo layout with ids in [0, buckets) and 0/1 labels', async () => {
    const data = openSyntheticCtrDataset(config({ hash_buckets: 500 }), 1);
    assert.equal(data.task, 'ctr');
    assert.deepEqual(data.inputShape, [39]);
    assert.deepEqual(data.ctr, { numeric: 13, categorical: 26, buckets: 500 });
    assert.equal(data.train.size, 4000);
    const batches = await collect(data.train, fileOrder);
    for (const b of batches) {
      assert.equal(b.features.length, b.size * 13);
      assert.equal(b.categorical!.length, b.size * 26);
      assert.ok(b.categorical!.every((id) => id >= 0 && id < 500));
      assert.ok(b.labels.every((l) => l === 0 || l === 1));
      assert.ok(b.features.every((x) => x >= 0 && Number.isFinite(x)));
    }
    const ids = batches.flatMap((b) => Array.from(b.categorical!));
    assert.ok(ids.includes(0), 'missing values map to bucket 0');
    assert.ok(new Set(ids).size > 400, 'values spread over the buckets');
  });

  it('calibrates the positive rate on several seeds', async () => {
    for (const [seed, rate] of [
      [1, 0.25],
      [2, 0.25],
      [3, 0.05],
      [4, 0.6],
    ] as const) {
      const data = openSyntheticCtrDataset(config({ positive_rate: rate, train_examples: 6000 }), seed);
      const labels = (await collect(data.train, { ...fileOrder, batchSize: 6000 }))[0]!.labels;
      const observed = labels.reduce((a, b) => a + b, 0) / labels.length;
      assert.ok(Math.abs(observed - rate) < 0.03, `seed ${seed}: ${observed} vs ${rate}`);
    }
  });

  it('is deterministic by seed, with distinct train and test streams, and shuffles and resumes', async () => {
    const a = exampleKeys(await collect(openSyntheticCtrDataset(config(), 5).train, fileOrder));
    const b = exampleKeys(await collect(openSyntheticCtrDataset(config(), 5).train, fileOrder));
    const c = exampleKeys(await collect(openSyntheticCtrDataset(config(), 6).train, fileOrder));
    assert.deepEqual(b, a);
    assert.notDeepEqual(c, a);
    const test = exampleKeys(await collect(openSyntheticCtrDataset(config(), 5).test, fileOrder));
    const train = new Set(a);
    assert.ok(
      test.every((k) => !train.has(k)),
      'no test example is in train',
    );
    await assertDeterministicSplit(openSyntheticCtrDataset(config({ train_examples: 500 }), 5).train, 32);
  });

  it('has learnable labels on several seeds', async () => {
    for (const seed of [1, 2, 3]) {
      const data = openSyntheticCtrDataset(config({ train_examples: 20_000, test_examples: 4000 }), seed);
      const train = await collect(data.train, { batchSize: 512, epoch: 0, shuffleSeed: 1 });
      const test = await collect(data.test, fileOrder);
      const { baseLoss, modelLoss } = logisticCheck(train, test, data.ctr!);
      assert.ok(modelLoss < baseLoss - 0.03, `seed ${seed}: test log-loss ${modelLoss} vs base rate ${baseLoss}`);
    }
  });

  it('follows the configured feature counts', async () => {
    const data = openSyntheticCtrDataset(config({ numeric_features: 0, categorical_features: 5, hash_buckets: 7 }), 1);
    assert.deepEqual(data.inputShape, [5]);
    const [batch] = await collect(data.train, { ...fileOrder, batchSize: 10 });
    assert.equal(batch!.features.length, 0);
    assert.equal(batch!.categorical!.length, 50);
    assert.ok(batch!.categorical!.every((id) => id >= 0 && id < 7));
  });
});
