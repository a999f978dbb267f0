/**
 * Sessions in the language server, against baselines measured in the same run:
 * - completion latency while a session trains, against the same requests on an idle server;
 * - training throughput against the CLI running the same experiment alone: a session with no
 *   panel, with the run panel open on its curves tab, on its block-importance tab, and two run
 *   panels, one on each tab — the real bundle in headless Chromium, fed the session's events and
 *   answered its snapshot requests the way the extension host relays them — and the CLI beside a
 *   run panel open but not fed.
 *   Pages settle for 2 s before a variant starts (a page's start-up costs Chromium about
 *   1.5 CPU-seconds, which on a 2-core machine would come partly out of the next run). Rounds
 *   alternate the variants; the ratios are per round, summarised by their median and by their mean
 *   with a 95% bootstrap interval, as this machine's own speed varies by ±10-25% between runs.
 *
 * SESSIONS_BENCH_PANELS=0 leaves the dashboards out (no Chromium needed: bench/gpu-check.sh runs it
 * so on a GPU machine, bundled, beside the built CLI and server).
 *
 *   npm run build && node --import tsx bench/sessions.bench.ts [requests] [rounds]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  isFinalState,
  type RunEvent,
  type RunInfo,
  type RunSnapshotResult,
  type SessionEventsParams,
  type SessionStartResult,
  type SessionSummary,
  type WebviewToHost,
} from '@protocol';
import { LiveEventRelay } from '../client/src/dashboards/dashboardPanelMessages';
import { Rng } from '../server/src/data/random';
import { ROOT } from '../test/helpers/experimentFixtures';
import { LspTestClient } from '../test/helpers/lspClient';
import type { PanelPage } from '../test/helpers/webviewPage';
import type { RunTab } from '../webview/src/state/runPanelState';

const REQUESTS = Number(process.argv[2] ?? 200);
const ROUNDS = Number(process.argv[3] ?? 3);
const PANELS = process.env['SESSIONS_BENCH_PANELS'] !== '0';
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

/** CPU-seconds used so far by all Chromium processes (Linux /proc; clock ticks are 1/100 s). */
function chromiumCpuSeconds(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chromium')) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended between listing and reading.
    }
  }
  return ticks / 100;
}

/** What the UI took beside training: Chromium's and this process's (the relay's) share of one core. */
async function uiCpu<T>(run: () => Promise<T>): Promise<{ result: T; chromium: number; relay: number }> {
  const [c0, r0, t0] = [chromiumCpuSeconds(), process.cpuUsage(), performance.now()];
  const result = await run();
  const seconds = (performance.now() - t0) / 1000;
  const relay = process.cpuUsage(r0);
  return {
    result,
    chromium: (chromiumCpuSeconds() - c0) / seconds,
    relay: (relay.user + relay.system) / 1e6 / seconds,
  };
}

/** Mean of `xs` with a 95% percentile-bootstrap interval (seeded, so a rerun on the same data agrees). */
function meanWithInterval(xs: number[]): [mean: number, low: number, high: number] {
  const mean = (ys: number[]) => ys.reduce((a, b) => a + b, 0) / ys.length;
  const rng = new Rng(1);
  const means = Array.from({ length: 10_000 }, () => mean(xs.map(() => xs[Math.floor(rng.next() * xs.length)]!)));
  return [mean(xs), quantile(means, 0.025), quantile(means, 0.975)];
}

/** The CLI on the bench experiment, in its own process. */
function cliRun(): RunInfo {
  const cli = spawnSync(process.execPath, [join(ROOT, 'bin', 'sparsity-studio.js'), 'run', file], {
    encoding: 'utf8',
  });
  if (cli.status !== 0) throw new Error(`the CLI run failed: ${cli.stderr}`);
  const runDir = /run folder: (\S+)/.exec(cli.stdout + cli.stderr)?.[1];
  if (!runDir) throw new Error(`cannot find the CLI's run folder in its output:\n${cli.stdout}${cli.stderr}`);
  return JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
}

/**
 * What the extension host does for an open panel: the run on `ready`, live events through the
 * host's own `LiveEventRelay` (at most one message per panel every `LIVE_POST_MS`), and an answer
 * to each snapshot request. The pages push their messages here as they post them (an exposed
 * function), as a webview's postMessage reaches the host: polling every page for what it posted
 * would add the harness's own round trips to what is measured. Returns a function that delivers
 * what is due since its last call and says how many event messages it sent.
 */
