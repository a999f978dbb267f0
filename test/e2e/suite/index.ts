/**
 * The in-host test entry in the @vscode/test-electron layout: VS Code `require`s this file inside
 * the extension host and awaits `run()`. Here it runs under code-server; on a desktop with network
 * the same file runs under test-electron. Prints `[host-tests] N passed, N failed` for the driver.
 */
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000 });
  for (const file of readdirSync(__dirname).sort()) if (file.endsWith('.e2e.js')) mocha.addFile(join(__dirname, file));
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      console.log(`[host-tests] ${runner.stats?.passes ?? 0} passed, ${failures} failed`);
      if (failures > 0) reject(new Error(`${failures} in-host test(s) failed`));
      else resolve();
    });
  });
}
