import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CodeLens, CompletionItem, CompletionList } from 'vscode-languageserver-protocol';
import {
  COMMAND_IDS,
  isFinalState,
  type RunEvent,
  type RunInfo,
  type RunCompareResult,
  type RunReadResult,
  type RunSnapshotResult,
  type SchedulePreviewResult,
  type SessionEventsParams,
  type SessionListResult,
  type SessionStartResult,
  type SessionSummary,
} from '@protocol';
import { LspTestClient } from '../helpers/lspClient';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-sessions-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function experiment(
  name: string,
  extra: { steps?: number; training?: string; checkpointEvery?: number; folder?: string; threads?: number } = {},
): { path: string; uri: string; text: string } {
  const folder = join(dir, extra.folder ?? '');
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `${name}.prune.yaml`);
  const text = `version: 1
name: ${name}
seed: 3
backend: wasm
${extra.threads !== undefined ? `threads: ${extra.threads}\n` : ''}data:
  source: teacher
  input_dim: 32
  hidden: 32
  train_examples: 2000
  test_examples: 200
  batch_size: 64
model:
  kind: mlp
  hidden: [32]
training:
  steps: ${extra.steps ?? 300}
${extra.training ?? '  learning_rate: 0.002'}
  eval_every: 100
  log_every: 5
pruning:
  method: sapp
  sparsity: 0.75
  block: 8
  min_blocks: 4
  layers: [dense_1]
output:
  dir: runs
  snapshots: 4
  checkpoint_every: ${extra.checkpointEvery ?? 50}
`;
  writeFileSync(path, text);
  return { path, uri: pathToFileURL(path).href, text };
}

/**
 * A client that accepts progress tokens and records every session notification with its time, and
 * in `lensTimeline` the session changes (`sessionId state runDir-known`) and lens refreshes in the
 * order they arrived.
 */
function sessionClient() {
  const client = new LspTestClient();
  const changes: SessionSummary[] = [];
  const lensTimeline: string[] = [];
  const batches: { at: number; params: SessionEventsParams }[] = [];
  const progress: { token: string; kind: string; message?: string }[] = [];
  client.connection.onRequest('window/workDoneProgress/create', () => null);
  client.connection.onRequest('workspace/codeLens/refresh', () => {
    lensTimeline.push('refresh');
    return null;
  });
  client.connection.onNotification('sparsity/session/didChange', (s: SessionSummary) => {
    changes.push(s);
    lensTimeline.push(`${s.sessionId} ${s.state} ${s.runDir === '' ? 'no-dir' : 'dir'}`);
  });
  client.connection.onNotification('sparsity/session/didReportEvents', (p: SessionEventsParams) => {
    batches.push({ at: performance.now(), params: p });
  });
  client.connection.onNotification('$/progress', (p: { token: string; value: { kind: string; message?: string } }) => {
    progress.push({ token: p.token, kind: p.value.kind, message: p.value.message });
  });
  const ended = (sessionId: string) =>
    new Promise<SessionSummary>((resolve) => {
      const check = () => {
        const last = changes.filter((c) => c.sessionId === sessionId).at(-1);
        if (last && isFinalState(last.state)) resolve(last);
        else setTimeout(check, 20);
      };
      check();
    });
  const reached = (sessionId: string, step: number) =>
    new Promise<void>((resolve) => {
      const check = () =>
        changes.some((c) => c.sessionId === sessionId && c.state === 'running' && c.step >= step)
          ? resolve()
          : setTimeout(check, 20);
      check();
    });
  return { client, changes, lensTimeline, batches, progress, ended, reached };
}

const capabilities = { window: { workDoneProgress: true }, workspace: { codeLens: { refreshSupport: true } } };

