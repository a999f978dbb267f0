// Turns run folders into the messages the host sends the dashboards, for the webview tests:
//   node --import tsx scripts/webviewFixtures.ts RUN_DIR [OUT_JSON]
//     a JSON array: one `run` message (step events decimated, three snapshot events) and the
//     three matching `snapshot` messages (scores and masks base64, as on the wire);
//   node --import tsx scripts/webviewFixtures.ts --compare OUT_JSON RUN_DIR RUN_DIR...
//     one `compare` message (each run's step events decimated, no snapshots);
//   node --import tsx scripts/webviewFixtures.ts --sweep OUT_JSON SWEEP_DIR
//     one `sweep` message (the sweep's summary, its paths relative to the sweep folder).
import type { HostToWebview, RunEvent, RunInfo, SnapshotEvent } from '@protocol';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { comparison } from '../server/src/runs/runComparison';
import { loadRun, readSnapshot, snapshotLayerBase64, SnapshotIndex } from '../server/src/runs/runReader';
import { loadSweep, summarizeSweep } from '../server/src/runs/sweepSummary';
import { decimate } from '../webview/src/decimate';

/** Run events with the step events decimated, as the fixtures keep them. */
function readEvents(runDir: string): RunEvent[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as RunEvent);
}

/** A run record without the absolute paths of the machine that made it. */
function portable(info: RunInfo): RunInfo {
  const inside = relative(process.cwd(), info.experimentFile);
  // Other absolute paths (the folders the backend search looked in) relative to the checkout too.
  const rest = JSON.parse(JSON.stringify(info).replaceAll(JSON.stringify(process.cwd()).slice(1, -1), '.')) as RunInfo;
  return { ...rest, experimentFile: inside.startsWith('..') ? basename(inside) : inside };
}

export function compareMessage(runDirs: string[]): HostToWebview {
  const table = comparison(runDirs.map((d) => loadRun(d)));
  return {
    type: 'compare',
    table,
    runs: runDirs.map((runDir) => {
      const events = readEvents(runDir).filter((e) => e.type !== 'snapshot');
      const steps = new Set(
        decimate(
          events.filter((e) => e.type === 'step'),
          (e) => e.loss,
        ),
      );
      const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
      return {
        runDir: basename(runDir),
        info: portable(info),
        events: events.filter((e) => e.type !== 'step' || steps.has(e)),
      };
    }),
  };
}

/** The summary of a sweep folder as the host sends it, without the machine's absolute paths. */
export function sweepMessage(sweepDir: string): HostToWebview {
  const summary = summarizeSweep(loadSweep(sweepDir));
  const inside = (path: string) => relative(summary.sweepDir, path);
  return {
    type: 'sweep',
    summary: {
      ...summary,
      sweepDir: basename(summary.sweepDir),
      runs: summary.runs.map((r) => ({ ...r, runDir: inside(r.runDir), log: inside(r.log) })),
    },
  };
}

export function runMessages(runDir: string, snapshotCount = 3): HostToWebview[] {
  const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
  const events = readEvents(runDir);

  const byStep = new Map<number, SnapshotEvent>();
  for (const e of events) if (e.type === 'snapshot') byStep.set(e.step, e);
  const all = [...byStep.values()].sort((a, b) => a.step - b.step);
  const picks = new Set<SnapshotEvent>();
  for (let k = 0; k < Math.min(snapshotCount, all.length); k++)
    picks.add(all[Math.round((k * (all.length - 1)) / Math.max(1, snapshotCount - 1))]!);
  const snapshots = [...picks];

  const steps = decimate(
    events.filter((e) => e.type === 'step'),
    (e) => e.loss,
  );
  const kept = new Set<RunEvent>([...steps, ...snapshots]);
  const runEvents = events.filter((e) => (e.type !== 'step' && e.type !== 'snapshot') || kept.has(e));
  const messages: HostToWebview[] = [{ type: 'run', info: portable(info), events: runEvents }];
  // The ranges over every snapshot of the finished run, as the host answers once the run has ended.
  const runRanges = new SnapshotIndex().runRanges(runDir);
  for (const s of snapshots) {
    messages.push({
      type: 'snapshot',
      step: s.step,
      score: s.score,
      layers: readSnapshot(runDir, s).map(snapshotLayerBase64),
      runRanges,
    });
  }
  return messages;
}

if (/webviewFixtures\.ts$/.test(process.argv[1] ?? '') && process.argv[2] === '--sweep') {
  const [out, sweepDir] = process.argv.slice(3);
  if (!out || !sweepDir) {
    console.error('usage: node --import tsx scripts/webviewFixtures.ts --sweep OUT_JSON SWEEP_DIR');
    process.exit(2);
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(sweepMessage(sweepDir)) + '\n');
  console.log(`${out}: the summary of ${basename(sweepDir)}`);
} else if (/webviewFixtures\.ts$/.test(process.argv[1] ?? '') && process.argv[2] === '--compare') {
  const [out, ...runDirs] = process.argv.slice(3);
  if (!out || runDirs.length < 2) {
    console.error('usage: node --import tsx scripts/webviewFixtures.ts --compare OUT_JSON RUN_DIR RUN_DIR...');
    process.exit(2);
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(compareMessage(runDirs)) + '\n');
  console.log(`${out}: a comparison of ${runDirs.length} runs`);
} else if (/webviewFixtures\.ts$/.test(process.argv[1] ?? '')) {
  const [runDir, out = 'test/fixtures/webview/run.json'] = process.argv.slice(2);
  if (!runDir) {
    console.error('usage: node --import tsx scripts/webviewFixtures.ts RUN_DIR [OUT_JSON]');
    process.exit(2);
  }
  const messages = runMessages(runDir);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(messages) + '\n');
  console.log(`${out}: ${messages.length} messages`);
}
