/** A pruning session driven from the editor: the Run code lens, the work-done progress, the status bar, Stop. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { UiTest } from '../uiTest';
import { openFile } from '../uiActions';

/** The step the status bar item shows (`… · 120/40000 · 12.5%`). */
async function statusStep(page: Page): Promise<number> {
  const text = (await page.locator('.statusbar-item', { hasText: 'e2e-long' }).first().textContent()) ?? '';
  const match = /(\d+)\/40000/.exec(text);
  return match ? Number(match[1]) : -1;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const tests: UiTest[] = [
  {
    name: 'Run from the code lens: progress and status bar move, Stop leaves a cancelled run with a checkpoint',
    fromVsix: true,
    async run({ page, shot, workspace }) {
      await openFile(page, 'valid-long.prune.yaml');
      const lens = (text: string) => page.locator('.codelens-decoration a', { hasText: text }).first();
      await lens('Run').waitFor({ timeout: 60_000 });
      await lens('Run').click();

      // The server's work-done progress, shown by the language client in the status bar.
      const progress = page.locator('.statusbar-item', { hasText: /Pruning e2e-long: .*step \d+\/40000/ }).first();
      await progress.waitFor({ timeout: 60_000 });
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

      await lens('Stop').click();
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

      // The dashboards of the stopped run, replayed from its folder: both panels open side by side.
      await lens('Open dashboard').click();
      await page.locator('.tab', { hasText: 'Block importance ·' }).first().waitFor({ timeout: 30_000 });
      const frames = page.locator('iframe.webview.ready:visible');
      await waitFor('two dashboard webviews', async () => (await frames.count()) >= 2);
      const inner = (i: number) =>
        page.frameLocator('iframe.webview.ready:visible').nth(i).frameLocator('#active-frame');
      const texts = await Promise.all([0, 1].map(async (i) => (await inner(i).locator('body').textContent()) ?? ''));
      const sparsity = inner(texts.findIndex((t) => t.includes('Sparsity vs schedule')));
      const importance = inner(texts.findIndex((t) => t.includes('kept (outlined)')));
      await sparsity.locator('canvas').first().waitFor({ timeout: 30_000 });
      await importance.locator('canvas').first().waitFor({ timeout: 30_000 });
      await importance
        .getByText(/dense_1: 8×8 blocks/)
        .first()
        .waitFor({ timeout: 30_000 });
      await shot('dashboard-sparsity');
    },
  },
];