async function relay(client: LspTestClient, panels: PanelPage[]) {
  let runDir = '';
  let started = false;
  const outbox: [PanelPage, RunEvent[]][] = [];
  const requests: [PanelPage, number][] = [];
  const relays = panels.map((panel) => new LiveEventRelay((events) => outbox.push([panel, events])));
  const listener = client.connection.onNotification('sparsity/session/didReportEvents', (p: SessionEventsParams) => {
    runDir = p.runDir;
    for (const r of relays) r.push(p.events);
  });
  for (const panel of panels) {
    await panel.page.exposeFunction('__toHost', (m: WebviewToHost) => {
      if (m.type === 'requestSnapshot') requests.push([panel, m.step]);
    });
    await panel.page.evaluate(() => {
      const w = globalThis as unknown as { __posted: unknown[]; __toHost(m: unknown): void };
      const record = w.__posted.push.bind(w.__posted);
      w.__posted.push = (m: unknown) => (w.__toHost(m), record(m));
    });
  }
  return async function pump(final = false): Promise<number> {
    if (runDir === '') return 0;
    if (!started) {
      started = true;
      const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
      for (const panel of panels) await panel.send({ type: 'run', info, events: [] });
    }
    if (final) {
      // Later rounds' sessions must not feed this round's relays.
      listener.dispose();
      for (const r of relays) r.flush();
    }
    const due = outbox.splice(0);
    for (const [panel, events] of due) await panel.send({ type: 'events', events });
    for (const [panel, step] of requests.splice(0)) {
      const s = await client.request<RunSnapshotResult>('sparsity/run/snapshot', { runDir, step });
      await panel.send({ type: 'snapshot', step: s.step, score: s.score, layers: s.layers, runRanges: s.runRanges });
    }
    return due.length;
  };
}

/** A session of the bench experiment; resolves with its run record once it has ended. */
async function session(client: LspTestClient, whileRunning: (ended: () => boolean) => Promise<void>): Promise<RunInfo> {
  let final: SessionSummary | undefined;
  const { session: started } = await client.request<SessionStartResult>('sparsity/session/start', { uri });
  const listener = client.connection.onNotification('sparsity/session/didChange', (s: SessionSummary) => {
    if (s.sessionId === started.sessionId && isFinalState(s.state)) final = s;
  });
  await whileRunning(() => final !== undefined);
  while (!final) await new Promise((r) => setTimeout(r, 50));
  listener.dispose();
  return JSON.parse(readFileSync(join(final.runDir, 'run.json'), 'utf8')) as RunInfo;
}

