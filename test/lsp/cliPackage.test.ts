/**
 * The CLI installs like other npm CLIs: the packed tarball (chosen by .npmignore, since vsce
 * refuses a package.json `files` beside a .vscodeignore) holds the bundle, its wasm binaries and
 * the schema, and `npm install -g` of it into a scratch global prefix gives a `sparsity-studio`
 * that checks and trains from any folder. The package has no runtime dependencies
 * (everything is bundled), so the install needs no network. Uses the dist/ the lsp layer built.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT, sampleFiles } from '../helpers/experimentFixtures';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-cli-package-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// npm under `npm test` exports npm_* settings (a prefix among them) that must not reach these npms.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const npm = (args: string[], cwd = ROOT) => spawnSync('npm', args, { cwd, env, encoding: 'utf8' });

describe('the npm package of the CLI', () => {
  let tarball = '';

  it('packs the CLI bundle, its wasm binaries and the schema, and no sources', () => {
    assert.ok(existsSync(join(ROOT, 'dist', 'cli.js')), 'dist/cli.js is built (npm run build)');
    const packed = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir]);
    assert.equal(packed.status, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(dir, info!.filename);
    const files = info!.files.map((f) => f.path).sort();
    for (const needed of [
      'bin/sparsity-studio.js',
      'dist/cli.js',
      'dist/wasm/tfjs-backend-wasm.wasm',
      'dist/wasm/tfjs-backend-wasm-simd.wasm',
      'dist/wasm/tfjs-backend-wasm-threaded-simd.wasm',
      'schemas/prune-experiment.schema.json',
      'package.json',
      'README.md',
      'LICENSE',
    ])
      assert.ok(files.includes(needed), needed);
    assert.deepEqual(
      files.filter(
        (f) => /^(server|client|webview|protocol|test|bench|scripts|samples)\//.test(f) || f.endsWith('.map'),
      ),
      [],
    );
  });

  it('npm install -g of the tarball works offline from a scratch prefix, and the command runs anywhere', () => {
    assert.ok(tarball, 'packed by the previous test');
    const prefix = join(dir, 'prefix');
    const installed = npm(['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], dir);
    assert.equal(installed.status, 0, installed.stderr);
    const bin = join(prefix, 'bin', 'sparsity-studio');
    const cli = (args: string[]) => spawnSync(bin, args, { cwd: dir, env, encoding: 'utf8' });
    const version = cli(['--version']);
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), (JSON.parse(npm(['pkg', 'get', 'version']).stdout) as string).trim());
    const check = cli(['check', ...sampleFiles()]);
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const file = join(dir, 'tiny.prune.yaml');
    writeFileSync(
      file,
      'version: 1\nname: tiny\nbackend: wasm\ndata:\n  source: teacher\n  input_dim: 16\n  hidden: 16\n  train_examples: 256\n  test_examples: 64\n  batch_size: 32\nmodel:\n  kind: mlp\n  hidden: [16]\ntraining:\n  steps: 100\npruning:\n  method: magnitude\n  sparsity: 0.5\n  block: 4\n  min_blocks: 4\n  layers: [dense_1]\noutput:\n  dir: runs\n',
    );
    const run = cli(['run', file, '--steps=6']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^completed: 6 steps on wasm/m);
  });
});
