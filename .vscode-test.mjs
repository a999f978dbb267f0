// The in-host e2e suite (test/e2e/suite, built by scripts/buildE2eSuite.mjs) in desktop VS Code,
// through @vscode/test-cli and @vscode/test-electron: `npm run test:desktop`, or the "Extension
// Tests" launch configuration. It downloads VS Code 1.139.1 (the version code-server 4.139.1
// embeds, which CI runs, see test/e2e/run.sh) into .vscode-test/ on first use, so it needs network
// beyond npm; test/unit/e2eRunners.test.ts keeps both runners on the same suite files.
// A plain object rather than defineConfig(), which is the identity, so the unit test can import it
// without the runner installed.
/** @type {import('@vscode/test-cli').TestConfiguration} */
const desktop = {
  label: 'desktop',
  files: 'out/e2e/suite/*.e2e.js',
  version: '1.139.1',
  // A fresh copy of test/fixtures/e2e-workspace, made by `npm run build:e2e` before each run.
  workspaceFolder: 'out/e2e/workspace',
  // As in the code-server run: no other extensions, and a trusted workspace (sessions need it).
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  mocha: { ui: 'tdd', timeout: 60_000, color: true },
};

export default desktop;
