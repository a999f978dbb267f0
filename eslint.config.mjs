// ESLint (type-checked) for every TypeScript project; Prettier owns formatting.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The language server's packages (vscode-languageserver, -protocol, -textdocument, -types) and JSON-RPC. */
const lspPackages = ['vscode-languageserver*', 'vscode-languageserver*/**', 'vscode-jsonrpc', 'vscode-jsonrpc/**'];

const vscodeClient = ['vscode', 'vscode-languageclient', 'vscode-languageclient/**'];

/**
 * `server/src` in layers, each importing only from those before it (CONTRIBUTING.md, Layout):
 * experiment → data → engine → runs → sessions → lsp / cli → server.ts / cli.ts.
 */
const SERVER_LAYERS = ['experiment', 'data', 'engine', 'runs', 'sessions', ['lsp', 'cli']];
/** Layers that run anywhere (CLI, worker, tests): no editor or LSP package at all. */
const PURE_LAYERS = new Set(['experiment', 'data', 'engine', 'runs', 'sessions']);

/** The panels' state and logic, without DOM, run in Node tests too (the views beside them draw). */
const PURE_WEBVIEW = 'webview/src/state/**/*.ts';

const upwardPatterns = (names) => names.flatMap((n) => [`**/${n}`, `**/${n}/**`]);

function layerBlocks() {
  const blocks = [];
  SERVER_LAYERS.forEach((layer, index) => {
    const names = [layer].flat();
    const above = SERVER_LAYERS.slice(index + 1).flat();
    // lsp/ and cli/ are siblings: neither imports the other; both sit below the entry files.
    const siblings = names.length > 1 ? names : [];
    for (const name of names) {
      const upward = [...above, ...siblings.filter((s) => s !== name), 'server', 'cli.ts', 'server.ts'];
      const patterns = [
        {
          group: upwardPatterns(upward.filter((u) => !u.endsWith('.ts'))),
          message: `server/src/${name}/ imports only from the layers below it (experiment → data → engine → runs → sessions → lsp / cli): move the shared code down.`,
        },
      ];
      if (PURE_LAYERS.has(name))
        patterns.push({
          group: [...lspPackages, ...vscodeClient],
          message: `server/src/${name}/ imports no LSP or VS Code package: put the adapter in server/src/lsp/.`,
        });
      else patterns.push({ group: vscodeClient, message: 'vscode exists only in the extension host (client/).' });
      blocks.push({
        files: [`server/src/${name}/**/*.ts`],
        rules: { 'no-restricted-imports': ['error', { patterns }] },
      });
    }
  });
  blocks.push({
    files: ['server/src/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: vscodeClient, message: 'vscode exists only in the extension host (client/).' }] },
      ],
    },
  });
  blocks.push({
    // protocol/ is the one shared module: types and message objects, imported by everything.
    files: ['protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...vscodeClient, 'vscode-languageserver', 'vscode-languageserver/*'],
              message: 'protocol/ depends only on the LSP protocol types.',
            },
            {
              group: ['**/server/**', '**/client/**', '**/webview/**', 'node:*'],
              message: 'protocol/ imports nothing of the project but itself.',
            },
          ],
        },
      ],
    },
  });
  blocks.push({
    files: ['client/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/server/**', '**/webview/**', '@tensorflow/*'],
              message: 'The client is a relay: it talks to the server over LSP and to webviews by messages.',
            },
            {
              group: ['vscode-languageserver', 'vscode-languageserver/*'],
              message: 'The client uses vscode-languageclient.',
            },
          ],
        },
      ],
    },
  });
  const browserOnly = {
    group: ['node:*', 'fs', 'path', ...vscodeClient, ...lspPackages, '**/server/**', '**/client/**'],
    message: 'Webviews are browser code: data arrives only by postMessage.',
  };
  blocks.push({
    files: ['webview/**/*.ts'],
    ignores: [PURE_WEBVIEW],
    rules: { 'no-restricted-imports': ['error', { patterns: [browserOnly] }] },
  });
  blocks.push({
    // A panel's state runs in Node tests as well as in the page: no DOM, chart.js or VS Code API.
    files: [PURE_WEBVIEW],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            browserOnly,
            {
              group: ['chart.js', 'chart.js/**', '../*', '!../decimate', '!../heatmapColors'],
              message:
                'webview/src/state/ is the pure half of the panels: it imports only itself, @protocol and the pure helpers (decimate, heatmapColors); the view draws.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['document', 'window', 'acquireVsCodeApi', 'getComputedStyle', 'requestAnimationFrame'].map((name) => ({
          name,
          message: 'webview/src/state/ has no page: the view passes in what it needs.',
        })),
      ],
    },
  });
  return blocks;
}

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'out/',
      '.e2e-tools/',
      '.bench-tools/',
      '.test-output/',
      'bench/results/',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  // Layer boundaries: one block per folder, each the only block that sets no-restricted-imports for
  // its files (in flat config a later block's options replace an earlier one's, which once left
  // every ban but `vscode` inert). test/unit/lint/layers.test.ts plants violations to keep it so.
  ...layerBlocks(),
  {
    // tfjs-core's rank generics resolve differently for the type-aware linter and for tsc (the
    // chained-op augmentation), so the two disagree on which tensor casts are needed.
    files: [
      'server/src/engine/**/*.ts',
      'server/src/data/**/*.ts',
      'server/src/runs/**/*.ts',
      'test/engine/**/*.ts',
      'test/data/**/*.ts',
      'test/runs/**/*.ts',
      'bench/**/*.ts',
    ],
    rules: { '@typescript-eslint/no-unnecessary-type-assertion': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
    },
  },
);
