// Bundles what ships: the extension client, the language server, the CLI and the webview panels.
// `tsc --build` type-checks separately; esbuild only transpiles and bundles.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/**
 * Node bundles (CommonJS). `vscode` exists only inside the extension host. The language server's
 * bundle is also its session workers' (server/src/main.ts), so TF.js is in the .vsix once.
 */
const nodeEntries = [
  { in: 'client/src/extension.ts', out: 'client' },
  { in: 'server/src/main.ts', out: 'server' },
  { in: 'server/src/cli.ts', out: 'cli' },
];

/** One browser bundle per webview panel (IIFE). */
const webviewEntries = [
  { in: 'webview/src/run.ts', out: 'run' },
  { in: 'webview/src/schedule.ts', out: 'schedule' },
  { in: 'webview/src/compare.ts', out: 'compare' },
  { in: 'webview/src/sweep.ts', out: 'sweep' },
];

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
  tsconfig: join(root, 'tsconfig.base.json'),
};

const builds = [];
if (nodeEntries.length > 0) {
  builds.push({
    ...common,
    entryPoints: nodeEntries,
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu'],
  });
}
if (webviewEntries.length > 0) {
  builds.push({
    ...common,
    entryPoints: webviewEntries,
    outdir: 'dist/webview',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  });
}

// A production build (what the .vsix packs) starts from an empty dist/: no source maps or bundles
// left over from development builds.
if (production) rmSync(join(root, 'dist'), { recursive: true, force: true });
mkdirSync(join(root, 'dist'), { recursive: true });
// The bundled engine loads tfjs-backend-wasm's binaries from dist/wasm (see engine/backends.ts).
const copyWasm = () => {
  mkdirSync(join(root, 'dist', 'wasm'), { recursive: true });
  const from = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  for (const f of readdirSync(from).filter((n) => n.endsWith('.wasm')))
    copyFileSync(join(from, f), join(root, 'dist', 'wasm', f));
  // The threaded build's pthread workers import the pristine Emscripten script (engine/wasmThreads.ts).
  const script = 'tfjs-backend-wasm-threaded-simd.js';
  copyFileSync(join(from, '..', 'wasm-out', script), join(root, 'dist', 'wasm', script));
};
copyWasm();
if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
  console.log('[build] watching');
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
  console.log(`[build] ${builds.length} bundle group(s) -> dist/${production ? ' (production)' : ''}`);
}
