/**
 * The Chromium the browser tests launch: `CHROMIUM_PATH` (set by `npm test` from
 * scripts/systemDeps.mjs, which finds or installs it), else Debian's. A test started on its own on a
 * machine without either fails with how to get it, not with Playwright's "executable doesn't exist".
 */
import { accessSync, constants } from 'node:fs';

export function chromiumExecutable(): string {
  const path = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    throw new Error(
      `Chromium not found at ${path}. Run \`node scripts/systemDeps.mjs chromium\` (as root it installs Debian's chromium; otherwise it prints the command), or set CHROMIUM_PATH to a Chromium or Chrome binary.`,
    );
  }
}
