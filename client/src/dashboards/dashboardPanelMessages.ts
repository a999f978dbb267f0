/** Validation of what a dashboard webview sends: its input is untrusted. No `vscode` here, so plain Node tests load it. */
import type { WebviewToHost } from '@protocol';

const SAFE_NAME = /^[\w.-]{1,100}$/;

/** The webview's message if it is one of `WebviewToHost` with sane fields, else null. */
export function parseWebviewMessage(raw: unknown): WebviewToHost | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const m = raw as Record<string, unknown>;
  switch (m['type']) {
    case 'ready':
      return { type: 'ready' };
    case 'requestSnapshot':
      return Number.isInteger(m['step']) && (m['step'] as number) >= 0
        ? { type: 'requestSnapshot', step: m['step'] as number }
        : null;
    case 'exportCsv':
      return typeof m['name'] === 'string' && SAFE_NAME.test(m['name']) && typeof m['csv'] === 'string'
        ? { type: 'exportCsv', name: m['name'], csv: m['csv'] }
        : null;
    case 'exportPng':
      return typeof m['name'] === 'string' &&
        SAFE_NAME.test(m['name']) &&
        typeof m['dataUrl'] === 'string' &&
        m['dataUrl'].startsWith('data:image/png;base64,')
        ? { type: 'exportPng', name: m['name'], dataUrl: m['dataUrl'] }
        : null;
    default:
      return null;
  }
}
