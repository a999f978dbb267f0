/**
 * What a user does in the workbench, for the UI tests in test/e2e/ui/: open a file from the
 * Explorer, move the cursor, run a command from the palette, look at the Problems panel, reach into
 * a webview. Every wait is on a selector with a timeout, never a sleep.
 */
import type { FrameLocator, Locator, Page } from 'playwright-core';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Clicks `name` in the Explorer and waits for its editor tab to be the active one. */
export async function openFile(page: Page, name: string): Promise<void> {
  await page
    .getByRole('treeitem', { name: new RegExp(escapeRegExp(name)) })
    .first()
    .click();
  await page.locator(`.tab.active[aria-label*="${name}"]`).first().waitFor({ timeout: 30_000 });
}

/** Puts the cursor on the first line that starts with `prefix` (1-based `column`), through Go to Line. */
export async function gotoLineOf(page: Page, text: string, prefix: string, column = 1): Promise<number> {
  const line = text.split('\n').findIndex((l) => l.startsWith(prefix)) + 1;
  if (line === 0) throw new Error(`no line starts with ${JSON.stringify(prefix)}`);
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`:${line}:${column}`);
  await page.locator('.quick-input-widget', { hasText: `line ${line}` }).waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  await page.locator('.statusbar', { hasText: `Ln ${line}, Col ${column}` }).waitFor({ timeout: 10_000 });
  return line;
}

/** The quick input (command palette, input boxes, quick picks) and its parts. */
export function quickInput(page: Page): { widget: Locator; input: Locator; row: (text: string | RegExp) => Locator } {
  const widget = page.locator('.quick-input-widget');
  return {
    widget,
    input: widget.locator('input'),
    row: (text) => widget.locator('.quick-input-list .monaco-list-row', { hasText: text }).first(),
  };
}

/** A row of the open quick input whose label is exactly `label`. */
export function paletteRow(page: Page, label: string): Locator {
  return quickInput(page).widget.locator(`.quick-input-list .monaco-list-row[aria-label=${JSON.stringify(label)}]`);
}

/**
 * Opens the command palette on `text` and waits until it lists every command in `titles`. The
 * palette lists what is registered and enabled when it opens and does not update while open, and
 * the extension under development registers a few seconds after the workbench shows: so it
 * reopens the palette until the rows are there or `timeoutMs` has passed.
 */
export async function showInPalette(page: Page, text: string, titles: string[], timeoutMs = 30_000): Promise<void> {
  const { widget, input } = quickInput(page);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.keyboard.press('F1');
    await input.waitFor({ timeout: 10_000 });
    await input.fill(`>${text}`);
    try {
      for (const title of titles)
        await paletteRow(page, title).waitFor({ timeout: Math.min(5_000, Math.max(1, deadline - Date.now())) });
      return;
    } catch (error) {
      if (Date.now() >= deadline)
        throw new Error(`the command palette never listed all of ${JSON.stringify(titles)}`, { cause: error });
      await page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', timeout: 10_000 });
    }
  }
}

/**
 * Runs the command titled `title` ("Category: Title") from the palette by clicking exactly its row
 * (Enter would run whichever row is first, e.g. "... to the Side").
 */
export async function runCommand(page: Page, title: string): Promise<void> {
  await showInPalette(page, title, [title]);
  const row = paletteRow(page, title);
  await row.click();
  await row.waitFor({ state: 'hidden', timeout: 15_000 });
}

/** Opens the Problems panel and returns its row that contains `text` (not waited for). */
export async function problemRow(page: Page, text: string): Promise<Locator> {
  const panel = page.locator('.markers-panel');
  if (!(await panel.isVisible())) await page.keyboard.press('Control+Shift+M');
  await panel.waitFor({ timeout: 10_000 });
  return panel.locator('.monaco-list-row', { hasText: text }).first();
}

/**
 * The document inside the active webview: code-server nests it in two frames
 * (`iframe.webview.ready` → `#active-frame`). With `title`, the webview whose editor tab is that.
 */
export async function webviewFrame(page: Page, title?: string): Promise<FrameLocator> {
  if (title) await page.locator(`.tab.active[aria-label*="${title}"]`).first().waitFor({ timeout: 30_000 });
  await page.locator('iframe.webview.ready:visible').first().waitFor({ timeout: 30_000 });
  return page.frameLocator('iframe.webview.ready:visible').first().frameLocator('#active-frame');
}

/** Polls `check` every `pollMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
  pollMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The inner document of the visible webview whose text contains `marker`. */
export async function webviewWithText(page: Page, marker: string): Promise<FrameLocator> {
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

/** Opens the notification centre (code-server under the smoke-test driver shows no toasts) until `row` is in it. */
export async function inNotificationCentre(page: Page, row: Locator, what: string, timeoutMs = 60_000): Promise<void> {
  // The bell toggles the centre, and a click before the notification exists may not stick: retry.
  await waitFor(
    what,
    async () => {
      if (await row.isVisible()) return true;
      if (!(await page.locator('.notifications-center.visible').isVisible()))
        await page.locator('.statusbar-item[id="status.notifications"]').first().click();
      return row.isVisible();
    },
    timeoutMs,
  );
}
