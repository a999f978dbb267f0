/**
 * No path in a config may block: FIFOs, devices and folders where a file belongs are refused from
 * their metadata with a located error, by `check` and by `run` alike. Each command runs in a child
 * process with a deadline, so a regression fails here instead of hanging the suite.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CheckRecord } from '../../../server/src/cli/check';
import { ROOT } from '../../helpers/experimentFixtures';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-special-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const fifo = (name: string) => {
  const path = join(dir, name);
  const made = spawnSync('mkfifo', [path]);
  assert.equal(made.status, 0, `mkfifo: ${String(made.stderr)}`);
  return path;
};

/** `sparsity-studio ARGS` in a child process; rejects when it has not finished after `deadlineMs`. */
function cli(args: string[], deadlineMs = 60_000): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server/src/cli.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sparsity-studio ${args.join(' ')} did not finish: it blocked on a special file`));
    }, deadlineMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

const experiment = (name: string, data: string, model: string) => {
  const path = join(dir, `${name}.prune.yaml`);
  writeFileSync(
    path,
    `version: 1\nname: ${name}\ndata:\n${data}\nmodel:\n${model}\ntraining:\n  steps: 100\npruning:\n  method: sapp\n  sparsity: 0.5\n  block: 4\n`,
  );
  return path;
};

describe('special files named by a config', () => {
  fifo('model.json');
  fifo('train.csv');
  fifo('images.idx');
  fifo('fifo.prune.yaml');
  mkdirSync(join(dir, 'folder.json'));
  const tfjs = (path: string) => `  kind: tfjs\n  path: ${path}`;
  const teacher = '  source: teacher\n  input_dim: 16';

  it('check refuses FIFOs, devices and folders at the key that names them, and finishes', async () => {
    const files = [
      experiment('fifo-model', teacher, tfjs('./model.json')),
      experiment('fifo-csv', '  source: csv\n  path: ./train.csv\n  classes: 2', '  kind: mlp\n  hidden: [8]'),
      experiment(
        'fifo-idx',
        '  source: idx\n  train_images: ./images.idx\n  train_labels: /dev/zero',
        '  kind: mlp\n  hidden: [8]',
      ),
      experiment('folder-model', teacher, tfjs('./folder.json')),
      experiment('device-model', teacher, tfjs('/dev/zero')),
      experiment('proc-model', teacher, tfjs('/proc/self/mem')),
      join(dir, 'fifo.prune.yaml'),
      '/dev/zero',
    ];
    const r = await cli(['check', '--format', 'json', ...files]);
    assert.equal(r.code, 1, r.err);
    const records = JSON.parse(r.out) as CheckRecord[];
    const found = (file: string) =>
      records.filter((x) => x.file === file).map((x) => `${x.code} ${x.line}:${x.column} ${x.message}`);
    const [fifoModel, fifoCsv, fifoIdx, folderModel, deviceModel, procModel, fifoFile, zero] = files.map(found);
    assert.match(fifoModel!.join('\n'), /^path-unusable 8:9 .*is a FIFO/);
    assert.match(fifoCsv!.join('\n'), /^path-unusable 5:9 .*is a FIFO/);
    assert.match(fifoIdx!.join('\n'), /path-unusable 5:17 .*is a FIFO/);
    assert.match(fifoIdx!.join('\n'), /path-unusable 6:17 .*\/dev\/zero is a device/);
    assert.match(folderModel!.join('\n'), /^path-unusable 8:9 .*is a folder/);
    assert.match(deviceModel!.join('\n'), /^path-unusable 8:9 .*is a device/);
    assert.match(procModel!.join('\n'), /^path-unusable 8:9 .*cannot be read/);
    assert.match(fifoFile!.join('\n'), /^path-unusable 1:1 .*is a FIFO/);
    assert.match(zero!.join('\n'), /^path-unusable 1:1 .*is a device/);
  });

  it('run refuses the same files as check, with the same located errors, before creating a run folder', async () => {
    for (const [name, model, kind] of [
      ['run-fifo', './model.json', 'is a FIFO'],
      ['run-folder', './folder.json', 'is a folder'],
      ['run-proc', '/proc/self/mem', 'cannot be read'],
    ] as const) {
      const file = experiment(name, teacher, tfjs(model));
      const r = await cli(['run', file, '--out', join(dir, `runs-${name}`)]);
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, new RegExp(`${name}\\.prune\\.yaml:8:9: error \\[path-unusable\\] .*${kind}`));
      assert.equal(existsSync(join(dir, `runs-${name}`)), false, 'no run folder for a refused file');
    }
  });

  it('output.dir /dev/null (or under a file) is a located error for check and run, and --out under a device one line', async () => {
    const file = join(dir, 'devnull.prune.yaml');
    writeFileSync(
      file,
      `version: 1\nname: devnull\ndata:\n${teacher}\nmodel:\n  kind: mlp\n  hidden: [8]\ntraining:\n  steps: 10\npruning:\n  method: none\noutput:\n  dir: /dev/null\n`,
    );
    const under = join(dir, 'underfile.prune.yaml');
    writeFileSync(join(dir, 'plain.txt'), 'x');
    writeFileSync(under, readFileSync(file, 'utf8').replace('/dev/null', './plain.txt/runs'));
    const checked = await cli(['check', file, under]);
    assert.match(
      checked.out,
      /devnull\.prune\.yaml:14:8: error \[path-unusable\] Output folder: \/dev\/null is a device, not a folder/,
    );
    assert.match(
      checked.out,
      /underfile\.prune\.yaml:14:8: error \[path-unusable\] Output folder: .*plain\.txt is a file, so .* cannot be created under it/,
    );
    const run = await cli(['run', file]);
    assert.equal(run.code, 1);
    assert.match(run.err, /devnull\.prune\.yaml:14:8: error \[path-unusable\]/);
    const out = await cli(['run', experiment('out', teacher, '  kind: mlp\n  hidden: [8]'), '--out', '/dev/null/runs']);
    assert.equal(out.code, 1);
    assert.match(
      out.err,
      /^sparsity-studio run: cannot create run folders: \/dev\/null is a device, so \/dev\/null\/runs cannot be created under it$/m,
    );
    assert.ok(!/\n\s+at /.test(out.err), 'no stack trace');
  });

  it('check piped into `head -1` stops quietly when the reader goes away (no EPIPE stack)', () => {
    const many = join(dir, 'many.prune.yaml');
    writeFileSync(many, `version: 1\n${Array.from({ length: 5000 }, (_, i) => `k${i}: 1`).join('\n')}\n`);
    const cliPath = join(ROOT, 'server/src/cli.ts');
    const r = spawnSync('sh', ['-c', `node --import tsx ${cliPath} check ${many} 2>"${dir}/stderr.txt" | head -1`], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^.*many\.prune\.yaml:\d+:\d+: error \[/);
    assert.equal(readFileSync(join(dir, 'stderr.txt'), 'utf8'), '');
  });
});
