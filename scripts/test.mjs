// `npm test`: every test layer in order, then one closing line that counts them all.
//   npm test                  all layers
//   npm test -- unit engine   only these layers
// Layers: static (tsc, eslint, dependency cycles, prettier), unit, engine, lsp, webview, e2e. Node's test runner runs
// the TypeScript tests through tsx; the e2e layer drives a real VS Code (code-server). What the webview
// and e2e layers need from the system (Chromium) is found or, as root, installed first
// (scripts/systemDeps.mjs); when it cannot be, the layer fails with the command to run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemDeps, LAYER_NEEDS } from './systemDeps.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Runs in the suites train on one thread unless a test asks for more (`threads: auto` reads this):
// CI shares two cores, where threads wait on each other and spin (engine/wasmThreads.ts).
process.env.SPARSITY_STUDIO_THREADS ??= '1';
const outDir = join(root, '.test-output');
mkdirSync(outDir, { recursive: true });

function testFiles(dir) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const found = [];
  for (const name of readdirSync(abs).sort()) {
    const path = join(abs, name);
    if (statSync(path).isDirectory()) found.push(...testFiles(join(dir, name)));
    else if (name.endsWith('.test.ts')) found.push(relative(root, path));
  }
  return found;
}

function run(command, args, extraEnv = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  return result.status ?? 1;
}

/** Runs test files with Node's test runner; counts come from a TAP copy of the report. */
function nodeTests(layer, files, { build = false } = {}) {
  if (files.length === 0) return { passed: 0, failed: 0, note: 'no test files' };
  if (build && run('node', ['scripts/build.mjs']) !== 0) return { passed: 0, failed: 1, note: 'build failed' };
  const tap = join(outDir, `${layer}.tap`);
  rmSync(tap, { force: true });
  const status = run('node', [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ]);
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const count = (key) => Number(text.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? 0);
  const passed = count('pass');
  let failed = count('fail') + count('cancelled');
  if (status !== 0 && failed === 0) failed = 1;
  return { passed, failed };
}

function staticChecks() {
  let passed = 0;
  let failed = 0;
  for (const [name, cmd, args] of [
    ['tsc --build', 'npx', ['tsc', '--build']],
    ['eslint', 'npx', ['eslint', '.']],
    ['dependency cycles', 'npm', ['run', '--silent', 'cycles']],
    ['prettier --check', 'npx', ['prettier', '--check', '.']],
  ]) {
    console.log(`\n[static] ${name}`);
    if (run(cmd, args) === 0) passed++;
    else failed++;
  }
  return { passed, failed };
}

function e2e() {
  if (run('bash', ['test/e2e/setup.sh']) !== 0) return { passed: 0, failed: 1, note: 'e2e setup failed' };
  const status = run('bash', ['test/e2e/run.sh']);
  const summary = join(outDir, 'e2e-summary.json');
  if (!existsSync(summary)) return { passed: 0, failed: 1, note: 'e2e wrote no summary' };
  const { passed, failed } = JSON.parse(readFileSync(summary, 'utf8'));
  return { passed, failed: status !== 0 && failed === 0 ? 1 : failed };
}

const layers = {
  static: staticChecks,
  unit: () => nodeTests('unit', testFiles('test/unit')),
  engine: () =>
    nodeTests('engine', [...testFiles('test/data'), ...testFiles('test/engine'), ...testFiles('test/runs')]),
  lsp: () => nodeTests('lsp', testFiles('test/lsp'), { build: true }),
  webview: () => nodeTests('webview', testFiles('test/webview'), { build: true }),
  e2e: () => (existsSync(join(root, 'test/e2e/run.sh')) ? e2e() : { passed: 0, failed: 0, note: 'not set up' }),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((l) => !(l in layers));
if (unknown.length > 0) {
  console.error(`unknown layer(s): ${unknown.join(', ')}; layers: ${Object.keys(layers).join(', ')}`);
  process.exit(2);
}
/** A layer's system needs (Chromium, ...): found, installed as root, or a failure that says how. */
function systemReady(layer) {
  if (!LAYER_NEEDS[layer]) return { ok: true };
  const { ok, found, advice } = ensureSystemDeps([layer]);
  // Every child process (tests, the e2e drivers) launches this Chromium.
  if (found.chromium) process.env.CHROMIUM_PATH = found.chromium;
  for (const line of advice) console.error(`[system] ${line}`);
  return ok ? { ok } : { ok, note: `not run: ${advice.join('; ')}` };
}

const results = [];
for (const name of wanted.length > 0 ? wanted : Object.keys(layers)) {
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const ready = systemReady(name);
  const r = ready.ok ? layers[name]() : { passed: 0, failed: 1, note: ready.note };
  results.push({ name, ...r, seconds: Math.round((Date.now() - started) / 1000) });
}
console.log('\n=== summary ===');
for (const r of results)
  console.log(
    `${r.name.padEnd(8)} ${r.passed} passed, ${r.failed} failed  (${r.seconds} s)${r.note ? `  ${r.note}` : ''}`,
  );
const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