async function main(): Promise<void> {
  const client = new LspTestClient();
  client.connection.onRequest('window/workDoneProgress/create', () => null);
  await client.initialize({ window: { workDoneProgress: true } }, { trusted: true });
  await client.open(uri, readFileSync(file, 'utf8'));

  // 1. Completion on an idle server, then while a session trains (no dashboards).
  const idle = await completionLatencies(client, REQUESTS);
  let busy: number[] = [];
  await session(client, async (ended) => {
    busy = await completionLatencies(client, 100_000, ended);
  });

  // 2. Throughput in alternating rounds, so drift of the machine hits every variant alike: the CLI
  //    alone; a session whose events only go down the LSP stream; the CLI beside a run panel open
  //    but not fed; and sessions with run panels open and fed (nothing else asked of
  //    the server). Pages settle before a variant starts: a page's start-up is not what is measured.
  // Playwright is loaded only with the dashboards, so the bundle runs where there is no Chromium.
  const { launch, openPanel } = PANELS
    ? await import('../test/helpers/webviewPage')
    : { launch: null, openPanel: null };
  const browser = launch ? await launch() : null;
  const settle = () => new Promise((r) => setTimeout(r, 2000));
  const uiShare = { chromium: [] as number[], relay: [] as number[] };
  let eventMessages = 0;
  let heatmapStep: string | null = null;

  /** Run panels on the given tabs (each a page, as each is a webview), settled. */
  async function openSettled(tabs: RunTab[]): Promise<PanelPage[]> {
    const panels: PanelPage[] = [];
    for (const tab of tabs) {
      const panel = await openPanel!(browser!, 'run');
      await panel.page.click(`#tab-${tab}`);
      panels.push(panel);
    }
    await settle();
    return panels;
  }
  async function close(panels: PanelPage[]): Promise<void> {
    const panelErrors = panels.flatMap((p) => p.errors);
    if (panelErrors.length > 0) throw new Error(`dashboard errors: ${panelErrors.join('; ')}`);
    for (const panel of panels) await panel.page.close();
  }
  async function cliBesidePages(): Promise<number> {
    const panels = await openSettled(['curves']);
    const rate = stepsPerSecond(cliRun());
    await close(panels);
    return rate;
  }
  async function dashboardsLive(tabs: RunTab[]): Promise<number> {
    const panels = await openSettled(tabs);
    const pump = await relay(client, panels);
    const live = await uiCpu(() =>
      session(client, async (ended) => {
        while (!ended()) {
          eventMessages += await pump();
          // Snapshot requests are answered within this; polling the pages faster would only
          // measure this harness.
          await new Promise((r) => setTimeout(r, 125));
        }
        // The session ended: the host flushes the last events; the last snapshot's request comes
        // after them: answer it too.
        for (let i = 0; i < 4; i++, await new Promise((r) => setTimeout(r, 125))) eventMessages += await pump(true);
      }),
    );
    if (tabs.length === 2) {
      uiShare.chromium.push(live.chromium);
      uiShare.relay.push(live.relay);
      heatmapStep = await panels[1]!.page.locator('canvas.heatmap').getAttribute('data-step');
    }
    await close(panels);
    return stepsPerSecond(live.result);
  }

  const variants: { label: string; run(): Promise<number>; rates: number[] }[] = [
    { label: 'CLI alone', run: () => Promise.resolve(stepsPerSecond(cliRun())), rates: [] },
    {
      label: 'session, LSP stream only',
      run: async () => stepsPerSecond(await session(client, () => Promise.resolve())),
      rates: [],
    },
  ];
  if (PANELS)
    variants.push(
      { label: 'CLI beside a run panel, not fed', run: cliBesidePages, rates: [] },
      // Two run panels of the same run, one on each tab: what the two old panels cost, for comparison.
      { label: 'session, run panel live on both tabs', run: () => dashboardsLive(['curves', 'blocks']), rates: [] },
      { label: 'session, run panel live (curves)', run: () => dashboardsLive(['curves']), rates: [] },
      { label: 'session, run panel live (block importance)', run: () => dashboardsLive(['blocks']), rates: [] },
    );
  for (let round = 0; round < ROUNDS; round++) for (const v of variants) v.rates.push(await v.run());
  await browser?.close();
  await client.shutdown();

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
  const median = (xs: number[]) => quantile(xs, 0.5);
  console.log(
    `throughput, 1500 steps, ${ROUNDS} alternating rounds (${eventMessages} event messages posted to the dashboards; the heatmap ended at step ${heatmapStep}):`,
  );
  // Each round's variants ran back to back, so a round's ratio cancels the machine's slow drift.
  const cli = variants[0]!.rates;
  const width = Math.max(...variants.map((v) => v.label.length));
  for (const v of variants) {
    const ratios = v.rates.map((x, i) => x / cli[i]!);
    const [mean, low, high] = meanWithInterval(ratios);
    const vsCli =
      v.rates === cli
        ? ''
        : `; / CLI alone per round: median ${median(ratios).toFixed(3)}, mean ${mean.toFixed(3)} [95% ${low.toFixed(3)}, ${high.toFixed(3)}]`;
    console.log(`  ${v.label.padEnd(width)}  median ${median(v.rates).toFixed(1)} steps/s${vsCli}`);
  }
  console.log('  (target: a dashboard open / CLI alone >= 0.95)');
  for (const v of variants) console.log(`  rounds, ${v.label}: ${v.rates.map((x) => x.toFixed(1)).join(', ')}`);
  const pct = (xs: number[]) => `${(100 * median(xs)).toFixed(1)}%`;
  if (PANELS)
    console.log(
      `  beside training while two run panels (one per tab) were live (median share of one core): Chromium ${pct(uiShare.chromium)}, the relay (this process, standing in for the extension host) ${pct(uiShare.relay)}`,
    );
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
