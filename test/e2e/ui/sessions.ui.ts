/**
 * A pruning session driven from the editor: the Run code lens, the work-done progress, the status
 * bar, the live dashboards, Stop, the replayed dashboards and the schedule panel.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import type { UiTest } from '../uiTest';
import { openFile } from '../uiActions';

/** The step the status bar item shows (`… · 120/100000 · 12.5%`). */
async function statusStep(page: Page): Promise<number> {
  const text = (await page.locator('.statusbar-item', { hasText: 'e2e-long' }).first().textContent()) ?? '';
  const match = /(\d+)\/100000/.exec(text);
  return match ? Number(match[1]) : -1;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The inner document of the visible webview whose text contains `marker`. */
async function webviewWithText(page: Page, marker: string): Promise<FrameLocator> {
  const frames = page.locator('iframe.webview.ready:visible');
  const inner = (i: number) => page.frameLocator('iframe.webview.ready:visible').nth(i).frameLocator('#active-frame');
  let found = -1;
  await waitFor(`a webview showing "${marker}"`, async () => {
    const n = await frames.count();
    for (let i = 0; i < n; i++) {
      const text = await inner(i)
        .locator('body')
        .textContent({ timeout: 2_000 })
        .catch(() => '');
      if (text?.includes(marker)) {
        found = i;
        return true;
      }
    }
    return false;
  });
  return inner(found);
}

/** The sparsity and importance panels of the open dashboard. */
async function dashboardFrames(page: Page): Promise<{ sparsity: FrameLocator; importance: FrameLocator }> {
  return {
    sparsity: await webviewWithText(page, 'Sparsity vs schedule'),
    importance: await webviewWithText(page, 'kept (outlined)'),
  };
}

export const tests: UiTest[] = [
  {
    name: 'Run from the code lens: progress, status bar and live dashboards move; Cancel leaves a cancelled run with a checkpoint; schedule panel',
    fromVsix: true,
    timeoutMs: 240_000, // a live session, two dashboards, a replay and the schedule panel
    async run({ page, shot, workspace }) {
      await openFile(page, 'valid-long.prune.yaml');
      const lens = (text: string) => page.locator('.codelens-decoration a', { hasText: text }).first();
      await lens('Run').waitFor({ timeout: 60_000 });
      await lens('Run').click();

      // The server's work-done progress, as a notification with a Cancel button (looked for in the
      // notification centre: code-server under the smoke-test driver shows no toasts).
      // The bell toggles the centre, and a click before the notification exists may not stick: retry.
      const progress = page.locator('.notifications-center .monaco-list-row', { hasText: 'Pruning e2e-long' }).first();
      await waitFor('the progress notification in the notification centre', async () => {
        if (await progress.isVisible()) return true;
        if (!(await page.locator('.notifications-center.visible').isVisible()))
          await page.locator('.statusbar-item[id="status.notifications"]').first().click();
        return progress.isVisible();
      });
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

      // The dashboards while it trains: the sparsity panel's step rises and the heatmap follows new snapshots.
      await lens('Open dashboard').click();
      await page.locator('.tab', { hasText: 'Block importance ·' }).first().waitFor({ timeout: 30_000 });
      const { sparsity, importance } = await dashboardFrames(page);
      const panelStep = async () =>
        Number(/step (\d+)\/100000/.exec((await sparsity.locator('.status').first().textContent()) ?? '')?.[1] ?? -1);
      await waitFor('the sparsity panel to show a step', async () => (await panelStep()) > 0);
      const shownFirst = await panelStep();
      await waitFor('the sparsity panel step to rise', async () => (await panelStep()) > shownFirst + 50);
      const heatmap = importance.locator('canvas.heatmap');
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
      await shot('dashboards-live');

      // Stop from the progress notification: Cancel stops the session with a checkpoint.
      await waitFor('the progress notification to move', async () => (await progressStep()) > 0);
      const notified = await progressStep();
      await waitFor('the progress step to rise', async () => (await progressStep()) > notified);
      if (!(await lens('Stop').isVisible())) throw new Error('no Stop code lens while the session runs');
      await progress.hover();
      await progress.getByRole('button', { name: 'Cancel' }).click();
      const runs = join(workspace, 'runs');
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
      if (!existsSync(join(dir, 'checkpoints', 'checkpoint.json'))) throw new Error('no checkpoint after Stop');
      if (info.step < first || info.backend.name !== 'wasm')
        throw new Error(`unexpected run.json: ${JSON.stringify(info)}`);
      const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
      if (!lines.some((l) => l.includes('"type":"step"'))) throw new Error('metrics.jsonl has no steps');
      await lens('Run').waitFor({ timeout: 30_000 }); // the lens flips back once the session ended
      await shot('session-stopped');

      // The dashboards replay the stopped run from its folder (the panels reload its events).
      const replay = await dashboardFrames(page);
      await replay.sparsity
        .getByText(/cancelled/)
        .first()
        .waitFor({ timeout: 30_000 });
      await replay.importance
        .getByText(/dense_1: 8×8 blocks/)
        .first()
        .waitFor({ timeout: 30_000 });
      await shot('dashboard-sparsity');

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
      const row = page.locator('.monaco-list-row', { hasText: /e2e-long-sapp-s7/ }).first();
      await row.waitFor({ timeout: 30_000 });
      const rowText = (await row.textContent()) ?? '';
      if (!/cancelled · sapp · /.test(rowText)) throw new Error(`Runs view row: ${rowText}`);
      await shot('runs-view');
    },
  },
];