describe('pruning sessions in the language server', () => {
  const s = sessionClient();
  before(() => s.client.initialize(capabilities, { trusted: true }));
  after(() => s.client.shutdown());

  it('runs a session in a worker: progress, throttled events equal to metrics.jsonl, snapshots, code lenses, fast completion', async () => {
    const exp = experiment('live');
    assert.deepEqual(await s.client.open(exp.uri, exp.text), []);
    const lensesBefore = await s.client.request<CodeLens[]>('textDocument/codeLens', {
      textDocument: { uri: exp.uri },
    });
    assert.deepEqual(
      lensesBefore.map((l) => l.command?.command),
      ['sparsityStudio.runExperiment', 'sparsityStudio.previewSchedule'],
    );

    const { session } = await s.client.request<SessionStartResult>('sparsity/session/start', { uri: exp.uri });
    const latencies: number[] = [];
    let lensesWhileRunning: CodeLens[] = [];
    const ended = s.ended(session.sessionId);
    let done = false;
    void ended.then(() => (done = true));
    await s.reached(session.sessionId, 20);
    lensesWhileRunning = await s.client.request<CodeLens[]>('textDocument/codeLens', {
      textDocument: { uri: exp.uri },
    });
    while (!done) {
      const t0 = performance.now();
      const completion = await s.client.request<CompletionList | CompletionItem[]>('textDocument/completion', {
        textDocument: { uri: exp.uri },
        position: { line: 17, character: 2 },
      });
      latencies.push(performance.now() - t0);
      assert.ok((Array.isArray(completion) ? completion : completion.items).length > 0);
      await new Promise((r) => setTimeout(r, 25));
    }
    const final = await ended;
    assert.equal(final.state, 'completed', final.error);
    assert.equal(final.backend, 'wasm');
    assert.ok(lensesWhileRunning.some((l) => l.command?.command === 'sparsityStudio.stopSession'));

    latencies.sort((a, b) => a - b);
    const p95 = latencies[Math.floor(latencies.length * 0.95)]!;
    console.log(
      `completion while training: ${latencies.length} requests, p50 ${latencies[Math.floor(latencies.length / 2)]!.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`,
    );
    assert.ok(latencies.length >= 5 && p95 < 100, `completion p95 ${p95} ms while training`);

    // At most 10 event batches in any one-second window, and together exactly the run's metrics.jsonl.
    const mine = s.batches.filter((b) => b.params.sessionId === session.sessionId);
    for (const b of mine) assert.ok(mine.filter((o) => o.at >= b.at && o.at < b.at + 1000).length <= 10);
    const streamed: RunEvent[] = mine.flatMap((b) => b.params.events);
    const onDisk = readFileSync(join(final.runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent);
    assert.deepEqual(
      streamed.map((e) => `${e.type}@${e.step}`),
      onDisk.filter((e) => e.type !== 'status').map((e) => `${e.type}@${e.step}`),
    );

    const kinds = s.progress.map((p) => p.kind);
    assert.equal(kinds[0], 'begin');
    assert.ok(kinds.includes('report') && kinds.at(-1) === 'end');
    assert.ok(s.progress.some((p) => /step \d+\/300/.test(p.message ?? '')));

    const read = await s.client.request<RunReadResult>('sparsity/run/read', { runDir: final.runDir });
    assert.equal(read.info.status, 'completed');
    const snapshotSteps = read.events.filter((e) => e.type === 'snapshot').map((e) => e.step);
    assert.ok(snapshotSteps.length >= 2);
    const snapshot = await s.client.request<RunSnapshotResult>('sparsity/run/snapshot', {
      runDir: final.runDir,
      step: snapshotSteps.at(-1),
    });
    const layer = snapshot.layers[0]!;
    assert.equal(layer.name, 'dense_1');
    const mask = Buffer.from(layer.mask, 'base64');
    const scores = new Float32Array(new Uint8Array(Buffer.from(layer.scores, 'base64')).buffer);
    assert.equal(mask.length, layer.gridRows * layer.gridCols);
    assert.equal(scores.length, mask.length);
    assert.equal(
      mask.reduce((a, b) => a + b, 0),
      Math.round(0.25 * mask.length),
      'kept blocks at 75%',
    );
    const partial = await s.client.request<RunReadResult>('sparsity/run/read', {
      runDir: final.runDir,
      fromLine: read.nextLine - 2,
    });
    assert.equal(partial.events.length, 2);
  });

  it('stops a session with a checkpoint, and resumes it from there', async () => {
    const exp = experiment('stopped', { steps: 200_000, checkpointEvery: 1000 });
    await s.client.open(exp.uri, exp.text);
    const { session } = await s.client.request<SessionStartResult>('sparsity/session/start', { uri: exp.uri });
    await s.reached(session.sessionId, 60);
    const stopped = await s.client.request<SessionSummary>('sparsity/session/stop', { sessionId: session.sessionId });
    assert.equal(stopped.state, 'cancelled');
    const info = JSON.parse(readFileSync(join(stopped.runDir, 'run.json'), 'utf8')) as RunInfo;
    assert.equal(info.status, 'cancelled');
    assert.ok(existsSync(join(stopped.runDir, 'checkpoints', 'checkpoint.bin')));

    const resumed = await s.client.request<SessionStartResult>('sparsity/session/resume', { runDir: stopped.runDir });
    await s.reached(resumed.session.sessionId, info.step + 20);
    const again = await s.client.request<SessionSummary>('sparsity/session/stop', {
      sessionId: resumed.session.sessionId,
    });
    assert.equal(again.state, 'cancelled');
    const after = JSON.parse(readFileSync(join(stopped.runDir, 'run.json'), 'utf8')) as RunInfo;
    assert.equal(after.resumes, 1);
    assert.ok(after.step > info.step, `continued from ${info.step} to ${after.step}`);
  });

  it('refreshes code lenses when what they show changes, also when a resumed run starts, and once more once settled', async () => {
    const exp = experiment('lensed', { steps: 200_000, checkpointEvery: 1000 });
    await s.client.open(exp.uri, exp.text);
    const refreshesSince = (from: number) => s.lensTimeline.slice(from).filter((e) => e === 'refresh').length;
    const beforeStart = s.lensTimeline.length;
    const { session } = await s.client.request<SessionStartResult>('sparsity/session/start', { uri: exp.uri });
    const id = session.sessionId;
    // Queued, then running at once (the device is free): both before the answer.
    assert.equal(refreshesSince(beforeStart), 2);
    await s.reached(id, 60);
    // The run folder known (its Open dashboard lens): a refresh right after that change, then one
    // more once nothing changed for a while (VS Code may drop a refresh that comes while the editor
    // loses focus), and none per step.
    const sinceDir = () => s.lensTimeline.slice(s.lensTimeline.indexOf(`${id} running dir`));
    assert.equal(sinceDir()[1], 'refresh', s.lensTimeline.join(', '));
    const deadline = performance.now() + 15_000;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (refreshesSince(s.lensTimeline.indexOf(`${id} running dir`)) >= 2) resolve();
        else if (performance.now() > deadline) reject(new Error(`no settled refresh: ${sinceDir().join(', ')}`));
        else setTimeout(check, 20);
      };
      check();
    });
    const settled = sinceDir();
    assert.equal(settled.filter((e) => e === 'refresh').length, 2, settled.join(', '));
    const between = settled.slice(2, settled.indexOf('refresh', 2));
    assert.ok(
      between.length >= 2 && between.every((e) => e === `${id} running dir`),
      `step changes between the two refreshes, no refresh per step: ${settled.join(', ')}`,
    );

    const stopped = await s.client.request<SessionSummary>('sparsity/session/stop', { sessionId: id });
    assert.equal(stopped.state, 'cancelled');
    assert.equal(s.lensTimeline[s.lensTimeline.indexOf(`${id} cancelled dir`) + 1], 'refresh');

    // A resumed run starts at its checkpoint's step, and its lens still flips from queued to running.
    const beforeResume = s.lensTimeline.length;
    const resumed = await s.client.request<SessionStartResult>('sparsity/session/resume', { runDir: stopped.runDir });
    assert.equal(refreshesSince(beforeResume), 2, s.lensTimeline.slice(beforeResume).join(', '));
    await s.reached(resumed.session.sessionId, stopped.step + 5);
    const again = await s.client.request<SessionSummary>('sparsity/session/stop', {
      sessionId: resumed.session.sessionId,
    });
    assert.equal(again.state, 'cancelled');
  });

  it('a resumed run keeps its Stop lens when the path has a space and characters VS Code encodes', async () => {
    const exp = experiment('spaced', { steps: 200_000, checkpointEvery: 1000, folder: 'my runs (v2)' });
    // The URI as VS Code sends it: it also encodes the parentheses, which pathToFileURL leaves alone.
    const uri = exp.uri.replaceAll('(', '%28').replaceAll(')', '%29');
    await s.client.open(uri, exp.text);
    const { session } = await s.client.request<SessionStartResult>('sparsity/session/start', { uri });
    await s.reached(session.sessionId, 20);
    const stopped = await s.client.request<SessionSummary>('sparsity/session/stop', { sessionId: session.sessionId });
    assert.equal(stopped.state, 'cancelled');

    const resumed = await s.client.request<SessionStartResult>('sparsity/session/resume', { runDir: stopped.runDir });
    await s.reached(resumed.session.sessionId, stopped.step + 5);
    const lenses = await s.client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    assert.deepEqual(
      lenses.map((l) => [l.command?.command, l.command?.arguments]),
      [
        [COMMAND_IDS.stopSession, [resumed.session.sessionId]],
        [COMMAND_IDS.previewSchedule, [uri]],
        [COMMAND_IDS.openDashboard, [stopped.runDir]],
      ],
    );
    const { sessions } = await s.client.request<SessionListResult>('sparsity/session/list', {});
    const listed = sessions.find((l) => l.sessionId === resumed.session.sessionId);
    assert.equal(listed?.state, 'running');
    assert.equal(fileURLToPath(listed.experimentUri), exp.path);

    const again = await s.client.request<SessionSummary>('sparsity/session/stop', {
      sessionId: resumed.session.sessionId,
    });
    assert.equal(again.state, 'cancelled');
  });

  it('a NaN loss fails the session with the reason and marks the run folder failed', async () => {
    const exp = experiment('diverges', {
      training: '  optimizer: momentum\n  momentum: 0.99\n  learning_rate: 10\n  weight_decay: 0',
    });
    await s.client.open(exp.uri, exp.text);
    const { session } = await s.client.request<SessionStartResult>('sparsity/session/start', { uri: exp.uri });
    const final = await s.ended(session.sessionId);
    assert.equal(final.state, 'failed');
    assert.match(final.error ?? '', /NaN|not finite|diverg/i);
    const info = JSON.parse(readFileSync(join(final.runDir, 'run.json'), 'utf8')) as RunInfo;
    assert.equal(info.status, 'failed');
  });

  it("runs the number of steps the start request asks for, not the file's", async () => {
    const exp = experiment('short');
    await s.client.open(exp.uri, exp.text);
    const { session } = await s.client.request<SessionStartResult>('sparsity/session/start', {
      uri: exp.uri,
      steps: 40,
    });
    assert.equal(session.totalSteps, 40);
    const final = await s.ended(session.sessionId);
    assert.equal(final.state, 'completed', final.error);
    const info = JSON.parse(readFileSync(join(final.runDir, 'run.json'), 'utf8')) as RunInfo;
    assert.equal(info.totalSteps, 40);
    assert.equal(info.step, 40);
  });

  it('a session with `threads: 2` starts the threaded build in its worker and reports its threads', async () => {
    const exp = experiment('threaded', { threads: 2 });
    await s.client.open(exp.uri, exp.text);
    const { session } = await s.client.request<SessionStartResult>('sparsity/session/start', {
      uri: exp.uri,
      steps: 30,
    });
    const final = await s.ended(session.sessionId);
    assert.equal(final.state, 'completed', final.error);
    const cores = availableParallelism();
    const info = JSON.parse(readFileSync(join(final.runDir, 'run.json'), 'utf8')) as RunInfo;
    assert.equal(info.backend.details['threads'], Math.min(2, cores), JSON.stringify(info.backend.details));
    assert.equal(final.threads, Math.min(2, cores));
  });

  it('compares two runs: the formatted table and the config keys that differ', async () => {
    const a = experiment('cmp-a', { steps: 40 });
    const b = experiment('cmp-b', { steps: 40 });
    const bText = b.text.replace('method: sapp', 'method: magnitude');
    writeFileSync(b.path, bText);
    await s.client.open(a.uri, a.text);
    await s.client.open(b.uri, bText);
    const started = await Promise.all(
      [a, b].map((e) => s.client.request<SessionStartResult>('sparsity/session/start', { uri: e.uri })),
    );
    const ends = await Promise.all(started.map(({ session }) => s.ended(session.sessionId)));
    assert.deepEqual(
      ends.map((e) => e.state),
      ['completed', 'completed'],
    );
    const runDirs = ends.map((e) => e.runDir);
    const result = await s.client.request<RunCompareResult>('sparsity/run/compare', { runDirs });
    const cell = (row: number, column: string) => result.rows[row]![result.columns.indexOf(column)];
    assert.equal(cell(0, 'run'), basename(runDirs[0]!));
    assert.deepEqual([cell(0, 'method'), cell(1, 'method')], ['sapp', 'magnitude']);
    assert.match(cell(0, 'accuracy')!, /^\d+\.\d\d%$/);
    assert.equal(cell(1, 'steps'), '40');
    const method = result.differences.find((d) => d.path === 'pruning.method');
    assert.deepEqual(method?.values, ['"sapp"', '"magnitude"']);
    assert.ok(!result.differences.some((d) => d.path === 'name'), 'names always differ and are not listed');
    assert.match(result.markdown, /\| run \| method \|/);
    await assert.rejects(s.client.request('sparsity/run/compare', { runDirs: runDirs.slice(0, 1) }), /two or more/);
  });

  it('refuses a file with errors, naming the line', async () => {
    const exp = experiment('broken');
    const text = exp.text.replace('sparsity: 0.75', 'sparsity: 1.5');
    writeFileSync(exp.path, text);
    await s.client.open(exp.uri, text);
    await assert.rejects(s.client.request('sparsity/session/start', { uri: exp.uri }), (error: Error) =>
      /broken\.prune\.yaml:22:\d+: .*must be below 1.*fix the errors before running/.test(error.message),
    );
  });

  it('previews the schedule the trainer runs', async () => {
    const exp = experiment('preview');
    await s.client.open(exp.uri, exp.text);
    const preview = await s.client.request<SchedulePreviewResult>('sparsity/schedule/preview', { uri: exp.uri });
    assert.equal(preview.totalSteps, 300);
    assert.equal(preview.steps.length, preview.targetSparsity.length);
    assert.equal(preview.phases[0]!.kind, 'dense');
    assert.equal(preview.phases[0]!.startStep, 0);
    assert.equal(preview.phases.at(-1)!.endStep, 300);
    assert.ok(Math.abs(preview.targetSparsity.at(-1)! - 0.75) < 1e-9);
    assert.deepEqual(
      preview.layers.find((l) => l.name === 'dense_1'),
      { name: 'dense_1', blocks: 16, keptBlocks: 4, pruned: true },
    );
  });
});

