/**
 * A sweep driven from the editor: the Run sweep code lens, its one progress notification, the
 * sweep panel filling in to four points as the runs end, and the Runs view grouping the runs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UiTest } from '../uiTest';
import { inNotificationCentre, openFile, waitFor, webviewWithText } from '../uiActions';

export const tests: UiTest[] = [
  {
    name: 'Run sweep from the code lens: one progress notification, the sweep panel ends with four points, the Runs view groups the runs',
    // Installed from the .vsix too: there each run is dist/server.js --cli (the .vsix has no dist/cli.js).
    fromVsix: true,
    timeoutMs: 240_000,
    async run({ page, shot, workspace }) {
      await openFile(page, 'valid-sweep.prune.yaml');
      const lens = (text: string) => page.locator('.codelens-decoration a', { hasText: text }).first();
      await lens('Run sweep (4 runs)').waitFor({ timeout: 60_000 });
      await lens('Run sweep (4 runs)').click();

      // One notification for the whole sweep.
      const progress = page
        .locator('.notifications-center .monaco-list-row', { hasText: 'Sweep e2e-sweep (4 runs)' })
        .first();
      await inNotificationCentre(page, progress, 'the sweep progress notification');
      await waitFor(
        'the notification to name a run and its step',
        async () => /runs done · run \d: .*step \d+\/300/.test((await progress.textContent()) ?? ''),
        60_000,
      ).catch(async (error: unknown) => {
        // Short runs may all end between two looks: then the sweep is done, which is checked below.
        if (!(await lens('Open sweep').isVisible())) throw error;
      });
      await shot('sweep-running');

      // The panel opened beside the file; it ends with four points, one per cell.
      const panel = await webviewWithText(page, 'against sparsity');
      const chart = panel.locator('#chart-sweep');
      await waitFor(
        'four points on the sweep chart',
        async () => (await chart.getAttribute('data-points').catch(() => null)) === '4',
        180_000,
      );
      await panel
        .getByText(/4 runs \(.*\) on the local executor: 4 completed/)
        .first()
        .waitFor({ timeout: 30_000 });
      if ((await panel.locator('#cells tbody tr').count()) !== 4) throw new Error('the cell table has not 4 rows');
      await lens('Open sweep').waitFor({ timeout: 30_000 }); // the lens flips back once the sweep ended
      await lens('Run sweep (4 runs)').waitFor({ timeout: 30_000 });
      await shot('sweep-panel');

      const runs = join(workspace, 'runs');
      const sweepDir = readdirSync(runs).find((d) => d.startsWith('e2e-sweep-sweep-'));
      if (!sweepDir || !existsSync(join(runs, sweepDir, 'sweep.json'))) throw new Error('no sweep folder');
      const sweep = JSON.parse(readFileSync(join(runs, sweepDir, 'sweep.json'), 'utf8')) as {
        status: string;
        runs: { status: string }[];
      };
      if (sweep.status !== 'completed' || sweep.runs.some((r) => r.status !== 'completed'))
        throw new Error(`sweep.json: ${JSON.stringify(sweep)}`);

      // The Runs view: the sweep as one row, its four runs inside.
      await page.locator('.activitybar .action-item a[aria-label^="Sparsity Studio"]').first().click();
      const row = page.locator('.monaco-list-row', { hasText: sweepDir }).first();
      await row.waitFor({ timeout: 30_000 });
      const rowText = (await row.textContent()) ?? '';
      if (!/sweep · 4\/4 completed/.test(rowText)) throw new Error(`Runs view row: ${rowText}`);
      await row.locator('.monaco-tl-twistie').click();
      await waitFor(
        'the four runs under the sweep',
        async () =>
          (await page.locator('.monaco-list-row', { hasText: /e2e-sweep · (sapp|magnitude) · s7/ }).count()) === 4,
        30_000,
      );
      await shot('runs-view-sweep');
    },
  },
];
