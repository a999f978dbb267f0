/** UI checks in the real workbench: squiggle and Problems row, the completion widget, Ctrl+. quick fix. */
import type { Page } from 'playwright-core';
import type { UiTest } from '../uiTest';

async function openFile(page: Page, name: string): Promise<void> {
  await page
    .getByRole('treeitem', { name: new RegExp(name.replace('.', '\\.')) })
    .first()
    .click();
  await page.locator(`.tab.active[aria-label*="${name}"]`).first().waitFor({ timeout: 30_000 });
}

/** Puts the cursor at the start of the first line that starts with `prefix`, through Go to Line. */
async function gotoLineOf(page: Page, text: string, prefix: string, column = 1): Promise<void> {
  const line = text.split('\n').findIndex((l) => l.startsWith(prefix)) + 1;
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`:${line}:${column}`);
  await page.locator('.quick-input-widget', { hasText: `line ${line}` }).waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  await page.locator('.statusbar', { hasText: `Ln ${line}, Col ${column}` }).waitFor({ timeout: 10_000 });
}

export const tests: UiTest[] = [
  {
    name: 'a broken experiment shows a squiggle and its row in the Problems panel',
    async run({ page, shot }) {
      await openFile(page, 'broken.prune.yaml');
      await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 60_000 });
      await page.keyboard.press('Control+Shift+M');
      const row = page.locator('.markers-panel .monaco-list-row', { hasText: 'Unknown key `hiden`' }).first();
      await row.waitFor({ timeout: 30_000 });
      const text = (await row.textContent()) ?? '';
      if (!/unknown-key/.test(text) && !/sparsity-studio/.test(text))
        throw new Error(`Problems row lacks code/source: ${text}`);
      await shot('problems-panel');
    },
  },
  {
    name: 'typing in pruning triggers completion with the method keys',
    async run({ page, fileText, shot }) {
      await openFile(page, 'broken.prune.yaml');
      await gotoLineOf(page, fileText('broken.prune.yaml'), '  layers:');
      await page.keyboard.press('End');
      await page.keyboard.press('Enter');
      await page.keyboard.type('expo');
      await page.keyboard.press('Control+Space');
      const suggest = page.locator('.suggest-widget .monaco-list-row', { hasText: 'exponent' }).first();
      await suggest.waitFor({ timeout: 30_000 });
      await shot('completion');
      // Not saved (files.autoSave is off in the e2e profile): the next test's window reads the file from disk.
    },
  },
  {
    name: 'Ctrl+. on a diagnostic applies the quick fix and the Problems row disappears',
    async run({ page, fileText, shot }) {
      await openFile(page, 'broken.prune.yaml');
      await gotoLineOf(page, fileText('broken.prune.yaml'), '  hiden:', 4);
      await page.keyboard.press('Control+.');
      const action = page.locator('.action-widget .monaco-list-row', { hasText: /Change to .?hidden/ }).first();
      try {
        await action.waitFor({ timeout: 5_000 });
      } catch {
        await page.locator('.lightBulbWidget').first().click(); // the gutter light bulb opens the same menu
        await action.waitFor({ timeout: 20_000 });
      }
      await shot('quick-fix-menu');
      await action.click();
      await page.keyboard.press('Control+Shift+M');
      await page
        .locator('.markers-panel .monaco-list-row', { hasText: 'Unknown key `hiden`' })
        .first()
        .waitFor({ state: 'detached', timeout: 30_000 });
      await page
        .locator('.monaco-editor .view-line', { hasText: 'hidden: [128]' })
        .first()
        .waitFor({ timeout: 10_000 });
      await shot('after-quick-fix');
    },
  },
];
