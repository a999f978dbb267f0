/**
 * Sessions in the language server, against baselines measured in the same run:
 * - completion latency while a session trains, against the same requests on an idle server;
 * - training throughput of a session with both dashboards open — the real sparsity and importance
 *   bundles in headless Chromium, fed the session's events and answered their snapshot requests
 *   the way the extension host relays them — against the CLI running the same experiment alone.
 *
 *   npm run build && node --import tsx bench/sessions.bench.ts [requests]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  HostToWebview,
  RunInfo,
  RunSnapshotResult,
  SessionEventsParams,
  SessionStartResult,
  SessionSummary,
  WebviewToHost,
} from '@protocol';
import { LspTestClient } from '../test/helpers/lspClient';
import { launch, openPanel, type PanelPage } from '../test/helpers/webviewPage';

const REQUESTS = Number(process.argv[2] ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'sparsity-session-bench-'));
const file = join(dir, 'bench.prune.yaml');
writeFileSync(
  file,
  `version: 1
name: bench
seed: 1
backend: wasm
data:
  source: teacher
  input_dim: 128
  hidden: 256
  train_examples: 10000
  test_examples: 1000
  batch_size: 128
model:
  kind: mlp
  hidden: [256, 256]
training:
  steps: 1500
  eval_every: 250
  log_every: 1
pruning:
  method: sapp
  sparsity: 0.9
  block: 8
output:
  dir: runs
  snapshots: 20
`,
);
const uri = pathToFileURL(file).href;
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;

async function completionLatencies(client: LspTestClient, count: number, until?: () => boolean): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count && (until ? !until() : true); i++) {
    const t0 = performance.now();
    await client.request('textDocument/completion', { textDocument: { uri }, position: { line: 19, character: 2 } });
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 10));
  }
  return times;
}

const stepsPerSecond = (info: RunInfo) => info.step / info.timing.total_s;

/**
 * What the extension host does for an open panel: the run on `ready`, live events as they come,
 * and an answer to each snapshot request. Returns a function that relays what arrived since.
 */
function relay(client: LspTestClient, panels: PanelPage[]) {
  let runDir = '';
  let started = false;
  const pending: HostToWebview[] = [];
  const answered = new Map<PanelPage, number>();
  client.connection.onNotification('sparsity/session/didReportEvents', (p: SessionEventsParams) => {
    runDir = p.runDir;
    pending.push({ type: 'events', events: p.events });
  });
  return async function pump(): Promise<number> {
    if (runDir === '') return 0;
    if (!started) {
      started = true;
      const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
      for (const panel of panels) await panel.send({ type: 'run', info, events: [] });
    }
    const batch = pending.splice(0);
    for (const message of batch) for (const panel of panels) await panel.send(message);
    for (const panel of panels) {
      const requests = (await panel.posted()).filter(
        (m): m is Extract<WebviewToHost, { type: 'requestSnapshot' }> => m.type === 'requestSnapshot',
      );
      for (const request of requests.slice(answered.get(panel) ?? 0)) {
        const s = await client.request<RunSnapshotResult>('sparsity/run/snapshot', { runDir, step: request.step });
        await panel.send({ type: 'snapshot', step: s.step, score: s.score, layers: s.layers });
      }
      answered.set(panel, requests.length);
    }
    return batch.length;
  };
}

async function main(): Promise<void> {
  const client = new LspTestClient();
  client.connection.onRequest('window/workDoneProgress/create', () => null);
  let final: SessionSummary | undefined;
  let notifications = 0;
  client.connection.onNotification('sparsity/session/didChange', (s: SessionSummary) => {
    if (['completed', 'failed', 'cancelled'].includes(s.state)) final = s;
  });
  await client.initialize({ window: { workDoneProgress: true } }, { trusted: true });
  await client.open(uri, readFileSync(file, 'utf8'));
  const browser = await launch();
  const panels = [await openPanel(browser, 'sparsity'), await openPanel(browser, 'importance')];
  const pump = relay(client, panels);

  const idle = await completionLatencies(client, REQUESTS);
  const started = performance.now();
  await client.request<SessionStartResult>('sparsity/session/start', { uri });
  const relaying = (async () => {
    while (!final) {
      notifications += await pump();
      await new Promise((r) => setTimeout(r, 25));
    }
    notifications += await pump();
  })();
  const busy = await completionLatencies(client, 100_000, () => final !== undefined);
  while (!final) await new Promise((r) => setTimeout(r, 50));
  await relaying;
  const sessionSeconds = (performance.now() - started) / 1000;
  const session = JSON.parse(readFileSync(join(final.runDir, 'run.json'), 'utf8')) as RunInfo;
  const heatmapStep = await panels[1]!.page.locator('canvas.heatmap').getAttribute('data-step');
  const panelErrors = panels.flatMap((p) => p.errors);
  await browser.close();
  await client.shutdown();
  if (panelErrors.length > 0) throw new Error(`dashboard errors: ${panelErrors.join('; ')}`);

  const cli = spawnSync(process.execPath, [join(__dirname, '..', 'bin', 'sparsity-studio.js'), 'run', file], {
    encoding: 'utf8',
  });
  if (cli.status !== 0) throw new Error(`the CLI run failed: ${cli.stderr}`);
  const runDir = /run folder: (\S+)/.exec(cli.stdout + cli.stderr)?.[1];
  const cliInfo = runDir
    ? (JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo)
    : (() => {
        throw new Error(`cannot find the CLI's run folder in its output:\n${cli.stdout}${cli.stderr}`);
      })();

  console.log(
    `completion (${idle.length} idle, ${busy.length} while training), teacher MLP 128-256-256-10 @ 128, SA++ 90%:`,
  );
  console.log(
    `  idle server       p50 ${quantile(idle, 0.5).toFixed(1)} ms  p95 ${quantile(idle, 0.95).toFixed(1)} ms`,
  );
  console.log(
    `  during training   p50 ${quantile(busy, 0.5).toFixed(1)} ms  p95 ${quantile(busy, 0.95).toFixed(1)} ms`,
  );
  console.log(
    `  p95 ratio training/idle: ${(quantile(busy, 0.95) / quantile(idle, 0.95)).toFixed(2)}x (target: p95 < 100 ms)`,
  );
  console.log(
    `throughput, ${session.step} steps (${notifications} event batches relayed to both dashboards, ${sessionSeconds.toFixed(1)} s wall; the heatmap ended at step ${heatmapStep}):`,
  );
  console.log(
    `  session, dashboards open  ${stepsPerSecond(session).toFixed(1)} steps/s (median step ${session.timing.step_ms_median?.toFixed(2)} ms)`,
  );
  console.log(
    `  CLI alone                 ${stepsPerSecond(cliInfo).toFixed(1)} steps/s (median step ${cliInfo.timing.step_ms_median?.toFixed(2)} ms)`,
  );
  console.log(
    `  ratio session/CLI: ${(stepsPerSecond(session) / stepsPerSecond(cliInfo)).toFixed(3)} (target >= 0.95)`,
  );
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
