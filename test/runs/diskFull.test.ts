/**
 * A full disk: the run ends `failed` with the reason in run.json (the space each run folder sets
 * aside is freed to write it), leaves no temporary file, and resumes once there is room again.
 * Injected ENOSPC at each kind of write everywhere; a real full tmpfs where this machine lets the
 * test mount one (root).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RunInfo } from '@protocol';
import { onDurableWrite, type DurableWrite } from '../../server/src/data/durableFile';
import { resumeRun, runExperiment } from '../../server/src/runs/runExperiment';
import { writeTinySappRun } from '../helpers/experimentFixtures';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-full-'));
const mounted: string[] = [];
after(() => {
  for (const point of mounted) spawnSync('umount', [point]);
  rmSync(dir, { recursive: true, force: true });
});

const experiment = (steps: number, logEvery: number) => {
  const file = join(dir, `full-${steps}.prune.yaml`);
  writeTinySappRun(file, { name: 'full', seed: 1, steps, logEvery, checkpointEvery: 10, snapshots: 4 });
  return file;
};

/** Every file under `folder`, relative. */
function files(folder: string, prefix = ''): string[] {
  return readdirSync(join(folder, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(folder, join(prefix, e.name)) : [join(prefix, e.name)],
  );
}

function assertFailedCleanly(runDir: string, why: RegExp) {
  const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
  assert.equal(info.status, 'failed');
  assert.match(info.error?.message ?? '', why);
  const left = files(runDir);
  assert.deepEqual(
    left.filter((f) => f.includes('.tmp-') || f === '.reserve' || f === '.lock'),
    [],
    'no temporary file, reserve or lock',
  );
}

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('a full disk', () => {
  // The disk "fills up" at the n-th write of a kind and stays full until the reserve is freed.
  for (const [what, matches] of [
    ['a checkpoint', (w: DurableWrite) => w.op === 'write' && w.path.includes('checkpoint.bin')],
    [
      'a checkpoint, half written (its temporary file exists)',
      (w: DurableWrite) => w.op === 'rename' && w.path.endsWith('checkpoint.bin'),
    ],
    ['a snapshot', (w: DurableWrite) => w.op === 'write' && w.path.includes('snapshots/')],
    ['an event line', (w: DurableWrite) => w.op === 'append'],
    ['run.json', (w: DurableWrite) => w.op === 'write' && w.path.includes('run.json')],
  ] as const) {
    const out = join(dir, `case-${what.replace(/\W+/g, '-')}`);
    it(`while writing ${what}: the run ends failed with the reason, no temporary file, and resumes later`, async () => {
      // Full from the second such write on, until something is deleted: only the reserve can be.
      let full = false;
      let seen = 0;
      let runDir = '';
      const reserved = () => readdirSync(runDir).includes('.reserve');
      let hadReserve = false;
      onDurableWrite((w) => {
        if (!runDir || w.path.includes('.staging-')) return;
        if (full && (!hadReserve || reserved())) throw enospc();
        if (matches(w) && ++seen === 2) {
          full = true;
          hadReserve = reserved();
          throw enospc();
        }
      });
      try {
        const result = await runExperiment(experiment(60, 1), {
          outputDir: out,
          onStart: (_info, d) => (runDir = d),
        });
        assert.equal(result.info.status, 'failed');
      } finally {
        onDurableWrite(null);
      }
      assert.ok(hadReserve, 'the run folder had space set aside');
      assertFailedCleanly(runDir, /ENOSPC/);
      const resumed = await resumeRun(runDir);
      assert.equal(resumed.info.status, 'completed', resumed.info.error?.message);
    });
  }

  it('a real full tmpfs (where this machine lets the test mount one)', async (t) => {
    const point = join(dir, 'tmpfs');
    mkdirSync(point);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', point], { encoding: 'utf8' });
    if (mount.status !== 0) {
      t.skip(`cannot mount a tmpfs here (${(mount.stderr || mount.error?.message || '').trim()})`);
      return;
    }
    mounted.push(point);
    const result = await runExperiment(experiment(20_000, 1), { outputDir: join(point, 'runs') });
    assert.equal(result.info.status, 'failed');
    assertFailedCleanly(result.dir, /ENOSPC|no space/);
  });
});
