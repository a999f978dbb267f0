/** The commands as a user meets them: in the palette, and New Experiment's prompts. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_CATEGORY, COMMANDS } from '../../../client/src/contributions';
import type { UiTest } from '../uiTest';
import { quickInput, runCommand, showInPalette } from '../uiActions';

export const tests: UiTest[] = [
  {
    name: 'the palette lists every command; New Experiment prompts, validates the name and writes the file',
    async run({ page, workspace, fileText, shot }) {
      const { widget, input, row } = quickInput(page);
      // Delete Run, Refresh Runs and Compare With… act on a row of the Runs view (or a finished
      // run's notification) and are hidden from the palette (package.json).
      const hidden: string[] = ['sparsityStudio.deleteRun', 'sparsityStudio.refreshRuns', 'sparsityStudio.compareWith'];
      const titles = Object.entries(COMMANDS)
        .filter(([id]) => !hidden.includes(id))
        .map(([, title]) => `${COMMAND_CATEGORY}: ${title}`);
      await showInPalette(page, `${COMMAND_CATEGORY}:`, titles);
      await page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', timeout: 10_000 });

      await runCommand(page, `${COMMAND_CATEGORY}: ${COMMANDS['sparsityStudio.newExperiment']}`);
      await widget.locator('.quick-input-title', { hasText: 'New pruning experiment' }).waitFor({ timeout: 15_000 });
      await input.fill('not a name!');
      await widget.locator('.quick-input-message', { hasText: 'Letters, digits' }).waitFor({ timeout: 10_000 });
      await shot('new-experiment-invalid-name');
      await input.fill('ui-new');
      await widget.locator('.quick-input-message', { hasText: 'Letters, digits' }).waitFor({ state: 'hidden' });
      await page.keyboard.press('Enter');

      await row('teacher').waitFor({ timeout: 15_000 });
      await input.fill('teacher');
      await page.keyboard.press('Enter');
      await page.locator('.tab.active[aria-label*="ui-new.prune.yaml"]').waitFor({ timeout: 30_000 });
      await page.locator('.statusbar', { hasText: 'Pruning Experiment' }).waitFor({ timeout: 10_000 });
      await shot('new-experiment-written');
      if (!existsSync(join(workspace, 'ui-new.prune.yaml'))) throw new Error('ui-new.prune.yaml was not written');
      if (
        !/^name: ui-new$/m.test(fileText('ui-new.prune.yaml')) ||
        !/source: teacher/.test(fileText('ui-new.prune.yaml'))
      )
        throw new Error(`unexpected file:\n${fileText('ui-new.prune.yaml')}`);
    },
  },
];