describe('sessions in an untrusted workspace', () => {
  const client = new LspTestClient();
  before(() => client.initialize(capabilities, { trusted: false }));
  after(() => client.shutdown());

  it('refuses sessions and says why, while validation keeps working', async () => {
    const exp = experiment('untrusted');
    const broken = exp.text.replace('hidden: [32]', 'hiden: [32]');
    const diagnostics = await client.open(exp.uri, broken);
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ['unknown-key'],
    );
    await assert.rejects(client.request('sparsity/session/start', { uri: exp.uri }), /untrusted workspace/);
    const lenses = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri: exp.uri } });
    assert.match(lenses[0]!.command!.title, /not trusted/);
  });
});

describe('a signal to the language server', () => {
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    it(`${signal}: running sessions stop with a checkpoint, their runs end cancelled, then the server exits ${code}`, async () => {
      const s = sessionClient();
      await s.client.initialize(capabilities, { trusted: true });
      const exp = experiment(`signal-${signal}`, { steps: 50_000, checkpointEvery: 100_000 });
      await s.client.open(exp.uri, exp.text);
      const { session } = await s.client.request<SessionStartResult>('sparsity/session/start', { uri: exp.uri });
      await s.reached(session.sessionId, 10);
      const runDir = s.changes.filter((c) => c.sessionId === session.sessionId && c.runDir).at(-1)!.runDir;
      assert.equal(await s.client.signal(signal), code);
      const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
      assert.equal(info.status, 'cancelled');
      assert.ok(info.step >= 10);
      assert.ok(existsSync(join(runDir, 'checkpoints', 'checkpoint.bin')), 'the stop wrote a checkpoint');
      assert.equal(existsSync(join(runDir, '.lock')), false);
    });
  }
});
