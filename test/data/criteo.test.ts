import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { criteoBucket, CriteoSplit, openCriteoDataset, type CriteoDataConfig } from '../../server/src/data/criteo';
import { criteoSampleLines } from '../../server/src/data/syntheticCtr';
import { DataSchema } from '../../server/src/experiment/schema';
import {
  assertDataError,
  assertDeterministicSplit,
  collect,
  exampleKeys,
  logisticCheck,
  tempDir,
} from './dataTestUtils';

const repo = resolve(__dirname, '../..');
const SAMPLE = 'samples/data/criteo-sample.tsv';
const config = (extra: Record<string, unknown>) =>
  DataSchema.parse({ source: 'criteo', path: SAMPLE, ...extra }) as CriteoDataConfig;
const tmp = tempDir('criteo');
after(tmp.remove);
const write = (name: string, lines: string[]) => {
  const file = join(tmp.dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
};
const fileOrder = { batchSize: 4096, epoch: 0, shuffleSeed: null };

/** A well-formed line with the given label, numeric and categorical fields. */
const line = (label: string, numeric: string[], categorical: string[]) =>
  [label, ...numeric, ...categorical].join('\t');
const plain = (i: number) =>
  line(
    String(i % 2),
    Array.from({ length: 13 }, (_, k) => String(i + k)),
    Array.from({ length: 26 }, (_, k) => `v${(i * 31 + k) % 97}`),
  );

describe('criteo hashing and parsing', () => {
  it('hashes (feature, value) stably into [1, buckets), missing into bucket 0', () => {
    assert.equal(criteoBucket(3, '68fd1e64', 1000), criteoBucket(3, '68fd1e64', 1000));
    assert.equal(criteoBucket(3, '', 1000), 0);
    const seen = new Set<number>();
    for (let v = 0; v < 5000; v++) {
      const b = criteoBucket(v % 26, v.toString(16), 50);
      assert.ok(b >= 1 && b < 50);
      seen.add(b);
    }
    assert.equal(seen.size, 49, 'every non-missing bucket is used');
    let differ = 0;
    for (let v = 0; v < 100; v++) if (criteoBucket(0, `${v}`, 1000) !== criteoBucket(1, `${v}`, 1000)) differ += 1;
    assert.ok(differ > 95, 'the feature index is part of the hash');
  });

  it('transforms integers with log1p(max(x, 0)) and treats empty fields as missing', async () => {
    const numeric = ['5', '-3', '', '0', '1000', ...new Array<string>(8).fill('1')];
    const categorical = ['abc', '', ...new Array<string>(24).fill('x')];
    const file = write('one.tsv', [line('1', numeric, categorical), line('0', numeric, categorical)]);
    const data = await openCriteoDataset(config({ path: file, test_path: file, hash_buckets: 100 }), tmp.dir);
    const [batch] = await collect(data.test, fileOrder);
    assert.equal(batch!.size, 2);
    const expected = [Math.log1p(5), 0, 0, 0, Math.log1p(1000)];
    expected.forEach((v, k) => assert.ok(Math.abs(batch!.features[k]! - v) < 1e-6, `I${k + 1}`));
    assert.equal(batch!.categorical![0], criteoBucket(0, 'abc', 100));
    assert.equal(batch!.categorical![1], 0);
    assert.deepEqual(Array.from(batch!.labels), [1, 0]);
  });
});

describe('criteo source', () => {
  it('reads the bundled sample: shapes, ranges, size known after one pass, train and test disjoint', async () => {
    const data = await openCriteoDataset(config({ hash_buckets: 1000 }), repo);
    assert.equal(data.task, 'ctr');
    assert.deepEqual(data.inputShape, [39]);
    assert.deepEqual(data.ctr, { numeric: 13, categorical: 26, buckets: 1000 });
    assert.equal(data.train.size, null, 'unknown before a pass');
    const train = await collect(data.train, fileOrder);
    const test = await collect(data.test, fileOrder);
    assert.ok(data.train.size! > 17_000 && data.test.size! > 1_500);
    assert.equal(data.train.size! + data.test.size!, 20_000);
    for (const b of [...train, ...test]) {
      assert.equal(b.features.length, b.size * 13);
      assert.equal(b.categorical!.length, b.size * 26);
      assert.ok(b.labels.every((l) => l === 0 || l === 1));
      assert.ok(b.categorical!.every((id) => id >= 0 && id < 1000));
      assert.ok(b.features.every((x) => x >= 0 && Number.isFinite(x)));
    }
    const trainKeys = new Set(exampleKeys(train));
    assert.ok(
      exampleKeys(test).every((k) => !trainKeys.has(k)),
      'no test example is in train',
    );
    await data.close();
  });

  it('has learnable labels (planted logistic teacher)', async () => {
    const data = await openCriteoDataset(config({ hash_buckets: 1000 }), repo);
    const train = await collect(data.train, { batchSize: 512, epoch: 0, shuffleSeed: 3 });
    const test = await collect(data.test, fileOrder);
    const { baseLoss, modelLoss } = logisticCheck(train, test, data.ctr!);
    assert.ok(modelLoss < baseLoss - 0.03, `test log-loss ${modelLoss} vs base rate ${baseLoss}`);
  });

  it('shuffles deterministically through its buffer, resumes, and honours caps and shuffle: false', async () => {
    const data = await openCriteoDataset(config({ train_examples: 1500, test_examples: 100 }), repo, {
      shuffleBuffer: 300,
    });
    await assertDeterministicSplit(data.train, 64);
    assert.equal(data.train.size, 1500);
    const firstTest = await collect(data.test, fileOrder);
    assert.equal(firstTest[0]!.size, 100);
    const ordered = await openCriteoDataset(config({ train_examples: 50, shuffle: false }), repo);
    const a = exampleKeys(await collect(ordered.train, { batchSize: 50, epoch: 0, shuffleSeed: null }));
    const b = exampleKeys(await collect(ordered.train, { batchSize: 50, epoch: 2, shuffleSeed: 9 }));
    assert.deepEqual(b, a);
  });

  describe('a file much larger than the shuffle buffer', () => {
    let big = '';
    let longest = 0;
    before(() => {
      const lines = [...criteoSampleLines(40_000, 7)];
      longest = Math.max(...lines.map((l) => l.length + 1));
      big = write('big.tsv', lines);
    });

    it('streams it with bounded buffers and still yields every example once', async () => {
      const buffer = 1000;
      const split = new CriteoSplit({
        file: big,
        key: ['data', 'path'],
        part: 'all',
        testFraction: 0.1,
        buckets: 1000,
        shuffle: true,
        shuffleBuffer: buffer,
      });
      const batches = await collect(split, { batchSize: 256, epoch: 0, shuffleSeed: 5 });
      const keys = exampleKeys(batches);
      assert.equal(keys.length, 40_000);
      assert.equal(split.size, 40_000);
      assert.equal(split.stats.linesRead, 40_000);
      // One read chunk (64 KiB) holds at most 65536 / (shortest line) examples; lines here are > 150 bytes.
      assert.ok(
        split.stats.maxBufferedExamples <= buffer + 65_536 / 150,
        `max buffered ${split.stats.maxBufferedExamples}`,
      );
      assert.ok(split.stats.maxBufferedExamples >= buffer, 'the shuffle buffer was used');
      assert.ok(split.stats.maxCarryBytes < longest, 'only one partial line is carried between chunks');
      const inOrder = exampleKeys(await collect(split, { batchSize: 256, epoch: 0, shuffleSeed: null }));
      assert.notDeepEqual(keys, inOrder, 'shuffled');
      assert.deepEqual([...keys].sort(), [...inOrder].sort(), 'a permutation of the file');
    });

    it('locates a malformed line deep in the file during a pass', async () => {
      const lines = [...criteoSampleLines(3000, 2)];
      lines[2499] = lines[2499]!.split('\t').slice(0, 30).join('\t');
      const file = write('late-bad.tsv', lines);
      const data = await openCriteoDataset(config({ path: file }), tmp.dir);
      await assertDataError(collect(data.train, { batchSize: 100, epoch: 0, shuffleSeed: 1 }), {
        message: /late-bad\.tsv:2500: 30 tab-separated fields, expected 40/,
        file,
        line: 2500,
        key: ['data', 'path'],
      });
    });
  });

  it('close() ends a pass that is still reading, without counting it as complete', async () => {
    const data = await openCriteoDataset(config({}), repo, { shuffleBuffer: 100 });
    const iterator = data.train.batches({ batchSize: 10, epoch: 0, shuffleSeed: 1 })[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).value?.size, 10);
    await data.close();
    await assert.rejects(async () => {
      for (let r = await iterator.next(); !r.done; r = await iterator.next());
    }, /closed/);
    assert.equal(data.train.size, null);
  });

  it('reads gzipped files and CRLF line ends', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => plain(i));
    const file = join(tmp.dir, 'small.tsv.gz');
    writeFileSync(file, gzipSync(lines.join('\r\n') + '\r\n'));
    const data = await openCriteoDataset(config({ path: file, test_path: file }), tmp.dir);
    const [batch] = await collect(data.test, fileOrder);
    assert.equal(batch!.size, 30);
    assert.deepEqual(Array.from(batch!.labels.subarray(0, 4)), [0, 1, 0, 1]);
    assert.ok(Math.abs(batch!.features[13]! - Math.log1p(1)) < 1e-6, 'I1 of line 2 is 1');
  });

  const malformed = [
    [
      'a line with too few fields',
      (i: number) => plain(i).split('\t').slice(0, 39).join('\t'),
      /39 tab-separated fields, expected 40/,
    ],
    ['a label that is not 0 or 1', (i: number) => plain(i).replace(/^\d/, '2'), /label '2' is not 0 or 1/],
    [
      'a non-integer count',
      (i: number) => plain(i).replace(/\t\d+\t/, '\t3.5\t'),
      /integer feature I1 is '3\.5', not an integer/,
    ],
  ] as const;
  for (const [what, corrupt, message] of malformed) {
    it(`rejects ${what} at its exact line, at open time`, async () => {
      const lines = Array.from({ length: 20 }, (_, i) => plain(i));
      lines[6] = corrupt(6);
      const file = write(`bad-${what.length}.tsv`, lines);
      await assertDataError(openCriteoDataset(config({ path: file }), tmp.dir), {
        message,
        file,
        line: 7,
        key: ['data', 'path'],
      });
    });
  }

  it('rejects a missing file at path or test_path', async () => {
    const missing = join(tmp.dir, 'missing.tsv');
    await assertDataError(openCriteoDataset(config({ path: missing }), tmp.dir), {
      message: /Criteo file not found: .*missing\.tsv/,
      file: missing,
      key: ['data', 'path'],
    });
    await assertDataError(openCriteoDataset(config({ test_path: 'missing.tsv' }), repo), {
      message: /Criteo file not found/,
      file: join(repo, 'missing.tsv'),
      key: ['data', 'test_path'],
    });
  });
});
