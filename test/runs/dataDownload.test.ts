/**
 * A run of a Fashion-MNIST experiment without `data.path` on a machine without the data: it
 * downloads from a mirror on 127.0.0.1 (the bundled subset), says so in its log and through
 * `onActivity`, and trains; offline, the run fails with the URL and the other two ways.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunEvent } from '@protocol';
import type { FashionMnistPlaces } from '../../server/src/data/fashionMnistStore';
import { runExperiment } from '../../server/src/runs/runExperiment';
import { deadUrl, LocalMirror, SUBSET_CHECKSUMS } from '../helpers/fashionMnistMirror';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-download-run-'));
const mirror = new LocalMirror();
before(() => mirror.start());
after(async () => {
  await mirror.stop();
  rmSync(dir, { recursive: true, force: true });
});

const experiment = (name: string) => {
  const file = join(dir, `${name}.prune.yaml`);
  writeFileSync(
    file,
    `version: 1
name: ${name}
seed: 1
backend: wasm
data:
  source: fashion-mnist
  train_examples: 512
  test_examples: 256
  batch_size: 64
model:
  kind: mlp
  hidden: [32]
training:
  steps: 20
  eval_every: 0
pruning:
  method: magnitude
  sparsity: 0.5
  block: 8
  min_blocks: 4
  layers: [dense_1]
output:
  dir: runs
`,
  );
  return file;
};
const places = (name: string, url: string): FashionMnistPlaces => ({
  cacheDir: join(dir, `cache-${name}`),
  systemDirs: [],
  mirror: url,
  checksums: SUBSET_CHECKSUMS,
});

describe('a run that has to download its Fashion-MNIST', () => {
  it('downloads once, logs it, reports progress, and trains', async () => {
    const activity: string[] = [];
    const { info, dir: runDir } = await runExperiment(experiment('fresh'), {
      fashionMnistPlaces: places('fresh', mirror.url),
      onActivity: (message) => activity.push(message),
    });
    assert.equal(info.status, 'completed', info.error?.message);
    assert.equal(mirror.requests.length, 4);
    assert.match(activity.at(-1)!, /^downloading Fashion-MNIST: 5\.2 MB of 5\.2 MB$/);
    const events = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent);
    const first = events.find((e) => e.type === 'status');
    assert.match(
      first?.type === 'status' ? (first.message ?? '') : '',
      new RegExp(`^downloading Fashion-MNIST \\(5\\.2 MB\\) from ${mirror.url} into .*cache-fresh$`),
    );
  });

  it('offline: the run fails at data.source with the URL and the two other ways', async () => {
    const url = await deadUrl();
    const { info } = await runExperiment(experiment('offline'), { fashionMnistPlaces: places('offline', url) });
    assert.equal(info.status, 'failed');
    assert.deepEqual(info.error?.key, ['data', 'source']);
    assert.match(info.error!.message, new RegExp(`cannot reach ${url}train-images-idx3-ubyte\\.gz`));
    assert.match(
      info.error!.message,
      /set `data\.path` to a folder .* or copy them from .* into .*cache-offline yourself/,
    );
  });
});
