/**
 * Validation of what a dashboard webview sends (its input is untrusted), and what live events each
 * panel gets. No `vscode` here, so plain Node tests and the benches load it.
 */
import type { DashboardKind, RunEvent, WebviewToHost } from '@protocol';

/**
 * The live events a run panel needs: the importance panel only reads snapshot events, so it is
 * not sent the step events (most of the stream), which would cost its renderer for nothing.
 */
export function liveEventsFor(kind: DashboardKind, events: RunEvent[]): RunEvent[] {
  return kind === 'importance' ? events.filter((e) => e.type === 'snapshot') : events;
}

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
