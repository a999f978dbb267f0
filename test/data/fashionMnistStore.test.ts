/**
 * The Fashion-MNIST download against a real HTTP server on 127.0.0.1 serving the bundled subset:
 * success, checksum mismatch, a truncated transfer (resumed with a Range request), 404, no server,
 * a recompressing mirror, a server that ignores Range, and two downloads at once. The expected
 * checksums are the subset's own, computed here, since the canonical ones describe the full set.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { openDataset } from '../../server/src/data/openDataset';
import {
  checksumProblem,
  DEBIAN_FASHION_MNIST_DIR,
  DownloadError,
  downloadFashionMnist,
  FASHION_MNIST_CHECKSUMS,
  fashionMnistFolder,
  fashionMnistPlaces,
  locateFashionMnist,
  userCacheDir,
  type DownloadProgress,
  type FashionMnistPlaces,
} from '../../server/src/data/fashionMnistStore';
import { DataSchema } from '../../server/src/experiment/schema';
import {
  deadUrl,
  FILE_NAMES as NAMES,
  LocalMirror,
  serve,
  SUBSET_BYTES as TOTAL,
  SUBSET_CHECKSUMS as subsetSums,
  SUBSET_FILES as served,
} from '../helpers/fashionMnistMirror';
import { assertDataError, collect, tempDir } from './dataTestUtils';

const mirror = new LocalMirror();
const requests = mirror.requests;
let base = '';
const tmp = tempDir('download');
let cacheCount = 0;
const places = (extra: Partial<FashionMnistPlaces> = {}): FashionMnistPlaces => ({
  cacheDir: join(tmp.dir, `cache-${++cacheCount}`),
  systemDirs: [],
  mirror: `${base}/`,
  checksums: subsetSums,
  ...extra,
});
const cachedFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

before(async () => {
  await mirror.start();
  base = mirror.url.replace(/\/$/, '');
});
after(async () => {
  await mirror.stop();
  tmp.remove();
});
beforeEach(() => mirror.reset());

describe('Fashion-MNIST download', () => {
  it('downloads the four files once, with progress, and the data opens from the cache', async () => {
    const where = places();
    assert.deepEqual(locateFashionMnist(where), {
      kind: 'download',
      folder: where.cacheDir,
      url: `${base}/`,
      bytes: TOTAL,
    });
    const progress: DownloadProgress[] = [];
    assert.equal(await downloadFashionMnist(where, { onProgress: (p) => progress.push(p) }), where.cacheDir);
    assert.deepEqual(cachedFiles(where.cacheDir), NAMES.map((n) => `${n}.gz`).sort(), 'no partial or lock left');
    for (const n of NAMES) assert.deepEqual(readFileSync(join(where.cacheDir, `${n}.gz`)), served.get(n));
    assert.ok(progress.length >= NAMES.length);
    assert.ok(progress.every((p, i) => p.total === TOTAL && (i === 0 || p.received >= progress[i - 1]!.received)));
    assert.equal(progress.at(-1)!.received, TOTAL);
    assert.deepEqual(locateFashionMnist(where), { kind: 'found', folder: where.cacheDir, origin: 'cache' });

    requests.length = 0;
    const data = await openDataset(
      { seed: 1, data: DataSchema.parse({ source: 'fashion-mnist', test_examples: 100 }) },
      tmp.dir,
      { places: where },
    );
    assert.equal(requests.length, 0, 'a second use downloads nothing');
    assert.equal(data.train.size, 10_000);
    const [batch] = await collect(data.test, { batchSize: 10, epoch: 0, shuffleSeed: null });
    assert.deepEqual(Array.from(batch!.labels), [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
  });

  it('a checksum mismatch discards the file and names both hashes', async () => {
    const wrong = { ...subsetSums, 't10k-labels-idx1-ubyte': { ...subsetSums['t10k-labels-idx1-ubyte'] } };
    wrong['t10k-labels-idx1-ubyte'].gz = { bytes: 1033, sha256: '0'.repeat(64) };
    wrong['t10k-labels-idx1-ubyte'].idx = { bytes: 2008, sha256: '1'.repeat(64) };
    const where = places({ checksums: wrong });
    await assert.rejects(downloadFashionMnist(where), (error: unknown) => {
      assert.ok(error instanceof DownloadError);
      assert.equal(error.kind, 'checksum');
      assert.match(
        error.message,
        /t10k-labels-idx1-ubyte\.gz: SHA-256 [0-9a-f]{64} \(1033 bytes\) is not the expected 0{64}/,
      );
      assert.match(error.message, /the file was discarded/);
      return true;
    });
    assert.ok(!cachedFiles(where.cacheDir).some((f) => f.startsWith('t10k-labels')), 'nothing kept of the bad file');
    assert.ok(!existsSync(join(where.cacheDir, '.download.lock')));
  });

  it('a truncated transfer resumes with a Range request and ends with the right bytes', async () => {
    let cut = false;
    mirror.behaviour = (name, req, res) => {
      if (name !== 'train-images-idx3-ubyte' || cut) return false;
      cut = true;
      const body = served.get(name)!;
      res.writeHead(200, { 'Content-Length': body.length });
      res.write(body.subarray(0, 100_000), () => res.socket?.end());
      return true;
    };
    const where = places();
    await downloadFashionMnist(where);
    assert.deepEqual(
      readFileSync(join(where.cacheDir, 'train-images-idx3-ubyte.gz')),
      served.get('train-images-idx3-ubyte'),
    );
    const ranges = requests.filter((r) => r.name === 'train-images-idx3-ubyte').map((r) => r.range);
    assert.equal(ranges.length, 2);
    assert.equal(ranges[0], undefined);
    assert.match(ranges[1]!, /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(ranges[1]!)![0]) > 0, 'the second request continues after the bytes kept');
  });

  it('when every attempt breaks, the partial file stays and the next run resumes it', async () => {
    mirror.behaviour = (name, req, res) => {
      if (name !== 'train-images-idx3-ubyte') return false;
      const body = served.get(name)!;
      res.writeHead(200, { 'Content-Length': body.length });
      res.write(body.subarray(0, 50_000), () => res.socket?.end());
      return true;
    };
    const where = places();
    await assert.rejects(downloadFashionMnist(where, { attempts: 2 }), (error: unknown) => {
      assert.ok(error instanceof DownloadError && error.kind === 'truncated', String(error));
      assert.match(error.message, /train-images-idx3-ubyte\.gz (broke after|stopped at) \d+/);
      return true;
    });
    const partial = join(where.cacheDir, 'train-images-idx3-ubyte.gz.partial');
    const kept = statSync(partial).size;
    assert.ok(kept > 0 && kept < served.get('train-images-idx3-ubyte')!.length);
    assert.ok(!existsSync(join(where.cacheDir, '.download.lock')), 'the lock is released on failure');

    mirror.reset();
    requests.length = 0;
    await downloadFashionMnist(where);
    assert.deepEqual(
      requests.filter((r) => r.name === 'train-images-idx3-ubyte').map((r) => r.range),
      [`bytes=${kept}-`],
    );
    assert.deepEqual(
      readFileSync(join(where.cacheDir, 'train-images-idx3-ubyte.gz')),
      served.get('train-images-idx3-ubyte'),
    );
  });

  it('a restart that breaks before its first byte keeps what an earlier attempt saved', async () => {
    const where = places();
    mkdirSync(where.cacheDir, { recursive: true });
    const partial = join(where.cacheDir, 'train-images-idx3-ubyte.gz.partial');
    const head = served.get('train-images-idx3-ubyte')!.subarray(0, 30_000);
    writeFileSync(partial, head);
    mirror.behaviour = (name, req, res) => {
      if (name !== 'train-images-idx3-ubyte') return false;
      res.writeHead(200, { 'Content-Length': served.get(name)!.length }); // ignores Range, sends nothing
      res.flushHeaders();
      res.socket?.end();
      return true;
    };
    await assert.rejects(downloadFashionMnist(where, { attempts: 1 }), /stopped at 0 of|broke after 0 bytes/);
    assert.deepEqual(readFileSync(partial), head);
  });

  it('a server that ignores Range starts the file again from its first byte', async () => {
    const where = places();
    mkdirSync(where.cacheDir, { recursive: true });
    writeFileSync(join(where.cacheDir, 'train-labels-idx1-ubyte.gz.partial'), Buffer.alloc(300, 7)); // junk
    mirror.behaviour = (name, req, res) => {
      delete req.headers.range;
      serve(name, req, res);
      return true;
    };
    await downloadFashionMnist(where);
    assert.deepEqual(
      readFileSync(join(where.cacheDir, 'train-labels-idx1-ubyte.gz')),
      served.get('train-labels-idx1-ubyte'),
    );
  });

  it('a 404 fails with the URL, and a run is told the two other ways to provide the files', async () => {
    mirror.behaviour = (name, req, res) => {
      if (name !== 'train-labels-idx1-ubyte') return false;
      res.writeHead(404, 'Not Found').end();
      return true;
    };
    const where = places();
    await assert.rejects(downloadFashionMnist(where), (error: unknown) => {
      assert.ok(error instanceof DownloadError && error.kind === 'http');
      assert.equal(error.message, `${base}/train-labels-idx1-ubyte.gz answered HTTP 404 Not Found`);
      return true;
    });
    await assertDataError(fashionMnistFolder(where), {
      message: new RegExp(
        `Fashion-MNIST could not be downloaded: ${base}/train-labels-idx1-ubyte\\.gz answered HTTP 404 Not Found\\. Either set \`data\\.path\` to a folder holding the four Fashion-MNIST files .*, or copy them from ${base}/ into ${where.cacheDir} yourself \\(on Debian: apt-get install dataset-fashion-mnist\\)`,
      ),
      key: ['data', 'source'],
    });
  });

  it('offline (nothing listening) fails at once with the URL', async () => {
    const dead = await deadUrl();
    const where = places({ mirror: dead });
    await assertDataError(fashionMnistFolder(where), {
      message: new RegExp(`cannot reach ${dead}train-images-idx3-ubyte\\.gz: ECONNREFUSED\\. Either set`),
      key: ['data', 'source'],
    });
  });

  it('accepts a mirror that recompressed the same data (the decompressed checksum matches)', async () => {
    const recompressed = gzipSync(gunzipSync(served.get('t10k-labels-idx1-ubyte')!), { level: 1 });
    assert.notDeepEqual(recompressed, served.get('t10k-labels-idx1-ubyte'));
    mirror.behaviour = (name, req, res) => {
      if (name !== 't10k-labels-idx1-ubyte') return false;
      serve(name, req, res, recompressed);
      return true;
    };
    const where = places();
    await downloadFashionMnist(where);
    assert.deepEqual(readFileSync(join(where.cacheDir, 't10k-labels-idx1-ubyte.gz')), recompressed);
  });

  it('two downloads into one cache at once: one fetches, the other waits for it', async () => {
    const where = places();
    const [a, b] = await Promise.all([downloadFashionMnist(where), downloadFashionMnist(where)]);
    assert.equal(a, b);
    assert.equal(requests.length, NAMES.length, 'each file fetched once');
    assert.deepEqual(cachedFiles(where.cacheDir), NAMES.map((n) => `${n}.gz`).sort());
  });

  it('cancelling stops the download', async () => {
    const controller = new AbortController();
    mirror.behaviour = (name, req, res) => {
      if (name !== 'train-images-idx3-ubyte') return false;
      const body = served.get(name)!;
      res.writeHead(200, { 'Content-Length': body.length });
      res.write(body.subarray(0, 10_000), () => controller.abort(new Error('stopped by the user')));
      return true;
    };
    const where = places();
    await assert.rejects(downloadFashionMnist(where, { signal: controller.signal }), /stopped by the user/);
    assert.ok(!existsSync(join(where.cacheDir, '.download.lock')));
  });
});

describe('Fashion-MNIST places', () => {
  it('the user cache is $XDG_CACHE_HOME, else ~/.cache; the mirror can be replaced', () => {
    assert.equal(
      userCacheDir({ XDG_CACHE_HOME: '/x/cache' }, '/home/u'),
      '/x/cache/sparsity-studio/datasets/fashion-mnist',
    );
    assert.equal(userCacheDir({}, '/home/u'), '/home/u/.cache/sparsity-studio/datasets/fashion-mnist');
    const defaults = fashionMnistPlaces({});
    assert.equal(defaults.mirror, 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/');
    assert.deepEqual(defaults.systemDirs, ['/usr/share/datasets/fashion-mnist']);
    assert.equal(defaults.checksums, FASHION_MNIST_CHECKSUMS);
    assert.equal(
      fashionMnistPlaces({ SPARSITY_STUDIO_FASHION_MNIST_MIRROR: 'http://local/fm' }).mirror,
      'http://local/fm/',
    );
  });

  it('the canonical manifest is 31 MB, and Debian’s repacked files pass it by their content', async (t) => {
    const total = Object.values(FASHION_MNIST_CHECKSUMS).reduce((s, c) => s + c.gz.bytes, 0);
    assert.equal(total, 30_878_645);
    const debian = DEBIAN_FASHION_MNIST_DIR;
    if (!existsSync(debian)) return t.skip('dataset-fashion-mnist is not installed');
    for (const n of NAMES)
      assert.equal(await checksumProblem(join(debian, `${n}.gz`), FASHION_MNIST_CHECKSUMS[n]), null, n);
  });
});
