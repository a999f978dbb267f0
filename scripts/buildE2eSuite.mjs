// Builds the in-host e2e suite (test/e2e/suite) into out/e2e/suite, the one copy both runners load:
// code-server (test/e2e/run.sh) and desktop VS Code through @vscode/test-cli (.vscode-test.mjs,
// `npm run test:desktop`, the "Extension Tests" launch configuration). With --workspace it also
// makes a fresh copy of the fixture workspace in out/e2e/workspace for the desktop runs.
import * as esbuild from 'esbuild';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SUITE_SOURCE = 'test/e2e/suite';
export const SUITE_OUT = 'out/e2e/suite';
/** The suite's test files: every `*.e2e.ts`, built to `*.e2e.js` (suite/index.ts loads those). */
export const SUITE_SUFFIX = '.e2e.ts';
export const FIXTURE_WORKSPACE = 'test/fixtures/e2e-workspace';
export const DESKTOP_WORKSPACE = 'out/e2e/workspace';

export function suiteFiles() {
  return readdirSync(join(root, SUITE_SOURCE))
    .filter((f) => f.endsWith(SUITE_SUFFIX))
    .sort();
}

export async function buildE2eSuite({ workspace = false } = {}) {
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: [`${SUITE_SOURCE}/index.ts`, ...suiteFiles().map((f) => `${SUITE_SOURCE}/${f}`)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outdir: SUITE_OUT,
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
  if (workspace) {
    rmSync(join(root, DESKTOP_WORKSPACE), { recursive: true, force: true });
    cpSync(join(root, FIXTURE_WORKSPACE), join(root, DESKTOP_WORKSPACE), { recursive: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildE2eSuite({ workspace: process.argv.includes('--workspace') });
}
