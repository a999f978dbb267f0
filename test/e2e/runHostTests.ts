/** Runs the in-host mocha suite (test/e2e/suite, built to out/e2e/suite) inside code-server. */
import { join } from 'node:path';
import { e2eEnv, hostExit, launchBrowser, withTimeout, workbenchUrl } from './workbench';

async function main(): Promise<number> {
  const env = e2eEnv();
  const { context, page } = await launchBrowser(env);
  let summary = '';
  try {
    const { exited } = await hostExit(page, (line) => {
      const m = /\[host-tests\] (\d+ passed, \d+ failed)/.exec(line);
      if (m) summary = m[1]!;
      console.log(line);
    });
    await page.goto(workbenchUrl(env, { testsPath: join(env.extensionPath, 'out', 'e2e', 'suite', 'index') }));
    return await withTimeout(exited, 240_000, 'the in-host tests to finish');
  } catch (error) {
    console.error(error);
    await page.screenshot({ path: join(env.outDir, 'host-tests-failure.png') }).catch(() => undefined);
    return 1;
  } finally {
    console.log(`vscode-host: ${summary || '0 passed, 1 failed'}`);
    await context.close();
  }
}

main().then(
  (code) => process.exit(code === 0 ? 0 : 1),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
