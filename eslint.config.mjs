// ESLint (type-checked) for every TypeScript project; Prettier owns formatting.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const lspPackages = [
  'vscode-languageserver',
  'vscode-languageserver/*',
  'vscode-languageserver-protocol',
  'vscode-jsonrpc',
];

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
  {
    // The pure core is testable in plain Node: no LSP, no VS Code.
    files: ['server/src/experiment/**/*.ts', 'server/src/engine/**/*.ts', 'server/src/sessions/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...lspPackages, 'vscode'],
              message:
                'experiment/, engine/ and sessions/ import no LSP or VS Code package: put the adapter in server/src/lsp/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['server/**/*.ts', 'protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'vscode', message: 'vscode exists only in the extension host (client/).' }] },
      ],
    },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'vscode', ...lspPackages],
              message: 'Webviews are browser code: data arrives only by postMessage.',
            },
          ],
        },
      ],
    },
  },
  {
    // tfjs-core's rank generics resolve differently for the type-aware linter and for tsc (the
    // chained-op augmentation), so the two disagree on which tensor casts are needed.
    files: ['server/src/engine/**/*.ts', 'test/engine/**/*.ts', 'bench/**/*.ts'],
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
