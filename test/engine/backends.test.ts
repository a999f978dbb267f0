import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../server/src/engine/backends';
import { patchWasmMatmul, unpatchWasmMatmul } from '../../server/src/engine/wasmMatmulPatch';
import { Rng } from '../../server/src/data/random';

function randomMatrix(rng: Rng, rows: number, cols: number): tf.Tensor2D {
  return tf.tensor2d(
    Float32Array.from({ length: rows * cols }, () => rng.normal()),
    [rows, cols],
  );
}

describe('backends', () => {
  it('auto picks wasm here and records why tensorflow and webgpu were skipped', async () => {
    const info = await selectBackend('auto');
    assert.equal(info.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.deepEqual(
      info.attempts.map((a) => [a.backend, a.used]),
      [
        ['tensorflow', false],
        ['webgpu', false],
        ['wasm', true],
      ],
    );
    assert.match(info.attempts[0]!.reason, /tfjs-node/);
    assert.match(info.attempts[1]!.reason, /webgpu/);
    assert.equal(info.details['transposedMatmulPatch'], true);
  });

  it('the patched wasm matmul is bit-identical to the stock kernel on the transposed operands, on random shapes and transposes', async () => {
    await selectBackend('wasm');
    const rng = new Rng(7);
    for (let trial = 0; trial < 12; trial++) {
      const [m, k, n] = [1 + rng.int(70), 1 + rng.int(70), 1 + rng.int(70)];
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        const a = randomMatrix(rng, ta ? k : m, ta ? m : k);
        const b = randomMatrix(rng, tb ? n : k, tb ? k : n);
        const before = tf.memory().numTensors;
        const patched = tf.matMul(a, b, ta, tb);
        assert.equal(tf.memory().numTensors, before + 1, 'the temporaries of the patch are released');
        unpatchWasmMatmul();
        // The stock kernel, given the same operands already transposed: the same arithmetic, bit for bit.
        const stockOnTransposed = tf.tidy(() => tf.matMul(ta ? tf.transpose(a) : a, tb ? tf.transpose(b) : b));
        // The stock kernel's own transposed path (a scalar loop): another summation order, so float tolerance.
        const stockTransposed = tf.matMul(a, b, ta, tb);
        patchWasmMatmul();
        assert.deepEqual(patched.shape, [m, n]);
        assert.deepEqual(patched.dataSync(), stockOnTransposed.dataSync(), `${m}x${k}x${n} ta=${ta} tb=${tb}`);
        const p = patched.dataSync();
        const worst = Math.max(...stockTransposed.dataSync().map((v, i) => Math.abs(v - p[i]!) / (1 + Math.abs(v))));
        assert.ok(worst < 1e-5, `${m}x${k}x${n} ta=${ta} tb=${tb}: ${worst}`);
        tf.dispose([a, b, patched, stockOnTransposed, stockTransposed]);
      }
    }
  });

  it('the patch agrees with the pure-JS cpu kernel to float tolerance', async () => {
    const rng = new Rng(3);
    const a = Array.from({ length: 40 * 30 }, () => rng.normal());
    const b = Array.from({ length: 50 * 30 }, () => rng.normal());
    await selectBackend('wasm');
    const wasm = tf.tidy(() => tf.matMul(tf.tensor2d(a, [40, 30]), tf.tensor2d(b, [50, 30]), false, true).dataSync());
    await selectBackend('cpu');
    const cpu = tf.tidy(() => tf.matMul(tf.tensor2d(a, [40, 30]), tf.tensor2d(b, [50, 30]), false, true).dataSync());
    const maxDiff = Math.max(...wasm.map((v, i) => Math.abs(v - cpu[i]!)));
    assert.ok(maxDiff < 1e-4, String(maxDiff));
  });

  it('a forced backend that cannot run is an error naming the reason', async () => {
    await assert.rejects(
      selectBackend('tensorflow'),
      /backend `tensorflow` cannot run here \(tensorflow: neither @tensorflow\/tfjs-node-gpu/,
    );
  });
});

describe('backend packages from the workspace', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'sparsity-backends-'));
  after(() => rmSync(workspace, { recursive: true, force: true }));
  const marker = join(workspace, 'loaded');
  const planted = join(workspace, 'node_modules', '@tensorflow', 'tfjs-node');
  mkdirSync(planted, { recursive: true });
  writeFileSync(
    join(planted, 'package.json'),
    JSON.stringify({ name: '@tensorflow/tfjs-node', version: tf.version_core, main: 'index.js' }),
  );
  writeFileSync(join(planted, 'index.js'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, '1');\n`);

  it('untrusted: nothing is required, and every attempt that would load one says why', async () => {
    const info = await selectBackend('auto', 'untrusted');
    assert.equal(existsSync(marker), false);
    assert.equal(info.name, 'wasm');
    assert.match(info.attempts[0]!.reason, /not trusted/);
    assert.match(info.attempts[1]!.reason, /not trusted/);
  });

  it('a tfjs-node that loads but registers no backend is skipped with the reason, and auto goes on', async () => {
    const info = await selectBackend('auto', [{ dir: workspace, origin: 'workspace' }]);
    assert.equal(existsSync(marker), true);
    assert.equal(info.name, 'wasm');
    assert.match(info.attempts[0]!.reason, /loaded but registered no `tensorflow` backend/);
    await assert.rejects(
      selectBackend('tensorflow', [{ dir: workspace, origin: 'workspace' }]),
      /registered no `tensorflow` backend/,
    );
  });
});
