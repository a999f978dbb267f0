/**
 * The layer rules of `npm run lint` cannot go inert again: real files of each layer are copied, a
 * forbidden import is planted in each copy, and ESLint (the project's own config) and the cycle
 * check must refuse them. The unmodified copies must pass, so a rule that fires on everything
 * cannot pass either.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { ROOT } from '../../helpers/experimentFixtures';

const planted: string[] = [];
after(() => {
  for (const file of planted) rmSync(file, { force: true });
});

/** A copy of `source` beside it, with `line` added after its imports (or unchanged without one). */
function plant(source: string, label: string, line?: string): string {
  const copy = join(ROOT, source.replace(/\.ts$/, `.planted-${label}-${process.pid}.ts`));
  copyFileSync(join(ROOT, source), copy);
  if (line !== undefined) writeFileSync(copy, `${line}\n${readFileSync(copy, 'utf8')}`);
  planted.push(copy);
  return copy;
}

const CASES: { source: string; line: string; why: string }[] = [
  {
    source: 'server/src/engine/backends.ts',
    line: "import { createConnection } from 'vscode-languageserver/node';",
    why: 'an LSP package in engine/',
  },
  {
    source: 'server/src/experiment/analysis.ts',
    line: "import type { Connection } from 'vscode-languageserver';",
    why: 'an LSP package in experiment/',
  },
  {
    source: 'server/src/data/csv.ts',
    line: "import type { TextDocument } from 'vscode-languageserver-textdocument';",
    why: 'an LSP package in data/',
  },
  {
    source: 'server/src/runs/runReader.ts',
    line: "import type { LanguageClient } from 'vscode-languageclient/node';",
    why: 'the LSP client in runs/',
  },
  { source: 'server/src/sessions/batcher.ts', line: "import * as vscode from 'vscode';", why: 'vscode in sessions/' },
  {
    source: 'server/src/experiment/analysis.ts',
    line: "import { probeDataSync } from '../data/probe';",
    why: 'experiment/ importing data/ (upward)',
  },
  {
    source: 'server/src/data/csv.ts',
    line: "import { MaskedModel } from '../engine/maskedModel';",
    why: 'data/ importing engine/ (upward)',
  },
  {
    source: 'server/src/engine/trainer.ts',
    line: "import { RunStore } from '../runs/runStore';",
    why: 'engine/ importing runs/ (upward)',
  },
  {
    source: 'server/src/runs/runStore.ts',
    line: "import { SessionManager } from '../sessions/sessionManager';",
    why: 'runs/ importing sessions/ (upward)',
  },
  {
    source: 'server/src/sessions/batcher.ts',
    line: "import { registerSessionHandlers } from '../lsp/sessions';",
    why: 'sessions/ importing lsp/ (upward)',
  },
  {
    source: 'server/src/cli/io.ts',
    line: "import { registerSessionHandlers } from '../lsp/sessions';",
    why: 'cli/ importing its sibling lsp/',
  },
  {
    source: 'server/src/engine/backends.ts',
    line: "import type * as entry from '../server';",
    why: 'engine/ importing the entry file',
  },
  { source: 'webview/src/decimate.ts', line: "import { readFileSync } from 'node:fs';", why: 'node:fs in a webview' },
  {
    source: 'webview/src/state/importanceState.ts',
    line: "import { el } from '../dom';",
    why: "the DOM helpers in a panel's pure state",
  },
  {
    source: 'webview/src/state/curvesState.ts',
    line: "import { readFileSync } from 'node:fs';",
    why: "node:fs in a panel's pure state",
  },
  {
    source: 'protocol/run.ts',
    line: "import type { RunStore } from '../server/src/runs/runStore';",
    why: 'protocol/ importing the server',
  },
];

describe('layer rules in npm run lint', () => {
  it('refuse every planted forbidden import and pass the same files without it', async () => {
    const cases = CASES.map((c, i) => ({ ...c, file: plant(c.source, `bad${i}`, c.line) }));
    const controls = [...new Set(CASES.map((c) => c.source))].map((source, i) => plant(source, `ok${i}`));
    const eslint = new ESLint({ cwd: ROOT });
    const results = await eslint.lintFiles([...cases.map((c) => c.file), ...controls]);
    const restricted = (file: string) =>
      results
        .find((r) => r.filePath === file)!
        .messages.filter((m) => m.ruleId === 'no-restricted-imports' && m.severity === 2);
    for (const c of cases) {
      const found = restricted(c.file);
      assert.equal(found.length, 1, `${c.why}: expected one no-restricted-imports error in ${c.source}'s copy`);
      assert.equal(found[0]!.line, 1, `${c.why}: the error is on the planted line`);
    }
    for (const file of controls) assert.deepEqual(restricted(file), [], `the unmodified copy ${file} lints clean`);
  });

  it('refuses an import cycle', () => {
    const a = join(ROOT, `server/src/engine/plantedCycleA-${process.pid}.ts`);
    const b = join(ROOT, `server/src/engine/plantedCycleB-${process.pid}.ts`);
    planted.push(a, b);
    writeFileSync(a, `import { b } from './plantedCycleB-${process.pid}';\nexport const a = () => b();\n`);
    writeFileSync(b, `import { a } from './plantedCycleA-${process.pid}';\nexport const b = () => a();\n`);
    const cruise = (...files: string[]) =>
      spawnSync('npx', ['depcruise', ...files, '--config', '.dependency-cruiser.cjs'], { cwd: ROOT, encoding: 'utf8' });
    const withCycle = cruise(a, b);
    assert.equal(withCycle.status, 1, withCycle.stdout + withCycle.stderr);
    assert.match(withCycle.stdout, /no-circular/);
    writeFileSync(b, 'export const b = () => 1;\n');
    const without = cruise(a, b);
    assert.equal(without.status, 0, without.stdout + without.stderr);
  });
});
