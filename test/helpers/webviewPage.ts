/**
 * Loads a dashboard bundle into headless Chromium the way VS Code serves it: a page from its own
 * origin (https://webview.test) with the panel's strict CSP, a stub `acquireVsCodeApi` that
 * records posted messages and keeps state in sessionStorage (so a reload restores it), and the
 * theme variables per body class. Shared by the webview tests and the heatmap bench.
 */
import type { DashboardKind, HostToWebview, WebviewToHost } from '@protocol';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumExecutable } from '../../scripts/chromium';

export const ORIGIN = 'https://webview.test';
export const CSP = `default-src 'none'; script-src 'nonce-abc'; style-src ${ORIGIN}; img-src ${ORIGIN} data:`;
export const ROOT = join(__dirname, '..', '..');

/** Colours per theme class, as VS Code would set them. */
export const THEMES = {
  'vscode-dark': {
    '--vscode-editor-background': '#1e1e1e',
    '--vscode-editor-foreground': '#cccccc',
    '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-focusBorder': '#007fd4',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-yellow': '#cca700',
    '--vscode-charts-foreground': '#cccccc',
  },
  'vscode-light': {
    '--vscode-editor-background': '#ffffff',
    '--vscode-editor-foreground': '#333333',
    '--vscode-descriptionForeground': '#717171',
    '--vscode-focusBorder': '#0090f1',
    '--vscode-charts-blue': '#1a85ff',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-green': '#388a34',
    '--vscode-charts-purple': '#652d90',
    '--vscode-charts-red': '#e51400',
    '--vscode-charts-yellow': '#bf8803',
    '--vscode-charts-foreground': '#616161',
  },
  // VS Code's dark high-contrast theme: black, white text, orange focus border, bright charts.
  'vscode-high-contrast': {
    '--vscode-editor-background': '#000000',
    '--vscode-editor-foreground': '#ffffff',
    '--vscode-descriptionForeground': '#ffffff',
    '--vscode-focusBorder': '#f38518',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-orange': '#ff9f30',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-purple': '#d59bfa',
    '--vscode-charts-red': '#f48771',
    '--vscode-charts-yellow': '#ffd700',
    '--vscode-charts-foreground': '#ffffff',
  },
} as const;

export type ThemeClass = keyof typeof THEMES;

const themeCss = Object.entries(THEMES)
  .map(
    ([cls, vars]) =>
      `body.${cls} {\n${Object.entries(vars)
        .map(([k, v]) => `  ${k}: ${v};`)
        .join('\n')}\n}`,
  )
  .join('\n');

const stub = `
window.__posted = [];
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
});
window.acquireVsCodeApi = () => ({
  postMessage: (m) => { window.__posted.push(m); },
  getState: () => JSON.parse(sessionStorage.getItem('vscode-state') ?? 'null'),
  setState: (s) => { sessionStorage.setItem('vscode-state', JSON.stringify(s)); return s; },
});`;

function html(panel: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<link rel="stylesheet" href="${ORIGIN}/theme.css">
<title>${panel}</title></head>
<body class="vscode-dark">
<script nonce="abc">${stub}</script>
<script nonce="abc" src="${ORIGIN}/dist/webview/${panel}.js"></script>
</body></html>`;
}

export type Panel = DashboardKind;
export type Rgb = [number, number, number];

export function hex(color: string): Rgb {
  const n = Number.parseInt(color.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
export const distance = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Math.max(Math.abs(a[0]! - b[0]!), Math.abs(a[1]! - b[1]!), Math.abs(a[2]! - b[2]!));

/** RGBA of every pixel of a canvas, with its size (base64 across the page boundary: a JSON array is slow). */
export async function canvasPixels(page: Page, selector: string) {
  const got = await page.$eval(selector, (c: HTMLCanvasElement) => {
    const bytes = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000)
      binary += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 0x8000)));
    return { width: c.width, height: c.height, data: btoa(binary), area: c.dataset.area };
  });
  return { ...got, data: Buffer.from(got.data, 'base64') };
}

export function pixel(p: { width: number; data: Uint8Array }, x: number, y: number): Rgb {
  const o = (Math.floor(y) * p.width + Math.floor(x)) * 4;
  return [p.data[o]!, p.data[o + 1]!, p.data[o + 2]!];
}

export interface PanelPage {
  page: Page;
  /** Console errors and uncaught page errors. */
  errors: string[];
  posted(): Promise<WebviewToHost[]>;
  violations(): Promise<string[]>;
  send(message: HostToWebview): Promise<void>;
  /** Waits until the panel has posted a message matching `match`, and returns it. */
  waitForPosted<T extends WebviewToHost>(match: (m: WebviewToHost) => m is T, after?: number): Promise<T>;
}

/** No CSP violation and no console error on the page so far. */
export async function assertClean(panel: PanelPage): Promise<void> {
  assert.deepEqual(await panel.violations(), [], 'CSP violations');
  assert.deepEqual(panel.errors, [], 'console errors');
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumExecutable(), args: ['--no-sandbox'] });
}

export async function openPanel(browser: Browser, panel: Panel): Promise<PanelPage> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.route(`${ORIGIN}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === `/${panel}.html`) return route.fulfill({ contentType: 'text/html', body: html(panel) });
    if (path === '/theme.css') return route.fulfill({ contentType: 'text/css', body: themeCss });
    const m = /^\/dist\/webview\/([\w.-]+\.(js|css|map))$/.exec(path);
    if (m) {
      const type = m[2] === 'js' ? 'text/javascript' : m[2] === 'css' ? 'text/css' : 'application/json';
      return route.fulfill({ contentType: type, body: readFileSync(join(ROOT, 'dist', 'webview', m[1]!)) });
    }
    return route.fulfill({ status: 404, body: 'not found' });
  });
  await page.goto(`${ORIGIN}/${panel}.html`);
  const posted = () => page.evaluate(() => (window as unknown as { __posted: WebviewToHost[] }).__posted);
  const result: PanelPage = {
    page,
    errors,
    posted,
    violations: () => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations),
    send: (message) => page.evaluate((m) => window.postMessage(m, '*'), message),
    async waitForPosted(match, after = 0) {
      for (;;) {
        const found = (await posted()).slice(after).find(match);
        if (found) return found;
        await page.waitForFunction(
          (n) => (window as unknown as { __posted: unknown[] }).__posted.length > n,
          (await posted()).length,
        );
      }
    },
  };
  return result;
}
