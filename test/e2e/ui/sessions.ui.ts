/**
 * A pruning session driven from the editor: the Run code lens, the work-done progress, the status
 * bar, the live run panel (its summary strip, curves and block importance), Stop, the replayed
 * panel and the schedule panel; and a run that completes: the notification with its result, Open
 * Dashboard from it, and the Runs view's row.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { UiTest } from '../uiTest';
import { inNotificationCentre, openFile, waitFor, webviewWithText } from '../uiActions';

/** The step the status bar item shows (`… · 120/100000 · 12.5%`). */
async function statusStep(page: Page): Promise<number> {
  const text = (await page.locator('.statusbar-item', { hasText: 'e2e-long' }).first().textContent()) ?? '';
  const match = /(\d+)\/100000/.exec(text);
  return match ? Number(match[1]) : -1;
}

export const tests: UiTest[] = [
  {
    name: 'Run from the code lens: progress, status bar and the live run panel move; Cancel leaves a cancelled run with a checkpoint; schedule panel',
    fromVsix: true,
    timeoutMs: 240_000, // a live session, its run panel on both tabs, a replay and the schedule panel
    async run({ page, shot, workspace }) {
      await openFile(page, 'valid-long.prune.yaml');
      const lens = (text: string) => page.locator('.codelens-decoration a', { hasText: text }).first();
      await lens('Run').waitFor({ timeout: 60_000 });
      await lens('Run').click();
      // Focus leaves the editor (for the notification centre) just as the run folder is known. VS
      // Code drops a code lens refresh that is still waiting for its debounce when the editor loses
      // focus; the server's settled refresh must still bring the Open dashboard lens (below).
      const runs = join(workspace, 'runs');
      const runFolderKnown = () =>
        existsSync(runs) && readdirSync(runs).some((d) => existsSync(join(runs, d, 'run.json')));
      await waitFor('the run folder', () => Promise.resolve(runFolderKnown()), 60_000, 20);

      // The server's work-done progress, as a cancellable notification.
      const progress = page.locator('.notifications-center .monaco-list-row', { hasText: 'Pruning e2e-long' }).first();
      await inNotificationCentre(page, progress, 'the progress notification in the notification centre');
      const progressStep = async () =>
        Number(/step (\d+)\/100000/.exec((await progress.textContent()) ?? '')?.[1] ?? -1);
      await waitFor('the status bar to show a step', async () => (await statusStep(page)) > 0);
      const first = await statusStep(page);
      await waitFor('the status bar step to rise', async () => (await statusStep(page)) > first + 50);
      // Past the dense warm-up, so the run has pruned blocks worth looking at on the dashboards.
      await waitFor('sparsity above 30%', async () => {
        const text = (await page.locator('.statusbar-item', { hasText: 'e2e-long' }).first().textContent()) ?? '';
        return Number(/ (\d+(?:\.\d+)?)%/.exec(text)?.[1] ?? 0) > 30;
      });
      const statusText = (await page.locator('.statusbar-item', { hasText: 'e2e-long' }).first().textContent()) ?? '';
      if (!/wasm/.test(statusText)) throw new Error(`the status bar does not name the backend: ${statusText}`);
      await shot('session-running');

      // The run panel while it trains: one panel (no tab of the two former kinds), its strip's step
      // rises, and its heatmap follows new snapshots.
      await lens('Open dashboard').click();
      await page.locator('.tab', { hasText: 'Run · e2e-long · sapp · s7' }).first().waitFor({ timeout: 30_000 });
      if ((await page.locator('.tab', { hasText: /^(Sparsity|Block importance) ·/ }).count()) > 0)
        throw new Error('Open Dashboard opened more than the run panel');
      const dashboard = await webviewWithText(page, 'Sparsity vs schedule');
      const panelStep = async () =>
        Number(
          /(\d+)\/100000/.exec((await dashboard.locator('.fact-step .fact-value').textContent()) ?? '')?.[1] ?? -1,
        );
      await waitFor('the summary strip to show a step', async () => (await panelStep()) > 0);
      const shownFirst = await panelStep();
      await waitFor('the summary strip step to rise', async () => (await panelStep()) > shownFirst + 50);
      const strip = (await dashboard.locator('.summary-strip').textContent()) ?? '';
      if (!/running/.test(strip) || !/wasm/.test(strip) || !/ETA/.test(strip) || !/target 75% of blocks/.test(strip))
        throw new Error(`summary strip: ${strip}`);
      await shot('dashboard-curves');
      await dashboard.locator('#tab-blocks').click();
      const heatmap = dashboard.locator('canvas.heatmap');
      const heatmapStep = async () => Number((await heatmap.getAttribute('data-step')) || -1);
      await waitFor('a first heatmap', async () => (await heatmapStep()) > 0);
      const firstSnapshot = await heatmapStep();
      const firstPixels = await heatmap.screenshot();
      await waitFor('the heatmap to move to a later snapshot', async () => (await heatmapStep()) > firstSnapshot);
      // A few steps later A has moved: the redrawn heatmap differs (retried, a snapshot may repeat its colours).
      await waitFor(
        'the heatmap pixels to change',
        async () => !(await heatmap.screenshot()).equals(firstPixels),
        30_000,
      );
      const axes = (await dashboard.locator('.heatmap-frame').textContent()) ?? '';
      if (!axes.includes('rows: inputs: 64 in 8 blocks of 8')) throw new Error(`heatmap axes: ${axes}`);
      await shot('dashboard-blocks');

      // Stop from the progress notification: Cancel stops the session with a checkpoint.
      await waitFor('the progress notification to move', async () => (await progressStep()) > 0);
      const notified = await progressStep();
      await waitFor('the progress step to rise', async () => (await progressStep()) > notified);
      if (!(await lens('Stop').isVisible())) throw new Error('no Stop code lens while the session runs');
      await progress.hover();
      await progress.getByRole('button', { name: 'Cancel' }).click();
      await waitFor('a cancelled run.json', () => {
        if (!existsSync(runs)) return Promise.resolve(false);
        return Promise.resolve(
          readdirSync(runs).some((d) => {
            const file = join(runs, d, 'run.json');
            return (
              existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { status: string }).status === 'cancelled'
            );
          }),
        );
      });
      const dir = readdirSync(runs).map((d) => join(runs, d))[0]!;
      const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as {
        step: number;
        backend: { name: string };
      };
      if (!existsSync(join(dir, 'checkpoints', 'checkpoint.bin'))) throw new Error('no checkpoint after Stop');
      if (info.step < first || info.backend.name !== 'wasm')
        throw new Error(`unexpected run.json: ${JSON.stringify(info)}`);
      const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
      if (!lines.some((l) => l.includes('"type":"step"'))) throw new Error('metrics.jsonl has no steps');
      await lens('Run').waitFor({ timeout: 30_000 }); // the lens flips back once the session ended
      await shot('session-stopped');

      // The panel replays the stopped run from its folder (it reloads its record and events).
      const replay = await webviewWithText(page, 'Sparsity vs schedule');
      await replay.locator('.fact-status', { hasText: 'cancelled' }).waitFor({ timeout: 30_000 });
      await replay
        .getByText(/dense_1: 8×8 blocks/)
        .first()
        .waitFor({ timeout: 30_000 });
      await shot('dashboard-replay');

      // The schedule panel from its code lens: the chart and one table row per phase.
      await lens('Preview schedule').click();
      await page.locator('.tab', { hasText: 'Schedule ·' }).first().waitFor({ timeout: 30_000 });
      const schedule = await webviewWithText(page, 'Target sparsity');
      await schedule.locator('#chart-target').waitFor({ timeout: 30_000 });
      await waitFor('the phase table', async () => (await schedule.locator('#phases tbody tr').count()) > 3);
      await schedule
        .getByText(/e2e-long · sapp · 100000 steps/)
        .first()
        .waitFor({ timeout: 30_000 });
      await shot('schedule-preview');

      // The Runs view in the activity bar lists the stopped run with its status and method.
      await page.locator('.activitybar .action-item a[aria-label^="Sparsity Studio"]').first().click();
      const row = page.locator('.monaco-list-row', { hasText: 'e2e-long · sapp · s7' }).first();
      await row.waitFor({ timeout: 30_000 });
      const rowText = (await row.textContent()) ?? '';
      if (!/cancelled · accuracy \d+\.\d% · \d+\.\d% sparse/.test(rowText))
        throw new Error(`Runs view row: ${rowText}`);
      await shot('runs-view');
    },
  },
  {
    name: 'A run that completes says so with its result; Open Dashboard from the notification shows the same numbers',
    timeoutMs: 180_000,
    async run({ page, shot }) {
      await openFile(page, 'valid.prune.yaml');
      const lens = (text: string) => page.locator('.codelens-decoration a', { hasText: text }).first();
      await lens('Run').waitFor({ timeout: 60_000 });
      await lens('Run').click();
      const done = page
        .locator('.notifications-center .monaco-list-row', { hasText: 'e2e-valid (sapp) completed' })
        .first();
      await inNotificationCentre(page, done, 'the completion notification', 120_000);
      const text = (await done.textContent()) ?? '';
      const accuracy = /accuracy (\d+\.\d%)/.exec(text)?.[1];
      if (!accuracy || !/step 400\/400/.test(text) || !/sparsity \d+\.\d% \(target 75% of blocks\)/.test(text))
        throw new Error(`completion notification: ${text}`);
      await done.hover();
      await done.getByRole('button', { name: 'Compare with…' }).waitFor({ timeout: 10_000 });
      await shot('run-completed');
      await done.getByRole('button', { name: 'Open Dashboard' }).click();
      await page.locator('.tab', { hasText: 'Run · e2e-valid · sapp · s7' }).first().waitFor({ timeout: 30_000 });
      const dashboard = await webviewWithText(page, 'Sparsity vs schedule');
      await dashboard.locator('.fact-status', { hasText: 'completed' }).waitFor({ timeout: 30_000 });
      const shown = (await dashboard.locator('.fact-metric .fact-value').textContent()) ?? '';
      if (shown !== accuracy) throw new Error(`the strip says ${shown}, the notification ${accuracy}`);
      const support = (await dashboard.locator('.fact-support .fact-label').textContent()) ?? '';
      if (support !== 'Support precision@k') throw new Error(`support metric: ${support}`);
      await shot('dashboard-completed');
    },
  },
];
