/**
 * Runs every UI test module in test/e2e/ui/ against the workbench, each test in a fresh browser
 * profile on its own fresh copy of the e2e workspace, with the extension under development, or
 * (E2E_INSTALLED=1) the tests marked `fromVsix` against the extension installed from the .vsix.
 * Prints `ui: N passed, N failed`; `UI_FILTER=text` runs the tests whose name contains it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UiTest } from './uiTest';
import { e2eEnv, freshWorkspace, launchBrowser, withTimeout, workbenchUrl } from './workbench';

async function main(): Promise<number> {
  const env = e2eEnv();
  const filter = process.env.UI_FILTER;
  let passed = 0;
  let failed = 0;
  const modules = readdirSync(join(__dirname, 'ui'))
    .filter((f) => f.endsWith('.ui.ts'))
    .sort();
  for (const file of modules) {
    const { tests } = (await import(join(__dirname, 'ui', file))) as { tests: UiTest[] };
    for (const test of tests) {
      if (filter && !test.name.includes(filter)) continue;
      if (env.installed && !test.fromVsix) continue;
      const label = env.installed ? `[installed .vsix] ${test.name}` : test.name;
      const { context, page } = await launchBrowser(env);
      const slug = label.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      const workspace = freshWorkspace(env, 'ui');
      try {
        await page.goto(workbenchUrl(env, { folder: workspace }));
        await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
        await page.locator('.explorer-viewlet .monaco-list-row').first().waitFor({ timeout: 60_000 });
        await withTimeout(
          test.run({
            page,
            shot: async (name) => void (await page.screenshot({ path: join(env.outDir, `${name}.png`) })),
            workspace,
            fileText: (name) => readFileSync(join(workspace, name), 'utf8'),
          }),
          test.timeoutMs ?? 120_000,
          label,
        );
        passed++;
        console.log(`  ✔ ${label}`);
      } catch (error) {
        failed++;
        console.log(`  ✖ ${label}\n    ${String(error).split('\n').slice(0, 6).join('\n    ')}`);
        await page.screenshot({ path: join(env.outDir, `FAILED-${slug}.png`) }).catch(() => undefined);
      } finally {
        await context.close();
      }
    }
  }
  console.log(`ui: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
