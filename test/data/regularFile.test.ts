/**
 * Reads of files named by configs and run folders: regular files only (refused from metadata, so
 * a FIFO never blocks), and never more than the reader's bound (a sparse 8 GiB file is refused
 * from its size, without reading it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  FileReadError,
  pathKind,
  readRegularFile,
  readRegularFileAsync,
  readRegularHead,
} from '../../server/src/data/regularFile';
import { selectBackend } from '../../server/src/engine/backends';
import { loadTfjsModel } from '../../server/src/engine/tfjsModel';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-regular-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const fifo = join(dir, 'fifo');
assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
const huge = join(dir, 'huge.bin');
writeFileSync(huge, '');
truncateSync(huge, 8 * 2 ** 30); // sparse: no disk used
const small = join(dir, 'small.txt');
writeFileSync(small, 'hello\n');

const refused = (kind: string, text: RegExp) => (error: unknown) =>
  error instanceof FileReadError && error.kind === kind && text.test(error.message);

describe('regular files, bounded reads', () => {
  it('tells what is at a path from its metadata', () => {
    assert.equal(pathKind(small), 'file');
    assert.equal(pathKind(dir), 'folder');
    assert.equal(pathKind(fifo), 'fifo');
    assert.equal(pathKind('/dev/zero'), 'device');
    assert.equal(pathKind(join(dir, 'absent')), 'missing');
  });

  it('refuses FIFOs, devices, folders and missing files, sync and async, naming the file and what it is', async () => {
    for (const read of [(p: string) => readRegularFile(p, 1024), (p: string) => readRegularHead(p, 16)]) {
      assert.throws(() => read(fifo), refused('fifo', /fifo is a FIFO \(named pipe\), not a regular file/));
      assert.throws(() => read('/dev/zero'), refused('device', /\/dev\/zero is a device/));
      assert.throws(() => read(dir), refused('folder', /is a folder/));
      assert.throws(() => read(join(dir, 'absent')), refused('missing', /absent does not exist/));
    }
    await assert.rejects(readRegularFileAsync(fifo, 1024), refused('fifo', /is a FIFO/));
    await assert.rejects(readRegularFileAsync('/dev/urandom', 1024), refused('device', /is a device/));
  });

  it('refuses a file larger than the bound from its size, and reads procfs files (size 0) up to the bound', async () => {
    assert.throws(
      () => readRegularFile(huge, 2 ** 20),
      refused('file', /huge\.bin is 8\.0 GiB, more than the 1\.0 MiB/),
    );
    await assert.rejects(readRegularFileAsync(huge, 2 ** 20), refused('file', /8\.0 GiB/));
    assert.equal(readRegularFile(small, 6).toString(), 'hello\n');
    assert.throws(() => readRegularFile(small, 5), refused('file', /more than the 5 bytes/));
    assert.match(readRegularFile('/proc/self/status', 2 ** 20).toString(), /^Name:/);
    assert.throws(() => readRegularFile('/proc/self/status', 8), refused('file', /more than the 8 bytes/));
    assert.throws(() => readRegularFile('/proc/self/mem', 2 ** 20), refused('file', /cannot be read/));
  });

  it('a TF.js model reads its weight files only up to what the manifest declares', async () => {
    await selectBackend('cpu');
    const model = (paths: string[]) => {
      const file = join(dir, 'model.json');
      writeFileSync(
        file,
        JSON.stringify({
          modelTopology: {
            class_name: 'Sequential',
            config: {
              name: 'm',
              layers: [
                { class_name: 'Dense', config: { name: 'd', units: 2, batch_input_shape: [null, 3], use_bias: true } },
              ],
            },
          },
          weightsManifest: [
            {
              paths,
              weights: [
                { name: 'd/kernel', shape: [3, 2], dtype: 'float32' },
                { name: 'd/bias', shape: [2], dtype: 'float32' },
              ],
            },
          ],
        }),
      );
      return file;
    };
    writeFileSync(join(dir, 'exact.bin'), Buffer.alloc(32));
    assert.equal(loadTfjsModel(model(['exact.bin'])).weights.size, 2);
    writeFileSync(join(dir, 'short.bin'), Buffer.alloc(20));
    assert.throws(() => loadTfjsModel(model(['short.bin'])), /hold 20 bytes, the manifest declares 32 bytes/);
    assert.throws(
      () => loadTfjsModel(model(['huge.bin'])),
      /weight file huge\.bin: .*8\.0 GiB, more than the 32 bytes/,
    );
    assert.throws(() => loadTfjsModel(model(['fifo'])), /weight file fifo: .*is a FIFO/);
    assert.throws(() => loadTfjsModel(model(['/dev/zero'])), /weight file \/dev\/zero: .*is a device/);
  });
});
