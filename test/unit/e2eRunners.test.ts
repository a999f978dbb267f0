/**
 * The in-host e2e suite has two runners: code-server (test/e2e/run.sh, what CI runs) and desktop
 * VS Code through @vscode/test-cli (.vscode-test.mjs) or the "Extension Tests" launch
 * configuration. This keeps all three on the same built suite, workspace and mocha options.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/experimentFixtures';

interface DesktopConfig {
  files: string;
  version: string;
  workspaceFolder: string;
  launchArgs: string[];
  mocha: { ui: string; timeout: number };
}
interface SuiteBuild {
  SUITE_SOURCE: string;
  SUITE_OUT: string;
  SUITE_SUFFIX: string;
  FIXTURE_WORKSPACE: string;
  DESKTOP_WORKSPACE: string;
  suiteFiles: () => string[];
}
interface LaunchConfig {
  name: string;
  args: string[];
  preLaunchTask?: string;
}

const load = async <T>(file: string) =>
  ((await import(pathToFileURL(join(ROOT, file)).href)) as { default: T }).default;
const text = (file: string) => readFileSync(join(ROOT, file), 'utf8');
/** JSON with `//` comment lines, as VS Code's .vscode files are. */
const jsonc = <T>(file: string) => JSON.parse(text(file).replace(/^\s*\/\/.*$/gm, '')) as T;

describe('e2e runners: code-server and desktop VS Code run the same suite', () => {
  it('the desktop config loads every suite file that index.ts loads under code-server, and nothing else', async () => {
    const desktop = await load<DesktopConfig>('.vscode-test.mjs');
    const build = (await import(pathToFileURL(join(ROOT, 'scripts/buildE2eSuite.mjs')).href)) as SuiteBuild;
    const sources = readdirSync(join(ROOT, build.SUITE_SOURCE)).filter((f) => f.endsWith(build.SUITE_SUFFIX));
    assert.ok(sources.length >= 4, `suite files: ${sources.join(', ')}`);
    assert.deepEqual(build.suiteFiles(), sources.sort());
    const built = build.SUITE_SUFFIX.replace(/\.ts$/, '.js');
    assert.equal(desktop.files, `${build.SUITE_OUT}/*${built}`);
    // index.ts (the code-server entry) adds the files with that suffix from its own folder.
    assert.match(
      text(`${build.SUITE_SOURCE}/index.ts`),
      new RegExp(`file\\.endsWith\\('${built.replace(/\./g, '\\.')}'\\)`),
    );
    assert.match(text(`${build.SUITE_SOURCE}/index.ts`), /readdirSync\(__dirname\)/);
  });

  it('both use mocha tdd with the same timeout', async () => {
    const desktop = await load<DesktopConfig>('.vscode-test.mjs');
    const index = text('test/e2e/suite/index.ts');
    const timeout = Number(/timeout: ([\d_]+)/.exec(index)![1]!.replace(/_/g, ''));
    assert.match(index, /ui: 'tdd'/);
    assert.deepEqual([desktop.mocha.ui, desktop.mocha.timeout], ['tdd', timeout]);
  });

  it('code-server builds the suite with the shared script and loads its index from the same folder', async () => {
    const build = (await import(pathToFileURL(join(ROOT, 'scripts/buildE2eSuite.mjs')).href)) as SuiteBuild;
    assert.match(text('test/e2e/run.sh'), /^node scripts\/buildE2eSuite\.mjs /m);
    assert.doesNotMatch(text('test/e2e/run.sh'), /esbuild test\/e2e\/suite/, 'no second build of the suite');
    const testsPath = /testsPath: join\(env\.extensionPath, ([^)]*)\)/.exec(text('test/e2e/runHostTests.ts'))![1]!;
    assert.equal(testsPath.replace(/'/g, '').split(', ').join('/'), `${build.SUITE_OUT}/index`);
  });

  it('desktop runs: VS Code of the code-server version, a fresh fixture copy, a trusted workspace', async () => {
    const desktop = await load<DesktopConfig>('.vscode-test.mjs');
    const build = (await import(pathToFileURL(join(ROOT, 'scripts/buildE2eSuite.mjs')).href)) as SuiteBuild;
    const codeServer = /CODE_SERVER_VERSION=4\.(\d+)\.(\d+)/.exec(text('test/e2e/setup.sh'))!;
    assert.equal(desktop.version, `1.${codeServer[1]}.${codeServer[2]}`, 'code-server 4.X.Y embeds VS Code 1.X.Y');
    assert.equal(desktop.workspaceFolder, build.DESKTOP_WORKSPACE);
    assert.equal(build.FIXTURE_WORKSPACE, 'test/fixtures/e2e-workspace');
    assert.match(text('test/e2e/run.sh'), /cp -r test\/fixtures\/e2e-workspace /);
    assert.ok(desktop.launchArgs.includes('--disable-workspace-trust'));
    assert.match(text('test/e2e/run.sh'), /--disable-workspace-trust/);
    const scripts = (JSON.parse(text('package.json')) as { scripts: Record<string, string> }).scripts;
    assert.equal(scripts['build:e2e'], 'node scripts/build.mjs && node scripts/buildE2eSuite.mjs --workspace');
    assert.equal(scripts['test:desktop'], 'npm run build:e2e && vscode-test');
  });

  it('the "Extension Tests" launch configuration runs the same index in the same workspace, built first', async () => {
    const desktop = await load<DesktopConfig>('.vscode-test.mjs');
    const build = (await import(pathToFileURL(join(ROOT, 'scripts/buildE2eSuite.mjs')).href)) as SuiteBuild;
    const { configurations } = jsonc<{ configurations: LaunchConfig[] }>('.vscode/launch.json');
    const tests = configurations.find((c) => c.name === 'Extension Tests');
    assert.ok(tests, 'an "Extension Tests" configuration');
    assert.ok(tests.args.includes(`--extensionTestsPath=\${workspaceFolder}/${build.SUITE_OUT}/index`));
    assert.ok(tests.args.includes(`\${workspaceFolder}/${desktop.workspaceFolder}`));
    for (const arg of desktop.launchArgs) assert.ok(tests.args.includes(arg), arg);
    const { tasks } = jsonc<{ tasks: { label: string; script: string }[] }>('.vscode/tasks.json');
    assert.equal(tasks.find((t) => t.label === tests.preLaunchTask)?.script, 'build:e2e');
  });
});
