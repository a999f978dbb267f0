/** UI checks in the real workbench: squiggle and Problems row, the completion widget, Ctrl+. quick fix. */
import type { UiTest } from '../uiTest';
import { gotoLineOf, openFile, problemRow } from '../uiActions';

const UNKNOWN_KEY = 'Unknown key `hiden`';

export const tests: UiTest[] = [
  {
    name: 'a broken experiment shows a squiggle and its row in the Problems panel',
    fromVsix: true,
    async run({ page, shot }) {
      await openFile(page, 'broken.prune.yaml');
      await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 60_000 });
      const row = await problemRow(page, UNKNOWN_KEY);
      await row.waitFor({ timeout: 30_000 });
      const text = (await row.textContent()) ?? ''; // `source(code)`: the parentheses are CSS, not text
      if (!/sparsity-studio\(?unknown-key/.test(text) || !text.includes('[Ln 9, Col 3]'))
        throw new Error(`the Problems row lacks source(code) or position: ${text}`);
      const other = await problemRow(page, '`pruning.sparsity` must be below 1');
      await other.waitFor({ timeout: 10_000 });
      await shot('problems-panel');
    },
  },
  {
    name: 'typing a key in pruning opens the completion widget with the method keys',
    async run({ page, fileText, shot }) {
      await openFile(page, 'broken.prune.yaml');
      await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 60_000 });
      await gotoLineOf(page, fileText('broken.prune.yaml'), '  layers:');
      await page.keyboard.press('End');
      await page.keyboard.press('Enter');
      // No Ctrl+Space: typing alone must bring the widget up. The squiggles first, so the file is
      // tokenized: a key being typed is a plain scalar, a string token, and VS Code's default
      // turns quick suggestions off in strings (package.json turns them on for prune-yaml).
      const widget = page.locator('.suggest-widget.visible');
      await page.keyboard.type('ex');
      await widget.waitFor({ timeout: 30_000 });
      for (const key of ['exponent', 'exclude'])
        await widget.locator('.monaco-list-row', { hasText: key }).first().waitFor({ timeout: 15_000 });
      await shot('completion');
      await widget.locator('.monaco-list-row', { hasText: 'exponent' }).first().click();
      await widget.waitFor({ state: 'hidden', timeout: 10_000 });
      await page
        .locator('.monaco-editor .view-line', { hasText: /^\s*exponent:/ })
        .first()
        .waitFor({ timeout: 10_000 });
    },
  },
  {
    name: 'Ctrl+. on a diagnostic applies the quick fix and the Problems row disappears',
    async run({ page, fileText, shot }) {
      await openFile(page, 'broken.prune.yaml');
      await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 60_000 });
      await (await problemRow(page, UNKNOWN_KEY)).waitFor({ timeout: 30_000 });
      await gotoLineOf(page, fileText('broken.prune.yaml'), '  hiden:', 4);
      const action = page.locator('.action-widget .monaco-list-row.focused', { hasText: /Change to .?hidden/ });
      // Ctrl+. pressed before the editor has the line's code actions opened nothing once (the
      // lightbulb was there): press it again, as a user would.
      for (let attempt = 1; ; attempt++) {
        await page.keyboard.press('Control+.');
        try {
          await action.waitFor({ timeout: 8_000 });
          break;
        } catch (error) {
          if (attempt === 3) throw error;
          await page.keyboard.press('Escape');
        }
      }
      await shot('quick-fix-menu');
      await page.keyboard.press('Enter');
      await (await problemRow(page, UNKNOWN_KEY)).waitFor({ state: 'detached', timeout: 30_000 });
      await page
        .locator('.monaco-editor .view-line', { hasText: 'hidden: [128]' })
        .first()
        .waitFor({ timeout: 10_000 });
      await shot('after-quick-fix');
    },
  },
];
