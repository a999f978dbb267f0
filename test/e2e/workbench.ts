/**
 * Drives the code-server workbench with playwright-core through Debian's Chromium: the URL with
 * the extension-development payload, a fresh browser profile per run, and the two page functions
 * VS Code's smoke-test driver reports through (`codeAutomationLog`, `codeAutomationExit`).
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { format } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { chromiumExecutable } from '../../scripts/chromium';

export interface E2eEnv {
  /** http://127.0.0.1:PORT */
  base: string;
  /** Absolute path of the extension under development (the repository root). */
  extensionPath: string;
  /** Absolute path of the scratch workspace folder (a copy of test/fixtures/e2e-workspace). */
  workspace: string;
  /** Where screenshots and logs go. */
  outDir: string;
  /**
   * True when the extension under test is the packaged .vsix installed into code-server: the
   * workbench then loads it like any installed extension, without a development path.
   */
  installed: boolean;
}

export function e2eEnv(): E2eEnv {
  const need = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set (test/e2e/run.sh sets it)`);
    return value;
  };
  return {
    base: need('CS_BASE'),
    extensionPath: need('EXT_DEV'),
    workspace: need('WS_FOLDER'),
    outDir: need('OUT_DIR'),
    installed: process.env.E2E_INSTALLED === '1',
  };
}

/**
 * The workbench URL that loads our extension in development mode on `folder` (default: the
 * scratch workspace), and runs the in-host tests at `testsPath` when given.
 */
export function workbenchUrl(env: E2eEnv, options: { folder?: string; testsPath?: string } = {}): string {
  const host = new URL(env.base).host;
  const payload: [string, string][] = env.installed
    ? []
    : [['extensionDevelopmentPath', `vscode-remote://${host}${env.extensionPath}`]];
  if (options.testsPath) payload.push(['extensionTestsPath', `vscode-remote://${host}${options.testsPath}`]);
  const folder = options.folder ?? env.workspace;
  const query = payload.length > 0 ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : '';
  return `${env.base}/?folder=${encodeURIComponent(folder)}${query}`;
}

/**
 * A new copy of the e2e fixture workspace next to the scratch one. A new folder is a new
 * workspace for VS Code, so no editor state or unsaved text of an earlier test is restored in it.
 */
export function freshWorkspace(env: E2eEnv, label: string): string {
  const folder = mkdtempSync(join(dirname(env.workspace), `${label}-`));
  cpSync(join(env.extensionPath, 'test', 'fixtures', 'e2e-workspace'), folder, { recursive: true });
  return folder;
}

export async function launchBrowser(env: E2eEnv): Promise<{ context: BrowserContext; page: Page }> {
  const profile = mkdtempSync(join(dirname(env.workspace), 'chromium-')); // scratch, removed by run.sh
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumExecutable(),
    headless: true,
    viewport: { width: 1400, height: 900 },
    env: { ...process.env, XDG_CONFIG_HOME: profile, XDG_CACHE_HOME: profile },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

/** Exposes the smoke-driver hooks; `exited` resolves with the host's exit code. */
export async function hostExit(page: Page, onLine: (line: string) => void): Promise<{ exited: Promise<number> }> {
  let done!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (done = resolve));
  await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) =>
    onLine(`[host ${type}] ${format(...(args ?? []))}`),
  );
  await page.exposeFunction('codeAutomationExit', (code: number) => done(code));
  return { exited };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)),
    ),
  ]);
}
