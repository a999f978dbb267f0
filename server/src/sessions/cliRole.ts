/**
 * `node dist/server.js --cli ARGS...` runs the CLI from the language server's bundle (main.ts):
 * what an editor sweep starts for each of its runs, since the .vsix ships no separate dist/cli.js.
 */
import { join } from 'node:path';

export const CLI_ROLE_FLAG = '--cli';

/** The CLI as the language server's bundle runs it: `node <dist>/server.js --cli`. */
export function bundledCliCommand(distDir: string): string[] {
  return [process.execPath, join(distDir, 'server.js'), CLI_ROLE_FLAG];
}
