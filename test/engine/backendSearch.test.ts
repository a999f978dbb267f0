/**
 * The search for the user's native TensorFlow binding, with packages planted in each place it looks
 * (the setting, the workspace, the experiment's folder and its parents, the global npm root): each
 * one a real TF.js backend registered under tfjs-node's name (test/helpers/plantedBackend.ts), so
 * the engine really trains on what it found, or refuses a version that does not match its tfjs-core.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo } from '@protocol';
import { main } from '../../server/src/cli';
import { selectBackend } from '../../server/src/engine/backends';
import {
  describeBackendInfo,
  findBackendPackage,
  globalNpmRoot,
  modulePathsFromEnv,
  NATIVE_PACKAGES,
  searchFolders,
  type SearchPlaces,
} from '../../server/src/engine/backendSearch';
import { PLANTED_MARK, plantNativeBackend } from '../helpers/plantedBackend';

const root = mkdtempSync(join(tmpdir(), 'sparsity-backends-'));
let count = 0;
/** A fresh tree: a setting folder, a workspace, an experiment two levels below a project, a global root. */
function tree() {
  const base = join(root, `t${++count}`);
  const dirs = {
    setting: join(base, 'tools'),
    workspace: join(base, 'workspace'),
    project: join(base, 'project'),
    experiment: join(base, 'project', 'experiments', 'mlp'),
    global: join(base, 'prefix', 'lib', 'node_modules'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const places: SearchPlaces = {
    modulePaths: [dirs.setting],
    workspace: [dirs.workspace],
    experimentDir: dirs.experiment,
    globalRoot: dirs.global,
  };
  return { dirs, places, folders: searchFolders(places) };
}
const VERSION = tf.version_core;
const marks = globalThis as Record<string, unknown>;

after(() => rmSync(root, { recursive: true, force: true }));
afterEach(async () => {
  // Each planted copy registers `tensorflow`; the next test plants its own.
  if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
  delete marks[PLANTED_MARK];
  await selectBackend('wasm');
});

describe('backend search: where tfjs-node(-gpu) is looked for', () => {
  it('folders in order: setting, workspace, the experiment folder and each parent, the global root; each once', () => {
    const { dirs, folders } = tree();
    const at = (dir: string) => folders.findIndex((f) => f.dir === dir);
    assert.deepEqual(
      [dirs.setting, dirs.workspace, dirs.experiment, join(dirs.experiment, '..'), dirs.project, '/', dirs.global].map(
        at,
      ),
      [0, 1, 2, 3, 4, folders.length - 2, folders.length - 1],
    );
    assert.deepEqual(
      folders.map((f) => f.origin).filter((o, i, all) => all.indexOf(o) === i),
      ['setting', 'workspace', 'experiment', 'global'],
    );
    const twice = searchFolders({ workspace: [dirs.project], experimentDir: dirs.experiment, globalRoot: null });
    assert.equal(twice.filter((f) => f.dir === dirs.project).length, 1, 'a folder found twice is searched once');
    assert.equal(twice.find((f) => f.dir === dirs.project)?.origin, 'workspace');
  });

  for (const place of ['setting', 'workspace', 'experiment', 'project', 'global'] as const)
    it(`finds a copy planted in the ${place} folder`, () => {
      const { dirs, folders } = tree();
      const planted = plantNativeBackend(dirs[place], '@tensorflow/tfjs-node', VERSION);
      const search = findBackendPackage(NATIVE_PACKAGES, folders, VERSION);
      assert.deepEqual(
        search.candidates.map((c) => [c.package, c.version, c.path, c.origin, c.used]),
        [['@tensorflow/tfjs-node', VERSION, planted, place === 'project' ? 'experiment' : place, true]],
      );
      assert.equal(search.candidates[0]!.reason, `version ${VERSION} matches the bundled tfjs-core`);
    });

  it('refuses a version that does not match tfjs-core, saying which and how to install the right one, and uses the next copy', () => {
    const { dirs, folders } = tree();
    const old = plantNativeBackend(dirs.workspace, '@tensorflow/tfjs-node', '4.21.0');
    const good = plantNativeBackend(dirs.global, '@tensorflow/tfjs-node', VERSION);
    const search = findBackendPackage(NATIVE_PACKAGES, folders, VERSION);
    assert.deepEqual(
      search.candidates.map((c) => [c.path, c.used, c.reason]),
      [
        [
          old,
          false,
          `version 4.21.0 does not match the bundled @tensorflow/tfjs-core ${VERSION}: \`npm install @tensorflow/tfjs-node@${VERSION}\``,
        ],
        [good, true, `version ${VERSION} matches the bundled tfjs-core`],
      ],
    );
  });

  it('a FIFO where a package.json belongs is listed as unreadable, never opened (the search does not block)', () => {
    const { dirs, folders } = tree();
    const planted = join(dirs.workspace, 'node_modules', '@tensorflow', 'tfjs-node-gpu');
    mkdirSync(planted, { recursive: true });
    assert.equal(spawnSync('mkfifo', [join(planted, 'package.json')]).status, 0, 'mkfifo');
    const good = plantNativeBackend(dirs.global, '@tensorflow/tfjs-node', VERSION);
    const search = findBackendPackage(NATIVE_PACKAGES, folders, VERSION);
    assert.deepEqual(
      search.candidates.map((c) => [c.path, c.used]),
      [
        [planted, false],
        [good, true],
      ],
    );
    assert.match(search.candidates[0]!.reason, /package\.json cannot be read .*is a FIFO/);
  });

  it('prefers the GPU package wherever it is, and says why the others were not used', () => {
    const { dirs, folders } = tree();
    const cpu = plantNativeBackend(dirs.setting, '@tensorflow/tfjs-node', VERSION);
    const gpu = plantNativeBackend(dirs.global, '@tensorflow/tfjs-node-gpu', VERSION);
    const search = findBackendPackage(NATIVE_PACKAGES, folders, VERSION);
    assert.deepEqual(
      search.candidates.map((c) => [c.package, c.path, c.used]),
      [
        ['@tensorflow/tfjs-node-gpu', gpu, true],
        ['@tensorflow/tfjs-node', cpu, false],
      ],
    );
    assert.equal(search.candidates[1]!.reason, `@tensorflow/tfjs-node-gpu ${VERSION} in ${gpu} comes first`);
  });

  it('a folder that is itself a node_modules is searched as one; a copy reached twice is listed once', () => {
    const { dirs } = tree();
    const modules = join(dirs.setting, 'node_modules');
    const planted = plantNativeBackend(modules, '@tensorflow/tfjs-node', VERSION);
    const search = findBackendPackage(
      NATIVE_PACKAGES,
      searchFolders({ modulePaths: [modules, dirs.setting], globalRoot: null }),
      VERSION,
    );
    assert.deepEqual(
      search.candidates.map((c) => c.path),
      [planted],
    );
  });

  it('the engine loads the copy it chose and trains on it: the planted backend is a real TF.js backend', async () => {
    const { dirs, folders } = tree();
    plantNativeBackend(dirs.workspace, '@tensorflow/tfjs-node', '4.0.0');
    const chosen = plantNativeBackend(dirs.project, '@tensorflow/tfjs-node', VERSION);
    const info = await selectBackend('auto', folders);
    assert.equal(info.name, 'tensorflow');
    assert.equal(tf.getBackend(), 'tensorflow');
    assert.equal(marks[PLANTED_MARK], chosen, 'the copy in the project folder was loaded');
    assert.deepEqual(
      info.attempts.map((a) => [a.backend, a.used]),
      [['tensorflow', true]],
    );
    assert.deepEqual(
      info.search?.candidates.map((c) => [c.path, c.used]),
      [
        [join(dirs.workspace, 'node_modules', '@tensorflow', 'tfjs-node'), false],
        [chosen, true],
      ],
    );
    const product = tf.tidy(() =>
      tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])).arraySync(),
    );
    assert.deepEqual(product, [
      [19, 22],
      [43, 50],
    ]);
    const report = describeBackendInfo(info).join('\n');
    assert.match(report, /^backend auto → tensorflow$/m);
    assert.match(
      report,
      new RegExp(
        `✔ used: @tensorflow/tfjs-node ${VERSION.replace(/\./g, '\\.')} at ${chosen} \\(experiment folder\\)`,
      ),
    );
    assert.match(
      report,
      /✖ not used: @tensorflow\/tfjs-node 4\.0\.0 at .*workspace.* \(workspace\): version 4\.0\.0 does not match/,
    );
  });

  it('auto goes on to wasm when only a wrong version is installed; forcing tensorflow names it', async () => {
    const { dirs, folders } = tree();
    plantNativeBackend(dirs.experiment, '@tensorflow/tfjs-node-gpu', '3.21.0');
    const info = await selectBackend('auto', folders);
    assert.equal(info.name, 'wasm');
    assert.match(
      info.attempts[0]!.reason,
      /no installed copy is usable: @tensorflow\/tfjs-node-gpu 3\.21\.0 at .*: version 3\.21\.0 does not match/,
    );
    assert.equal(marks[PLANTED_MARK], undefined, 'nothing was loaded');
    await assert.rejects(
      selectBackend('tensorflow', folders),
      /backend `tensorflow` cannot run here \(tensorflow: no installed copy is usable/,
    );
    const none = await selectBackend('auto', searchFolders({ workspace: [dirs.workspace], globalRoot: null }));
    assert.match(
      none.attempts[0]!.reason,
      /neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node is installed in the 1 folder searched/,
    );
    assert.match(
      describeBackendInfo(none).join('\n'),
      /none installed there; for an NVIDIA GPU: `npm install @tensorflow\/tfjs-node-gpu@4\.22\.0` \(CUDA 11\.2, cuDNN 8\.1/,
    );
  });

  it('sparsity-studio backends prints the same search, with SPARSITY_STUDIO_MODULE_PATHS and the folder of FILE', async () => {
    const { dirs } = tree();
    plantNativeBackend(dirs.setting, '@tensorflow/tfjs-node', '4.1.0');
    const experimentFile = join(dirs.experiment, 'x.prune.yaml');
    const lines: string[] = [];
    const io = { out: (l: string) => void lines.push(l), error: (l: string) => void lines.push(l) };
    const saved = process.env['SPARSITY_STUDIO_MODULE_PATHS'];
    process.env['SPARSITY_STUDIO_MODULE_PATHS'] = dirs.setting;
    try {
      assert.equal(await main(['backends', experimentFile], io), 0);
      const text = lines.join('\n');
      assert.match(text, /^backend auto → wasm$/m);
      assert.match(text, new RegExp(`^  setting +${dirs.setting}$`, 'm'));
      assert.match(text, new RegExp(`^  experiment folder +${dirs.experiment}$`, 'm'));
      assert.match(
        text,
        /✖ not used: @tensorflow\/tfjs-node 4\.1\.0 at .* \(setting\): version 4\.1\.0 does not match/,
      );
      lines.length = 0;
      assert.equal(await main(['backends', '--format=json'], io), 0);
      const info = JSON.parse(lines.join('\n')) as BackendInfo;
      assert.deepEqual(
        info.search?.candidates.map((c) => [c.version, c.origin]),
        [['4.1.0', 'setting']],
      );
    } finally {
      if (saved === undefined) delete process.env['SPARSITY_STUDIO_MODULE_PATHS'];
      else process.env['SPARSITY_STUDIO_MODULE_PATHS'] = saved;
    }
  });

  it('the global npm root: npm_config_prefix, else ~/.npmrc prefix, else the node on PATH', () => {
    const base = join(root, 'global');
    const home = join(base, 'home');
    const nodeHome = join(base, 'opt', 'node', 'bin');
    const binOnPath = join(base, 'bin');
    for (const d of [home, nodeHome, binOnPath]) mkdirSync(d, { recursive: true });
    writeFileSync(join(nodeHome, 'node'), '');
    symlinkSync(join(nodeHome, 'node'), join(binOnPath, 'node'));
    assert.equal(globalNpmRoot({ npm_config_prefix: '/p', PATH: binOnPath }, home), '/p/lib/node_modules');
    assert.equal(globalNpmRoot({ PATH: binOnPath }, home), join(base, 'opt', 'node', 'lib', 'node_modules'));
    writeFileSync(join(home, '.npmrc'), 'fund=false\nprefix = ~/.npm-global\n');
    assert.equal(globalNpmRoot({ PATH: binOnPath }, home), join(home, '.npm-global', 'lib', 'node_modules'));
    assert.equal(globalNpmRoot({ PATH: '' }, join(base, 'nohome')), null);
    assert.deepEqual(modulePathsFromEnv({ SPARSITY_STUDIO_MODULE_PATHS: `/a:/b c::` }), ['/a', '/b c']);
  });
});
