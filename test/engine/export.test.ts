import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readBlockSparse } from '../../server/src/engine/export';
import { Rng } from '../../server/src/data/random';
import { runExperiment } from '../../server/src/runs/runExperiment';
import { main } from '../../server/src/cli';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('export of the folded model', () => {
  it('writes a TF.js LayersModel and a block-sparse model whose outputs match (max abs diff <= 1e-5)', async () => {
    const file = join(dir, 'export.prune.yaml');
    writeFileSync(
      file,
      'version: 1\nname: export\nbackend: wasm\ndata:\n  source: teacher\n  input_dim: 60\n  hidden: 64\n  train_examples: 2000\n  test_examples: 200\n  batch_size: 64\nmodel:\n  kind: mlp\n  hidden: [64, 32]\ntraining:\n  steps: 150\n  eval_every: 0\npruning:\n  method: sapp\n  sparsity: 0.75\n  block: 8\n  min_blocks: 8\n  layers: [dense_1, dense_2]\noutput:\n  dir: runs\n',
    );
    const { info, dir: runDir } = await runExperiment(file);
    assert.equal(info.status, 'completed', info.error?.message);
    const exportDir = join(runDir, 'export');

    const json = JSON.parse(readFileSync(join(exportDir, 'model', 'model.json'), 'utf8')) as {
      modelTopology: object;
      weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
    };
    const weights = readFileSync(join(exportDir, 'model', 'weights.bin'));
    const layersModel = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0]!.weights,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      }),
    );

    const sparse = readBlockSparse(exportDir);
    const dense1 = sparse.manifest.layers.find((l) => l.name === 'dense_1')!;
    // 60x64 with 8x8 blocks: an 8x8 grid with a 4-row edge, 64 blocks, 16 kept.
    assert.equal(dense1.gridRows * dense1.gridCols, 64);
    assert.equal(dense1.kept.length, 16);

    const rng = new Rng(9);
    const batch = 32;
    const x = Float32Array.from({ length: batch * 60 }, () => rng.normal());
    const expected = tf.tidy(() => (layersModel.predict(tf.tensor2d(x, [batch, 60])) as tf.Tensor).dataSync());
    const got = sparse.predict(x, batch);
    const maxDiff = Math.max(...got.map((v, i) => Math.abs(v - expected[i]!)));
    assert.ok(maxDiff <= 1e-5, `max abs diff ${maxDiff}`);

    // The folded kernel of dense_1 has exactly N - k all-zero blocks.
    const kernel = layersModel.getLayer('dense_1').getWeights()[0]!.arraySync() as number[][];
    let zeroBlocks = 0;
    for (let br = 0; br < 8; br++)
      for (let bc = 0; bc < 8; bc++) {
        let zero = true;
        for (let r = br * 8; r < Math.min(60, br * 8 + 8); r++)
          for (let c = bc * 8; c < bc * 8 + 8; c++) if (kernel[r]![c] !== 0) zero = false;
        if (zero) zeroBlocks++;
      }
    assert.equal(zeroBlocks, 64 - 16);
    layersModel.dispose();
  });

  it('sparsity-studio export folds the final checkpoint into the same files the run exported', async () => {
    const file = join(dir, 'cli-export.prune.yaml');
    writeFileSync(
      file,
      'version: 1\nname: cli-export\nbackend: wasm\ndata:\n  source: teacher\n  input_dim: 32\n  hidden: 32\n  train_examples: 1000\n  test_examples: 100\n  batch_size: 50\nmodel:\n  kind: mlp\n  hidden: [32]\ntraining:\n  steps: 70\n  eval_every: 0\npruning:\n  method: sapp\n  sparsity: 0.5\n  block: 8\n  min_blocks: 4\n  layers: [dense_1]\noutput:\n  dir: runs\n  checkpoint_every: 1000\n',
    );
    const { info, dir: runDir } = await runExperiment(file);
    assert.equal(info.status, 'completed', info.error?.message);
    const out = join(dir, 'exported');
    const io = captureIo();
    assert.equal(await main(['export', runDir, '--out', out], io), 0, io.errors.join('\n'));
    assert.match(io.lines.join('\n'), /step 70 of .* folded/);
    for (const name of ['block-sparse.json', 'block-sparse.bin', 'model/model.json', 'model/weights.bin'])
      assert.ok(
        readFileSync(join(out, name)).equals(readFileSync(join(runDir, 'export', name))),
        `${name} equals the run's own export`,
      );
  });

  it('export refuses what it cannot fold, naming the folder: usage 2, errors 1', async () => {
    const io = captureIo();
    assert.equal(await main(['export'], io), 2);
    assert.equal(await main(['export', dir, '--oops'], io), 2);
    assert.equal(await main(['export', join(dir, 'nowhere')], io), 1);
    assert.match(io.errors.join('\n'), /nowhere is not a run folder \(no run\.json\)/);
    const runDir = join(dir, 'runs', readdirSync(join(dir, 'runs'))[0]!);
    const copy = join(dir, 'no-checkpoint');
    cpSync(runDir, copy, { recursive: true });
    rmSync(join(copy, 'checkpoints'), { recursive: true });
    assert.equal(await main(['export', copy], io), 1);
    assert.match(io.errors.join('\n'), /no-checkpoint has no checkpoint to export/);
    writeFileSync(join(copy, 'config.json'), '{}');
    assert.equal(await main(['export', copy], io), 1);
    assert.match(io.errors.join('\n'), /does not match the run's config_hash/);
  });
});

function captureIo() {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (t: string) => void lines.push(t), error: (t: string) => void errors.push(t) };
}
