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

/** F1, the command's full title ("Category: Title"), Enter; waits for the palette to have taken it. */
export async function runCommand(page: Page, title: string): Promise<void> {
  const { input, row } = quickInput(page);
  await page.keyboard.press('F1');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`>${title}`);
  await row(title).waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
  await row(title).waitFor({ state: 'detached', timeout: 15_000 });
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
