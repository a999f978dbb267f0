// Sweeps from the editor through the built language server over stdio: the sweep lenses, a 4-run
// sweep started from them (CLI processes, 2 at a time) with one work-done progress and its
// notifications, the summary the sweep panel reads, and a stop that leaves the runs cancelled.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import type { CodeLens } from 'vscode-languageserver-protocol';
import type { SessionStartResult, SweepSessionSummary, SweepStartResult, SweepSummary } from '@protocol';
import { LspTestClient } from '../helpers/lspClient';
import { readRunJson, readSweepJson, until, writeSweepFile } from '../helpers/sweepFixtures';
import { CHECKPOINT_FILE } from '../../server/src/runs/runStore';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-lsp-sweeps-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('sweeps in the language server', () => {
  const client = new LspTestClient();
  const changes: SweepSessionSummary[] = [];
  const progress: { token: string; kind: string; title?: string; message?: string; percentage?: number }[] = [];
  before(async () => {
    client.connection.onRequest('window/workDoneProgress/create', () => null);
    client.connection.onRequest('workspace/codeLens/refresh', () => null);
    client.connection.onNotification('sparsity/sweep/didChange', (s: SweepSessionSummary) => {
      changes.push(s);
    });
    client.connection.onNotification(
      '$/progress',
      (p: { token: string; value: { kind: string; title?: string; message?: string; percentage?: number } }) =>
        void progress.push({ token: p.token, ...p.value }),
    );
    await client.initialize(
      { window: { workDoneProgress: true }, workspace: { codeLens: { refreshSupport: true } } },
      { trusted: true },
    );
  });
  after(() => client.shutdown());

  const lenses = async (uri: string) =>
    (await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } })).map((l) => [
      l.command?.title,
      l.command?.command,
    ]);
  const ended = (sweepId: string) =>
    until(() => changes.some((c) => c.sweepId === sweepId && c.state !== 'running'), 180_000, `${sweepId} to end`);

  it('runs a 4-run sweep from its lens: one progress, notifications, the panel summary, then the Open sweep lens', async () => {
    const path = writeSweepFile(dir, 'lens', '  pruning.sparsity: [0.5, 0.75]\n  seed: [1, 2]');
    const uri = pathToFileURL(path).href;
    assert.deepEqual(await client.open(uri, readFileSync(path, 'utf8')), []);
    assert.deepEqual(await lenses(uri), [
      ['$(play) Run sweep (4 runs)', 'sparsityStudio.runSweep'],
      ['$(graph-line) Preview schedule', 'sparsityStudio.previewSchedule'],
    ]);
    await assert.rejects(
      client.request<SessionStartResult>('sparsity/session/start', { uri }),
      /is a sweep of 4 runs: run it with Run Sweep/,
    );

    const { sweep } = await client.request<SweepStartResult>('sparsity/sweep/start', { uri, parallel: 2 });
    assert.equal(sweep.state, 'running');
    assert.equal(sweep.total, 4);
    assert.ok(existsSync(join(sweep.sweepDir, 'sweep.json')), 'the folder exists when the answer comes');
    const running = await lenses(uri);
    assert.match(String(running[0]![0]), /^\$\(debug-stop\) Stop sweep \(\d\/4\)$/);
    assert.equal(running[0]![1], 'sparsityStudio.stopSweep');
    await ended(sweep.sweepId);

    const last = changes.filter((c) => c.sweepId === sweep.sweepId).at(-1)!;
    assert.equal(last.state, 'completed', last.error);
    assert.equal(last.done, 4);
    const mine = progress.filter((p) => p.token === progress.find((q) => q.title === 'Sweep lens (4 runs)')?.token);
    assert.equal(mine[0]?.kind, 'begin', 'one progress for the whole sweep');
    assert.equal(mine.at(-1)?.kind, 'end');
    assert.ok(
      mine.some((p) => /^\d\/4 runs done · run \d: .*, step \d+\/200/.test(p.message ?? '')),
      "the current run's phase",
    );

    const summary = await client.request<SweepSummary>('sparsity/sweep/read', { sweepDir: sweep.sweepDir });
    assert.equal(summary.counts.completed, 4);
    assert.equal(summary.cells.length, 2);
    assert.equal(summary.cells[0]!.metrics.accuracy!.n, 2);
    assert.deepEqual(await lenses(uri), [
      ['$(play) Run sweep (4 runs)', 'sparsityStudio.runSweep'],
      ['$(graph-scatter) Open sweep', 'sparsityStudio.openSweep'],
      ['$(graph-line) Preview schedule', 'sparsityStudio.previewSchedule'],
    ]);
  });

  it('stopping a sweep leaves its runs cancelled with their checkpoints', async () => {
    const path = writeSweepFile(dir, 'stop', '  seed: [1, 2, 3]', { steps: 20_000, checkpointEvery: 100 });
    const uri = pathToFileURL(path).href;
    await client.open(uri, readFileSync(path, 'utf8'));
    const { sweep } = await client.request<SweepStartResult>('sparsity/sweep/start', { uri, parallel: 2 });
    const runDir = join(sweep.sweepDir, readSweepJson(sweep.sweepDir).runs[0]!.dir);
    await until(() => (readRunJson(runDir)?.step ?? 0) >= 100, 120_000, 'the first run under way');
    const stopped = await client.request<SweepSessionSummary>('sparsity/sweep/stop', { sweepId: sweep.sweepId });
    assert.equal(stopped.state, 'cancelled');
    const after = readSweepJson(sweep.sweepDir);
    assert.equal(after.status, 'cancelled');
    assert.deepEqual(
      after.runs.map((r) => r.status),
      ['cancelled', 'cancelled', 'cancelled'],
    );
    assert.equal(readRunJson(runDir)?.status, 'cancelled');
    assert.ok(existsSync(join(runDir, CHECKPOINT_FILE)));
  });

  it('refuses a sweep file with errors, naming the item', async () => {
    const path = writeSweepFile(dir, 'broken', '  pruning.sparsity: [0.5, 1.5]');
    const uri = pathToFileURL(path).href;
    const diagnostics = await client.open(uri, readFileSync(path, 'utf8'));
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ['out-of-range'],
    );
    await assert.rejects(
      client.request<SweepStartResult>('sparsity/sweep/start', { uri }),
      /broken\.prune\.yaml:\d+:\d+: `pruning\.sparsity` must be below 1; got 1\.5/,
    );
  });
});
